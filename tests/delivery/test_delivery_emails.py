"""What the emails say (the reference, the status, a sign-in link) and never say (who the
patient is); daily digests; overdue-triage reminders and escalations."""

import datetime

import pytest
from django.core import mail
from django.utils import timezone

from accounts.models import Organisation, Role
from delivery.outbox import notifications_deliver_digest
from delivery.reminders import triage_reminders_queue
from delivery.tasks import deliver_notification
from delivery.tasks import triage_reminders_queue as reminders_task
from facilities.models import Programme
from referrals.models import Notification, Referral, ReferralEvent, Status
from tests.builders import referral_in_state, run_action
from tests.factories import PatientFactory, member

N = Notification
DATE_OF_BIRTH = datetime.date(1949, 12, 31)


@pytest.fixture
def patient(people):
    return PatientFactory(
        organisation=people.practice_a,
        given_name="Araminta",
        family_name="Featherstonehaugh",
        date_of_birth=DATE_OF_BIRTH,
    )


def forbidden(patient) -> list[str]:
    nhs = patient.nhs_number
    return [
        patient.given_name,
        patient.family_name,
        nhs,
        f"{nhs[:3]} {nhs[3:6]} {nhs[6:]}",
        "1949-12-31",
        "31/12/1949",
        "31 December 1949",
        "31 Dec 1949",
        "Hypertension",
        "142/88",  # the referral's blood pressure
    ]


def full_text(message) -> str:
    html = "".join(content for content, _ in message.alternatives)
    return "\n".join([message.subject, message.body, html])


def assert_no_patient_data(message, patient):
    text = full_text(message)
    leaked = [value for value in forbidden(patient) if value in text]
    assert not leaked, f"email contains {leaked}"


def deliver_all_emails():
    pending = N.objects.filter(channel=N.Channel.EMAIL, digest=False, status="pending")
    for row in pending.order_by("created_at", "id"):
        deliver_notification.run(str(row.public_id))


@pytest.mark.parametrize(
    "status",
    [
        Status.SUBMITTED,
        Status.INFO_REQUESTED,
        Status.ACCEPTED,
        Status.WAITLISTED,
        Status.BOOKED,
        Status.ACTIVE,
        Status.COMPLETED,
        Status.DECLINED,
        Status.DISCHARGED,
        Status.CANCELLED,
    ],
)
def test_update_emails_carry_the_reference_status_and_link_and_no_patient_data(
    people, patient, status
):
    referral = referral_in_state(people, status, patient=patient)

    deliver_all_emails()

    assert mail.outbox
    for message in mail.outbox:
        assert_no_patient_data(message, patient)
        assert referral.reference in message.subject
        assert f"http://127.0.0.1:8000/referrals/{referral.reference}/" in message.body
        assert len(message.alternatives) == 1
        assert message.alternatives[0][1] == "text/html"
    last = mail.outbox[-1]
    assert f"Status: {Status(status).label}" in last.body


# Until the lead's URLconf includes referrals.urls_discharge, borrow one that does.
def test_the_ending_email_links_to_the_discharge_summary(people, patient):
    referral = referral_in_state(people, Status.DISCHARGED, patient=patient)

    deliver_all_emails()

    last = mail.outbox[-1]
    assert "Discharged from the programme" in last.subject
    assert f"/referrals/{referral.reference}/discharge-summary/" in last.body


def test_a_daily_digest_sends_one_email_for_the_days_updates(people, patient):
    Organisation.objects.filter(pk=people.practice_a.pk).update(email_updates="daily_digest")
    first = referral_in_state(people, Status.ACCEPTED, patient=patient)
    second = referral_in_state(people, Status.DECLINED)
    rows = N.objects.filter(digest=True)
    rows.update(next_attempt_at=timezone.now())

    assert (
        notifications_deliver_digest([str(i) for i in rows.values_list("public_id", flat=True)])
        == "sent"
    )

    (message,) = mail.outbox
    assert message.subject == "Referral Portal: 4 referral updates"
    assert first.reference in message.body and second.reference in message.body
    assert "Referral declined" in message.body
    assert_no_patient_data(message, patient)
    assert set(rows.values_list("status", flat=True)) == {"sent"}
    assert notifications_deliver_digest([str(rows.first().public_id)]) == "skipped"
    assert len(mail.outbox) == 1


def test_a_digest_skips_rows_not_yet_due(people):
    Organisation.objects.filter(pk=people.practice_a.pk).update(email_updates="daily_digest")
    referral_in_state(people, Status.SUBMITTED)
    row = N.objects.get(digest=True)

    assert notifications_deliver_digest([str(row.public_id)]) == "skipped"
    assert mail.outbox == []


# --- Overdue-triage reminders ------------------------------------------------------------------


# A Wednesday. With the default five working days, a referral submitted before Wednesday 18
# November is overdue on this day, and one submitted before Wednesday 11 November is overdue by
# twice the SLA (referrals.selectors.referrals_overdue_for_triage).
TODAY = datetime.date(2026, 11, 25)
OVERDUE = "2026-11-16"
TWICE_OVERDUE = "2026-11-09"
NOT_YET_OVERDUE = "2026-11-20"


def submitted_on(people, day: str, **fields) -> Referral:
    referral = referral_in_state(people, Status.SUBMITTED, **fields)
    when = timezone.make_aware(datetime.datetime.fromisoformat(f"{day}T10:00"))
    Referral.objects.filter(pk=referral.pk).update(submitted_at=when)
    return referral


def test_overdue_referrals_remind_each_coordinator_once_a_day(people, patient):
    second_coordinator = member(people.operator_x, Role.COORDINATOR, email="c2.x@example.org")
    overdue = submitted_on(people, OVERDUE, patient=patient)
    submitted_on(people, NOT_YET_OVERDUE)

    written = triage_reminders_queue(today=TODAY)
    again = triage_reminders_queue(today=TODAY)

    assert (written, again) == (2, 0)
    rows = N.objects.filter(kind=N.Kind.TRIAGE_REMINDER)
    assert set(rows.values_list("recipient_address", flat=True)) == {
        people.coordinator_x.email,
        second_coordinator.email,
    }
    assert set(rows.values_list("referral", flat=True)) == {overdue.pk}
    assert all(row.digest and row.dedup_key == "2026-11-25" for row in rows)
    assert rows.first().event == ReferralEvent.objects.get(referral=overdue, action="submit")
    assert triage_reminders_queue(today=TODAY + datetime.timedelta(days=1)) == 2


def test_the_reminder_email_lists_references_only(people, patient):
    first = submitted_on(people, OVERDUE, patient=patient)
    second = submitted_on(people, OVERDUE)
    triage_reminders_queue(today=TODAY)
    rows = N.objects.filter(recipient_address=people.coordinator_x.email)

    notifications_deliver_digest([str(i) for i in rows.values_list("public_id", flat=True)])

    (message,) = mail.outbox
    assert message.to == [people.coordinator_x.email]
    assert message.subject == "Reminder: 2 referrals overdue for triage"
    assert first.reference in message.body and second.reference in message.body
    assert "submitted 16 November 2026" in message.body
    assert_no_patient_data(message, patient)


def test_twice_the_sla_escalates_to_the_operators_admins(people, patient):
    very_overdue = submitted_on(people, TWICE_OVERDUE, patient=patient)
    submitted_on(people, OVERDUE)

    triage_reminders_queue(today=TODAY)

    escalations = N.objects.filter(kind=N.Kind.TRIAGE_ESCALATION)
    assert list(escalations.values_list("recipient_address", "referral")) == [
        (people.admin_x.email, very_overdue.pk)
    ]
    assert N.objects.filter(kind=N.Kind.TRIAGE_REMINDER).count() == 2
    notifications_deliver_digest([str(escalations.get().public_id)])
    (message,) = mail.outbox
    assert message.subject.startswith("Escalation: 1 referral overdue")
    assert_no_patient_data(message, patient)


def test_a_programme_sla_of_its_own_is_respected(people):
    Programme.objects.filter(pk=people.programme_x.pk).update(triage_sla_days=10)
    submitted_on(people, OVERDUE)

    assert triage_reminders_queue(today=TODAY) == 0


def test_a_reminder_for_a_referral_triaged_since_is_withheld(people):
    referral = submitted_on(people, OVERDUE)
    triage_reminders_queue(today=TODAY)
    referral.refresh_from_db()

    run_action(people, referral, "accept")
    row = N.objects.get(kind=N.Kind.TRIAGE_REMINDER)

    assert notifications_deliver_digest([str(row.public_id)]) == "withheld"
    row.refresh_from_db()
    assert row.status == "withheld"
    assert mail.outbox == []


def test_the_beat_task_writes_todays_reminders_and_escalations(people):
    referral = referral_in_state(people, Status.SUBMITTED)
    Referral.objects.filter(pk=referral.pk).update(
        submitted_at=timezone.now() - datetime.timedelta(days=30)
    )

    assert reminders_task.run() == 2
    assert set(
        N.objects.filter(dedup_key=timezone.localdate().isoformat()).values_list("kind", flat=True)
    ) == {
        N.Kind.TRIAGE_REMINDER,
        N.Kind.TRIAGE_ESCALATION,
    }
