"""Generated leads and opportunities for the benchmarks: a million leads in about
two minutes.

    python benchmarks/generate.py --leads 1000000 --opportunities 100000

Tops the lead table up to --leads with generated leads owned by the demo users
(run `manage.py seed_demo` first, as benchmarks/run.py does). The rows go in
by one bulk statement per batch, bypassing the ORM and the audit history, with
the derived columns Lead.set_derived_fields() would write; the names and
words are the demo data's own.
"""

from __future__ import annotations

import argparse
import itertools
import os
import random
import sys
from collections.abc import Callable
from contextlib import contextmanager
from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
if str(BASE_DIR) not in sys.path:
    sys.path.insert(0, str(BASE_DIR))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "crm.settings.local")

import django  # noqa: E402

django.setup()

from django.db import connection, transaction  # noqa: E402
from django.utils import timezone  # noqa: E402
from tqdm import tqdm  # noqa: E402

from accounts.models import Account  # noqa: E402
from crm import process  # noqa: E402
from crm.choices import Industry  # noqa: E402
from crm.models import Currency  # noqa: E402
from crm.text import email_key, phone_key  # noqa: E402
from demo.data import (  # noqa: E402
    COMPANY_SUFFIXES,
    COMPANY_WORDS,
    FIRST_NAMES,
    JOB_TITLES,
    LAST_NAMES,
    TOPICS,
    ascii_name,
    demo_users,
)
from leads.models import Lead, LeadSource, Rating  # noqa: E402
from opportunities import stage_totals  # noqa: E402
from opportunities.models import Opportunity  # noqa: E402

# Large batches: each commit writes every index page the batch touched.
BATCH_SIZE = 50_000


# The bulk scale-up's mix of lead sources: the web and events bring most leads.
SOURCE_WEIGHTS = {
    LeadSource.WEB: 24,
    LeadSource.TRADE_SHOW: 11,
    LeadSource.ADVERTISEMENT: 10,
    LeadSource.PARTNER: 10,
    LeadSource.EXTERNAL_REFERRAL: 8,
    LeadSource.WORD_OF_MOUTH: 8,
    LeadSource.SEMINAR: 7,
    LeadSource.EMPLOYEE_REFERRAL: 5,
    LeadSource.PUBLIC_RELATIONS: 4,
    LeadSource.OTHER: 3,
}
RATING_WEIGHTS = {Rating.HOT: 2, Rating.WARM: 5, Rating.COLD: 3}
# (state, status reason, weight): a bit over half open, the rest closed either way.
STATE_WEIGHTS = (
    (Lead.State.OPEN, Lead.StatusReason.NEW, 35),
    (Lead.State.OPEN, Lead.StatusReason.CONTACTED, 20),
    (Lead.State.QUALIFIED, Lead.StatusReason.QUALIFIED, 20),
    *((Lead.State.DISQUALIFIED, reason, 25 / 4) for reason in Lead.DISQUALIFY_REASONS),
)
BULK_LEAD_FIELDS = (
    "topic",
    "first_name",
    "last_name",
    "company_name",
    "job_title",
    "email",
    "email_key",
    "business_phone",
    "business_phone_key",
    "lead_source",
    "rating",
    "industry",
    "budget_amount",
    "owner_id",
    "stage_id",
    "state",
    "status_reason",
    "created_at",
    "modified_at",
    "qualified_at",
    "disqualified_at",
    "days_to_qualify",
)
HISTORY_SECONDS = 730 * 86400  # two years of leads


def generated_lead_rows(
    *,
    rng: random.Random,
    start: int,
    size: int,
    owner_ids: list[int],
    owner_weights: list[int],
    stage_id: int | None,
    now: datetime,
    to_db: Callable[[datetime | None], object],
    done: int = 0,
    total: int | None = None,
) -> list[tuple]:
    """`size` leads for the bulk scale-up as rows of BULK_LEAD_FIELDS values.

    Rows rather than Lead instances: a million model instances take minutes to
    build. Each column is drawn for the whole batch at once, which is what makes
    this fast; `to_db` turns an aware datetime into the database's value.
    Numbering from `start` keeps every email address unique across runs.

    The rows are leads `done` to `done + size` of `total`, spread over two years
    in the order they were created, more of them recently, as a growing
    business sees. Ids then rise with creation dates, as in real use, which
    also makes the created-date indexes grow at their end: a faster insert.
    """
    total = total or size
    firsts = rng.choices(_FIRST_NAMES_ASCII, k=size)
    lasts = rng.choices(_LAST_NAMES_ASCII, k=size)
    companies = zip(
        rng.choices(COMPANY_WORDS, k=size),
        rng.choices(COMPANY_WORDS, k=size),
        rng.choices(COMPANY_SUFFIXES, k=size),
        strict=True,
    )
    states = rng.choices(_STATES, cum_weights=_STATE_CUM_WEIGHTS, k=size)
    rows = []
    for i, (first, last, words, topic, title, source, rating, industry, owner, state) in enumerate(
        zip(
            firsts,
            lasts,
            companies,
            rng.choices(_BULK_TOPICS, k=size),
            rng.choices(JOB_TITLES, k=size),
            rng.choices(_SOURCES, cum_weights=_SOURCE_CUM_WEIGHTS, k=size),
            rng.choices(_RATINGS, cum_weights=_RATING_CUM_WEIGHTS, k=size),
            rng.choices(Industry.values, k=size),
            rng.choices(owner_ids, weights=owner_weights, k=size),
            states,
            strict=True,
        )
    ):
        n = start + i
        age = (1 - (done + i + rng.random()) / total) ** 1.5
        created = now - timedelta(seconds=int(HISTORY_SECONDS * age))
        closed = created + timedelta(days=rng.randint(1, 60)) if state[0] != "open" else None
        created_db = to_db(created)
        closed_db = to_db(closed)
        email = f"{first[1]}.{last[1]}{n}@example.com"
        phone = f"+1 555 {n % 10_000_000:07d}"
        rows.append(
            (
                topic,
                first[0],
                last[0],
                f"{words[0]} {words[1]} {words[2]}",
                title,
                email,
                email_key(email),  # the keys and days Lead.set_derived_fields() derives
                phone,
                phone_key(phone),
                source,
                rating,
                industry,
                rng.randrange(1_000, 500_000, 100),
                owner,
                stage_id,
                state[0],
                state[1],
                created_db,
                closed_db or created_db,
                closed_db if state[0] == "qualified" else None,
                closed_db if state[0] == "disqualified" else None,
                Lead.days_between(created, closed) if state[0] == "qualified" else None,
            )
        )
    return rows


# Precomputed once: per-row work is what a million rows multiply.
_FIRST_NAMES_ASCII = [(name, ascii_name(name)) for name in FIRST_NAMES]
_LAST_NAMES_ASCII = [(name, ascii_name(name)) for name in LAST_NAMES]
_BULK_TOPICS = [topic.format(n=n) for topic in TOPICS for n in (5, 10, 25, 50, 100)]
_SOURCES = [str(s) for s in SOURCE_WEIGHTS]
_SOURCE_CUM_WEIGHTS = list(itertools.accumulate(SOURCE_WEIGHTS.values()))
_RATINGS = [str(r) for r in RATING_WEIGHTS]
_RATING_CUM_WEIGHTS = list(itertools.accumulate(RATING_WEIGHTS.values()))
_STATES = [(str(state), str(reason)) for state, reason, _ in STATE_WEIGHTS]
_STATE_CUM_WEIGHTS = list(itertools.accumulate(w for _, _, w in STATE_WEIGHTS))


def bulk_insert_leads(rows: list[tuple], *, connection) -> None:
    """Insert generated lead rows (BULK_LEAD_FIELDS) in one statement per batch."""
    bulk_insert(Lead, BULK_LEAD_FIELDS, rows, connection=connection)


def bulk_insert(model, names: tuple[str, ...], rows: list[tuple], *, connection) -> None:
    """Insert generated rows of `model` (values of the fields `names`, by
    attname) in one statement per batch, bypassing the ORM.

    SQLite gets one prepared INSERT run by executemany; PostgreSQL gets COPY,
    several times faster than INSERT there. Columns the rows do not carry are
    filled with their model defaults, so a new field with a default needs no
    change here. The caller owns the transaction.
    """
    fields = [model._meta.get_field(name) for name in names]
    rest = [f for f in model._meta.concrete_fields if f.attname not in names and not f.primary_key]
    defaults = tuple(f.get_db_prep_save(f.get_default(), connection) for f in rest)
    columns = ", ".join(connection.ops.quote_name(f.column) for f in (*fields, *rest))
    table = connection.ops.quote_name(model._meta.db_table)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            with cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row + defaults)
        else:
            placeholders = ", ".join(["%s"] * (len(fields) + len(rest)))
            cursor.executemany(
                f"INSERT INTO {table} ({columns}) VALUES ({placeholders})",
                [row + defaults for row in rows],
            )


def datetime_to_db(connection) -> Callable[[datetime | None], object]:
    """How bulk rows carry a datetime: psycopg adapts aware datetimes itself;
    SQLite stores the text Django's backend would write."""
    if connection.vendor == "postgresql":
        return lambda value: value
    adapt = connection.ops.adapt_datetimefield_value
    return lambda value: None if value is None else adapt(value)


def add_generated_leads(target: int, *, seed: int = 20261122, progress=None) -> int:
    """Add generated leads until there are `target`; returns how many were added."""
    if target < 0:
        raise ValueError("--leads must be zero or more.")
    start = Lead.objects.count()
    missing = target - start
    if missing <= 0:
        return 0
    rng = random.Random(seed + start)
    owners = [u.pk for u in demo_users().values()]
    # Reps own most leads; the manager some; admin a few.
    owner_weights = [1, 3, 8, 8][: len(owners)]
    first_stage = process.first_lead_stage()
    now = timezone.now()
    to_db = datetime_to_db(connection)
    with _fast_bulk_writes(connection):
        done = 0
        while done < missing:
            size = min(BATCH_SIZE, missing - done)
            rows = generated_lead_rows(
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
                bulk_insert_leads(rows, connection=connection)
            done += size
            if progress is not None:
                progress(size)
    _analyze(connection)
    return missing


# The opportunity board's columns fill unevenly: most deals are early on.
STAGE_WEIGHTS = (5, 3, 2)
BULK_OPPORTUNITY_FIELDS = (
    "name",
    "account_id",
    "currency_id",
    "owner_id",
    "stage_id",
    "state",
    "status_reason",
    "budget_amount",
    "estimated_revenue",
    "estimated_close_date",
    "created_at",
    "modified_at",
)


def add_generated_opportunities(target: int, *, seed: int = 20261122, progress=None) -> int:
    """Add generated open opportunities of the demo accounts, at the default
    flow's opportunity stages and in the active currencies, until there are
    `target` open ones; returns how many were added."""
    if target < 0:
        raise ValueError("--opportunities must be zero or more.")
    start = Opportunity.objects.filter(state=Opportunity.State.OPEN).count()
    missing = target - start
    if missing <= 0:
        return 0
    rng = random.Random(seed + start + 1)
    owners = [u.pk for u in demo_users().values()]
    owner_weights = [1, 3, 8, 8][: len(owners)]
    accounts = list(Account.objects.values_list("pk", flat=True))
    currencies = list(Currency.objects.filter(is_active=True).order_by("code"))
    # Mostly the base currency, some others.
    currency_weights = [12 if c.exchange_rate == 1 else 1 for c in currencies]
    stages = [s.pk for s in process.opportunity_stages()]
    stage_weights = list(STAGE_WEIGHTS[: len(stages)]) + [1] * (len(stages) - len(STAGE_WEIGHTS))
    now = timezone.now()
    today = timezone.localdate()
    to_db = datetime_to_db(connection)
    with _fast_bulk_writes(connection):
        done = 0
        while done < missing:
            size = min(BATCH_SIZE, missing - done)
            rows = []
            for i in range(size):
                currency = rng.choices(currencies, currency_weights)[0]
                amount = Decimal(rng.randrange(1_000, 250_000, 50)) * currency.exchange_rate
                amount = amount.quantize(Decimal(1).scaleb(-currency.decimal_places))
                created = now - timedelta(days=rng.randint(0, 720), minutes=i % 1440)
                rows.append(
                    (
                        f"{rng.choice(TOPICS)} #{start + done + i + 1}",
                        rng.choice(accounts),
                        currency.pk,
                        rng.choices(owners, owner_weights)[0],
                        rng.choices(stages, stage_weights)[0],
                        str(Opportunity.State.OPEN),
                        str(Opportunity.StatusReason.IN_PROGRESS),
                        amount,
                        amount,
                        today + timedelta(days=rng.randint(-30, 365)),
                        to_db(created),
                        to_db(created),
                    )
                )
            with transaction.atomic():
                bulk_insert(Opportunity, BULK_OPPORTUNITY_FIELDS, rows, connection=connection)
            done += size
            if progress is not None:
                progress(size)
    # The triggers wrote a board-total change per opportunity: fold them now,
    # not on the first board request.
    stage_totals.fold()
    with connection.cursor() as cursor:
        cursor.execute(f"ANALYZE {connection.ops.quote_name(Opportunity._meta.db_table)}")
    return missing


@contextmanager
def _fast_bulk_writes(connection):
    """On SQLite, trade crash safety for speed while the bulk insert runs.

    With synchronous=OFF a power cut could lose the last batches (bench data,
    rebuilt by running this again), and a large page cache keeps the lead
    table's indexes in memory. Both return to the settings' values after.
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


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--leads", type=int, required=True, help="Leads there should be.")
    parser.add_argument(
        "--opportunities", type=int, default=0, help="Open opportunities there should be."
    )
    parser.add_argument("--seed", type=int, default=20261122, help="Random seed.")
    args = parser.parse_args(argv)
    if args.leads < 0 or args.opportunities < 0:
        parser.error("--leads and --opportunities must be zero or more.")
    missing = max(0, args.leads - Lead.objects.count())
    if not missing:
        print(f"{args.leads} leads or more already exist; none added.")
    else:
        with tqdm(total=missing, unit="lead", desc="Creating leads", file=sys.stderr) as bar:
            added = add_generated_leads(args.leads, seed=args.seed, progress=bar.update)
        print(f"Added {added} leads ({args.leads} in all).")
    open_now = Opportunity.objects.filter(state=Opportunity.State.OPEN).count()
    missing = max(0, args.opportunities - open_now)
    if missing:
        with tqdm(total=missing, unit="opp", desc="Creating opportunities", file=sys.stderr) as bar:
            added = add_generated_opportunities(
                args.opportunities, seed=args.seed, progress=bar.update
            )
        print(f"Added {added} open opportunities ({args.opportunities} in all).")
    return 0


if __name__ == "__main__":
    sys.exit(main())
