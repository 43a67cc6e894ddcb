"""Leadline under load: gunicorn on 127.0.0.1 with PostgreSQL, driven by locust, then
a check that no lead, qualify or record was lost.

    make load                                        # 20 users for 60 s
    make load LOAD_ARGS="--users 40 --duration 120"
    python benchmarks/load/run.py --help

1. Builds the load database (leadline_load on the PostgreSQL server of
   DATABASE_URL, default postgres://postgres@127.0.0.1:5432) once, the way
   benchmarks/run.py builds its bench database: create, migrate, `seed_demo`,
   `benchmarks/generate.py --leads N`; afterwards it is reused (migrated, topped up).
2. Starts `gunicorn crm.wsgi` on a free port with the production settings
   (DEBUG off), served over plain HTTP through their LEADLINE_INSECURE_HTTP switch.
3. Runs locust headless (benchmarks/load/locustfile.py): a fixed number of users,
   each signed in once, mixing list pages, searches, lead pages, creating leads and
   qualifying its own new leads, for a fixed time.
4. Stops gunicorn (always, also when something failed), prints requests/s and
   p50/p95/p99 per request type, and checks the database against what the clients
   were told: every created lead is there and no other, every qualified lead has
   exactly one opportunity, one account and one contact, and nothing else was
   qualified; no 5xx, no failed request. Exits non-zero when a check fails.

Writes benchmarks/results/load-<time>.json (the figures and checks) and, beside it,
what the clients recorded and the gunicorn and locust logs.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import resource
import secrets
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from dataclasses import asdict
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

BASE_DIR = Path(__file__).resolve().parent.parent.parent
if str(BASE_DIR) not in sys.path:
    sys.path.insert(0, str(BASE_DIR))

from benchmarks.load import report  # noqa: E402
from benchmarks.run import build_database  # noqa: E402

RESULTS_DIR = BASE_DIR / "benchmarks" / "results"
LOCUSTFILE = Path(__file__).resolve().parent / "locustfile.py"
DEFAULT_SERVER = "postgres://postgres@127.0.0.1:5432"
DATABASE_NAME = "leadline_load"
# Demo sign-ins of seed_demo (password = user name) that work leads: the reps and the
# manager. Locust users take them in turn.
SIGN_INS = ["rep", "rep2", "manager"]
LEAD_PAGES = 2_000  # random existing leads the users open
SEARCH_WORDS = 50  # last names of random leads the users search for
STOP_TIMEOUT = 30  # seconds a user may take to finish its task once time is up


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--users", type=int, default=20, help="Concurrent users (default 20).")
    parser.add_argument(
        "--spawn-rate", type=float, help="Users started per second (default: all at once)."
    )
    parser.add_argument("--duration", type=int, default=60, help="Seconds of load (default 60).")
    parser.add_argument(
        "--wait",
        type=float,
        nargs=2,
        default=(0.5, 1.5),
        metavar=("MIN", "MAX"),
        help="Think time between a user's tasks, in seconds (default 0.5 1.5).",
    )
    parser.add_argument("--workers", type=int, default=3, help="gunicorn workers (default 3).")
    parser.add_argument(
        "--leads", type=int, default=100_000, help="Leads in the load database (default 100,000)."
    )
    parser.add_argument(
        "--database-url",
        help=f"The load database (default: {DATABASE_NAME} on the PostgreSQL server of "
        f"DATABASE_URL, or on {DEFAULT_SERVER}).",
    )
    parser.add_argument(
        "--port", type=int, default=0, help="gunicorn's port (default: a free one)."
    )
    parser.add_argument(
        "--settings",
        default="crm.settings.production",
        help="Settings module of the app under load (default crm.settings.production).",
    )
    parser.add_argument("--json", type=Path, help="Where to write the results.")
    parser.add_argument(
        "--jobs",
        action="store_true",
        help="Also run background workers on Redis, and an import during a second load "
        "(benchmarks/load/jobs.py).",
    )
    parser.add_argument("--job-workers", type=int, default=2, help="With --jobs (default 2).")
    parser.add_argument("--import-rows", type=int, default=100_000, help="With --jobs.")
    parser.add_argument("--redis", default="redis://127.0.0.1:6379/13", help="With --jobs.")
    args = parser.parse_args(argv)

    url = args.database_url or load_database_url(os.environ.get("DATABASE_URL", ""))
    if not url.startswith(("postgres://", "postgresql://")):
        sys.exit(f"The load run needs PostgreSQL, not {url}.")
    if urlsplit(url).path.strip("/") == "leadline":
        sys.exit("Refusing to load-test the development database leadline.")

    stamp = time.strftime("%Y%m%d-%H%M%S")
    tag = f"load-{stamp}-{secrets.token_hex(3)}"
    target = args.json or RESULTS_DIR / f"load-{stamp}.json"
    target.parent.mkdir(parents=True, exist_ok=True)
    logs = {
        "gunicorn": target.with_suffix(".gunicorn.log"),
        "locust": target.with_suffix(".locust.log"),
        "clients": target.with_suffix(".clients.json"),
    }
    port = args.port or free_port()
    host = f"http://127.0.0.1:{port}"
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "DJANGO_SETTINGS_MODULE": args.settings,
        "SECRET_KEY": secrets.token_urlsafe(50),
        "ALLOWED_HOSTS": "127.0.0.1",
        # Plain HTTP on 127.0.0.1: no HTTPS redirect, no Secure cookies, no HSTS.
        "LEADLINE_INSECURE_HTTP": "1",
    }
    os.environ.update(env)
    print(f"Load database: {url}", flush=True)
    build_database(url, args.leads, env)

    if args.jobs:
        env["TASKS_REDIS_URL"] = args.redis
        os.environ.update(env)
    import django

    django.setup()
    if args.jobs:
        from benchmarks.load import jobs

        return jobs.run(
            args,
            env=env,
            host=host,
            tag=tag,
            target=target,
            prepare=prepare,
            start_gunicorn=start_gunicorn,
            wait_until_answering=wait_until_answering,
            run_locust=run_locust,
            stop=stop,
            database_record=database_record,
        )
    plan = prepare(tag=tag, wait=args.wait, record=logs["clients"])
    info = {
        "tag": tag,
        "host": host,
        "users": args.users,
        "spawn_rate": args.spawn_rate or args.users,
        "duration_s": args.duration,
        "wait_s": list(args.wait),
        "gunicorn_workers": args.workers,
        "settings": args.settings,
        "sign_ins": [username for username, _ in plan["users"]],
        **database_info(),
        "python": platform.python_version(),
        "machine": f"{platform.machine()}, {os.cpu_count()} CPUs",
        "started_at": time.strftime("%Y-%m-%d %H:%M:%S"),
        # The machine may be shared: a high load before the run means slower figures.
        "load_average_before": round(os.getloadavg()[0], 2),
    }

    with tempfile.TemporaryDirectory() as tmp:
        plan_file = Path(tmp) / "plan.json"
        plan_file.write_text(json.dumps(plan))
        server = start_gunicorn(port=port, workers=args.workers, env=env, log=logs["gunicorn"])
        try:
            wait_until_answering(server, f"{host}/login/", log=logs["gunicorn"])
            print(
                f"gunicorn ({args.workers} workers) on {host}; locust: {args.users} users "
                f"for {args.duration} s (run tag {tag})",
                flush=True,
            )
            locust_code = run_locust(args, host=host, plan_file=plan_file, log=logs["locust"])
            after_locust = children_cpu_seconds()
        finally:
            stop(server, "gunicorn")
        # The master waits for its workers, so once it has exited the CPU time of both is
        # in this process's children's: unlike latency, not inflated by a busy machine.
        server_cpu = children_cpu_seconds() - after_locust

    if not logs["clients"].exists():
        print(f"locust exited with {locust_code} and recorded nothing; see {logs['locust']}")
        return 1
    client = report.ClientRecord.from_json(json.loads(logs["clients"].read_text()))
    rows = report.summarise(client.samples)
    # The sign-ins at the start queue behind each other's password hashing (and the
    # pages queue behind them): the figures once every user is in are the steady state.
    working, signed_in_after = report.after_sign_ins(client.samples)
    working_rows = report.summarise(working)
    checks = [
        *report.verify(client, database_record(tag)),
        report.server_log_check(logs["gunicorn"].read_text()),
    ]
    ok = all(c.ok for c in checks)
    info.update(
        finished_at=time.strftime("%Y-%m-%d %H:%M:%S"),
        load_average_after=round(os.getloadavg()[0], 2),
        run_seconds=round(report.run_seconds(client.samples), 1),
        leads_after=lead_count(),
        qualify_outcomes=report.qualify_outcomes(client),
        locust_exit_code=locust_code,
        gunicorn_cpu_s=round(server_cpu, 1),
        signed_in_after_s=round(signed_in_after, 1),
        logs={k: str(v) for k, v in logs.items()},
    )

    print(
        f"\n{info['database_version']}, {info['leads_after']:,} leads, {args.users} users for "
        f"{info['run_seconds']} s, gunicorn {args.workers} workers ({info['machine']}; "
        f"1-minute load average {info['load_average_before']} before, "
        f"{info['load_average_after']} after)\n"
    )
    print("The whole run:\n")
    print(report.format_table(rows))
    print(f"\nOnce every user had signed in ({signed_in_after:.1f} s into the run):\n")
    print(report.format_table(working_rows))
    total = rows[-1]
    print(
        f"\n{total.rps:.1f} requests/s, {total.failures} failed; qualify outcomes: "
        f"{info['qualify_outcomes']}; gunicorn used {server_cpu:.1f} CPU s "
        f"({server_cpu * 1000 / max(total.requests, 1):.0f} ms a request)\n"
    )
    for check in checks:
        print(f"  [{'ok' if check.ok else 'FAILED'}] {check.name}: {check.detail}")
    target.write_text(
        json.dumps(
            {
                **info,
                "ok": ok,
                "rows": [asdict(r) for r in rows],
                "rows_after_sign_ins": [asdict(r) for r in working_rows],
                "checks": [asdict(c) for c in checks],
            },
            indent=2,
        )
        + "\n"
    )
    print(f"\n{'Verified: nothing lost.' if ok else 'VERIFICATION FAILED.'} Results: {target}")
    return 0 if ok else 1


# --- The database ------------------------------------------------------------------------------


def load_database_url(dev_url: str) -> str:
    """leadline_load on the server of DATABASE_URL if that is PostgreSQL, else on the local one."""
    server = dev_url if dev_url.startswith(("postgres://", "postgresql://")) else DEFAULT_SERVER
    return urlunsplit(urlsplit(server)._replace(path=f"/{DATABASE_NAME}"))


def prepare(*, tag: str, wait: tuple[float, float], record: Path) -> dict:
    """Set the organisation defaults the run relies on and pick what the users will open."""
    from django.apps import apps
    from django.conf import settings
    from django.contrib.auth import get_user_model
    from django.db.models import Max, Min

    from crm.models import OrganizationSettings
    from leads.models import Lead

    if settings.DEBUG:
        sys.exit("The load run needs DEBUG off.")
    org = OrganizationSettings.load()
    # A fresh install's defaults: qualify creates the records, duplicates are checked.
    org.create_records_on_qualify = True
    org.duplicate_detection_enabled = True
    org.save()

    users = list(
        get_user_model()
        .objects.filter(username__in=SIGN_INS, is_active=True)
        .values_list("username", flat=True)
    )
    if not users:
        sys.exit(f"None of the demo users {SIGN_INS} exists in the load database.")
    if apps.is_installed("axes"):
        # A lockout left by an earlier, broken run would refuse every sign-in.
        from axes.utils import reset

        for username in users:
            reset(username=username)

    bounds = Lead.objects.aggregate(low=Min("pk"), high=Max("pk"))
    span = range(bounds["low"], bounds["high"] + 1)
    candidates = random.sample(span, min(LEAD_PAGES * 2, len(span)))
    lead_ids = list(Lead.objects.filter(pk__in=candidates).values_list("pk", flat=True))
    lead_ids = lead_ids[:LEAD_PAGES]
    words = {
        name.split()[0]
        for name in Lead.objects.filter(pk__in=lead_ids[: SEARCH_WORDS * 2])
        .exclude(last_name="")
        .values_list("last_name", flat=True)
    }
    return {
        "tag": tag,
        "record": str(record),
        "users": [[u, u] for u in sorted(users, key=SIGN_INS.index)],
        "lead_ids": lead_ids,
        "search_words": sorted(words)[:SEARCH_WORDS],
        "wait": list(wait),
    }


def database_record(tag: str) -> report.DatabaseRecord:
    """What the database holds for the leads carrying the run's tag."""
    from accounts.models import Account, Contact
    from leads.models import Lead
    from opportunities.models import Opportunity

    leads = {
        lead.pk: lead
        for lead in Lead.objects.filter(topic__contains=tag).only(
            "state",
            "company_name",
            "email",
            "qualified_account",
            "qualified_contact",
            "qualified_opportunity",
        )
    }
    by_company = {lead.company_name: pk for pk, lead in leads.items()}
    by_email = {lead.email: pk for pk, lead in leads.items()}
    opportunities: dict[int, list[int]] = {}
    for lead_id, pk in Opportunity.objects.filter(originating_lead__in=list(leads)).values_list(
        "originating_lead", "pk"
    ):
        opportunities.setdefault(lead_id, []).append(pk)
    accounts: dict[int, list[int]] = {}
    for name, pk in Account.objects.filter(name__in=list(by_company)).values_list("name", "pk"):
        accounts.setdefault(by_company[name], []).append(pk)
    contacts: dict[int, list[int]] = {}
    for email, pk in Contact.objects.filter(email__in=list(by_email)).values_list("email", "pk"):
        contacts.setdefault(by_email[email], []).append(pk)
    return report.DatabaseRecord(
        leads={
            pk: {
                "state": lead.state,
                "qualified_account": lead.qualified_account_id,
                "qualified_contact": lead.qualified_contact_id,
                "qualified_opportunity": lead.qualified_opportunity_id,
            }
            for pk, lead in leads.items()
        },
        opportunities=opportunities,
        accounts=accounts,
        contacts=contacts,
    )


def lead_count() -> int:
    from leads.models import Lead

    return Lead.objects.count()


def database_info() -> dict:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SHOW server_version")
        version = cursor.fetchone()[0]
    return {"database_version": f"PostgreSQL {version}", "leads_before": lead_count()}


# --- The processes -----------------------------------------------------------------------------


def children_cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_gunicorn(*, port: int, workers: int, env: dict, log: Path) -> subprocess.Popen:
    with log.open("w") as out:
        # Its own session: a Ctrl-C reaches this script, which then stops it in order.
        return subprocess.Popen(
            [
                sys.executable,
                "-m",
                "gunicorn",
                "crm.wsgi",
                "--workers",
                str(workers),
                "--bind",
                f"127.0.0.1:{port}",
            ],
            cwd=BASE_DIR,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )


def wait_until_answering(server: subprocess.Popen, url: str, *, log: Path, timeout=30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError(f"gunicorn exited with {server.returncode}:\n{log.read_text()}")
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            pass
        time.sleep(0.2)
    raise RuntimeError(f"gunicorn did not answer {url} within {timeout:.0f} s; see {log}")


def run_locust(args, *, host: str, plan_file: Path, log: Path) -> int:
    command = [
        sys.executable,
        "-m",
        "locust",
        "-f",
        str(LOCUSTFILE),
        "--headless",
        "--users",
        str(args.users),
        "--spawn-rate",
        str(args.spawn_rate or args.users),
        "--run-time",
        f"{args.duration}s",
        "--stop-timeout",
        str(STOP_TIMEOUT),
        "--host",
        host,
        "--only-summary",
    ]
    env = {**os.environ, "LOAD_PLAN": str(plan_file), "PYTHONPATH": str(BASE_DIR)}
    with log.open("w") as out:
        locust = subprocess.Popen(
            command,
            cwd=BASE_DIR,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        try:
            return locust.wait(timeout=args.duration + STOP_TIMEOUT + 60)
        finally:
            stop(locust, "locust")


def stop(process: subprocess.Popen, name: str, grace: float = 35.0) -> None:
    """SIGTERM (gunicorn finishes the requests in flight), then SIGKILL after `grace` s."""
    if process.poll() is not None:
        return
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=grace)
    except subprocess.TimeoutExpired:
        print(f"{name} did not stop within {grace:.0f} s; killing it", flush=True)
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()


if __name__ == "__main__":
    sys.exit(main())
