"""Hand-picked hostile parameters: the ones the fuzz tests found to fail (each
was a 500 until fixed; the tests keep them fixed) and their neighbours that
must keep working."""

from __future__ import annotations

import base64
import json

import pytest
from django.test import Client
from django.urls import reverse

from leads.models import Lead
from tests.factories import (
    AccountFactory,
    ActivityFactory,
    ConnectionFactory,
    ContactFactory,
    LeadFactory,
    OpportunityFactory,
)

from .hostile import NASTY_STRINGS, submit

pytestmark = pytest.mark.django_db


@pytest.fixture
def as_manager(manager):
    client = Client()
    client.force_login(manager)
    return client


@pytest.fixture
def lead(manager):
    return LeadFactory(owner=manager, last_name="Davolio")


def get_ok(client, url: str, params: dict | None = None):
    response = submit(client, "get", url, params, success=lambda r: False)
    assert response.status_code == 200, f"GET {url} {params!r}: {response.status_code}"
    return response


def cursor(data) -> str:
    """A lead-list cursor as leads.listing.cursor.Cursor.encode writes one, around any JSON."""
    return base64.urlsafe_b64encode(json.dumps(data).encode()).decode().rstrip("=")


# --- The timeline's page number ------------------------------------------------------------


@pytest.mark.parametrize("page", ["0", "-1", "abc", "1e3", "²", "2" * 12, "\x00", ""])
def test_timeline_page_outside_the_pages_shows_the_record(as_manager, lead, page):
    get_ok(as_manager, lead.get_absolute_url(), {"timeline_page": page})


@pytest.mark.parametrize("page", ["500000000000000000", "9" * 23])
@pytest.mark.parametrize("kind", ["lead", "account", "contact", "opportunity"])
def test_timeline_page_past_64_bits_is_not_a_500(as_manager, manager, kind, page):
    record = {
        "lead": lambda: LeadFactory(owner=manager),
        "account": lambda: AccountFactory(owner=manager),
        "contact": lambda: ContactFactory(owner=manager),
        "opportunity": lambda: OpportunityFactory(owner=manager),
    }[kind]()
    get_ok(as_manager, record.get_absolute_url(), {"timeline_page": page})


# --- The lead form's account/contact look-ups ----------------------------------------------


@pytest.mark.parametrize("url_name", ["accounts:lookup", "accounts:contact_lookup"])
@pytest.mark.parametrize("value", ["", "abc", "-1", "1.0", "0x1", "9" * 30, "١٢", "\x00", "😀"])
def test_lookup_of_a_bad_id_is_a_404(as_manager, url_name, value):
    response = submit(as_manager, "get", reverse(url_name), {"id": value}, success=lambda r: False)
    assert response.status_code == 404


@pytest.mark.parametrize("url_name", ["accounts:lookup", "accounts:contact_lookup"])
@pytest.mark.parametrize("value", ["²", "①", "1²"])
def test_lookup_of_a_superscript_digit_is_a_404(as_manager, url_name, value):
    response = submit(as_manager, "get", reverse(url_name), {"id": value}, success=lambda r: False)
    assert response.status_code == 404


# --- The lead list's keyset cursors ---------------------------------------------------------


@pytest.mark.parametrize(
    ("sort", "value"),
    [
        ("-created", "not-a-cursor"),
        ("-created", cursor(["-created", 1, ["2026-01-01T00:00:00+00:00", 1]])),
        ("-created", cursor(["-created", 1, ["2026-01-01T00:00:00+00:00", "NaN"]])),
        ("-created", cursor(["-created", 1, ["not a date", 1]])),
        ("-created", cursor(["-created", 0, ["2026-01-01T00:00:00+00:00", 1]])),
        ("-created", cursor(["-created", True, [None, None]])),
        ("-created", cursor(["-created", 1, ["2026-01-01T00:00:00+00:00", 2**63 - 1]])),
        ("name", cursor(["name", 3, [{"a": 1}, [], 1]])),
        ("owner", cursor(["owner", 1, [2**62, 2**62]])),
        ("company", cursor(["-created", 1, ["2026-01-01T00:00:00+00:00", 1]])),
    ],
)
def test_lead_list_ignores_a_bad_cursor(as_manager, lead, sort, value):
    for param in ("after", "before"):
        get_ok(as_manager, reverse("leads:list"), {"view": "all", "sort": sort, param: value})


@pytest.mark.parametrize("param", ["after", "before"])
def test_lead_list_ignores_a_cursor_holding_infinity(as_manager, lead, param):
    # json.dumps cannot write 1e309 itself: it writes Infinity, which json.loads reads too.
    value = cursor(["-created", 1, ["2026-01-01T00:00:00+00:00", float("inf")]])
    get_ok(as_manager, reverse("leads:list"), {"view": "all", param: value})


def test_lead_list_ignores_a_cursor_past_64_bits(as_manager, lead):
    value = cursor(["-created", 1, ["2026-01-01T00:00:00+00:00", 10**23]])
    get_ok(as_manager, reverse("leads:list"), {"view": "all", "after": value})


# --- The lead list sorted by owner, with a filter that matches nothing ---------------------


@pytest.mark.parametrize("sort", ["name", "-created", "company"])
def test_search_matching_nothing_shows_an_empty_list(as_manager, lead, sort):
    response = get_ok(as_manager, reverse("leads:list"), {"view": "all", "sort": sort, "q": "zz"})
    assert list(response.context["page"]) == []


@pytest.mark.parametrize("sort", ["owner", "-owner"])
@pytest.mark.parametrize(
    "narrowing",
    [
        pytest.param({"q": "zz"}),
        pytest.param({"created_after": "2000-01-01", "created_before": "2000-01-01"}),
    ],
    ids=["search", "date-range"],
)
def test_owner_sort_with_a_filter_matching_nothing_shows_an_empty_list(
    as_manager, lead, sort, narrowing
):
    response = get_ok(as_manager, reverse("leads:list"), {"view": "all", "sort": sort, **narrowing})
    assert list(response.context["page"]) == []


def test_my_open_leads_sorted_by_owner_with_no_lead_is_empty(rep):
    client = Client()
    client.force_login(rep)
    response = get_ok(client, reverse("leads:list"), {"view": "my", "sort": "owner"})
    assert list(response.context["page"]) == []


# --- Bulk qualify ---------------------------------------------------------------------------


@pytest.mark.parametrize("value", ["-1", "0", str(2**63 - 1), "abc", "1.5", ""])
def test_bulk_qualify_of_no_such_lead_qualifies_nothing(as_manager, value):
    submit(as_manager, "post", reverse("leads:bulk_qualify"), {"lead_ids": [value]})


def test_bulk_qualify_of_an_id_past_64_bits_qualifies_nothing(as_manager, lead):
    submit(as_manager, "post", reverse("leads:bulk_qualify"), {"lead_ids": ["9" * 23]})
    lead.refresh_from_db()
    assert lead.state == Lead.State.OPEN


# --- `next`: where a view returns to --------------------------------------------------------


def next_targets(manager) -> dict[str, tuple[str, dict]]:
    """A POST URL and data for each view that goes back to `next`."""
    lead = LeadFactory(owner=manager)
    note_lead = LeadFactory(owner=manager)
    connection = ConnectionFactory(lead=lead)
    activity = ActivityFactory(lead=lead, owner=manager)
    return {
        "bulk_qualify": (reverse("leads:bulk_qualify"), {}),
        "note_add": (reverse("activities:note_add", args=["lead", note_lead.pk]), {"text": "x"}),
        "activity_add": (
            reverse("activities:add", args=["lead", lead.pk, "task"]),
            {"subject": "Call back", "priority": "normal"},
        ),
        "activity_complete": (reverse("activities:complete", args=[activity.pk]), {}),
        "stakeholder_role": (
            reverse("activities:stakeholder_role", args=[connection.pk]),
            {"role": "influencer"},
        ),
    }


TARGETS = ["bulk_qualify", "note_add", "activity_add", "activity_complete", "stakeholder_role"]


@pytest.mark.parametrize("target", TARGETS)
@pytest.mark.parametrize(
    "next_url",
    ["//evil.example/", "https://evil.example/", "javascript:alert(1)", "/\\evil.example"],
)
def test_next_pointing_off_site_is_ignored(as_manager, manager, target, next_url):
    url, data = next_targets(manager)[target]
    response = submit(as_manager, "post", url, {**data, "next": next_url})
    assert response.status_code == 302
    assert response["Location"].startswith("/") and not response["Location"].startswith("//")


@pytest.mark.parametrize("target", TARGETS)
@pytest.mark.parametrize("next_url", ["0", "foo"])
def test_next_that_is_not_a_path_is_ignored(as_manager, manager, target, next_url):
    url, data = next_targets(manager)[target]
    response = submit(as_manager, "post", url, {**data, "next": next_url})
    assert response.status_code in (200, 302)


# --- Stakeholder search ---------------------------------------------------------------------

SEARCHES = [s for s in NASTY_STRINGS if "\x00" not in s] + ["x" * 10_000, "%", "_", "\\"]


@pytest.mark.parametrize("query", SEARCHES)
def test_stakeholder_search_survives_hostile_text(as_manager, lead, query):
    ContactFactory(first_name="Nancy", last_name="Davolio")
    url = reverse("activities:stakeholder_search", args=["lead", lead.pk])
    get_ok(as_manager, url, {"q": query})


def test_stakeholder_search_with_a_nul_character_is_not_a_500(as_manager, lead):
    url = reverse("activities:stakeholder_search", args=["lead", lead.pk])
    get_ok(as_manager, url, {"q": "Dav\x00olio"})


# --- Sign-in --------------------------------------------------------------------------------


@pytest.mark.parametrize("username", ["x" * 151, "😀" * 200])
def test_login_with_a_long_username_is_refused(manager, username):
    response = submit(
        Client(), "post", reverse("login"), {"username": username, "password": "password"}
    )
    assert response.status_code == 200 and response.context["form"].errors


def test_login_with_a_username_longer_than_255_is_refused(manager):
    response = submit(
        Client(), "post", reverse("login"), {"username": "x" * 256, "password": "password"}
    )
    assert response.status_code == 200 and response.context["form"].errors
