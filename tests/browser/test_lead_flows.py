"""The flows a sales rep clicks through, in a real Chromium."""

import re

import pytest
from playwright.sync_api import expect

from accounts.models import Account
from leads.models import Lead
from opportunities.models import Opportunity
from tests.factories import AccountFactory, ContactFactory, LeadFactory, RepFactory

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
]


@pytest.fixture
def rep(db):
    return RepFactory(username="rep")


def test_login_and_logout(page, live_server, rep, shot):
    page.goto(f"{live_server.url}/leads/")
    expect(page).to_have_url(re.compile(r"/login/\?next=/leads/"))
    page.fill("#id_username", "rep")
    page.fill("#id_password", "wrong")
    page.click("button[type=submit]")
    expect(page.locator(".alert-danger")).to_be_visible()
    page.fill("#id_username", "rep")
    page.fill("#id_password", "password")
    page.click("button[type=submit]")
    expect(
        page.get_by_role("heading", name="My Open Leads")
        .or_(page.get_by_text("My Open Leads"))
        .first
    ).to_be_visible()
    shot("01-my-open-leads")
    page.get_by_test_id("user-menu").click()
    page.get_by_role("button", name="Log out").click()
    expect(page).to_have_url(re.compile(r"/login/"))


def test_create_lead_picking_existing_contact_fills_fields(page, live_server, rep, login, shot):
    contact = ContactFactory(
        first_name="Nancy",
        last_name="Davolio",
        email="nancy@northwind.example",
        job_title="Buyer",
        business_phone="+1 206 555 0101",
    )
    login("rep")
    page.goto(f"{live_server.url}/leads/new/")
    page.fill("#id_topic", "Warehouse scanners")
    page.select_option("#id_existing_contact", str(contact.pk))
    expect(page.locator("#id_first_name")).to_have_value("Nancy")
    expect(page.locator("#id_last_name")).to_have_value("Davolio")
    expect(page.locator("#id_email")).to_have_value("nancy@northwind.example")
    expect(page.locator("#id_job_title")).to_have_value("Buyer")
    shot("02-new-lead-filled-from-contact")
    page.get_by_role("tab", name="Details").click()
    page.select_option("#id_rating", "hot")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_test_id("lead-topic")).to_have_text("Warehouse scanners")
    lead = Lead.objects.get()
    assert (lead.first_name, lead.email, lead.rating) == ("Nancy", "nancy@northwind.example", "hot")
    assert lead.existing_contact == contact


def test_new_lead_shows_inline_errors_and_saves_nothing(page, live_server, rep, login):
    login("rep")
    page.goto(f"{live_server.url}/leads/new/")
    page.fill("#id_email", "not-an-email")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_text("Please correct the errors below")).to_be_visible()
    expect(page.locator("#id_topic")).to_have_class(re.compile("is-invalid"))
    assert Lead.objects.count() == 0


def test_qualify_with_auto_create_off_choosing_records(page, live_server, rep, login, shot):
    from crm.models import OrganizationSettings

    settings = OrganizationSettings.load()
    settings.create_records_on_qualify = False
    settings.save()
    lead = LeadFactory(owner=rep, topic="Fleet tablets", company_name="Tailspin Toys")
    login("rep")
    page.goto(f"{live_server.url}{lead.get_absolute_url()}")
    page.get_by_test_id("qualify-button").click()
    dialog = page.locator("#qualifyModal")
    expect(dialog).to_be_visible()
    dialog.get_by_label("No").nth(0).check()  # account: no
    dialog.locator("input[name=create_contact][value=yes]").check()
    dialog.locator("input[name=create_opportunity][value=yes]").check()
    dialog.locator("select[name=currency]").select_option(label="EUR")
    shot("03-qualify-dialog")
    dialog.get_by_test_id("qualify-confirm").click()
    expect(page).to_have_url(re.compile(r"/opportunities/\d+/"))
    expect(page.get_by_text("Lead qualified.")).to_be_visible()
    opp = Opportunity.objects.get()
    assert opp.currency.code == "EUR"
    assert opp.account is None and opp.contact is not None
    assert Account.objects.count() == 0


def test_duplicate_warning_pick_existing_account(page, live_server, rep, login, shot):
    existing = AccountFactory(name="Contoso Ltd", email="info@contoso.example")
    AccountFactory(name="CONTOSO  ltd", email="sales@contoso-other.example")
    lead = LeadFactory(owner=rep, topic="250 field tablets", company_name="contoso ltd")
    login("rep")
    page.goto(f"{live_server.url}{lead.get_absolute_url()}")
    page.get_by_test_id("qualify-button").click()
    page.locator("#qualifyModal").get_by_test_id("qualify-confirm").click()
    warning = page.get_by_test_id("duplicate-warning")
    expect(warning).to_be_visible()
    expect(warning.get_by_text("info@contoso.example")).to_be_visible()
    expect(warning.get_by_text("sales@contoso-other.example")).to_be_visible()
    shot("04-duplicate-warning")
    page.locator(f"#acc-{existing.pk}").check()
    page.get_by_test_id("duplicate-continue").click()
    expect(page).to_have_url(re.compile(r"/opportunities/\d+/"))
    lead.refresh_from_db()
    assert lead.qualified_account == existing
    assert Opportunity.objects.get().account == existing


def test_disqualify_then_reactivate_from_closed_leads(page, live_server, rep, login, shot):
    lead = LeadFactory(owner=rep, topic="Office chairs")
    login("rep")
    page.goto(f"{live_server.url}{lead.get_absolute_url()}")
    page.get_by_role("button", name="Disqualify").click()
    page.get_by_role("button", name="No Longer Interested").click()
    dialog = page.locator("#disqualifyModal")
    expect(dialog).to_be_visible()
    expect(dialog.locator("select[name=reason]")).to_have_value("no_longer_interested")
    dialog.get_by_test_id("disqualify-confirm").click()
    expect(page.get_by_test_id("readonly-banner")).to_contain_text("No Longer Interested")
    shot("05-disqualified-read-only")

    page.goto(f"{live_server.url}/leads/?view=closed")
    page.get_by_role("link", name=lead.full_name).click()
    page.get_by_role("button", name="Reactivate").click()
    page.get_by_test_id("reactivateModal-confirm").click()
    expect(page.get_by_text("Lead reactivated")).to_be_visible()
    lead.refresh_from_db()
    assert (lead.state, lead.status_reason, lead.owner) == ("open", "new", rep)
    page.goto(f"{live_server.url}/leads/")
    expect(page.get_by_role("link", name=lead.full_name)).to_be_visible()


def test_bulk_qualify_resolves_duplicates_on_the_summary(page, live_server, rep, login, shot):
    """Issue 9/12: the bulk summary lists each duplicate lead with its matches;
    the rep resolves them there and qualifies those in one more step."""
    existing = AccountFactory(name="Duplicate Works", email="hello@duplicate.example")
    ok1 = LeadFactory(owner=rep, last_name="Alpha")
    ok2 = LeadFactory(owner=rep, last_name="Bravo")
    linked = LeadFactory(owner=rep, last_name="Charlie", company_name="duplicate works")
    fresh = LeadFactory(owner=rep, last_name="Delta", company_name="Duplicate Works")
    login("rep")
    for lead in (ok1, ok2, linked, fresh):
        page.locator(f"input[name=lead_ids][value='{lead.pk}']").check()
    expect(page.get_by_test_id("bulk-qualify")).to_contain_text("Qualify (4)")
    page.get_by_test_id("bulk-qualify").click()
    dialog = page.locator("#bulkQualifyModal")
    expect(dialog.locator("select[name=currency]")).to_be_visible()
    dialog.get_by_test_id("qualify-confirm").click()
    expect(page.get_by_test_id("bulk-summary")).to_contain_text("2 of 4 leads qualified")
    duplicates = page.get_by_test_id("bulk-duplicates")
    expect(duplicates.get_by_test_id("bulk-duplicate")).to_have_count(2)
    expect(duplicates.get_by_text("hello@duplicate.example").first).to_be_visible()
    shot("06-bulk-qualify-duplicates")

    # Charlie is linked to the existing account; Delta gets a new one.
    page.locator(f"#acc_{linked.pk}-{existing.pk}").check()
    expect(page.locator(f"#acc_{fresh.pk}-new")).to_be_checked()
    page.get_by_test_id("bulk-duplicates-continue").click()
    expect(page.get_by_test_id("bulk-summary")).to_contain_text("2 of 2 leads qualified")
    shot("07-bulk-qualify-resolved")
    linked.refresh_from_db()
    fresh.refresh_from_db()
    assert linked.qualified_account == existing
    assert linked.qualified_opportunity.account == existing
    assert fresh.qualified_account not in (None, existing)
    assert Opportunity.objects.count() == 4


def test_bulk_disqualify_asks_the_reason_once(page, live_server, rep, login, shot):
    leads = [LeadFactory(owner=rep, last_name=name) for name in ("Echo", "Foxtrot")]
    login("rep")
    for lead in leads:
        page.locator(f"input[name=lead_ids][value='{lead.pk}']").check()
    page.get_by_test_id("bulk-disqualify").click()
    dialog = page.locator("#bulkDisqualifyModal")
    expect(dialog).to_contain_text("The 2 selected lead(s)")
    dialog.locator("select[name=reason]").select_option(label="Cannot Contact")
    dialog.get_by_test_id("bulk-disqualify-confirm").click()
    expect(page.get_by_test_id("bulk-summary")).to_contain_text("2 of 2 leads disqualified")
    for lead in leads:
        lead.refresh_from_db()
        assert (lead.state, lead.status_reason) == ("disqualified", "cannot_contact")
    page.goto(f"{live_server.url}/leads/?view=closed")
    expect(page.get_by_test_id("bulk-qualify")).to_have_count(0)
    expect(page.locator("input[name=lead_ids]")).to_have_count(0)


def test_disqualify_every_lead_of_a_list_runs_in_the_background(
    page, live_server, rep, login, shot, settings, worker
):
    settings.LEADS_PER_PAGE = 3
    leads = [LeadFactory(owner=rep, company_name=f"Bulk {i} Ltd") for i in range(7)]
    login("rep")
    page.locator("thead input[data-select-all]").check()
    bar = page.get_by_test_id("select-matching-bar")
    expect(bar).to_contain_text("Every open lead on this page is selected.")
    page.get_by_test_id("select-matching").click()
    expect(bar).to_contain_text("Every open lead of this list is selected")
    expect(page.get_by_test_id("bulk-disqualify")).to_contain_text("Disqualify (all)")
    page.get_by_test_id("bulk-disqualify").click()
    dialog = page.locator("#bulkDisqualifyModal")
    dialog.locator("select[name=reason]").select_option(label="No Longer Interested")
    dialog.get_by_test_id("bulk-disqualify-confirm").click()

    status = page.get_by_test_id("bulk-status")
    expect(status).to_contain_text("7 of 7 leads done: 7 disqualified", timeout=15_000)
    expect(status).to_contain_text("Finished")
    expect(page.get_by_test_id("bell-count")).to_have_text("1")
    shot("bulk-every-lead")
    for lead in leads:
        lead.refresh_from_db()
        assert lead.status_reason == "no_longer_interested"


def test_qualify_dialog_converts_the_budget_to_the_chosen_currency(
    page, live_server, rep, login, shot
):
    from decimal import Decimal

    from tests.factories import currency

    lead = LeadFactory(
        owner=rep, company_name="", currency=currency("GBP"), budget_amount=Decimal("184500")
    )
    login("rep")
    page.goto(f"{live_server.url}{lead.get_absolute_url()}")
    page.get_by_test_id("qualify-button").click()
    dialog = page.locator("#qualifyModal")
    expect(dialog.locator("select[name=currency]")).to_have_value(str(currency("GBP").pk))
    expect(dialog.get_by_test_id("qualify-budget")).to_contain_text("GBP 184,500.00")
    dialog.locator("select[name=currency]").select_option(label="JPY")
    shot("03b-qualify-dialog-currency")
    dialog.get_by_test_id("qualify-confirm").click()
    expect(page).to_have_url(re.compile(r"/opportunities/\d+/"))
    opportunity = Opportunity.objects.get()
    assert (opportunity.currency.code, opportunity.budget_amount) == ("JPY", Decimal("35031646"))


def test_inactive_lead_page_has_no_editable_input(page, live_server, rep, login, shot):
    lead = LeadFactory(owner=rep, qualified=True)
    login("rep")
    page.goto(f"{live_server.url}{lead.get_absolute_url()}")
    expect(page.get_by_test_id("readonly-banner")).to_be_visible()
    editable = page.locator(
        "main input:not([type=hidden]), main select, main textarea, main [contenteditable=true]"
    )
    expect(editable).to_have_count(0)
    expect(page.get_by_role("link", name="Edit")).to_have_count(0)
    expect(page.get_by_role("button", name="Reactivate")).to_be_visible()
    shot("07-qualified-read-only")


@pytest.mark.parametrize("width", [390])
def test_lead_pages_fit_a_phone(page, live_server, rep, login, shot, width):
    LeadFactory.create_batch(3, owner=rep)
    page.set_viewport_size({"width": width, "height": 844})
    login("rep")
    shot("08-phone-lead-list")
    overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0
    page.get_by_role("link", name=Lead.objects.first().full_name).click()
    shot("09-phone-lead-page")
    overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0
