"""The discharge summary a GP files (issue 11, finding 4): outcomes with baseline, latest, change
and whether the change is meaningful; attendance that adds up; recommendations; the letter page.

One story, on a stopped clock so the weekdays and bank holidays are the same on any day: a
Tuesday class, booked on Monday 7 September 2026 for 12 weeks, the first session attended that
day, then three more marked, one missed, one cancelled by the patient; measured at baseline and
exit; completed on Wednesday 7 October 2026, which releases the 7 Tuesdays still to come.
"""

import datetime
import zoneinfo
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from outcomes import services as outcome_services
from referrals import services
from referrals.alerts import alert_acknowledge, alert_raise
from referrals.discharge import (
    NO_OUTCOMES,
    AttendanceTally,
    OutcomeChange,
    discharge_summary_for,
)
from referrals.models import AlertKind, Attendance, IncidentKind, Status
from tests.builders import referral_in_state

LONDON = zoneinfo.ZoneInfo("Europe/London")
BOOKED_ON = datetime.datetime(2026, 9, 7, 9, 0, tzinfo=LONDON)  # a Monday
COMPLETED_ON = datetime.datetime(2026, 10, 7, 12, 0, tzinfo=LONDON)  # a Wednesday

SWEMWBS_21 = {f"q{n}": 3 for n in range(1, 8)}  # raw 21, metric 19.25
SWEMWBS_28 = {f"q{n}": 4 for n in range(1, 8)}  # raw 28, metric 25.03
PHQ9_8 = {**{f"q{n}": 1 for n in range(1, 9)}, "q9": 0}  # total 8
PHQ9_2 = {**{f"q{n}": 0 for n in range(1, 10)}, "q1": 1, "q2": 1}  # total 2
MEASURES_BEFORE = {"weight_kg": 90.0, "height_cm": 175.0, "bp_systolic": 140, "bp_diastolic": 85}
MEASURES_AFTER = {"weight_kg": 84.0, "height_cm": 175.0, "bp_systolic": 130, "bp_diastolic": 80}


def record(people, referral, instrument, timepoint, answers):
    outcome_services.assessment_record(
        referral=referral,
        instrument=instrument,
        timepoint=timepoint,
        answers=answers,
        by=people.instructor_x,
    )


def mark(people, referral, day, status):
    session = referral.sessions.get(scheduled_at__date=day)
    services.session_record_attendance(session=session, status=status, by=people.instructor_x)


def completed_story(people, frozen_now):
    """The story in the module docstring, through the services; the completed referral."""
    frozen_now(BOOKED_ON)
    referral = referral_in_state(people, Status.ACTIVE)
    record(people, referral, "swemwbs", "baseline", SWEMWBS_21)
    record(people, referral, "physical_measures", "baseline", MEASURES_BEFORE)
    record(people, referral, "phq9", "baseline", PHQ9_8)
    frozen_now(COMPLETED_ON)
    mark(people, referral, datetime.date(2026, 9, 15), Attendance.ATTENDED)
    mark(people, referral, datetime.date(2026, 9, 22), Attendance.DNA)
    mark(people, referral, datetime.date(2026, 9, 29), Attendance.CANCELLED_PATIENT)
    mark(people, referral, datetime.date(2026, 10, 6), Attendance.ATTENDED)
    record(people, referral, "swemwbs", "exit", SWEMWBS_28)
    record(people, referral, "physical_measures", "exit", MEASURES_AFTER)
    record(people, referral, "phq9", "exit", PHQ9_2)
    referral.refresh_from_db()
    services.referral_complete(
        referral=referral,
        by=people.coordinator_x,
        recommendations="Keep up two brisk walks a week; review blood pressure in 3 months.",
    )
    referral.refresh_from_db()
    return referral


@pytest.fixture
def completed(people, frozen_now):
    return completed_story(people, frozen_now)


def outcome(summary, name) -> OutcomeChange:
    return next(o for o in summary.outcomes if o.name == name)


def test_finding_4_discharge_summary_lists_swemwbs_and_bmi(completed):
    summary = discharge_summary_for(completed)

    assert summary.outcome_text != NO_OUTCOMES
    swemwbs = outcome(summary, "SWEMWBS: Metric score")
    assert (swemwbs.baseline, swemwbs.latest, swemwbs.change) == (
        Decimal("19.25"),
        Decimal("25.03"),
        Decimal("5.78"),
    )
    assert (swemwbs.threshold, swemwbs.meaningful, swemwbs.improved) == (Decimal(3), True, True)
    assert swemwbs.verdict == "Meaningful improvement (at least 3 points)"
    bmi = outcome(summary, "Physical measures: BMI")
    assert (bmi.baseline, bmi.latest, bmi.change) == (
        Decimal("29.4"),
        Decimal("27.4"),
        Decimal("-2.0"),
    )
    # 5% of the baseline 29.4 is 1.47: a fall of 2.0 is meaningful; no direction is claimed.
    assert (bmi.meaningful, bmi.improved) == (True, None)
    assert bmi.verdict == "Meaningful change (at least 5% of baseline, 1.5 kg/m²)"


def test_finding_4_each_score_has_baseline_latest_change_and_verdict(completed):
    summary = discharge_summary_for(completed)

    rows = {o.name: (o.baseline_text, o.latest_text, o.change_text) for o in summary.outcomes}
    # Waist and resting heart rate were not measured, so they are not listed.
    assert rows == {
        "PHQ-9: Total score": ("8", "2", "-6"),
        "Physical measures: BMI": ("29.4 kg/m²", "27.4 kg/m²", "-2.0 kg/m²"),
        "Physical measures: Weight": ("90.0 kg", "84.0 kg", "-6.0 kg"),
        "Physical measures: Blood pressure, systolic": ("140 mmHg", "130 mmHg", "-10 mmHg"),
        "Physical measures: Blood pressure, diastolic": ("85 mmHg", "80 mmHg", "-5 mmHg"),
        "SWEMWBS: Metric score": ("19.25", "25.03", "+5.78"),
    }
    phq9 = outcome(summary, "PHQ-9: Total score")
    assert phq9.verdict == "Meaningful improvement (at least 5 points)"
    systolic = next(o for o in summary.outcomes if o.score_code == "bp_systolic")
    assert systolic.verdict == "No agreed threshold for a meaningful change"
    assert systolic.direction_text == "Lower is better"


def test_finding_4_attendance_adds_up(completed):
    tally = discharge_summary_for(completed).attendance

    # 12 Tuesdays booked: 3 attended, 1 missed, 1 cancelled by the patient, and the 7 after
    # 7 October released by the completion.
    assert (
        tally.attended,
        tally.did_not_attend,
        tally.cancelled_by_patient,
        tally.cancelled_by_provider,
        tally.cancelled_after_ending,
        tally.not_yet_due,
        tally.not_recorded,
    ) == (3, 1, 1, 7, 7, 0, 0)
    assert tally.planned == 12
    assert (
        tally.planned == tally.attended + tally.did_not_attend + tally.cancelled + tally.not_yet_due
    )
    assert tally.sentence == (
        "12 sessions planned: 3 attended, 1 not attended, 8 cancelled and 0 not yet due."
    )
    assert dict(tally.rows)["Sessions planned for the patient"] == "12"
    assert dict(tally.rows)["Cancelled"] == (
        "8: 1 by the patient, 7 by the centre (of which 7 sessions after the programme ended)"
    )


def test_finding_4_a_past_session_nobody_marked_is_counted_apart():
    tally = AttendanceTally(
        attended=5,
        did_not_attend=1,
        cancelled_by_patient=0,
        cancelled_by_provider=2,
        cancelled_after_ending=2,
        not_yet_due=0,
        not_recorded=1,
        programme_planned=12,
    )

    assert tally.planned == 9
    assert tally.sentence == (
        "9 sessions planned: 5 attended, 1 not attended, 2 cancelled, 0 not yet due and "
        "1 with attendance not recorded."
    )
    assert ("The programme plans", "12 sessions") in tally.rows


def test_finding_4_recommendations_and_reason_are_in_the_summary(completed):
    summary = discharge_summary_for(completed)

    assert summary.status == Status.COMPLETED
    assert summary.ending_text == "Completed the programme."
    assert summary.recommendations == (
        "Keep up two brisk walks a week; review blood pressure in 3 months."
    )


def test_finding_4_the_summary_lists_each_alert_and_what_was_done(people, completed):
    fall = alert_raise(
        referral=completed,
        kind=AlertKind.INCIDENT,
        incident_kind=IncidentKind.FALL,
        summary="Fell on the treadmill",
        by=people.instructor_x,
        now=datetime.datetime(2026, 9, 22, 10, 30, tzinfo=LONDON),
    )
    alert_acknowledge(alert=fall, by=people.coordinator_x, action_taken="Checked by first aider")
    alert_raise(
        referral=completed,
        kind=AlertKind.HEART_RATE,
        summary="Resting heart rate 130",
        by=people.instructor_x,
        now=datetime.datetime(2026, 9, 29, 10, 30, tzinfo=LONDON),
    )

    summary = discharge_summary_for(completed)

    assert summary.safety_text == (
        "22 September 2026: Incident in a session: fall (high), acknowledged; action taken: "
        "Checked by first aider. 29 September 2026: Resting heart rate out of range (high), "
        "not yet acknowledged."
    )


def test_finding_4_the_letter_lists_outcomes_attendance_and_recommendations(
    client, people, completed
):
    client.force_login(people.referrer_a)

    response = client.get(reverse("referral_discharge_summary", args=[completed.reference]))

    assert response.status_code == 200
    page = response.content.decode()
    assert "No outcome measures" not in page
    assert "SWEMWBS: Metric score" in page
    assert "Physical measures: BMI" in page
    assert "19.25" in page and "25.03" in page and "+5.78" in page
    assert "Meaningful improvement (at least 3 points)" in page
    assert "12 sessions planned: 3 attended, 1 not attended, 8 cancelled and 0 not yet due." in page
    assert "Keep up two brisk walks a week" in page
    assert "No safety alerts or incidents were recorded" in page
    assert "printout.css" in page


def test_finding_4_without_consent_the_referrer_gets_no_progress(client, people, completed):
    from referrals.consent import consent_record_decision

    consent_record_decision(
        referral=completed, by=people.coordinator_x, purpose="share_progress", method="telephone"
    )
    client.force_login(people.referrer_a)

    page = client.get(reverse("referral_discharge_summary", args=[completed.reference]))

    text = page.content.decode()
    assert "has not consented to sharing their progress" in text
    assert "SWEMWBS" not in text and "Keep up two brisk walks" not in text


def test_finding_4_recommendations_are_optional_and_bounded(people, frozen_now):
    frozen_now(BOOKED_ON)
    referral = referral_in_state(people, Status.ACTIVE)

    with pytest.raises(ValidationError) as refused:
        services.referral_discharge(
            referral=referral,
            by=people.coordinator_x,
            reason="patient_choice",
            recommendations="x" * 2001,
        )

    assert "recommendations" in refused.value.message_dict
    referral.refresh_from_db()
    assert referral.status == Status.ACTIVE
    services.referral_discharge(referral=referral, by=people.coordinator_x, reason="patient_choice")
    referral.refresh_from_db()
    assert referral.discharge_recommendations == ""
    assert discharge_summary_for(referral).recommendations_text == "None recorded"


def test_finding_4_the_discharge_form_takes_recommendations(client, people, frozen_now):
    frozen_now(BOOKED_ON)
    referral = referral_in_state(people, Status.ACTIVE)
    client.force_login(people.coordinator_x)

    response = client.post(
        reverse("triage:action", args=[referral.reference, "discharge"]),
        {
            "version": referral.version,
            "reason": "patient_choice",
            "recommendations": "Try the walking group at the library.",
        },
    )

    assert response.status_code == 302
    referral.refresh_from_db()
    assert (referral.status, referral.discharge_recommendations) == (
        Status.DISCHARGED,
        "Try the walking group at the library.",
    )
