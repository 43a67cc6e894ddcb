"""The import's job: every batch of a running import, in a worker."""

from crm import jobs
from crm.models import Job

from . import services
from .models import ImportJob


@jobs.handler("imports.run")
def run_import(job: Job) -> None:
    """Safe to run again: each batch moves the import's cursor in its own
    transaction, so a new run goes on where the last committed batch ended."""
    import_job = ImportJob.objects.filter(pk=job.arguments["import_job"]).first()
    if import_job is not None:
        services.run_import(job=import_job, alive=lambda: jobs.beat(job))
