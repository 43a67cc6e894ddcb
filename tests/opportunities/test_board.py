"""The opportunity board: columns by stage with counts and totals in the base
currency, the list's filters, a page of cards per column with "show more", and
moving a card through the gated stage service."""

from datetime import date
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from crm.models import ProcessStage, ProcessStep
from opportunities import board, services
from opportunities.models import Opportunity
from tests.factories import OpportunityFactory, currency

pytestmark = pytest.mark.django_db
URL = reverse("opportunities:board")
MAX_BOARD_QUERIES = 10


def stage(name: str) -> ProcessStage:
    return ProcessStage.objects.get(process__is_default=True, name=name)


def columns_of(response) -> dict[str, board.Column]:
    return {c.stage.name: c for c in response.context["columns"]}


def test_columns_are_the_flows_opportunity_stages_with_counts_and_base_totals(client, rep):
    OpportunityFactory(owner=rep, estimated_revenue=Decimal("1000"), currency=currency("USD"))
    OpportunityFactory(owner=rep, estimated_revenue=Decimal("920"), currency=currency("EUR"))
    OpportunityFactory(owner=rep, estimated_revenue=None)
    proposing = OpportunityFactory(
        owner=rep, estimated_revenue=Decimal("15000"), currency=currency("JPY")
    )
    services.move_to_next_stage(opportunity=proposing, user=rep)
    won = OpportunityFactory(owner=rep, estimated_revenue=Decimal("999"))
    services.close_opportunity(opportunity=won, user=rep, won=True)  # closed: not on the board
    client.force_login(rep)

    response = client.get(URL)

    columns = columns_of(response)
    assert list(columns) == ["Develop", "Propose", "Close"]
    assert (columns["Develop"].count, columns["Develop"].total) == (3, Decimal("2000.00"))
    assert (columns["Propose"].count, columns["Propose"].total) == (1, Decimal("100.00"))
    assert (columns["Close"].count, columns["Close"].total) == (0, Decimal("0.00"))
    html = response.content.decode()
    assert "USD 2,000" in html and "USD 100" in html
    assert won.name not in html


def test_the_board_takes_the_lists_filters(client, rep, rep2):
    mine = OpportunityFactory(owner=rep, name="Mine soon", estimated_close_date=date(2026, 12, 5))
    OpportunityFactory(owner=rep, name="Mine later", estimated_close_date=date(2027, 6, 1))
    OpportunityFactory(owner=rep2, name="Theirs soon", estimated_close_date=date(2026, 12, 6))
    client.force_login(rep)

    def names(params) -> set[str]:
        response = client.get(URL, params)
        return {card.name for c in response.context["columns"] for card in c.cards}

    assert names({"mine": "on"}) == {"Mine soon", "Mine later"}
    assert names({"owner": rep2.pk}) == {"Theirs soon"}
    assert names({"close_after": "2026-12-01", "close_before": "2026-12-31"}) == {
        "Mine soon",
        "Theirs soon",
    }
    assert names({"mine": "on", "close_before": "2026-12-31"}) == {mine.name}
    assert columns_of(client.get(URL, {"mine": "on"}))["Develop"].count == 2


def test_a_column_shows_a_page_of_cards_and_shows_more_on_demand(client, rep, settings):
    made = OpportunityFactory.create_batch(board.CARDS_PER_COLUMN + 5, owner=rep)
    client.force_login(rep)

    develop = columns_of(client.get(URL))["Develop"]

    newest_first = sorted((o.pk for o in made), reverse=True)
    assert [c.pk for c in develop.cards] == newest_first[: board.CARDS_PER_COLUMN]
    assert develop.more_after == newest_first[board.CARDS_PER_COLUMN - 1]
    more = client.get(
        URL, {"column": develop.stage.pk, "after": develop.more_after}, HTTP_HX_REQUEST="true"
    )
    assert [c.pk for c in more.context["column"].cards] == newest_first[board.CARDS_PER_COLUMN :]
    assert more.context["column"].more_after is None
    assert 'data-testid="show-more"' not in more.content.decode()


def test_the_board_query_count_is_flat_with_data_size(client, rep, rep2):
    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert client.get(URL, {"close_after": "2020-01-01"}).status_code == 200
        return len(captured)

    client.force_login(rep)
    OpportunityFactory.create_batch(3, owner=rep)
    small = queries()
    for opportunity in OpportunityFactory.create_batch(60, owner=rep2):
        if opportunity.pk % 2:
            services.move_to_next_stage(opportunity=opportunity, user=rep2)
    large = queries()
    assert small == large <= MAX_BOARD_QUERIES


def test_dropping_a_card_moves_its_stage(client, rep):
    opportunity = OpportunityFactory(owner=rep, name="Gloves")
    client.force_login(rep)
    response = client.post(
        reverse("opportunities:move", args=[opportunity.pk]),
        {"stage": stage("Close").pk},
        HTTP_ACCEPT="application/json",
    )
    assert response.status_code == 200
    assert response.json() == {"message": "“Gloves” moved to Close."}
    opportunity.refresh_from_db()
    assert opportunity.stage.name == "Close"


def test_a_refused_drop_answers_the_reason_and_changes_nothing(client, rep, rep2):
    ProcessStep.objects.filter(field_name="customer_need").update(is_required=True)
    opportunity = OpportunityFactory(owner=rep)
    client.force_login(rep)
    response = client.post(
        reverse("opportunities:move", args=[opportunity.pk]),
        {"stage": stage("Propose").pk},
        HTTP_ACCEPT="application/json",
    )
    assert response.status_code == 409
    assert response.json() == {
        "error": f"“{opportunity}” was not moved: These required steps are not filled in "
        "yet: Customer need."
    }

    client.force_login(rep2)
    response = client.post(
        reverse("opportunities:move", args=[opportunity.pk]),
        {"stage": stage("Develop").pk},
        HTTP_ACCEPT="application/json",
    )
    assert response.status_code == 403
    assert "Only the owner or a sales manager" in response.json()["error"]
    opportunity.refresh_from_db()
    assert opportunity.stage.name == "Develop"


@pytest.mark.parametrize("value", ["", "abc", "999999"])
def test_a_drop_on_no_stage_is_refused(client, rep, value):
    opportunity = OpportunityFactory(owner=rep)
    client.force_login(rep)
    response = client.post(
        reverse("opportunities:move", args=[opportunity.pk]),
        {"stage": value},
        HTTP_ACCEPT="application/json",
    )
    assert response.status_code == 409
    opportunity.refresh_from_db()
    assert opportunity.stage.name == "Develop"


def test_the_move_form_without_a_script_goes_back_to_the_board(client, rep):
    opportunity = OpportunityFactory(owner=rep)
    client.force_login(rep)
    response = client.post(
        reverse("opportunities:move", args=[opportunity.pk]),
        {"stage": stage("Propose").pk, "next": URL + "?mine=on"},
    )
    assert response.status_code == 302 and response.url == URL + "?mine=on"
    assert Opportunity.objects.get().stage.name == "Propose"


def test_cards_of_another_rep_offer_no_move(client, rep, rep2):
    theirs = OpportunityFactory(owner=rep2)
    mine = OpportunityFactory(owner=rep)
    client.force_login(rep)
    html = client.get(URL).content.decode()
    assert reverse("opportunities:move", args=[mine.pk]) in html
    assert reverse("opportunities:move", args=[theirs.pk]) not in html
