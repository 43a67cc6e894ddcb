"""Writes for accounts and contacts."""

from __future__ import annotations

from django.db import transaction

from .models import Account, Contact


@transaction.atomic
def create_account(*, user, owner=None, **fields) -> Account:
    """Create an account owned by `owner` (default: the acting user)."""
    account = Account(owner=owner or user, **fields)
    account.full_clean()
    account.save()
    return account


@transaction.atomic
def create_contact(*, user, owner=None, **fields) -> Contact:
    """Create a contact owned by `owner` (default: the acting user)."""
    contact = Contact(owner=owner or user, **fields)
    contact.full_clean()
    contact.save()
    return contact
