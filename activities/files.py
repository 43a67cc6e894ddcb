"""Attachment files of the notes regarding records (the admin's bulk delete reads them first)."""

from __future__ import annotations

from django.db.models import Model

from .models import Note


def attachment_files(**regarding: Model) -> list[str]:
    """Stored attachment names of the notes regarding a record (before deleting it)."""
    return [
        name
        for name in Note.objects.filter(**regarding).values_list("attachment", flat=True)
        if name
    ]
