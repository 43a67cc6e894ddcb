"""Why a write to a record's timeline or stakeholders was refused."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from django.core.exceptions import ValidationError

if TYPE_CHECKING:
    from accounts.models import Contact


class TimelineError(Exception):
    """Base of every refusal of the activities services."""

    default_message = "The timeline could not be changed."

    def __init__(self, message: str | None = None):
        self.message = message or self.default_message
        super().__init__(self.message)


class RecordReadOnly(TimelineError):
    """The record is inactive (a qualified/disqualified lead, a closed
    opportunity, a deactivated account or contact): its timeline is read-only."""

    default_message = "This record is inactive; its timeline is read-only."


class RecordGone(TimelineError):
    """The lead, account, contact or opportunity was deleted a moment ago."""

    default_message = "This record no longer exists."


class ActivityNotOpen(TimelineError):
    default_message = "Only an open activity can be changed; this one is already closed."


class DuplicateContacts(TimelineError):
    """A new stakeholder contact looks like contacts that already exist."""

    default_message = "Contacts with the same email or name already exist."

    def __init__(self, message: str | None = None, *, contacts: Sequence[Contact] = ()):
        super().__init__(message)
        self.contacts = list(contacts)


class AttachmentNotStored(ValidationError):
    """The attachment could not be written to storage (full or unavailable).
    Nothing was saved, no partial file remains; the form keeps the note's text."""

    message_text = (
        "The file could not be stored: the server's file storage is full or unavailable. "
        "The note was not saved; its text is kept here. Save again without the file to add "
        "the note now, or try the file again later."
    )

    def __init__(self) -> None:
        super().__init__({"attachment": self.message_text})
