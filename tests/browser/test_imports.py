"""Importing a CSV file in the browser: upload, map with a preview, watch a
background worker run the batches (the page only asks how far it got), read the
summary, download the rows not imported, and be told it finished."""

import csv
import io

import pytest
from playwright.sync_api import expect

from imports.models import ImportJob
from leads.models import Lead
from tests.browser.test_csp import RECORD_VIOLATIONS
from tests.factories import LeadFactory, RepFactory

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
]

# Salesforce-style headers (auto-mapped). Line 4 repeats an existing lead's email;
# line 7 the phone of line 2, written differently (imported in an earlier batch,
# so an existing lead by then); line 9 has a bad email; line 10 repeats the email
# of line 8 in the same batch.
CSV = (
    "\ufeffFirst Name,Last Name,Company,Email,Phone,Lead Source,Rating\r\n"
    "Ann,Archer,Archer Ltd,ann@archer.example,+1 (212) 555-0101,Web,Hot\r\n"
    "Bo,Baker,Baker Co,bo@baker.example,,Trade Show,Warm\r\n"
    "Cy,Cole,Cole Inc,TAKEN@example.com,,Web,Cold\r\n"
    'Di,"Dunn, Jr.",Dunn LLC,di@dunn.example,,Partner,\r\n'
    "Ed,Eve,Eve GmbH,ed@eve.example,,Web,Hot\r\n"
    "Flo,Fox,Fox AG,,1.212.555.0101,Web,Hot\r\n"
    "Gus,Gray,Gray SA,gus@gray.example,,Web,Hot\r\n"
    "Hal,Hart,Hart BV,not-an-email,,Web,Hot\r\n"
    "Ivy,Ives,Ives Oy,Gus@Gray.example,,Web,Hot\r\n"
    "Jo,Jones,Jones AB,jo@jones.example,,Web,Hot\r\n"
)
ROWS = 10
BATCH = 3


def test_an_import_runs_in_the_background_and_reports_every_row(
    page, live_server, login, shot, settings, tmp_path, worker
):
    settings.MEDIA_ROOT = tmp_path
    settings.IMPORT_BATCH_SIZE = BATCH
    rep = RepFactory(username="rep")
    LeadFactory(email="taken@example.com")
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.on(
        "console",
        lambda msg: (
            errors.append(msg.text)
            if msg.type == "error" and "favicon" not in msg.location.get("url", "")
            else None
        ),
    )
    page.add_init_script(RECORD_VIOLATIONS)
    posts: list[str] = []
    page.on(
        "request",
        lambda request: posts.append(request.url) if request.method == "POST" else None,
    )
    login("rep")

    page.get_by_test_id("import-csv").click()
    page.set_input_files(
        "input[type=file]",
        files=[{"name": "salesforce.csv", "mimeType": "text/csv", "buffer": CSV.encode()}],
    )
    page.get_by_role("button", name="Upload").click()

    # Mapping: the first rows previewed, the Salesforce headers already mapped.
    preview = page.get_by_test_id("import-preview")
    expect(preview.locator("tbody tr")).to_have_count(5)
    expect(preview.locator("tbody tr").nth(3)).to_contain_text("Dunn, Jr.")
    expect(page.get_by_label("Last name")).to_have_value("1")
    page.get_by_label("Topic for rows without one").fill("Spring campaign")
    shot("import-mapping")
    page.get_by_role("button", name="Import").click()

    # Progress: the worker imports; htmx only asks how far it got, with no reload.
    progress = page.get_by_test_id("import-progress")
    expect(progress).to_contain_text("Done.", timeout=15_000)
    expect(progress.locator("progress")).to_have_attribute("value", str(ROWS))
    expect(page.get_by_test_id("imported")).to_have_text("6")
    expect(page.get_by_test_id("skipped")).to_have_text("3")
    expect(page.get_by_test_id("failed")).to_have_text("1")
    problems = page.get_by_test_id("import-problems")
    expect(problems).to_contain_text(
        "Line 4: Skipped (duplicate) — Same email as an existing lead."
    )
    expect(problems).to_contain_text(
        "Line 7: Skipped (duplicate) — Same phone as an existing lead."
    )
    expect(problems).to_contain_text("Line 9: Failed — Email: Enter a valid email address.")
    expect(problems).to_contain_text(
        "Line 10: Skipped (duplicate) — Same email as line 8 of this file."
    )
    shot("import-done")
    assert len(posts) == 3  # sign in, upload, mapping: nothing else writes

    # The bell says the import finished; the notification leads back to it.
    expect(page.get_by_test_id("bell-count")).to_have_text("1", timeout=5_000)
    page.get_by_test_id("bell").click()
    notification = page.get_by_test_id("notifications").get_by_role("button")
    expect(notification).to_have_text(
        "Your import of salesforce.csv finished: 6 imported, 3 skipped, 1 failed."
    )
    shot("notifications")
    notification.click()
    expect(page.get_by_test_id("import-progress")).to_contain_text("Done.")

    with page.expect_download() as download:
        page.get_by_role("link", name="Download the rows not imported").click()
    text = download.value.path().read_text(encoding="utf-8-sig")
    lines = {row["Line"]: row for row in csv.DictReader(io.StringIO(text, newline=""))}
    assert sorted(lines, key=int) == ["4", "7", "9", "10"]
    assert lines["9"]["Email"] == "not-an-email"

    page.get_by_role("link", name="See your leads").click()
    expect(page.get_by_role("row").filter(has_text="Spring campaign")).to_have_count(6)

    job = ImportJob.objects.get()
    assert (job.status, job.imported, job.skipped, job.failed) == ("done", 6, 3, 1)
    imported = Lead.objects.filter(topic="Spring campaign")
    assert imported.count() == 6
    assert set(imported.values_list("owner", flat=True)) == {rep.pk}
    assert imported.get(last_name="Dunn, Jr.").company_name == "Dunn LLC"
    assert page.evaluate("window.__csp || []") == []
    assert errors == []
