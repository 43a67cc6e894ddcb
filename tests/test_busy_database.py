"""A busy or unreachable database answers 503 "try again" (with Retry-After) from
every layer, and changes nothing; other database errors stay errors.

The last tests hold a real lock: on SQLite another process holds the file's
write lock while a server started for the test serves a qualify; on
PostgreSQL another connection holds the lead table's lock past lock_timeout.
"""

from __future__ import annotations

import http.cookiejar
import os
import re
import socket
import sqlite3
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from contextlib import contextmanager
from pathlib import Path

import pytest
from django.conf import settings
from django.contrib.sessions.backends.db import SessionStore
from django.db import OperationalError, connection
from django.test import Client
from django.urls import reverse

from accounts.models import Account, Contact
from leads.models import Lead
from opportunities.models import Opportunity
from tests.factories import LeadFactory, RepFactory
from tests.faults import sqlite_error
from tests.reference_data import restore_reference_data

ON_SQLITE = connection.vendor == "sqlite"


def busy_error():
    """What Django raises when SQLite's busy timeout runs out."""
    return sqlite_error("database is locked")


def no_table_error():
    return sqlite_error("no such table: leads_lead")


def counts() -> dict[str, int]:
    return {m.__name__: m.objects.count() for m in (Lead, Account, Contact, Opportunity)}


def assert_busy_page(response) -> None:
    assert response.status_code == 503
    assert response["Retry-After"] == "10"
    assert "The database is busy" in response.content.decode()


@pytest.fixture
def signed_in(rep):
    client = Client(raise_request_exception=False)
    client.force_login(rep)
    return client


@pytest.mark.django_db
def test_busy_in_the_middle_of_a_qualify_answers_503_and_changes_nothing(
    signed_in, rep, monkeypatch
):
    lead = LeadFactory(owner=rep, company_name="Fabrikam", first_name="Ann", last_name="Lee")
    before = counts()

    def busy_save(self, *args, **kwargs):
        raise busy_error()  # after the account and contact were written

    monkeypatch.setattr(Opportunity, "save", busy_save)
    response = signed_in.post(reverse("leads:qualify", args=[lead.pk]))
    assert_busy_page(response)
    assert counts() == before
    lead.refresh_from_db()
    assert lead.state == Lead.State.OPEN


@pytest.mark.django_db
@pytest.mark.parametrize("debug", [False, True])
def test_busy_outside_the_view_answers_503_too(signed_in, monkeypatch, settings, debug):
    """The session is read by a middleware before any view runs; with DEBUG on
    (make run) as well as off, the answer is the 503 page, not a traceback."""
    settings.DEBUG = debug

    def busy_load(self):
        raise busy_error()

    monkeypatch.setattr(SessionStore, "load", busy_load)
    assert_busy_page(signed_in.get(reverse("leads:list")))


@pytest.mark.django_db
def test_clients_that_ask_for_json_get_json(signed_in, rep, monkeypatch):
    lead = LeadFactory(owner=rep)
    monkeypatch.setattr(Lead, "save", lambda *a, **k: (_ for _ in ()).throw(busy_error()))
    response = signed_in.post(
        reverse("leads:disqualify", args=[lead.pk]),
        {"reason": "lost"},
        headers={"Accept": "application/json"},
    )
    assert response.status_code == 503
    assert response["Retry-After"] == "10"
    assert "busy" in response.json()["error"]


@pytest.mark.django_db
def test_after_a_post_the_page_offers_the_way_back(signed_in, rep, monkeypatch):
    lead = LeadFactory(owner=rep)
    monkeypatch.setattr(Lead, "save", lambda *a, **k: (_ for _ in ()).throw(busy_error()))
    page = f"http://testserver{lead.get_absolute_url()}"
    response = signed_in.post(
        reverse("leads:disqualify", args=[lead.pk]), {"reason": "lost"}, headers={"Referer": page}
    )
    assert_busy_page(response)
    assert f'href="{page}"' in response.content.decode()
    assert "was not saved" in response.content.decode()


@pytest.mark.django_db
def test_an_unreachable_database_answers_503(signed_in, monkeypatch):
    """PostgreSQL down, or any driver error that is not SQLite's: OperationalError."""

    def down(self):
        raise OperationalError('connection to server at "127.0.0.1", port 5432 failed')

    monkeypatch.setattr(SessionStore, "load", down)
    assert_busy_page(signed_in.get(reverse("leads:list")))


@pytest.mark.django_db
def test_other_sqlite_errors_are_not_taken_for_a_busy_database(signed_in, monkeypatch):
    def broken(self):
        raise no_table_error()

    monkeypatch.setattr(SessionStore, "load", broken)
    response = signed_in.get(reverse("leads:list"))
    assert response.status_code == 500
    assert "Retry-After" not in response


# --- Real locks ------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def manage(*args: str, env: dict, **kwargs) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=settings.BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
        **kwargs,
    )


@contextmanager
def dev_server(env: dict, port: int):
    """`manage.py runserver` as `make run` starts it (DEBUG on), on its own database."""
    server = subprocess.Popen(
        [sys.executable, "manage.py", "runserver", "--noreload", f"127.0.0.1:{port}"],
        cwd=settings.BASE_DIR,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        for _ in range(100):
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                time.sleep(0.1)
        yield f"http://127.0.0.1:{port}"
    finally:
        server.terminate()
        server.wait(10)


class Browser:
    """Just enough of a browser: cookies, CSRF tokens from forms, no redirects followed."""

    class _NoRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args, **kwargs):
            return None

    def __init__(self, base: str):
        self.base = base
        self.opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()), self._NoRedirect
        )

    def request(self, path: str, data: dict | None = None):
        body = urllib.parse.urlencode(data).encode() if data is not None else None
        req = urllib.request.Request(self.base + path, data=body)
        req.add_header("Referer", self.base + path)
        try:
            with self.opener.open(req, timeout=30) as response:
                return response.status, dict(response.headers), response.read().decode()
        except urllib.error.HTTPError as error:
            return error.code, dict(error.headers), error.read().decode()

    def csrf(self, path: str) -> str:
        _, _, page = self.request(path)
        return re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)


@pytest.mark.skipif(not ON_SQLITE, reason="SQLite's file lock; PostgreSQL has its own test")
def test_sqlite_write_lock_held_by_another_process_answers_503(tmp_path: Path):
    database = tmp_path / "busy.sqlite3"
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "crm.settings.local",
        "DATABASE_URL": f"sqlite:///{database}",
        "DATABASE_LOCK_TIMEOUT": "1",
        "MEDIA_ROOT": str(tmp_path / "media"),
    }
    manage("migrate", "--noinput", env=env)
    script = (
        "from tests.factories import RepFactory, LeadFactory;"
        "rep = RepFactory(username='busyrep');"
        "print(LeadFactory(owner=rep, company_name='Fabrikam').pk)"
    )
    lead_id = int(manage("shell", "-c", script, env=env).stdout.split()[-1])

    with dev_server(env, free_port()) as base:
        browser = Browser(base)
        status, _, _ = browser.request(
            "/login/",
            {
                "username": "busyrep",
                "password": "password",
                "csrfmiddlewaretoken": browser.csrf("/login/"),
            },
        )
        assert status == 302
        token = browser.csrf(f"/leads/{lead_id}/")

        holder = sqlite3.connect(database, isolation_level=None)
        holder.execute("BEGIN IMMEDIATE")  # the write lock, held past the 1 s timeout
        try:
            status, headers, page = browser.request(
                f"/leads/{lead_id}/qualify/", {"csrfmiddlewaretoken": token}
            )
            assert status == 503, page[:500]
            assert headers["Retry-After"] == "10"
            assert "The database is busy" in page
            # Reading goes on while the lock is held (WAL).
            assert browser.request(f"/leads/{lead_id}/")[0] == 200
        finally:
            holder.execute("ROLLBACK")
            holder.close()

        check = sqlite3.connect(database)
        assert check.execute(
            "SELECT state FROM leads_lead WHERE id = ?", (lead_id,)
        ).fetchone() == ("open",)
        assert check.execute("SELECT count(*) FROM opportunities_opportunity").fetchone() == (0,)
        assert check.execute("SELECT count(*) FROM accounts_account").fetchone() == (0,)
        check.close()

        # With the lock gone, the same qualify goes through.
        status, _, _ = browser.request(f"/leads/{lead_id}/qualify/", {"csrfmiddlewaretoken": token})
        assert status == 302


@pytest.mark.skipif(ON_SQLITE, reason="PostgreSQL's lock_timeout")
@pytest.mark.django_db(transaction=True)
def test_postgresql_lock_held_past_the_lock_timeout_answers_503():
    import psycopg

    restore_reference_data()  # emptied by earlier transactional tests
    rep = RepFactory()
    lead = LeadFactory(owner=rep, company_name="Fabrikam")
    client = Client(raise_request_exception=False)
    client.force_login(rep)
    before = counts()
    params = connection.get_connection_params()
    holder = psycopg.connect(
        **{k: v for k, v in params.items() if k in ("dbname", "user", "host", "port", "password")}
    )
    try:
        holder.execute("LOCK TABLE leads_lead IN EXCLUSIVE MODE")  # readers pass, writers wait
        with connection.cursor() as cursor:
            cursor.execute("SET lock_timeout = '300ms'")
        response = client.post(reverse("leads:qualify", args=[lead.pk]))
        assert_busy_page(response)
        assert client.get(lead.get_absolute_url()).status_code == 200
    finally:
        holder.rollback()
        holder.close()
    assert counts() == before
    lead.refresh_from_db()
    assert lead.state == Lead.State.OPEN
