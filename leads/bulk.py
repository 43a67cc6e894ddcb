"""Bulk qualify and disqualify of every open lead of a list, in a worker.

A page's selection is qualified in the request (leads.views); "every open lead
of this list" can be thousands, so it becomes a BulkAction run by a job. The
job takes the list's leads (as its owner sees them, up to the newest the list
had at the start) in id order, a chunk at a time; each chunk's changes, its
outcomes and the action's position commit together, so a run stopped at any
point (a killed worker) neither loses nor repeats a lead, and a new run goes
on from the next chunk.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.contrib.auth.base_user import AbstractBaseUser
from django.db import transaction
from django.db.models import Max, Model, QuerySet
from django.http import QueryDict
from django.utils import timezone

from crm import events, jobs
from crm.models import Currency, Notification

from . import csv_export, services
from .exceptions import DuplicatesFound, error_message
from .models import BulkAction, BulkOutcome, Lead

# Leads changed per transaction of the job.
CHUNK = 100


def open_leads_of(user: AbstractBaseUser, query: str) -> QuerySet[Lead]:
    """The open leads of the list `query` shows, as `user` sees it."""
    leads, *_ = csv_export.filtered_leads(user=user, params=QueryDict(query))
    return leads.filter(state=Lead.State.OPEN).order_by()


@transaction.atomic
def start_bulk_action(
    *, user: AbstractBaseUser, action: str, query: str, options: dict[str, Any]
) -> BulkAction:
    """Queue `action` (qualify with the dialog's `options`, or disqualify with
    options["reason"]) on every open lead of the list `query` shows. A reason
    that is not one refuses it at once (InvalidReason), as for a selection."""
    if action == BulkAction.Action.DISQUALIFY:
        services.disqualify_leads(leads=[], user=user, reason=options.get("reason", ""))
    leads = open_leads_of(user, query)
    found = leads.aggregate(total=Max("pk"))
    bulk = BulkAction.objects.create(
        owner=user,
        action=action,
        query=query,
        options={k: v.pk if isinstance(v, Model) else v for k, v in options.items()},
        total=leads.count(),
        up_to=found["total"] or 0,
    )
    jobs.start("leads.bulk", label=str(bulk), user=user, bulk=bulk.pk)
    return bulk


def run_bulk_action(*, bulk: BulkAction, alive: Callable[[], None] = lambda: None) -> BulkAction:
    """Act on the remaining leads of a bulk action, chunk by chunk (the job
    "leads.bulk"), then tell its owner how it went."""
    bulk = BulkAction.objects.select_related("owner").get(pk=bulk.pk)
    options = _options(bulk)
    while bulk.status == BulkAction.Status.RUNNING:
        alive()
        chunk = list(
            open_leads_of(bulk.owner, bulk.query)
            .filter(pk__gt=bulk.position, pk__lte=bulk.up_to)
            .select_related("owner")
            .order_by("pk")[:CHUNK]
        )
        bulk = _act_on(bulk, chunk, options)
    return bulk


@transaction.atomic
def _act_on(bulk: BulkAction, chunk: list[Lead], options: dict[str, Any]) -> BulkAction:
    locked = BulkAction.objects.select_for_update().select_related("owner").get(pk=bulk.pk)
    if locked.status != BulkAction.Status.RUNNING or locked.position != bulk.position:
        return locked  # another run moved on meanwhile: read again from there
    if not chunk:
        locked.status = BulkAction.Status.DONE
        locked.finished_at = timezone.now()
        locked.save()
        _announce(locked)
        return locked
    if locked.action == BulkAction.Action.QUALIFY:
        results = services.qualify_leads(leads=chunk, user=locked.owner, **options)
    else:
        results = services.disqualify_leads(leads=chunk, user=locked.owner, **options)
    BulkOutcome.objects.bulk_create(
        BulkOutcome(
            bulk=locked,
            lead=result.lead,
            lead_name=str(result.lead)[:300],
            ok=result.ok,
            message="" if result.ok else _why(result.error),
        )
        for result in results
    )
    locked.done += len(results)
    locked.succeeded += sum(result.ok for result in results)
    locked.position = chunk[-1].pk
    locked.save()
    return locked


def _options(bulk: BulkAction) -> dict[str, Any]:
    options = dict(bulk.options)
    if "currency" in options:
        options["currency"] = Currency.objects.filter(pk=options["currency"]).first()
        if options["currency"] is None:
            del options["currency"]  # gone since: each lead's own, else the default
    return options


def _why(error: Exception) -> str:
    text = error_message(error)
    if isinstance(error, DuplicatesFound):
        text += " Open the lead to qualify it and choose what to link."
    return text


def _announce(bulk: BulkAction) -> None:
    done = "qualified" if bulk.action == BulkAction.Action.QUALIFY else "disqualified"
    text = f"Your bulk action finished: {bulk.succeeded:,} of {bulk.done:,} leads {done}."
    if bulk.refused:
        text = text[:-1] + f"; {bulk.refused:,} could not be (see why)."
    events.notify(bulk.owner, Notification.Kind.BULK_DONE, text, bulk.get_absolute_url())
