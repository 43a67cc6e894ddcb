"""Create demo users and a realistic CRM data set; `--leads N` scales the lead table.

Local demo data only: refused unless DEBUG is on (or --force is given in tests).
Running it again changes nothing that is already there.
"""

from __future__ import annotations

import random
from datetime import timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils import timezone
from tqdm import tqdm

from crm import demo_data, process
from leads.models import Lead

DEMO_USERS = [
    # username, first, last, role, superuser
    ("admin", "Ada", "Admin", None, True),
    ("manager", "Morgan", "Reyes", "Sales Manager", False),
    ("rep", "Riley", "Chen", "Sales Rep", False),
    ("rep2", "Sam", "Okafor", "Sales Rep", False),
]
BATCH_SIZE = 5000


class Command(BaseCommand):
    help = "Create demo users (admin, manager, rep, rep2; password = user name) and demo data."

    def add_arguments(self, parser):
        parser.add_argument(
            "--leads",
            type=int,
            default=0,
            help="Make sure at least this many leads exist, adding generated ones in bulk.",
        )
        parser.add_argument("--seed", type=int, default=20261122, help="Random seed.")
        parser.add_argument(
            "--force", action="store_true", help="Run even with DEBUG off (tests only)."
        )

    def handle(self, *args, leads: int, seed: int, force: bool, **options):
        if not settings.DEBUG and not force:
            raise CommandError(
                "seed_demo creates demo users with known passwords; it runs only with DEBUG on."
            )
        if leads < 0:
            raise CommandError("--leads must be zero or more.")
        rng = random.Random(seed)
        users = self._users()
        if demo_data.is_seeded():
            self.stdout.write("Demo data already present; leaving it as it is.")
        else:
            with transaction.atomic():
                demo_data.seed(users=users, rng=rng)
            self.stdout.write(
                self.style.SUCCESS("Demo accounts, contacts, leads and opportunities created.")
            )
        if leads:
            self._bulk_leads(leads, users, rng)

    def _users(self) -> dict:
        User = get_user_model()
        users = {}
        for username, first, last, role, superuser in DEMO_USERS:
            user = User.objects.filter(username=username).first()
            if user is None:
                user = User(
                    username=username,
                    first_name=first,
                    last_name=last,
                    email=f"{username}@leadline.example",
                    is_staff=superuser,
                    is_superuser=superuser,
                )
                user.set_password(username)
                user.save()
                if role:
                    user.groups.add(Group.objects.get(name=role))
            users[username] = user
        return users

    def _bulk_leads(self, target: int, users: dict, rng: random.Random) -> None:
        missing = target - Lead.objects.count()
        if missing <= 0:
            self.stdout.write(f"{target} leads or more already exist; none added.")
            return
        owners = [u.pk for u in users.values()]
        # Reps own most leads; the manager some; admin a few.
        owner_weights = [1, 3, 8, 8][: len(owners)]
        stage_id = process.first_lead_stage().pk if process.first_lead_stage() else None
        now = timezone.now()
        start = Lead.objects.count()
        with tqdm(total=missing, unit="lead", desc="Creating leads", file=self.stderr._out) as bar:
            done = 0
            while done < missing:
                size = min(BATCH_SIZE, missing - done)
                batch = [
                    demo_data.generated_lead(
                        rng=rng,
                        n=start + done + i,
                        owner_id=rng.choices(owners, owner_weights)[0],
                        stage_id=stage_id,
                        created_at=now - timedelta(minutes=rng.randint(0, 60 * 24 * 730)),
                    )
                    for i in range(size)
                ]
                Lead.objects.bulk_create(batch, batch_size=size)
                done += size
                bar.update(size)
        self.stdout.write(self.style.SUCCESS(f"Added {missing} leads ({target} in all)."))
