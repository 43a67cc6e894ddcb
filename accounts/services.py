"""Writes for accounts and contacts."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction

from crm.history import set_history_user
from crm.permissions import ensure_can_assign, ensure_can_change, ensure_can_delete
from crm.references import check_references
from crm.services import apply_changes
from crm.storage import delete_with_files

from .exceptions import IsACustomer
from .models import Account, Contact


@transaction.atomic
def create_account(
    *, user: AbstractBaseUser, owner: AbstractBaseUser | None = None, **fields: Any
) -> Account:
    """Create an account owned by `owner` (default: the acting user; only a
    manager names someone else)."""
    ensure_can_assign(user, owner, None, "an account")
    fields = {**fields, "owner": owner}  # the acting user needs no check
    check_references(Account, fields)
    fields["owner"] = fields["owner"] or user
    account = Account(**fields)
    account.full_clean()
    set_history_user(account, user)
    account.save()
    return account


@transaction.atomic
def create_contact(
    *, user: AbstractBaseUser, owner: AbstractBaseUser | None = None, **fields: Any
) -> Contact:
    """Create a contact owned by `owner` (default: the acting user; only a
    manager names someone else)."""
    ensure_can_assign(user, owner, None, "a contact")
    fields = {**fields, "owner": owner}  # the acting user needs no check
    check_references(Contact, fields, lock=(Account,))
    fields["owner"] = fields["owner"] or user
    contact = Contact(**fields)
    contact.full_clean()
    set_history_user(contact, user)
    contact.save()
    return contact


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


@transaction.atomic
def update_account(
    *,
    account: Account,
    user: AbstractBaseUser,
    expected_modified_at: datetime | None = None,
    **fields: Any,
) -> Account:
    """Change an account's fields; refuses users who may not change it, and (with
    `expected_modified_at`) a version saved by someone else since (RecordChanged).

    Invalid data raises ValidationError and saves nothing.
    """
    return _update(account, user, fields, ACCOUNT_EDITABLE_FIELDS, expected_modified_at)


@transaction.atomic
def update_contact(
    *,
    contact: Contact,
    user: AbstractBaseUser,
    expected_modified_at: datetime | None = None,
    **fields: Any,
) -> Contact:
    """Change a contact's fields; refuses users who may not change it, and (with
    `expected_modified_at`) a version saved by someone else since (RecordChanged).

    Invalid data raises ValidationError and saves nothing.
    """
    return _update(contact, user, fields, CONTACT_EDITABLE_FIELDS, expected_modified_at)


def _update(record, user, fields: dict[str, Any], allowed: frozenset[str], expected_modified_at):
    locked = type(record).objects.select_for_update().get(pk=record.pk)
    ensure_can_change(user, locked)
    apply_changes(
        locked,
        fields,
        allowed,
        user,
        lock=(Account, Contact),
        expected_modified_at=expected_modified_at,
    )
    locked.full_clean()
    set_history_user(locked, user)
    locked.save()
    return locked


def _ensure_not_a_customer(record: Account | Contact, opportunities) -> None:
    count = opportunities.count()
    if count:
        raise IsACustomer(record, count)


@transaction.atomic
def delete_account(*, account: Account, user: AbstractBaseUser) -> None:
    """Delete an account with its notes, activities and attachment files (removed
    after the commit). Its contacts stay, without an account. An account that is
    an opportunity's customer is refused (ValidationError) and nothing changes."""
    locked = Account.objects.select_for_update().get(pk=account.pk)
    ensure_can_delete(user, locked)
    _ensure_not_a_customer(locked, locked.opportunities.all())
    set_history_user(locked, user)
    delete_with_files(locked)


@transaction.atomic
def delete_contact(*, contact: Contact, user: AbstractBaseUser) -> None:
    """Delete a contact with its notes, activities, stakeholder connections and
    attachment files (removed after the commit). A contact that is an
    opportunity's customer is refused (ValidationError) and nothing changes."""
    locked = Contact.objects.select_for_update().get(pk=contact.pk)
    ensure_can_delete(user, locked)
    _ensure_not_a_customer(locked, locked.opportunities.all())
    set_history_user(locked, user)
    delete_with_files(locked)
