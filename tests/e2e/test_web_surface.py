"""The hardened surface in a real browser: the page fixture's own checks (a Content-Security-
Policy violation or a request to another host fails a test), and the pages the journeys do not
visit (platform admin, MFA set-up, the printable discharge summary) load under the policy."""

import re

import pytest
from axes.models import AccessAttempt
from django.conf import settings
from django.contrib.sessions.backends.db import SessionStore
from django.contrib.sessions.models import Session
from django.utils import timezone
from playwright.sync_api import expect

from accounts.session_timeout import LAST_ACTIVITY, SIGNED_IN_AT
from referrals import services
from referrals.models import Status
from tests.builders import referral_in_state
from tests.e2e.conftest import assert_accessible, screenshot, sign_in
from tests.factories import TEST_PASSWORD, UserFactory

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(90)]


def take_errors(console, text: str) -> list[str]:
    """Remove and return the errors containing text, so the test itself does not fail on them."""
    taken = [e for e in console.errors if text in e]
    console.errors[:] = [e for e in console.errors if text not in e]
    return taken


def test_an_inline_script_or_style_is_refused_and_reported(page, console, people):
    sign_in(page, people.referrer_a)
    page.goto("/")

    page.evaluate(
        """() => {
            const script = document.createElement("script");
            script.textContent = "window.injected = true";
            document.body.append(script);
            const style = document.createElement("style");
            style.textContent = "body { display: none }";
            document.head.append(style);
        }"""
    )

    expect(page.get_by_role("heading", level=1)).to_be_visible()
    assert page.evaluate("() => window.injected === undefined")
    page.wait_for_function("() => true")  # let the violation events reach the test
    reports = take_errors(console, "Content-Security-Policy violation")
    assert any("script-src" in r for r in reports), console.errors
    assert any("style-src" in r for r in reports), console.errors
    take_errors(console, "Content Security Policy")  # chromium's own console messages


def test_a_request_to_another_host_is_refused_and_reported(page, console, db):
    page.goto("/accounts/login/")

    with pytest.raises(Exception, match="ERR_BLOCKED_BY_CLIENT"):
        page.goto("http://portal-elsewhere.invalid/")

    assert take_errors(console, "request off the live server: http://portal-elsewhere.invalid/")


def test_the_platform_admin_works_under_the_policy(page, people):
    staff = UserFactory(is_staff=True, is_superuser=True, email="platform@example.org")
    referral_in_state(people, Status.SUBMITTED)
    sign_in(page, staff)

    page.goto("/admin/")
    expect(page.get_by_role("heading", name="Site administration")).to_be_visible()
    page.goto("/admin/referrals/referral/")
    expect(page.locator("#result_list")).to_be_visible()
    page.locator("#result_list tbody a").first.click()
    expect(page.locator("#content h1")).to_contain_text("Change")
    page.goto("/admin/accounts/user/add/")
    expect(page.locator("#content h1")).to_contain_text("Add")


def test_mfa_set_up_shows_its_qr_code_under_the_policy(page, people):
    sign_in(page, people.referrer_a)
    page.goto("/accounts/2fa/totp/activate/")
    if "reauthenticate" in page.url:
        page.get_by_label("Password", exact=True).fill(TEST_PASSWORD)
        page.get_by_role("button").filter(has_text="Confirm").click()

    qr_code = page.locator("img.portal-qr-code")
    expect(qr_code).to_be_visible()
    assert page.evaluate("(img) => img.naturalWidth > 0", qr_code.element_handle())


def test_the_discharge_summary_prints_from_its_button(page, people):
    referral = referral_in_state(people, Status.ACTIVE)
    services.referral_discharge(
        referral=referral, by=people.coordinator_x, reason="dna_limit", note="Stopped coming"
    )
    sign_in(page, people.referrer_a)
    page.goto(f"/referrals/{referral.reference}/discharge-summary/")
    page.evaluate("() => { window.printed = 0; window.print = () => { window.printed += 1 } }")

    page.get_by_role("button", name="Print this summary").click()

    assert page.evaluate("() => window.printed") == 1


def test_the_lockout_page_is_accessible(page, console, people):
    # Chromium logs the page's own 429 as a console error; nothing else is expected.
    console.allow(r"/accounts/login/: Failed to load resource: .* 429\b")
    email = people.referrer_a.email
    AccessAttempt.objects.create(
        username=email,
        ip_address="127.0.0.1",
        user_agent="",
        path_info="/accounts/login/",
        failures_since_start=settings.AXES_FAILURE_LIMIT,
        attempt_time=timezone.now(),
    )

    page.goto("/accounts/login/")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password", exact=True).fill(TEST_PASSWORD)
    page.get_by_role("button", name="Sign in").click()

    expect(page.get_by_role("heading", level=1)).to_have_text("You cannot sign in at the moment")
    assert_accessible(page, "sign-in-locked")
    screenshot(page, "sign-in-locked")


def test_the_idle_warning_appears_and_stay_signed_in_keeps_the_session(page, people):
    sign_in(page, people.referrer_a)
    # The browser's clock is Playwright's from here, so 28 minutes pass in an instant; the
    # server's clock is real, so the session itself is still fresh.
    page.clock.install()
    page.goto("/referrals/")
    warning = page.get_by_role("alertdialog", name="You are about to be signed out")
    page.clock.run_for("27:59")
    expect(warning).to_be_hidden()

    page.clock.run_for("00:02")

    expect(warning).to_be_visible()
    expect(warning).to_contain_text("you will be signed out in 2 minutes")
    stay = warning.get_by_role("button", name="Stay signed in")
    expect(stay).to_be_focused()
    assert_accessible(page, "session-timeout-warning")
    screenshot(page, "session-timeout-warning")
    with page.expect_response("**/session/keep-alive/") as keep_alive:
        stay.click()
    assert keep_alive.value.status == 204
    expect(warning).to_be_hidden()
    # The clock starts again from the keep-alive.
    page.clock.run_for("27:00")
    expect(warning).to_be_hidden()
    expect(page.get_by_text("Signed in as")).to_be_visible()


def test_at_the_idle_limit_the_page_shows_why_it_signed_out(page, people):
    sign_in(page, people.referrer_a)
    page.clock.install()
    page.goto("/referrals/")
    # The server's side of the same half hour: the session's last request was 31 minutes ago.
    age_last_request(people.referrer_a, minutes=31)

    page.clock.run_for("30:02")

    expect(page).to_have_url(re.compile(r"/accounts/login/\?next=/referrals/$"))
    expect(
        page.get_by_text("You were signed out after 30 minutes without activity.")
    ).to_be_visible()


def age_last_request(user, *, minutes: int) -> None:
    """Move the user's sessions' last-request time back (as if they had been idle that long)."""
    for stored in Session.objects.all():
        store = SessionStore(session_key=stored.session_key)
        if store.get("_auth_user_id") == str(user.pk):
            store[LAST_ACTIVITY] = store[LAST_ACTIVITY] - minutes * 60
            store[SIGNED_IN_AT] = store[LAST_ACTIVITY]
            store.save()
