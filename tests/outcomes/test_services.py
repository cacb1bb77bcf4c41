import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from outcomes.models import Assessment
from outcomes.services import assessment_record
from referrals.models import Alert, Notification, ReferralEvent, Status
from tests.builders import referral_in_state
from tests.outcomes.helpers import PHQ9_CALM, PHQ9_ITEM9, WALK_BASELINE


def record(people, referral, *, instrument="phq9", timepoint="baseline", answers=None, by=None):
    return assessment_record(
        referral=referral,
        instrument=instrument,
        timepoint=timepoint,
        answers=PHQ9_CALM if answers is None else answers,
        by=by or people.instructor_x,
    )


@pytest.fixture
def booked(people):
    return referral_in_state(people, Status.BOOKED)


def test_record_computes_scores_and_writes_a_note_without_answers(people, booked):
    assessment = record(people, booked, answers={**PHQ9_CALM, "q1": 3, "q2": 2})

    assert assessment.scores == {
        "total": 5,
        "band": "mild",
        "band_label": "Mild",
        "safety_alert": False,
    }
    assert assessment.recorded_by == people.instructor_x
    event = booked.events.get(action="assessment_recorded")
    assert event.kind == ReferralEvent.Kind.NOTE
    assert "PHQ-9" in event.note and "baseline" in event.note
    assert "5" not in event.note and "Mild" not in event.note


def test_decimal_answers_are_stored_as_json_numbers(people, booked):
    from decimal import Decimal

    answers = {"weight_kg": Decimal("82.5"), "height_cm": Decimal("175.0")}
    answers |= {"bp_systolic": 130, "bp_diastolic": 85}
    assessment = record(people, booked, instrument="physical_measures", answers=answers)
    assessment.refresh_from_db()
    assert assessment.answers["weight_kg"] == 82.5
    assert assessment.scores["bmi"] == 26.9


def test_bad_answers_raise_errors_keyed_by_item_and_save_nothing(people, booked):
    with pytest.raises(ValidationError) as raised:
        record(people, booked, answers={**PHQ9_CALM, "q3": 7, "q4": None})
    assert set(raised.value.message_dict) == {"q3", "q4"}
    assert not Assessment.objects.exists()
    assert not booked.events.filter(action="assessment_recorded").exists()


def test_re_recording_replaces_scores_and_writes_a_correction(people, booked):
    first = record(people, booked)
    second = record(people, booked, answers={**PHQ9_CALM, "q1": 3})

    assert second.pk == first.pk
    assert Assessment.objects.count() == 1
    second.refresh_from_db()
    assert second.scores["total"] == 3
    assert booked.events.filter(kind=ReferralEvent.Kind.CORRECTION).count() == 1
    assert booked.events.filter(action="assessment_recorded").count() == 2


@pytest.mark.parametrize("persona", ["coordinator_x", "referrer_a", "instructor_y", "commissioner"])
def test_only_the_referrals_instructor_may_record(people, booked, persona):
    with pytest.raises(PermissionDenied):
        record(people, booked, by=getattr(people, persona))
    assert not Assessment.objects.exists()


@pytest.mark.parametrize(
    ("status", "timepoint"),
    [
        (Status.ACCEPTED, "baseline"),
        (Status.BOOKED, "exit"),
        (Status.ACTIVE, "followup_3m"),
        (Status.DISCHARGED, "followup_3m"),
        (Status.DISCHARGED, "baseline"),
    ],
)
def test_timepoint_not_allowed_in_state(people, status, timepoint):
    referral = referral_in_state(people, status)
    with pytest.raises(ValidationError):
        record(people, referral, timepoint=timepoint)
    assert not Assessment.objects.exists()


def test_exit_after_discharge_and_followup_after_completion(people):
    discharged = referral_in_state(people, Status.DISCHARGED)
    completed = referral_in_state(people, Status.COMPLETED)
    assert record(people, discharged, timepoint="exit").pk
    assert record(people, completed, timepoint="followup_12m").pk


def test_unknown_instrument_and_timepoint_are_rejected(people, booked):
    with pytest.raises(ValidationError):
        record(people, booked, instrument="nope")
    with pytest.raises(ValidationError):
        record(people, booked, timepoint="someday")


def test_licence_gated_instrument_is_rejected_when_off(people, booked, settings):
    from outcomes import instruments

    gated = instruments.get("eq5d5l")
    setattr(settings, gated.licence_setting, False)
    with pytest.raises(ValidationError):
        record(people, booked, instrument="eq5d5l", answers={})


def test_phq9_item9_raises_a_safety_alert_for_the_operator(people, booked):
    record(people, booked, answers=PHQ9_ITEM9)

    alert = Alert.objects.get(referral=booked)
    assert (alert.kind, alert.raised_by) == (Alert.Kind.PHQ9_ITEM9, people.instructor_x)
    event = booked.events.get(action="safety_alert")
    assert alert.event == event
    # The operator's coordinators are emailed; nobody at the other operator hears of it.
    emailed = Notification.objects.filter(event=event, kind=Notification.Kind.SAFETY_ALERT)
    assert set(emailed.values_list("recipient_user", flat=True)) == {people.coordinator_x.pk}
    assert not Notification.objects.filter(
        event=event, recipient_user__in=[people.coordinator_y, people.instructor_y]
    ).exists()


def test_no_alert_when_item9_is_zero(people, booked):
    record(people, booked, answers={**PHQ9_CALM, "q1": 3})
    assert not booked.events.filter(action="safety_alert").exists()
    assert not Alert.objects.exists()


def test_other_instruments_never_alert(people, booked):
    record(people, booked, instrument="six_minute_walk", answers=WALK_BASELINE)
    assert not booked.events.filter(action="safety_alert").exists()
