"""The API's Swagger UI (issue 12): it renders the schema in the browser with nothing loaded from
another host and no Content-Security-Policy violation (the page fixture fails on either)."""

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import screenshot

pytestmark = [pytest.mark.e2e]


def test_the_api_docs_render_from_this_host_only(page, db):
    page.goto("/api/v1/docs/")

    expect(page.locator(".swagger-ui .info .title")).to_contain_text("Referral Portal API")
    expect(page.locator(".swagger-ui .opblock-summary-path").first).to_be_visible()
    expect(page.get_by_role("button", name="Authorize")).to_be_visible()
    screenshot(page, "api-docs")
