"""Every write to a record's timeline (notes, activities) and to its stakeholders.

Rules, each enforced here and nowhere else:
- A record's timeline changes only while the record is active: an open lead,
  an open opportunity, an active account or contact (`RecordReadOnly`).
- Adding to a timeline or to the stakeholders needs the right to change the
  record (crm.permissions). A note is edited or deleted by its author or a
  manager; an activity by its owner, the record's owner or a manager.
- A closed (completed or canceled) activity is read-only (`ActivityNotOpen`).
- Attachments are checked (size, emptiness, name, blocked type) before any
  file is written; a file is written only once the note row can be saved, and
  files are deleted from storage only after the deleting transaction commits.
"""

from __future__ import annotations

import os
import unicodedata
from datetime import datetime
from typing import Any

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files import File
from django.core.files.storage import default_storage
from django.core.validators import validate_email
from django.db import transaction
from django.db.models import Model
from django.template.defaultfilters import filesizeformat
from django.utils import timezone
from django.utils.text import get_valid_filename

from accounts.models import Contact
from accounts.selectors import duplicate_contacts
from accounts.services import create_contact
from crm import events
from crm.filetypes import normalise_extension
from crm.models import OrganizationSettings
from crm.permissions import (
    can_change_activity,
    can_change_note,
    ensure_can_assign,
    ensure_can_change,
)
from crm.records import read_only_message
from crm.references import check_references, current_reference
from crm.services import ensure_unchanged
from crm.storage import FileStorageError, delete_files_on_commit, save_file

from .exceptions import (
    ActivityNotOpen,
    AttachmentNotStored,
    DuplicateContacts,
    RecordGone,
    RecordReadOnly,
)
from .models import REGARDING_FIELDS, Activity, Connection, Note

# --- Regarding records ---------------------------------------------------------------------


def regarding_kind(record: Model) -> str:
    """'lead', 'account', 'contact' or 'opportunity': the foreign key naming `record`."""
    kind = record._meta.model_name
    if kind not in REGARDING_FIELDS:
        raise TypeError(f"A {record._meta.verbose_name} has no timeline.")
    return kind


def regarding_filter(record: Model) -> dict[str, Model]:
    return {regarding_kind(record): record}


def _lock(record: Model) -> Model:
    # Lock the record so a concurrent qualify, close or deactivation cannot slip
    # between the state check and the write.
    model = type(record)
    try:
        return model._default_manager.select_for_update(of=("self",)).get(pk=record.pk)
    except model.DoesNotExist:
        raise RecordGone(f"This {model._meta.verbose_name} no longer exists.") from None


def ensure_writable(record: Model) -> None:
    reason = read_only_message(record)
    if reason:
        raise RecordReadOnly(reason)


def _writable_for(user: AbstractBaseUser, record: Model) -> Model:
    """The locked record, if it is active and the user may change it."""
    locked = _lock(record)
    ensure_writable(locked)
    ensure_can_change(user, locked)
    return locked


def _ensure(allowed: bool, message: str) -> None:
    if not allowed:
        raise PermissionDenied(message)


# --- Attachments ---------------------------------------------------------------------------


def _clean_attachment_name(raw: str) -> str:
    """A safe file name for display and storage, or ValidationError.

    Django's upload handler already reduces a browser's file name to its base
    name; a name that still carries a path (a caller passing a File, a crafted
    request) is refused rather than guessed at.
    """
    # Trailing dots and spaces are dropped (as Windows does), so that "run.exe."
    # is seen, and blocked, as the .exe it would open as.
    name = unicodedata.normalize("NFC", raw or "").strip().rstrip(". ")
    if not name or "/" in name or "\\" in name or "\x00" in name or ".." in name:
        raise ValidationError(
            {"attachment": f"The file name “{raw}” is not allowed; rename the file and try again."}
        )
    stem, ext = os.path.splitext(name)
    stem = get_valid_filename(stem.lstrip(".")) if stem.lstrip(".") else ""
    ext = get_valid_filename(ext.lstrip(".")).lower() if ext.strip(".") else ""
    if not stem:
        stem = "attachment"
    # Leave room for the storage folder within the 255-character column.
    safe = f"{stem[:120]}.{ext[:20]}" if ext else stem[:120]
    if is_blocked_type(safe):
        raise ValidationError(
            {"attachment": f"Files of type .{ext} cannot be attached (they could run as programs)."}
        )
    return safe


def is_blocked_type(file_name: str) -> bool:
    """Whether the organisation blocks files of this name's type (Admin >
    Organisation settings > blocked file extensions): refused on upload and,
    as in Dynamics 365, on download when the list grew since."""
    ext = os.path.splitext(file_name.rstrip(". "))[1]
    if not ext:
        return False
    return normalise_extension(ext) in OrganizationSettings.load().blocked_extensions()


def clean_attachment(upload: File) -> tuple[str, int]:
    """(safe name, size) of an upload, or ValidationError with the reason."""
    limit = settings.NOTE_ATTACHMENT_MAX_BYTES
    size = upload.size
    if size is None:
        raise ValidationError({"attachment": "The file could not be read."})
    if size == 0:
        raise ValidationError({"attachment": "The file is empty; choose a file with content."})
    if size > limit:
        raise ValidationError(
            {
                "attachment": f"The file is {filesizeformat(size)}; attachments may be at most "
                f"{filesizeformat(limit)}."
            }
        )
    return _clean_attachment_name(upload.name), size


def _store_attachment(note: Note, upload: File, name: str, size: int) -> None:
    note.attachment_name = name
    note.attachment_size = size
    # Written through the storage API (under MEDIA_ROOT), which picks the
    # stored name; the caller saves the row. A full or failing volume leaves
    # no file behind (crm.storage) and refuses the note with AttachmentNotStored.
    try:
        save_file(note.attachment, name, upload)
    except FileStorageError:
        raise AttachmentNotStored() from None


def _save_with_file(note: Note, upload: File | None, checked: tuple[str, int] | None) -> None:
    """Save the note, writing its file first; if the row cannot be saved, the
    file just written is removed again so nothing is orphaned.

    A rollback of an enclosing transaction after this returns cannot un-write
    the file; `manage.py prune_attachments` removes such strays.
    """
    if upload is None:
        note.save()
        return
    _store_attachment(note, upload, *checked)
    written = note.attachment.name
    try:
        note.save()
    except BaseException:
        default_storage.delete(written)
        raise


# --- Notes ---------------------------------------------------------------------------------


@transaction.atomic
def create_note(
    *,
    user: AbstractBaseUser,
    regarding: Model,
    text: str = "",
    title: str = "",
    attachment: File | None = None,
) -> Note:
    """Add a note (text and/or one attachment) to an active record the user may change."""
    record = _writable_for(user, regarding)
    checked = clean_attachment(attachment) if attachment is not None else None
    note = Note(author=user, title=title.strip(), text=text.strip(), **regarding_filter(record))
    if not note.text and attachment is None:
        raise ValidationError({"text": "Write a note or attach a file."})
    note.full_clean(exclude=["attachment"])
    _save_with_file(note, attachment, checked)
    events.publish("note.created", note)
    return note


def _note_for_change(user: AbstractBaseUser, note: Note) -> tuple[Note, Model]:
    locked = Note.objects.select_for_update(of=("self",)).get(pk=note.pk)
    record = _lock(locked.regarding)
    ensure_writable(record)
    _ensure(
        can_change_note(user, locked, record),
        "Only the note's author or a sales manager can change this note.",
    )
    return locked, record


@transaction.atomic
def update_note(
    *,
    note: Note,
    user: AbstractBaseUser,
    text: str | None = None,
    title: str | None = None,
    attachment: File | None = None,
    remove_attachment: bool = False,
    expected_modified_at: datetime | None = None,
) -> Note:
    """Change a note's text or title, replace or remove its attachment; with
    `expected_modified_at`, refuse a version saved by someone else since
    (RecordChanged).

    The replaced file is deleted from storage after the change commits.
    """
    locked, _record = _note_for_change(user, note)
    ensure_unchanged(locked, expected_modified_at)
    if text is not None:
        locked.text = text.strip()
    if title is not None:
        locked.title = title.strip()
    checked = clean_attachment(attachment) if attachment is not None else None
    old_file = locked.attachment.name
    if remove_attachment or attachment is not None:
        locked.attachment = None
        locked.attachment_name = ""
        locked.attachment_size = 0
    if not locked.text and not locked.attachment and attachment is None:
        raise ValidationError({"text": "Write a note or attach a file."})
    locked.full_clean(exclude=["attachment"])
    _save_with_file(locked, attachment, checked)
    if old_file and old_file != locked.attachment.name:
        delete_files_on_commit([old_file])
    return locked


@transaction.atomic
def delete_note(*, note: Note, user: AbstractBaseUser) -> None:
    """Delete a note; its file is removed from storage after the commit."""
    locked, _record = _note_for_change(user, note)
    files = [locked.attachment.name]
    locked.delete()
    delete_files_on_commit(files)


# --- Activities ----------------------------------------------------------------------------

COMMON_FIELDS = frozenset({"subject", "description", "due_at"})
# The fields that belong to each type; the others stay empty.
TYPE_FIELDS = {
    Activity.Type.PHONE_CALL: frozenset({"direction", "phone_number"}),
    Activity.Type.EMAIL: frozenset({"direction", "email_from", "email_to"}),
    Activity.Type.TASK: frozenset({"priority"}),
    Activity.Type.APPOINTMENT: frozenset({"starts_at", "ends_at", "location"}),
}
TYPE_DEFAULTS = {
    "direction": "",
    "phone_number": "",
    "email_from": "",
    "email_to": "",
    "priority": "",
    "starts_at": None,
    "ends_at": None,
    "location": "",
}


def activity_fields(kind: str) -> frozenset[str]:
    """The fields a user sets on an activity of this type."""
    return COMMON_FIELDS | TYPE_FIELDS[Activity.Type(kind)]


def _email_list(value: str) -> list[str]:
    return [part.strip() for part in value.replace(";", ",").split(",") if part.strip()]


def _validate_activity(activity: Activity) -> None:
    errors: dict[str, list[str]] = {}
    if activity.type == Activity.Type.APPOINTMENT:
        if activity.starts_at is None:
            errors.setdefault("starts_at", []).append("An appointment needs a start.")
        if activity.ends_at is None:
            errors.setdefault("ends_at", []).append("An appointment needs an end.")
        elif activity.starts_at and activity.ends_at < activity.starts_at:
            errors.setdefault("ends_at", []).append("An appointment cannot end before it starts.")
    if activity.type == Activity.Type.EMAIL:
        for field in ("email_from", "email_to"):
            for address in _email_list(getattr(activity, field)):
                try:
                    validate_email(address)
                except ValidationError:
                    errors.setdefault(field, []).append(f"“{address}” is not an email address.")
    if errors:
        raise ValidationError(errors)


def _apply_activity_fields(activity: Activity, fields: dict[str, Any]) -> None:
    allowed = activity_fields(activity.type) | {"owner"}
    unknown = set(fields) - allowed
    if unknown:
        raise TypeError(
            f"These fields do not belong to a {activity.get_type_display().lower()}: "
            f"{', '.join(sorted(unknown))}"
        )
    for name, value in fields.items():
        if isinstance(value, str):
            value = value.strip()
        setattr(activity, name, value)
    for name, empty in TYPE_DEFAULTS.items():
        if name not in TYPE_FIELDS[activity.type]:
            setattr(activity, name, empty)
    if activity.type in (Activity.Type.PHONE_CALL, Activity.Type.EMAIL) and not activity.direction:
        activity.direction = Activity.Direction.OUTGOING
    if activity.type == Activity.Type.TASK and not activity.priority:
        activity.priority = Activity.Priority.NORMAL
    if activity.type == Activity.Type.APPOINTMENT:
        # An appointment is due when it starts: My Activities sorts and filters by it.
        activity.due_at = activity.starts_at


def _check_owner(user: AbstractBaseUser, owner, current: Activity | None = None):
    """The owner to give the activity: only a manager names someone else, and
    only an active user (ReferenceUnavailable otherwise)."""
    ensure_can_assign(user, owner, current.owner_id if current else None, "an activity")
    fields = {"owner": owner}
    check_references(Activity, fields, current=current)
    return fields["owner"]


@transaction.atomic
def create_activity(
    *,
    user: AbstractBaseUser,
    regarding: Model,
    type: str,
    owner: AbstractBaseUser | None = None,
    **fields: Any,
) -> Activity:
    """Log a phone call, email, task or appointment regarding an active record.

    The owner is the acting user unless a manager assigns someone else. Invalid
    data raises ValidationError and saves nothing.
    """
    if type not in Activity.Type.values:
        raise ValidationError({"type": f"“{type}” is not an activity type."})
    record = _writable_for(user, regarding)
    owner = _check_owner(user, owner)
    activity = Activity(type=type, owner=owner or user, **regarding_filter(record))
    _apply_activity_fields(activity, fields)
    activity.full_clean()
    _validate_activity(activity)
    activity.save()
    events.publish("activity.created", activity)
    return activity


def _activity_for_change(
    user: AbstractBaseUser, activity: Activity, *, must_be_open: bool = True
) -> Activity:
    locked = Activity.objects.select_for_update(of=("self",)).get(pk=activity.pk)
    record = _lock(locked.regarding)
    ensure_writable(record)
    _ensure(
        can_change_activity(user, locked, record),
        "Only the activity's owner, the record's owner or a sales manager can change it.",
    )
    if must_be_open and not locked.is_open:
        raise ActivityNotOpen(
            f"This activity is already {locked.get_status_display().lower()}; "
            "a closed activity is read-only."
        )
    return locked


@transaction.atomic
def update_activity(
    *,
    activity: Activity,
    user: AbstractBaseUser,
    expected_modified_at: datetime | None = None,
    **fields: Any,
) -> Activity:
    """Change an open activity's fields (its type stays); with
    `expected_modified_at`, refuse a version saved by someone else since
    (RecordChanged)."""
    locked = _activity_for_change(user, activity)
    ensure_unchanged(locked, expected_modified_at)
    if fields.get("owner") is not None:
        fields["owner"] = _check_owner(user, fields["owner"], locked)
    current = {name: getattr(locked, name) for name in activity_fields(locked.type)}
    _apply_activity_fields(locked, {**current, **fields})
    locked.full_clean()
    _validate_activity(locked)
    locked.save()
    return locked


def _close(activity: Activity, user: AbstractBaseUser, status: str) -> Activity:
    locked = _activity_for_change(user, activity)
    locked.status = status
    locked.completed_at = timezone.now()
    locked.save(update_fields=["status", "completed_at", "modified_at"])
    return locked


@transaction.atomic
def complete_activity(*, activity: Activity, user: AbstractBaseUser) -> Activity:
    """Mark an open activity Completed."""
    return _close(activity, user, Activity.Status.COMPLETED)


@transaction.atomic
def cancel_activity(*, activity: Activity, user: AbstractBaseUser) -> Activity:
    """Mark an open activity Canceled."""
    return _close(activity, user, Activity.Status.CANCELED)


@transaction.atomic
def delete_activity(*, activity: Activity, user: AbstractBaseUser) -> None:
    """Delete an activity (open or closed) from an active record's timeline."""
    _activity_for_change(user, activity, must_be_open=False).delete()


# --- Stakeholders --------------------------------------------------------------------------


def _connection_target(record: Model) -> dict[str, Model]:
    kind = record._meta.model_name
    if kind not in ("lead", "opportunity"):
        raise TypeError("Stakeholders belong to a lead or an opportunity.")
    return {kind: record}


@transaction.atomic
def add_stakeholder(
    *,
    user: AbstractBaseUser,
    record: Model,
    contact: Contact,
    role: str = Connection.Role.STAKEHOLDER,
) -> Connection:
    """Connect an existing, active contact to a lead or opportunity with a role."""
    kind = next(iter(_connection_target(record)))
    target = {kind: _writable_for(user, record)}
    if role not in Connection.Role.values:
        raise ValidationError({"role": f"“{role}” is not a stakeholder role."})
    # As it is now, locked until the commit: not deactivated or deleted meanwhile.
    contact = current_reference(contact, model=Contact, field="contact")
    if Connection.objects.filter(contact=contact, **target).exists():
        raise ValidationError({"contact": f"{contact} is already a stakeholder here."})
    connection = Connection(contact=contact, role=role, created_by=user, **target)
    connection.full_clean()
    connection.save()
    return connection


@transaction.atomic
def add_new_contact_as_stakeholder(
    *,
    user: AbstractBaseUser,
    record: Model,
    role: str = Connection.Role.STAKEHOLDER,
    ignore_duplicates: bool = False,
    **contact_fields: Any,
) -> Connection:
    """Create a contact and connect it as a stakeholder, in one transaction.

    Raises DuplicateContacts when contacts with the same email or name exist,
    unless `ignore_duplicates`; the caller may then add one of those instead.
    """
    _writable_for(user, record)
    if not ignore_duplicates:
        matches = list(
            duplicate_contacts(
                email=contact_fields.get("email", ""),
                first_name=contact_fields.get("first_name", ""),
                last_name=contact_fields.get("last_name", ""),
            )[:10]
        )
        if matches:
            raise DuplicateContacts(contacts=matches)
    contact = create_contact(user=user, **contact_fields)
    return add_stakeholder(user=user, record=record, contact=contact, role=role)


def _connection_for_change(user: AbstractBaseUser, connection: Connection) -> Connection:
    locked = Connection.objects.select_for_update(of=("self",)).get(pk=connection.pk)
    _writable_for(user, locked.lead or locked.opportunity)
    return locked


@transaction.atomic
def change_stakeholder_role(
    *, connection: Connection, user: AbstractBaseUser, role: str
) -> Connection:
    if role not in Connection.Role.values:
        raise ValidationError({"role": f"“{role}” is not a stakeholder role."})
    locked = _connection_for_change(user, connection)
    locked.role = role
    locked.save(update_fields=["role"])
    return locked


@transaction.atomic
def remove_stakeholder(*, connection: Connection, user: AbstractBaseUser) -> None:
    _connection_for_change(user, connection).delete()


def carry_stakeholders(*, lead: Model, opportunity: Model) -> int:
    """Connect the lead's stakeholders to the opportunity qualified from it (same
    roles). Runs inside the qualify transaction; returns how many were added."""
    carried = list(Connection.objects.filter(lead=lead))
    if not carried:
        return 0
    existing = set(
        Connection.objects.filter(opportunity=opportunity).values_list("contact_id", flat=True)
    )
    new = [
        Connection(
            opportunity=opportunity,
            contact_id=c.contact_id,
            role=c.role,
            created_by_id=c.created_by_id,
        )
        for c in carried
        if c.contact_id not in existing
    ]
    Connection.objects.bulk_create(new)
    return len(new)
