"""Smoke tests for the pages that exist before the referrer journey: sign in, home, sign out, 404.

They also prove the browser-test fixtures: chromium starts, the live server answers, axe runs and
screenshots are written.
"""

import re

import pytest
from playwright.sync_api import expect

from referrals import services
from referrals.models import Status
from tests.builders import referral_in_state
from tests.e2e.conftest import assert_accessible, screenshot, sign_in
from tests.factories import PatientFactory

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(60)]


TITLE_SUFFIX = " \N{EN DASH} Referral Portal"


def error_summary(page):
    return page.locator(".nhsuk-error-summary")


def test_sign_in_page_is_accessible(page, db):
    page.goto("/accounts/login/")

    expect(page).to_have_title("Sign in" + TITLE_SUFFIX)
    expect(page.get_by_role("heading", level=1)).to_have_text("Sign in")
    expect(error_summary(page)).to_have_count(0)
    assert_accessible(page, "sign-in")
    screenshot(page, "sign-in")


def test_wrong_password_shows_the_error_summary(page, people):
    page.goto("/accounts/login/")
    page.get_by_label("Email").fill(people.referrer_a.email)
    page.get_by_label("Password", exact=True).fill("not-the-password")
    page.get_by_role("button", name="Sign in").click()

    expect(page).to_have_title("Error: Sign in" + TITLE_SUFFIX)
    summary = error_summary(page)
    expect(summary).to_be_visible()
    expect(summary.get_by_role("heading")).to_have_text("There is a problem")
    # nhsuk-frontend focuses the summary so that screen readers announce it first.
    expect(summary).to_be_focused()
    # What the user typed is kept; the password is not echoed back.
    expect(page.get_by_label("Email")).to_have_value(people.referrer_a.email)
    expect(page.get_by_label("Password", exact=True)).to_have_value("")
    assert_accessible(page, "sign-in-error")
    screenshot(page, "sign-in-error")


def test_referrer_signs_in_and_sees_their_practices_referrals(page, live_server, people):
    ours = [
        referral_in_state(people, status)
        for status in (Status.DRAFT, Status.SUBMITTED, Status.ACCEPTED)
    ]
    theirs = services.referral_create_draft(
        by=people.referrer_b,
        organisation=people.practice_b,
        patient=PatientFactory(organisation=people.practice_b),
    )

    sign_in(page, people.referrer_a)

    expect(page).to_have_url(f"{live_server.url}/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Your referrals")
    expect(page.get_by_text(f"Signed in as {people.referrer_a.email}")).to_be_visible()
    expect(page.get_by_role("button", name="Make a referral")).to_be_visible()
    expect(page.get_by_label("Search by reference, NHS number or last name")).to_be_visible()
    assert_accessible(page, "home-referrer")
    screenshot(page, "home-referrer")

    # One list of referrals, the dashboard, with the search and "Make a referral" too.
    page.get_by_role("link", name="See all your practice's referrals").click()
    table = page.get_by_role("table")
    for referral in ours:
        expect(table.get_by_text(referral.reference)).to_be_visible()
    expect(page.get_by_text(theirs.reference)).to_have_count(0)


def test_sign_out_ends_the_session(page, live_server, people):
    sign_in(page, people.referrer_a)

    page.get_by_role("link", name="Sign out").click()
    assert_accessible(page, "sign-out")
    page.get_by_role("button", name="Sign out").click()

    expect(page.get_by_role("link", name="Sign in")).to_be_visible()
    expect(page.get_by_text("Signed in as")).to_have_count(0)
    page.goto("/")
    expect(page).to_have_url(f"{live_server.url}/accounts/login/?next=/")


def test_not_found_page_is_accessible(page, console, live_server, db):
    # Chromium logs every 404 response as a console error, the page's own included; only that
    # one is expected (a missing stylesheet or script would still fail the test).
    url = f"{live_server.url}/no-such-page/"
    console.allow(rf"^console\.error at {re.escape(url)}: Failed to load resource: .* 404\b")

    response = page.goto(url)

    assert response.status == 404
    expect(page.get_by_role("heading", level=1)).to_have_text("Page not found")
    assert_accessible(page, "not-found")
