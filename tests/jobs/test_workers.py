"""Real workers in real processes, against a database of their own (SQLite, or
PostgreSQL when the suite runs on it) and, for the distributed backend, Redis:
a worker killed mid-import (SIGKILL, its whole process group, as when a machine
dies) leaves no half batch and a new worker finishes the import with no row
lost or doubled; two imports run side by side on two workers; Redis down when
a job is started, or emptied while it is queued, loses nothing.

Each test migrates a fresh database (a few seconds), so these run on both
databases without touching the suite's own."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
import uuid
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest

ROOT = Path(__file__).resolve().parents[2]
ROWS = 20_000
REDIS = "redis://127.0.0.1:6379/15"  # a database of its own, emptied by the test


def redis_is_up() -> bool:
    try:
        import redis

        return bool(redis.Redis.from_url(REDIS, socket_connect_timeout=1).ping())
    except Exception:
        return False


def descendants(pid: int) -> list[int]:
    children = subprocess.run(
        ["ps", "-o", "pid=", "--ppid", str(pid)], capture_output=True, text=True
    ).stdout.split()
    found = []
    for child in map(int, children):
        found += [*descendants(child), child]
    return found


class Stack:
    """A migrated database, media folder and environment for manage.py processes."""

    def __init__(self, tmp_path: Path, **env: str):
        suite_url = os.environ.get("DATABASE_URL", "")
        self.postgres = suite_url.startswith(("postgres://", "postgresql://"))
        if self.postgres:
            parts = urlsplit(suite_url)
            self.db_name = f"leadline_workers_{uuid.uuid4().hex[:8]}"
            self.admin_url = urlunsplit(parts._replace(path="/postgres"))
            self._admin(f'CREATE DATABASE "{self.db_name}"')
            self.url = urlunsplit(parts._replace(path=f"/{self.db_name}"))
        else:
            self.path = tmp_path / "workers.sqlite3"
            self.url = f"sqlite:///{self.path}"
        self.logs = tmp_path
        self.env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "crm.settings.test",
            "DATABASE_URL": self.url,
            "MEDIA_ROOT": str(tmp_path / "media"),
            "JOBS_STALE_AFTER_SECONDS": "3",
            "JOBS_RESEND_AFTER_SECONDS": "1",
            "JOBS_TICK_SECONDS": "2",
            **env,
        }
        self.env.pop("TASKS_REDIS_URL", None) if "TASKS_REDIS_URL" not in env else None
        self.workers: list[subprocess.Popen] = []
        self.manage("migrate", "-v0")

    def _admin(self, sql: str) -> None:
        import psycopg

        with psycopg.connect(self.admin_url, autocommit=True) as conn:
            conn.execute(sql)

    def manage(self, *args: str, **env: str) -> str:
        done = subprocess.run(
            [sys.executable, "manage.py", *args],
            cwd=ROOT,
            env={**self.env, **env},
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert done.returncode == 0, done.stderr[-3000:]
        return done.stdout

    def shell(self, code: str, **env: str):
        """Run `code` in a Django shell; it ends by printing one JSON value."""
        out = self.manage("shell", "-c", code, **env)
        return json.loads(out.strip().splitlines()[-1])

    def query(self, sql: str):
        if self.postgres:
            import psycopg

            with psycopg.connect(self.url) as conn:
                return conn.execute(sql).fetchone()
        with sqlite3.connect(self.path, timeout=30) as conn:
            return conn.execute(sql).fetchone()

    def worker(self, name: str, **env: str) -> subprocess.Popen:
        log = open(self.logs / f"{name}.log", "w")  # noqa: SIM115 - closed with the process
        process = subprocess.Popen(
            [sys.executable, "manage.py", "worker", "--no-reload", "--worker-id", name],
            cwd=ROOT,
            env={**self.env, **env},
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group, killed as a whole
        )
        self.workers.append(process)
        return process

    def kill(self, process: subprocess.Popen) -> None:
        """SIGKILL the worker and every process under it, as when its machine
        dies (RQ's work horse runs in a session of its own)."""
        for pid in [*descendants(process.pid), process.pid]:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        process.wait(timeout=10)

    def log(self, name: str) -> str:
        return (self.logs / f"{name}.log").read_text()

    def close(self) -> None:
        for process in self.workers:
            if process.poll() is None:
                self.kill(process)
        if self.postgres:
            self._admin(f'DROP DATABASE IF EXISTS "{self.db_name}" WITH (FORCE)')


@pytest.fixture
def stack(tmp_path):
    made = []

    def make(**env) -> Stack:
        made.append(Stack(tmp_path, **env))
        return made[-1]

    yield make
    for s in made:
        s.close()


START_IMPORT = """
import json
from django.contrib.auth import get_user_model
from imports import services
user, _ = get_user_model().objects.get_or_create(username="importer")
rows = "".join(f"Topic {{i}},Person {{i}},{tag}{{i}}@example.com\\n" for i in range({rows}))
raw = ("Topic,Last name,Email\\n" + rows).encode()
job = services.start_import(user=user, name="{tag}.csv", raw=raw)
job = services.set_mapping(
    job=job, user=user, mapping=job.mapping, default_topic="", skip_duplicates=True
)
print(json.dumps(job.pk))
"""


def start_import(stack: Stack, tag: str, rows: int = ROWS, **env) -> int:
    return stack.shell(START_IMPORT.format(tag=tag, rows=rows), **env)


def wait_for(check, *, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = check()
        if found:
            return found
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


def import_state(stack: Stack, pk: int) -> tuple:
    return stack.query(
        "SELECT status, rows_done, imported, skipped, failed FROM imports_importjob "
        f"WHERE id = {pk}"
    )


def leads_of(stack: Stack, tag: str) -> tuple[int, int]:
    """How many leads the import made, and how many distinct emails they have."""
    return stack.query(
        f"SELECT COUNT(*), COUNT(DISTINCT email) FROM leads_lead WHERE email LIKE '{tag}%'"
    )


def kill_mid_import_and_finish(stack: Stack, tag: str, **env) -> None:
    pk = start_import(stack, tag)
    first = stack.worker("first", **env)
    wait_for(
        lambda: 0 < import_state(stack, pk)[1] < ROWS,
        timeout=90,
        what=f"a batch to commit\n{stack.log('first')}",
    )
    stack.kill(first)

    status, done, imported, _, _ = import_state(stack, pk)
    assert status == "running" and 0 < done < ROWS
    assert leads_of(stack, tag) == (imported, imported), "a half batch was left behind"

    time.sleep(3.5)  # JOBS_STALE_AFTER: the dead worker's job is given up
    stack.worker("second", **env)
    wait_for(
        lambda: import_state(stack, pk)[0] == "done",
        timeout=120,
        what=f"the import to finish\n{stack.log('second')}",
    )
    assert import_state(stack, pk) == ("done", ROWS, ROWS, 0, 0)
    assert leads_of(stack, tag) == (ROWS, ROWS), "a row was lost or doubled"
    job = f"SELECT job_id FROM imports_importjob WHERE id = {pk}"
    assert stack.query(f"SELECT status, attempts FROM crm_job WHERE id = ({job})") == ("done", 2)


def test_a_worker_killed_mid_import_leaves_no_half_batch_and_another_finishes_it(stack):
    kill_mid_import_and_finish(stack(), "killed")


def test_two_imports_run_side_by_side_on_two_workers(stack):
    # Not the 3 seconds the kill test needs: on a busy machine one SQLite batch can
    # take longer, and the free worker would take the other's import over as dead.
    s = stack(JOBS_STALE_AFTER_SECONDS="120")
    s.worker("one")
    s.worker("two")
    time.sleep(2.5)  # both polling the queue
    # The scheduled jobs the first tick queued (the daily training among them) are
    # done: both workers are free when the imports come.
    wait_for(
        lambda: (
            s.query("SELECT COUNT(*) FROM crm_job WHERE status IN ('queued', 'running')") == (0,)
        ),
        timeout=60,
        what="the scheduled jobs",
    )
    first, second = start_import(s, "north", 12_000), start_import(s, "south", 12_000)
    for pk in (first, second):
        wait_for(lambda pk=pk: import_state(s, pk)[0] == "done", timeout=90, what="the imports")
    assert leads_of(s, "north") == (12_000, 12_000) and leads_of(s, "south") == (12_000, 12_000)
    workers = s.query(
        "SELECT COUNT(DISTINCT worker), MAX(attempts) FROM crm_job WHERE kind = 'imports.run'"
    )
    assert workers == (2, 1)  # one worker each, neither taken over
    if not s.postgres:
        return  # SQLite has one writer: under load the second may wait for the first
    # At the same time: each started before the other finished.
    overlap = s.query(
        "SELECT COUNT(*) FROM crm_job a JOIN crm_job b ON a.id < b.id "
        "WHERE a.kind = 'imports.run' AND b.kind = 'imports.run' "
        "AND a.started_at < b.finished_at AND b.started_at < a.finished_at"
    )
    assert overlap == (1,)


@pytest.mark.skipif(
    not redis_is_up() and not os.environ.get("REQUIRE_REDIS"),
    reason="Redis is not running on 127.0.0.1:6379 (CI starts it and sets REQUIRE_REDIS)",
)
def test_on_redis_nothing_is_lost_when_redis_is_down_emptied_or_a_worker_killed(stack):
    import redis

    store = redis.Redis.from_url(REDIS)
    store.flushdb()
    s = stack(TASKS_REDIS_URL=REDIS)

    # Redis down when the import starts: the request succeeds, the job waits.
    pk = start_import(s, "down", rows=4_000, TASKS_REDIS_URL="redis://127.0.0.1:1/15")
    assert s.query("SELECT status, task_id FROM crm_job") == ("queued", "")
    # Redis back: a worker's first tick sends it; it runs.
    one = s.worker("one")
    wait_for(lambda: import_state(s, pk)[0] == "done", timeout=90, what=s.log("one"))
    assert leads_of(s, "down") == (4_000, 4_000)
    s.kill(one)

    # Queued, then Redis loses everything (it keeps nothing on disk here).
    lost = start_import(s, "lost", rows=4_000)
    assert store.dbsize() > 0
    store.flushdb()
    two = s.worker("two")
    wait_for(lambda: import_state(s, lost)[0] == "done", timeout=90, what=s.log("two"))
    assert leads_of(s, "lost") == (4_000, 4_000)
    s.kill(two)

    # A worker killed mid-import, on Redis.
    kill_mid_import_and_finish(s, "killed")
    store.flushdb()
