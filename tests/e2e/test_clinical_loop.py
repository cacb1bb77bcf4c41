"""Issue 11's loop in one browser, as each person would walk it, with screenshots of each step.

The GP refers with a phone number and a blood pressure; the coordinator sees both and books the
patient in; the instructor records an exit PHQ-9 whose question 9 is answered "Several days"; the
coordinator's home shows the alert at once and its email goes out; the coordinator acknowledges
it; the GP sees the alert and what was done; the coordinator completes the programme; the GP's
discharge summary lists each outcome with baseline, latest and change, and attendance that adds
up. Time passing (the weeks of sessions before the last one) is done with services, as the
instructor's register would have recorded it week by week.
"""

import datetime
import re

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from delivery import outbox
from outcomes.services import assessment_record
from referrals import services
from referrals.models import Alert, Notification, Referral, Session, Status
from tests.e2e.conftest import answer_clinical_questions, assert_accessible, screenshot, sign_in
from tests.leisure.test_register import at_local, move_session
from tests.outcomes.helpers import SCHEDULE

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(240)]

PHONE = "07700 900123"
MAILBOX = "duty.manager@operator-x.example.org"
# The baseline weeks before: a PHQ-9 of 16 (question 9 "Not at all") and a 300 m walk.
PHQ9_BASELINE = {**{f"q{n}": 2 for n in range(1, 9)}, "q9": 0}
# The exit, in the browser: 1 to questions 1 to 8 and to question 9, a PHQ-9 of 9.
PHQ9_EXIT_ANSWER = 1


def switch_user(page, user):
    page.context.clear_cookies()
    sign_in(page, user)


def send_the_referral(page, people) -> Referral:
    """The GP's five steps, with a phone number and a blood pressure of 150/90."""
    sign_in(page, people.referrer_a)
    page.goto("/referrals/")
    page.get_by_role("button", name="Make a referral").click()
    page.get_by_label("NHS number").fill("999 000 0018")
    page.get_by_label("First name").fill("Ada")
    page.get_by_label("Last name").fill("Lovelace")
    page.get_by_label("Day").fill("10")
    page.get_by_label("Month").fill("12")
    page.get_by_label("Year").fill("1960")
    page.get_by_label("Female").check()
    page.get_by_label("Postcode").fill("ls6 2ab")
    page.get_by_label("Phone number").fill(PHONE)
    page.get_by_role("button", name="Save and continue").click()

    page.get_by_label("Hypertension", exact=True).check()
    page.get_by_label("Systolic (top number)").fill("150")
    page.get_by_label("Diastolic (bottom number)").fill("90")
    answer_clinical_questions(page)
    screenshot(page, "loop-1-gp-clinical-details")
    page.get_by_role("button", name="Save and continue").click()

    page.get_by_label("None of these apply").check()
    page.get_by_role("button", name="Save and continue").click()
    page.get_by_label(f"{people.programme_x.name} at {people.facility_x.name}").check()
    page.get_by_role("button", name="Save and continue").click()
    page.get_by_label("The patient agrees to be referred to the programme").check()
    page.get_by_label("The patient agrees that the leisure centre shares").check()
    page.get_by_role("button", name="Save and continue").click()
    page.get_by_role("button", name="Send referral").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Referral sent")
    return Referral.objects.get(patient__family_name="Lovelace")


def weeks_of_sessions_pass(people, referral: Referral) -> list[Session]:
    """Put the weekly sessions in the past up to today's, leaving the last two to come, and record
    what the register and the baseline measures recorded in those weeks: every session attended
    but the one before today's, which was missed. Returns the sessions in order."""
    sessions = list(referral.sessions.order_by("scheduled_at"))
    today_index = len(sessions) - 3
    for index, session in enumerate(sessions):
        day = timezone.localdate() - datetime.timedelta(weeks=today_index - index)
        move_session(session, at_local(day, hour=0 if index == today_index else 10))
    for session in sessions[: today_index - 1]:
        services.session_record_attendance(
            session=session, status=Session.Attendance.ATTENDED, by=people.instructor_x
        )
    services.session_record_attendance(
        session=sessions[today_index - 1], status=Session.Attendance.DNA, by=people.instructor_x
    )
    first, today = sessions[0].scheduled_at, sessions[today_index].scheduled_at
    for instrument, timepoint, answers, when in (
        ("phq9", "baseline", PHQ9_BASELINE, first),
        ("six_minute_walk", "baseline", {"distance_m": 300}, first),
        ("six_minute_walk", "exit", {"distance_m": 380}, today),
    ):
        assessment_record(
            referral=referral,
            instrument=instrument,
            timepoint=timepoint,
            answers=answers,
            by=people.instructor_x,
            administered_at=when,
        )
    return sessions


def test_the_loop_from_referral_to_a_discharge_summary_with_an_alert_on_the_way(
    page, people, mailoutbox
):
    people.programme_x.outcome_schedule = SCHEDULE
    people.programme_x.save()
    people.operator_x.safety_mailbox = MAILBOX
    people.operator_x.save()

    # 1. The GP refers with a phone number and a blood pressure.
    referral = send_the_referral(page, people)
    assert referral.status == Status.SUBMITTED

    # 2. The coordinator sees both on the referral, then accepts and books.
    switch_user(page, people.coordinator_x)
    page.get_by_role("link", name="Triage").click()
    page.get_by_role("link", name=referral.reference).click()
    record = page.locator("main")
    expect(record).to_contain_text(PHONE)
    expect(record).to_contain_text("150/90")
    assert_accessible(page, "loop-2-coordinator-referral")
    screenshot(page, "loop-2-coordinator-referral")
    page.get_by_role("link", name="Accept the referral").click()
    page.get_by_label("Class").select_option(str(people.class_x.pk))
    page.get_by_label("Instructor").select_option(str(people.instructor_x.pk))
    page.get_by_role("button", name="Accept").click()
    expect(page.locator("main")).to_contain_text("Referral accepted.")
    page.get_by_role("link", name="Book sessions").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Book sessions")
    page.wait_for_load_state()
    page.get_by_role("button", name="Book", exact=True).click()
    # Booking writes a term of sessions: give it the time a loaded CI machine needs.
    expect(page.locator("main")).to_contain_text("Sessions booked.", timeout=45_000)
    referral.refresh_from_db()
    planned = referral.programme.planned_sessions
    assert referral.sessions.count() == planned

    # Weeks pass: the sessions before today are recorded, and the baseline measures.
    sessions = weeks_of_sessions_pass(people, referral)

    # 3. The instructor marks today's session and records the exit PHQ-9, question 9 = 1.
    switch_user(page, people.instructor_x)
    page.get_by_role("link", name="Today").click()
    page.wait_for_url("**/today/**")
    page.wait_for_load_state()  # htmx is ready: a tap swaps the row, not the whole page
    page.get_by_role("button", name="Mark Ada Lovelace attended").click()
    expect(page.locator("#register-announcer")).to_have_text("Ada Lovelace: Attended")
    page.goto(f"/outcomes/{referral.reference}/record/phq9/exit/")
    for n in range(1, 10):
        page.locator(f"input[name=q{n}][value='{PHQ9_EXIT_ANSWER}']").check()
    page.get_by_role("button", name="Save answers").click()
    expect(page.locator(".nhsuk-warning-callout")).to_contain_text("Safety alert")
    screenshot(page, "loop-3-instructor-phq9-safety")
    alert = Alert.objects.get(referral=referral)
    assert alert.acknowledged_at is None

    # 4. The coordinator's home shows it at once, and its email goes to them and the mailbox.
    switch_user(page, people.coordinator_x)
    page.goto("/")
    panel = page.locator("#open-alerts")
    expect(panel).to_contain_text("1 open safety alert")
    expect(panel.get_by_role("link", name=referral.reference)).to_be_visible()
    assert_accessible(page, "loop-4-coordinator-home-alert")
    screenshot(page, "loop-4-coordinator-home-alert")
    emails = Notification.objects.filter(event=alert.event, kind=Notification.Kind.SAFETY_ALERT)
    for row in emails:  # what the worker does with each row the alert queued
        outbox.notification_deliver(str(row.public_id))
    sent = {address for message in mailoutbox for address in message.to}
    assert {people.coordinator_x.email, MAILBOX} <= sent
    assert all("Lovelace" not in m.body and "Lovelace" not in m.subject for m in mailoutbox)
    assert set(emails.values_list("status", flat=True)) == {Notification.DeliveryStatus.SENT}

    # 5. The coordinator acknowledges it, saying what was done.
    panel.get_by_role("link", name=referral.reference).click()
    banner = page.locator("#alerts")
    expect(banner).to_contain_text("Not yet acknowledged")
    banner.get_by_label("Action taken").fill(
        "Rang Ada the same day: no plan or intent. GP practice told; she has the crisis line."
    )
    screenshot(page, "loop-5-coordinator-acknowledges")
    banner.get_by_role("button", name=re.compile("^Acknowledge")).click()
    expect(page.locator("#alerts")).to_have_count(0)
    page.goto("/")
    expect(page.locator("#open-alerts")).to_have_count(0)
    alert.refresh_from_db()
    assert alert.acknowledged_by == people.coordinator_x

    # 6. The GP's referral page shows the alert and what was done.
    switch_user(page, people.referrer_a)
    page.goto(f"/referrals/{referral.reference}/")
    details = page.locator("details").filter(has_text="Safety alerts and incidents")
    details.locator("summary").click()
    expect(details).to_contain_text(alert.title)
    expect(details).to_contain_text(people.coordinator_x.get_full_name())
    expect(details).to_contain_text("Rang Ada the same day")
    assert_accessible(page, "loop-6-gp-sees-the-alert")
    screenshot(page, "loop-6-gp-sees-the-alert")

    # 7. The coordinator completes the programme, with recommendations.
    switch_user(page, people.coordinator_x)
    page.goto(f"/triage/{referral.reference}/complete/")
    page.get_by_label("Recommendations").fill("Carry on walking three times a week.")
    page.get_by_role("button", name="Complete").click()
    expect(page.locator("main")).to_contain_text("Programme completed.")
    referral.refresh_from_db()
    assert referral.status == Status.COMPLETED

    # 8. The GP's discharge summary: each outcome, and attendance that adds up.
    switch_user(page, people.referrer_a)
    page.goto(f"/referrals/{referral.reference}/")
    page.get_by_role("link", name="Discharge summary (printable)").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Discharge summary")
    outcomes = page.locator("table.portal-outcomes")
    began = f"{timezone.localtime(sessions[0].scheduled_at):%-d %B %Y}"
    ended = f"{timezone.localdate():%-d %B %Y}"
    expected = {
        "PHQ-9": [f"16 (Baseline, {began})", f"9 (Exit, {ended})", "-7", "Meaningful improvement"],
        "6MWT": [f"300 m (Baseline, {began})", f"380 m (Exit, {ended})", "+80 m", "Meaningful"],
    }
    for name, (baseline, latest, change, verdict) in expected.items():
        # The cells as read out: the column headings repeated for phones are hidden from it.
        cells = outcomes.get_by_role("row").filter(has_text=name).get_by_role("cell")
        for index, text in enumerate((baseline, latest, change), start=1):
            expect(cells.nth(index)).to_have_accessible_name(text)
        expect(cells.nth(4)).to_contain_text(verdict)

    # Every session up to today's but the missed one; the two still to come were released.
    attended, missed, cancelled = len(sessions) - 3, 1, 2
    assert attended + missed + cancelled == planned
    sentence = page.locator("#attendance-sentence")
    expect(sentence).to_have_text(
        f"{planned} sessions planned: {attended} attended, {missed} not attended, "
        f"{cancelled} cancelled and 0 not yet due."
    )
    expect(page.locator("main")).to_contain_text("Carry on walking three times a week.")
    expect(page.locator("main")).to_contain_text(alert.title)
    assert_accessible(page, "loop-7-discharge-summary")
    screenshot(page, "loop-7-discharge-summary")
