"""Script injection: records whose every text field holds an XSS payload, shown
on every page that displays them, in a real Chromium.

The lead, account and note are entered through the forms as a rep would; the
contact, opportunity, activity and stakeholder are made with factories. Each
page must show the payloads as text, run none of them (window.__xss stays
undefined, no dialog opens), and carry no element the payload would have made
(an <img src=x>, an on* attribute or a <script> mentioning __xss, a
javascript: link).

The browser context bypasses the Content-Security-Policy: CSP would block an
inline script that escaping let through, and this test is about the escaping.
"""

from __future__ import annotations

import re
from urllib.parse import urlencode

import pytest
from django.urls import reverse
from playwright.sync_api import expect

from accounts.models import Account
from activities.models import Activity, Note
from leads.models import Lead
from tests.factories import (
    AccountFactory,
    ActivityFactory,
    ConnectionFactory,
    ContactFactory,
    OpportunityFactory,
    RepFactory,
)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SCRIPT = "<script>window.__xss=1</script>"
IMG = '"><img src=x onerror="window.__xss=1">'
SVG = "<svg onload=window.__xss=1>"
ATTR = "' autofocus onfocus='window.__xss=1' x='"
TEMPLATE = "{{7*7}}{% debug %}"
# A valid email address (a quoted local part) that is also markup.
EMAIL = '"<img/src=x/onerror=window.__xss=1>"@example.com'
COMPANY = f"{IMG} Ltd"
# A valid URL (no spaces) that would close the href attribute if unescaped.
WEBSITE = 'https://example.com/"><img/src=x/onerror=window.__xss=1>'
BODY = f"{SCRIPT}\n{IMG}\n{TEMPLATE}\n{SVG}"

# Whether the page carries anything a payload would have created, as markup.
INJECTED = """() => {
  const found = [];
  for (const el of document.querySelectorAll("*")) {
    for (const attr of el.attributes) {
      if (attr.name.startsWith("on") && attr.value.includes("__xss")) {
        found.push(`${el.tagName} ${attr.name}`);
      }
    }
    if (el.tagName === "SCRIPT" && el.textContent.includes("__xss")) found.push("script");
    if (el.tagName === "IMG" && el.getAttribute("src") === "x") found.push("img src=x");
  }
  for (const a of document.querySelectorAll("a[href]")) {
    if (a.protocol === "javascript:") found.push(`javascript: link ${a.getAttribute("href")}`);
  }
  return found;
}"""


@pytest.fixture(scope="session")
def browser_context_args(browser_context_args):
    return {**browser_context_args, "bypass_csp": True}


@pytest.fixture
def dialogs(page):
    opened: list[str] = []

    def record(dialog):
        opened.append(dialog.message)
        dialog.dismiss()

    page.on("dialog", record)
    return opened


@pytest.fixture
def rep(db):
    return RepFactory(username="rep", first_name="Rita", last_name="Rep")


def assert_inert(page, dialogs: list[str], *texts: str) -> None:
    """The page ran no payload, holds none as markup, and shows `texts` as text."""
    page.wait_for_load_state("load")
    where = page.url
    assert page.evaluate("() => typeof window.__xss") == "undefined", f"script ran on {where}"
    assert dialogs == [], f"a dialog opened on {where}: {dialogs}"
    assert page.evaluate(INJECTED) == [], f"markup injected on {where}"
    shown = page.locator("body").inner_text()
    for text in texts:
        assert text in shown, f"{text!r} not shown as text on {where}"


def visit(page, live_server, path: str, dialogs, *texts: str) -> None:
    response = page.goto(f"{live_server.url}{path}")
    assert response.status < 400, f"{path}: {response.status}"
    assert_inert(page, dialogs, *texts)


def create_lead_through_the_form(page, live_server) -> Lead:
    page.goto(f"{live_server.url}/leads/new/")
    page.fill("#id_topic", SCRIPT)
    page.fill("#id_first_name", IMG)
    page.fill("#id_last_name", SVG)
    page.fill("#id_company_name", COMPANY)
    page.fill("#id_job_title", ATTR)
    page.fill("#id_business_phone", "<b onmouseover=window.__xss=1>1</b>")
    page.fill("#id_email", EMAIL)
    page.get_by_role("tab", name="Details").click()
    page.fill("#id_website", WEBSITE)
    page.fill("#id_description", BODY)
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_test_id("lead-topic")).to_have_text(SCRIPT)
    return Lead.objects.get()


def create_account_through_the_form(page, live_server, dialogs) -> Account:
    page.goto(f"{live_server.url}/accounts/new/")
    page.fill("#id_name", COMPANY)
    page.fill("#id_phone", SVG[:50])
    page.fill("#id_city", ATTR)
    page.fill("#id_country", TEMPLATE)
    page.fill("#id_description", BODY)
    page.fill("#id_website", "javascript:alert(1)")
    page.get_by_role("button", name="Save").first.click()
    # A javascript: URL is not a website: the form refuses it.
    expect(page.locator("#id_website")).to_have_class(re.compile("is-invalid"))
    assert not Account.objects.exists()
    assert_inert(page, dialogs)
    page.fill("#id_website", WEBSITE)
    page.get_by_role("button", name="Save").first.click()
    expect(page).to_have_url(re.compile(r"/accounts/\d+/$"))
    return Account.objects.get()


def add_note_through_the_timeline(page, live_server, lead: Lead) -> Note:
    page.goto(f"{live_server.url}{lead.get_absolute_url()}")
    page.get_by_test_id("add-note").click()
    form = page.get_by_test_id("note-form")
    form.get_by_label("Title").fill(IMG)
    form.get_by_label("Note").fill(BODY)
    form.get_by_role("button", name="Add note").click()
    expect(page.get_by_text("Note added.")).to_be_visible()
    return Note.objects.get()


def test_payloads_in_every_field_are_shown_as_text_everywhere(
    page, live_server, login, rep, dialogs, admin_user
):
    login("rep")
    lead = create_lead_through_the_form(page, live_server)
    assert_inert(page, dialogs, SCRIPT, IMG, SVG, ATTR, TEMPLATE)
    account = create_account_through_the_form(page, live_server, dialogs)
    assert_inert(page, dialogs, COMPANY, ATTR, TEMPLATE)
    add_note_through_the_timeline(page, live_server, lead)
    assert_inert(page, dialogs, IMG, SCRIPT, TEMPLATE)

    contact = ContactFactory(
        owner=rep, account=account, first_name=IMG, last_name=SCRIPT, job_title=ATTR, email=EMAIL
    )
    ConnectionFactory(lead=lead, contact=contact)
    opportunity = OpportunityFactory(
        owner=rep,
        account=account,
        name=SCRIPT,
        description=BODY,
        customer_need=IMG,
        proposed_solution=TEMPLATE,
    )
    ActivityFactory(
        lead=lead,
        owner=rep,
        type=Activity.Type.APPOINTMENT,
        subject=IMG,
        description=BODY,
        location=SVG,
    )
    ActivityFactory(opportunity=opportunity, owner=rep, subject=SCRIPT, phone_number=ATTR[:50])

    # The lead: list, page (header, details, timeline, stakeholders), edit form.
    visit(page, live_server, "/leads/?view=all", dialogs, SCRIPT, COMPANY)
    visit(page, live_server, lead.get_absolute_url(), dialogs, SCRIPT, IMG, SVG, ATTR, TEMPLATE)
    expect(page.get_by_test_id("stakeholder-list")).to_contain_text(SCRIPT)
    expect(page.get_by_test_id("timeline-items")).to_contain_text(IMG)
    visit(page, live_server, reverse("leads:edit", args=[lead.pk]), dialogs)
    expect(page.locator("#id_topic")).to_have_value(SCRIPT)
    expect(page.locator("#id_first_name")).to_have_value(IMG)

    # Accounts, contacts, opportunities: lists, pages and edit forms.
    visit(page, live_server, "/accounts/", dialogs, COMPANY)
    visit(page, live_server, account.get_absolute_url(), dialogs, COMPANY, ATTR, TEMPLATE)
    visit(page, live_server, reverse("accounts:edit", args=[account.pk]), dialogs)
    expect(page.locator("#id_name")).to_have_value(COMPANY)
    visit(page, live_server, "/contacts/", dialogs, SCRIPT)
    visit(page, live_server, contact.get_absolute_url(), dialogs, IMG, SCRIPT, ATTR)
    visit(page, live_server, "/opportunities/", dialogs, SCRIPT, COMPANY)
    visit(page, live_server, opportunity.get_absolute_url(), dialogs, SCRIPT, IMG, TEMPLATE)
    visit(page, live_server, reverse("opportunities:edit", args=[opportunity.pk]), dialogs)
    expect(page.locator("#id_customer_need")).to_have_value(IMG)

    # My Activities, and search terms echoed back into the filter bars.
    visit(page, live_server, "/activities/?status=all", dialogs, IMG, SCRIPT)
    for path in ("/leads/", "/accounts/", "/contacts/", "/opportunities/", "/activities/"):
        page.goto(f"{live_server.url}{path}")
        page.goto(f"{live_server.url}{path}?{_query(q=IMG, sort=SVG)}")
        assert_inert(page, dialogs)
        expect(page.locator("input[name=q]")).to_have_value(IMG)

    # Qualifying finds the account with the lead's company name: the duplicate warning.
    page.goto(f"{live_server.url}{lead.get_absolute_url()}")
    page.get_by_test_id("qualify-button").click()
    page.locator("#qualifyModal").get_by_test_id("qualify-confirm").click()
    expect(page.get_by_test_id("duplicate-warning")).to_be_visible()
    assert_inert(page, dialogs, COMPANY)

    # The admin's change lists, searched for a payload too.
    page.context.clear_cookies()
    login_admin(page, live_server, admin_user)
    for model in (
        "leads/lead",
        "accounts/account",
        "accounts/contact",
        "opportunities/opportunity",
        "activities/note",
        "activities/activity",
        "activities/connection",
    ):
        visit(page, live_server, f"/admin/{model}/", dialogs)
        visit(page, live_server, f"/admin/{model}/?{_query(q=SCRIPT)}", dialogs)
    visit(page, live_server, f"/admin/leads/lead/{lead.pk}/change/", dialogs)


def test_qualify_page_shows_the_lead_as_text(page, live_server, login, rep, dialogs):
    """The no-JavaScript qualify page (organisation default: ask) for a hostile lead."""
    from crm.models import OrganizationSettings

    settings = OrganizationSettings.load()
    settings.create_records_on_qualify = False
    settings.save()
    login("rep")
    lead = create_lead_through_the_form(page, live_server)
    # What a browser without JavaScript posts: the Qualify form without the dialog's choices.
    page.evaluate(
        """(url) => {
            const form = document.createElement("form");
            form.method = "post";
            form.action = url;
            form.append(document.querySelector("input[name=csrfmiddlewaretoken]").cloneNode());
            document.body.append(form);
            form.submit();
        }""",
        reverse("leads:qualify", args=[lead.pk]),
    )
    page.wait_for_url(re.compile(r"/qualify/$"))
    assert_inert(page, dialogs, SCRIPT)


def test_stored_javascript_website_is_not_a_link_target(page, live_server, login, rep, dialogs):
    """A website stored without the form's validation (an import, an old row)
    must not become a javascript: link on the account page."""
    account = AccountFactory(owner=rep, name="Legacy import")
    Account.objects.filter(pk=account.pk).update(website="javascript:window.__xss=1")
    login("rep")
    visit(page, live_server, account.get_absolute_url(), dialogs)


def login_admin(page, live_server, user) -> None:
    page.goto(f"{live_server.url}/admin/login/")
    page.fill("#id_username", user.username)
    page.fill("#id_password", "password")
    page.click("input[type=submit], button[type=submit]")
    expect(page).to_have_url(re.compile(r"/admin/$"))


def _query(**params: str) -> str:
    return urlencode(params)
