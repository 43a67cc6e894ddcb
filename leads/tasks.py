"""The leads app's jobs: large exports and the hourly expiry of their files, bulk actions."""

from datetime import timedelta

from crm import jobs, schedule
from crm.models import Job

from . import bulk, exports, scoring
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


@jobs.handler("leads.train_scoring")
def train_scoring(job: Job) -> None:
    """Train the scoring model; when it is published, score every open lead."""
    trained = scoring.train(user=job.created_by)
    if trained.is_published:
        jobs.start("leads.score_open_leads", label="Score every open lead", user=job.created_by)


@jobs.handler("leads.score_open_leads")
def score_open_leads(job: Job) -> None:
    scoring.score_leads(alive=lambda: jobs.beat(job))


@jobs.handler("leads.score_leads")
def score_leads(job: Job) -> None:
    scoring.score_leads(ids=job.arguments["leads"])


# Retrained daily from the closed leads of the window; every open lead is scored
# again after (its days open grow, and the model may have moved).
schedule.every(timedelta(days=1), "leads.train_scoring", name="Retrain lead scoring")
