"""WCAG 2.1 AA on every page state a rep, a manager and an admin use, checked by
axe-core (WCAG 2.1 A/AA and best practices) at desktop and phone width: a
critical or serious violation fails, a moderate one is listed. At phone width
no page may scroll sideways. The keyboard tests say where focus lands."""

from __future__ import annotations

import json
from io import StringIO

import pytest
from django.core.management import call_command
from playwright.sync_api import expect

from accounts.models import Account, Contact
from activities.models import Activity
from leads.models import Lead
from opportunities.models import Opportunity
from tests.browser.conftest import SCREENSHOTS

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

WIDTHS = {"desktop": (1366, 900), "phone": (390, 844)}
TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "best-practice"]
FAILING = {"critical", "serious"}


@pytest.fixture
def demo(db):
    call_command("seed_demo", force=True, stdout=StringIO(), stderr=StringIO())


def sign_in(page, live_server, username: str) -> None:
    page.context.clear_cookies()
    page.goto(f"{live_server.url}/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", username)
    page.click("button[type=submit]")
    page.wait_for_load_state()


def audit(page, live_server, state: str, found: dict) -> None:
    """axe on the page as it is now; its violations kept under `state`."""
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        page.add_script_tag(url=f"{live_server.url}/static/vendor/axe-core/axe.min.js")
    result = page.evaluate(
        "tags => axe.run(document, {runOnly: {type: 'tag', values: tags}})", TAGS
    )
    found[state] = [
        {
            "id": v["id"],
            "impact": v["impact"],
            "help": v["help"],
            "nodes": [n["target"] for n in v["nodes"][:5]],
        }
        for v in result["violations"]
    ]
    wide = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    if wide > 1:
        found[state].append(
            {
                "id": "sideways-scroll",
                "impact": "serious",
                "help": f"{wide}px too wide",
                "nodes": [],
            }
        )


def visit(page, live_server, path: str, ready: str | None = None) -> None:
    page.goto(f"{live_server.url}{path}")
    page.wait_for_load_state("networkidle")
    if ready:
        page.wait_for_selector(ready)


def open_dialog(page, opener, dialog: str) -> None:
    opener.click()
    expect(page.locator(dialog)).to_be_visible()
    page.wait_for_timeout(350)  # the fade


def close_dialog(page, dialog: str) -> None:
    page.keyboard.press("Escape")
    expect(page.locator(dialog)).to_be_hidden()


def rep_states(page, live_server, found: dict) -> None:
    sign_in(page, live_server, "rep")
    for view in ("my", "scored", "open", "closed"):
        visit(page, live_server, f"/leads/?view={view}")
        audit(page, live_server, f"leads {view}", found)
    visit(page, live_server, "/leads/?view=my")
    page.locator("input[name=lead_ids]").first.check()
    for dialog, opener in (
        ("#bulkQualifyModal", "bulk-qualify"),
        ("#bulkDisqualifyModal", "bulk-disqualify"),
    ):
        open_dialog(page, page.get_by_test_id(opener), dialog)
        audit(page, live_server, f"leads {dialog}", found)
        close_dialog(page, dialog)
    visit(page, live_server, "/leads/new/")
    audit(page, live_server, "new lead, first tab", found)
    page.get_by_role("tab").nth(1).click()
    audit(page, live_server, "new lead, second tab", found)

    lead = (
        Lead.objects.filter(owner__username="rep", state="open")
        .exclude(company_name__icontains="contoso")
        .order_by("pk")
        .first()
    )
    visit(
        page,
        live_server,
        f"/leads/{lead.pk}/",
        "[data-testid=score-summary], [data-testid=score-none]",
    )
    audit(page, live_server, "open lead", found)
    open_dialog(page, page.get_by_test_id("qualify-button"), "#qualifyModal")
    audit(page, live_server, "qualify dialog", found)
    close_dialog(page, "#qualifyModal")
    page.get_by_role("button", name="Disqualify").first.click()
    open_dialog(page, page.locator("[data-bs-target='#disqualifyModal']").first, "#disqualifyModal")
    audit(page, live_server, "disqualify dialog", found)
    close_dialog(page, "#disqualifyModal")

    closed = Lead.objects.filter(owner__username="rep", state="qualified").order_by("pk").first()
    visit(page, live_server, f"/leads/{closed.pk}/")
    audit(page, live_server, "qualified (read-only) lead", found)
    open_dialog(page, page.locator("[data-bs-target='#reactivateModal']").first, "#reactivateModal")
    audit(page, live_server, "reactivate dialog", found)
    close_dialog(page, "#reactivateModal")

    contoso = Lead.objects.get(company_name="CONTOSO  ltd")
    visit(page, live_server, f"/leads/{contoso.pk}/")
    open_dialog(page, page.get_by_test_id("qualify-button"), "#qualifyModal")
    page.locator("#qualifyModal button[type=submit]").last.click()
    page.wait_for_load_state("networkidle")
    audit(page, live_server, "duplicate warning", found)

    for name, path in (
        ("accounts", "/accounts/"),
        ("contacts", "/contacts/"),
        ("opportunities", "/opportunities/"),
        ("board", "/opportunities/board/"),
        ("my activities", "/activities/"),
        ("import", "/leads/import/"),
        ("notifications", "/notifications/"),
    ):
        visit(page, live_server, path)
        audit(page, live_server, name, found)

    opportunity = Opportunity.objects.filter(owner__username="rep", state="open").first()
    visit(page, live_server, f"/opportunities/{opportunity.pk}/")
    audit(page, live_server, "opportunity", found)
    for dialog in ("#closeWonModal", "#closeLostModal"):
        open_dialog(page, page.locator(f"[data-bs-target='{dialog}']").first, dialog)
        audit(page, live_server, f"opportunity {dialog}", found)
        close_dialog(page, dialog)


def record_states(page, live_server, found: dict) -> None:
    """The rest of a rep's day: records and their forms, a CSV's column mapping,
    preferences, jobs and API tokens (a new one, shown once)."""
    account = Account.objects.filter(owner__username="rep").order_by("pk").first()
    contact = Contact.objects.filter(owner__username="rep").order_by("pk").first()
    lead = Lead.objects.filter(owner__username="rep", state="open").order_by("pk").first()
    opportunity = Opportunity.objects.filter(owner__username="rep", state="open").first()
    activity = Activity.objects.filter(owner__username="rep", status="open").first()
    for name, path in (
        ("account", f"/accounts/{account.pk}/"),
        ("account form", f"/accounts/{account.pk}/edit/"),
        ("contact", f"/contacts/{contact.pk}/"),
        ("contact form", "/contacts/new/"),
        ("lead form", f"/leads/{lead.pk}/edit/"),
        ("opportunity form", f"/opportunities/{opportunity.pk}/edit/"),
        ("activity form", f"/activities/{activity.pk}/edit/"),
        ("jobs", "/jobs/"),
        ("API tokens", "/profile/tokens/"),
    ):
        visit(page, live_server, path)
        audit(page, live_server, name, found)
    page.fill("#id_name", "Website")
    page.get_by_role("button", name="Create token").click()
    page.wait_for_load_state("networkidle")
    audit(page, live_server, "API token shown once", found)
    visit(page, live_server, "/leads/import/")
    page.set_input_files(
        "input[type=file]",
        files=[
            {
                "name": "leads.csv",
                "mimeType": "text/csv",
                "buffer": b"Topic,Last name,Email\nSolar,Nakamura,k@example.com\n",
            }
        ],
    )
    page.get_by_role("button", name="Upload").click()
    page.wait_for_load_state("networkidle")
    audit(page, live_server, "import column mapping", found)


def manager_states(page, live_server, found: dict) -> None:
    sign_in(page, live_server, "manager")
    visit(page, live_server, "/reports/lead-sources/")
    audit(page, live_server, "lead-source report", found)


def admin_states(page, live_server, found: dict) -> None:
    sign_in(page, live_server, "admin")
    for name, path in (
        ("admin lead list", "/admin/leads/lead/"),
        ("admin home", "/admin/"),
        ("admin lead", f"/admin/leads/lead/{Lead.objects.order_by('pk').first().pk}/change/"),
        ("admin scoring models", "/admin/leads/scoringmodel/"),
        ("admin scoring settings", "/admin/leads/scoringsettings/"),
    ):
        visit(page, live_server, path)
        audit(page, live_server, name, found)


@pytest.mark.parametrize("width", WIDTHS)
def test_every_page_state_has_no_serious_violation(page, live_server, demo, width):
    page.set_viewport_size(dict(zip(("width", "height"), WIDTHS[width], strict=True)))
    found: dict[str, list] = {}
    rep_states(page, live_server, found)
    record_states(page, live_server, found)
    manager_states(page, live_server, found)
    visit(page, live_server, "/reports/")
    audit(page, live_server, "pipeline report", found)
    admin_states(page, live_server, found)

    report = SCREENSHOTS / f"axe-{width}.json"
    SCREENSHOTS.mkdir(exist_ok=True)
    report.write_text(json.dumps(found, indent=1))
    moderate = {s: [v for v in vs if v["impact"] not in FAILING] for s, vs in found.items()}
    failing = {s: [v for v in vs if v["impact"] in FAILING] for s, vs in found.items()}
    print(
        f"\nModerate and minor at {width}:",
        json.dumps({s: v for s, v in moderate.items() if v}, indent=1),
    )
    assert len(found) >= 42
    assert not any(failing.values()), json.dumps({s: v for s, v in failing.items() if v}, indent=1)
