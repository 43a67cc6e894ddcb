"""Every main page works under the Content-Security-Policy: Chromium reports no
violation while a rep (and an admin, in the Django admin) goes through them."""

import pytest
from playwright.sync_api import expect

from activities.models import Activity
from tests.factories import (
    AccountFactory,
    ActivityFactory,
    ConnectionFactory,
    ContactFactory,
    LeadFactory,
    NoteFactory,
    OpportunityFactory,
    RepFactory,
    UserFactory,
)

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
]

# Runs before any page script, in every document the page loads.
RECORD_VIOLATIONS = """
window.__csp = [];
document.addEventListener("securitypolicyviolation", (e) => {
  window.__csp.push(e.violatedDirective + " " + e.blockedURI);
});
"""


@pytest.fixture
def csp_violations(page):
    """Collects CSP violations; `check(where)` gathers the current document's."""
    found: list[str] = []
    page.add_init_script(RECORD_VIOLATIONS)
    page.on(
        "console",
        lambda msg: (
            found.append(f"console: {msg.text}")
            if msg.type == "error" and "Content Security Policy" in msg.text
            else None
        ),
    )

    def check(where: str) -> list[str]:
        page.wait_for_load_state("load")
        found.extend(f"{where}: {v}" for v in page.evaluate("window.__csp || []"))
        return found

    return check


@pytest.fixture
def records(db):
    rep = RepFactory(username="rep")
    account = AccountFactory(owner=rep, name="Northwind Traders")
    contact = ContactFactory(owner=rep, account=account, first_name="Nancy", last_name="Davolio")
    lead = LeadFactory(owner=rep, topic="Fifty laptops for the lab")
    NoteFactory(lead=lead, author=rep, title="Kick-off", text="Delivery before March.")
    ActivityFactory(lead=lead, owner=rep, subject="Call about the budget")
    ActivityFactory(lead=lead, owner=rep, type=Activity.Type.TASK, subject="Send the price list")
    opportunity = OpportunityFactory(owner=rep, account=account, name="Laptops for the lab")
    ConnectionFactory(opportunity=opportunity, contact=contact)
    NoteFactory(lead=None, opportunity=opportunity, author=rep)
    return {"lead": lead, "account": account, "contact": contact, "opportunity": opportunity}


def test_app_pages_send_the_policy_and_raise_no_violation(
    page, live_server, login, records, csp_violations
):
    login("rep")
    response = page.goto(f"{live_server.url}/leads/")
    assert "script-src 'self'" in response.headers["content-security-policy"]

    pages = [
        "/leads/",
        "/leads/?view=all",
        records["lead"].get_absolute_url(),
        "/leads/new/",
        "/accounts/",
        records["account"].get_absolute_url(),
        "/contacts/",
        records["contact"].get_absolute_url(),
        "/opportunities/",
        records["opportunity"].get_absolute_url(),
        "/activities/",
        "/reports/",
    ]
    for path in pages:
        page.goto(f"{live_server.url}{path}")
        csp_violations(path)

    assert csp_violations("app pages") == []


def test_dialogs_menus_and_live_search_raise_no_violation(
    page, live_server, login, records, csp_violations, manual_qualify
):
    login("rep")
    page.goto(f"{live_server.url}/leads/")
    page.locator("input[name=lead_ids]").first.check()  # the bulk bar's script
    page.goto(f"{live_server.url}{records['lead'].get_absolute_url()}")

    page.get_by_test_id("qualify-button").click()
    expect(page.locator("#qualifyModal")).to_be_visible()
    page.locator("#qualifyModal .btn-close").click()
    expect(page.locator("#qualifyModal")).to_be_hidden()
    page.get_by_role("button", name="Disqualify").click()
    page.locator("[data-bs-target='#disqualifyModal']").first.click()
    expect(page.locator("#disqualifyModal")).to_be_visible()
    page.locator("#disqualifyModal .btn-close").click()
    expect(page.locator("#disqualifyModal")).to_be_hidden()
    page.get_by_test_id("add-note").click()
    expect(page.get_by_test_id("note-form")).to_be_visible()
    page.get_by_test_id("user-menu").click()
    csp_violations("lead detail")

    # htmx swaps the search results into the page.
    page.goto(f"{live_server.url}{records['opportunity'].get_absolute_url()}")
    page.get_by_test_id("add-stakeholder").click()
    page.get_by_test_id("stakeholder-search").fill("Nan")
    expect(page.locator("#stakeholder-results")).not_to_be_empty()
    csp_violations("opportunity detail")

    # Picking a contact fetches its details (connect-src).
    page.goto(f"{live_server.url}/leads/new/")
    page.select_option("#id_existing_contact", str(records["contact"].pk))
    expect(page.locator("#id_last_name")).to_have_value("Davolio")

    assert csp_violations("new lead") == []


def test_admin_pages_raise_no_violation(page, live_server, login, records, csp_violations):
    UserFactory(username="admin", is_staff=True, is_superuser=True)
    login("admin")
    lead = records["lead"]

    pages = [
        "/admin/",
        "/admin/leads/lead/",
        f"/admin/leads/lead/{lead.pk}/change/",
        f"/admin/leads/lead/{lead.pk}/history/",
        "/admin/leads/lead/add/",
        "/admin/accounts/account/",
        f"/admin/accounts/account/{records['account'].pk}/change/",
        "/admin/crm/processstage/",
        "/admin/auth/user/",
        "/admin/axes/accessattempt/",
    ]
    for path in pages:
        response = page.goto(f"{live_server.url}{path}")
        assert response.ok, path
        assert "content-security-policy" in response.headers, path
        csp_violations(path)

    assert csp_violations("admin") == []
