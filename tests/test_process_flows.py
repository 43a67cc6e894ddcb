"""The business process flow as one process from lead to opportunity: required
steps gate Next stage (and Qualify), several flows with a default per role, and
switching a record's flow. Service rules, on both databases."""

from decimal import Decimal

import pytest
from django.contrib.auth.models import Group
from django.core.exceptions import PermissionDenied, ValidationError

from crm import process
from crm.models import ProcessFlow, ProcessStage, ProcessStep
from leads import services as lead_services
from leads.exceptions import LeadNotOpen
from leads.exceptions import RequiredStepsMissing as LeadStepsMissing
from opportunities import services
from opportunities.exceptions import OpportunityError, RequiredStepsMissing
from opportunities.models import Opportunity
from tests.factories import AccountFactory, LeadFactory, OpportunityFactory, currency

pytestmark = pytest.mark.django_db


def require(field_name: str, flow_default: bool = True) -> ProcessStep:
    step = ProcessStep.objects.get(stage__process__is_default=flow_default, field_name=field_name)
    step.is_required = True
    step.save()
    return step


def stage_names(opportunity: Opportunity) -> str:
    opportunity.refresh_from_db()
    return opportunity.stage.name


@pytest.fixture
def quick_flow() -> ProcessFlow:
    """A second flow: Qualify (lead), Quote and Develop and Close (opportunity)."""
    flow = ProcessFlow.objects.create(name="Quick Sale")
    for order, (name, entity) in enumerate(
        [
            ("Qualify", "lead"),
            ("Quote", "opportunity"),
            ("Develop", "opportunity"),
            ("Close", "opportunity"),
        ],
        start=1,
    ):
        ProcessStage.objects.create(process=flow, name=name, entity=entity, order=order)
    return flow


# --- required steps gate Next stage ----------------------------------------------------------


def test_next_stage_is_refused_while_a_required_step_is_empty(rep):
    require("customer_need")
    require("identify_competitors")
    opportunity = OpportunityFactory(owner=rep)

    with pytest.raises(RequiredStepsMissing) as refused:
        services.move_to_next_stage(opportunity=opportunity, user=rep)

    assert refused.value.steps == ["Customer need", "Identify competitors"]
    assert "Customer need, Identify competitors" in refused.value.message
    assert stage_names(opportunity) == "Develop"


def test_next_stage_goes_on_once_the_required_steps_are_filled(rep):
    require("customer_need")
    require("identify_competitors")  # a box: filled when ticked
    opportunity = OpportunityFactory(owner=rep)
    services.update_opportunity(
        opportunity=opportunity, user=rep, customer_need="Rugged tablets", identify_competitors=True
    )

    services.move_to_next_stage(opportunity=opportunity, user=rep)

    assert stage_names(opportunity) == "Propose"


def test_previous_stage_is_never_refused_for_empty_steps(rep):
    opportunity = OpportunityFactory(owner=rep)
    services.move_to_next_stage(opportunity=opportunity, user=rep)
    require("identify_sales_team")  # a Propose step, left empty
    require("customer_need")  # a Develop step, left empty

    services.move_to_previous_stage(opportunity=opportunity, user=rep)

    assert stage_names(opportunity) == "Develop"


def test_a_required_lead_step_gates_qualify(rep):
    require("purchase_timeframe")
    lead = LeadFactory(owner=rep, purchase_timeframe="")

    with pytest.raises(LeadStepsMissing) as refused:
        lead_services.qualify_lead(lead=lead, user=rep)

    assert refused.value.steps == ["Purchase timeframe"]
    lead.refresh_from_db()
    assert lead.is_active and not Opportunity.objects.exists()
    lead_services.update_lead(lead=lead, user=rep, purchase_timeframe="this_quarter")
    assert lead_services.qualify_lead(lead=lead, user=rep).opportunity is not None


def test_one_gate_along_the_process_from_lead_to_opportunity(rep):
    """The lead's refusal is also the opportunity's kind, and the opportunity's
    moves are reachable from leads.services too (the interface contract)."""
    require("purchase_timeframe")
    require("customer_need")
    lead = LeadFactory(owner=rep, purchase_timeframe="")
    opportunity = OpportunityFactory(owner=rep)

    with pytest.raises(RequiredStepsMissing) as at_qualify:
        lead_services.qualify_lead(lead=lead, user=rep)
    with pytest.raises(RequiredStepsMissing) as at_develop:
        lead_services.move_to_next_stage(opportunity=opportunity, user=rep)

    assert isinstance(at_qualify.value, LeadStepsMissing)
    assert at_qualify.value.steps == ["Purchase timeframe"]
    assert "Purchase timeframe" in at_qualify.value.message
    assert at_develop.value.steps == ["Customer need"]
    assert stage_names(opportunity) == "Develop"


def test_a_required_lead_step_fails_its_lead_only_in_a_bulk_qualify(rep):
    require("purchase_timeframe")
    ready = LeadFactory(owner=rep, purchase_timeframe="this_quarter")
    empty = LeadFactory(owner=rep, purchase_timeframe="")
    results = lead_services.qualify_leads(leads=[ready, empty], user=rep)
    assert [r.ok for r in results] == [True, False]
    assert isinstance(results[1].error, LeadStepsMissing)


def test_a_required_step_needs_a_field_a_rep_can_fill(rep):
    develop = ProcessStage.objects.get(process__is_default=True, name="Develop")
    with pytest.raises(ValidationError, match="needs a field"):
        ProcessStep(stage=develop, name="Sign NDA", is_required=True).full_clean()
    with pytest.raises(ValidationError, match="no field “nda_signed”"):
        ProcessStep(stage=develop, name="Sign NDA", field_name="nda_signed").full_clean()
    ProcessStep(stage=develop, name="Budget", field_name="budget_amount").full_clean()


# --- the board's move: one stage at a time through the same gate ----------------------------


def test_move_to_stage_passes_every_stage_between(rep):
    opportunity = OpportunityFactory(owner=rep)
    close = ProcessStage.objects.get(process__is_default=True, name="Close")

    services.move_to_stage(opportunity=opportunity, user=rep, stage=close)

    assert stage_names(opportunity) == "Close"
    services.move_to_stage(opportunity=opportunity, user=rep, stage=process.opportunity_stages()[0])
    assert stage_names(opportunity) == "Develop"


def test_move_to_stage_refused_on_the_way_changes_nothing(rep):
    opportunity = OpportunityFactory(owner=rep, customer_need="Known")
    require("identify_sales_team")  # Propose: the move from Propose to Close is gated
    close = ProcessStage.objects.get(process__is_default=True, name="Close")

    with pytest.raises(RequiredStepsMissing) as refused:
        services.move_to_stage(opportunity=opportunity, user=rep, stage=close)

    assert refused.value.steps == ["Identify sales team"]
    assert stage_names(opportunity) == "Develop"  # not left half-way at Propose


def test_move_to_a_stage_of_another_flow_is_refused(rep, quick_flow):
    opportunity = OpportunityFactory(owner=rep)
    quote = quick_flow.stages.get(name="Quote")
    with pytest.raises(OpportunityError, match="not a stage of this opportunity's process"):
        services.move_to_stage(opportunity=opportunity, user=rep, stage=quote)


def test_move_to_stage_refuses_another_reps_and_closed_opportunities(rep, rep2):
    close = ProcessStage.objects.get(process__is_default=True, name="Close")
    theirs = OpportunityFactory(owner=rep2)
    with pytest.raises(PermissionDenied):
        services.move_to_stage(opportunity=theirs, user=rep, stage=close)
    won = OpportunityFactory(owner=rep)
    services.close_opportunity(opportunity=won, user=rep, won=True)
    with pytest.raises(OpportunityError, match="closed as Won"):
        services.move_to_stage(opportunity=won, user=rep, stage=close)


# --- several flows, a default per role, switching ------------------------------------------


def test_new_records_follow_their_creators_role_flow(rep, rep2, quick_flow):
    quick_flow.default_for_groups.add(Group.objects.get(name="Sales Rep"))

    lead = lead_services.create_lead(user=rep, topic="Refill", last_name="Fuller")
    assert (lead.stage.process, lead.stage.name) == (quick_flow, "Qualify")
    opportunity = services.create_opportunity(
        user=rep, name="Repeat order", account=AccountFactory(), currency=currency("USD")
    )
    assert (opportunity.stage.process, opportunity.stage.name) == (quick_flow, "Quote")


def test_a_user_without_a_role_flow_gets_the_default(manager, quick_flow):
    quick_flow.default_for_groups.add(Group.objects.get(name="Sales Rep"))
    lead = lead_services.create_lead(user=manager, topic="Refill", last_name="Fuller")
    assert lead.stage.process.is_default


def test_qualify_continues_the_leads_flow(rep, quick_flow):
    """One process from lead to opportunity: the opportunity starts at the first
    opportunity stage of the lead's flow, whoever qualifies it."""
    lead = LeadFactory(owner=rep, stage=quick_flow.stages.get(name="Qualify"))
    result = lead_services.qualify_lead(lead=lead, user=rep)
    assert (result.opportunity.stage.process, result.opportunity.stage.name) == (
        quick_flow,
        "Quote",
    )


def test_qualifying_leads_of_two_flows_in_bulk(rep, quick_flow):
    quick = LeadFactory(owner=rep, stage=quick_flow.stages.get(name="Qualify"))
    default = LeadFactory(owner=rep)
    results = lead_services.qualify_leads(leads=[quick, default], user=rep)
    assert [r.opportunity.stage.name for r in results] == ["Quote", "Develop"]


def test_switch_process_goes_to_the_stage_of_the_same_name_and_keeps_the_steps(rep, quick_flow):
    opportunity = OpportunityFactory(owner=rep, customer_need="Rugged tablets")
    services.switch_process(opportunity=opportunity, user=rep, flow=quick_flow)
    opportunity.refresh_from_db()
    assert (opportunity.stage.process, opportunity.stage.name) == (quick_flow, "Develop")
    assert opportunity.customer_need == "Rugged tablets"
    # Next stage now follows the new flow.
    services.move_to_next_stage(opportunity=opportunity, user=rep)
    assert stage_names(opportunity) == "Close"


def test_switch_process_without_a_same_named_stage_goes_to_the_first(rep, quick_flow):
    opportunity = OpportunityFactory(owner=rep)
    services.move_to_next_stage(opportunity=opportunity, user=rep)  # Propose
    services.switch_process(opportunity=opportunity, user=rep, flow=quick_flow)
    assert stage_names(opportunity) == "Quote"


def test_switch_a_leads_process(rep, quick_flow):
    lead = LeadFactory(owner=rep, purchase_timeframe="this_quarter")
    lead_services.switch_lead_process(lead=lead, user=rep, flow=quick_flow)
    lead.refresh_from_db()
    assert (lead.stage.process, lead.stage.name) == (quick_flow, "Qualify")
    assert lead.purchase_timeframe == "this_quarter"


def test_switch_is_refused_for_a_closed_record_another_rep_and_a_flow_without_stages(
    rep, rep2, quick_flow
):
    empty = ProcessFlow.objects.create(name="Empty")
    opportunity = OpportunityFactory(owner=rep)
    with pytest.raises(OpportunityError, match="no stages for opportunities"):
        services.switch_process(opportunity=opportunity, user=rep, flow=empty)
    with pytest.raises(PermissionDenied):
        services.switch_process(opportunity=opportunity, user=rep2, flow=quick_flow)
    lead = LeadFactory(owner=rep, disqualified=True)
    with pytest.raises(LeadNotOpen):
        lead_services.switch_lead_process(lead=lead, user=rep, flow=quick_flow)
    opportunity.refresh_from_db()
    assert opportunity.stage.process.is_default


def test_reactivate_returns_a_lead_to_its_own_flows_first_stage(rep, quick_flow):
    lead = LeadFactory(owner=rep, stage=quick_flow.stages.get(name="Qualify"))
    lead_services.qualify_lead(lead=lead, user=rep)
    lead_services.reactivate_lead(lead=lead, user=rep)
    lead.refresh_from_db()
    assert (lead.stage.process, lead.stage.name) == (quick_flow, "Qualify")


def test_the_organisation_default_is_one_flow(quick_flow):
    from django.db import IntegrityError, transaction

    quick_flow.is_default = True
    with transaction.atomic(), pytest.raises(IntegrityError):
        quick_flow.save()


def test_budget_conversion_and_gating_together(rep):
    """The lifecycle in one: a required step gates Next stage on a converted opportunity."""
    require("customer_need")
    lead = LeadFactory(owner=rep, currency=currency("EUR"), budget_amount=Decimal("920"))
    opportunity = lead_services.qualify_lead(lead=lead, user=rep, currency="USD").opportunity
    assert opportunity.budget_amount == Decimal("1000.00")
    with pytest.raises(RequiredStepsMissing):
        services.move_to_next_stage(opportunity=opportunity, user=rep)
