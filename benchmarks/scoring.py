"""Leadline lead scoring benchmark: training over every closed lead, scoring
every open lead, and scoring one lead as a save does.

    python benchmarks/scoring.py --leads 1000000
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/leadline \\
        python benchmarks/scoring.py --leads 1000000

1. Training (leads.scoring.train) over the bench database's closed leads of the
   last two years: its wall time against 60 s, and its quality. The generated
   leads carry no signal, so the model is Not ready; it is published here anyway
   (bench only) so that the next steps have a model to score with.
2. Scoring every open lead (leads.scoring.score_leads, as the job after a
   training runs it), each unscored before so that every one is written with a
   history row: wall time against 2 minutes, leads per second.
3. Scoring one lead, as the job a save starts does (--repeat runs, each on a
   lead not scored yet, so each writes its score and a history row): median
   against 2 ms, and its queries.

It uses the bench database of benchmarks/run.py (built on first use). It writes
scores; a later run scores again.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(BASE_DIR))

from benchmarks.run import RESULTS_DIR, database_version, open_bench_database  # noqa: E402

TRAIN_TARGET_S, SCORE_ALL_TARGET_S, SCORE_ONE_TARGET_MS = 60.0, 120.0, 2.0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--leads", type=int, default=100_000, help="Leads in the bench database.")
    parser.add_argument("--repeat", type=int, default=50, help="Timed one-lead scorings.")
    parser.add_argument("--database-url", help="Bench database (default: as benchmarks/run.py).")
    args = parser.parse_args(argv)
    open_bench_database(args.leads, args.database_url)

    from django.db import connection

    from leads import scoring
    from leads.models import Lead, ScoringModel

    closed = Lead.objects.exclude(state=Lead.State.OPEN).count()
    open_count = Lead.objects.filter(state=Lead.State.OPEN).count()
    print(f"{closed:,} closed and {open_count:,} open leads ({connection.vendor})", flush=True)

    started = time.perf_counter()
    model = scoring.train()
    train_s = time.perf_counter() - started
    print(
        f"  train: {train_s:.1f} s over {model.qualified + model.disqualified:,} closed leads; "
        f"AUC {model.auc if model.auc is None else round(model.auc, 3)}, {model.quality}",
        flush=True,
    )
    if not model.is_published:  # the generated leads have no signal (see the docstring)
        ScoringModel.objects.filter(is_published=True).update(is_published=False)
        ScoringModel.objects.filter(pk=model.pk).update(is_published=True)

    # One lead as a save scores it: leads kept unscored for it, each scored once.
    ones = list(
        Lead.objects.filter(state=Lead.State.OPEN)
        .order_by("-pk")
        .values_list("pk", flat=True)[: args.repeat + 5]
    )
    # Every open lead unscored first: each is written, with a history row (the
    # worst case, as after a first training or a model that moved every score).
    Lead.objects.filter(state=Lead.State.OPEN).update(score=-1, score_grade="", score_trend="")
    started = time.perf_counter()
    scored = scoring.score_leads()
    all_s = time.perf_counter() - started
    print(f"  score every open lead: {all_s:.1f} s, {scored / all_s:,.0f} leads/s", flush=True)

    Lead.objects.filter(pk__in=ones).update(score=-1, score_grade="", score_trend="")
    samples, queries = [], []

    def count(execute, sql, params, many, context):
        queries[-1] += 1
        return execute(sql, params, many, context)

    with connection.execute_wrapper(count):
        for i, pk in enumerate(ones):
            queries.append(0)
            started = time.perf_counter()
            scoring.score_leads(ids=[pk])
            elapsed = (time.perf_counter() - started) * 1000
            if i >= 5:  # warm-up
                samples.append(elapsed)
    one_ms = statistics.median(samples)
    print(f"  score one lead: {one_ms:.2f} ms median, {max(queries)} queries", flush=True)

    results = {
        "vendor": connection.vendor,
        "database_version": database_version(connection),
        "leads": closed + open_count,
        "closed": closed,
        "open": open_count,
        "train_s": round(train_s, 2),
        "train_auc": model.auc,
        "score_all_s": round(all_s, 2),
        "score_all_per_s": round(scored / all_s),
        "score_one_ms": round(one_ms, 3),
        "score_one_queries": max(queries),
        "ok": train_s < TRAIN_TARGET_S
        and all_s < SCORE_ALL_TARGET_S
        and one_ms < SCORE_ONE_TARGET_MS,
    }
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    out = RESULTS_DIR / f"scoring-{connection.vendor}-{closed + open_count}.json"
    out.write_text(json.dumps(results, indent=2))
    print(
        f"Targets: train < {TRAIN_TARGET_S:.0f} s, every open lead < {SCORE_ALL_TARGET_S:.0f} s, "
        f"one lead < {SCORE_ONE_TARGET_MS} ms: {'met' if results['ok'] else 'NOT met'} ({out})"
    )
    return 0 if results["ok"] else 1


if __name__ == "__main__":
    raise SystemExit(main())
