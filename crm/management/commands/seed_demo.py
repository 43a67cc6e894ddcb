"""Create demo users and a realistic CRM data set; `--leads N` scales the lead table.

Local demo data only: refused unless DEBUG is on (or --force is given in tests).
Running it again changes nothing that is already there.
"""

from __future__ import annotations

import random
from contextlib import contextmanager

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management.base import BaseCommand, CommandError
from django.db import connection, transaction
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
# Large batches: each commit writes every index page the batch touched.
BATCH_SIZE = 50_000


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
        start = Lead.objects.count()
        missing = target - start
        if missing <= 0:
            self.stdout.write(f"{target} leads or more already exist; none added.")
            return
        owners = [u.pk for u in users.values()]
        # Reps own most leads; the manager some; admin a few.
        owner_weights = [1, 3, 8, 8][: len(owners)]
        first_stage = process.first_lead_stage()
        now = timezone.now()
        to_db = demo_data.datetime_to_db(connection)
        bar = tqdm(total=missing, unit="lead", desc="Creating leads", file=self.stderr._out)
        with bar, _fast_bulk_writes(connection):
            done = 0
            while done < missing:
                size = min(BATCH_SIZE, missing - done)
                rows = demo_data.generated_lead_rows(
                    rng=rng,
                    start=start + done,
                    size=size,
                    owner_ids=owners,
                    owner_weights=owner_weights,
                    stage_id=first_stage.pk if first_stage else None,
                    now=now,
                    to_db=to_db,
                    done=done,
                    total=missing,
                )
                # One transaction per batch: an interrupted run keeps whole
                # batches, and the next run tops up from there.
                with transaction.atomic():
                    demo_data.bulk_insert_leads(rows, connection=connection)
                done += size
                bar.update(size)
        self.stdout.write("Updating the query planner's statistics…")
        _analyze(connection)
        self.stdout.write(self.style.SUCCESS(f"Added {missing} leads ({target} in all)."))


@contextmanager
def _fast_bulk_writes(connection):
    """On SQLite, trade crash safety for speed while the bulk insert runs.

    With synchronous=OFF a power cut could lose the last batches (demo data,
    rebuilt by running the command again), and a large page cache keeps the
    lead table's indexes in memory. Both return to the settings' values after.
    """
    if connection.vendor != "sqlite" or connection.in_atomic_block:
        # Inside a transaction (as in tests) SQLite refuses to change them.
        yield
        return
    with connection.cursor() as cursor:
        cursor.execute("PRAGMA synchronous")
        synchronous = cursor.fetchone()[0]
        cursor.execute("PRAGMA cache_size")
        cache_size = cursor.fetchone()[0]
        cursor.execute("PRAGMA synchronous = OFF")
        cursor.execute("PRAGMA cache_size = -262144")  # 256 MiB
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            cursor.execute(f"PRAGMA synchronous = {int(synchronous)}")
            cursor.execute(f"PRAGMA cache_size = {int(cache_size)}")


def _analyze(connection) -> None:
    """Refresh the planner's statistics: after a bulk load they describe an
    almost empty table, and the list views' index choices depend on them."""
    table = connection.ops.quote_name(Lead._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(f"ANALYZE {table}")
