"""Uploaded import files are not kept: deleted when the job ends, and by
`manage.py prune_attachments` for jobs nobody finishes. These tests commit for
real (the files are deleted after the commit), as the command does under cron."""

import io
from datetime import timedelta
from io import StringIO
from pathlib import Path

import pytest
from django.core.files.storage import default_storage
from django.core.management import call_command
from django.utils import timezone

from imports import services
from imports.models import ImportJob
from tests.reference_data import restore_reference_data

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def reference_data(transactional_db):
    restore_reference_data()


def stored_files(media: Path) -> list[Path]:
    return [p for p in media.rglob("*") if p.is_file()]


def new_job(rep, *, days_ago: int, running: bool = False) -> ImportJob:
    content = b"Topic,Last name\n" + b"".join(b"T%d,N%d\n" % (i, i) for i in range(1, 6))
    job = services.start_import(user=rep, name="leads.csv", raw=content)
    if running:
        services.set_mapping(
            job=job,
            user=rep,
            mapping={"topic": 0, "last_name": 1},
            default_topic="",
            skip_duplicates=True,
        )
        services.import_next_batch(job=job, user=rep)
    created = timezone.now() - timedelta(days=days_ago)
    ImportJob.objects.filter(pk=job.pk).update(created_at=created)
    return ImportJob.objects.get(pk=job.pk)


def prune(*args: str) -> str:
    out = StringIO()
    call_command("prune_attachments", *args, stdout=out)
    return out.getvalue()


def test_prune_abandons_unfinished_imports_after_the_retention(rep, settings, media):
    settings.IMPORT_BATCH_SIZE = 2
    waiting = new_job(rep, days_ago=8)
    running = new_job(rep, days_ago=8, running=True)
    recent = new_job(rep, days_ago=6)
    assert running.imported == 2
    assert "Abandoned 2 unfinished import(s)" in prune()

    waiting.refresh_from_db()
    assert (waiting.status, waiting.file.name) == ("abandoned", "")
    assert "within 7 days" in waiting.error
    running.refresh_from_db()
    assert (running.status, running.imported, running.failed) == ("abandoned", 2, 3)
    assert [p.line for p in running.problems.all()] == [4, 5, 6]
    recent.refresh_from_db()
    assert recent.status == "mapping"
    assert stored_files(media) == [Path(recent.file.path)]


def test_the_retention_is_a_setting(rep, settings):
    settings.IMPORT_UNFINISHED_RETENTION = timedelta(days=30)
    job = new_job(rep, days_ago=8)
    prune()
    job.refresh_from_db()
    assert job.status == "mapping"


def test_prune_deletes_files_ended_imports_still_hold_and_stray_uploads(rep, media):
    job = new_job(rep, days_ago=0, running=True)
    assert job.status == "done" and stored_files(media) == []
    left = default_storage.save("imports/abc/leads.csv", io.BytesIO(b"kept by a failed delete"))
    ImportJob.objects.filter(pk=job.pk).update(file=left)
    stray = default_storage.save("imports/def/leads.csv", io.BytesIO(b"partial"))
    out = prune("--min-age-hours=0")
    assert "deleted the files of 1 ended import(s)" in out
    assert "Removed 1 stray file(s)" in out
    assert stored_files(media) == []
    assert ImportJob.objects.get().file.name == ""
    assert not default_storage.exists(stray)
