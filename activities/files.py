"""Attachment files in storage: removed only once the deleting transaction commits."""

from __future__ import annotations

from django.db.models import Model

from crm.storage import delete_files_on_commit

from .models import Note


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
