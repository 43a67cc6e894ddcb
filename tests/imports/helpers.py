"""Driving the import pages as a browser would: upload, map, run every batch."""

import csv
import io

from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

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
    for _ in range(100):
        job.refresh_from_db()
        if job.has_ended:
            return job
        client.post(reverse("imports:run", args=[job.pk]), headers={"HX-Request": "true"})
    raise AssertionError("the import did not finish")


def problems_csv(client, job: ImportJob) -> list[dict]:
    response = client.get(reverse("imports:problems", args=[job.pk]))
    body = b"".join(response.streaming_content).decode("utf-8-sig")
    return list(csv.DictReader(io.StringIO(body, newline="")))
