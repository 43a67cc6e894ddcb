"""Small helpers for rendering timeline items."""

from __future__ import annotations

from django import template

register = template.Library()

ICONS = {
    "note": "bi-journal-text",
    "phone_call": "bi-telephone",
    "email": "bi-envelope",
    "task": "bi-check2-square",
    "appointment": "bi-calendar-event",
}


@register.filter
def timeline_icon(kind: str) -> str:
    """The bootstrap-icons class for a note or an activity type."""
    return ICONS.get(kind, "bi-circle")


@register.filter
def model_name(record) -> str:
    """'lead', 'account', 'contact' or 'opportunity'."""
    return record._meta.model_name


@register.filter
def verbose_name_plural(record) -> str:
    return str(record._meta.verbose_name_plural)
