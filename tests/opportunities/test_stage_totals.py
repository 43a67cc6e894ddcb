"""The board's totals (opportunities.stage_totals): after any write, by the
services or not, the folded totals plus the changes the triggers wrote equal a
count of the open opportunities themselves, before and after a fold (on SQLite
and on PostgreSQL)."""

from decimal import Decimal

import pytest
from django.core.management import call_command
from django.db import connection
from django.db.models import Count, Sum
from django.urls import reverse

from crm.models import ProcessFlow, ProcessStage
from opportunities import services, stage_totals
from opportunities.models import Opportunity, StageTotal, StageTotalChange
from tests.factories import AccountFactory, OpportunityFactory, RepFactory, currency

pytestmark = pytest.mark.django_db


def kept() -> dict:
    """The totals by stage, owner and currency: folded rows plus pending changes."""
    found: dict = {}
    for model in (StageTotal, StageTotalChange):
        rows = model.objects.values("stage_id", "owner_id", "currency_id").annotate(
            n=Sum("opportunities"), r=Sum("revenue")
        )
        for row in rows:
            key = (row["stage_id"], row["owner_id"], row["currency_id"])
            n, r = found.get(key, (0, Decimal(0)))
            found[key] = (n + row["n"], r + Decimal(str(row["r"])))
    return {key: value for key, value in found.items() if value[0]}


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


def test_totals_follow_every_kind_of_write_and_survive_a_fold(rep, manager):
    a = OpportunityFactory(owner=rep, estimated_revenue=Decimal("100.00"))
    b = OpportunityFactory(owner=rep, estimated_revenue=Decimal("50.50"), currency=currency("EUR"))
    c = OpportunityFactory(owner=rep, estimated_revenue=None)
    assert kept() == counted() and kept()

    services.move_to_next_stage(opportunity=a, user=rep)  # stage
    services.update_opportunity(opportunity=b, user=rep, estimated_revenue=Decimal("75"))
    services.update_opportunity(opportunity=c, user=manager, owner=RepFactory())  # owner
    services.update_opportunity(opportunity=a, user=rep, currency=currency("GBP"))  # currency
    services.update_opportunity(opportunity=a, user=rep, name="Renamed")  # no change to totals
    assert kept() == counted()
    assert stage_totals.fold() > 0
    assert kept() == counted() and not StageTotalChange.objects.exists()

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
    stage_totals.fold()
    assert stage_totals.fold() == 0  # nothing left to fold
    assert kept() == counted()


def test_totals_follow_a_switch_of_flow(rep):
    flow = ProcessFlow.objects.create(name="Quick Sale")
    ProcessStage.objects.create(process=flow, name="Develop", entity="opportunity", order=1)
    opportunity = OpportunityFactory(owner=rep, estimated_revenue=Decimal("10"))
    services.switch_process(opportunity=opportunity, user=rep, flow=flow)
    assert kept() == counted()


def test_the_board_folds_the_changes_once_they_pile_up(client, rep, monkeypatch):
    monkeypatch.setattr(stage_totals, "FOLD_AFTER", 3)
    OpportunityFactory.create_batch(2, owner=rep)
    client.force_login(rep)
    client.get(reverse("opportunities:board"))
    assert StageTotalChange.objects.count() == 2  # not yet
    OpportunityFactory.create_batch(2, owner=rep)
    response = client.get(reverse("opportunities:board"))
    develop = next(c for c in response.context["columns"] if c.stage.name == "Develop")
    assert develop.count == 4
    assert not StageTotalChange.objects.exists()
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
