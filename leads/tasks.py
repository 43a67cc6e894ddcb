"""The leads app's jobs: large exports and the hourly expiry of their files, bulk actions."""

from datetime import timedelta

from crm import jobs, schedule
from crm.models import Job

from . import bulk, exports
from .models import BulkAction, LeadExport


@jobs.handler("leads.export")
def export_leads(job: Job) -> None:
    export = LeadExport.objects.filter(pk=job.arguments["export"]).first()
    if export is not None:
        exports.write_export(export=export, alive=lambda: jobs.beat(job))


@jobs.handler("leads.expire_exports")
def expire_exports(job: Job) -> None:
    exports.expire_exports()


schedule.every(timedelta(hours=1), "leads.expire_exports", name="Expire lead export files")


@jobs.handler("leads.bulk")
def bulk_action(job: Job) -> None:
    found = BulkAction.objects.filter(pk=job.arguments["bulk"]).first()
    if found is not None:
        bulk.run_bulk_action(bulk=found, alive=lambda: jobs.beat(job))
