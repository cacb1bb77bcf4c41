"""Which outbox rows each event writes, what they say, and when their delivery is queued."""

import datetime
import json
import logging
import time

import pytest
from django.utils import timezone
from fhir.resources.R4B.bundle import Bundle
from kombu.exceptions import OperationalError

from accounts.models import EmailUpdates, Membership, Organisation
from delivery import tasks
from delivery.notifications import next_digest_at
from delivery.tasks import deliver_notification
from referrals import services
from referrals.models import Notification, Referral, Session, Status
from referrals.services import notifications_mark_read
from tests.builders import new_draft, referral_in_state, run_action, session_due_now
from tests.factories import PatientFactory

N = Notification


@pytest.fixture
def webhook_practice(people):
    Organisation.objects.filter(pk=people.practice_a.pk).update(
        webhook_enabled=True, webhook_url="https://gp-system.example.nhs.uk/hooks?token=abc"
    )
    people.practice_a.refresh_from_db()
    return people.practice_a


def rows_for(referral, action):
    return Notification.objects.filter(referral=referral, event__action=action)


def test_each_update_writes_in_app_email_and_webhook_rows(people, webhook_practice):
    referral = referral_in_state(people, Status.SUBMITTED)

    rows = rows_for(referral, "submit")

    assert sorted(rows.values_list("channel", "status", "digest")) == [
        ("email", "pending", False),
        ("in_app", "sent", False),
        ("webhook", "pending", False),
    ]
    webhook = rows.get(channel=N.Channel.WEBHOOK)
    assert webhook.recipient_address == webhook_practice.webhook_url
    assert webhook.recipient_organisation == webhook_practice


def test_no_webhook_row_while_the_webhook_is_off(people):
    referral = referral_in_state(people, Status.SUBMITTED)

    assert not referral.notifications.filter(channel=N.Channel.WEBHOOK).exists()


def test_progress_needs_consent_for_the_webhook_too(people, webhook_practice):
    referral = referral_in_state(people, Status.ACTIVE, consent_share_outcomes=False)

    actions = set(
        referral.notifications.filter(channel=N.Channel.WEBHOOK).values_list(
            "event__action", flat=True
        )
    )
    assert actions == {"submit", "accept"}


def bundle_of(referral, action) -> dict:
    return rows_for(referral, action).get(channel=N.Channel.WEBHOOK).payload


def resources(bundle: dict, kind: str) -> list[dict]:
    return [e["resource"] for e in bundle["entry"] if e["resource"]["resourceType"] == kind]


@pytest.mark.parametrize(
    ("status", "action", "task_status"),
    [
        (Status.SUBMITTED, "submit", "requested"),
        (Status.INFO_REQUESTED, "request_info", "on-hold"),
        (Status.ACCEPTED, "accept", "accepted"),
        (Status.WAITLISTED, "waitlist", "accepted"),
        (Status.BOOKED, "book", "accepted"),
        (Status.ACTIVE, "start", "in-progress"),
        (Status.COMPLETED, "complete", "completed"),
        (Status.DECLINED, "decline", "rejected"),
        (Status.DISCHARGED, "discharge", "failed"),
        (Status.CANCELLED, "cancel", "cancelled"),
    ],
)
def test_the_webhook_is_a_valid_bars_message_with_the_mapped_task_status(
    people, webhook_practice, status, action, task_status
):
    referral = referral_in_state(people, status)

    bundle = bundle_of(referral, action)

    Bundle.model_validate(bundle)
    assert bundle["type"] == "message"
    assert bundle["id"] == str(rows_for(referral, action).get(channel="webhook").public_id)
    header = bundle["entry"][0]["resource"]
    assert header["resourceType"] == "MessageHeader"
    assert header["eventCoding"]["code"] == "servicerequest-response"
    # The query string (which may hold a token) is not repeated inside the message.
    assert header["destination"][0]["endpoint"] == "https://gp-system.example.nhs.uk/hooks"
    (task,) = resources(bundle, "Task")
    assert header["focus"][0]["reference"] == bundle["entry"][1]["fullUrl"]
    assert task["status"] == task_status
    assert task["businessStatus"]["coding"][0]["code"] == status
    assert task["focus"]["identifier"]["value"] == referral.reference
    assert task["basedOn"][0]["type"] == "ServiceRequest"
    assert task["requester"]["identifier"] == {
        "system": "https://fhir.nhs.uk/Id/ods-organization-code",
        "value": "A81001",
    }


def test_a_coded_reason_travels_in_the_task(people, webhook_practice):
    referral = referral_in_state(people, Status.DECLINED)

    (task,) = resources(bundle_of(referral, "decline"), "Task")

    assert task["statusReason"]["coding"][0]["code"] == "outside_area"
    assert task["statusReason"]["text"] == "Outside the area we serve"


def test_completion_carries_the_discharge_summary(people, webhook_practice):
    referral = referral_in_state(people, Status.ACTIVE)
    session = Session.objects.create(
        referral=referral, scheduled_at=timezone.now() - datetime.timedelta(days=1, hours=1)
    )
    services.session_record_attendance(session=session, status="dna", by=people.instructor_x)
    run_action(people, referral, "complete")

    bundle = bundle_of(referral, "complete")

    (task,) = resources(bundle, "Task")
    (summary,) = resources(bundle, "Composition")
    outputs = {o["type"]["coding"][0]["code"]: o for o in task["output"]}
    count = {code: output.get("valueInteger") for code, output in outputs.items()}
    assert count["sessions-attended"] == 1
    assert count["sessions-missed"] == 1
    # Planned is every session booked for the patient, and its parts add up to it.
    assert count["sessions-planned"] == (
        count["sessions-attended"]
        + count["sessions-missed"]
        + count["sessions-cancelled"]
        + count["sessions-not-yet-due"]
    )
    composition_url = next(e["fullUrl"] for e in bundle["entry"] if e["resource"] is summary)
    assert outputs["discharge-summary"]["valueReference"]["reference"] == composition_url
    assert summary["type"]["coding"][0]["code"] == "373942005"
    text = json.dumps(summary)
    assert "1 attended, 1 not attended" in text
    assert "No outcome measures were recorded during the programme" in text


def test_a_missed_session_is_sent_with_the_current_status(people, webhook_practice):
    referral = referral_in_state(people, Status.BOOKED)
    session = session_due_now(referral.sessions.earliest("scheduled_at"))
    services.session_record_attendance(session=session, status="dna", by=people.instructor_x)

    (task,) = resources(bundle_of(referral, "dna"), "Task")

    assert task["status"] == "accepted"
    assert task["businessStatus"]["coding"][0]["code"] == "booked"


def test_no_patient_identity_or_free_text_in_any_payload(people, webhook_practice):
    patient = PatientFactory(
        organisation=people.practice_a,
        given_name="Philomena",
        family_name="Oyelaran-Brough",
        date_of_birth=datetime.date(1948, 2, 29),
    )
    referral = referral_in_state(people, Status.INFO_REQUESTED, patient=patient)

    text = json.dumps(list(referral.notifications.values_list("payload", flat=True)))

    for secret in ("Philomena", "Oyelaran", patient.nhs_number, "1948-02-29", "knee pain"):
        assert secret not in text


def test_organisation_daily_digest_holds_email_until_the_digest_hour(people, settings):
    settings.PORTAL_EMAIL_DIGEST_HOUR = 7
    Organisation.objects.filter(pk=people.practice_a.pk).update(
        email_updates=EmailUpdates.DAILY_DIGEST
    )

    referral = referral_in_state(people, Status.SUBMITTED)

    email = rows_for(referral, "submit").get(channel=N.Channel.EMAIL)
    assert email.digest is True
    due = timezone.localtime(email.next_attempt_at)
    assert (due.hour, due.minute) == (7, 0)
    assert timezone.now() < email.next_attempt_at <= timezone.now() + datetime.timedelta(days=1)


def test_a_clinician_may_choose_otherwise_than_their_organisation(people):
    Organisation.objects.filter(pk=people.practice_a.pk).update(
        email_updates=EmailUpdates.DAILY_DIGEST
    )
    Membership.objects.filter(user=people.referrer_a, organisation=people.practice_a).update(
        email_updates=EmailUpdates.NONE
    )

    referral = referral_in_state(people, Status.SUBMITTED)

    assert list(rows_for(referral, "submit").values_list("channel", flat=True)) == ["in_app"]


def test_a_clinician_choice_of_each_overrides_an_organisation_digest(people):
    Organisation.objects.filter(pk=people.practice_a.pk).update(
        email_updates=EmailUpdates.DAILY_DIGEST
    )
    Membership.objects.filter(user=people.referrer_a, organisation=people.practice_a).update(
        email_updates=EmailUpdates.EACH
    )

    referral = referral_in_state(people, Status.SUBMITTED)

    assert rows_for(referral, "submit").get(channel=N.Channel.EMAIL).digest is False


@pytest.mark.parametrize(
    ("now", "expected"),
    [
        ("2026-11-25T06:59:00+00:00", "2026-11-25T07:00:00+00:00"),
        ("2026-11-25T07:00:00+00:00", "2026-11-26T07:00:00+00:00"),
        # Summer time: 07:00 in London is 06:00 UTC.
        ("2026-06-10T12:00:00+00:00", "2026-06-11T06:00:00+00:00"),
    ],
)
def test_next_digest_is_the_next_digest_hour_in_local_time(settings, now, expected):
    settings.PORTAL_EMAIL_DIGEST_HOUR = 7

    assert next_digest_at(datetime.datetime.fromisoformat(now)) == datetime.datetime.fromisoformat(
        expected
    )


def test_delivery_is_queued_only_after_commit(
    people, webhook_practice, django_capture_on_commit_callbacks, monkeypatch
):
    queued = []
    monkeypatch.setattr(tasks, "notifications_enqueue", lambda ids: queued.extend(ids))
    referral = new_draft(people)

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        services.referral_submit(referral=referral, by=people.referrer_a)
        assert queued == []

    for callback in callbacks:
        callback()
    expected = rows_for(referral, "submit").exclude(channel=N.Channel.IN_APP)
    assert sorted(queued) == sorted(str(i) for i in expected.values_list("public_id", flat=True))


def test_digest_rows_are_not_queued_after_commit(
    people, django_capture_on_commit_callbacks, monkeypatch
):
    Organisation.objects.filter(pk=people.practice_a.pk).update(
        email_updates=EmailUpdates.DAILY_DIGEST
    )
    queued = []
    monkeypatch.setattr(tasks, "notifications_enqueue", lambda ids: queued.extend(ids))

    with django_capture_on_commit_callbacks(execute=True):
        referral_in_state(people, Status.SUBMITTED)

    assert queued == []


def test_a_broker_error_while_queuing_is_logged_and_swallowed(people, monkeypatch, caplog):
    calls = []

    def refuse(*args, **kwargs):
        calls.append(args)
        raise OperationalError("Error 111 connecting to 127.0.0.1:6379. Connection refused.")

    monkeypatch.setattr(deliver_notification, "apply_async", refuse)

    with caplog.at_level(logging.WARNING, logger="delivery.tasks"):
        queued = tasks.notifications_enqueue(["a", "b", "c"])

    assert queued == 0
    assert len(calls) == 1, "one failure is enough to leave the rest to the sweep"
    assert "3 left for the sweep" in caplog.text


def test_queuing_against_a_dead_broker_returns_within_a_second(settings):
    """The real client against a closed port, with the portal's broker settings."""
    from config.celery import app

    previous = app.conf.broker_url
    app.conf.broker_url = "redis://127.0.0.1:9/0"
    app._pool = None
    app.amqp._producer_pool = None
    try:
        started = time.monotonic()
        queued = tasks.notifications_enqueue(["00000000-0000-0000-0000-000000000000"])
        elapsed = time.monotonic() - started
    finally:
        app.pool.force_close_all()
        app._pool = None
        app.amqp._producer_pool = None
        app.conf.broker_url = previous
    assert queued == 0
    assert elapsed < 1


def test_opening_a_referral_marks_its_in_app_updates_read(people):
    referral = referral_in_state(people, Status.ACCEPTED)
    other = referral_in_state(people, Status.SUBMITTED)

    marked = notifications_mark_read(user=people.referrer_a, referral=referral)

    assert marked == 2
    unread = Notification.objects.filter(channel=N.Channel.IN_APP, read_at__isnull=True)
    assert set(unread.values_list("referral", flat=True)) == {other.pk}
    assert notifications_mark_read(user=people.referrer_b, referral=other) == 0


def test_events_the_referrer_does_not_need_write_no_rows(people):
    referral = referral_in_state(people, Status.INFO_REQUESTED)
    run_action(people, referral, "answer_info")

    assert not rows_for(referral, "answer_info").exists()
    assert Referral.objects.get(pk=referral.pk).status == Status.SUBMITTED
