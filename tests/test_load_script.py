"""The pure parts of the load run (benchmarks/load/report.py): reading the app's
answers, the percentile maths and the checks that nothing was lost. No load is run."""

from __future__ import annotations

import json
import math

import pytest

from benchmarks.load.report import (
    ALL_REQUESTS,
    DUPLICATES,
    QUALIFIED,
    REFUSED,
    SIGN_IN,
    SIGN_IN_PAGE,
    UNEXPECTED,
    ClientRecord,
    DatabaseRecord,
    Sample,
    after_sign_ins,
    csrf_token,
    lead_id_from_location,
    percentile,
    qualify_outcome,
    server_log_check,
    summarise,
    verify,
)

# --- Reading the app's answers ---------------------------------------------------------------


def test_csrf_token_is_read_from_the_first_form():
    html = (
        '<form><input type="hidden" name="csrfmiddlewaretoken" value="abc123"></form>'
        '<form><input type="hidden" name="csrfmiddlewaretoken" value="other"></form>'
    )

    assert csrf_token(html) == "abc123"
    assert csrf_token("<p>no form</p>") is None
    assert csrf_token(None) is None


@pytest.mark.parametrize(
    ("location", "lead_id"),
    [
        ("/leads/42/", 42),
        ("http://127.0.0.1:8000/leads/42/", 42),
        ("/leads/new/", None),
        ("/leads/42/edit/", None),
        ("/login/?next=/leads/new/", None),
        (None, None),
    ],
)
def test_lead_id_from_location(location, lead_id):
    assert lead_id_from_location(location) == lead_id


def test_qualify_outcome_reads_each_answer():
    duplicates_page = '<form method="post" data-testid="duplicate-warning">'

    assert qualify_outcome(status=302, location="/opportunities/7/", body=None, lead_id=3) == (
        QUALIFIED,
        7,
    )
    assert qualify_outcome(status=302, location="/leads/3/", body=None, lead_id=3) == (
        REFUSED,
        None,
    )
    assert qualify_outcome(status=200, location=None, body=duplicates_page, lead_id=3) == (
        DUPLICATES,
        None,
    )
    # The qualify options form, a redirect elsewhere, an error, no answer at all.
    assert qualify_outcome(status=200, location=None, body="<form>", lead_id=3)[0] == UNEXPECTED
    assert qualify_outcome(status=302, location="/leads/4/", body=None, lead_id=3)[0] == UNEXPECTED
    assert qualify_outcome(status=500, location=None, body="", lead_id=3)[0] == UNEXPECTED
    assert qualify_outcome(status=0, location=None, body=None, lead_id=3)[0] == UNEXPECTED


# --- The figures ----------------------------------------------------------------------------


def test_percentile_is_nearest_rank():
    values = list(range(1, 101))  # 1..100, shuffled order must not matter
    values.reverse()

    assert percentile(values, 50) == 50
    assert percentile(values, 95) == 95
    assert percentile(values, 99) == 99
    assert percentile(values, 100) == 100
    assert percentile(values, 0) == 1


def test_percentile_of_few_values():
    assert percentile([7.0], 99) == 7.0
    assert percentile([10, 20, 30, 40], 50) == 20
    assert percentile([10, 20, 30, 40], 51) == 30
    assert percentile([10, 20, 30, 40], 99) == 40
    assert math.isnan(percentile([], 50))


def test_summarise_gives_a_row_per_request_type_and_one_for_all():
    samples = [
        Sample("GET /leads/", start=100.0, ms=10, status=200, ok=True),
        Sample("GET /leads/", start=101.0, ms=30, status=200, ok=True),
        Sample("POST /leads/new/", start=102.0, ms=50, status=500, ok=False),
        Sample("GET /leads/", start=103.0, ms=20, status=200, ok=True),
        Sample("GET /leads/", start=109.9, ms=100, status=200, ok=True),  # ends at 110.0
    ]

    rows = {row.name: row for row in summarise(samples)}

    assert list(rows) == ["GET /leads/", "POST /leads/new/", ALL_REQUESTS]
    leads = rows["GET /leads/"]
    assert (leads.requests, leads.failures, leads.p50, leads.max) == (4, 0, 20, 100)
    assert leads.rps == 0.4  # 4 requests in 10 s, first start to last answer
    overall = rows[ALL_REQUESTS]
    assert (overall.requests, overall.failures, overall.rps, overall.p50) == (5, 1, 0.5, 30)


def test_client_record_survives_json():
    record = ClientRecord(
        tag="load-x",
        samples=[Sample("GET /", 1.5, 2.5, 200, True)],
        created={12: "Load x rep 1"},
        qualify={12: (QUALIFIED, 40)},
    )

    again = ClientRecord.from_json(json.loads(json.dumps(record.to_json())))

    assert again == record


# --- Nothing lost ---------------------------------------------------------------------------


def _client(**kwargs) -> ClientRecord:
    samples = kwargs.pop("samples", [Sample("GET /leads/", 1.0, 5.0, 200, True)])
    return ClientRecord(tag="load-x", samples=samples, **kwargs)


def _qualified_lead(opportunity: int, account: int, contact: int) -> dict:
    return {
        "state": "qualified",
        "qualified_account": account,
        "qualified_contact": contact,
        "qualified_opportunity": opportunity,
    }


OPEN_LEAD = {
    "state": "open",
    "qualified_account": None,
    "qualified_contact": None,
    "qualified_opportunity": None,
}


def _good_run() -> tuple[ClientRecord, DatabaseRecord]:
    client = _client(
        created={1: "a", 2: "b", 3: "c"},
        qualify={1: (QUALIFIED, 10), 2: (DUPLICATES, None)},
    )
    db = DatabaseRecord(
        leads={1: _qualified_lead(10, 100, 1000), 2: dict(OPEN_LEAD), 3: dict(OPEN_LEAD)},
        opportunities={1: [10]},
        accounts={1: [100]},
        contacts={1: [1000]},
    )
    return client, db


def _failed(checks) -> list[str]:
    return [c.name for c in checks if not c.ok]


def test_verify_passes_when_the_database_matches_the_answers():
    assert _failed(verify(*_good_run())) == []


def test_verify_catches_a_lead_created_but_never_acknowledged():
    client, db = _good_run()
    db.leads[4] = dict(OPEN_LEAD)

    assert _failed(verify(client, db)) == ["leads in the database = successful create answers"]


def test_verify_catches_an_acknowledged_lead_missing_from_the_database():
    client, db = _good_run()
    del db.leads[3]

    checks = verify(client, db)

    assert _failed(checks) == ["leads in the database = successful create answers"]
    assert "not in the database: 3" in checks[2].detail


def test_verify_catches_a_second_opportunity():
    client, db = _good_run()
    db.opportunities[1] = [10, 11]

    assert _failed(verify(client, db)) == ["each qualified lead has exactly one opportunity"]


def test_verify_catches_a_duplicate_account_or_a_missing_contact():
    client, db = _good_run()
    db.accounts[1] = [100, 101]
    assert _failed(verify(client, db)) == ["each qualified lead has one account and one contact"]

    client, db = _good_run()
    db.leads[1]["qualified_contact"] = None
    db.contacts[1] = []
    assert _failed(verify(client, db)) == ["each qualified lead has one account and one contact"]


def test_verify_catches_records_left_by_a_qualify_that_was_not_answered_qualified():
    client, db = _good_run()
    db.accounts[2] = [102]  # the duplicates answer promised nothing was created

    assert _failed(verify(client, db)) == [
        "no lead qualified or half-qualified without a qualified answer"
    ]


def test_verify_catches_server_errors_and_failed_requests():
    client, db = _good_run()
    client.samples += [
        Sample("GET /leads/<id>/", 2.0, 5.0, 500, False),
        Sample("GET /leads/", 3.0, 5.0, 0, False),
    ]

    checks = verify(client, db)

    assert _failed(checks) == [
        "no 5xx answers",
        "no failed requests (4xx, no answer, unexpected answer)",
    ]
    assert "GET /leads/ -> no answer" in checks[1].detail


def test_verify_refuses_a_run_that_did_nothing():
    client = _client()
    db = DatabaseRecord(leads={}, opportunities={}, accounts={}, contacts={})

    assert _failed(verify(client, db)) == ["the run created and qualified leads"]


def test_server_log_check_flags_worker_timeouts():
    quiet = "[2026-11-22 19:13:32 +0000] [1] [INFO] Booting worker with pid: 2\n"
    timeout = "[2026-11-22 19:13:40 +0000] [1] [CRITICAL] WORKER TIMEOUT (pid:2)\n"

    assert server_log_check(quiet).ok
    assert not server_log_check(quiet + timeout).ok


def test_after_sign_ins_keeps_the_requests_started_once_every_user_was_in():
    samples = [
        Sample(SIGN_IN_PAGE, start=100.0, ms=10, status=200, ok=True),
        Sample(SIGN_IN, start=100.1, ms=900, status=302, ok=True),  # answered at 101.0
        Sample(SIGN_IN, start=100.2, ms=1800, status=302, ok=True),  # answered at 102.0
        Sample("GET /leads/", start=101.5, ms=600, status=200, ok=True),  # queued behind it
        Sample("GET /leads/", start=102.0, ms=50, status=200, ok=True),
        Sample("GET /leads/", start=103.0, ms=60, status=200, ok=True),
    ]

    working, after = after_sign_ins(samples)

    assert [s.start for s in working] == [102.0, 103.0]
    assert after == pytest.approx(2.0)
    assert after_sign_ins(samples[3:]) == (samples[3:], 0.0)
