"""Leadline benchmark: the pages and services that must stay fast at a million leads.

    python benchmarks/run.py                    # 100,000 leads on SQLite (bench-100000.sqlite3)
    python benchmarks/run.py --leads 1000000    # the big run
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/leadline python benchmarks/run.py
                                                # PostgreSQL: database leadline_bench_100000

It builds the bench database on first use (migrate, `seed_demo`, then
`benchmarks/generate.py --leads N`, in
child processes) and reuses it afterwards; it never touches the development
database. Then, in this process, it warms up and times each case with Django's
test Client (the whole request: middleware, view, queries, template), printing
the median, the slowest run and the number of SQL queries, and writes the
same as JSON under benchmarks/results/. The peak memory reported is this
process's, which served every page: the seeding ran in a child process.

The qualify cases change the bench database (they qualify open leads, as a
user would); a later run simply qualifies other leads.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from urllib.parse import urlencode, urlsplit, urlunsplit

BASE_DIR = Path(__file__).resolve().parent.parent
RESULTS_DIR = BASE_DIR / "benchmarks" / "results"
TIMELINE_ITEMS = 200
SEARCH_TEXT = "davolio"


@dataclass
class Case:
    name: str
    run: Callable[[], object]
    target_ms: float | None = None
    repeat: int | None = None  # None: --repeat
    max_queries: int | None = None


@dataclass
class Result:
    name: str
    runs: int
    median_ms: float
    max_ms: float  # the slowest timed run (20 runs hold no meaningful 95th percentile)
    queries: int
    target_ms: float | None
    max_queries: int | None
    ok: bool
    note: str = ""
    samples_ms: list[float] = field(default_factory=list)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--leads", type=int, default=100_000, help="Leads in the bench database.")
    parser.add_argument("--repeat", type=int, default=20, help="Timed runs per case.")
    parser.add_argument("--warmup", type=int, default=3, help="Untimed runs per case first.")
    parser.add_argument(
        "--opportunities",
        type=int,
        help="Open opportunities in the bench database (default: a tenth of --leads).",
    )
    parser.add_argument(
        "--bulk", type=int, default=1000, help="Leads in the bulk qualify case (default 1000)."
    )
    parser.add_argument(
        "--database-url",
        help="Bench database (default: bench-N.sqlite3, or leadline_bench_N on the "
        "PostgreSQL server of DATABASE_URL).",
    )
    parser.add_argument("--json", type=Path, help="Where to write the results.")
    args = parser.parse_args(argv)
    if args.opportunities is None:
        args.opportunities = args.leads // 10

    open_bench_database(args.leads, args.database_url, opportunities=args.opportunities)
    results, info = run_cases(args)
    print_table(results, info)
    target = args.json or RESULTS_DIR / f"{info['vendor']}-{args.leads}.json"
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(
        json.dumps({**info, "results": [asdict(r) for r in results]}, indent=2) + "\n"
    )
    print(f"\nResults written to {target}")
    return 0


# --- The bench database ------------------------------------------------------------------------


def open_bench_database(
    leads: int, database_url: str | None = None, *, opportunities: int = 0
) -> str:
    """Point Django at the bench database (`database_url`, or the one for `leads`),
    build it if needed, and set Django up. Every benchmark script starts here."""
    url = database_url or bench_database_url(os.environ.get("DATABASE_URL", ""), leads)
    refuse_dev_database(url)
    env = {**os.environ, "DATABASE_URL": url, "DJANGO_SETTINGS_MODULE": "benchmarks.settings"}
    os.environ.update(env)
    print(f"Bench database: {url}", flush=True)
    build_database(url, leads, env, opportunities=opportunities)

    if str(BASE_DIR) not in sys.path:
        sys.path.insert(0, str(BASE_DIR))
    import django

    django.setup()
    return url


def bench_database_url(dev_url: str, leads: int) -> str:
    """Same server as the development database, never the same database."""
    if dev_url.startswith(("postgres://", "postgresql://")):
        parts = urlsplit(dev_url)
        return urlunsplit(parts._replace(path=f"/leadline_bench_{leads}"))
    return f"sqlite:///{BASE_DIR / f'bench-{leads}.sqlite3'}"


def refuse_dev_database(url: str) -> None:
    if url.startswith("sqlite"):
        path = Path(urlsplit(url).path).resolve()
        if path == (BASE_DIR / "db.sqlite3").resolve():
            sys.exit("Refusing to benchmark on the development database db.sqlite3.")
    elif urlsplit(url).path.strip("/") == "leadline":
        sys.exit("Refusing to benchmark on the development database leadline.")


def build_database(url: str, leads: int, env: dict, *, opportunities: int = 0) -> None:
    """Create the database if needed, migrate it, top its leads up to `leads` and
    its open opportunities up to `opportunities`."""
    if url.startswith(("postgres://", "postgresql://")):
        import psycopg

        parts = urlsplit(url)
        name = parts.path.strip("/")
        admin_url = urlunsplit(parts._replace(path="/postgres"))
        with psycopg.connect(admin_url, autocommit=True) as conn:
            exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
            if not exists:
                conn.execute(f'CREATE DATABASE "{name}"')
    manage = [sys.executable, str(BASE_DIR / "manage.py")]
    started = time.perf_counter()
    subprocess.run([*manage, "migrate", "--noinput", "-v0"], env=env, check=True, cwd=BASE_DIR)
    subprocess.run([*manage, "seed_demo", "--force"], env=env, check=True, cwd=BASE_DIR)
    subprocess.run(
        [
            sys.executable,
            str(BASE_DIR / "benchmarks" / "generate.py"),
            "--leads",
            str(leads),
            "--opportunities",
            str(opportunities),
        ],
        env=env,
        check=True,
        cwd=BASE_DIR,
    )
    print(f"Database ready in {time.perf_counter() - started:.1f} s", flush=True)


# --- The cases -------------------------------------------------------------------------------


def run_cases(args) -> tuple[list[Result], dict]:
    from django.contrib.auth import get_user_model
    from django.db import connection
    from django.test import Client

    from crm.models import OrganizationSettings
    from leads import services
    from leads.listing.cursor import Cursor
    from leads.models import Lead

    User = get_user_model()
    rep = User.objects.get(username="rep")
    admin = User.objects.get(username="admin")
    manager = User.objects.get(username="manager")
    settings = OrganizationSettings.load()
    # The defaults a fresh install has: records created on qualify, duplicates checked.
    settings.create_records_on_qualify = True
    settings.duplicate_detection_enabled = True
    settings.save()

    client = Client()
    client.force_login(rep)
    admin_client = Client()
    admin_client.force_login(admin)
    manager_client = Client()
    manager_client.force_login(manager)

    def page(c: Client, url: str, params: dict | None = None) -> Callable[[], object]:
        full = f"{url}?{urlencode(params)}" if params else url

        def get():
            response = c.get(full)
            if response.status_code != 200:
                raise RuntimeError(f"GET {full} answered {response.status_code}")
            return response

        return get

    from django.utils import timezone

    from crm import process
    from opportunities.models import Opportunity

    open_opportunities = Opportunity.objects.filter(state=Opportunity.State.OPEN).count()
    develop = process.opportunity_stages()[0]
    year = timezone.localdate().year
    # "Show more" deep in the Develop column: past its newest half.
    develop_pks = Opportunity.objects.filter(state="open", stage=develop).order_by("-pk")
    middle = develop_pks.count() // 2
    deep_opportunity = develop_pks.values_list("pk", flat=True)[middle] if middle else 1
    lead = timeline_lead(rep)
    deep = deep_cursor(Lead, Cursor, min(100_000, args.leads // 2))
    closed_filter = {"lead_source": "web", "rating": "hot"}
    one_email = Lead.objects.order_by("pk").values_list("email", flat=True)[args.leads // 3]
    fresh = fresh_leads(rep, args.warmup + args.repeat)
    bulk = list(
        # The rep's own: a rep qualifies only the leads they own.
        Lead.objects.filter(state=Lead.State.OPEN, owner=rep)
        .exclude(pk__in=[f.pk for f in fresh])
        .exclude(pk=lead.pk)
        .order_by("-pk")[: args.bulk]
    )

    def qualify_one():
        return services.qualify_lead(lead=fresh.pop(), user=rep)

    # The API as an integration calls it: a read-write token of the rep's.
    from api import services as token_services

    _, key = token_services.create_token(user=rep, name="bench", read_only=False)
    api_client = Client(HTTP_AUTHORIZATION=f"Bearer {key}")
    api_fresh = fresh_leads(rep, args.warmup + args.repeat)

    def api_qualify():
        response = api_client.post(
            f"/api/v1/leads/{api_fresh.pop().pk}/qualify",
            {"create_account": True, "create_contact": True, "create_opportunity": True},
            content_type="application/json",
        )
        if response.status_code != 200:
            raise RuntimeError(f"qualify answered {response.status_code}: {response.content[:300]}")
        return response

    def qualify_bulk():
        results = services.qualify_leads(leads=bulk, user=rep, ignore_duplicates=True)
        failed = [r for r in results if not r.ok]
        if failed:
            raise RuntimeError(f"{len(failed)} of {len(results)} leads were not qualified")
        return results

    # Nine: the open-lead lists also render the qualify dialog's currencies (9/12).
    list_target, list_queries = 50, 9
    cases = [
        Case("My Open Leads", page(client, "/leads/"), list_target, max_queries=list_queries),
        Case(
            "My Open Leads Scored (by score)",
            page(client, "/leads/", {"view": "scored"}),
            list_target,
            max_queries=list_queries,
        ),
        Case(
            "Closed Leads, source=Web, rating=Hot",
            page(client, "/leads/", {"view": "closed", **closed_filter}),
            list_target,
            max_queries=list_queries,
        ),
        Case(
            f"Text search '{SEARCH_TEXT}' (All Leads)",
            page(client, "/leads/", {"view": "all", "q": SEARCH_TEXT}),
            150,
            max_queries=list_queries,
        ),
        Case(
            "Text search for one lead's email",
            page(client, "/leads/", {"view": "all", "q": one_email}),
            150,
            max_queries=list_queries,
        ),
        Case(
            "All Leads sorted by company",
            page(client, "/leads/", {"view": "all", "sort": "company"}),
            list_target,
            max_queries=list_queries,
        ),
        Case(
            "All Leads sorted by owner, descending",
            page(client, "/leads/", {"view": "all", "sort": "-owner"}),
            list_target,
            max_queries=list_queries,
        ),
        Case(
            f"All Leads, page after row {deep[1]:,}",
            page(client, "/leads/", {"view": "all", "after": deep[0]}),
            list_target,
            max_queries=list_queries,
        ),
        Case(
            f"Lead page, {TIMELINE_ITEMS} timeline items",
            page(client, f"/leads/{lead.pk}/"),
            50,
        ),
        # Ten: the currencies and stages of the rows are read after them (see
        # opportunities.selectors.opportunity_list).
        Case("Opportunities", page(client, "/opportunities/"), list_target, max_queries=10),
        Case(
            f"Opportunity board, {open_opportunities:,} open",
            page(manager_client, "/opportunities/board/"),
            list_target,
            max_queries=10,
        ),
        Case(
            "Opportunity board, my opportunities closing this year",
            page(
                client,
                "/opportunities/board/",
                {"mine": "on", "close_after": f"{year}-01-01", "close_before": f"{year}-12-31"},
            ),
            list_target,
            max_queries=10,
        ),
        Case(
            "Opportunity board, show more (Develop)",
            page(
                manager_client,
                "/opportunities/board/",
                {"column": develop.pk, "after": deep_opportunity},
            ),
            list_target,
            max_queries=10,
        ),
        Case(
            "Lead-source report, last 90 days",
            page(manager_client, "/reports/lead-sources/"),
            500,
            repeat=max(3, args.repeat // 4),
        ),
        Case(
            "Lead-source report, whole history",
            page(manager_client, "/reports/lead-sources/", whole_history(Lead)),
            500,
            repeat=max(3, args.repeat // 4),
        ),
        Case(
            "API: GET /api/v1/leads/?limit=100",
            page(api_client, "/api/v1/leads/", {"limit": 100}),
            list_target,
            max_queries=6,
        ),
        Case(
            f"API: leads after row {deep[1]:,} (view=all, limit=100)",
            page(api_client, "/api/v1/leads/", {"view": "all", "limit": 100, "cursor": deep[0]}),
            list_target,
            max_queries=6,
        ),
        Case("API: POST /api/v1/leads/{id}/qualify", api_qualify, 20),
        Case("qualify_lead", qualify_one, 15),
        Case(f"qualify_leads, {len(bulk):,} leads", qualify_bulk, 10_000, repeat=1),
        Case(
            "Admin changelist, closed, Web, Hot",
            page(
                admin_client,
                "/admin/leads/lead/",
                {
                    "state__in": "qualified,disqualified",
                    "lead_source__exact": "web",
                    "rating__exact": "hot",
                },
            ),
        ),
    ]

    results = [measure(case, args, connection) for case in cases]
    ours = next(r for r in results if r.name.startswith("Closed Leads"))
    admin_result = results[-1]
    ratio = ours.median_ms / admin_result.median_ms if admin_result.median_ms else None
    admin_result.note = f"ours / admin = {ratio:.2f}" if ratio is not None else ""
    info = {
        "vendor": connection.vendor,
        "database_version": database_version(connection),
        "leads": Lead.objects.count(),
        "repeat": args.repeat,
        "warmup": args.warmup,
        "ours_to_admin_ratio": round(ratio, 3) if ratio is not None else None,
        # ru_maxrss is in KiB on Linux.
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        "python": platform.python_version(),
        "machine": f"{platform.machine()}, {os.cpu_count()} CPUs",
        "finished_at": time.strftime("%Y-%m-%d %H:%M:%S"),
    }
    return results, info


def whole_history(lead_model) -> dict[str, str]:
    """The report's period from the first lead's day to today."""
    from django.utils import timezone

    first = lead_model.objects.order_by("created_at").values_list("created_at", flat=True)[0]
    return {
        "start": timezone.localdate(first).isoformat(),
        "end": timezone.localdate().isoformat(),
    }


def measure(case: Case, args, connection) -> Result:
    repeat = case.repeat or args.repeat
    warmup = 0 if case.repeat == 1 else args.warmup
    queries = 0

    def count(execute, sql, params, many, context):
        nonlocal queries
        queries += 1
        return execute(sql, params, many, context)

    samples = []
    counts = []
    with connection.execute_wrapper(count):
        for i in range(warmup + repeat):
            queries = 0
            started = time.perf_counter()
            case.run()
            elapsed = (time.perf_counter() - started) * 1000
            if i >= warmup:
                samples.append(elapsed)
                counts.append(queries)
    median = statistics.median(samples)
    most = max(counts)
    ok = (case.target_ms is None or median < case.target_ms) and (
        case.max_queries is None or most <= case.max_queries
    )
    print(f"  {case.name}: {median:.1f} ms", flush=True)
    return Result(
        name=case.name,
        runs=repeat,
        median_ms=round(median, 2),
        max_ms=round(max(samples), 2),
        queries=most,
        target_ms=case.target_ms,
        max_queries=case.max_queries,
        ok=ok,
        samples_ms=[round(s, 2) for s in samples],
    )


def timeline_lead(owner):
    """An open lead of `owner` with TIMELINE_ITEMS notes and activities (made once)."""
    from activities.models import Activity, Note
    from leads.models import Lead

    lead = Lead.objects.filter(owner=owner, state=Lead.State.OPEN).order_by("pk").first()
    have = Note.objects.filter(lead=lead).count() + Activity.objects.filter(lead=lead).count()
    missing = TIMELINE_ITEMS - have
    if missing > 0:
        notes = missing // 2
        Note.objects.bulk_create(
            Note(lead=lead, author=owner, title=f"Call notes {i}", text="Discussed the next steps.")
            for i in range(notes)
        )
        Activity.objects.bulk_create(
            Activity(
                lead=lead,
                owner=owner,
                type=Activity.Type.PHONE_CALL,
                subject=f"Follow-up call {i}",
                direction=Activity.Direction.OUTGOING,
            )
            for i in range(missing - notes)
        )
    return lead


def fresh_leads(owner, count: int) -> list:
    """Open leads nobody has qualified, with a company and person of their own, so
    qualify_lead runs its duplicate checks and creates an account, a contact and
    an opportunity, as for a new prospect."""
    from leads import services

    stamp = time.time_ns()
    return [
        services.create_lead(
            user=owner,
            topic=f"Bench prospect {i}",
            first_name="Bench",
            last_name=f"Prospect {stamp} {i}",
            company_name=f"Bench Prospect {stamp} {i} Ltd",
            email=f"prospect.{stamp}.{i}@bench.example",
            currency="USD",
        )
        for i in range(count)
    ]


def deep_cursor(Lead, Cursor, position: int) -> tuple[str, int]:
    """The All Leads cursor after row `position`: the page a rep reaches after
    clicking Next many times (found once here with an OFFSET; not timed)."""
    position = max(position, 1)
    row = (
        Lead.objects.order_by("-created_at", "-pk")
        .values_list("created_at", "pk")[position - 1 : position]
        .first()
    )
    return Cursor(sort="-created", key=tuple(row), position=position).encode(), position


def database_version(connection) -> str:
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SHOW server_version")
            return f"PostgreSQL {cursor.fetchone()[0]}"
        cursor.execute("SELECT sqlite_version()")
        return f"SQLite {cursor.fetchone()[0]}"


def print_table(results: list[Result], info: dict) -> None:
    print(
        f"\n{info['database_version']}, {info['leads']:,} leads, "
        f"{info['repeat']} runs after {info['warmup']} warm-up runs ({info['machine']})\n"
    )
    header = f"{'case':<42} {'median ms':>10} {'max ms':>9} {'queries':>8} {'target':>10}  ok"
    print(header)
    print("-" * len(header))
    for r in results:
        target = f"< {r.target_ms:g} ms" if r.target_ms else ""
        mark = "" if r.target_ms is None and r.max_queries is None else ("yes" if r.ok else "NO")
        print(
            f"{r.name:<42} {r.median_ms:>10.1f} {r.max_ms:>9.1f} {r.queries:>8} {target:>10}  "
            f"{mark} {r.note}".rstrip()
        )
    print(f"\nPeak memory of the serving process: {info['peak_rss_mb']} MB (target < 300 MB)")


if __name__ == "__main__":
    sys.exit(main())
