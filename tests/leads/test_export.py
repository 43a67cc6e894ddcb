import csv
import io
from datetime import UTC, datetime
from decimal import Decimal

import pytest
from django.http import StreamingHttpResponse
from django.urls import reverse

from leads import csv_export
from leads.models import Lead, LeadSource, Rating
from tests.factories import LeadFactory, currency

pytestmark = pytest.mark.django_db


def export(client, **params) -> tuple[StreamingHttpResponse, list[dict]]:
    response = client.get(reverse("leads:export"), params)
    body = b"".join(response.streaming_content)
    assert body.startswith(b"\xef\xbb\xbf"), "no UTF-8 byte order mark for Excel"
    rows = list(csv.DictReader(io.StringIO(body.decode("utf-8-sig"), newline="")))
    return response, rows


def topics(rows: list[dict]) -> list[str]:
    return [row["Topic"] for row in rows]


def test_export_streams_a_csv_attachment_with_a_human_header(client, rep):
    LeadFactory(owner=rep)
    client.force_login(rep)
    response, rows = export(client)
    assert isinstance(response, StreamingHttpResponse)
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"].startswith('attachment; filename="leads-')
    assert list(rows[0]) == csv_export.HEADER
    assert {"Topic", "Company", "Status reason", "Owner", "Created"} <= set(rows[0])


def test_export_of_a_filtered_view_contains_exactly_its_leads(client, rep, rep2):
    hot_web = LeadFactory(owner=rep, topic="Hot web", rating=Rating.HOT)
    LeadFactory(owner=rep, topic="Hot trade show", rating=Rating.HOT, lead_source="trade_show")
    LeadFactory(owner=rep, topic="Warm web", rating=Rating.WARM)
    LeadFactory(owner=rep, topic="Hot closed", rating=Rating.HOT, disqualified=True)
    hot_other = LeadFactory(owner=rep2, topic="Hot web of rep2", rating=Rating.HOT)
    client.force_login(rep)

    _, rows = export(client, view="open", rating="hot", lead_source="web")
    assert sorted(topics(rows)) == sorted([hot_web.topic, hot_other.topic])

    _, rows = export(client, view="my", rating="hot", lead_source="web")
    assert topics(rows) == [hot_web.topic]

    _, rows = export(client, view="all", rating="hot", owner=rep2.pk)
    assert topics(rows) == [hot_other.topic]

    _, rows = export(client, view="closed")
    assert topics(rows) == ["Hot closed"]


def test_export_applies_the_search(client, rep):
    LeadFactory(owner=rep, topic="Printers", company_name="Contoso Pharmaceuticals")
    LeadFactory(owner=rep, topic="Scanners", company_name="Fabrikam")
    client.force_login(rep)
    _, rows = export(client, view="all", q="contoso")
    assert topics(rows) == ["Printers"]


def test_export_keeps_the_sort_of_the_list_across_chunks(client, rep, monkeypatch):
    monkeypatch.setattr(csv_export, "CHUNK_SIZE", 3)
    for name in ["Delta", "Alpha", "Echo", "Bravo", "Charlie", "Foxtrot", "Golf"]:
        LeadFactory(owner=rep, topic=name)
    client.force_login(rep)
    _, rows = export(client, view="all", sort="topic")
    assert topics(rows) == ["Alpha", "Bravo", "Charlie", "Delta", "Echo", "Foxtrot", "Golf"]
    _, rows = export(client, view="all", sort="-created")
    assert len(rows) == 7 and len(set(topics(rows))) == 7


def test_export_shows_labels_owner_name_and_iso_dates(client, rep):
    rep.first_name, rep.last_name = "Nancy", "Davolio"
    rep.save()
    LeadFactory(
        owner=rep,
        lead_source=LeadSource.TRADE_SHOW,
        rating=Rating.HOT,
        budget_amount=Decimal("1500.00"),
        currency=currency("EUR"),
        created_at=datetime(2026, 3, 4, 5, 6, 7, tzinfo=UTC),
    )
    client.force_login(rep)
    _, [row] = export(client, view="all")
    assert row["Lead source"] == "Trade Show"
    assert row["Rating"] == "Hot"
    assert row["Status"] == "Open"
    assert row["Status reason"] == "New"
    assert row["Owner"] == "Nancy Davolio"
    assert row["Budget amount"] == "1500.00"
    assert row["Currency"] == "EUR"
    assert datetime.fromisoformat(row["Created"]) == datetime(2026, 3, 4, 5, 6, 7, tzinfo=UTC)


@pytest.mark.parametrize("start", ["=", "+", "-", "@", "\t", "\r"])
def test_export_neutralises_formulas(client, rep, start):
    LeadFactory(owner=rep, topic=f'{start}HYPERLINK("http://evil.example")', last_name="-1+2")
    client.force_login(rep)
    _, [row] = export(client, view="all")
    assert row["Topic"] == f'\'{start}HYPERLINK("http://evil.example")'
    assert row["Last name"] == "'-1+2"


def test_export_round_trips_unicode_and_newlines(client, rep):
    LeadFactory(
        owner=rep,
        topic="Übernahme, „Zürich“ 東京 🚀",
        first_name="Zoë",
        last_name="Ørsted",
        description='Line one\nline "two"; three',
    )
    client.force_login(rep)
    _, [row] = export(client, view="all")
    assert row["Topic"] == "Übernahme, „Zürich“ 東京 🚀"
    assert (row["First name"], row["Last name"]) == ("Zoë", "Ørsted")
    assert row["Description"] == 'Line one\nline "two"; three'


def test_export_query_count_does_not_grow_with_the_leads(
    client, rep, rep2, monkeypatch, django_assert_max_num_queries
):
    monkeypatch.setattr(csv_export, "CHUNK_SIZE", 10)
    for i in range(30):
        LeadFactory(owner=rep if i % 2 else rep2, currency=currency("EUR" if i % 3 else "USD"))
    client.force_login(rep)
    # Session and user, the currencies, then at most two queries per chunk of 10.
    with django_assert_max_num_queries(3 + 2 * 4):
        _, rows = export(client, view="all", sort="owner")
    assert len(rows) == 30
    assert Lead.objects.count() == 30


def test_a_rep_exports_leads_they_do_not_own(client, rep, rep2):
    LeadFactory(owner=rep2, topic="Not mine")
    client.force_login(rep)
    _, rows = export(client, view="all")
    assert topics(rows) == ["Not mine"]


def test_export_needs_a_sign_in(client):
    response = client.get(reverse("leads:export"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))
