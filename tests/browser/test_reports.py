"""The lead-source report's chart draws under the Content-Security-Policy."""

from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from leads.models import LeadSource
from tests.browser.test_csp import RECORD_VIOLATIONS
from tests.factories import LeadFactory, ManagerFactory

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
]

# How many pixels of the canvas are not transparent: a drawn chart has thousands.
PAINTED_PIXELS = """
(canvas) => {
  const { width, height } = canvas;
  const pixels = canvas.getContext("2d").getImageData(0, 0, width, height).data;
  let painted = 0;
  for (let i = 3; i < pixels.length; i += 4) { if (pixels[i] !== 0) { painted++; } }
  return painted;
}
"""


def test_the_chart_renders_without_errors_or_violations(page, live_server, login, shot):
    ManagerFactory(username="manager")
    now = timezone.now()
    for days, source in enumerate([LeadSource.WEB] * 5 + [LeadSource.PARTNER] * 3):
        LeadFactory(lead_source=source, created_at=now - timedelta(days=days))
    LeadFactory(lead_source=LeadSource.WEB, qualified=True, qualified_at=now)
    LeadFactory(lead_source=LeadSource.PARTNER, disqualified=True)

    errors: list[str] = []

    def console(msg) -> None:
        # The browser's own favicon request 404s (the app has none); not the page's doing.
        if msg.type == "error" and not msg.location.get("url", "").endswith("/favicon.ico"):
            errors.append(f"{msg.text} ({msg.location.get('url')})")

    page.on("console", console)
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.add_init_script(RECORD_VIOLATIONS)
    login("manager")
    page.goto(f"{live_server.url}/reports/")
    page.get_by_test_id("lead-source-report-link").click()
    page.wait_for_load_state("load")

    expect(page.locator("#mainNav .nav-link.active")).to_have_text("Reports")
    canvas = page.locator("#lead-source-chart")
    expect(canvas).to_be_visible()
    page.wait_for_function(
        "() => window.Chart && Chart.getChart('lead-source-chart') !== undefined"
    )
    page.wait_for_timeout(1200)  # the bars grow in an animation
    assert canvas.evaluate(PAINTED_PIXELS) > 1000
    assert page.evaluate("Chart.getChart('lead-source-chart').data.datasets[0].data[7]") == 6
    expect(page.get_by_test_id("lead-source-table").locator("tfoot")).to_contain_text("10")
    shot("lead-source-report")

    assert page.evaluate("window.__csp") == []
    assert errors == []
