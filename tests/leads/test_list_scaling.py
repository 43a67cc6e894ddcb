"""The lead list at scale: keyset pagination gives every page, in every sort
order, with the same few queries whatever the number of leads, each page a
range scan of an index."""

import pytest
from django.db import connection
from django.db.models import Q
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from crm.pagination import CappedPaginator
from leads import selectors
from leads.listing import lead_page, pages
from leads.listing.cursor import Cursor
from leads.listing.search import search_condition, search_leads
from leads.listing.sorts import SORTS
from leads.models import Lead
from tests.factories import AccountFactory, LeadFactory, RepFactory

pytestmark = pytest.mark.django_db

# Session, user, roles, settings, the rows (and a page probe), the qualify dialog's
# currencies (asked on every qualify, reference 004).
MAX_LIST_QUERIES = 9


@pytest.fixture
def client_rep(client, rep):
    client.force_login(rep)
    return client


def make_leads(count: int, owners) -> None:
    """Leads with many ties in every sortable column, spread over the owners and states."""
    states = [{}, {"qualified": True}, {"disqualified": True}, {"status_reason": "contacted"}]
    for n in range(count):
        LeadFactory(
            owner=owners[n % len(owners)],
            topic=f"Topic {n % 3}",
            first_name=f"F{n % 2}",
            last_name=f"L{n % 4}",
            company_name=f"Company {n % 5}",
            lead_source=["web", "partner", "seminar"][n % 3],
            rating=["hot", "warm", "cold"][n % 3],
            **states[n % 4],
        )


LIST_REQUESTS = [
    {},
    {"view": "open"},
    {"view": "closed", "lead_source": "web", "rating": "hot"},
    {"view": "all"},
    {"view": "all", "q": "company"},
    {"view": "all", "sort": "-name"},
    {"view": "all", "sort": "owner"},
    {"view": "all", "created_after": "2000-01-01", "created_before": "2999-12-31"},
]


@pytest.mark.parametrize("params", LIST_REQUESTS, ids=lambda p: "&".join(map(str, p.values())))
def test_list_query_count_is_the_same_at_two_sizes(client_rep, rep, rep2, params):
    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            response = client_rep.get(reverse("leads:list"), params)
        assert response.status_code == 200
        return len(captured)

    make_leads(6, [rep, rep2])
    small = queries()
    make_leads(300, [rep, rep2])
    large = queries()

    assert small == large
    assert large <= MAX_LIST_QUERIES


def test_list_never_counts_the_whole_table(client_rep, rep):
    make_leads(60, [rep])
    with CaptureQueriesContext(connection) as captured:
        client_rep.get(reverse("leads:list"), {"view": "all"})
    assert not [q for q in captured if "COUNT(" in q["sql"].upper()]


def expected_order(qs, sort: str) -> list[int]:
    key = sort.lstrip("-")
    fields = ("owner__last_name", "owner__first_name", "owner_id") if key == "owner" else SORTS[key]
    prefix = "-" if sort.startswith("-") else ""
    return list(
        qs.order_by(*(f"{prefix}{f}" for f in (*fields, "pk"))).values_list("pk", flat=True)
    )


def walk(qs, sort: str, per_page: int) -> tuple[list[list[int]], list[list[int]]]:
    """Every page by Next links, then every page again by Previous links from the last."""
    forward = []
    page = lead_page(qs, sort=sort, per_page=per_page)
    forward.append([lead.pk for lead in page])
    while page.has_next:
        page = lead_page(qs, sort=sort, after=page.next_cursor, per_page=per_page)
        forward.append([lead.pk for lead in page])
    backward = [[lead.pk for lead in page]]
    while page.has_previous:
        if page.previous_cursor:
            page = lead_page(qs, sort=sort, before=page.previous_cursor, per_page=per_page)
        else:
            page = lead_page(qs, sort=sort, per_page=per_page)
        backward.append([lead.pk for lead in page])
    return forward, backward[::-1]


@pytest.mark.parametrize("sort", [s for key in SORTS for s in (key, f"-{key}")])
def test_keyset_pages_cover_the_list_in_order_both_ways(rep, rep2, sort):
    RepFactory(first_name="Aaron", last_name="Aardvark")  # an owner with no leads
    make_leads(23, [rep, rep2, RepFactory(first_name="Zed", last_name="Zulu")])
    qs = selectors.lead_list(user=rep, view="all")

    forward, backward = walk(qs, sort, per_page=4)

    assert [pk for page in forward for pk in page] == expected_order(qs, sort)
    assert [len(page) for page in forward] == [4] * 5 + [3]
    assert backward == forward


@pytest.mark.parametrize("view", selectors.VIEWS)
def test_keyset_pages_of_each_view_with_filters(rep, rep2, view):
    make_leads(30, [rep, rep2])
    qs = search_leads(selectors.lead_list(user=rep, view=view), "company")
    qs = qs.filter(rating__in=["hot", "warm"])

    forward, _ = walk(qs, "company", per_page=3)

    assert [pk for page in forward for pk in page] == expected_order(qs, "company")


def test_page_positions(rep):
    make_leads(7, [rep])
    qs = Lead.objects.all()
    first = lead_page(qs, per_page=3)
    second = lead_page(qs, after=first.next_cursor, per_page=3)
    third = lead_page(qs, after=second.next_cursor, per_page=3)

    assert (first.start_index, first.end_index, first.has_previous) == (1, 3, False)
    assert (second.start_index, second.end_index, second.previous_cursor) == (4, 6, None)
    assert (third.start_index, third.end_index, third.has_next) == (7, 7, False)
    back = lead_page(qs, before=third.previous_cursor, per_page=3)
    assert (back.start_index, [x.pk for x in back]) == (4, [x.pk for x in second])


@pytest.mark.parametrize(
    "cursor",
    [
        "garbage",
        "W10",
        Cursor(sort="created", key=(1,), position=1).encode(),  # too short a key
        Cursor(sort="created", key=("x", 2), position=1).encode(),  # not a date
        Cursor(sort="created", key=("2025-01-01T00:00:00+00:00", 2), position=0).encode(),
        Cursor(sort="-created", key=("2025-01-01T00:00:00+00:00", 2), position=1).encode(),
        Cursor(sort="topic", key=("x", 2), position=1).encode(),  # another sort's
        "",
    ],
)
def test_a_cursor_that_is_not_ours_shows_the_first_page(client_rep, rep, cursor):
    make_leads(3, [rep])
    for param in ("after", "before"):
        response = client_rep.get(
            reverse("leads:list"), {"view": "all", "sort": "created", param: cursor}
        )
        assert response.status_code == 200
        assert response.context["page"].start_index == 1
        assert len(response.context["page"]) == 3


def test_pagination_links_keep_view_filters_and_sort(client_rep, rep):
    make_leads(180, [rep])  # 60 hot leads: two pages
    params = {"view": "all", "rating": "hot", "sort": "-company"}
    first = client_rep.get(reverse("leads:list"), params)
    page = first.context["page"]
    assert page.has_next and not page.has_previous
    assert (
        f'rel="next" href="?view=all&amp;rating=hot&amp;sort=-company&amp;after={page.next_cursor}"'
        in (first.content.decode())
    )

    second = client_rep.get(reverse("leads:list"), {**params, "after": page.next_cursor})
    body = second.content.decode()

    assert 'rel="next"' not in body
    assert 'rel="prev" href="?view=all&amp;rating=hot&amp;sort=-company"' in body
    assert "51–60" in body
    assert {x.rating for x in second.context["page"]} == {"hot"}


# --- Indexes ----------------------------------------------------------------------------------


def plan_of(qs) -> str:
    sql, params = qs.query.sql_with_params()
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute(f"EXPLAIN QUERY PLAN {sql}", params)
            return " | ".join(str(row[-1]) for row in cursor.fetchall())
        # Tiny test tables are cheaper to scan and sort; forbid both to see
        # that an index can deliver the order.
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute("SET LOCAL enable_sort = off")
        cursor.execute(f"EXPLAIN {sql}", params)
        return " | ".join(row[0] for row in cursor.fetchall())


SORT_INDEXES = {
    "name": "lead_name",
    "topic": "lead_topic",
    "company": "lead_company",
    "status": "lead_status_reason",
    "source": "lead_source",
    "rating": "lead_rating",
    "created": "lead_created",
}


@pytest.mark.parametrize("sort", [s for key in SORT_INDEXES for s in (key, f"-{key}")])
def test_each_sort_reads_its_index_in_order(rep, sort):
    make_leads(5, [rep])
    page = lead_page(Lead.objects.all(), sort=sort, per_page=2)
    qs = Lead.objects.all()
    fields = SORTS[sort.lstrip("-")]
    prefix = "-" if sort.startswith("-") else ""
    ordered = qs.order_by(*(f"{prefix}{f}" for f in (*fields, "pk")))
    after = ordered.filter(
        pages._after(fields, Cursor.decode(page.next_cursor, sort).key, bool(prefix))
    )

    for query in (ordered[:51], after[:51]):
        plan = plan_of(query)
        assert SORT_INDEXES[sort.lstrip("-")] in plan, plan
        assert "TEMP B-TREE" not in plan and " Sort " not in f" {plan} ", plan


def test_my_open_leads_reads_an_index_in_order(rep):
    make_leads(5, [rep])
    plan = plan_of(selectors.lead_list(user=rep, view="my").order_by("-created_at", "-pk")[:51])

    if connection.vendor == "sqlite":
        assert "lead_owner_state_created" in plan, plan
    # On a tiny table PostgreSQL may prefer the state index; either way, no sort.
    assert "TEMP B-TREE" not in plan and " Sort " not in f" {plan} ", plan


def test_owner_sort_reads_the_owner_index(rep, rep2):
    make_leads(5, [rep, rep2])
    with CaptureQueriesContext(connection) as captured:
        lead_page(Lead.objects.all(), sort="owner")
    union = captured[-1]["sql"]
    assert "UNION ALL" in union
    inner = Lead.objects.filter(owner=rep).order_by("pk").values("pk")[:51]

    assert "lead_owner" in plan_of(inner)


# --- The capped count of the other lists --------------------------------------------------------


def test_capped_paginator_counts_up_to_the_cap(rep):
    for _ in range(7):
        AccountFactory(owner=rep)
    from accounts.models import Account

    capped = CappedPaginator(Account.objects.order_by("pk"), 2, cap=4)
    exact = CappedPaginator(Account.objects.order_by("pk"), 2, cap=10)

    assert (capped.count, capped.is_capped, capped.num_pages) == (4, True, 2)
    assert (exact.count, exact.is_capped, exact.num_pages) == (7, False, 4)
    assert list(capped.page(2)) == list(Account.objects.order_by("pk")[2:4])


# --- The SQLite index hint --------------------------------------------------------------------

sqlite_only = pytest.mark.skipif(
    connection.vendor != "sqlite", reason="PostgreSQL's planner weighs the LIMIT itself"
)


@sqlite_only
def test_sqlite_reads_a_filtered_page_through_the_sort_index(client_rep, rep):
    make_leads(10, [rep])
    with CaptureQueriesContext(connection) as captured:
        response = client_rep.get(
            reverse("leads:list"),
            {"view": "closed", "lead_source": "web", "rating": "hot", "sort": "company"},
        )
    hinted = [q["sql"] for q in captured if "INDEXED BY" in q["sql"]]

    assert len(hinted) == 1 and 'INDEXED BY "lead_company"' in hinted[0]
    assert [x.pk for x in response.context["page"]] == expected_order(
        Lead.objects.filter(
            state__in=["qualified", "disqualified"], lead_source="web", rating="hot"
        ),
        "company",
    )


@sqlite_only
def test_sqlite_sorts_the_few_leads_of_a_narrow_filter_instead(client_rep, rep, rep2, monkeypatch):
    make_leads(10, [rep, rep2])
    monkeypatch.setattr(pages, "FEW_LEADS", 4)  # rep has 5 leads, 3 of them open
    my_open = set(Lead.objects.filter(owner=rep, state="open").values_list("pk", flat=True))

    assert pages._few_leads([]) is None
    assert pages._few_leads([Q(owner=rep)]) is None
    assert set(pages._few_leads([Q(owner=rep), Q(owner=rep, state="open")])) == my_open

    with CaptureQueriesContext(connection) as captured:
        response = client_rep.get(reverse("leads:list"), {"sort": "-rating"})
    assert not [q for q in captured if "INDEXED BY" in q["sql"]]
    assert [x.pk for x in response.context["page"]] == expected_order(
        Lead.objects.filter(pk__in=my_open), "-rating"
    )


def test_a_search_matching_few_leads_pages_through_them(client_rep, rep, monkeypatch):
    make_leads(10, [rep])
    LeadFactory(owner=rep, last_name="Zyxwvut", email="z@z.example")
    LeadFactory(owner=rep, last_name="Zyxwvutsr", email="y@z.example", qualified=True)
    monkeypatch.setattr(pages, "FEW_LEADS", 3)

    assert len(pages._few_leads([search_condition("zyxwv")])) == 2
    assert pages._few_leads([search_condition("company")]) is None
    for params in ({"view": "all", "q": "zyxwv"}, {"view": "all", "q": "company 1"}):
        response = client_rep.get(reverse("leads:list"), {**params, "sort": "name"})
        expected = search_leads(Lead.objects.all(), params["q"])
        assert [x.pk for x in response.context["page"]] == expected_order(expected, "name")
