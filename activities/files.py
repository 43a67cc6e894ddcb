"""Attachment files in storage: removed only once the deleting transaction commits."""

from __future__ import annotations

import logging
from collections.abc import Iterable

from django.core.files.storage import default_storage
from django.db import transaction
from django.db.models import Model

from .models import Note

logger = logging.getLogger(__name__)


def delete_files_on_commit(names: Iterable[str]) -> None:
    """Delete stored files once the current transaction commits (never on rollback)."""
    names = [n for n in names if n]
    if not names:
        return

    def remove() -> None:
        # The rows are gone and the user was told so: a file that cannot be
        # removed now is logged and left for `manage.py prune_attachments`.
        for name in names:
            try:
                default_storage.delete(name)
            except OSError:
                logger.exception(
                    "Could not delete attachment file %s; prune_attachments will", name
                )

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
