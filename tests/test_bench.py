"""`make bench` runs end to end: a tiny bench database, every case, a JSON report.

Not a timed test: the figures at this size mean nothing; what is checked is
that the script works and that the list pages stay within their query budget.
"""

import json
import os
import subprocess
import sys
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent


def bench(script: str, *args: str, timeout: int = 120) -> subprocess.CompletedProcess:
    """Run benchmarks/<script> as `make bench` would, in a child process."""
    env = {k: v for k, v in os.environ.items() if k != "DJANGO_SETTINGS_MODULE"}
    return subprocess.run(
        [sys.executable, str(BASE_DIR / "benchmarks" / script), *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=BASE_DIR,
    )


def test_bench_script_runs_at_a_tiny_size(tmp_path):
    report = tmp_path / "bench.json"
    done = bench(
        "run.py",
        "--leads=600",
        "--repeat=2",
        "--warmup=1",
        "--bulk=10",
        f"--database-url=sqlite:///{tmp_path / 'bench.sqlite3'}",
        f"--json={report}",
    )

    assert done.returncode == 0, done.stdout + done.stderr
    assert "Peak memory of the serving process" in done.stdout
    data = json.loads(report.read_text())
    assert data["vendor"] == "sqlite"
    assert data["leads"] >= 600
    assert data["peak_rss_mb"] > 0
    assert data["ours_to_admin_ratio"] > 0
    names = [r["name"] for r in data["results"]]
    for expected in (
        "My Open Leads",
        "Closed Leads",
        "Text search",
        "sorted by company",
        "Lead page",
        "Opportunities",
        "Opportunity board",
        "show more",
        "Lead-source report, last 90 days",
        "Lead-source report, whole history",
        "qualify_lead",
        "qualify_leads",
        "Admin changelist",
    ):
        assert any(expected in name for name in names), expected
    for result in data["results"]:
        assert len(result["samples_ms"]) == result["runs"]
        if result["max_queries"] is not None:
            assert result["queries"] <= result["max_queries"], result


def test_bench_refuses_the_development_database():
    done = bench("run.py", f"--database-url=sqlite:///{BASE_DIR / 'db.sqlite3'}", timeout=60)

    assert done.returncode != 0
    assert "Refusing" in done.stderr


def test_import_bench_runs_at_a_tiny_size_and_leaves_the_database_as_it_was(tmp_path):
    database = f"--database-url=sqlite:///{tmp_path / 'bench.sqlite3'}"
    runs = [
        bench("import_csv.py", "--rows=600", "--leads=600", "--batch=250", database)
        for _ in range(2)
    ]

    for done in runs:
        assert done.returncode == 0, done.stdout + done.stderr
        assert "3 batches" in done.stdout
        assert "CHECK FAILED" not in done.stdout
    # The second run found the same 600 leads (the demo's, then generated ones):
    # the first one's were removed.
    assert all("into 600 leads" in done.stdout for done in runs)
    skipped = [line for line in runs[0].stdout.splitlines() if "skipped" in line]
    assert skipped == [line for line in runs[1].stdout.splitlines() if "skipped" in line]


def test_export_bench_counts_every_row_of_the_view(tmp_path):
    done = bench("export_csv.py", "--leads=600", f"--database-url=sqlite:///{tmp_path / 'b.db'}")

    assert done.returncode == 0, done.stdout + done.stderr
    assert "Exporting ?view=all (600 of 600 leads)" in done.stdout
    assert "600 rows" in done.stdout
    assert "CHECK FAILED" not in done.stdout
