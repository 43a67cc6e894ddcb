"""Print the query plans of the lead list pages, as the database runs them.

    python benchmarks/explain.py --leads 1000000
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/leadline \
        python benchmarks/explain.py --leads 1000000

Uses the bench database of benchmarks/run.py (which must exist: run the bench
first). Each page is requested through Django's test Client; every query it
sends to the lead table is shown with its plan: EXPLAIN QUERY PLAN on SQLite,
EXPLAIN ANALYZE on PostgreSQL. docs/PERFORMANCE.md quotes this output.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(BASE_DIR))

from benchmarks.run import SEARCH_TEXT, bench_database_url, refuse_dev_database  # noqa: E402

PAGES = [
    ("My Open Leads", {}),
    ("My Open Leads sorted by rating, descending", {"sort": "-rating"}),
    (
        "Closed Leads, source=Web, rating=Hot",
        {"view": "closed", "lead_source": "web", "rating": "hot"},
    ),
    (f"Text search '{SEARCH_TEXT}' (All Leads)", {"view": "all", "q": SEARCH_TEXT}),
    ("Text search for one email", {"view": "all", "q": "nancy.davolio@northwindtraders.example"}),
    ("All Leads sorted by company", {"view": "all", "sort": "company"}),
    ("All Leads sorted by owner, descending", {"view": "all", "sort": "-owner"}),
]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--leads", type=int, default=100_000)
    parser.add_argument("--database-url")
    args = parser.parse_args()
    url = args.database_url or bench_database_url(os.environ.get("DATABASE_URL", ""), args.leads)
    refuse_dev_database(url)
    os.environ.update({"DATABASE_URL": url, "DJANGO_SETTINGS_MODULE": "benchmarks.settings"})
    import django

    django.setup()
    from django.contrib.auth import get_user_model
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    client = Client()
    client.force_login(get_user_model().objects.get(username="rep"))
    for title, params in PAGES:
        with CaptureQueriesContext(connection) as captured:
            assert client.get("/leads/", params).status_code == 200
        print(f"\n### {title}  (/leads/?{'&'.join(f'{k}={v}' for k, v in params.items())})")
        for query in captured:
            sql = query["sql"]
            if '"leads_lead"' not in sql:
                continue
            print(f"\n    {sql}\n")
            with connection.cursor() as cursor:
                if connection.vendor == "sqlite":
                    cursor.execute(f"EXPLAIN QUERY PLAN {sql}")
                    for row in cursor.fetchall():
                        print(f"    {row[-1]}")
                else:
                    cursor.execute(f"EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF) {sql}")
                    for (line,) in cursor.fetchall():
                        print(f"    {line}")


if __name__ == "__main__":
    main()
