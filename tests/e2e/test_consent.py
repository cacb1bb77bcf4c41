"""Consent withdrawal in a real browser: the instructor records that the patient withdrew consent
to share progress, then the referrer sees the decision and its history and no longer sees how the
patient is getting on. axe-core on each page; screenshots."""

import pytest
from playwright.sync_api import expect

from referrals.models import Notification, Status
from tests.builders import referral_in_state
from tests.e2e.conftest import assert_accessible, screenshot, sign_in

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(120)]


def test_instructor_records_a_withdrawal_and_the_referrer_sees_it(page, people):
    referral = referral_in_state(people, Status.ACTIVE)

    sign_in(page, people.instructor_x)
    page.goto(f"/referrals/{referral.reference}/")
    page.get_by_role("link", name="Record a consent decision").first.click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Record a consent decision")
    page.get_by_role("button", name="Record decision").click()
    expect(page.locator(".nhsuk-error-summary")).to_contain_text("Select what the patient has")
    assert_accessible(page, "consent-form-errors")
    page.get_by_label("Withdraw consent to share progress with the referrer").check()
    page.get_by_label("In person").check()
    page.get_by_label("Note (optional)").fill("Asked after Tuesday's class.")
    screenshot(page, "consent-form")
    page.get_by_role("button", name="Record decision").click()

    expect(page.locator(".nhsuk-notification-banner, .nhsuk-inset-text").first).to_be_visible()
    expect(page.get_by_text("no more progress updates will be sent")).to_be_visible()
    page.get_by_text("Consent history (4 decisions)").click()
    expect(page.get_by_role("table").filter(has_text="Asked after Tuesday")).to_be_visible()
    assert_accessible(page, "consent-provider-referral-page")
    assert not referral.notifications.filter(
        event__action__in=["book", "start"], status__in=["pending", "retrying"]
    ).exists()
    assert referral.notifications.filter(status=Notification.DeliveryStatus.WITHHELD).exists()

    page.context.clear_cookies()
    sign_in(page, people.referrer_a)
    page.goto(f"/referrals/{referral.reference}/")
    consent = page.locator("#consent + dl")
    expect(consent).to_contain_text("Withdrawn")
    expect(page.get_by_text("Not shared: the patient did not consent")).to_be_visible()
    assert_accessible(page, "consent-referrer-referral-page")
    screenshot(page, "consent-referrer-referral-page")
