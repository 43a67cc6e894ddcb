from __future__ import annotations

import uuid
from pathlib import PurePosixPath

from django.conf import settings
from django.db import models
from django.urls import reverse
from django.utils import timezone


def upload_path(job: ImportJob, filename: str) -> str:
    # A random folder per upload: names never collide, so a failed write can
    # remove what it left without touching another upload (crm.storage).
    return str(PurePosixPath("imports", uuid.uuid4().hex, filename))


class ImportJob(models.Model):
    """One uploaded CSV file of leads, from mapping its columns to the summary.

    The uploaded file is kept only while the job needs it: it is deleted when
    the job ends (done or stopped) and, for a job nobody finishes, by
    `manage.py prune_attachments` after IMPORT_UNFINISHED_RETENTION.
    """

    class Status(models.TextChoices):
        MAPPING = "mapping", "Mapping columns"
        RUNNING = "running", "Importing"
        DONE = "done", "Done"
        STOPPED = "stopped", "Stopped"
        ABANDONED = "abandoned", "Abandoned"
        CANCELLED = "cancelled", "Cancelled"

    ENDED = (Status.DONE, Status.STOPPED, Status.ABANDONED, Status.CANCELLED)

    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+"
    )
    # Empty once the job has ended and the file is deleted.
    file = models.FileField(upload_to=upload_path, max_length=255, blank=True)
    file_name = models.CharField(max_length=255)
    encoding = models.CharField(max_length=20)
    delimiter = models.CharField(max_length=1)
    headers = models.JSONField(default=list)
    # Lead field name -> index of the CSV column it is read from.
    mapping = models.JSONField(default=dict)
    default_topic = models.CharField(max_length=200, blank=True)
    skip_duplicates = models.BooleanField(default=True)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.MAPPING)
    total_rows = models.PositiveIntegerField(default=0)
    rows_done = models.PositiveIntegerField(default=0)
    # Where the next batch starts in the stored file: an offset in its text and
    # that line's number, so a batch does not parse the rows before it again.
    next_offset = models.PositiveBigIntegerField(default=0)
    next_line = models.PositiveIntegerField(default=1)
    imported = models.PositiveIntegerField(default=0)
    skipped = models.PositiveIntegerField(default=0)
    failed = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(default=timezone.now)
    finished_at = models.DateTimeField(null=True, blank=True)
    # Why a stopped or abandoned job ended early, for its owner.
    error = models.TextField(blank=True)
    # The background job that runs the batches (crm.jobs), once the columns are chosen.
    job = models.ForeignKey(
        "crm.Job", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    # Owner id -> how many imported leads went to that user rather than the
    # importer (routing or the owner column): each is told once, at the end.
    assigned = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]

    def __str__(self) -> str:
        return f"Import of {self.file_name}"

    def get_absolute_url(self) -> str:
        return reverse("imports:progress", args=[self.pk])

    @property
    def has_ended(self) -> bool:
        return self.status in self.ENDED

    @property
    def mapped_columns(self) -> list[int]:
        """The indexes of the columns the mapping reads, in the file's order: the
        only values of a row that are kept when it is not imported."""
        return sorted(set(self.mapping.values()))


class ImportProblem(models.Model):
    """A row of an import that was not imported, and why."""

    class Kind(models.TextChoices):
        FAILED = "failed", "Failed"
        SKIPPED = "skipped", "Skipped (duplicate)"

    job = models.ForeignKey(ImportJob, on_delete=models.CASCADE, related_name="problems")
    line = models.PositiveIntegerField()
    kind = models.CharField(max_length=10, choices=Kind.choices)
    reason = models.TextField()
    # The row's values in the mapped columns only (ImportJob.mapped_columns):
    # columns nobody chose to import are never stored.
    values = models.JSONField(default=list)

    class Meta:
        ordering = ["job", "line"]

    def __str__(self) -> str:
        return f"Line {self.line}: {self.reason}"
