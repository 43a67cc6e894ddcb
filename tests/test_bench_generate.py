"""benchmarks/generate.py: the generated leads the benchmarks run on."""

from __future__ import annotations

from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import call_command

from benchmarks.generate import add_generated_leads
from leads.models import Lead, LeadSource

pytestmark = pytest.mark.django_db


def generate(leads: int) -> int:
    return add_generated_leads(leads)


@pytest.fixture
def seeded(db):
    call_command("seed_demo", force=True, stdout=StringIO(), stderr=StringIO())


def counts() -> dict[str, int]:
    return {"leads": Lead.objects.count()}


def test_generate_tops_the_lead_count_up_and_is_idempotent(seeded):
    generate(700)

    assert Lead.objects.count() == 700
    before = counts()
    generate(700)
    assert counts() == before


def test_generated_leads_are_valid_and_in_every_state(seeded):
    hand_made = set(Lead.objects.values_list("pk", flat=True))

    generate(700)

    generated = Lead.objects.exclude(pk__in=hand_made)
    assert generated.count() == 700 - len(hand_made)
    pairs = set(generated.values_list("state", "status_reason"))
    assert {state for state, _ in pairs} == set(Lead.State.values)
    assert {reason for _, reason in pairs} == set(Lead.StatusReason.values)
    for lead in generated:
        lead.full_clean()
        # The bulk rows carry the duplicate keys save() would derive.
        stored = (lead.email_key, lead.business_phone_key, lead.mobile_phone_key)
        stored_days = lead.days_to_qualify
        lead.set_derived_fields()
        assert stored == (lead.email_key, lead.business_phone_key, lead.mobile_phone_key)
        assert lead.email_key and lead.business_phone_key
        # ... and the days to qualify.
        if lead.state == Lead.State.QUALIFIED:
            days = (lead.qualified_at - lead.created_at).total_seconds() / 86400
            assert stored_days == pytest.approx(days)
        else:
            assert stored_days is None


def test_generating_below_the_current_count_adds_none(seeded):
    before = Lead.objects.count()

    generate(5)

    assert Lead.objects.count() == before


def test_generating_a_negative_count_is_refused(db):
    with pytest.raises(ValueError, match="zero or more"):
        generate(-1)


def test_generated_leads_have_a_realistic_spread(seeded):
    hand_made = set(Lead.objects.values_list("pk", flat=True))

    generate(2000)

    generated = Lead.objects.exclude(pk__in=hand_made)
    assert set(generated.values_list("owner__username", flat=True)) == {
        "admin",
        "manager",
        "rep",
        "rep2",
    }
    assert set(generated.values_list("lead_source", flat=True)) == set(LeadSource.values)
    assert set(generated.values_list("rating", flat=True)) == {"hot", "warm", "cold"}
    open_share = generated.filter(state="open").count() / generated.count()
    assert 0.45 < open_share < 0.65
    dates = list(generated.order_by("pk").values_list("created_at", flat=True))
    # Over two years, in the order the leads were created (ids rise with dates).
    assert dates[-1] - dates[0] > timedelta(days=365)
    assert dates == sorted(dates)
    assert len(set(generated.values_list("email", flat=True))) == generated.count()


def test_generated_opportunities_top_the_open_count_up_and_fill_the_board(seeded):
    from benchmarks.generate import add_generated_opportunities
    from opportunities.models import Opportunity

    open_now = Opportunity.objects.filter(state="open").count()
    assert add_generated_opportunities(open_now + 40) == 40
    assert add_generated_opportunities(open_now + 40) == 0  # idempotent
    generated = Opportunity.objects.filter(name__contains=" #")
    assert generated.count() == 40
    assert {o.stage.name for o in generated} == {"Develop", "Propose", "Close"}
    assert all(o.account_id and o.estimated_revenue for o in generated)
    for opportunity in generated:
        opportunity.full_clean()  # valid rows, as the ORM would write them
