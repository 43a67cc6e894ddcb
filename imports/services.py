"""Importing leads from a CSV file: upload, column mapping, then batches.

An imported lead is built as leads.services.create_lead builds one (Open/New
at the first stage, the model's validation, the owner rules, and routing when
the file names no owner) but a batch is saved with one bulk insert, and its
history with another: create_lead per row costs ~19 ms (full_clean runs a
query per check constraint), 30 minutes for 100,000 rows. A batch runs in
one transaction; a row that fails is recorded with its line and reason. If
the database still refuses the batch, its rows go through create_lead one by
one, so the database constraints stay the last word.
"""

from __future__ import annotations

import contextlib
import functools
import logging
import re
import time
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal, InvalidOperation
from itertools import islice
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.base_user import AbstractBaseUser
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import (
    DataError,
    IntegrityError,
    InterfaceError,
    OperationalError,
    connection,
    transaction,
)
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import get_language

from accounts.models import Contact
from accounts.selectors import people_matching
from crm import events, jobs, process
from crm.internals import bulk_history_created
from crm.models import Currency, Notification
from crm.permissions import ensure_can_assign, is_manager
from crm.storage import FileStorageError, delete_files_on_commit, save_file
from crm.text import email_key, phone_key
from leads import services as lead_services
from leads.exceptions import LeadError
from leads.models import Lead, RoutingRule

from . import parsing
from .models import ImportJob, ImportProblem

logger = logging.getLogger(__name__)

# Settings (each read when used, so tests and deployments may change them):
# IMPORT_MAX_BYTES      largest file taken (default 200 MB, about a million rows; the
#                       upload page states it)
# IMPORT_MAX_COLUMNS    most columns on any line (default 200)
# IMPORT_MAX_LINE_CHARS longest row in characters (default 100,000)
# IMPORT_BATCH_SIZE     rows imported per batch, each in its own transaction (default 2,000)
# IMPORT_PAUSE_SECONDS  the worker's pause between batches (default 0.05 s on SQLite, so
#                       requests get the write lock between batches; 0 elsewhere)
# IMPORT_UNFINISHED_RETENTION  how long the file of a job nobody finishes is kept
#                       before `manage.py prune_attachments` abandons it (default 7 days)
IMPORT_MAX_BYTES = 200 * 1024 * 1024
IMPORT_MAX_COLUMNS = 200
IMPORT_MAX_LINE_CHARS = 100_000
IMPORT_BATCH_SIZE = 2_000
IMPORT_UNFINISHED_RETENTION = timedelta(days=7)

# What the database cannot store, said once for the row that carries it.
NUL_IN_ROW = (
    "This row contains a NUL character (a zero byte), which cannot be stored; "
    "remove it and import the row again."
)

# The lead fields a file may fill, in the order the mapping form shows them.
IMPORT_FIELDS = [
    "topic",
    "first_name",
    "last_name",
    "company_name",
    "job_title",
    "email",
    "business_phone",
    "mobile_phone",
    "website",
    "lead_source",
    "rating",
    "industry",
    "budget_amount",
    "currency",
    "purchase_timeframe",
    "purchase_process",
    "do_not_email",
    "do_not_call",
    "description",
    "owner",
]
CHOICE_FIELDS = [
    "lead_source",
    "rating",
    "industry",
    "purchase_timeframe",
    "purchase_process",
]
BOOLEAN_FIELDS = {"do_not_email", "do_not_call"}
TRUE = {"1", "true", "yes", "y", "x", "on"}
FALSE = {"", "0", "false", "no", "n", "off"}


class RowProblem(Exception):
    """Why a row cannot be imported."""


def max_bytes() -> int:
    return getattr(settings, "IMPORT_MAX_BYTES", IMPORT_MAX_BYTES)


def max_columns() -> int:
    return getattr(settings, "IMPORT_MAX_COLUMNS", IMPORT_MAX_COLUMNS)


def max_line_chars() -> int:
    return getattr(settings, "IMPORT_MAX_LINE_CHARS", IMPORT_MAX_LINE_CHARS)


def unfinished_retention() -> timedelta:
    return getattr(settings, "IMPORT_UNFINISHED_RETENTION", IMPORT_UNFINISHED_RETENTION)


def can_access(user: AbstractBaseUser, job: ImportJob) -> bool:
    """An import (its mapping, progress and rows not imported, which hold the
    file's personal data) is for the person who uploaded it and for managers."""
    return job.created_by_id == user.pk or is_manager(user)


def ensure_can_access(user: AbstractBaseUser, job: ImportJob) -> None:
    if not can_access(user, job):
        raise PermissionDenied(
            "Only the person who uploaded this file or a sales manager can see this import."
        )


def field_label(name: str) -> str:
    if name == "owner":
        return "Owner"
    return str(Lead._meta.get_field(name).verbose_name).capitalize()


def fields_for(user: AbstractBaseUser) -> list[str]:
    """The fields `user` may import: only a manager gives leads to other owners."""
    return [f for f in IMPORT_FIELDS if f != "owner" or is_manager(user)]


def start_import(*, user: AbstractBaseUser, name: str, raw: bytes) -> ImportJob:
    """Check an uploaded file and keep it, with its columns auto-mapped.

    Raises parsing.FileProblem when the file cannot be imported, or cannot be
    stored; either way no job and no file remain.
    """
    if len(raw) > max_bytes():
        raise parsing.FileProblem(
            f"The file is {len(raw) / 1_048_576:.1f} MB; the limit is "
            f"{max_bytes() / 1_048_576:.0f} MB. Split it into smaller files."
        )
    parsed = parsing.parse(raw, max_columns=max_columns(), max_line_chars=max_line_chars())
    job = ImportJob(
        created_by=user,
        file_name=_display_name(name),
        encoding=parsed.encoding,
        delimiter=parsed.delimiter,
        headers=parsed.headers,
        mapping=parsing.auto_mapping(parsed.headers, fields_for(user)),
        total_rows=parsed.row_count,
    )
    try:
        with transaction.atomic():
            # Stored as UTF-8 whatever it came in, so the batches need not guess again.
            save_file(job.file, "leads.csv", ContentFile(parsed.text.encode()))
            job.save()
    except FileStorageError as exc:
        raise parsing.FileProblem(exc.message) from None
    except BaseException:
        # The row was not saved: its file must not outlive it.
        if job.file.name:
            default_storage.delete(job.file.name)
        raise
    return job


def _display_name(name: str) -> str:
    """The uploaded file's name as shown: control characters (a NUL the
    database could not store among them) removed, at most 255 characters."""
    shown = "".join(c for c in name if unicodedata.category(c) != "Cc").strip()
    return shown[:255] or "leads.csv"


def preview(job: ImportJob, count: int = 5) -> list[parsing.Row]:
    return list(islice(parsing.rows(_text(job), job.delimiter), count))


def missing_required(mapping: dict[str, int], default_topic: str) -> list[str]:
    """What a mapping lacks for a lead: a topic, and a last name or company."""
    missing = []
    if "topic" not in mapping and not default_topic.strip():
        missing.append("Topic (or a topic for every row)")
    if not {"last_name", "company_name"} & set(mapping):
        missing.append("Last name or Company")
    return missing


@transaction.atomic
def set_mapping(
    *,
    job: ImportJob,
    user: AbstractBaseUser,
    mapping: dict[str, int],
    default_topic: str,
    skip_duplicates: bool,
) -> ImportJob:
    """Fix the columns and the duplicate choice, and make the job ready to run."""
    job = ImportJob.objects.select_for_update().get(pk=job.pk)
    _ensure_can_run(user, job)
    if job.status != ImportJob.Status.MAPPING:
        raise ValidationError("This import has already started.")
    allowed = set(fields_for(user))
    mapping = {f: i for f, i in mapping.items() if f in allowed and 0 <= i < len(job.headers)}
    missing = missing_required(mapping, default_topic)
    if missing:
        raise ValidationError(f"Choose the column for: {'; '.join(missing)}.")
    job.mapping = mapping
    job.default_topic = default_topic.strip()
    job.skip_duplicates = skip_duplicates
    job.status = ImportJob.Status.RUNNING
    # The batches run in a worker (imports.tasks.run_import), sent after commit.
    job.job = jobs.start(
        "imports.run", label=f"Import of {job.file_name}", user=user, import_job=job.pk
    )
    job.save()
    return job


def run_import(*, job: ImportJob, alive: Callable[[], None] = lambda: None) -> ImportJob:
    """Import every remaining batch of a running job (the worker's loop), calling
    `alive()` before each: a batch commits alone, so a run stopped at any point
    (a killed worker, a busy database) leaves no half batch and a new run goes on
    from the next one. Returns the job as it ended (or as a cancel left it)."""
    job = ImportJob.objects.get(pk=job.pk)
    pause = _pause_between_batches()
    text = None  # the stored file, read once for all the batches
    while job.status == ImportJob.Status.RUNNING:
        alive()
        if text is None and job.file:
            # A file that cannot be read is import_next_batch's to report (Stopped).
            with contextlib.suppress(OSError, ValueError):
                text = _text(job)
        job = import_next_batch(job=job, user=job.created_by, text=text)
        if pause and job.status == ImportJob.Status.RUNNING:
            time.sleep(pause)
    return job


def _pause_between_batches() -> float:
    """SQLite has one writer at a time: without a pause between batches, the
    requests (and the other imports) waiting for the write lock keep missing
    the moment between one batch's commit and the next one's first write."""
    found = getattr(settings, "IMPORT_PAUSE_SECONDS", None)
    if found is not None:
        return found
    return 0.05 if connection.vendor == "sqlite" else 0.0


@transaction.atomic
def cancel_import(*, job: ImportJob, user: AbstractBaseUser) -> ImportJob:
    """Stop a running import at the end of its current batch: the leads imported
    so far stay, every row not yet read is listed among the rows not imported.
    An import still being mapped is simply ended. A finished one is left as is."""
    job = ImportJob.objects.select_for_update().get(pk=job.pk)
    _ensure_can_run(user, job)
    if job.has_ended:
        raise ValidationError("This import has already finished.")
    name = user.get_full_name() or user.get_username()
    reason = f"Cancelled by {name}."
    if job.status == ImportJob.Status.RUNNING:
        return _stop(job, reason, status=ImportJob.Status.CANCELLED)
    _end(job, ImportJob.Status.CANCELLED, reason)
    job.save()
    return job


def import_next_batch(
    *, job: ImportJob, user: AbstractBaseUser, text: str | None = None
) -> ImportJob:
    """Import the next IMPORT_BATCH_SIZE rows of a running job; mark it done after the last.

    The job row is locked, so two runs never import the same batch. A row
    the database refuses fails alone (its line and reason among the rows not
    imported). A busy or unreachable database raises OperationalError and
    changes nothing: the worker's job tries the batch again later. Anything
    else that stops a batch ends the job as Stopped with every row not yet
    imported listed, so the job always finishes and no row is lost. `text`:
    the stored file's text, when the caller read it once for every batch.
    """
    try:
        return _import_next_batch(job=job, user=user, text=text)
    except (PermissionDenied, OperationalError, InterfaceError):
        raise
    except parsing.FileProblem as exc:
        return _stop(job, f"The import stopped: {exc}")
    except OSError:
        logger.exception("Import %s: the stored file cannot be read", job.pk)
        return _stop(job, "The import stopped: its uploaded file could not be read.")
    except Exception:
        logger.exception("Import %s stopped by an unexpected error", job.pk)
        return _stop(job, "The import stopped because of an unexpected error.")


@transaction.atomic
def _import_next_batch(*, job: ImportJob, user: AbstractBaseUser, text: str | None) -> ImportJob:
    job = ImportJob.objects.select_for_update().get(pk=job.pk)
    _ensure_can_run(user, job)
    if job.status != ImportJob.Status.RUNNING:
        return job
    batch = list(
        islice(
            parsing.rows(
                text if text is not None else _text(job),
                job.delimiter,
                start=job.next_offset,
                line=job.next_line,
            ),
            _batch_size(),
        )
    )
    if batch:
        job.next_offset, job.next_line = batch[-1].end, batch[-1].next_line
    owners = _owners(job, batch)
    duplicates = _duplicates(job, batch) if job.skip_duplicates else {}
    context = _BatchContext(
        user=job.created_by,
        owners=owners,
        stage=process.first_lead_stage(job.created_by),
        currencies={c.code: c for c in Currency.objects.all()},
        rules_active=RoutingRule.objects.filter(is_active=True).exists(),
    )
    problems, leads, sources = [], [], []
    for row in batch:
        kind, reason = None, duplicates.get(row.line)
        if reason:
            kind = ImportProblem.Kind.SKIPPED
        else:
            try:
                fields = _fields(job, row, owners)
                leads.append(_build_lead(fields, context))
                sources.append((row, fields))
            except RowProblem as exc:
                kind, reason = ImportProblem.Kind.FAILED, str(exc)
            except ValidationError as exc:
                kind, reason = ImportProblem.Kind.FAILED, _describe(exc)
            except PermissionDenied as exc:
                kind, reason = ImportProblem.Kind.FAILED, str(exc)
        if kind:
            problems.append(_problem(job, row, kind, reason))
    try:
        with transaction.atomic():
            Lead.objects.bulk_create(leads, batch_size=500)
            bulk_history_created(Lead, [lead.pk for lead in leads], job.created_by)
    except (IntegrityError, DataError, ValueError):
        # The database refused a row that the checks above let through: let
        # create_lead take the rows one at a time and say which (and tell
        # each lead's new owner, as it does for any new lead).
        problems += _create_one_by_one(job, sources)
    else:
        for lead in leads:
            if lead.owner_id != job.created_by_id:
                key = str(lead.owner_id)
                job.assigned[key] = job.assigned.get(key, 0) + 1
    ImportProblem.objects.bulk_create(problems)
    skipped = sum(p.kind == ImportProblem.Kind.SKIPPED for p in problems)
    job.skipped += skipped
    job.failed += len(problems) - skipped
    job.imported += len(batch) - len(problems)
    job.rows_done += len(batch)
    if len(batch) < _batch_size() or job.rows_done >= job.total_rows:
        _end(job, ImportJob.Status.DONE)
    job.save()
    return job


def _end(job: ImportJob, status: str, error: str = "") -> None:
    """Mark the (locked) job ended and delete its file once that commits; tell
    the importer how it went, and each other owner of its leads how many."""
    started = job.status == ImportJob.Status.RUNNING
    delete_files_on_commit([job.file.name])
    job.file = ""
    job.status = status
    job.error = error
    job.finished_at = timezone.now()
    if started:
        _announce_end(job)


def _announce_end(job: ImportJob) -> None:
    url = job.get_absolute_url()
    if job.status == ImportJob.Status.DONE:
        outcome = "finished"
    else:
        outcome = f"ended early ({job.get_status_display().lower()})"
    events.notify(
        job.created_by,
        Notification.Kind.IMPORT_DONE,
        f"Your import of {job.file_name} {outcome}: {job.imported:,} imported, "
        f"{job.skipped:,} skipped, {job.failed:,} failed.",
        url,
    )
    owners = get_user_model().objects.in_bulk([int(pk) for pk in job.assigned])
    for pk, count in job.assigned.items():
        events.records_assigned(
            owner=owners.get(int(pk)),
            count=count,
            what="leads",
            source=f"the import of {job.file_name}",
            url=reverse("leads:list") + "?view=my",
        )


@transaction.atomic
def _stop(job: ImportJob, reason: str, *, status: str = ImportJob.Status.STOPPED) -> ImportJob:
    """End a running job early: every row not yet read is listed among the rows
    not imported (with `reason`), so the user can import them again."""
    job = ImportJob.objects.select_for_update().get(pk=job.pk)
    if job.status != ImportJob.Status.RUNNING:
        return job
    left = 0
    try:
        text = _text(job)
        problems = (
            _problem(job, row, ImportProblem.Kind.FAILED, f"Not imported: {reason}")
            for row in parsing.rows(text, job.delimiter, start=job.next_offset, line=job.next_line)
        )
        while chunk := list(islice(problems, 2_000)):
            ImportProblem.objects.bulk_create(chunk)
            left += len(chunk)
    except (OSError, ValueError, parsing.FileProblem):
        # The file itself is gone or unreadable: what is left cannot be listed.
        reason += " The rest of the file could not be read; import it again."
    job.failed += left
    job.rows_done += left
    _end(job, status, reason)
    job.save()
    return job


def _problem(job: ImportJob, row: parsing.Row, kind: str, reason: str) -> ImportProblem:
    """A row not imported, with only its mapped columns' values, and no character
    the database cannot store (a NUL is kept visible as U+FFFD)."""
    values = [
        row.values[i].replace("\x00", "\ufffd") if i < len(row.values) else ""
        for i in job.mapped_columns
    ]
    return ImportProblem(
        job=job, line=row.line, kind=kind, reason=reason.replace("\x00", "\ufffd"), values=values
    )


@dataclass
class _BatchContext:
    user: AbstractBaseUser
    owners: dict[str, Any]
    stage: Any
    currencies: dict[str, Currency]
    # With no active routing rule every lead gets the same owner (the default
    # lead owner or the importer): routed once, then reused (see _build_lead).
    rules_active: bool = True
    unrouted_owner: Any = None


def _build_lead(fields: dict[str, Any], context: _BatchContext) -> Lead:
    """A new lead as create_lead builds it (leads.services.build_lead, then the
    owner named or routed), not yet saved: the batch is bulk-inserted."""
    fields = dict(fields)
    code = fields.pop("currency", "")
    owner = fields.pop("owner", None)
    if code:
        # Rows just read for the batch: no query per row to check they exist.
        fields["currency"] = context.currencies.get(code.upper())
        if fields["currency"] is None:
            raise RowProblem(f"Currency: {code!r} is not a known currency code.")
        if not fields["currency"].is_active:
            raise RowProblem(f"Currency: {code!r} is inactive.")
    lead = lead_services.build_lead(fields, stage=context.stage)
    if owner is not None:
        ensure_can_assign(context.user, owner, None, "a lead")
        lead.owner = owner
    else:
        # create_lead's own routing step (rules, then the default lead owner,
        # then the importer), so an imported lead is routed like a typed-in one.
        if context.rules_active or context.unrouted_owner is None:
            lead_services.assign_owner(lead, fallback=context.user)
            context.unrouted_owner = lead.owner
        else:
            lead.owner = context.unrouted_owner
    return lead


def _create_one_by_one(job: ImportJob, sources) -> list[ImportProblem]:
    """Each row through create_lead, in its own savepoint: a row the database
    refuses fails alone and the others are imported."""
    problems = []
    for row, fields in sources:
        try:
            lead_services.create_lead(user=job.created_by, **fields)
        except ValidationError as exc:
            problems.append(_problem(job, row, ImportProblem.Kind.FAILED, _describe(exc)))
        except (PermissionDenied, LeadError) as exc:
            problems.append(_problem(job, row, ImportProblem.Kind.FAILED, str(exc)))
        except (IntegrityError, DataError, ValueError) as exc:
            reason = f"The database refused this row: {str(exc).splitlines()[0][:300]}"
            problems.append(_problem(job, row, ImportProblem.Kind.FAILED, reason))
    return problems


def _batch_size() -> int:
    return getattr(settings, "IMPORT_BATCH_SIZE", IMPORT_BATCH_SIZE)


def _ensure_can_run(user: AbstractBaseUser, job: ImportJob) -> None:
    if not can_access(user, job):
        raise PermissionDenied("Only the person who uploaded this file can import it.")


def _text(job: ImportJob) -> str:
    with job.file.open("rb") as f:
        return f.read().decode()


def _value(job: ImportJob, row: parsing.Row, field: str) -> str:
    index = job.mapping.get(field)
    return row.values[index].strip() if index is not None else ""


def _fields(job: ImportJob, row: parsing.Row, owners: dict[str, Any]) -> dict[str, Any]:
    """The create_lead arguments of a row; RowProblem when the row cannot be read."""
    if len(row.values) != len(job.headers):
        raise RowProblem(
            f"This line has {len(row.values)} columns; the header line has {len(job.headers)}."
        )
    fields: dict[str, Any] = {}
    for field in job.mapping:
        value = _value(job, row, field)
        if "\x00" in value:
            raise RowProblem(NUL_IN_ROW)
        if field in BOOLEAN_FIELDS:
            if value.casefold() not in TRUE | FALSE:
                raise RowProblem(f"{field_label(field)}: {value!r} is not yes or no.")
            fields[field] = value.casefold() in TRUE
        elif not value:
            continue
        elif field in CHOICE_FIELDS:
            fields[field] = _choice(field, value)
        elif field == "budget_amount":
            fields[field] = _amount(value)
        elif field == "owner":
            if value.casefold() not in owners:
                raise RowProblem(f"Owner: no active user is called {value!r}.")
            fields[field] = owners[value.casefold()]
        else:
            fields[field] = value
    if not fields.get("topic"):
        fields["topic"] = job.default_topic
    return fields


@functools.cache
def _choice_keys(field: str, language: str | None) -> dict[str, str]:
    """A choice field's stored values by the keys of their values and labels."""
    keys = {}
    for stored, label in reversed(Lead._meta.get_field(field).choices):
        keys[parsing.header_key(str(label))] = stored
        keys[parsing.header_key(stored)] = stored
    return keys


def _choice(field: str, value: str) -> str:
    stored = _choice_keys(field, get_language()).get(parsing.header_key(value))
    if stored is not None:
        return stored
    if field == "lead_source":
        return "other"  # other CRMs have sources of their own
    raise RowProblem(f"{field_label(field)}: {value!r} is not one of the choices.")


def _amount(value: str) -> Decimal:
    text = value.replace(" ", "").replace("\u00a0", "").lstrip("$€£")
    if re.fullmatch(r"-?\d+,\d{1,2}", text):
        text = text.replace(",", ".")  # a decimal comma
    try:
        return Decimal(text.replace(",", ""))
    except InvalidOperation:
        raise RowProblem(f"Budget amount: {value!r} is not a number.") from None


def _owners(job: ImportJob, batch: list[parsing.Row]) -> dict[str, Any]:
    """The users the batch's owner column names, by username, email or full name."""
    if "owner" not in job.mapping:
        return {}
    names = {_value(job, row, "owner").casefold() for row in batch} - {""}
    found = {}
    for user in get_user_model().objects.filter(is_active=True):
        for name in (user.get_username(), user.email, user.get_full_name()):
            if name and name.casefold() in names:
                found[name.casefold()] = user
    return found


def _duplicates(job: ImportJob, batch: list[parsing.Row]) -> dict[int, str]:
    """Line -> why the row is a duplicate: same email (ignoring case) or phone
    (ignoring punctuation) as an existing lead or contact, or as an earlier row
    of the batch. Earlier batches' rows are existing leads by now. The matching
    is accounts.selectors.people_matching's: one indexed query per table."""
    emails = {email_key(_value(job, row, "email")) for row in batch} - {""}
    phones = {
        phone_key(_value(job, row, f)) for row in batch for f in ("business_phone", "mobile_phone")
    } - {""}
    known: dict[str, str] = {}
    for model, what in ((Lead, "an existing lead"), (Contact, "an existing contact")):
        for keys in people_matching(model, emails=emails, phones=phones):
            for key in keys:
                if key in emails or key in phones:
                    known.setdefault(key, what)
    found = {}
    for row in batch:
        email = email_key(_value(job, row, "email"))
        row_phones = [phone_key(_value(job, row, f)) for f in ("business_phone", "mobile_phone")]
        reasons = []
        if email and email in known:
            reasons.append(f"Same email as {known[email]}.")
        reasons += [f"Same phone as {known[p]}." for p in row_phones if p and p in known]
        if reasons:
            found[row.line] = reasons[0]
        else:
            # A row that will be imported: later rows with its email or phone repeat it.
            for key in (email, *row_phones):
                if key:
                    known.setdefault(key, f"line {row.line} of this file")
    return found


def _describe(exc: ValidationError) -> str:
    if hasattr(exc, "error_dict"):
        parts = []
        for field, errors in exc.message_dict.items():
            label = "" if field == "__all__" else f"{field_label(field)}: "
            parts.append(label + " ".join(errors))
        return " ".join(parts)
    return " ".join(exc.messages)


def failure_rows(job: ImportJob):
    """The rows not imported, as the failures CSV lists them: line, result and
    reason, then the mapped columns only (the values the import would have used)."""
    columns = job.mapped_columns
    yield ["Line", "Result", "Reason", *(job.headers[i] for i in columns)]
    for problem in job.problems.order_by("line").iterator(chunk_size=2_000):
        yield [problem.line, problem.get_kind_display(), problem.reason, *problem.values]


def prune_imports(*, now=None) -> tuple[int, int]:
    """Delete the uploaded files imports no longer need: an ended job's file (when
    its deletion after the commit failed), and the file of a job nobody finished
    within IMPORT_UNFINISHED_RETENTION, which is marked Abandoned with the rows
    still unread listed as not imported. Returns (jobs abandoned, files of ended
    jobs deleted)."""
    now = now or timezone.now()
    abandoned = deleted = 0
    stale = ImportJob.objects.filter(
        status__in=[ImportJob.Status.MAPPING, ImportJob.Status.RUNNING],
        created_at__lt=now - unfinished_retention(),
    )
    for pk in stale.values_list("pk", flat=True):
        if _abandon(pk):
            abandoned += 1
    for job in ImportJob.objects.filter(status__in=ImportJob.ENDED).exclude(file=""):
        with transaction.atomic():
            name = job.file.name
            ImportJob.objects.filter(pk=job.pk).update(file="")
            delete_files_on_commit([name])
        deleted += 1
    return abandoned, deleted


@transaction.atomic
def _abandon(pk: int) -> bool:
    job = ImportJob.objects.select_for_update().get(pk=pk)
    if job.has_ended:
        return False
    days = unfinished_retention().days
    reason = f"Abandoned: nobody finished this import within {days} days, so its file was deleted."
    if job.status == ImportJob.Status.RUNNING:
        job = _stop(job, reason, status=ImportJob.Status.ABANDONED)
    else:
        _end(job, ImportJob.Status.ABANDONED, reason)
    job.save()
    return True
