"""The History section of a record page: `{% record_history object %}`."""

from __future__ import annotations

from django import template
from django.db import models

from crm.history import record_history as read_history

register = template.Library()


@register.inclusion_tag("crm/_history.html")
def record_history(record: models.Model, limit: int = 50):
    """A collapsible card listing the record's latest versions: when, who, what changed."""
    return {
        "history": read_history(record, limit=limit),
        "section_id": f"history-{record._meta.model_name}-{record.pk}",
    }
