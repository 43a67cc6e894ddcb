"""The business process flow and the opportunity board in Chromium: steps filled
in on the bar without a reload, a gated Next stage, switching a flow, and
dragging cards on the board (a refused drag springs back with its reason)."""

import re

import pytest
from playwright.sync_api import expect

from crm.models import ProcessFlow, ProcessStage, ProcessStep
from leads.models import Lead
from opportunities.models import Opportunity
from tests.factories import LeadFactory, OpportunityFactory, RepFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def rep(db):
    return RepFactory(username="rep")


def test_fill_in_the_qualify_steps_on_the_bar(page, live_server, rep, login, shot):
    lead = LeadFactory(owner=rep, purchase_timeframe="", decision_maker_identified=False)
    login("rep")
    page.goto(f"{live_server.url}{lead.get_absolute_url()}")
    marker = page.evaluate("() => (window.__no_reload = true)")
    assert marker
    page.get_by_test_id("edit-steps").click()
    form = page.get_by_test_id("steps-form")
    expect(form).to_be_visible()
    form.get_by_label("Purchase timeframe").select_option(label="This Quarter")
    form.get_by_label("Identify decision maker").check()
    shot("10-steps-on-the-bar")
    form.get_by_test_id("steps-save").click()
    steps = page.get_by_test_id("stage-steps")
    expect(steps.get_by_test_id("steps-form")).to_have_count(0)
    expect(steps).to_contain_text("This Quarter")
    assert page.evaluate("() => window.__no_reload") is True  # swapped in place, no reload
    lead.refresh_from_db()
    assert (lead.purchase_timeframe, lead.decision_maker_identified) == ("this_quarter", True)


def test_next_stage_is_gated_by_a_required_step(page, live_server, rep, login, shot):
    ProcessStep.objects.filter(field_name="customer_need").update(is_required=True)
    opportunity = OpportunityFactory(owner=rep)
    login("rep")
    page.goto(f"{live_server.url}{opportunity.get_absolute_url()}")
    expect(page.get_by_test_id("step-missing")).to_be_visible()
    page.get_by_test_id("next-stage").click()
    expect(page.get_by_role("alert").filter(has_text="Customer need")).to_be_visible()
    shot("11-next-stage-refused")
    assert Opportunity.objects.get().stage.name == "Develop"

    page.get_by_test_id("edit-steps").click()
    page.get_by_test_id("steps-form").get_by_label("Customer need").fill("Rugged tablets")
    page.get_by_test_id("steps-save").click()
    expect(page.get_by_test_id("step-missing")).to_have_count(0)
    page.get_by_test_id("next-stage").click()
    expect(page.locator(".ll-stage.active")).to_have_text(re.compile("Propose"))
    assert Opportunity.objects.get().stage.name == "Propose"


def test_switch_the_process_of_a_lead(page, live_server, rep, login, shot):
    flow = ProcessFlow.objects.create(name="Quick Sale Process")
    for order, (name, entity) in enumerate([("Qualify", "lead"), ("Quote", "opportunity")], 1):
        ProcessStage.objects.create(process=flow, name=name, entity=entity, order=order)
    lead = LeadFactory(owner=rep)
    login("rep")
    page.goto(f"{live_server.url}{lead.get_absolute_url()}")
    page.get_by_test_id("switch-process").click()
    chooser = page.get_by_test_id("switch-process-form")
    expect(chooser).to_be_visible()
    chooser.get_by_label("Switch to the process").select_option(label="Quick Sale Process")
    shot("12-switch-process")
    chooser.get_by_test_id("switch-process-confirm").click()
    expect(page.get_by_test_id("process-name")).to_contain_text("Quick Sale Process")
    expect(page.get_by_text("Switched to the process “Quick Sale Process”")).to_be_visible()
    assert Lead.objects.get().stage.process == flow


def _column(page, name: str):
    return page.get_by_test_id("board-column").filter(
        has=page.get_by_role("heading", name=name, exact=True)
    )


def test_drag_cards_on_the_board(page, live_server, rep, login, shot):
    ProcessStep.objects.filter(field_name="identify_sales_team").update(is_required=True)
    ready = OpportunityFactory(owner=rep, name="Ready deal", estimated_revenue=1000)
    gated = OpportunityFactory(owner=rep, name="Gated deal", estimated_revenue=500)
    login("rep")
    page.goto(f"{live_server.url}/opportunities/board/")
    develop, propose, close = (_column(page, n) for n in ("Develop", "Propose", "Close"))
    expect(develop.get_by_test_id("column-count")).to_have_text("2")
    shot("13-board")

    # A drop the service allows: Develop -> Propose.
    page.get_by_test_id("board-card").filter(has_text="Ready deal").drag_to(
        propose.locator("[data-drop-zone]")
    )
    expect(propose.get_by_test_id("board-card")).to_have_text(re.compile("Ready deal"))
    expect(propose.get_by_test_id("column-count")).to_have_text("1")
    expect(develop.get_by_test_id("column-count")).to_have_text("1")
    expect(propose.get_by_test_id("column-total")).to_have_text("USD 1,000")
    expect(page.locator("#board-status")).to_contain_text("moved to Propose")
    ready.refresh_from_db()
    assert ready.stage.name == "Propose"

    # A drop the service refuses (Propose's required step is empty on the way to
    # Close): the card springs back and the reason is shown.
    page.get_by_test_id("board-card").filter(has_text="Gated deal").drag_to(
        close.locator("[data-drop-zone]")
    )
    expect(page.get_by_test_id("board-error")).to_contain_text("Identify sales team")
    expect(develop.get_by_test_id("board-card")).to_have_text(re.compile("Gated deal"))
    expect(close.get_by_test_id("board-card")).to_have_count(0)
    expect(close.get_by_test_id("column-count")).to_have_text("0")
    shot("14-board-refused-drag")
    gated.refresh_from_db()
    assert gated.stage.name == "Develop"


def test_move_a_card_with_the_keyboard(page, live_server, rep, login):
    OpportunityFactory(owner=rep, name="Keyboard deal")
    login("rep")
    page.goto(f"{live_server.url}/opportunities/board/")
    card = page.get_by_test_id("board-card").filter(has_text="Keyboard deal")
    select = card.get_by_test_id("move-select")
    select.focus()
    select.select_option(label="Close")
    page.keyboard.press("Tab")
    page.keyboard.press("Enter")
    expect(_column(page, "Close").get_by_test_id("board-card")).to_have_text(
        re.compile("Keyboard deal")
    )
    expect(page.locator("#board-status")).to_contain_text("moved to Close")  # the server's answer
    assert Opportunity.objects.get().stage.name == "Close"
