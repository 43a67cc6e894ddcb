"""Every admin list page (ours and other apps': users, groups, sign-in attempts)
given malformed query strings: a list the address cannot describe answers the
plain list with a message, never a 500, on SQLite and PostgreSQL alike.

Examples per list: FUZZ_EXAMPLES (default 30).
"""

from __future__ import annotations

from urllib.parse import urlencode

import pytest
from django.contrib import admin
from django.test import Client
from django.urls import reverse
from hypothesis import given
from hypothesis import strategies as st

from tests.factories import AccountFactory, ActivityFactory, LeadFactory, OpportunityFactory

from .hostile import MALFORMED, fuzz, hostile

pytestmark = pytest.mark.django_db

REGISTERED = sorted(
    ((m._meta.app_label, m._meta.model_name) for m in admin.site._registry),
    key=lambda pair: "_".join(pair),
)
LIST_IDS = [f"{app}.{model}" for app, model in REGISTERED]


def changelist(app: str, model: str) -> str:
    return reverse(f"admin:{app}_{model}_changelist")


def model_admin(app: str, model: str):
    return next(
        a for m, a in admin.site._registry.items() if m._meta.label_lower == f"{app}.{model}"
    )


@pytest.fixture
def as_admin(admin_user):
    client = Client(raise_request_exception=False)
    client.force_login(admin_user)
    return client


@pytest.fixture
def records(rep):
    lead = LeadFactory(owner=rep)
    ActivityFactory(lead=lead, owner=rep)
    OpportunityFactory(owner=rep, account=AccountFactory(owner=rep))


def get(client: Client, url: str, query: dict | str):
    query_string = query if isinstance(query, str) else urlencode(query, doseq=True)
    return client.get(f"{url}?{query_string}")


def assert_no_error(response, url: str, query) -> None:
    assert response.status_code < 500, f"{response.status_code} for {url}?{query}"
    if response.status_code == 302:
        # The plain list, with a message saying why (the organisation settings'
        # list is its one record's page).
        assert response["Location"].startswith(url), (url, query, response["Location"])
        assert "?" not in response["Location"]


# The reported cases, on every list that has the field.
REPORTED = [
    "state=%00",
    "created_at__year=99999999999999999999",
    "created_at__year=2026&created_at__month=99999999999999999999",
    "created_at__year=2026&created_at__month=2&created_at__day=31",
    "q=%00",
    "q=a%00b",
    "o=%00",
    "p=%00",
    "id__exact=99999999999999999999",
    "id__gt=99999999999999999999",
    "owner__id__exact=99999999999999999999",
    "owner__id__exact=%00",
    "id__in=1,%00,2",
    "pk__in=99999999999999999999",
    "created_at__gte=%00",
    "created_at__gte=99999-01-01",
    "is_active__exact=%00",
    "%00=1",
    "e=%00",
    "_changelist_filters=%00",
]


@pytest.mark.parametrize(("app", "model"), REGISTERED, ids=LIST_IDS)
@pytest.mark.parametrize("query", REPORTED)
def test_a_reported_malformed_query_is_not_a_500(as_admin, records, app, model, query):
    url = changelist(app, model)
    response = get(as_admin, url, query)
    assert_no_error(response, url, query)


def test_the_reported_lead_filters_answer_the_list_with_a_message(as_admin, records):
    url = changelist("leads", "lead")
    for query in ("state=%00", "created_at__year=99999999999999999999"):
        response = as_admin.get(f"{url}?{query}", follow=True)
        assert response.status_code == 200
        assert response.redirect_chain == [(url, 302)]
        page = response.content.decode()
        assert "This list could not be filtered, searched or sorted as the address asked" in page
        assert "Something’s wrong with your database installation" not in page


def test_the_plain_list_and_good_filters_still_work(as_admin, records):
    url = changelist("leads", "lead")
    assert as_admin.get(url).status_code == 200
    assert as_admin.get(f"{url}?state__exact=open&created_at__year=2026").status_code == 200


def test_other_admin_pages_refuse_a_nul_with_400(as_admin, records, rep):
    lead = LeadFactory(owner=rep)
    for url in (
        reverse("admin:leads_lead_change", args=[lead.pk]) + "?x=%00",
        reverse("admin:leads_lead_history", args=[lead.pk]) + "?p=%00",
        reverse("admin:autocomplete") + "?term=%00&app_label=leads&model_name=lead&field_name=x",
    ):
        response = as_admin.get(url)
        assert response.status_code == 400, url
        assert "NUL character" in response.content.decode()


def _keys(app: str, model: str) -> list[str]:
    """Query keys a list may be given: its filters' fields with lookups, its date
    drill-down, and the list's own parameters."""
    options = model_admin(app, model)
    fields = [f for f in options.list_filter if isinstance(f, str)]
    keys = ["q", "o", "p", "all", "e", "id", "pk__in", "_to_field"]
    for field in fields:
        keys += [field, f"{field}__exact", f"{field}__in", f"{field}__isnull", f"{field}__gte"]
        keys += [f"{field}__id__exact", f"{field}__lt"]
    if options.date_hierarchy:
        keys += [f"{options.date_hierarchy}__{part}" for part in ("year", "month", "day")]
    return keys


OVERFLOWING = st.sampled_from(
    ["99999999999999999999", "-99999999999999999999", "1e309", *MALFORMED]
)


@pytest.mark.parametrize(("app", "model"), REGISTERED, ids=LIST_IDS)
def test_fuzzed_queries_never_answer_500(as_admin, records, app, model):
    url = changelist(app, model)
    keys = _keys(app, model)

    @fuzz
    @given(
        st.dictionaries(
            st.one_of(st.sampled_from(keys), st.text(max_size=10)),
            st.one_of(hostile, OVERFLOWING),
            min_size=1,
            max_size=4,
        )
    )
    def check(query):
        response = get(as_admin, url, query)
        assert_no_error(response, url, query)

    check()
