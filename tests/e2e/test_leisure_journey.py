"""Issue 4 end to end in one browser: the referrer submits, the coordinator accepts and books, the
instructor marks the first session, and the referrer sees the patient active. Also: a full class
waitlists, and a decline shows its reason to the referrer. axe-core on every page visited."""

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from referrals import services
from referrals.models import Referral, Status
from tests.builders import new_draft, referral_in_state
from tests.e2e.conftest import assert_accessible, screenshot, sign_in
from tests.factories import PatientFactory, ProgrammeClassFactory
from tests.leisure.test_register import at_local, move_session

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(180)]


def switch_user(page, user):
    page.context.clear_cookies()
    sign_in(page, user)


def test_submit_accept_register_and_the_referrer_sees_active(page, people):
    referral = new_draft(
        people,
        patient=PatientFactory(
            organisation=people.practice_a, given_name="Mary", family_name="Seacole"
        ),
    )

    # The referrer sends the referral.
    sign_in(page, people.referrer_a)
    page.goto(f"/referrals/{referral.reference}/check/")
    page.get_by_role("button", name="Send referral").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Referral sent")

    # The coordinator finds it on the worklist and accepts it into the class.
    switch_user(page, people.coordinator_x)
    page.get_by_role("link", name="Triage").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Referrals to triage")
    assert_accessible(page, "triage-worklist")
    screenshot(page, "triage-worklist")
    page.get_by_role("link", name=referral.reference).click()
    assert_accessible(page, "triage-referral")
    page.get_by_role("link", name="Accept the referral").click()
    page.get_by_label("Class").select_option(str(people.class_x.pk))
    page.get_by_label("Instructor").select_option(str(people.instructor_x.pk))
    assert_accessible(page, "triage-accept")
    screenshot(page, "triage-accept")
    page.get_by_role("button", name="Accept").click()
    expect(page.locator("main")).to_contain_text("Referral accepted.")
    page.get_by_role("link", name="Book sessions").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Book sessions")
    assert_accessible(page, "triage-book")
    page.get_by_role("button", name="Book", exact=True).click()
    # Booking writes a term of sessions: give it the time a loaded CI machine needs.
    expect(page.locator("main")).to_contain_text("Sessions booked.", timeout=45_000)
    referral.refresh_from_db()
    assert referral.status == Status.BOOKED
    planned = referral.sessions.count()  # the weekly sessions booked, bank holidays left out

    # Time passes: the first session is today.
    first = referral.sessions.order_by("scheduled_at").first()
    move_session(first, at_local(timezone.localdate(), hour=0))

    # The instructor marks it attended on today's register.
    switch_user(page, people.instructor_x)
    page.get_by_role("link", name="Today").click()
    assert_accessible(page, "register-today")
    # The row's attendance tag: the page holds the "Attended" button before any click.
    attendance = page.get_by_role("row").filter(has_text="Mary Seacole").locator("strong.nhsuk-tag")
    expect(attendance).to_have_text("Not marked yet")
    page.get_by_role("button", name="Mark Mary Seacole attended").click()
    expect(attendance).to_have_text("Attended")  # only the row the response swaps in says so
    expect(page.locator("#register-announcer")).to_have_text("Mary Seacole: Attended")
    assert_accessible(page, "register-marked")
    screenshot(page, "register-marked")
    referral.refresh_from_db()
    assert referral.status == Status.ACTIVE

    # The referrer sees the patient active with one session attended.
    switch_user(page, people.referrer_a)
    page.goto("/referrals/?clinician=all")
    row = page.get_by_role("row").filter(has_text=referral.reference)
    expect(row).to_contain_text("Active")
    row.get_by_role("link", name=referral.reference).click()
    expect(page.locator("main")).to_contain_text(f"1 of {planned} sessions attended")
    assert_accessible(page, "referrer-sees-active")
    screenshot(page, "referrer-sees-active")


def test_accepting_into_a_full_class_waitlists(page, people):
    full = ProgrammeClassFactory(
        programme=people.programme_x, facility=people.facility_x, capacity=1, name="Full circuits"
    )
    holder = referral_in_state(people, Status.SUBMITTED)
    services.referral_accept(
        referral=holder, by=people.coordinator_x, facility=people.facility_x, programme_class=full
    )
    waiting = referral_in_state(people, Status.SUBMITTED)

    sign_in(page, people.coordinator_x)
    page.goto(f"/triage/{waiting.reference}/accept/")
    page.get_by_label("Class").select_option(str(full.pk))
    page.get_by_role("button", name="Accept").click()

    expect(page.locator("main")).to_contain_text("on its waiting list (number 1)")
    expect(page.locator("main")).to_contain_text("Number 1 on the waiting list for Full circuits")
    assert_accessible(page, "waitlisted")
    assert Referral.objects.get(pk=waiting.pk).status == Status.WAITLISTED


def test_a_decline_shows_its_reason_to_the_referrer(page, people):
    referral = referral_in_state(people, Status.SUBMITTED)

    sign_in(page, people.coordinator_x)
    page.goto(f"/triage/{referral.reference}/decline/")
    page.get_by_role("button", name="Decline").click()
    expect(page.locator(".nhsuk-error-summary")).to_contain_text(
        "Select why you are declining the referral"
    )
    assert_accessible(page, "decline-error")
    page.get_by_label("Outside the area we serve").check()
    page.get_by_label("Message for the referrer").fill("Please refer to Bradford Active.")
    page.get_by_role("button", name="Decline").click()
    expect(page.locator("main")).to_contain_text("Referral declined.")

    switch_user(page, people.referrer_a)
    page.goto(f"/referrals/{referral.reference}/")
    main = page.locator("main")
    expect(main).to_contain_text("Declined")
    expect(main).to_contain_text("Reason: Outside the area we serve")
    expect(main).to_contain_text("Please refer to Bradford Active.")
    assert_accessible(page, "referrer-sees-decline")
