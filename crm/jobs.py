"""Background jobs: work that outlives the request, on one machine or many.

A job is a `Job` row, the durable record of what to run (a registered
handler and its arguments), for whom, and how it went, plus a message to the
task backend (Django's tasks API: the database backend by default, Redis
through RQ when TASKS_REDIS_URL is set) telling a worker to run it. The row
is written in the caller's transaction and the message sent once that
commits: a job never runs before its data exist, and a rolled-back request
leaves none. A message that is lost (the queue unreachable, Redis restarted,
a worker killed mid-job) is sent again by `sweep()`, which every worker runs
each minute; so every handler must be idempotent: safe to run twice, or to
run again after dying half-way.
"""

from __future__ import annotations

import logging
import os
import socket
import traceback
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import InterfaceError, OperationalError, transaction
from django.db.models import Q
from django.utils import timezone

from .models import Job

logger = logging.getLogger(__name__)

Handler = Callable[[Job], Any]
HANDLERS: dict[str, Handler] = {}

# Settings (read when used):
# JOBS_STALE_AFTER   a running job whose worker has not beaten for this long is
#                    taken to be dead and sent again (default 2 minutes)
# JOBS_RESEND_AFTER  a queued job the backend no longer knows is sent again
#                    after this long (default 30 seconds)
# JOBS_MAX_ATTEMPTS  tries of a job that keeps meeting a busy database (default 5)
JOBS_STALE_AFTER = timedelta(minutes=2)
JOBS_RESEND_AFTER = timedelta(seconds=30)
JOBS_MAX_ATTEMPTS = 5


def handler(kind: str) -> Callable[[Handler], Handler]:
    """Register `function(job)` as what a job of `kind` runs."""

    def register(function: Handler) -> Handler:
        HANDLERS[kind] = function
        return function

    return register


def start(kind: str, *, label: str, user=None, run_after=None, **arguments) -> Job:
    """Queue a job of `kind` with JSON-able `arguments`; sent after commit, to
    run at once or not before `run_after` (a datetime)."""
    if kind not in HANDLERS:
        raise LookupError(f"No job handler is registered for {kind!r}.")
    job = Job.objects.create(kind=kind, label=label[:200], created_by=user, arguments=arguments)
    transaction.on_commit(lambda: send(job.pk, run_after=run_after), robust=True)
    return job


def send(job_id: int, *, run_after=None) -> bool:
    """Hand job `job_id` to the task backend. False, logged, when the backend
    cannot take it now: the job stays queued in the database and sweep()
    sends it again, so no work is lost while the queue is down."""
    from .tasks import run_job

    task = run_job if run_after is None else run_job.using(run_after=run_after)
    try:
        result = task.enqueue(job_id)
    except Exception:  # the backend's own errors: Redis refused, a full disk
        logger.warning(
            "Job %s could not be queued; sweep() will send it again", job_id, exc_info=True
        )
        Job.objects.filter(pk=job_id).update(sent_at=timezone.now(), task_id="")
        return False
    Job.objects.filter(pk=job_id).update(sent_at=timezone.now(), task_id=str(result.id))
    return True


def run(job_id: int, *, worker: str = "") -> str:
    """Run job `job_id` in this worker: claim it (unless it is finished, or
    running in a live worker), call its handler, record how it ended."""
    now = timezone.now()
    with transaction.atomic():
        job = Job.objects.select_for_update().filter(pk=job_id).first()
        if job is None or job.status in (Job.Status.DONE, Job.Status.FAILED):
            return "nothing to do"
        if job.status == Job.Status.RUNNING and not _is_stale(job, now):
            return "running elsewhere"
        job.status = Job.Status.RUNNING
        job.attempts += 1
        job.started_at = job.heartbeat_at = now
        job.worker = (worker or f"{socket.gethostname()}:{os.getpid()}")[:100]
        job.save(update_fields=["status", "attempts", "started_at", "heartbeat_at", "worker"])
    try:
        HANDLERS[job.kind](job)
    except Superseded:
        return "superseded"
    except (OperationalError, InterfaceError) as exc:
        # A busy or unreachable database: try again later, up to a limit.
        if job.attempts < max_attempts():
            delay = timedelta(seconds=5 * 2**job.attempts)
            _end(job, Job.Status.QUEUED, _describe(exc))
            send(job.pk, run_after=timezone.now() + delay)
            return "deferred"
        _end(job, Job.Status.FAILED, _describe(exc))
        logger.exception("Job %s (%s) failed", job.pk, job.kind)
        return "failed"
    except Exception as exc:
        _end(job, Job.Status.FAILED, _describe(exc))
        logger.exception("Job %s (%s) failed", job.pk, job.kind)
        return "failed"
    _end(job, Job.Status.DONE)
    return "done"


class Superseded(Exception):
    """This run of a job was given up for dead and the job handed to another
    worker (it had not beaten for JOBS_STALE_AFTER): stop without recording."""


def beat(job: Job) -> None:
    """Tell the sweeper this run of `job` is alive; a long handler calls it at
    least once per JOBS_STALE_AFTER (an import: once per batch). Raises
    Superseded when another worker has taken the job over."""
    alive = Job.objects.filter(pk=job.pk, attempts=job.attempts, status=Job.Status.RUNNING)
    if not alive.update(heartbeat_at=timezone.now()):
        raise Superseded(job.pk)


def _is_stale(job: Job, now) -> bool:
    return job.heartbeat_at is None or job.heartbeat_at < now - stale_after()


def _end(job: Job, status: str, error: str = "") -> None:
    """Record how this run ended, unless another run has taken the job over."""
    mine = Job.objects.filter(pk=job.pk, attempts=job.attempts, status=Job.Status.RUNNING)
    mine.update(status=status, error=error, finished_at=timezone.now())


def _describe(exc: BaseException) -> str:
    lines = traceback.format_exception(exc)
    return "".join(lines)[-4000:]


def retry(job: Job) -> bool:
    """Queue a failed job again (its handler picks up where it can). False when
    the job had not failed."""
    with transaction.atomic():
        updated = Job.objects.filter(pk=job.pk, status=Job.Status.FAILED).update(
            status=Job.Status.QUEUED, finished_at=None
        )
        if updated:
            transaction.on_commit(lambda: send(job.pk), robust=True)
    return bool(updated)


def sweep(*, now=None) -> int:
    """Send again every job whose message was lost: queued ones the backend
    does not hold (never sent, refused, or gone with a restarted Redis), and
    running ones whose worker stopped beating (killed). Returns how many."""
    from .tasks import run_job

    now = now or timezone.now()
    backend = run_job.get_backend()
    lost = []
    candidates = Job.objects.filter(
        Q(status=Job.Status.QUEUED, created_at__lt=now - resend_after())
        | Q(status=Job.Status.RUNNING, heartbeat_at__lt=now - stale_after())
    )
    for job in candidates.only("pk", "status", "task_id"):
        if job.status == Job.Status.RUNNING or not _held(backend, job.task_id):
            lost.append(job.pk)
    for pk in lost:
        send(pk)
    return len(lost)


def _held(backend, task_id: str) -> bool:
    """Whether the backend still holds the task waiting or running."""
    if not task_id:
        return False
    try:
        result = backend.get_result(task_id)
    except Exception:  # gone (TaskResultDoesNotExist), or the backend unreachable
        return False
    return result.status.name in ("READY", "RUNNING")


def stale_after() -> timedelta:
    return getattr(settings, "JOBS_STALE_AFTER", JOBS_STALE_AFTER)


def resend_after() -> timedelta:
    return getattr(settings, "JOBS_RESEND_AFTER", JOBS_RESEND_AFTER)


def max_attempts() -> int:
    return getattr(settings, "JOBS_MAX_ATTEMPTS", JOBS_MAX_ATTEMPTS)


def run_queued(*, limit: int = 1000) -> int:
    """Run every queued job here and now, oldest first, whatever its run_after
    (the tests' worker); returns how many ran."""
    ran = 0
    while ran < limit:
        queued = Job.objects.filter(status=Job.Status.QUEUED).order_by("pk")
        pk = queued.values_list("pk", flat=True).first()
        if pk is None:
            return ran
        run(pk, worker="inline")
        ran += 1
    return ran


# JOBS_KEEP  how long finished jobs and their task results are kept (default 30 days)
JOBS_KEEP = timedelta(days=30)


def prune(*, now=None) -> int:
    """Delete finished jobs older than JOBS_KEEP, the database backend's task
    results of that age (a result left running by a killed worker included:
    its job was sent again) and old schedule slots. Returns the jobs deleted."""
    from django_tasks_db.models import DBTaskResult

    from .models import ScheduledRun

    before = (now or timezone.now()) - getattr(settings, "JOBS_KEEP", JOBS_KEEP)
    deleted, _ = Job.objects.filter(
        status__in=[Job.Status.DONE, Job.Status.FAILED], created_at__lt=before
    ).delete()
    DBTaskResult.objects.filter(enqueued_at__lt=before).delete()
    ScheduledRun.objects.filter(created_at__lt=before).delete()
    return deleted
