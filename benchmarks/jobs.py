"""Leadline background-jobs benchmark: what enqueueing a job adds to a request,
and an import run by worker processes while the list pages are read.

    python benchmarks/jobs.py --leads 1000000 --rows 1000000 --workers 2
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/leadline \\
        python benchmarks/jobs.py --leads 1000000 --rows 1000000 --workers 2 \\
        --redis redis://127.0.0.1:6379/14

1. Enqueueing: a transaction that starts a job (its Job row, then the message
   to the backend after the commit) against the same transaction without one,
   median of --enqueues runs each.
2. The list pages (My Open Leads, All Leads, Opportunities) read --repeat times
   while nothing else runs: their idle medians.
3. --workers worker processes (`manage.py worker`, on Redis with --redis) and an
   import of a Salesforce-shaped file of --rows rows (benchmarks/import_csv.py's),
   started as the mapping page starts it. While it runs the list pages are read
   again and again: their medians during the import, against twice the idle
   ones (the target). The import's total time, against 10 minutes.
4. Checks: every row counted (imported + skipped + failed), the leads table
   grown by the imported ones, the job finished once. The imported leads are
   removed again unless --keep.

It uses the bench database of benchmarks/run.py (built on first use).
"""

from __future__ import annotations

import argparse
import os
import signal
import statistics
import subprocess
import sys
import time
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(BASE_DIR))

from benchmarks.import_csv import bench_file, cleanup, start  # noqa: E402
from benchmarks.run import open_bench_database  # noqa: E402

PAGES = [
    ("My Open Leads", "/leads/", {"view": "my"}),
    ("All Leads", "/leads/", {"view": "all"}),
    ("Opportunities", "/opportunities/", {}),
]
IMPORT_TARGET_S = 600
ENQUEUE_TARGET_MS = 5.0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--leads", type=int, default=100_000, help="Leads in the bench database.")
    parser.add_argument("--rows", type=int, default=100_000, help="Rows in the imported file.")
    parser.add_argument("--workers", type=int, default=2, help="Worker processes.")
    parser.add_argument("--redis", default="", help="Run the jobs on Redis (TASKS_REDIS_URL).")
    parser.add_argument("--enqueues", type=int, default=200, help="Timed enqueues.")
    parser.add_argument("--repeat", type=int, default=20, help="Idle reads of each page.")
    parser.add_argument("--database-url", help="Bench database (default: as benchmarks/run.py).")
    parser.add_argument("--keep", action="store_true", help="Keep the imported leads.")
    args = parser.parse_args(argv)

    if args.redis:
        os.environ["TASKS_REDIS_URL"] = args.redis
    else:
        os.environ.pop("TASKS_REDIS_URL", None)
    os.environ["MEDIA_ROOT"] = str(BASE_DIR / "benchmarks" / "media")
    url = open_bench_database(args.leads, args.database_url)
    from django.conf import settings

    settings.MEDIA_ROOT = os.environ["MEDIA_ROOT"]
    return run(args, url)


def run(args, url: str) -> int:
    from django.db import connection

    backend = "Redis (RQ)" if args.redis else "the database"
    print(f"Jobs on {backend}, database {connection.vendor}, {args.workers} worker(s)", flush=True)
    enqueue = enqueue_cost(args.enqueues)
    print(
        f"  enqueue: {enqueue['with']:.2f} ms a transaction with a job, {enqueue['without']:.2f} "
        f"without: {enqueue['added']:.2f} ms added (target < {ENQUEUE_TARGET_MS} ms)",
        flush=True,
    )
    client = signed_in_client()
    idle = {name: median_ms(client, path, params, args.repeat) for name, path, params in PAGES}
    for name, ms in idle.items():
        print(f"  idle: {name} {ms:.1f} ms", flush=True)

    workers = [start_worker(url, args.redis, i) for i in range(args.workers)]
    try:
        result = import_while_reading(client, args)
    finally:
        for process in workers:
            os.killpg(process.pid, signal.SIGTERM)
        for process in workers:
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)

    problems = result["problems"]
    print(
        f"  import of {args.rows:,} rows: {result['seconds']:.0f} s, "
        f"{args.rows / result['seconds']:,.0f} rows/s (target < {IMPORT_TARGET_S} s)"
    )
    print(
        f"  imported {result['imported']:,}, skipped {result['skipped']:,}, "
        f"failed {result['failed']:,}"
    )
    for name, during in result["during"].items():
        if not during:
            continue
        ratio = statistics.median(during) / idle[name]
        print(
            f"  during: {name} median {statistics.median(during):.1f} ms over {len(during)} "
            f"reads, {ratio:.2f}x idle (target < 2x)"
        )
        if ratio >= 2:
            problems.append(f"{name} read {ratio:.2f}x slower during the import")
    if enqueue["added"] >= ENQUEUE_TARGET_MS:
        problems.append(f"enqueueing added {enqueue['added']:.2f} ms")
    if result["seconds"] >= IMPORT_TARGET_S:
        problems.append(f"the import took {result['seconds']:.0f} s")
    for problem in problems:
        print(f"  CHECK FAILED: {problem}")
    return 1 if problems else 0


def enqueue_cost(runs: int) -> dict[str, float]:
    """Median ms of a small transaction (one row written) with and without a job."""
    from django.contrib.auth import get_user_model
    from django.db import transaction

    from crm import jobs
    from crm.models import Job, Notification

    user = get_user_model().objects.get(username="rep")

    def write_one(with_job: bool) -> float:
        began = time.perf_counter()
        with transaction.atomic():
            Notification.objects.create(user=user, kind="assigned", text="bench")
            if with_job:
                jobs.start("crm.prune_job_records", label="bench enqueue")
        return (time.perf_counter() - began) * 1000

    for _ in range(10):  # warm-up
        write_one(True)
        write_one(False)
    times = {"with": [], "without": []}
    for _ in range(runs):
        times["with"].append(write_one(True))
        times["without"].append(write_one(False))
    Notification.objects.filter(text="bench").delete()
    started = Job.objects.filter(label="bench enqueue")
    for job in started:
        drop_message(job)
    started.delete()
    found = {k: statistics.median(v) for k, v in times.items()}
    found["added"] = found["with"] - found["without"]
    return found


def drop_message(job) -> None:
    """The benchmark's own jobs never run: take their messages back."""
    from crm.tasks import run_job

    backend = run_job.get_backend()
    if hasattr(backend, "_get_job"):  # RQ
        found = backend._get_job(job.task_id)
        if found is not None:
            found.delete()
    else:
        from django_tasks_db.models import DBTaskResult

        DBTaskResult.objects.filter(id=job.task_id).delete()


def signed_in_client():
    from django.contrib.auth import get_user_model
    from django.test import Client

    client = Client()
    client.force_login(get_user_model().objects.get(username="rep"))
    return client


def median_ms(client, path: str, params: dict, runs: int) -> float:
    for _ in range(3):
        assert client.get(path, params).status_code == 200
    return statistics.median(read_ms(client, path, params) for _ in range(runs))


def read_ms(client, path: str, params: dict) -> float:
    began = time.perf_counter()
    response = client.get(path, params)
    assert response.status_code == 200, response.status_code
    return (time.perf_counter() - began) * 1000


def start_worker(url: str, redis: str, number: int) -> subprocess.Popen:
    env = {**os.environ, "DATABASE_URL": url, "DJANGO_SETTINGS_MODULE": "benchmarks.settings"}
    if redis:
        env["TASKS_REDIS_URL"] = redis
    log = open(BASE_DIR / "benchmarks" / "media" / f"worker-{number}.log", "w")  # noqa: SIM115
    return subprocess.Popen(
        [sys.executable, "manage.py", "worker", "--no-reload", "--worker-id", f"bench-{number}"],
        cwd=BASE_DIR,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )


def import_while_reading(client, args) -> dict:
    from django.contrib.auth import get_user_model

    from imports.models import ImportJob
    from leads.models import Lead

    rep = get_user_model().objects.get(username="rep")
    raw, _, before, last_pk = bench_file(args.rows)
    print(f"  file: {args.rows:,} rows, {len(raw) / 1_048_576:.0f} MB", flush=True)

    started = time.perf_counter()
    job = start(rep, raw, name="bench-import.csv")
    during: dict[str, list[float]] = {name: [] for name, _, _ in PAGES}
    last_report = started
    while True:
        job.refresh_from_db()
        if job.has_ended:
            break
        for name, path, params in PAGES:
            during[name].append(read_ms(client, path, params))
        if time.perf_counter() - last_report > 30:
            last_report = time.perf_counter()
            print(
                f"    {job.rows_done:,} of {job.total_rows:,} rows after "
                f"{last_report - started:.0f} s",
                flush=True,
            )
        time.sleep(0.2)
    seconds = time.perf_counter() - started

    problems = []
    if job.status != ImportJob.Status.DONE:
        problems.append(f"the import ended {job.status}: {job.error}")
    if job.imported + job.skipped + job.failed != args.rows:
        problems.append("rows lost: imported + skipped + failed != rows")
    grown = Lead.objects.count() - before
    if grown != job.imported:
        problems.append(f"the leads table grew by {grown:,}, not {job.imported:,}")
    if job.job is not None and job.job.attempts != 1:
        problems.append(f"the job ran {job.job.attempts} times")
    result = {
        "seconds": seconds,
        "imported": job.imported,
        "skipped": job.skipped,
        "failed": job.failed,
        "during": during,
        "problems": problems,
    }
    if not args.keep:
        cleanup(job, last_pk)
    return result


if __name__ == "__main__":
    sys.exit(main())
