"""Exports too big to stream: prepared by a worker, offered to their owner only,
expired after a day."""

import csv
import io
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from crm import jobs
from crm.models import Job, Notification
from leads import exports
from leads.models import LeadExport, Rating
from tests.factories import LeadFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def five_hot_leads(rep, settings):
    settings.EXPORT_STREAM_MAX_ROWS = 3
    for i in range(5):
        LeadFactory(owner=rep, topic=f"Hot {i}", rating=Rating.HOT)
    LeadFactory(owner=rep, topic="Cold", rating=Rating.COLD)


def rows_of(body: bytes) -> list[dict]:
    return list(csv.DictReader(io.StringIO(body.decode("utf-8-sig"), newline="")))


def streamed(client, query: dict) -> bytes:
    response = client.get(reverse("leads:export"), query)
    return b"".join(response.streaming_content)


def test_a_list_too_big_to_stream_is_prepared_by_a_worker_and_downloaded(
    client, rep, five_hot_leads, settings
):
    client.force_login(rep)
    query = {"view": "open", "rating": "hot", "sort": "topic"}

    page = client.get(reverse("leads:export"), query)
    assert page.status_code == 200 and "Prepare the file" in page.content.decode()
    assert not LeadExport.objects.exists()  # a GET starts nothing

    response = client.post(
        reverse("leads:export_start"), {"query": page.context["query"]}, follow=True
    )
    export = LeadExport.objects.get()
    assert response.redirect_chain[-1][0] == export.get_absolute_url()
    assert "Preparing the file in the background" in response.content.decode()
    assert Job.objects.get(kind="leads.export").status == Job.Status.QUEUED

    jobs.run_queued()

    export.refresh_from_db()
    assert (export.status, export.rows) == (LeadExport.Status.READY, 5)
    assert export.expires_at > timezone.now() + timedelta(hours=23)
    download = client.get(reverse("leads:export_download", args=[export.pk]))
    body = b"".join(download.streaming_content)
    assert download["Content-Disposition"].startswith('attachment; filename="leads-')
    assert [r["Topic"] for r in rows_of(body)] == [f"Hot {i}" for i in range(5)]
    # The same file the request would have streamed for the same list.
    settings.EXPORT_STREAM_MAX_ROWS = 100
    assert body == streamed(client, query)
    notification = Notification.objects.get(user=rep)
    assert notification.text == "Your export of 5 leads is ready to download."
    assert notification.url == export.get_absolute_url()


def test_only_the_exporter_downloads_it_not_even_a_manager(
    client, rep, rep2, manager, five_hot_leads
):
    export = exports.start_export(user=rep, query="view=open")
    jobs.run_queued()
    for other in (rep2, manager):
        client.force_login(other)
        assert client.get(reverse("leads:export_download", args=[export.pk])).status_code == 403
        assert client.get(reverse("leads:export_status", args=[export.pk])).status_code == 403


def test_an_expired_export_is_deleted_and_says_so(
    client, rep, five_hot_leads, django_capture_on_commit_callbacks
):
    export = exports.start_export(user=rep, query="view=open")
    jobs.run_queued()
    export.refresh_from_db()
    stored = export.file.name
    assert export.file.storage.exists(stored)

    assert exports.expire_exports(now=timezone.now() + timedelta(hours=1)) == 0
    with django_capture_on_commit_callbacks(execute=True):
        assert exports.expire_exports(now=timezone.now() + timedelta(days=2)) == 1

    assert not export.file.storage.exists(stored)
    export.refresh_from_db()
    assert export.status == LeadExport.Status.EXPIRED and not export.file
    client.force_login(rep)
    response = client.get(reverse("leads:export_download", args=[export.pk]))
    assert response.status_code == 410 and "has expired" in response.content.decode()


def test_a_second_run_of_the_job_writes_nothing_more(rep, five_hot_leads):
    export = exports.start_export(user=rep, query="view=open")
    job = Job.objects.get(kind="leads.export")
    jobs.run(job.pk)
    export.refresh_from_db()
    first = export.file.name
    Job.objects.filter(pk=job.pk).update(status=Job.Status.QUEUED)
    jobs.run(job.pk)
    export.refresh_from_db()
    assert export.file.name == first and Notification.objects.count() == 1


def test_a_failed_export_says_why_and_a_retry_finishes_it(rep, five_hot_leads, monkeypatch):
    export = exports.start_export(user=rep, query="view=open")
    job = Job.objects.get(kind="leads.export")

    def full_disk(*args, **kwargs):
        raise OSError(28, "No space left on device")

    with monkeypatch.context() as patch:
        patch.setattr(exports, "_write_rows", full_disk)
        assert jobs.run(job.pk) == "failed"
    export.refresh_from_db()
    assert export.status == LeadExport.Status.FAILED and "No space left" in export.error

    jobs.retry(job)
    assert jobs.run(job.pk) == "done"
    export.refresh_from_db()
    assert (export.status, export.rows, export.error) == (LeadExport.Status.READY, 6, "")


def test_a_small_list_still_streams_at_once(client, rep, settings):
    LeadFactory(owner=rep)
    client.force_login(rep)
    response = client.get(reverse("leads:export"))
    assert response.streaming and not LeadExport.objects.exists()
