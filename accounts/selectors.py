"""Reads for accounts and contacts, including the duplicate detection rules:
the one place that says what counts as a duplicate."""

from __future__ import annotations

from django.db.models import Q, QuerySet

from crm.text import email_key, name_key

from .models import Account, Contact


def duplicate_accounts(*, company_name: str) -> QuerySet[Account]:
    """Accounts whose name matches, ignoring case and whitespace."""
    key = name_key(company_name)
    if not key:
        return Account.objects.none()
    return Account.objects.filter(name_key=key).select_related("owner").order_by("created_at")


def duplicate_contacts(
    *, email: str = "", first_name: str = "", last_name: str = ""
) -> QuerySet[Contact]:
    """Contacts with the same email (ignoring case), or the same first and last name."""
    condition = Q()
    if email_key(email):
        condition |= Q(email_key=email_key(email))
    if name_key(first_name) and name_key(last_name):
        condition |= Q(name_key=Contact.person_key(first_name, last_name))
    if not condition:
        return Contact.objects.none()
    return (
        Contact.objects.filter(condition).select_related("owner", "account").order_by("created_at")
    )
