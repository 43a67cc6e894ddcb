"""The lead score in the browser: the lead page loads its explanation after the
page, under the site's Content-Security-Policy; My Open Leads Scored lists the
best first."""

import pytest
from playwright.sync_api import expect

from leads import scoring
from tests.browser.test_csp import RECORD_VIOLATIONS
from tests.factories import LeadFactory, RepFactory
from tests.leads.scoring_data import closed_history

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_the_lead_page_explains_its_score(page, live_server, login, shot):
    rep = RepFactory(username="rep")
    closed_history(rep, 1200, signal=True)
    scoring.train()
    good = LeadFactory(
        owner=rep,
        topic="Good one",
        lead_source="web",
        decision_maker_identified=True,
        email="ceo@bigco.example",
    )
    LeadFactory(owner=rep, topic="Poor one", lead_source="advertisement", email="x@gmail.com")
    scoring.score_leads()
    good.refresh_from_db()

    page.add_init_script(RECORD_VIOLATIONS)
    login("rep")
    page.goto(f"{live_server.url}/leads/?view=scored")
    first = page.locator("[data-testid=lead-table] tbody tr").first
    expect(first).to_contain_text("Good one")
    shot("leads-scored")

    page.goto(f"{live_server.url}/leads/{good.pk}/")
    card = page.get_by_test_id("score-card")
    expect(card.get_by_test_id("reasons-up")).to_contain_text("Lead source is Web")
    expect(card.get_by_test_id("score-summary")).to_contain_text(str(good.score))
    expect(card.get_by_test_id("score-chart")).to_be_visible()
    card.scroll_into_view_if_needed()
    shot("lead-score")
    assert page.evaluate("window.__csp || []") == []
