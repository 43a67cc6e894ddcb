"""Browser tests: pytest-playwright driving Debian's Chromium against live_server."""

import os
from pathlib import Path

import pytest

from tests.reference_data import restore_reference_data

CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
SCREENSHOTS = Path(__file__).resolve().parents[2] / "screenshots"

# Playwright's sync API runs an event loop in this thread; the ORM calls the tests
# make between browser steps are ordinary synchronous code.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


def pytest_collection_modifyitems(config, items):
    if Path(CHROMIUM).exists():
        return
    skip = pytest.mark.skip(reason=f"Chromium not found at {CHROMIUM} (apt-get install chromium)")
    for item in items:
        if "tests/browser" in str(item.fspath):
            item.add_marker(skip)


@pytest.fixture(autouse=True)
def reference_data(transactional_db):
    restore_reference_data()


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    return {
        **browser_type_launch_args,
        "executable_path": CHROMIUM,
        "args": [
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--no-first-run",
        ],
    }


@pytest.fixture(scope="session")
def browser_context_args(browser_context_args):
    return {**browser_context_args, "viewport": {"width": 1366, "height": 768}}


@pytest.fixture
def shot(page):
    """Save a full-page screenshot under screenshots/ (git-ignored) to look at."""
    SCREENSHOTS.mkdir(exist_ok=True)

    def take(name: str) -> None:
        page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)

    return take


@pytest.fixture
def login(page, live_server):
    def do(username: str, password: str = "password"):
        page.goto(f"{live_server.url}/login/")
        page.fill("#id_username", username)
        page.fill("#id_password", password)
        page.click("button[type=submit]")
        page.wait_for_url(f"{live_server.url}/leads/")

    return do


@pytest.fixture
def worker(live_server):
    """A background worker for the live server: a thread that runs the queued
    jobs (crm.jobs) as `manage.py worker` would, until the test ends."""
    import threading

    from django.db import connection

    from crm import jobs

    stop = threading.Event()

    def work():
        try:
            while not stop.is_set():
                jobs.run_queued()
                stop.wait(0.2)
        finally:
            connection.close()

    thread = threading.Thread(target=work, daemon=True)
    thread.start()
    yield
    stop.set()
    thread.join(timeout=10)
