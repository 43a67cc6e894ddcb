"""Leadline export benchmark: the CSV export of a whole lead view, streamed.

    python benchmarks/export_csv.py --leads 1000000
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/leadline python benchmarks/export_csv.py ...

It requests /leads/export/ as a signed-in rep (All Leads by default, or the
view and filters given with --query) through Django's test client and reads
the streamed answer piece by piece, as a browser's download would. It prints
the rows and megabytes sent, the time, and this process's resident memory
before the request and every 100,000 rows: flat figures mean the export runs
in constant memory, whatever the number of leads. The rows are counted
against the view's own count.

It uses the bench database of benchmarks/run.py (built on first use), never
the development database.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(BASE_DIR))

from benchmarks.run import open_bench_database  # noqa: E402

EVERY = 100_000


def rss_mb() -> float:
    """This process's resident memory now (not its peak)."""
    with open("/proc/self/statm") as statm:
        pages = int(statm.read().split()[1])
    return pages * os.sysconf("SC_PAGE_SIZE") / 1_048_576


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--leads", type=int, default=100_000, help="Leads in the bench database.")
    parser.add_argument("--query", default="view=all", help="The list's query string.")
    parser.add_argument("--database-url", help="Bench database (default: as benchmarks/run.py).")
    args = parser.parse_args(argv)

    open_bench_database(args.leads, args.database_url)
    return run(args)


def run(args) -> int:
    from django.contrib.auth import get_user_model
    from django.db import connection
    from django.http import QueryDict
    from django.test import Client

    from leads.csv_export import filtered_leads
    from leads.models import Lead

    rep = get_user_model().objects.get(username="rep")
    client = Client()
    client.force_login(rep)
    client.get("/leads/")  # warm the session and the caches
    # The view and its filters (a search, applied while paging, is not counted here).
    expected = filtered_leads(user=rep, params=QueryDict(args.query))[0].count()

    before = rss_mb()
    print(f"Exporting ?{args.query} ({expected:,} of {Lead.objects.count():,} leads)")
    print(f"  memory before: {before:.0f} MB", flush=True)
    started = time.perf_counter()
    response = client.get(f"/leads/export/?{args.query}")
    if response.status_code != 200:
        print(f"  CHECK FAILED: the export answered {response.status_code}")
        return 1
    # The view streams one CSV record per piece (a record may hold line breaks).
    lines = size = 0
    highest = before
    next_report = EVERY
    for piece in response.streaming_content:
        size += len(piece)
        lines += 1
        if lines - 1 >= next_report:
            now = rss_mb()
            highest = max(highest, now)
            print(f"  {lines - 1:>9,} rows: {now:.0f} MB", flush=True)
            next_report += EVERY
    elapsed = time.perf_counter() - started
    rows = lines - 1  # the header line
    highest = max(highest, rss_mb())
    print(f"  {rows:,} rows, {size / 1_048_576:.0f} MB in {elapsed:.1f} s on {connection.vendor}")
    grew = highest - before
    print(f"  memory: {before:.0f} MB before, at most {highest:.0f} MB (+{grew:.0f} MB)")
    if rows != expected:
        print(f"  CHECK FAILED: {rows:,} rows sent, the view has {expected:,}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
