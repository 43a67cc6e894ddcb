"""Writes for accounts and contacts."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied
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


MANAGER_ROLE = "Sales Manager"

# Fields a user may change on an existing account or contact.
ACCOUNT_EDITABLE_FIELDS = frozenset(
    {
        "name",
        "email",
        "phone",
        "website",
        "industry",
        "city",
        "country",
        "description",
        "owner",
        "is_active",
    }
)
CONTACT_EDITABLE_FIELDS = frozenset(
    {
        "first_name",
        "last_name",
        "email",
        "job_title",
        "business_phone",
        "mobile_phone",
        "account",
        "description",
        "owner",
        "is_active",
    }
)


def is_manager(user) -> bool:
    """Managers (and superusers) change every record and reassign owners."""
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return False
    return user.is_superuser or user.groups.filter(name=MANAGER_ROLE).exists()


def can_change(user, record) -> bool:
    """A sales rep changes only the records they own; a manager changes everything."""
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return False
    return record.owner_id == user.pk or is_manager(user)


def ensure_can_change(user, record) -> None:
    """Raise PermissionDenied unless `user` may change `record`."""
    if not can_change(user, record):
        raise PermissionDenied(
            f"Only the owner or a sales manager can change this {record._meta.verbose_name}."
        )


def apply_changes(record, fields: dict[str, Any], allowed: frozenset[str], user) -> None:
    """Set `fields` on `record`, refusing fields outside `allowed` and owner
    changes by anyone but a manager."""
    unknown = set(fields) - allowed
    if unknown:
        raise TypeError(f"These fields cannot be set here: {', '.join(sorted(unknown))}")
    owner = fields.get("owner")
    if owner is not None and owner.pk != record.owner_id and not is_manager(user):
        raise PermissionDenied("Only a sales manager can reassign the owner.")
    for name, value in fields.items():
        setattr(record, name, value)


@transaction.atomic
def update_account(*, account: Account, user, **fields: Any) -> Account:
    """Change an account's fields; refuses users who may not change it.

    Invalid data raises ValidationError and saves nothing.
    """
    locked = Account.objects.select_for_update().get(pk=account.pk)
    ensure_can_change(user, locked)
    apply_changes(locked, fields, ACCOUNT_EDITABLE_FIELDS, user)
    locked.full_clean()
    locked.save()
    return locked


@transaction.atomic
def update_contact(*, contact: Contact, user, **fields: Any) -> Contact:
    """Change a contact's fields; refuses users who may not change it.

    Invalid data raises ValidationError and saves nothing.
    """
    locked = Contact.objects.select_for_update().get(pk=contact.pk)
    ensure_can_change(user, locked)
    apply_changes(locked, fields, CONTACT_EDITABLE_FIELDS, user)
    locked.full_clean()
    locked.save()
    return locked
