"""The audit trail of leads, accounts, contacts and opportunities.

django-simple-history stores a snapshot of the row at every save (and delete)
in a per-model historical table, with the user who made it: the request's user
(HistoryRequestMiddleware) or the one a service names with `set_history_user`.
This module reads a record's snapshots back as "when, who, what changed" for
the record pages, at a fixed number of queries however long the history.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from django.contrib.auth.base_user import AbstractBaseUser
from django.db import models
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.text import Truncator
from simple_history.models import ModelChange

# What history_type means, in the words the page uses.
KINDS = {"+": "Created", "~": "Changed", "-": "Deleted"}
# Long text (a description) is cut to this many characters in a change.
TEXT_LIMIT = 200
# The formats the record pages use.
DATETIME_FORMAT = "M j, Y H:i"
DATE_FORMAT = "M j, Y"


@dataclass(frozen=True)
class FieldChange:
    """One field of one version: its label, and its value before and after, as shown."""

    label: str
    old: Any
    new: Any


@dataclass
class HistoryEntry:
    """One saved version of a record."""

    when: datetime
    user: AbstractBaseUser | None
    kind: str
    changes: list[FieldChange] = field(default_factory=list)
    reason: str | None = None
    # False for the oldest snapshot of a record whose earlier versions were never
    # recorded (e.g. rows bulk-created by seed_demo): there is nothing to compare with.
    compared: bool = True


@dataclass
class RecordHistory:
    entries: list[HistoryEntry]
    has_more: bool
    limit: int


def set_history_user(instance: models.Model, user: AbstractBaseUser | None) -> None:
    """Name `user` as the author of the history row `instance`'s next save writes.

    Outside a request (commands, imports, bulk jobs) there is no request user for
    the middleware to record, so services pass the acting user explicitly.
    """
    instance._history_user = user


def record_history(record: models.Model, *, limit: int = 50) -> RecordHistory:
    """The record's latest `limit` versions, newest first, each with its changes.

    Costs one query for the versions and their authors, plus one per model that
    changed foreign keys point to (to show those by name), however many versions
    there are.
    """
    # One version more than shown: the oldest shown version is compared with it,
    # and it tells whether there are more.
    rows = list(
        record.history.select_related("history_user").order_by("-history_date", "-history_id")[
            : limit + 1
        ]
    )
    shown = rows[:limit]
    deltas = [
        row.diff_against(rows[i + 1]).changes
        if row.history_type == "~" and i + 1 < len(rows)
        else None
        for i, row in enumerate(shown)
    ]
    display = _ChangeDisplay(
        record._meta.concrete_model, [c for changes in deltas if changes for c in changes]
    )
    entries = [
        HistoryEntry(
            when=row.history_date,
            user=row.history_user,
            kind=KINDS.get(row.history_type, row.history_type),
            changes=display.describe(changes or []),
            reason=row.history_change_reason,
            compared=changes is not None or row.history_type != "~",
        )
        for row, changes in zip(shown, deltas, strict=True)
    ]
    return RecordHistory(entries=entries, has_more=len(rows) > limit, limit=limit)


class _ChangeDisplay:
    """Shows raw changed values as a reader knows them: choices by their label,
    foreign keys by the related record's name (fetched in one query per related
    model), booleans as Yes/No, dates as the pages show them, long text cut short,
    and empty values as None."""

    def __init__(self, model: type[models.Model], changes: list[ModelChange]) -> None:
        self.fields = {f.name: f for f in model._meta.concrete_fields}
        self.order = {name: i for i, name in enumerate(self.fields)}
        wanted: dict[type[models.Model], set[Any]] = defaultdict(set)
        for change in changes:
            model_field = self.fields[change.field]
            if model_field.is_relation:
                wanted[model_field.related_model].update(
                    v for v in (change.old, change.new) if v is not None
                )
        self.names = {
            related: {pk: _name(obj) for pk, obj in related._default_manager.in_bulk(pks).items()}
            for related, pks in wanted.items()
        }

    def describe(self, changes: list[ModelChange]) -> list[FieldChange]:
        return [
            FieldChange(
                label=str(self.fields[c.field].verbose_name),
                old=self.value(self.fields[c.field], c.old),
                new=self.value(self.fields[c.field], c.new),
            )
            # In the model's field order, as the record's page lists them.
            for c in sorted(changes, key=lambda c: self.order[c.field])
        ]

    def value(self, model_field: models.Field, value: Any) -> Any:
        if value is None or value == "":
            return None
        if model_field.is_relation:
            return self.names[model_field.related_model].get(value, f"#{value} (deleted)")
        if model_field.flatchoices:
            return dict(model_field.flatchoices).get(value, value)
        if isinstance(model_field, models.BooleanField):
            return "Yes" if value else "No"
        if isinstance(value, datetime):
            # As the record pages show dates, in the reader's time zone.
            return date_format(timezone.localtime(value), DATETIME_FORMAT)
        if isinstance(value, date):
            return date_format(value, DATE_FORMAT)
        if isinstance(value, str):
            return Truncator(value).chars(TEXT_LIMIT)
        return value


def _name(obj: models.Model) -> str:
    """How a related record is named: a user by full name, anything else by str()."""
    if isinstance(obj, AbstractBaseUser):
        return obj.get_full_name() or obj.get_username()
    return str(obj)
