"""Real concurrent qualifies on PostgreSQL: the row lock lets exactly one win."""

import threading

import pytest
from django.db import connection, connections

from accounts.models import Account, Contact
from leads import services
from leads.exceptions import LeadNotOpen
from leads.models import Lead
from opportunities.models import Opportunity
from tests.factories import LeadFactory, RepFactory
from tests.reference_data import restore_reference_data

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        connection.vendor != "postgresql",
        reason="SQLite serialises whole-database writes and has no row locks "
        "(select_for_update is a no-op); the race is tested on PostgreSQL.",
    ),
]

THREADS = 8


@pytest.fixture(autouse=True)
def reference_data(transactional_db):
    restore_reference_data()


def run_concurrently(target, count: int) -> list:
    """Run `target()` in `count` threads released at the same instant; return outcomes."""
    barrier = threading.Barrier(count)
    outcomes: list = [None] * count

    def worker(i: int) -> None:
        try:
            barrier.wait(timeout=10)
            outcomes[i] = target()
        except Exception as exc:  # noqa: BLE001 - the outcome is what we assert on
            outcomes[i] = exc
        finally:
            connections.close_all()

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(count)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    return outcomes


def test_concurrent_qualifies_of_one_lead_create_one_set_of_records():
    rep = RepFactory()
    lead = LeadFactory(owner=rep, company_name="Race Condition Ltd")

    outcomes = run_concurrently(
        lambda: services.qualify_lead(lead=Lead.objects.get(pk=lead.pk), user=rep), THREADS
    )

    wins = [o for o in outcomes if isinstance(o, services.QualifyResult)]
    refusals = [o for o in outcomes if isinstance(o, LeadNotOpen)]
    assert len(wins) == 1, outcomes
    assert len(refusals) == THREADS - 1, outcomes
    assert Opportunity.objects.count() == 1
    assert Account.objects.count() == 1
    assert Contact.objects.count() == 1
    lead.refresh_from_db()
    assert lead.state == Lead.State.QUALIFIED
    assert lead.qualified_opportunity == wins[0].opportunity
