"""A rep works a lead's timeline and stakeholders in Chromium."""

from pathlib import Path

import pytest
from playwright.sync_api import expect

from activities.models import Activity, Connection, Note
from tests.factories import AccountFactory, ContactFactory, LeadFactory, RepFactory

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def rep_lead(db):
    rep = RepFactory(username="rep")
    return LeadFactory(owner=rep, topic="Fifty laptops for the lab")


def test_add_a_note_with_an_attachment_and_download_it(
    page, live_server, login, rep_lead, tmp_path, settings, shot
):
    settings.MEDIA_ROOT = tmp_path / "media"
    brief = tmp_path / "Customer brief.pdf"
    brief.write_bytes(b"%PDF-1.4 the brief")
    login("rep")
    page.goto(f"{live_server.url}{rep_lead.get_absolute_url()}")

    page.get_by_test_id("add-note").click()
    form = page.get_by_test_id("note-form")
    form.get_by_label("Title").fill("Kick-off")
    form.get_by_label("Note").fill("They want delivery before March.")
    form.get_by_label("Attachment").set_input_files(str(brief))
    shot("timeline-note-form")
    form.get_by_role("button", name="Add note").click()

    expect(page.get_by_text("Note added.")).to_be_visible()
    item = page.get_by_test_id("timeline-note").first
    expect(item).to_contain_text("They want delivery before March.")
    link = item.get_by_test_id("attachment-link")
    expect(link).to_contain_text("Customer_brief.pdf")
    shot("timeline-note-added")
    with page.expect_download() as info:
        link.click()
    download = info.value
    assert download.suggested_filename == "Customer_brief.pdf"
    assert Path(download.path()).read_bytes() == b"%PDF-1.4 the brief"
    assert Note.objects.get().author.username == "rep"


def test_log_a_phone_call_and_complete_it(page, live_server, login, rep_lead, shot):
    login("rep")
    page.goto(f"{live_server.url}{rep_lead.get_absolute_url()}")

    page.get_by_test_id("add-activity").click()
    page.get_by_role("button", name="Phone call").click()
    form = page.get_by_test_id("activity-form-phone_call")
    form.get_by_label("Subject").fill("Discovery call with IT")
    form.get_by_label("Phone number").fill("+1 206 555 0100")
    form.get_by_label("Direction").select_option("incoming")
    form.get_by_label("Due").fill("2026-12-01T10:30")
    shot("timeline-phone-call-form")
    form.get_by_role("button", name="Save phone call").click()

    item = page.get_by_test_id("timeline-activity").first
    expect(item).to_contain_text("Discovery call with IT")
    expect(item.get_by_test_id("activity-status")).to_have_text("Open")
    item.get_by_test_id("complete-activity").click()

    expect(page.get_by_text("marked complete")).to_be_visible()
    expect(
        page.get_by_test_id("timeline-activity").first.get_by_test_id("activity-status")
    ).to_have_text("Completed")
    shot("timeline-phone-call-completed")
    call = Activity.objects.get()
    assert (call.type, call.direction, call.status) == ("phone_call", "incoming", "completed")

    page.goto(f"{live_server.url}/activities/?status=all")
    expect(page.get_by_test_id("activity-row")).to_contain_text("Discovery call with IT")
    shot("my-activities")


def test_add_a_stakeholder_as_decision_maker(page, live_server, login, rep_lead, shot):
    ContactFactory(
        first_name="Nancy",
        last_name="Davolio",
        job_title="CFO",
        account=AccountFactory(name="Northwind Traders"),
    )
    ContactFactory(first_name="Andrew", last_name="Fuller")
    login("rep")
    page.goto(f"{live_server.url}{rep_lead.get_absolute_url()}")

    page.get_by_test_id("add-stakeholder").click()
    page.get_by_test_id("stakeholder-search").fill("nancy north")
    results = page.get_by_test_id("stakeholder-results")
    expect(results).to_contain_text("Nancy Davolio")
    expect(results).not_to_contain_text("Andrew Fuller")
    results.get_by_test_id("stakeholder-new-role").select_option(label="Decision Maker")
    shot("stakeholder-search")
    results.get_by_test_id("stakeholder-add-submit").click()

    expect(page.get_by_text("Nancy Davolio added as Decision Maker.")).to_be_visible()
    row = page.get_by_test_id("stakeholder")
    expect(row).to_contain_text("Nancy Davolio")
    expect(row.get_by_test_id("stakeholder-role")).to_have_value("decision_maker")
    shot("stakeholder-added")

    # Changing the role saves on change.
    row.get_by_test_id("stakeholder-role").select_option(label="Economic Buyer")
    expect(page.get_by_text("is now Economic Buyer")).to_be_visible()
    assert Connection.objects.get().role == "economic_buyer"
