"""Start what the schedule says is due and resend lost jobs, once (crm.schedule).
Workers tick every minute on their own; this is for cron, e.g.
`* * * * * cd /srv/leadline && .venv/bin/python manage.py tick` with workers
started with --no-schedule."""

from django.core.management.base import BaseCommand

from crm import schedule


class Command(BaseCommand):
    help = "Start the scheduled jobs that are due and resend lost jobs, once."

    def handle(self, *args, **options):
        started = schedule.tick()
        for job in started:
            self.stdout.write(f"Started: {job.label}")
