"""What runs on a schedule, and the tick that starts it.

Every worker (`manage.py worker`) ticks once a minute; cron can do the same
instead (`manage.py tick`, README). Each entry runs once per period across
all workers: a tick claims the period's slot with a unique row (ScheduledRun)
and starts the entry's job; every other tick finds the slot taken. A tick
also sends again the jobs whose message was lost (crm.jobs.sweep).

Why not a scheduler library: the jobs run on whichever backend is configured
(the database, or Redis), and rq-scheduler or APScheduler would each cover
only one of them or need a process and a lock of their own; a unique row in
the database we already have is the lock.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import timedelta

from django.db import IntegrityError, transaction
from django.utils import timezone

from . import jobs
from .models import Job, ScheduledRun

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Entry:
    name: str
    every: timedelta
    kind: str  # the job it starts (a registered handler)


# Filled by each app's tasks.py (every(), at start-up, as the handlers are).
SCHEDULE: list[Entry] = []


def every(period: timedelta, kind: str, *, name: str) -> None:
    """Run the job `kind` once per `period` (periods start at the epoch, UTC)."""
    if all(entry.kind != kind for entry in SCHEDULE):
        SCHEDULE.append(Entry(name, period, kind))


def tick(*, now=None) -> list[Job]:
    """Start every entry whose period has begun since it last ran, and resend
    lost jobs. Returns the jobs started."""
    now = now or timezone.now()
    jobs.sweep(now=now)
    started = []
    for entry in SCHEDULE:
        slot = int(now.timestamp() // entry.every.total_seconds())
        try:
            with transaction.atomic():
                ScheduledRun.objects.create(name=entry.name, slot=slot, created_at=now)
                started.append(jobs.start(entry.kind, label=entry.name))
        except IntegrityError:
            continue  # another worker started it for this period
    return started
