"""What each simulated user does in the load run; benchmarks/load/run.py starts locust
with this file and a plan (LOAD_PLAN: the run's tag, the sign-ins, lead ids to open,
words to search for, the think time, where to write what the clients saw).

Each user signs in once, then mixes list pages, searches, lead pages, creating
leads and qualifying leads it created itself. Every request is recorded, with
what each create and qualify answered; run.py compares that with the database.
"""

from __future__ import annotations

import itertools
import json
import os
import random
import traceback
from pathlib import Path
from urllib.parse import quote

from locust import FastHttpUser, between, events, task
from locust.exception import StopUser

from benchmarks.load.report import (
    DUPLICATES,
    QUALIFIED,
    SIGN_IN,
    SIGN_IN_PAGE,
    ClientRecord,
    Sample,
    csrf_token,
    lead_id_from_location,
    qualify_outcome,
)

PLAN = json.loads(Path(os.environ["LOAD_PLAN"]).read_text())
RECORD = ClientRecord(tag=PLAN["tag"])
CREDENTIALS = itertools.cycle(PLAN["users"])
SERIAL = itertools.count(1)


@events.request.add_listener
def record_request(name, response_time, response, exception, start_time, **kwargs):
    status = getattr(response, "status_code", 0) or 0
    RECORD.samples.append(Sample(name, start_time, response_time, status, exception is None))


@events.user_error.add_listener
def record_user_error(exception, tb, **kwargs):
    RECORD.user_errors.append("".join(traceback.format_exception(exception))[-2000:])


@events.test_stop.add_listener
def write_record(**kwargs):
    # Fired once every user has finished its current task (locust --stop-timeout).
    Path(PLAN["record"]).write_text(json.dumps(RECORD.to_json()))


def _location(response) -> str | None:
    return response.headers.get("Location") if response.headers else None


class SalesUser(FastHttpUser):
    wait_time = between(*PLAN["wait"])

    def on_start(self) -> None:
        self.username, password = next(CREDENTIALS)
        self.own_leads: list[int] = []  # created in this run, not qualified yet
        token = self.page("/login/", SIGN_IN_PAGE)
        with self.client.post(
            "/login/",
            name=SIGN_IN,
            data={"username": self.username, "password": password, "csrfmiddlewaretoken": token},
            allow_redirects=False,
            catch_response=True,
        ) as response:
            signed_in = response.status_code == 302 and "/login/" not in (_location(response) or "")
            if not signed_in:
                response.failure(f"sign-in as {self.username} answered {response.status_code}")
        if not signed_in:
            raise StopUser()

    def page(self, url: str, name: str) -> str | None:
        """GET a page; anything but a 200 (a redirect to the sign-in page too) fails.
        Returns the page's CSRF token, if it has a form."""
        with self.client.get(
            url, name=name, allow_redirects=False, catch_response=True
        ) as response:
            if response.status_code != 200:
                response.failure(f"answered {response.status_code} {_location(response) or ''}")
                return None
            return csrf_token(response.text)

    @task(3)
    def my_open_leads(self) -> None:
        self.page("/leads/", "GET /leads/ (My Open Leads)")

    @task(2)
    def all_leads(self) -> None:
        self.page("/leads/?view=all", "GET /leads/?view=all")

    @task(2)
    def search(self) -> None:
        word = random.choice(PLAN["search_words"])
        self.page(f"/leads/?view=all&q={quote(word)}", "GET /leads/?view=all&q=<word>")

    @task(3)
    def lead_page(self) -> None:
        self.page(f"/leads/{random.choice(PLAN['lead_ids'])}/", "GET /leads/<id>/")

    @task(2)
    def create_lead(self) -> None:
        token = self.page("/leads/new/", "GET /leads/new/")
        if token is None:
            return
        # Unique company, person and email, so that qualifying finds no duplicates. No
        # spaces in it: duplicate detection ignores them ("rep 25" would match "rep2 5").
        unique = f"{RECORD.tag}-{self.username}-{next(SERIAL)}"
        topic = f"Load {unique}"
        with self.client.post(
            "/leads/new/",
            name="POST /leads/new/",
            data={
                "csrfmiddlewaretoken": token,
                "topic": topic,
                "first_name": "Load",
                "last_name": f"Client {unique}",
                "company_name": f"Load {unique} Ltd",
                "email": f"{unique}@load.example",
                "lead_source": "web",
                "rating": "warm",
                "preferred_contact_method": "any",
                "status_reason": "new",
            },
            allow_redirects=False,
            catch_response=True,
        ) as response:
            lead_id = lead_id_from_location(_location(response))
            if response.status_code != 302 or lead_id is None:
                response.failure(f"create answered {response.status_code}, not a redirect")
                return
        RECORD.created[lead_id] = topic
        self.own_leads.append(lead_id)

    @task(1)
    def qualify_own_lead(self) -> None:
        if not self.own_leads:
            return
        lead_id = self.own_leads.pop(random.randrange(len(self.own_leads)))
        # As a rep would: open the lead, press Qualify.
        token = self.page(f"/leads/{lead_id}/", "GET /leads/<new id>/")
        if token is None:
            return
        with self.client.post(
            f"/leads/{lead_id}/qualify/",
            name="POST /leads/<id>/qualify/",
            data={"csrfmiddlewaretoken": token},
            allow_redirects=False,
            catch_response=True,
        ) as response:
            outcome, opportunity = qualify_outcome(
                status=response.status_code,
                location=_location(response),
                body=response.text if response.status_code == 200 else None,
                lead_id=lead_id,
            )
            RECORD.qualify[lead_id] = (outcome, opportunity)
            if outcome not in (QUALIFIED, DUPLICATES):
                response.failure(f"qualify answered {response.status_code}: {outcome}")
