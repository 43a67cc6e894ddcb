"""The update step every record's edit service shares (after HackSoft's model_update)."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.db.models import Model

from .permissions import ensure_can_assign
from .references import check_references


def apply_changes(
    record: Model,
    fields: dict[str, Any],
    allowed: frozenset[str],
    user: AbstractBaseUser,
    *,
    lock: tuple[type[Model], ...] = (),
) -> None:
    """Set `fields` on a record an update service has locked, refusing fields
    outside `allowed` (TypeError: a programming error), owner changes by anyone
    but a manager (PermissionDenied), and new references to inactive or deleted
    records (ReferenceUnavailable; rows of the `lock` models stay locked until
    the commit). The caller validates and saves."""
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
