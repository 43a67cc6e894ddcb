"""Leadline import benchmark: a CSV file of N rows imported into the bench database.

    python benchmarks/import_csv.py --rows 100000 --leads 1000000
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/leadline python benchmarks/import_csv.py ...

The file is shaped like another CRM's export (Salesforce's column names, quoted
fields, some rows repeating an existing lead's email or an earlier row's
phone, some with a bad email or an unknown rating). It is imported as the
import page does it: upload, mapping (auto-mapped, duplicates skipped), then
batch after batch through imports.services, each batch one transaction. The
figures printed: total time, rows per second, the slowest and median batch,
and the peak memory of this process. The counts are checked: every row is
imported, skipped or failed, and the leads table grew by the imported ones.
Afterwards the imported leads are deleted again (unless --keep), so the bench
database stays the size the other benchmarks expect.

It uses the bench database of benchmarks/run.py (built on first use), never
the development database.
"""

from __future__ import annotations

import argparse
import csv
import io
import random
import resource
import statistics
import sys
import time
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(BASE_DIR))

from benchmarks.run import open_bench_database  # noqa: E402

HEADER = [
    "First Name",
    "Last Name",
    "Company",
    "Title",
    "Email",
    "Phone",
    "Mobile",
    "Lead Source",
    "Rating",
    "Industry",
    "Description",
]
SOURCES = ["Web", "Phone Inquiry", "Partner Referral", "Trade Show", "Purchased List", ""]
RATINGS = ["Hot", "Warm", "Cold", ""]
INDUSTRIES = ["Technology", "Manufacturing", "Retail", "Finance", "Healthcare", ""]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=100_000, help="Rows in the file.")
    parser.add_argument("--leads", type=int, default=100_000, help="Leads in the bench database.")
    parser.add_argument("--batch", type=int, default=2_000, help="Rows per batch (request).")
    parser.add_argument("--database-url", help="Bench database (default: as benchmarks/run.py).")
    parser.add_argument("--keep", action="store_true", help="Keep the imported leads.")
    args = parser.parse_args(argv)

    open_bench_database(args.leads, args.database_url)
    from django.conf import settings

    settings.IMPORT_BATCH_SIZE = args.batch
    settings.IMPORT_MAX_BYTES = 200 * 1024 * 1024
    settings.MEDIA_ROOT = str(BASE_DIR / "benchmarks" / "media")
    return run(args)


def run(args) -> int:
    from django.contrib.auth import get_user_model
    from django.db import connection

    from imports import services
    from imports.models import ImportJob
    from leads.models import Lead

    rep = get_user_model().objects.get(username="rep")
    raw, expected_duplicates, before, last_pk = bench_file(args.rows)
    print(
        f"{args.rows:,} rows ({len(raw) / 1_048_576:.1f} MB) into {before:,} leads "
        f"on {connection.vendor}, batches of {args.batch:,}",
        flush=True,
    )

    started = time.perf_counter()
    job = start(rep, raw, name="salesforce-export.csv")
    prepared = time.perf_counter() - started
    batches = []
    while job.status != ImportJob.Status.DONE:
        began = time.perf_counter()
        job = services.import_next_batch(job=job, user=rep)
        batches.append(time.perf_counter() - began)
    elapsed = time.perf_counter() - started

    print(f"  upload and mapping: {prepared:.1f} s")
    print(
        f"  {len(batches)} batches: median {statistics.median(batches) * 1000:.0f} ms, "
        f"slowest {max(batches) * 1000:.0f} ms"
    )
    print(f"  total: {elapsed:.1f} s, {args.rows / elapsed:,.0f} rows/s (target: under 60 s)")
    print(f"  imported {job.imported:,}, skipped {job.skipped:,}, failed {job.failed:,}")
    print(f"  peak memory: {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB")

    grown = Lead.objects.count() - before
    problems = []
    if job.imported + job.skipped + job.failed != args.rows:
        problems.append("rows lost: imported + skipped + failed != rows")
    if grown != job.imported:
        problems.append(f"the leads table grew by {grown:,}, not {job.imported:,}")
    if job.skipped < expected_duplicates:
        problems.append(f"only {job.skipped:,} duplicates skipped of {expected_duplicates:,}")
    if not args.keep:
        cleanup(job, last_pk)
    for problem in problems:
        print(f"  CHECK FAILED: {problem}")
    return 1 if problems else 0


def bench_file(rows: int) -> tuple[bytes, int, int, int]:
    """The file to import and what the checks need: (the file, the duplicates it
    holds, the leads before, the last lead's id), repeating existing leads' emails."""
    from leads.models import Lead

    existing = list(
        Lead.objects.exclude(email="").order_by("-pk").values_list("email", flat=True)[:500]
    )
    raw, duplicates = export_file(rows, existing)
    last_pk = Lead.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
    return raw, duplicates, Lead.objects.count(), last_pk


def start(rep, raw: bytes, *, name: str, topic: str = "Imported"):
    """Upload and map the file as the import pages do (auto-mapped, duplicates
    skipped): the import is running, in a worker when one is there."""
    from imports import services

    job = services.start_import(user=rep, name=name, raw=raw)
    return services.set_mapping(
        job=job, user=rep, mapping=job.mapping, default_topic=topic, skip_duplicates=True
    )


def export_file(rows: int, existing_emails: list[str]) -> tuple[bytes, int]:
    """A Salesforce-shaped export; about 1% of its rows repeat an existing lead's
    email and 1% an earlier row's phone, 0.5% have a bad email or rating."""
    rng = random.Random(7)
    out = io.StringIO()
    writer = csv.writer(out, quoting=csv.QUOTE_ALL, lineterminator="\r\n")
    writer.writerow(HEADER)
    duplicates = 0
    clean = []  # rows that will be imported: a later row may repeat their phone
    for i in range(rows):
        email = f"import.{i}@customer{i % 997}.example"
        phone = f"+1 (646) {i // 10_000 % 1000:03d}-{i % 10_000:04d}"
        rating = rng.choice(RATINGS)
        roll = rng.random()
        if roll < 0.01 and existing_emails:
            email = rng.choice(existing_emails).upper()
            duplicates += 1
        elif roll < 0.02 and clean:
            j = rng.choice(clean)
            phone = f"1.646.{j // 10_000 % 1000:03d}.{j % 10_000:04d}"
            email = ""
            duplicates += 1
        elif roll < 0.0225:
            email = f"no-at-sign-{i}"
        elif roll < 0.025:
            rating = "Lukewarm"
        else:
            clean.append(i)
        writer.writerow(
            [
                f"Fírst{i % 311}",
                f"Lást{i}",
                f"Company {i % 5000}, Inc.",
                "VP Sales",
                email,
                phone,
                "",
                rng.choice(SOURCES),
                rating,
                rng.choice(INDUSTRIES),
                "Line one\nline two" if i % 50 == 0 else "",
            ]
        )
    return out.getvalue().encode("utf-8-sig"), duplicates


def cleanup(job, last_pk: int) -> None:
    """Remove what the import added: its leads, their history, the job."""
    from django.db import connection, transaction

    from leads.models import Lead

    history = Lead.history.model
    with transaction.atomic(), connection.cursor() as cursor:
        for model in (history, Lead):  # the history table's "id" is the lead's
            table = connection.ops.quote_name(model._meta.db_table)
            cursor.execute(f'DELETE FROM {table} WHERE "id" > %s', [last_pk])
        job.file.delete(save=False)
        job.delete()


if __name__ == "__main__":
    sys.exit(main())
