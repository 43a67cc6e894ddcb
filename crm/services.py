"""The update step every record's edit service shares (after HackSoft's model_update)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.db.models import Model

from .permissions import ensure_can_assign
from .references import check_references


class RecordChanged(Exception):
    """Someone saved the record after the caller read it: nothing was saved.
    `code` names it by kind (`account_changed`, `note_changed`, …)."""

    def __init__(self, record: Model):
        self.code = f"{record._meta.model_name}_changed"
        self.message = (
            f"Someone else changed this {record._meta.verbose_name} after you read it; "
            "nothing was saved. Read it again, then make your change."
        )
        super().__init__(self.message)


def ensure_unchanged(record: Model, expected_modified_at: datetime | None) -> None:
    """With `expected_modified_at` (the version the caller read: an edit form's,
    an API client's If-Match), refuse a locked record saved since (RecordChanged)."""
    if expected_modified_at is not None and record.modified_at != expected_modified_at:
        raise RecordChanged(record)


def apply_changes(
    record: Model,
    fields: dict[str, Any],
    allowed: frozenset[str],
    user: AbstractBaseUser,
    *,
    lock: tuple[type[Model], ...] = (),
    expected_modified_at: datetime | None = None,
) -> None:
    """Set `fields` on a record an update service has locked, refusing a record
    saved since `expected_modified_at` (RecordChanged), fields outside `allowed`
    (TypeError: a programming error), owner changes by anyone but a manager
    (PermissionDenied), and new references to inactive or deleted records
    (ReferenceUnavailable; rows of the `lock` models stay locked until the
    commit). The caller validates and saves."""
    ensure_unchanged(record, expected_modified_at)
    unknown = set(fields) - allowed
    if unknown:
        raise TypeError(f"These fields cannot be set here: {', '.join(sorted(unknown))}")
    ensure_can_assign(
        user, fields.get("owner"), record.owner_id, f"this {record._meta.verbose_name}"
    )
    fields = dict(fields)
    check_references(type(record), fields, current=record, lock=lock)
    for name, value in fields.items():
        setattr(record, name, value)
