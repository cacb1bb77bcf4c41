"""The instructor's register in a real browser: today's class, one tap marks a participant
attended (htmx swaps the row in place), the caseload shows the prompts. axe-core on every page,
screenshots at 1280px and 390px."""

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from referrals.discharge import attendance_for
from referrals.models import Attendance, Status
from tests.e2e.conftest import assert_accessible, screenshot, sign_in
from tests.factories import PatientFactory
from tests.leisure.test_register import D, active_with_history, booked_with_a_session_today

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(120)]


def test_an_instructor_marks_todays_register_with_one_tap(page, people, settings):
    # Class X meets today, whatever day the suite runs: a day lists only its weekday's classes.
    people.class_x.weekday = timezone.localdate().weekday()
    people.class_x.save()
    ada, ada_session = booked_with_a_session_today(
        people,
        patient=PatientFactory(
            organisation=people.practice_a, given_name="Ada", family_name="Lovelace"
        ),
    )
    booked_with_a_session_today(
        people,
        patient=PatientFactory(
            organisation=people.practice_a, given_name="Grace", family_name="Hopper"
        ),
    )
    missing = active_with_history(people, [D, D, D])

    sign_in(page, people.instructor_x)
    page.goto("/today/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Today's classes")
    expect(page.get_by_role("heading", level=2, name=people.class_x.name)).to_be_visible()
    row = page.get_by_role("row").filter(has_text="Ada Lovelace")
    # The row's attendance tag, not its text: the row always holds the "Attended" button.
    attendance = row.locator("strong.nhsuk-tag")
    expect(attendance).to_have_text("Not marked yet")
    assert_accessible(page, "register-today")
    screenshot(page, "register-today")

    # One tap: htmx swaps just this row; the page does not reload.
    page.evaluate("() => { window.registerPageLoaded = true }")
    button = page.get_by_role("button", name="Mark Ada Lovelace attended")
    button.click()
    expect(attendance).to_have_text("Attended")  # only the row the response swaps in says so
    expect(row).not_to_contain_text("Not marked yet")
    expect(page.locator("#register-announcer")).to_have_text("Ada Lovelace: Attended")
    expect(page.get_by_role("button", name="Mark Ada Lovelace attended")).to_be_focused()
    assert page.evaluate("() => window.registerPageLoaded === true")
    hopper = page.get_by_role("row").filter(has_text="Grace Hopper")
    expect(hopper).to_contain_text("Not marked yet")
    assert_accessible(page, "register-today-marked")

    ada_session.refresh_from_db()
    ada.refresh_from_db()
    assert ada_session.status == Attendance.ATTENDED
    assert ada.status == Status.ACTIVE

    # The class's own register page, reached from today's list.
    page.get_by_role("link", name=f"Open the register for {people.class_x.name}").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Register: {people.class_x.name}")
    ada_row = page.get_by_role("row").filter(has_text="Ada Lovelace")
    expect(ada_row.locator("strong.nhsuk-tag")).to_have_text("Attended")
    assert_accessible(page, "register-class")
    screenshot(page, "register-class")

    # The caseload, with the prompt for the participant who keeps missing sessions.
    page.goto("/today/caseload/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Your caseload")
    flagged = page.get_by_role("row").filter(has_text=missing.patient.full_name)
    expect(flagged).to_contain_text("Consider discharge: 3 missed in a row")
    expect(page.get_by_role("row").filter(has_text="Ada Lovelace")).to_contain_text("Active")
    assert_accessible(page, "register-caseload")
    screenshot(page, "register-caseload")

    # The name leads to the referral page, which shows the attendance.
    page.get_by_role("link", name="Ada Lovelace").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text(ada.reference)
    # Of the sessions booked for her (the discharge summary's count), not the programme's plan:
    # a bank holiday in the weeks ahead leaves one fewer.
    booked = attendance_for(ada).planned
    expect(page.locator("main")).to_contain_text(f"1 of {booked} sessions attended, 0 missed")
    assert_accessible(page, "register-participant")

    # A lapsed sign-in (the session is gone, the CSRF cookie is not) sends the whole page to
    # the sign-in form, rather than the sign-in form into a table row.
    page.goto("/today/")
    page.context.clear_cookies(name=settings.SESSION_COOKIE_NAME)
    page.get_by_role("button", name="Mark Grace Hopper attended").click()
    page.wait_for_url("**/accounts/login/**")
    expect(page.get_by_role("button", name="Sign in")).to_be_visible()
