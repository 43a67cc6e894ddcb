"""What every kind of record (lead, account, contact, opportunity) says the same
way: the one sentence telling a user that a record is read-only, and how to
change that. Each model says how it names its inactive state
(`inactive_label`) and what makes it changeable again (`reactivate_hint`)."""

from __future__ import annotations

from django.db.models import Model


def read_only_message(record: Model) -> str:
    """'This lead is qualified and read-only; reactivate it to make changes.'
    Empty for an active record."""
    if record.is_active:
        return ""
    return (
        f"This {record._meta.verbose_name} is {record.inactive_label} and read-only; "
        f"{record.reactivate_hint} to make changes."
    )
