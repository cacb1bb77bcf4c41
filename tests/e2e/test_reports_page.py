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
    expect(page.get_by_role("heading", level=1)).to_have_text("Programme report")
    # By hand: three submitted referrals, two accepted (active, completed), both started with
    # one attended class session of the 12 planned and no self-directed visit, one completed.
    # A commissioner sees each count from 1 to 4 as "<5" and any rate on such a count
    # suppressed.
    exact = persona == "coordinator_x"
    expected = {
        "Referrals": "3" if exact else "<5",
        "Accepted": "2" if exact else "<5",
        "Started (attended at least one session, counting self-directed visits where the "
        "programme does)": "2" if exact else "<5",
        "Uptake (started ÷ accepted)": "100.0%" if exact else "Suppressed",
        "Adherence (attended at least 75% of planned sessions, counting self-directed visits "
        "where the programme does ÷ started)": "0.0%" if exact else "Suppressed",
        "Completed": "1" if exact else "<5",
        "Completion (completed ÷ started)": "50.0%" if exact else "Suppressed",
        # No visits were recorded: the sessions counted are the class sessions.
        "Class sessions attended": "2" if exact else "<5",
        "Self-directed visits recorded (all programmes)": "0",
        "Sessions counted toward adherence (class sessions and visit days counted)": (
            "2" if exact else "<5"
        ),
        "Moved up at least one GPPAQ category (baseline to exit)": "Not applicable",
    }
    summary = page.locator(".nhsuk-summary-list__row")
    for label, value in expected.items():
        row = summary.filter(has=page.get_by_text(label, exact=True))
        expect(row.locator(".nhsuk-summary-list__value")).to_have_text(value)
    main = page.locator("main")
    expect(main).to_contain_text("No referral has the same measure recorded at baseline and")
    suppression_note = main.get_by_text('Counts from 1 to 4 are shown as "<5"')
    expect(suppression_note).to_have_count(0 if exact else 1)
    assert_accessible(page, f"report-{persona}")
    screenshot(page, f"report-{persona}")
