"""The programme report in a browser: accessible, for a coordinator and for a commissioner."""

import pytest
from playwright.sync_api import expect

from referrals.models import Status
from tests.builders import referral_in_state
from tests.e2e.conftest import assert_accessible, screenshot, sign_in

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(90)]


@pytest.mark.parametrize("persona", ["coordinator_x", "commissioner"])
def test_report_page_is_accessible(page, people, persona):
    for status in (Status.SUBMITTED, Status.ACTIVE, Status.COMPLETED):
        referral_in_state(people, status)
    sign_in(page, getattr(people, persona))
    page.get_by_role("link", name="Reports").click()
    expect(page.get_by_role("heading", level=1)).to_be_visible()
    assert_accessible(page, f"report-{persona}")
    screenshot(page, f"report-{persona}")
