"""Leads that websites post to a web-to-lead form (the endpoint is
leads.public_views.submit): which fields they may send and how such a lead is
created. Counting the posts is leads.rate_limit's."""

from __future__ import annotations

from typing import Any

from django.db import transaction

from .exceptions import LeadError
from .models import Lead, WebToLeadForm
from .services import clean_fields, save_new_lead

# What a website's form may send to a web-to-lead form.
WEB_LEAD_FIELDS = (
    "first_name",
    "last_name",
    "company_name",
    "email",
    "business_phone",
    "mobile_phone",
    "job_title",
    "topic",
    "description",
    "website",
    "industry",
)
WEB_LEAD_DEFAULT_TOPIC = "Web enquiry"


@transaction.atomic
def create_web_lead(*, form: WebToLeadForm, data: dict[str, Any]) -> Lead:
    """Create the lead a website visitor posted to `form`: Open/New, with the
    form's lead source, routed like any lead created without an owner.

    Only WEB_LEAD_FIELDS are taken from `data`. There is no acting user (the
    history shows none); when neither a rule nor the default lead owner takes
    the lead, NoLeadOwner is raised and nothing is saved. Invalid data raises
    ValidationError.
    """
    if not form.is_active:
        raise LeadError("This web-to-lead form is switched off.")
    fields = {name: data[name] for name in WEB_LEAD_FIELDS if data.get(name) is not None}
    cleaned = clean_fields(fields)
    cleaned["topic"] = cleaned.get("topic") or WEB_LEAD_DEFAULT_TOPIC
    cleaned["lead_source"] = form.lead_source
    return save_new_lead(cleaned, user=None)
