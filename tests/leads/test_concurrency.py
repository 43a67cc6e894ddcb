"""Concurrent changes to one lead: the row lock and the edit check let exactly one win.

The races run on PostgreSQL with real threads, each on its own connection, in
transactional tests (the rows must be committed for the other threads to see
them). The sequential and web checks of the edit conflict run on both databases.
"""

import pytest
from django.urls import reverse

from accounts.models import Account, Contact
from crm.models import OrganizationSettings
from leads import services
from leads.exceptions import LeadChanged, LeadNotOpen
from leads.models import Lead
from opportunities.models import Opportunity
from tests.concurrency import on_postgresql, race, run_all
from tests.factories import LeadFactory, RepFactory
from tests.reference_data import restore_reference_data

THREADS = 10


@pytest.fixture
def reference_data(transactional_db):
    restore_reference_data()
    # Created here, not by the first of the racing threads: the races are about the lead.
    OrganizationSettings.load()


def run_concurrently(target, count: int) -> list:
    """Run `target()` in `count` threads released at the same instant; return outcomes."""
    return run_all([target] * count)


def fresh(lead: Lead) -> Lead:
    """The lead as a request would load it: a new instance from the database."""
    return Lead.objects.get(pk=lead.pk)


def records_from(lead: Lead) -> tuple[int, int, int]:
    """How many accounts, contacts and opportunities exist for this lead's data."""
    return (
        Account.objects.filter(name=lead.company_name).count(),
        Contact.objects.filter(email=lead.email).count(),
        Opportunity.objects.filter(originating_lead=lead).count(),
    )


def totals() -> tuple[int, int, int]:
    return Account.objects.count(), Contact.objects.count(), Opportunity.objects.count()


# --- many qualifies of one lead --------------------------------------------------------------


@on_postgresql
@race
def test_concurrent_qualifies_of_one_lead_create_one_set_of_records(reference_data):
    rep = RepFactory()
    lead = LeadFactory(owner=rep, company_name="Race Condition Ltd")

    outcomes = run_concurrently(lambda: services.qualify_lead(lead=fresh(lead), user=rep), THREADS)

    wins = [o for o in outcomes if isinstance(o, services.QualifyResult)]
    refusals = [o for o in outcomes if isinstance(o, LeadNotOpen)]
    assert len(wins) == 1, outcomes
    assert len(refusals) == THREADS - 1, outcomes
    for refusal in refusals:
        assert refusal.message == (
            "This lead is already qualified; only an open lead can be qualified."
        )
    assert totals() == (1, 1, 1)
    win = wins[0]
    lead.refresh_from_db()
    assert (lead.state, lead.status_reason) == (Lead.State.QUALIFIED, Lead.StatusReason.QUALIFIED)
    assert lead.qualified_account == win.account
    assert lead.qualified_contact == win.contact
    assert lead.qualified_opportunity == win.opportunity
    assert win.opportunity.originating_lead_id == lead.pk
    assert win.opportunity.account == win.account
    assert (lead.qualified_by, lead.disqualified_at) == (rep, None)


# --- qualify against disqualify --------------------------------------------------------------

QUALIFY, DISQUALIFY = "qualify", "disqualify"
PAST = {QUALIFY: "qualified", DISQUALIFY: "disqualified"}


@on_postgresql
@race
def test_qualify_racing_disqualify_has_one_winner_and_a_consistent_lead(reference_data):
    rep = RepFactory()
    winners = []
    for round_ in range(12):
        lead = LeadFactory(owner=rep, company_name=f"Tug of War {round_} Ltd")
        actions = {
            QUALIFY: lambda lead=lead: services.qualify_lead(lead=fresh(lead), user=rep),
            DISQUALIFY: lambda lead=lead: services.disqualify_lead(
                lead=fresh(lead), user=rep, reason=Lead.StatusReason.LOST
            ),
        }
        # Alternate which one goes first: qualify 50 ms ahead, disqualify 50 ms
        # ahead (the follower often meets the row lock still held), or both at
        # the same instant (either may win).
        order = [QUALIFY, DISQUALIFY] if round_ % 3 == 0 else [DISQUALIFY, QUALIFY]
        head_start = {1: 0.05} if round_ % 3 < 2 else {}
        outcomes = dict(
            zip(order, run_all([actions[a] for a in order], head_start=head_start), strict=True)
        )

        losers = [a for a, o in outcomes.items() if isinstance(o, Exception)]
        assert len(losers) == 1, (round_, outcomes)
        loser = losers[0]
        winner = DISQUALIFY if loser == QUALIFY else QUALIFY
        error = outcomes[loser]
        assert isinstance(error, LeadNotOpen), (round_, outcomes)
        assert error.message == (
            f"This lead is already {PAST[winner]}; only an open lead can be {PAST[loser]}."
        )
        winners.append(winner)

        lead.refresh_from_db()
        if winner == QUALIFY:
            assert (lead.state, lead.status_reason) == (
                Lead.State.QUALIFIED,
                Lead.StatusReason.QUALIFIED,
            )
            assert records_from(lead) == (1, 1, 1)
            assert lead.qualified_opportunity == outcomes[QUALIFY].opportunity
            assert lead.disqualified_at is None
        else:
            assert (lead.state, lead.status_reason) == (
                Lead.State.DISQUALIFIED,
                Lead.StatusReason.LOST,
            )
            assert records_from(lead) == (0, 0, 0)
            assert (lead.qualified_account, lead.qualified_contact) == (None, None)
            assert (lead.qualified_opportunity, lead.qualified_at) == (None, None)
    # Both endings were exercised (the head start decides two rounds in three).
    assert set(winners) == {QUALIFY, DISQUALIFY}, winners


# --- bulk qualify against single qualifies ---------------------------------------------------


@on_postgresql
@race
def test_bulk_qualify_racing_single_qualifies_qualifies_each_lead_once(reference_data):
    rep = RepFactory()
    # Distinct names, so no lead's records look like another's duplicates.
    leads = [
        LeadFactory(
            owner=rep,
            first_name=f"Pat{i}",
            last_name=f"Overlap{i}",
            email=f"pat{i}@overlap.example",
            company_name=f"Overlap {i} Ltd",
        )
        for i in range(20)
    ]

    def bulk(order):
        return lambda: services.qualify_leads(leads=[fresh(x) for x in order], user=rep)

    def singles(order):
        def run():
            results = []
            for lead in order:
                try:
                    results.append(services.qualify_lead(lead=fresh(lead), user=rep))
                except LeadNotOpen as exc:
                    results.append(services.QualifyResult(lead=lead, error=exc))
            return results

        return run

    interleaved = leads[::2] + leads[1::2]
    outcomes = run_all([bulk(leads), singles(leads[::-1]), bulk(interleaved)])

    assert all(isinstance(o, list) and len(o) == 20 for o in outcomes), outcomes
    results = [r for thread in outcomes for r in thread]
    # Every refusal is the well-defined LeadNotOpen; no deadlock or other DatabaseError.
    assert [r.error for r in results if r.error and not isinstance(r.error, LeadNotOpen)] == []
    for lead in leads:
        won = [r for r in results if r.lead.pk == lead.pk and r.ok]
        assert len(won) == 1, lead
        lead.refresh_from_db()
        assert lead.state == Lead.State.QUALIFIED
        assert records_from(lead) == (1, 1, 1)
        assert lead.qualified_opportunity == won[0].opportunity
        assert lead.qualified_account == won[0].account
    assert totals() == (20, 20, 20)


# --- two edits of one lead -------------------------------------------------------------------


def edit(lead: Lead, user, loaded, change: dict):
    """An editor who loaded `lead` at version `loaded` saving `change`."""
    return lambda: services.update_lead(
        lead=fresh(lead), user=user, expected_modified_at=loaded, **change
    )


@on_postgresql
@race
def test_concurrent_edits_with_the_same_loaded_version_save_one(reference_data):
    rep = RepFactory()
    for round_ in range(5):
        lead = LeadFactory(owner=rep, topic="Original", rating="warm")
        loaded = fresh(lead).modified_at
        changes = [{"topic": "Edited by A"}, {"rating": "cold"}]
        outcomes = run_all([edit(lead, rep, loaded, change) for change in changes])

        saved = [i for i, o in enumerate(outcomes) if isinstance(o, Lead)]
        refused = [o for o in outcomes if isinstance(o, LeadChanged)]
        assert len(saved) == 1 and len(refused) == 1, (round_, outcomes)
        assert "someone else changed this lead" in refused[0].message.lower()
        lead.refresh_from_db()
        winner = changes[saved[0]]
        assert (lead.topic, lead.rating) == (
            winner.get("topic", "Original"),
            winner.get("rating", "warm"),
        )
        assert lead.modified_at > loaded


@pytest.mark.django_db
def test_edit_with_a_stale_version_is_refused_and_changes_nothing(rep):
    lead = LeadFactory(owner=rep, topic="Original", rating="warm")
    loaded_by_a = loaded_by_b = fresh(lead).modified_at

    services.update_lead(
        lead=fresh(lead), user=rep, expected_modified_at=loaded_by_a, topic="Edited by A"
    )
    after_a = Lead.objects.filter(pk=lead.pk).values().get()
    with pytest.raises(LeadChanged, match="Someone else changed this lead"):
        services.update_lead(
            lead=fresh(lead), user=rep, expected_modified_at=loaded_by_b, rating="cold"
        )

    assert Lead.objects.filter(pk=lead.pk).values().get() == after_a
    assert (after_a["topic"], after_a["rating"]) == ("Edited by A", "warm")


@pytest.mark.django_db
def test_edit_with_the_current_version_or_without_a_check_saves(rep):
    lead = LeadFactory(owner=rep, topic="Original")
    services.update_lead(
        lead=fresh(lead), user=rep, expected_modified_at=fresh(lead).modified_at, topic="One"
    )
    services.update_lead(lead=fresh(lead), user=rep, topic="Two")  # no check: last write wins
    assert fresh(lead).topic == "Two"


@pytest.fixture
def client_rep(client, rep):
    client.force_login(rep)
    return client


def _edit_post(lead: Lead, **overrides) -> dict:
    data = {
        "topic": lead.topic,
        "first_name": lead.first_name,
        "last_name": lead.last_name,
        "company_name": lead.company_name,
        "email": lead.email,
        "rating": lead.rating,
        "status_reason": lead.status_reason,
        "preferred_contact_method": lead.preferred_contact_method,
        "lead_source": lead.lead_source,
    }
    return {**data, **overrides}


@pytest.mark.django_db
def test_edit_form_carries_the_loaded_version(client_rep, rep):
    lead = LeadFactory(owner=rep)
    response = client_rep.get(reverse("leads:edit", args=[lead.pk]))
    form = response.context["form"]
    assert form["loaded_modified_at"].value() == fresh(lead).modified_at.isoformat()
    assert 'type="hidden" name="loaded_modified_at"' in response.content.decode()


@pytest.mark.django_db
def test_edit_form_posted_with_a_stale_version_shows_a_message_and_saves_nothing(client_rep, rep):
    lead = LeadFactory(owner=rep, topic="Original", rating="warm")
    url = reverse("leads:edit", args=[lead.pk])
    stale = client_rep.get(url).context["form"]["loaded_modified_at"].value()
    # Someone else saves the lead while this editor has the form open.
    services.update_lead(lead=fresh(lead), user=rep, rating="hot")
    before = Lead.objects.filter(pk=lead.pk).values().get()

    response = client_rep.post(url, _edit_post(lead, topic="Mine", loaded_modified_at=stale))

    assert response.status_code == 409  # Conflict: the lead changed since the form was loaded
    assert response.context["form"]["topic"].value() == "Mine"  # the user's input comes back
    body = response.content.decode()
    assert "Someone else changed this lead" in body
    assert Lead.objects.filter(pk=lead.pk).values().get() == before


@pytest.mark.django_db
def test_edit_form_posted_with_the_current_version_saves(client_rep, rep):
    lead = LeadFactory(owner=rep, topic="Original")
    url = reverse("leads:edit", args=[lead.pk])
    current = client_rep.get(url).context["form"]["loaded_modified_at"].value()

    response = client_rep.post(url, _edit_post(lead, topic="Mine", loaded_modified_at=current))

    assert response.status_code == 302
    assert fresh(lead).topic == "Mine"
