"""Moves in opposite directions at the same moment, on PostgreSQL with real
threads: the stage-total triggers only insert changes, so the moves never wait
for each other on a total, and the totals stay exact (the bulk qualify race in
tests/leads/test_concurrency.py covers qualifies creating opportunities)."""

from decimal import Decimal

import pytest
from django.db import connection
from django.db.models import Count, Sum

from crm.models import OrganizationSettings, ProcessStage
from opportunities import services, stage_totals
from opportunities.models import Opportunity
from tests.concurrency import on_postgresql, race, run_all
from tests.factories import OpportunityFactory, RepFactory
from tests.reference_data import restore_reference_data

pytestmark = [on_postgresql, race]


@pytest.fixture
def reference_data(transactional_db):
    restore_reference_data()
    OrganizationSettings.load()


def test_opposite_moves_between_two_stages_neither_deadlock_nor_miscount(reference_data):
    rep = RepFactory()
    develop, propose = (
        ProcessStage.objects.get(process__is_default=True, name=name)
        for name in ("Develop", "Propose")
    )
    forward = [OpportunityFactory(owner=rep, estimated_revenue=Decimal("10")) for _ in range(6)]
    backward = [OpportunityFactory(owner=rep, estimated_revenue=Decimal("1")) for _ in range(6)]
    for opportunity in backward:
        services.move_to_stage(opportunity=opportunity, user=rep, stage=propose)

    def move_all(opportunities, stage):
        def run():
            for opportunity in opportunities:
                services.move_to_stage(opportunity=opportunity, user=rep, stage=stage)
            return "done"

        return run

    # Two threads each way: Develop -> Propose and Propose -> Develop at once.
    outcomes = run_all(
        [
            move_all(forward[:3], propose),
            move_all(forward[3:], propose),
            move_all(backward[:3], develop),
            move_all(backward[3:], develop),
        ]
    )

    assert outcomes == ["done"] * 4, outcomes
    found, _ = stage_totals.totals([develop.pk, propose.pk])
    totals = {stage: (count, revenue) for (stage, _currency), (count, revenue) in found.items()}
    counted = {
        row["stage_id"]: (row["n"], row["r"])
        for row in Opportunity.objects.filter(state="open")
        .values("stage_id")
        .annotate(n=Count("*"), r=Sum("estimated_revenue"))
    }
    assert totals[propose.pk] == counted[propose.pk] == (6, Decimal("60.00"))
    assert totals[develop.pk] == counted[develop.pk] == (6, Decimal("6.00"))
    assert connection.vendor == "postgresql"
