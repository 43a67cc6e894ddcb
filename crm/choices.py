"""Choice lists that more than one kind of record uses (a lead and an account
both have an industry; a lead's purchase timeframe carries on to its opportunity)."""

from django.db import models


class Industry(models.TextChoices):
    ACCOUNTING = "accounting", "Accounting"
    AGRICULTURE = "agriculture", "Agriculture"
    BROADCASTING = "broadcasting", "Broadcasting"
    CONSTRUCTION = "construction", "Construction"
    CONSULTING = "consulting", "Consulting"
    EDUCATION = "education", "Education"
    ENERGY = "energy", "Energy"
    FINANCE = "finance", "Financial services"
    GOVERNMENT = "government", "Government"
    HEALTHCARE = "healthcare", "Healthcare"
    HOSPITALITY = "hospitality", "Hospitality"
    INSURANCE = "insurance", "Insurance"
    LEGAL = "legal", "Legal services"
    MANUFACTURING = "manufacturing", "Manufacturing"
    MEDIA = "media", "Media"
    NONPROFIT = "nonprofit", "Non-profit"
    REAL_ESTATE = "real_estate", "Real estate"
    RETAIL = "retail", "Retail"
    TECHNOLOGY = "technology", "Technology"
    TELECOM = "telecom", "Telecommunications"
    TRANSPORT = "transport", "Transport and logistics"
    WHOLESALE = "wholesale", "Wholesale"
    OTHER = "other", "Other"


class PurchaseTimeframe(models.TextChoices):
    IMMEDIATE = "immediate", "Immediate"
    THIS_QUARTER = "this_quarter", "This Quarter"
    NEXT_QUARTER = "next_quarter", "Next Quarter"
    THIS_YEAR = "this_year", "This Year"
    UNKNOWN = "unknown", "Unknown"


class PurchaseProcess(models.TextChoices):
    INDIVIDUAL = "individual", "Individual"
    COMMITTEE = "committee", "Committee"
    UNKNOWN = "unknown", "Unknown"
