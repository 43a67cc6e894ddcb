"""Lead import pages: upload, map the columns, watch a worker run the batches, see the summary."""

from __future__ import annotations

import csv
from datetime import timedelta

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from crm.models import Job
from leads.csv_export import BOM, Echo, safe_cell

from . import parsing, services
from .forms import MappingForm, UploadForm
from .models import ImportJob


def get_job(request, pk: int) -> ImportJob:
    """The job, if the user uploaded it or is a manager; 403 otherwise."""
    job = get_object_or_404(ImportJob, pk=pk)
    services.ensure_can_access(request.user, job)
    return job


def upload(request):
    form = UploadForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        try:
            job = services.start_import(user=request.user, name=upload.name, raw=upload.read())
        except parsing.FileProblem as exc:
            form.add_error("file", str(exc))
        else:
            return redirect("imports:mapping", pk=job.pk)
    return render(
        request,
        "imports/upload.html",
        {
            "form": form,
            "max_mb": services.max_bytes() // 1_048_576,
            "recent": ImportJob.objects.filter(created_by=request.user)[:5],
        },
    )


def mapping(request, pk: int):
    job = get_job(request, pk)
    if job.status != ImportJob.Status.MAPPING:
        return redirect(job)
    form = MappingForm(request.POST or None, job=job, fields=services.fields_for(request.user))
    if request.method == "POST" and form.is_valid():
        try:
            services.set_mapping(
                job=job,
                user=request.user,
                mapping=form.mapping(),
                default_topic=form.cleaned_data["default_topic"],
                skip_duplicates=form.cleaned_data["duplicates"] == "skip",
            )
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            return redirect(job)
    return render(
        request,
        "imports/mapping.html",
        {"job": job, "form": form, "preview": services.preview(job)},
    )


def progress(request, pk: int):
    """The import as it stands: a worker runs the batches; htmx asks again every
    two seconds until the import has ended (closing the page changes nothing)."""
    job = get_job(request, pk)
    context = {"job": job, "problems": _problems(job), "worker": _worker_state(job)}
    if request.headers.get("HX-Request"):
        response = render(request, "imports/_progress.html", context)
        if job.has_ended:
            # The last answer to the polling: the bell shows the "finished" notification.
            response["HX-Trigger"] = "notificationsChanged"
        return response
    return render(request, "imports/progress.html", context)


@require_POST
def cancel(request, pk: int):
    try:
        services.cancel_import(job=get_job(request, pk), user=request.user)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, "The import was cancelled; the leads imported so far stay.")
    return redirect("imports:progress", pk=pk)


def _worker_state(job: ImportJob) -> str:
    """ "waiting" while no worker has taken a running import for a while (the
    page says a worker must be running), else ""."""
    if job.status != ImportJob.Status.RUNNING or job.job_id is None or job.rows_done:
        return ""
    queued = Job.objects.filter(
        pk=job.job_id,
        status=Job.Status.QUEUED,
        created_at__lt=timezone.now() - timedelta(seconds=30),
    )
    return "waiting" if queued.exists() else ""


def problems_csv(request, pk: int):
    job = get_job(request, pk)
    writer = csv.writer(Echo())
    lines = (writer.writerow([safe_cell(v) for v in row]) for row in services.failure_rows(job))
    response = StreamingHttpResponse(
        (BOM + line if i == 0 else line for i, line in enumerate(lines)),
        content_type="text/csv; charset=utf-8",
    )
    response["Content-Disposition"] = f'attachment; filename="import-{job.pk}-not-imported.csv"'
    return response


def _problems(job: ImportJob):
    return job.problems.all()[:20] if job.has_ended else []
