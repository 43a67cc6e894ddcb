"""The lead lifecycle by keyboard alone: where focus lands after each step, and a
visible focus indicator at every stop of the busiest pages."""

import pytest
from playwright.sync_api import expect

from tests.factories import LeadFactory, OpportunityFactory, RepFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

FOCUSED = "document.activeElement"


@pytest.fixture
def demo(db):
    """A rep with a page of open leads and an open opportunity (factories: a
    demo seeding per test would cost seconds)."""
    rep = RepFactory(username="rep")
    leads = [LeadFactory(owner=rep) for _ in range(4)]
    return {"rep": rep, "lead": leads[0], "opportunity": OpportunityFactory(owner=rep)}


def sign_in(page, live_server, username="rep"):
    page.goto(f"{live_server.url}/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", "password")
    page.keyboard.press("Enter")
    page.wait_for_url(f"{live_server.url}/leads/")


def wait_for_focus(page, expression: str, expected, seconds: float = 3) -> None:
    """Poll `expression` until it is `expected` (the page's policy forbids the
    eval that page.wait_for_function needs)."""
    for _ in range(int(seconds * 10)):
        if page.evaluate(expression) == expected:
            return
        page.wait_for_timeout(100)
    assert page.evaluate(expression) == expected


def focused_inside(page, selector: str) -> bool:
    return page.evaluate(f"!!{FOCUSED}.closest({selector!r})")


def open_lead(page, live_server, demo):
    page.goto(f"{live_server.url}/leads/{demo['lead'].pk}/")


def test_qualify_dialog_takes_focus_and_gives_it_back(page, live_server, demo):
    sign_in(page, live_server)
    open_lead(page, live_server, demo)
    page.get_by_test_id("qualify-button").focus()
    page.keyboard.press("Enter")
    expect(page.locator("#qualifyModal")).to_be_visible()
    page.wait_for_timeout(400)
    assert focused_inside(page, "#qualifyModal")
    page.keyboard.press("Escape")
    expect(page.locator("#qualifyModal")).to_be_hidden()
    # Bootstrap gives focus back once the backdrop has faded.
    wait_for_focus(page, f"{FOCUSED}.dataset.testid", "qualify-button")


def test_escape_from_disqualify_returns_to_the_disqualify_button(page, live_server, demo):
    sign_in(page, live_server)
    open_lead(page, live_server, demo)
    toggle = page.get_by_role("button", name="Disqualify")
    toggle.focus()
    page.keyboard.press("Enter")
    page.keyboard.press("ArrowDown")
    page.keyboard.press("Enter")
    expect(page.locator("#disqualifyModal")).to_be_visible()
    page.wait_for_timeout(400)
    assert focused_inside(page, "#disqualifyModal")
    page.keyboard.press("Escape")
    expect(page.locator("#disqualifyModal")).to_be_hidden()
    wait_for_focus(page, f"{FOCUSED}.textContent.trim()", "Disqualify")
    assert page.evaluate(f"{FOCUSED}.getAttribute('data-bs-toggle')") == "dropdown"


def test_next_stage_by_keyboard_lands_on_what_happened(page, live_server, demo):
    sign_in(page, live_server)
    page.goto(f"{live_server.url}/opportunities/{demo['opportunity'].pk}/")
    page.get_by_test_id("next-stage").focus()
    page.keyboard.press("Enter")
    page.wait_for_load_state()
    alert = page.locator("#messages .alert").first
    expect(alert).to_be_visible()
    assert focused_inside(page, "#messages .alert")


def test_bulk_qualify_by_keyboard(page, live_server, demo):
    sign_in(page, live_server)
    page.keyboard.press("Tab")
    assert page.evaluate(f"{FOCUSED}.textContent") == "Skip to main content"
    page.keyboard.press("Tab")
    assert page.evaluate(f"{FOCUSED}.textContent") == "Skip to the leads"
    page.keyboard.press("Enter")
    assert page.evaluate(f"{FOCUSED}.id") == "lead-rows"

    bulk = page.get_by_test_id("bulk-qualify")
    bulk.focus()
    assert page.evaluate(f"{FOCUSED}.dataset.testid") == "bulk-qualify"  # focusable though waiting
    page.keyboard.press("Enter")
    expect(page.get_by_test_id("bulk-status")).to_have_text("Tick one or more leads first.")
    expect(page.locator("#bulkQualifyModal")).to_be_hidden()

    page.locator("input[name=lead_ids]").first.focus()
    page.keyboard.press("Space")
    expect(page.get_by_test_id("bulk-status")).to_have_text("1 lead selected.")
    bulk.focus()
    page.keyboard.press("Enter")
    expect(page.locator("#bulkQualifyModal")).to_be_visible()
    page.wait_for_timeout(400)
    assert focused_inside(page, "#bulkQualifyModal")


# A date field's calendar button is the browser's own (a stop inside the field's
# shadow tree, which no page style reaches to measure): Chromium rings it itself.
FOCUS_VISIBLE = """() => {
  const el = document.activeElement;
  if (!el || el === document.body) return null;
  if (el.type === "date" && !el.matches(":focus")) return null;
  const style = getComputedStyle(el);
  const outline = style.outlineStyle !== "none" && parseFloat(style.outlineWidth) >= 2;
  const ring = style.boxShadow.includes("inset");
  return {
    visible: outline || ring,
    what: el.outerHTML.slice(0, 120) + " " + style.outlineStyle + " " + style.outlineWidth,
  };
}"""


@pytest.mark.parametrize("where", ["list", "lead", "opportunity"])
def test_focus_is_visible_at_every_stop(page, live_server, demo, where):
    sign_in(page, live_server)
    if where == "lead":
        open_lead(page, live_server, demo)
    elif where == "opportunity":
        page.goto(f"{live_server.url}/opportunities/{demo['opportunity'].pk}/")
    page.wait_for_load_state("networkidle")
    invisible, stops = [], 0
    for _ in range(70):
        page.keyboard.press("Tab")
        found = page.evaluate(FOCUS_VISIBLE)
        if found is None:
            continue
        stops += 1
        if not found["visible"]:
            invisible.append(found["what"])
    assert stops > 20
    assert invisible == []
