"""The list pages' filters, sorts, cursors and page numbers, and the record
pages' timeline page, given hostile query strings by Hypothesis.

A GET must answer 200 whatever its parameters (a filter it cannot read is
ignored) and change nothing. Values that overflow a 64-bit integer are left
to the explicit tests in test_query_params.py, where the known failures are.

Examples per page: FUZZ_EXAMPLES (default 30); a longer run by hand:

    FUZZ_EXAMPLES=500 .venv/bin/pytest tests/security/test_fuzz_queries.py
"""

from __future__ import annotations

import base64
import json

import pytest
from django.test import Client
from django.urls import reverse
from hypothesis import given
from hypothesis import strategies as st

from accounts.filters import AccountFilter, ContactFilter
from activities.filters import ActivityFilter
from activities.models import Activity
from leads import selectors
from leads.listing.sorts import SORTS
from leads.models import Lead, LeadSource, Rating
from opportunities.filters import OpportunityFilter
from opportunities.models import Opportunity
from tests.factories import (
    AccountFactory,
    ActivityFactory,
    ContactFactory,
    LeadFactory,
    NoteFactory,
    OpportunityFactory,
    currency,
)

from .hostile import (
    MALFORMED,
    choice_of,
    dates,
    form_data,
    fuzz,
    hostile_in_range,
    ids,
    submit,
    texts,
)

pytestmark = pytest.mark.django_db

LEAD_SORTS = list(SORTS)
sorts = st.sampled_from([*LEAD_SORTS, *(f"-{key}" for key in LEAD_SORTS), "--name", "owner!"])
pages = st.integers(min_value=-(2**40), max_value=2**40).map(str)
# Junk for a page number, without the numbers whose page offset overflows 64
# bits (a known 500: test_query_params.py::test_timeline_page_past_64_bits_...).
page_junk = st.one_of(
    texts, pages, st.sampled_from([v for v in MALFORMED if len(v.lstrip("-")) < 15])
)


def _encode(data) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).decode().rstrip("=")


# What a cursor's key may hold once decoded: anything JSON has, within what
# the database's integers hold.
cursor_values = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**62), max_value=2**62),
    st.floats(min_value=-1e15, max_value=1e15),
    st.just(float("nan")),
    st.text(max_size=20),
    st.datetimes().map(lambda d: d.isoformat()),
    st.lists(st.integers(min_value=0, max_value=9), max_size=2),
)
cursors = st.one_of(
    texts,
    st.builds(
        lambda sort, position, key: _encode([sort, position, key]),
        sorts,
        st.one_of(st.integers(min_value=-5, max_value=2**62), cursor_values),
        st.lists(cursor_values, max_size=4),
    ),
)


@pytest.fixture
def as_manager(manager):
    client = Client()
    client.force_login(manager)
    return client


@pytest.fixture
def world(manager, rep):
    """A few records of each kind for the lists and pages to show."""
    account = AccountFactory(owner=manager)
    contact = ContactFactory(owner=rep, account=account)
    lead = LeadFactory(owner=manager)
    LeadFactory.create_batch(3, owner=rep)
    opportunity = OpportunityFactory(owner=manager, account=account)
    for record in (lead, account, contact, opportunity):
        regarding = {record._meta.model_name: record}
        NoteFactory(author=manager, **regarding)
        ActivityFactory(owner=manager, **regarding)
    return {
        "lead": lead,
        "account": account,
        "contact": contact,
        "opportunity": opportunity,
        "users": (manager.pk, rep.pk),
    }


def get_ok(client, url: str, params: dict) -> None:
    response = submit(client, "get", url, params, success=lambda r: False)
    assert response.status_code == 200, f"GET {url} {params!r}: {response.status_code}"


@fuzz
@given(data=st.data())
def test_lead_list_survives_hostile_query(data, as_manager, world):
    params = data.draw(
        form_data(
            {
                "q": texts,
                "view": st.sampled_from([*selectors.VIEWS, "none"]),
                "status_reason": choice_of(Lead.StatusReason.choices),
                "lead_source": choice_of(LeadSource.choices),
                "rating": choice_of(Rating.choices),
                "owner": ids(*world["users"]),
                "created_after": dates,
                "created_before": dates,
                "sort": sorts,
                "after": cursors,
                "before": cursors,
            },
            corrupt_at_most=4,
            junk=hostile_in_range,
        )
    )
    get_ok(as_manager, reverse("leads:list"), params)


def sortable_list_fields(world, sort_keys) -> dict:
    return {
        "q": texts,
        "owner": ids(*world["users"]),
        "sort": st.sampled_from(["", *sort_keys, *(f"-{k}" for k in sort_keys)]),
        "page": st.one_of(pages, st.sampled_from(["last", "0", "-1"])),
    }


@pytest.mark.parametrize(
    ("url_name", "sort_keys"),
    [("accounts:list", AccountFilter.SORTS), ("accounts:contact_list", ContactFilter.SORTS)],
)
@fuzz
@given(data=st.data())
def test_account_and_contact_lists_survive_hostile_query(
    data, url_name, sort_keys, as_manager, world
):
    params = data.draw(
        form_data(sortable_list_fields(world, sort_keys), corrupt_at_most=4, junk=hostile_in_range)
    )
    get_ok(as_manager, reverse(url_name), params)


@fuzz
@given(data=st.data())
def test_opportunity_list_survives_hostile_query(data, as_manager, world):
    fields = {
        **sortable_list_fields(world, OpportunityFilter.SORTS),
        "state": choice_of(Opportunity.State.choices),
        "stage": ids(world["opportunity"].stage_id),
        "currency": ids(currency().pk),
    }
    params = data.draw(form_data(fields, corrupt_at_most=4, junk=hostile_in_range))
    get_ok(as_manager, reverse("opportunities:list"), params)


@fuzz
@given(data=st.data())
def test_my_activities_survive_hostile_query(data, as_manager, world):
    params = data.draw(
        form_data(
            {
                "q": texts,
                "type": choice_of(Activity.Type.choices),
                "status": st.sampled_from([*Activity.Status.values, "all"]),
                "due": st.sampled_from(["", "overdue", "today", "week"]),
                "sort": st.sampled_from(["", "-", *ActivityFilter.SORTS, "-due"]),
                "page": pages,
            },
            corrupt_at_most=4,
            junk=hostile_in_range,
        )
    )
    get_ok(as_manager, reverse("activities:list"), params)


@fuzz
@given(data=st.data())
def test_record_pages_survive_hostile_timeline_page(data, as_manager, world):
    kind = data.draw(st.sampled_from(["lead", "account", "contact", "opportunity"]))
    record = world[kind]
    params = data.draw(form_data({"timeline_page": pages}, junk=page_junk))
    get_ok(as_manager, record.get_absolute_url(), params)
