"""The lead list's text search runs on the full-text index (FTS5 on SQLite, a GIN
tsvector index on PostgreSQL), and that index follows every write."""

from io import StringIO

import pytest
from django.core.management import call_command
from django.db import connection
from django.urls import reverse

from benchmarks.generate import add_generated_leads
from leads import services
from leads.listing.search import search_leads, search_terms
from leads.models import Lead
from tests.factories import LeadFactory

pytestmark = pytest.mark.django_db


def found(text: str) -> set[int]:
    return set(search_leads(Lead.objects.all(), text).values_list("pk", flat=True))


@pytest.fixture
def client_rep(client, rep):
    client.force_login(rep)
    return client


@pytest.fixture
def nancy(rep):
    return services.create_lead(
        user=rep,
        topic="Expansion to the Tacoma warehouse",
        first_name="Nancy",
        last_name="Davolio",
        company_name="Northwind Traders",
        email="nancy.davolio@northwind.example",
    )


@pytest.fixture
def other(rep):
    return services.create_lead(
        user=rep,
        topic="Pilot of 25 terminals",
        first_name="Andrew",
        last_name="Fuller",
        company_name="Contoso Ltd",
        email="andrew@contoso.example",
    )


@pytest.mark.parametrize(
    "text",
    [
        "Nancy",  # first name
        "davolio",  # last name, any case
        "Northwind",  # company
        "Traders",  # a later word of the company
        "nancy.davolio@northwind.example",  # the whole email
        "northwind.example",  # the email's domain
        "Tacoma",  # topic
        "warehouse expansion",  # several words, any order
        "Dav",  # the start of a word
        "nancy dav",  # the last word may be incomplete: the rep is still typing
        "nancy northwind tacoma",  # words from different fields
    ],
)
def test_search_finds_by_name_company_email_and_topic(nancy, other, text):
    assert found(text) == {nancy.pk}


@pytest.mark.parametrize("text", ["avolio", "Nancy Fuller", "tacoma-x", "zzz", "dav nancy"])
def test_search_needs_whole_words_and_a_start_of_word_last(nancy, other, text):
    assert found(text) == set()


def test_blank_or_punctuation_only_search_does_not_filter(nancy, other):
    assert found("") == found("  ") == found("@.-") == {nancy.pk, other.pk}


def test_search_text_cannot_inject_query_syntax(nancy, other):
    for text in ['"', "NEAR(", "a OR b", "x:* | y", "' or 1=1 --", "nancy*", "(nancy)"]:
        found(text)  # no database error
    assert found("nancy*") == found("(nancy)") == {nancy.pk}


def test_search_terms_split_like_the_indexes():
    assert search_terms("Nancy.Davolio@NW.example  Margie's_x") == [
        "nancy",
        "davolio",
        "nw",
        "example",
        "margie",
    ]


def test_search_finds_a_lead_edited_after_creation_by_its_new_text_only(rep, nancy):
    services.update_lead(
        lead=nancy,
        user=rep,
        last_name="Leverling",
        company_name="Fabrikam Inc",
        email="janet@fabrikam.example",
        topic="Rugged field tablets",
    )

    for text in ["Leverling", "Fabrikam", "janet@fabrikam.example", "tablets"]:
        assert found(text) == {nancy.pk}, text
    for text in ["Davolio", "Northwind", "Tacoma"]:
        assert found(text) == set(), text


def test_search_follows_orm_saves_queryset_updates_and_deletes(rep):
    lead = LeadFactory(
        owner=rep, last_name="Peacock", company_name="Lucerne Publishing", email="mp@lp.example"
    )
    assert found("Peacock") == {lead.pk}

    lead.last_name = "Buchanan"
    lead.save()
    Lead.objects.filter(pk=lead.pk).update(company_name="Woodgrove Bank")
    assert found("Peacock") == found("Lucerne") == set()
    assert found("Buchanan Woodgrove") == {lead.pk}

    lead.delete()
    assert found("Buchanan") == set()


def test_search_is_unchanged_by_lifecycle_changes(rep, nancy):
    services.disqualify_lead(lead=nancy, user=rep, reason="lost")
    services.reactivate_lead(lead=nancy, user=rep)
    services.qualify_lead(lead=nancy, user=rep)

    assert found("Davolio") == {nancy.pk}


def test_search_finds_bulk_seeded_leads():
    call_command("seed_demo", force=True, stdout=StringIO(), stderr=StringIO())
    add_generated_leads(Lead.objects.count() + 300)
    generated = Lead.objects.filter(email__endswith="@example.com").order_by("pk").last()

    assert found(generated.email) == {generated.pk}
    assert generated.pk in found(f"{generated.last_name} {generated.company_name}")


def test_list_search_uses_the_full_text_index(client_rep, rep, nancy, other):
    response = client_rep.get(reverse("leads:list"), {"view": "all", "q": "davolio northwind"})

    assert [lead.pk for lead in response.context["page"]] == [nancy.pk]


def test_search_query_plan_uses_the_full_text_index(nancy):
    sql, params = search_leads(Lead.objects.all(), "davolio").query.sql_with_params()
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute(f"EXPLAIN QUERY PLAN {sql}", params)
            plan = " ".join(str(row[-1]) for row in cursor.fetchall())
            assert "VIRTUAL TABLE INDEX" in plan, plan
        else:
            # A tiny table is cheaper to scan; forbid that to see the index is usable.
            cursor.execute("SET LOCAL enable_seqscan = off")
            cursor.execute(f"EXPLAIN {sql}", params)
            plan = " ".join(row[0] for row in cursor.fetchall())
            assert "lead_search" in plan, plan
