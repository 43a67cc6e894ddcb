"""Attachment files in storage: removed only once the deleting transaction commits."""

from __future__ import annotations

from collections.abc import Iterable

from django.core.files.storage import default_storage
from django.db import transaction
from django.db.models import Model

from .models import Note


def delete_files_on_commit(names: Iterable[str]) -> None:
    """Delete stored files once the current transaction commits (never on rollback)."""
    names = [n for n in names if n]
    if not names:
        return

    def remove() -> None:
        for name in names:
            default_storage.delete(name)

    transaction.on_commit(remove)


def attachment_files(**regarding: Model) -> list[str]:
    """Stored attachment names of the notes regarding a record (before deleting it)."""
    return [
        name
        for name in Note.objects.filter(**regarding).values_list("attachment", flat=True)
        if name
    ]


def delete_with_attachments(record: Model) -> None:
    """Delete a lead, account, contact or opportunity. Its notes, activities and
    stakeholder connections go with it (database cascade); its notes' files are
    removed from storage after the commit, so a rollback keeps them."""
    files = attachment_files(**{record._meta.model_name: record})
    record.delete()
    delete_files_on_commit(files)
