"""Races on PostgreSQL: real threads, each on its own connection, released
together (the rows must be committed, so the tests are transactional)."""

import threading
import time

import pytest
from django.db import connection, connections

on_postgresql = pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="SQLite serialises whole-database writes and has no row locks "
    "(select_for_update is a no-op); the race is tested on PostgreSQL.",
)
race = pytest.mark.django_db(transaction=True)


def run_all(targets: list, *, head_start: dict[int, float] | None = None) -> list:
    """Run each of `targets` in its own thread, released together; return their outcomes.

    Each thread opens its database connection before the barrier, so the
    release races for the lead's row lock rather than for a connection.
    `head_start` delays the listed threads by that many seconds after the release.
    """
    barrier = threading.Barrier(len(targets))
    outcomes: list = [None] * len(targets)
    delays = head_start or {}

    def worker(i: int) -> None:
        try:
            connection.ensure_connection()
            barrier.wait(timeout=10)
            if i in delays:
                time.sleep(delays[i])
            outcomes[i] = targets[i]()
        except Exception as exc:  # noqa: BLE001 - the outcome is what we assert on
            outcomes[i] = exc
        finally:
            connections.close_all()

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(len(targets))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert not any(t.is_alive() for t in threads), "a thread is still running (deadlock?)"
    return outcomes
