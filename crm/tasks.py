"""The one task the backend carries, "run this Job" (crm.jobs), and the core's
job handlers. Every kind of background work is a Job row with a handler
registered in its app's `tasks.py`, so the queue holds only ids and the
database holds the truth. A handler is a thin wrapper: it reads the job's
arguments and calls a service, and must be safe to run twice."""

from datetime import timedelta

from django.core.management import call_command
from django_tasks import task

from . import events, jobs, schedule
from .models import Job


@task()
def run_job(job_id: int) -> str:
    return jobs.run(job_id)


@jobs.handler("crm.email_notification")
def email_notification(job: Job) -> None:
    events.email_notification(job.arguments["notification"])


@jobs.handler("crm.prune_files")
def prune_files(job: Job) -> None:
    """Orphan attachments, finished or abandoned imports' files (scheduled daily)."""
    call_command("prune_attachments", verbosity=0)


@jobs.handler("crm.prune_job_records")
def prune_job_records(job: Job) -> None:
    """Old finished jobs, task results and schedule slots (scheduled daily)."""
    jobs.prune()


schedule.every(
    timedelta(days=1), "crm.prune_files", name="Prune orphan attachments and old import files"
)
schedule.every(timedelta(days=1), "crm.prune_job_records", name="Prune old job records")
