"""Driving the import pages as a browser would: upload, map, then a worker runs the batches."""

import csv
import io

from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from crm import jobs
from imports.models import ImportJob


def upload(client, content: bytes, name: str = "leads.csv"):
    return client.post(
        reverse("imports:upload"), {"file": SimpleUploadedFile(name, content, "text/csv")}
    )


def uploaded_job(client, content: bytes, name: str = "leads.csv") -> ImportJob:
    response = upload(client, content, name)
    assert response.status_code == 302, response.content.decode()[:2000]
    return ImportJob.objects.get()


def map_and_run(client, job: ImportJob, **choices) -> ImportJob:
    """Post the mapping as the form offers it (auto-mapped), then run every batch."""
    page = client.get(reverse("imports:mapping", args=[job.pk]))
    form = page.context["form"]
    data = {name: form[name].value() or "" for name in form.fields}
    data.update(choices)
    response = client.post(reverse("imports:mapping", args=[job.pk]), data)
    assert response.status_code == 302, response.content.decode()[:3000]
    return run_in_worker(job)


def run_in_worker(job: ImportJob) -> ImportJob:
    """Run the queued jobs as a worker would (here, in-process), then the import."""
    jobs.run_queued()
    job.refresh_from_db()
    assert job.has_ended, "the import did not finish"
    return job


def problems_csv(client, job: ImportJob) -> list[dict]:
    response = client.get(reverse("imports:problems", args=[job.pk]))
    body = b"".join(response.streaming_content).decode("utf-8-sig")
    return list(csv.DictReader(io.StringIO(body, newline="")))
