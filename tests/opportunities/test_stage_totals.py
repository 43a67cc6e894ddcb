"""StageTotal, kept by database triggers: after any write, by the services or
not, the totals per stage, owner and currency equal a count of the open
opportunities themselves (on SQLite and on PostgreSQL)."""

from decimal import Decimal

import pytest
from django.core.management import call_command
from django.db import connection
from django.db.models import Count, Sum

from crm.models import ProcessFlow, ProcessStage
from opportunities import services, stage_totals
from opportunities.models import Opportunity, StageTotal
from tests.factories import AccountFactory, OpportunityFactory, RepFactory, currency

pytestmark = pytest.mark.django_db


def kept() -> dict:
    return {
        (t.stage_id, t.owner_id, t.currency_id): (t.opportunities, Decimal(t.revenue))
        for t in StageTotal.objects.all()
        if t.opportunities
    }


def counted() -> dict:
    rows = (
        Opportunity.objects.filter(state="open", stage__isnull=False)
        .values("stage_id", "owner_id", "currency_id")
        .annotate(n=Count("*"), r=Sum("estimated_revenue"))
    )
    return {
        (r["stage_id"], r["owner_id"], r["currency_id"]): (r["n"], Decimal(r["r"] or 0))
        for r in rows
    }


def test_the_triggers_are_installed():
    assert stage_totals.installed(connection)


def test_totals_follow_every_kind_of_write(rep, manager):
    a = OpportunityFactory(owner=rep, estimated_revenue=Decimal("100.00"))
    b = OpportunityFactory(owner=rep, estimated_revenue=Decimal("50.50"), currency=currency("EUR"))
    c = OpportunityFactory(owner=rep, estimated_revenue=None)
    assert kept() == counted() and kept()

    services.move_to_next_stage(opportunity=a, user=rep)  # stage
    services.update_opportunity(opportunity=b, user=rep, estimated_revenue=Decimal("75"))
    services.update_opportunity(opportunity=c, user=manager, owner=RepFactory())  # owner
    services.update_opportunity(opportunity=a, user=rep, currency=currency("GBP"))  # currency
    assert kept() == counted()

    services.close_opportunity(opportunity=b, user=rep, won=True)  # leaves the board
    assert kept() == counted()
    services.reopen_opportunity(opportunity=b, user=rep)  # back on it
    assert kept() == counted()

    # Writes that bypass the services count too.
    Opportunity.objects.filter(pk=a.pk).update(estimated_revenue=Decimal("1.25"))
    Opportunity.objects.filter(pk=c.pk).update(stage=None)
    assert kept() == counted()
    services.delete_opportunity(opportunity=b, user=manager)
    Opportunity.objects.filter(pk=a.pk).delete()
    assert kept() == counted()


def test_totals_follow_a_switch_of_flow(rep):
    flow = ProcessFlow.objects.create(name="Quick Sale")
    ProcessStage.objects.create(process=flow, name="Develop", entity="opportunity", order=1)
    opportunity = OpportunityFactory(owner=rep, estimated_revenue=Decimal("10"))
    services.switch_process(opportunity=opportunity, user=rep, flow=flow)
    assert kept() == counted()


def test_a_lost_trigger_is_put_back_and_the_totals_counted_again_after_migrate(rep):
    """SQLite drops a table's triggers when a migration rebuilds the table."""
    OpportunityFactory(owner=rep, estimated_revenue=Decimal("10"))
    with connection.cursor() as cursor:
        stage_totals._uninstall(connection.vendor, cursor.execute)
    OpportunityFactory(owner=rep, estimated_revenue=Decimal("20"))  # not counted
    assert not stage_totals.installed(connection)
    assert kept() != counted()

    call_command("migrate", verbosity=0)

    assert stage_totals.installed(connection)
    assert kept() == counted()
    OpportunityFactory(owner=rep, account=AccountFactory(), estimated_revenue=Decimal("5"))
    assert kept() == counted()
