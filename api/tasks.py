"""The API's scheduled job: forgetting old idempotency keys."""

from datetime import timedelta

from crm import jobs, schedule
from crm.models import Job

from . import idempotency, webhooks


@jobs.handler("api.prune_idempotency_keys")
def prune_idempotency_keys(job: Job) -> None:
    idempotency.prune()


schedule.every(timedelta(hours=1), "api.prune_idempotency_keys", name="Forget old idempotency keys")


@jobs.handler("api.deliver_webhook")
def deliver_webhook(job: Job) -> None:
    webhooks.deliver(job.arguments["delivery"])
