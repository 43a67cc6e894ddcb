"""`make load LOAD_ARGS="--jobs"`: the load run with background workers on Redis
and an import running.

gunicorn and --job-workers workers (`manage.py worker`, on Redis) on loopback
against the load database. Locust runs twice for --duration: first with
nothing else running (the idle figures), then while a worker imports a file of
--import-rows rows. Afterwards: every row of the import counted and its leads
neither lost nor doubled, the usual checks of what the load clients were told,
and the list pages' median during the import against twice the idle one.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from benchmarks.load import report

LIST_PAGES = ("GET /leads/ (My Open Leads)", "GET /leads/?view=all")
IMPORT_TIMEOUT_S = 1800


def run(args, *, env: dict, host: str, tag: str, target: Path, prepare, start_gunicorn,
        wait_until_answering, run_locust, stop, database_record) -> int:  # fmt: skip
    media = Path(tempfile.mkdtemp(prefix="leadline-load-media-"))
    env = {**env, "TASKS_REDIS_URL": args.redis, "MEDIA_ROOT": str(media)}
    os.environ.update(env)
    from django.conf import settings

    settings.MEDIA_ROOT = str(media)
    logs = {name: target.with_suffix(f".{name}.log") for name in ("gunicorn", "locust", "import")}
    phases = {}
    server = start_gunicorn(port=int(host.rsplit(":", 1)[1]), workers=args.workers, env=env,
                            log=logs["gunicorn"])  # fmt: skip
    workers = [start_worker(env, i, target) for i in range(args.job_workers)]
    imported = None
    try:
        wait_until_answering(server, f"{host}/login/", log=logs["gunicorn"])
        print(
            f"gunicorn ({args.workers} workers), {args.job_workers} job workers on Redis "
            f"({args.redis}); locust: {args.users} users for {args.duration} s, twice",
            flush=True,
        )
        for phase in ("idle", "import"):
            record = target.with_suffix(f".{phase}.clients.json")
            plan = prepare(tag=f"{tag}-{phase}", wait=args.wait, record=record)
            if phase == "import":
                imported = start_import(args.import_rows, topic=f"Load import {tag}")
            with tempfile.TemporaryDirectory() as tmp:
                plan_file = Path(tmp) / "plan.json"
                plan_file.write_text(json.dumps(plan))
                run_locust(args, host=host, plan_file=plan_file, log=logs["locust"])
            phases[phase] = report.ClientRecord.from_json(json.loads(record.read_text()))
            print(f"  {phase}: {len(phases[phase].samples):,} requests", flush=True)
        job = wait_for_import(imported)
    finally:
        stop(server, "gunicorn")
        for worker in workers:
            stop(worker, "worker")

    checks = []
    for phase, client in phases.items():
        checks += [
            report.Check(f"{phase}: {c.name}", c.ok, c.detail)
            for c in report.verify(client, database_record(client.tag))
        ]
    checks.append(import_check(job, args.import_rows))
    remove_imported(imported["topic"])
    medians = {}
    for name in LIST_PAGES:
        idle, busy = (
            statistics.median(s.ms for s in phases[p].samples if s.name == name and s.status)
            for p in ("idle", "import")
        )
        medians[name] = (idle, busy)
        checks.append(
            report.Check(
                f"{name} during the import",
                busy < 2 * idle,
                f"median {busy:.1f} ms against {idle:.1f} ms idle ({busy / idle:.2f}x; "
                "target under 2x)",
            )
        )
    for check in checks:
        print(f"  [{'ok' if check.ok else 'FAILED'}] {check.name}: {check.detail}")
    ok = all(c.ok for c in checks)
    target.write_text(
        json.dumps(
            {
                "tag": tag,
                "ok": ok,
                "import_rows": args.import_rows,
                "import_seconds": job["seconds"],
                "medians_ms": medians,
                "checks": [c.__dict__ for c in checks],
            },
            indent=2,
        )
        + "\n"
    )
    print(f"\n{'Verified: nothing lost.' if ok else 'VERIFICATION FAILED.'} Results: {target}")
    return 0 if ok else 1


def start_worker(env: dict, number: int, target: Path) -> subprocess.Popen:
    log = target.with_suffix(f".worker-{number}.log").open("w")
    return subprocess.Popen(
        [sys.executable, "manage.py", "worker", "--no-reload", "--worker-id", f"load-{number}"],
        cwd=Path(__file__).resolve().parents[2],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )


def start_import(rows: int, *, topic: str) -> dict:
    """An import of `rows` rows, started as the mapping page starts it."""
    from django.contrib.auth import get_user_model

    from benchmarks.import_csv import export_file, start

    rep = get_user_model().objects.get(username="rep")
    raw, _ = export_file(rows, [])
    job = start(rep, raw, name="load-import.csv", topic=topic)
    return {"pk": job.pk, "topic": topic, "started": time.monotonic()}


def wait_for_import(imported: dict) -> dict:
    from imports.models import ImportJob
    from leads.models import Lead

    deadline = time.monotonic() + IMPORT_TIMEOUT_S
    while time.monotonic() < deadline:
        job = ImportJob.objects.select_related("job").get(pk=imported["pk"])
        if job.has_ended:
            break
        time.sleep(1)
    leads = Lead.objects.filter(topic=imported["topic"])
    return {
        "status": job.status,
        "imported": job.imported,
        "skipped": job.skipped,
        "failed": job.failed,
        "leads": leads.count(),
        "distinct_emails": leads.exclude(email="").values("email").distinct().count(),
        "with_email": leads.exclude(email="").count(),
        "seconds": round(time.monotonic() - imported["started"], 1),
        "attempts": job.job.attempts if job.job else None,
    }


def import_check(job: dict, rows: int) -> report.Check:
    ok = (
        job["status"] == "done"
        and job["imported"] + job["skipped"] + job["failed"] == rows
        and job["leads"] == job["imported"]
        and job["distinct_emails"] == job["with_email"]
    )
    return report.Check(
        "the import, run by a worker",
        ok,
        f"{job['status']} in {job['seconds']} s: {job['imported']:,} imported, "
        f"{job['skipped']:,} skipped, {job['failed']:,} failed of {rows:,} rows; "
        f"{job['leads']:,} leads made (none lost or doubled: {job['leads'] == job['imported']})",
    )


def remove_imported(topic: str) -> None:
    """The imported leads and their history go again: the load database keeps its size."""
    from django.db import connection, transaction

    from leads.models import Lead

    history = Lead.history.model._meta.db_table
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            f'DELETE FROM "{history}" WHERE "id" IN (SELECT "id" FROM "leads_lead" '
            'WHERE "topic" = %s)',
            [topic],
        )
        cursor.execute('DELETE FROM "leads_lead" WHERE "topic" = %s', [topic])
