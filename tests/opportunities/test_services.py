"""update_opportunity: what it changes and what it refuses."""

from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from opportunities import services
from opportunities.exceptions import OpportunityError
from opportunities.models import Opportunity
from tests.factories import AccountFactory, ContactFactory, OpportunityFactory, currency

pytestmark = pytest.mark.django_db


def test_update_opportunity_changes_fields_and_steps(rep):
    opportunity = OpportunityFactory(owner=rep, name="10 laptops")

    services.update_opportunity(
        opportunity=opportunity,
        user=rep,
        name="12 laptops",
        estimated_revenue=Decimal("14400.00"),
        currency=currency("EUR"),
        customer_need="Replace ageing fleet",
        identify_stakeholders=True,
    )

    opportunity.refresh_from_db()
    assert opportunity.name == "12 laptops"
    assert opportunity.estimated_revenue == Decimal("14400.00")
    assert opportunity.currency.code == "EUR"
    assert opportunity.customer_need == "Replace ageing fleet"
    assert opportunity.identify_stakeholders is True


def test_update_opportunity_can_switch_customer_to_a_contact(rep):
    opportunity = OpportunityFactory(owner=rep)
    contact = ContactFactory(owner=rep)

    services.update_opportunity(opportunity=opportunity, user=rep, account=None, contact=contact)

    opportunity.refresh_from_db()
    assert (opportunity.account, opportunity.contact) == (None, contact)


def test_update_opportunity_requires_a_customer(rep):
    account = AccountFactory(owner=rep)
    opportunity = OpportunityFactory(owner=rep, account=account)

    with pytest.raises(ValidationError):
        services.update_opportunity(opportunity=opportunity, user=rep, account=None, contact=None)

    opportunity.refresh_from_db()
    assert (opportunity.account, opportunity.contact) == (account, None)


def test_update_opportunity_links_an_account_and_a_contact(rep):
    """As Dynamics' Account and Contact fields: both, the account being the customer."""
    account = AccountFactory(owner=rep)
    opportunity = OpportunityFactory(owner=rep, account=account)
    contact = ContactFactory(owner=rep, account=account)

    services.update_opportunity(opportunity=opportunity, user=rep, contact=contact)

    opportunity.refresh_from_db()
    assert (opportunity.account, opportunity.contact, opportunity.customer) == (
        account,
        contact,
        account,
    )


def test_update_opportunity_refuses_a_closed_opportunity(rep):
    opportunity = OpportunityFactory(owner=rep, name="Deal")
    services.close_opportunity(opportunity=opportunity, user=rep, won=True)

    with pytest.raises(OpportunityError, match="closed as Won"):
        services.update_opportunity(opportunity=opportunity, user=rep, name="Changed")

    opportunity.refresh_from_db()
    assert opportunity.name == "Deal"
    assert opportunity.state == Opportunity.State.WON


def test_update_opportunity_refuses_a_rep_who_does_not_own_it(rep, rep2):
    opportunity = OpportunityFactory(owner=rep, name="Deal")

    with pytest.raises(PermissionDenied):
        services.update_opportunity(opportunity=opportunity, user=rep2, name="Mine now")

    opportunity.refresh_from_db()
    assert opportunity.name == "Deal"


def test_manager_updates_and_reassigns_any_opportunity(rep, rep2, manager):
    opportunity = OpportunityFactory(owner=rep)

    services.update_opportunity(opportunity=opportunity, user=manager, owner=rep2)

    opportunity.refresh_from_db()
    assert opportunity.owner == rep2


def test_rep_cannot_reassign_an_opportunity(rep, rep2):
    opportunity = OpportunityFactory(owner=rep)

    with pytest.raises(PermissionDenied):
        services.update_opportunity(opportunity=opportunity, user=rep, owner=rep2)


@pytest.mark.parametrize("field", ["stage", "state", "status_reason", "actual_revenue"])
def test_update_opportunity_refuses_lifecycle_fields(rep, field):
    opportunity = OpportunityFactory(owner=rep)

    with pytest.raises(TypeError):
        services.update_opportunity(opportunity=opportunity, user=rep, **{field: None})


def test_update_opportunity_refuses_negative_amounts(rep):
    opportunity = OpportunityFactory(owner=rep, budget_amount=Decimal("100"))

    with pytest.raises(ValidationError) as err:
        services.update_opportunity(opportunity=opportunity, user=rep, budget_amount=Decimal("-1"))

    assert "budget_amount" in err.value.message_dict
    opportunity.refresh_from_db()
    assert opportunity.budget_amount == Decimal("100")


@pytest.mark.parametrize(
    "act",
    [
        lambda o, u: services.move_to_next_stage(opportunity=o, user=u),
        lambda o, u: services.move_to_previous_stage(opportunity=o, user=u),
        lambda o, u: services.close_opportunity(opportunity=o, user=u, won=False),
        lambda o, u: services.reopen_opportunity(opportunity=o, user=u),
    ],
    ids=["next", "previous", "close", "reopen"],
)
def test_a_rep_cannot_move_close_or_reopen_another_reps_opportunity(rep, rep2, act):
    opportunity = OpportunityFactory(owner=rep)
    before = Opportunity.objects.filter(pk=opportunity.pk).values().get()
    with pytest.raises(PermissionDenied):
        act(opportunity, rep2)
    assert Opportunity.objects.filter(pk=opportunity.pk).values().get() == before


def test_only_a_manager_creates_an_opportunity_for_someone_else(rep, rep2, manager):
    fields = {"name": "For Sam", "account": AccountFactory(), "currency": currency("USD")}
    with pytest.raises(PermissionDenied):
        services.create_opportunity(user=rep, owner=rep2, **fields)
    assert services.create_opportunity(user=manager, owner=rep2, **fields).owner == rep2
