"""Create the demo users and a realistic CRM data set (demo/data.py).

Local demo data only: refused unless DEBUG is on (or --force is given in tests).
Running it again changes nothing that is already there.
"""

from __future__ import annotations

import random

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from demo import data


class Command(BaseCommand):
    help = "Create demo users (admin, manager, rep, rep2; password = user name) and demo data."

    def add_arguments(self, parser):
        parser.add_argument("--seed", type=int, default=20261122, help="Random seed.")
        parser.add_argument(
            "--force", action="store_true", help="Run even with DEBUG off (tests only)."
        )

    def handle(self, *args, seed: int, force: bool, **options):
        if not settings.DEBUG and not force:
            raise CommandError(
                "seed_demo creates demo users with known passwords; it runs only with DEBUG on."
            )
        rng = random.Random(seed)
        with transaction.atomic():
            users = data.demo_users()
            if data.is_seeded():
                self.stdout.write("Demo data already present; leaving it as it is.")
                return
            data.seed(users=users, rng=rng)
        self.stdout.write(
            self.style.SUCCESS("Demo accounts, contacts, leads and opportunities created.")
        )
