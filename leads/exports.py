"""Exports of a lead list: streamed in the request when small, written to a
file by a worker when large (above EXPORT_STREAM_MAX_ROWS), then offered to
their owner only, until they expire (EXPORT_FILE_LIFETIME).

Settings (read when used):
EXPORT_STREAM_MAX_ROWS  a list with more leads than this is exported by a worker
                        (default 50,000: a request streams that in a few seconds)
EXPORT_FILE_LIFETIME    how long a finished file can be downloaded (default 24 hours)
"""

from __future__ import annotations

import io
import logging
import tempfile
from collections.abc import Callable
from datetime import timedelta

from django.conf import settings
from django.contrib.auth.base_user import AbstractBaseUser
from django.core.exceptions import PermissionDenied
from django.core.files import File
from django.db import transaction
from django.http import QueryDict
from django.utils import timezone

from crm import events, jobs
from crm.models import Notification
from crm.storage import delete_files_on_commit, save_file

from . import csv_export
from .models import LeadExport

logger = logging.getLogger(__name__)

EXPORT_STREAM_MAX_ROWS = 50_000
EXPORT_FILE_LIFETIME = timedelta(hours=24)
# The worker says it is alive (crm.jobs.beat) every so many rows.
BEAT_EVERY = 20_000


def stream_max_rows() -> int:
    return getattr(settings, "EXPORT_STREAM_MAX_ROWS", EXPORT_STREAM_MAX_ROWS)


def file_lifetime() -> timedelta:
    return getattr(settings, "EXPORT_FILE_LIFETIME", EXPORT_FILE_LIFETIME)


def too_big_to_stream(*, user: AbstractBaseUser, query: str) -> bool:
    """Whether the list `query` shows has more leads than a request streams:
    a count that stops one past the limit (an index range, however many leads)."""
    leads, *_ = csv_export.filtered_leads(user=user, params=QueryDict(query))
    limit = stream_max_rows()
    return leads.order_by()[: limit + 1].count() > limit


@transaction.atomic
def start_export(*, user: AbstractBaseUser, query: str) -> LeadExport:
    """Queue the export of the list `query` shows, as `user` sees it, to a file."""
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
    export = LeadExport.objects.create(owner=user, query=query, file_name=f"leads-{stamp}.csv")
    jobs.start("leads.export", label=f"Lead export {export.file_name}", user=user, export=export.pk)
    return export


def write_export(*, export: LeadExport, alive: Callable[[], None] = lambda: None) -> LeadExport:
    """Write the export's file and offer it to its owner (the job "leads.export").
    The rows are written to a local temporary file, then stored in one piece, so
    a run that dies part way leaves nothing and a new run starts over. A run
    after the file is ready does nothing. Any failure marks the export failed,
    with the reason, and is raised for the job to record."""
    export = LeadExport.objects.select_related("owner").get(pk=export.pk)
    if export.status not in (LeadExport.Status.QUEUED, LeadExport.Status.FAILED):
        return export
    try:
        with tempfile.TemporaryFile() as out:
            rows = _write_rows(export, out, alive)
            out.seek(0)
            return _offer(export, out, rows)
    except jobs.Superseded:
        raise
    except Exception as exc:
        LeadExport.objects.filter(pk=export.pk).update(
            status=LeadExport.Status.FAILED, error=str(exc)[:1000] or exc.__class__.__name__
        )
        raise


def _write_rows(export: LeadExport, out, alive: Callable[[], None]) -> int:
    text = io.TextIOWrapper(out, encoding="utf-8", newline="", write_through=True)
    leads = csv_export.lead_rows(user=export.owner, params=QueryDict(export.query))
    rows = -1  # the header line is not a row
    for rows, line in enumerate(csv_export.csv_lines(leads)):
        text.write(line)
        if rows % BEAT_EVERY == 0:
            alive()
    text.detach()
    return rows


@transaction.atomic
def _offer(export: LeadExport, out, rows: int) -> LeadExport:
    locked = LeadExport.objects.select_for_update().get(pk=export.pk)
    if locked.status == LeadExport.Status.READY:
        return locked  # another run got there first
    save_file(locked.file, locked.file_name, File(out))
    now = timezone.now()
    locked.status = LeadExport.Status.READY
    locked.rows = rows
    locked.error = ""
    locked.finished_at = now
    locked.expires_at = now + file_lifetime()
    locked.save()
    events.notify(
        locked.owner,
        Notification.Kind.EXPORT_READY,
        f"Your export of {rows:,} leads is ready to download.",
        locked.get_absolute_url(),
    )
    return locked


def ensure_can_download(user: AbstractBaseUser, export: LeadExport) -> None:
    """An export is its owner's alone: it holds the leads as they see them."""
    if export.owner_id != user.pk:
        raise PermissionDenied("Only the person who exported these leads can download them.")


def expire_exports(*, now=None) -> int:
    """Delete the files of exports past their time (scheduled hourly); returns how many."""
    now = now or timezone.now()
    expired = 0
    due = LeadExport.objects.filter(status=LeadExport.Status.READY, expires_at__lte=now)
    for pk in due.values_list("pk", flat=True):
        with transaction.atomic():
            export = LeadExport.objects.select_for_update().get(pk=pk)
            if export.status != LeadExport.Status.READY:
                continue
            delete_files_on_commit([export.file.name])
            export.file = ""
            export.status = LeadExport.Status.EXPIRED
            export.save(update_fields=["file", "status"])
            expired += 1
    return expired
