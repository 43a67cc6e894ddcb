"""Qualify or disqualify every open lead of a list: a background job with an
outcome per lead, exactly once each, that a new run continues."""

import pytest
from django.urls import reverse

from crm import jobs
from crm.models import Job, Notification
from leads import bulk
from leads.models import BulkAction, BulkOutcome, Lead, Rating
from opportunities.models import Opportunity
from tests.factories import AccountFactory, LeadFactory, currency

pytestmark = pytest.mark.django_db

QUALIFY = {
    "create_account": "yes",
    "create_contact": "yes",
    "create_opportunity": "yes",
}


@pytest.fixture
def hot_list(rep, rep2):
    """Seven hot open leads of rep's, one cold, one disqualified, one of rep2's."""
    hot = [LeadFactory(owner=rep, rating=Rating.HOT, company_name=f"Hot {i} Ltd") for i in range(7)]
    LeadFactory(owner=rep, rating=Rating.COLD)
    LeadFactory(owner=rep, rating=Rating.HOT, disqualified=True)
    LeadFactory(owner=rep2, rating=Rating.HOT)
    return hot


def test_every_open_lead_of_the_list_is_qualified_by_a_job(client, rep, hot_list, monkeypatch):
    monkeypatch.setattr(bulk, "CHUNK", 3)
    AccountFactory(name="Hot 3 Ltd")  # a duplicate: that lead waits for the rep
    client.force_login(rep)
    query = "view=my&rating=hot"

    response = client.post(
        reverse("leads:bulk_qualify"),
        {**QUALIFY, "currency": currency("USD").pk, "all_matching": "1", "query": query},
        follow=True,
    )

    found = BulkAction.objects.get()
    assert response.redirect_chain[-1][0] == found.get_absolute_url()
    assert (found.total, found.done, found.status) == (7, 0, "running")
    assert not Opportunity.objects.exists()  # nothing in the request

    jobs.run_queued()

    found.refresh_from_db()
    assert (found.status, found.done, found.succeeded) == ("done", 7, 6)
    assert Opportunity.objects.count() == 6
    refused = BulkOutcome.objects.get(ok=False)
    assert refused.lead.company_name == "Hot 3 Ltd" and "Possible duplicates" in refused.message
    assert BulkOutcome.objects.count() == 7  # one per lead
    assert Lead.objects.filter(state="open", rating=Rating.HOT, owner=rep).count() == 1
    page = client.get(found.get_absolute_url()).content.decode()
    assert str(refused.lead) in page and "Open the lead to qualify it" in page
    notification = Notification.objects.get(user=rep)
    assert notification.text == (
        "Your bulk action finished: 6 of 7 leads qualified; 1 could not be (see why)."
    )


def test_a_run_stopped_part_way_is_continued_without_repeating_a_lead(rep, hot_list, monkeypatch):
    monkeypatch.setattr(bulk, "CHUNK", 2)
    found = bulk.start_bulk_action(
        user=rep, action="disqualify", query="view=my&rating=hot", options={"reason": "lost"}
    )
    beats = []

    def die_after_two_chunks():
        beats.append(1)
        if len(beats) == 3:
            raise SystemExit("killed")

    with pytest.raises(SystemExit):
        bulk.run_bulk_action(bulk=found, alive=die_after_two_chunks)
    found.refresh_from_db()
    assert (found.done, found.status) == (4, "running")
    assert Lead.objects.filter(pk__in=[h.pk for h in hot_list], state="disqualified").count() == 4

    bulk.run_bulk_action(bulk=found)  # a new run, from where the last one committed

    found.refresh_from_db()
    assert (found.done, found.succeeded, found.status) == (7, 7, "done")
    assert BulkOutcome.objects.filter(bulk=found).count() == 7


def test_a_bad_reason_starts_nothing(client, rep, hot_list):
    client.force_login(rep)
    response = client.post(
        reverse("leads:bulk_disqualify"),
        {"reason": "won", "all_matching": "1", "query": "view=my"},
        follow=True,
    )
    assert "Choose a reason" in response.content.decode()
    assert not BulkAction.objects.exists() and not Job.objects.exists()


def test_only_its_owner_follows_a_bulk_action(client, rep, rep2, manager, hot_list):
    found = bulk.start_bulk_action(
        user=rep, action="disqualify", query="view=my", options={"reason": "lost"}
    )
    for other in (rep2, manager):
        client.force_login(other)
        assert client.get(found.get_absolute_url()).status_code == 403
    client.force_login(rep)
    page = client.get(found.get_absolute_url(), headers={"HX-Request": "1"}).content.decode()
    assert 'hx-trigger="every 2s"' in page


def test_the_list_offers_every_lead_of_the_list_when_it_has_more_pages(
    client, rep, settings, hot_list
):
    settings.LEADS_PER_PAGE = 3
    client.force_login(rep)
    page = client.get(reverse("leads:list"), {"view": "my"}).content.decode()
    assert 'data-testid="select-matching"' in page and 'name="query" value="view=my"' in page
    closed = client.get(reverse("leads:list"), {"view": "closed"}).content.decode()
    assert "select-matching" not in closed
