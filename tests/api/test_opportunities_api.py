"""Opportunities through the API: the list, a version check, and the process
moves and close/reopen through the same gated services."""

import pytest
from django.urls import reverse

from crm.models import ProcessStep
from opportunities.models import Opportunity
from tests.api.test_leads_api import client_for
from tests.factories import OpportunityFactory

pytestmark = pytest.mark.django_db


def test_the_list_pages_newest_first_and_filters(rep, rep2):
    mine = [OpportunityFactory(owner=rep, name=f"Deal {i}") for i in range(5)]
    OpportunityFactory(owner=rep2, name="Theirs")
    client = client_for(rep, read_only=True)
    names, url, params = [], reverse("api:opportunities"), {"mine": "on", "limit": 2}
    page = client.get(url, params).json()
    while True:
        names += [o["name"] for o in page["results"]]
        if not page["next"]:
            break
        page = client.get(page["next"]).json()
    assert names == [o.name for o in reversed(mine)]
    bad = client.get(url, {"cursor": "not-a-cursor"})
    assert bad.status_code == 400 and "cursor" in bad.json()["errors"]


def test_moves_are_gated_and_close_and_reopen(rep):
    step = ProcessStep.objects.get(stage__process__is_default=True, field_name="customer_need")
    step.is_required = True
    step.save()
    opportunity = OpportunityFactory(owner=rep)
    client = client_for(rep)

    gated = client.post(reverse("api:opportunity_next_stage", args=[opportunity.pk]))
    assert gated.status_code == 422
    assert gated.json()["code"] == "required_steps_missing"
    assert gated.json()["steps"] == ["Customer need"]

    etag = client.get(reverse("api:opportunity", args=[opportunity.pk]))["ETag"]
    filled = client.patch(
        reverse("api:opportunity", args=[opportunity.pk]),
        {"customer_need": "Rugged tablets"},
        format="json",
        HTTP_IF_MATCH=etag,
    )
    assert filled.status_code == 200
    stale = client.patch(
        reverse("api:opportunity", args=[opportunity.pk]),
        {"customer_need": "Other"},
        format="json",
        HTTP_IF_MATCH=etag,
    )
    assert stale.status_code == 412
    moved = client.post(reverse("api:opportunity_next_stage", args=[opportunity.pk]))
    assert moved.status_code == 200 and moved.json()["stage"] != gated.json().get("stage")
    back = client.post(reverse("api:opportunity_previous_stage", args=[opportunity.pk]))
    assert back.status_code == 200

    closed = client.post(
        reverse("api:opportunity_close", args=[opportunity.pk]),
        {"won": True, "actual_revenue": "12500.00", "close_date": "2026-11-30"},
        format="json",
    )
    assert closed.status_code == 200, closed.content
    assert closed.json()["state"] == "won" and closed.json()["actual_revenue"] == "12500.00"
    again = client.post(
        reverse("api:opportunity_close", args=[opportunity.pk]), {"won": False}, format="json"
    )
    assert again.status_code == 409 and again.json()["code"] == "opportunity_closed"
    reopened = client.post(reverse("api:opportunity_reopen", args=[opportunity.pk]))
    assert reopened.status_code == 200 and reopened.json()["state"] == "open"
    opportunity.refresh_from_db()
    assert opportunity.state == Opportunity.State.OPEN


def test_a_wrong_close_reason_is_refused(rep):
    opportunity = OpportunityFactory(owner=rep)
    response = client_for(rep).post(
        reverse("api:opportunity_close", args=[opportunity.pk]),
        {"won": True, "status_reason": "canceled"},
        format="json",
    )
    problem = response.json()
    assert response.status_code == 422 and problem["code"] == "status_reason_not_allowed"
    assert "status reason" in problem["errors"]["status_reason"][0]
    opportunity.refresh_from_db()
    assert opportunity.state == "open"


def test_each_refused_move_has_its_own_code(rep):
    client = client_for(rep)
    opportunity = OpportunityFactory(owner=rep)
    first = client.post(reverse("api:opportunity_previous_stage", args=[opportunity.pk]))
    assert first.status_code == 409 and first.json()["code"] == "no_such_stage"
    again = client.post(reverse("api:opportunity_reopen", args=[opportunity.pk]))
    assert again.status_code == 409 and again.json()["code"] == "opportunity_not_closed"
