"""Safety alerts as a first-class record (issue 11, findings 2 and 3): each kind raises one, the
right people see and acknowledge it, it is emailed at once without patient data, escalated once
when nobody acknowledges it, and the referrer hears of it through the status-update loop."""

import datetime
import zoneinfo

import pytest
from django.core import mail
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction

from accounts.models import Organisation
from delivery import reminders
from delivery.outbox import notification_deliver
from outcomes.services import assessment_record
from referrals import alerts
from referrals.alerts import AlertAlreadyAcknowledged, alert_acknowledge, open_alerts_panel
from referrals.models import Alert, Notification, ReferralEvent, Session, Status
from tests.builders import referral_in_state, session_due_now
from tests.factories import member
from tests.outcomes.helpers import PHQ9_ITEM9

N = Notification
LONDON = zoneinfo.ZoneInfo("Europe/London")
# A Tuesday morning: the clock is stopped here for the tests that count hours.
RAISED_AT = datetime.datetime(2026, 3, 3, 10, 0, tzinfo=LONDON)


def measures(systolic=130, diastolic=85, resting_hr=None) -> dict:
    answers = {"weight_kg": 82.5, "height_cm": 175.0, "bp_systolic": systolic}
    answers |= {"bp_diastolic": diastolic}
    if resting_hr is not None:
        answers["resting_hr"] = resting_hr
    return answers


def record(people, referral, instrument, answers, timepoint="baseline"):
    return assessment_record(
        referral=referral,
        instrument=instrument,
        timepoint=timepoint,
        answers=answers,
        by=people.instructor_x,
    )


@pytest.fixture
def active(people):
    return referral_in_state(people, Status.ACTIVE)


@pytest.fixture
def safety_mailbox(people):
    Organisation.objects.filter(pk=people.operator_x.pk).update(
        safety_mailbox="duty.manager@operator-x.example.org"
    )
    people.operator_x.refresh_from_db()
    return people.operator_x.safety_mailbox


def phq9_alert(people, referral) -> Alert:
    record(people, referral, "phq9", PHQ9_ITEM9)
    return Alert.objects.get(referral=referral)


# --- Finding 2: PHQ-9 question 9 above 0 is a record, not only a timeline note -----------------


def test_finding_2_phq9_item9_raises_an_open_urgent_alert(people, active):
    record(people, active, "phq9", PHQ9_ITEM9)

    alert = Alert.objects.get(referral=active)
    assert alert.kind == Alert.Kind.PHQ9_ITEM9
    assert alert.severity == Alert.Severity.URGENT
    assert alert.raised_by == people.instructor_x
    assert alert.is_open
    assert alert.summary == "PHQ-9 at baseline: question 9 answered above 'Not at all'"
    assert alert.event.action == "safety_alert"
    assert alert.event.kind == ReferralEvent.Kind.NOTE
    # The staff no longer get in-app rows that vanish once the referral is opened.
    assert not Notification.objects.filter(
        event=alert.event, recipient_user__in=[people.coordinator_x, people.instructor_x]
    ).exclude(channel=N.Channel.EMAIL)


def test_finding_2_recording_the_same_answers_again_does_not_double_the_alert(people, active):
    record(people, active, "phq9", PHQ9_ITEM9)
    record(people, active, "phq9", PHQ9_ITEM9)
    assert Alert.objects.filter(referral=active).count() == 1

    alert_acknowledge(alert=Alert.objects.get(), by=people.coordinator_x, action_taken="Called.")
    record(people, active, "phq9", PHQ9_ITEM9)
    assert Alert.objects.filter(referral=active, acknowledged_at__isnull=True).count() == 1


# --- Finding 3: blood pressure and heart rate recorded at the centre ---------------------------


def test_finding_3_bp_200_over_115_recorded_at_the_centre_raises_an_alert(people, active):
    record(people, active, "physical_measures", measures(200, 115))

    alert = Alert.objects.get(referral=active)
    assert alert.kind == Alert.Kind.BLOOD_PRESSURE
    assert alert.severity == Alert.Severity.URGENT
    assert alert.summary == "Blood pressure 200/115 mmHg, physical measures at baseline"


@pytest.mark.parametrize(("systolic", "diastolic"), [(180, 95), (170, 100)])
def test_finding_3_bp_at_either_limit_raises_an_alert(people, active, systolic, diastolic):
    record(people, active, "physical_measures", measures(systolic, diastolic))
    assert Alert.objects.get(referral=active).kind == Alert.Kind.BLOOD_PRESSURE


def test_finding_3_bp_just_under_the_limits_raises_nothing(people, active):
    record(people, active, "physical_measures", measures(179, 99))
    assert not Alert.objects.exists()


@pytest.mark.parametrize(("rate", "raises"), [(39, True), (40, False), (120, False), (121, True)])
def test_finding_3_resting_heart_rate_outside_40_to_120_raises_an_alert(
    people, active, rate, raises
):
    record(people, active, "physical_measures", measures(resting_hr=rate))

    found = list(Alert.objects.filter(referral=active))
    assert [a.kind for a in found] == ([Alert.Kind.HEART_RATE] if raises else [])
    if raises:
        assert found[0].severity == Alert.Severity.HIGH
        assert found[0].summary == (
            f"Resting heart rate {rate} beats a minute (expected 40 to 120), "
            "physical measures at baseline"
        )


def test_the_heart_rate_range_is_a_setting(people, active, settings):
    settings.PORTAL_ALERT_HR_MAX = 100
    record(people, active, "physical_measures", measures(resting_hr=110))
    assert Alert.objects.get(referral=active).kind == Alert.Kind.HEART_RATE


def test_high_bp_and_heart_rate_raise_one_alert_each(people, active):
    record(people, active, "physical_measures", measures(210, 120, resting_hr=130))
    assert sorted(Alert.objects.values_list("kind", flat=True)) == ["blood_pressure", "heart_rate"]


# --- Incidents in a session --------------------------------------------------------------------


def started_session(referral) -> Session:
    return session_due_now(referral.sessions.order_by("scheduled_at").first())


@pytest.mark.parametrize(
    ("kind", "severity"),
    [("fall", "high"), ("chest_pain", "urgent"), ("dizziness", "high"), ("hypoglycaemia", "high")],
)
def test_an_incident_in_a_session_raises_an_alert(people, kind, severity):
    booked = referral_in_state(people, Status.BOOKED)
    session = started_session(booked)

    alert = alerts.incident_record(
        session=session,
        by=people.instructor_x,
        incident_kind=kind,
        description="Felt unwell during the warm-up.",
        immediate_action="Stopped exercise; sat down; observed for 20 minutes.",
    )

    assert (alert.kind, alert.incident_kind, alert.severity) == ("incident", kind, severity)
    assert alert.session == session
    assert alert.description == "Felt unwell during the warm-up."
    assert alert.referral == booked


@pytest.mark.parametrize("persona", ["coordinator_x", "instructor_y", "referrer_a", "admin_x"])
def test_only_the_referrals_instructors_log_incidents(people, persona):
    session = started_session(referral_in_state(people, Status.BOOKED))
    with pytest.raises(PermissionDenied):
        alerts.incident_record(
            session=session,
            by=getattr(people, persona),
            incident_kind="fall",
            description="Fell.",
            immediate_action="First aid.",
        )
    assert not Alert.objects.exists()


def test_an_incident_needs_its_answers_and_a_session_that_has_happened(people):
    booked = referral_in_state(people, Status.BOOKED)
    future = booked.sessions.order_by("scheduled_at").first()
    with pytest.raises(ValidationError) as missing:
        alerts.incident_record(
            session=future,
            by=people.instructor_x,
            incident_kind="earthquake",
            description="  ",
            immediate_action="",
        )
    assert set(missing.value.message_dict) == {"incident_kind", "description", "immediate_action"}
    with pytest.raises(ValidationError, match="has not happened yet"):
        alerts.incident_record(
            session=future,
            by=people.instructor_x,
            incident_kind="fall",
            description="Fell.",
            immediate_action="First aid.",
        )
    assert not Alert.objects.exists()


# --- Who sees the open alerts ------------------------------------------------------------------


def test_the_coordinator_and_the_referrals_instructor_see_the_open_alert(people, active):
    alert = phq9_alert(people, active)

    for persona in ("coordinator_x", "instructor_x"):
        panel = open_alerts_panel(getattr(people, persona))
        assert panel is not None
        assert (panel.count, [a.pk for a in panel.alerts]) == (1, [alert.pk]), persona


@pytest.mark.parametrize("persona", ["coordinator_y", "instructor_y"])
def test_another_operators_staff_see_none_of_it(people, active, persona):
    phq9_alert(people, active)
    panel = open_alerts_panel(getattr(people, persona))
    assert panel is not None
    assert (panel.count, panel.alerts) == (0, [])


@pytest.mark.parametrize("persona", ["commissioner", "admin_x", "admin_a", "referrer_a"])
def test_commissioners_admins_and_referrers_get_no_alert_panel(people, active, persona):
    phq9_alert(people, active)
    assert open_alerts_panel(getattr(people, persona)) is None


def test_an_instructor_at_another_of_the_operators_centres_does_not_see_it(people, active):
    phq9_alert(people, active)
    pool = member(people.operator_x, "instructor", "pool.instructor@example.org")
    people.facility_x2.staff.add(pool)

    assert open_alerts_panel(pool).count == 0


def test_urgent_alerts_come_first_then_the_newest(people, active):
    record(people, active, "physical_measures", measures(resting_hr=130))
    record(people, active, "phq9", PHQ9_ITEM9)
    session = started_session(active)
    alerts.incident_record(
        session=session,
        by=people.instructor_x,
        incident_kind="fall",
        description="Tripped.",
        immediate_action="First aid.",
    )

    panel = open_alerts_panel(people.coordinator_x)
    assert [a.kind for a in panel.alerts] == ["phq9_item9", "incident", "heart_rate"]
    assert panel.count == 3


# --- Acknowledging -----------------------------------------------------------------------------


@pytest.mark.parametrize("persona", ["coordinator_x", "instructor_x"])
def test_the_coordinator_or_the_referrals_instructor_acknowledges_it(people, active, persona):
    alert = phq9_alert(people, active)
    by = getattr(people, persona)

    alert_acknowledge(alert=alert, by=by, action_taken="  Rang the patient; GP told.  ")

    alert.refresh_from_db()
    assert (alert.acknowledged_by, alert.action_taken) == (by, "Rang the patient; GP told.")
    assert alert.acknowledged_at is not None
    assert open_alerts_panel(people.coordinator_x).count == 0
    assert active.events.get(action="alert_acknowledged").actor == by


@pytest.mark.parametrize(
    "persona", ["referrer_a", "coordinator_y", "instructor_y", "commissioner", "admin_x"]
)
def test_nobody_else_may_acknowledge_it(people, active, persona):
    alert = phq9_alert(people, active)
    with pytest.raises(PermissionDenied):
        alert_acknowledge(alert=alert, by=getattr(people, persona), action_taken="Nothing.")
    alert.refresh_from_db()
    assert alert.is_open


def test_acknowledging_needs_the_action_taken(people, active):
    alert = phq9_alert(people, active)
    with pytest.raises(ValidationError) as raised:
        alert_acknowledge(alert=alert, by=people.coordinator_x, action_taken="   ")
    assert raised.value.message_dict == {"action_taken": ["Enter the action you took"]}
    alert.refresh_from_db()
    assert alert.is_open


def test_a_second_acknowledgement_changes_nothing(people, active, frozen_now):
    frozen_now(RAISED_AT)
    alert = phq9_alert(people, active)
    alert_acknowledge(alert=alert, by=people.instructor_x, action_taken="Spoke to her.")
    stale = Alert.objects.get(pk=alert.pk)
    stale.acknowledged_at = None  # a copy read before the first acknowledgement

    frozen_now(RAISED_AT + datetime.timedelta(minutes=5))
    with pytest.raises(AlertAlreadyAcknowledged, match="already acknowledged"):
        alert_acknowledge(alert=stale, by=people.coordinator_x, action_taken="Me too.")

    alert.refresh_from_db()
    assert (alert.acknowledged_by, alert.action_taken) == (people.instructor_x, "Spoke to her.")
    assert alert.acknowledged_at == RAISED_AT
    assert active.events.filter(action="alert_acknowledged").count() == 1


# --- Emailed at once, in the same transaction, without patient data ----------------------------


def test_the_alert_is_emailed_to_the_coordinators_and_the_safety_mailbox(
    people, active, safety_mailbox
):
    alert = phq9_alert(people, active)

    rows = Notification.objects.filter(event=alert.event, kind=N.Kind.SAFETY_ALERT)
    assert sorted(rows.values_list("recipient_address", "channel", "digest", "status")) == [
        ("coordinator.x@example.org", "email", False, "pending"),
        ("duty.manager@operator-x.example.org", "email", False, "pending"),
    ]
    assert {row.recipient_organisation for row in rows} == {people.operator_x}


def test_the_alert_and_its_emails_commit_or_roll_back_together(people, active, safety_mailbox):
    with pytest.raises(RuntimeError), transaction.atomic():
        phq9_alert(people, active)
        assert Notification.objects.filter(kind=N.Kind.SAFETY_ALERT).count() == 2
        raise RuntimeError("the recording failed after the alert was written")

    assert not Alert.objects.exists()
    assert not Notification.objects.filter(kind=N.Kind.SAFETY_ALERT).exists()


def test_the_alert_emails_are_queued_when_the_transaction_commits(
    people, active, django_capture_on_commit_callbacks, monkeypatch
):
    queued = []
    monkeypatch.setattr("delivery.tasks.notifications_enqueue", queued.extend)
    with django_capture_on_commit_callbacks(execute=True):
        alert = phq9_alert(people, active)

    row = Notification.objects.get(event=alert.event, kind=N.Kind.SAFETY_ALERT)
    assert str(row.public_id) in queued


def test_the_alert_email_names_no_patient_and_no_finding(people, active, safety_mailbox):
    record(people, active, "physical_measures", measures(200, 115))
    row = Notification.objects.get(
        kind=N.Kind.SAFETY_ALERT, recipient_address="coordinator.x@example.org"
    )

    assert notification_deliver(str(row.public_id)) == "sent"

    (message,) = mail.outbox
    patient = active.patient
    text = message.subject + message.body + message.alternatives[0][0]
    assert active.reference in message.subject
    assert "Blood pressure 180/100 mmHg or higher" in message.body
    assert f"/referrals/{active.reference}/" in message.body
    for secret in (patient.given_name, patient.family_name, patient.nhs_number, "200/115"):
        assert secret not in text


# --- Escalated once when nobody acknowledges it ------------------------------------------------


def escalations():
    return Notification.objects.filter(kind=N.Kind.SAFETY_ESCALATION)


def test_an_unacknowledged_alert_escalates_after_four_hours_exactly_once(
    people, active, safety_mailbox, frozen_now
):
    frozen_now(RAISED_AT)
    alert = phq9_alert(people, active)

    almost = RAISED_AT + datetime.timedelta(hours=3, minutes=59)
    assert reminders.safety_alerts_escalate(almost) == []
    assert not escalations().exists()

    written = reminders.safety_alerts_escalate(RAISED_AT + datetime.timedelta(hours=4))

    assert sorted(escalations().values_list("recipient_address", flat=True)) == [
        "admin.x@example.org",
        "duty.manager@operator-x.example.org",
    ]
    assert sorted(written) == sorted(str(row.public_id) for row in escalations())
    alert.refresh_from_db()
    assert alert.escalated_at == RAISED_AT + datetime.timedelta(hours=4)
    # Later runs leave it alone.
    assert reminders.safety_alerts_escalate(RAISED_AT + datetime.timedelta(hours=9)) == []
    assert escalations().count() == 2


def test_an_acknowledged_alert_never_escalates(people, active, frozen_now):
    frozen_now(RAISED_AT)
    alert = phq9_alert(people, active)
    alert_acknowledge(alert=alert, by=people.coordinator_x, action_taken="Called.")

    assert reminders.safety_alerts_escalate(RAISED_AT + datetime.timedelta(hours=5)) == []


def test_an_escalation_acknowledged_before_it_is_sent_is_withheld(people, active, frozen_now):
    frozen_now(RAISED_AT)
    alert = phq9_alert(people, active)
    (public_id,) = reminders.safety_alerts_escalate(RAISED_AT + datetime.timedelta(hours=4))
    frozen_now(RAISED_AT + datetime.timedelta(hours=4, minutes=1))
    alert_acknowledge(alert=alert, by=people.coordinator_x, action_taken="Called.")

    assert notification_deliver(public_id) == "withheld"
    assert mail.outbox == []


def test_the_escalation_task_queues_what_it_wrote(people, active, frozen_now, monkeypatch):
    from delivery import tasks

    frozen_now(RAISED_AT)
    phq9_alert(people, active)
    frozen_now(RAISED_AT + datetime.timedelta(hours=5))
    queued = []
    monkeypatch.setattr(tasks, "notifications_enqueue", queued.extend)

    assert tasks.safety_alerts_escalate() == 1
    assert queued == [str(escalations().get().public_id)]


# --- The referrer hears of it through the status-update loop -----------------------------------


def test_the_referrer_is_told_of_the_alert_without_clinical_detail(people, active):
    alert = phq9_alert(people, active)

    rows = Notification.objects.filter(event=alert.event, kind=N.Kind.UPDATE)
    assert sorted(rows.values_list("channel", "recipient_user")) == [
        ("email", people.referrer_a.pk),
        ("in_app", people.referrer_a.pk),
    ]
    email = rows.get(channel=N.Channel.EMAIL)
    assert email.payload["headline"] == "Safety alert raised by the leisure provider"
    assert "PHQ" not in str(email.payload) and "question 9" not in str(email.payload)


def test_without_consent_to_share_progress_the_referrer_is_not_told(people):
    active = referral_in_state(people, Status.ACTIVE, consent_share_outcomes=False)
    alert = phq9_alert(people, active)

    assert not Notification.objects.filter(event=alert.event, kind=N.Kind.UPDATE).exists()
    # The provider's staff are still emailed: the alert is theirs to act on.
    assert Notification.objects.filter(event=alert.event, kind=N.Kind.SAFETY_ALERT).exists()


def test_the_escalation_runs_on_the_beat_schedule():
    from django.conf import settings

    from delivery import tasks

    entry = settings.CELERY_BEAT_SCHEDULE["safety-alert-escalation"]
    assert (
        entry["task"]
        == tasks.safety_alerts_escalate.name
        == "delivery.tasks.safety_alerts_escalate"
    )
    assert entry["schedule"] == 300
