"""The API's documentation pages work in the browser under the site's
Content-Security-Policy, with their assets served locally."""

import pytest
from playwright.sync_api import expect

from tests.browser.test_csp import RECORD_VIOLATIONS
from tests.factories import RepFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.mark.parametrize("page_path,ready", [("docs", ".swagger-ui .opblock"), ("redoc", "redoc")])
def test_the_api_documentation_renders_without_csp_violations(
    page, live_server, login, shot, page_path, ready
):
    RepFactory(username="rep")
    page.add_init_script(RECORD_VIOLATIONS)
    outside = []
    page.on(
        "request",
        lambda request: (
            outside.append(request.url)
            if not request.url.startswith((live_server.url, "data:", "blob:"))
            else None
        ),
    )
    login("rep")
    page.goto(f"{live_server.url}/api/v1/{page_path}/")
    expect(page.locator(ready).first).to_be_attached(timeout=15_000)
    page.wait_for_timeout(1500)
    violations = page.evaluate("window.__csp || []")
    shot(f"api-{page_path}")
    # Redoc's bundle has one outside reference of its own, the Redocly logo in its
    # menu's footer: the policy blocks it, so nothing is fetched from a CDN.
    logo = "https://cdn.redoc.ly/redoc/logo-mini.svg"
    if page_path == "redoc":
        assert set(violations) <= {f"img-src {logo}"} and set(outside) <= {logo}
    else:
        assert violations == [] and outside == []
    expect(page.get_by_text("/api/v1/leads/{id}/qualify").first).to_be_attached(timeout=15_000)
