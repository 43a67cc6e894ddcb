"""How long 100,000 rows take to import (target: under 60 s on SQLite).

Slow, so it runs only when asked:
    IMPORT_BENCH_ROWS=100000 pytest tests/imports/test_import_speed.py -s
"""

import os
import time

import pytest

from imports import services
from leads.models import Lead

ROWS = int(os.environ.get("IMPORT_BENCH_ROWS", "0"))

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(not ROWS, reason="set IMPORT_BENCH_ROWS to time an import"),
]


def test_import_speed(rep, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    settings.IMPORT_MAX_BYTES = 100 * 1024 * 1024
    settings.IMPORT_BATCH_SIZE = int(os.environ.get("IMPORT_BENCH_BATCH", "2000"))
    lines = ["Topic,First Name,Last Name,Company,Email,Phone,Lead Source,Rating"]
    lines += [
        f"Topic {i},First{i},Last{i},Company {i % 5000},person{i}@example.com,"
        f"+1 555 {i:07d},Web,Hot"
        for i in range(ROWS)
    ]
    raw = ("\n".join(lines) + "\n").encode()
    started = time.perf_counter()
    job = services.start_import(user=rep, name="bench.csv", raw=raw)
    job = services.set_mapping(
        job=job, user=rep, mapping=job.mapping, default_topic="", skip_duplicates=True
    )
    batches = 0
    while job.status != job.Status.DONE:
        job = services.import_next_batch(job=job, user=rep)
        batches += 1
    elapsed = time.perf_counter() - started
    print(f"\n{ROWS} rows in {batches} batches: {elapsed:.1f} s ({ROWS / elapsed:.0f} rows/s)")
    assert (job.imported, job.failed, job.skipped) == (ROWS, 0, 0)
    assert Lead.objects.count() == ROWS
