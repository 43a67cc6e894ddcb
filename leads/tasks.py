"""The leads app's jobs: large exports, and the hourly expiry of their files."""

from datetime import timedelta

from crm import jobs, schedule
from crm.models import Job

from . import exports
from .models import LeadExport


@jobs.handler("leads.export")
def export_leads(job: Job) -> None:
    export = LeadExport.objects.filter(pk=job.arguments["export"]).first()
    if export is not None:
        exports.write_export(export=export, alive=lambda: jobs.beat(job))


@jobs.handler("leads.expire_exports")
def expire_exports(job: Job) -> None:
    exports.expire_exports()


schedule.every(timedelta(hours=1), "leads.expire_exports", name="Expire lead export files")
