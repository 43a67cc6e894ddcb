"""Attachment files of the notes regarding records (the admin's bulk delete reads them first)."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.db.models import Model
from django.http import FileResponse, Http404

from crm.permissions import ensure_can_view

from .models import Note
from .services import is_blocked_type


def attachment_files(**regarding: Model) -> list[str]:
    """Stored attachment names of the notes regarding a record (before deleting it)."""
    return [
        name
        for name in Note.objects.filter(**regarding).values_list("attachment", flat=True)
        if name
    ]


def attachment_response(user, note: Note) -> FileResponse:
    """A note's attachment as a download, for a user who may see the note and its
    record (the API's download too); Http404 or PermissionDenied otherwise."""
    ensure_can_view(user, note)
    ensure_can_view(user, note.regarding)
    if not note.attachment:
        raise Http404("This note has no attachment.")
    if is_blocked_type(note.attachment_name or note.attachment.name):
        raise PermissionDenied(
            "Files of this type are blocked by the organisation's settings; "
            "an administrator can allow the type again."
        )
    try:
        handle = note.attachment.open("rb")
    except FileNotFoundError:
        raise Http404("The attachment file is missing.") from None
    response = FileResponse(
        handle,
        as_attachment=True,
        filename=note.attachment_name or "attachment",
        content_type="application/octet-stream",
    )
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, no-store"
    return response
