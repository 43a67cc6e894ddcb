"""Run a background worker: the configured task backend's worker (the database
backend's `db_worker`, or RQ's `rqworker` when TASKS_REDIS_URL is set), with the
schedule's tick (crm.schedule) once a minute in a thread beside it. Run as
many as you like, on as many machines: they share the queue and the schedule.
Ctrl-C (SIGINT) or SIGTERM lets the running job finish, then stops."""

from __future__ import annotations

import argparse
import logging
import os
import threading

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand
from django.db import connection
from django.utils.autoreload import DJANGO_AUTORELOAD_ENV

from crm import schedule

logger = logging.getLogger("crm.worker")


def _ticking(stop: threading.Event) -> None:
    while not stop.is_set():
        try:
            schedule.tick()
        except Exception:  # a busy database, Redis away: try again next minute
            logger.exception("The schedule's tick failed")
        finally:
            connection.close()  # this thread's own connection
        stop.wait(settings.JOBS_TICK_SECONDS)


class Command(BaseCommand):
    help = "Run a background worker (and the schedule's tick each minute)."

    def add_arguments(self, parser):
        parser.add_argument(
            "--burst", action="store_true", help="Run what is queued, then exit (no tick)."
        )
        parser.add_argument(
            "--no-schedule", action="store_true", help="Do not tick (cron runs `manage.py tick`)."
        )
        parser.add_argument(
            "--reload",
            action=argparse.BooleanOptionalAction,
            default=settings.DEBUG,
            help="Restart on code changes (default: DEBUG; database backend only).",
        )
        parser.add_argument("--worker-id", default="", help="Unique across all workers.")

    def handle(self, *args, burst: bool, no_schedule: bool, reload: bool, worker_id: str, **o):
        redis = bool(getattr(settings, "TASKS_REDIS_URL", ""))
        reload = reload and not burst and not redis
        # With the reloader, the parent only watches files: the child ticks.
        if not (burst or no_schedule) and (not reload or os.environ.get(DJANGO_AUTORELOAD_ENV)):
            threading.Thread(target=_ticking, args=(threading.Event(),), daemon=True).start()
        verbosity = o.get("verbosity", 1)
        if redis:
            options = {"job_class": "django_tasks_rq.backend.Job", "burst": burst}
            if worker_id:
                options["name"] = worker_id
            call_command("rqworker", "default", with_scheduler=True, verbosity=verbosity, **options)
        else:
            options = {"queue_name": "default", "batch": burst, "reload": reload}
            if worker_id:
                options["worker_id"] = worker_id
            call_command("db_worker", verbosity=verbosity, **options)
