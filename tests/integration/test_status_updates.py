"""The status-update loop end to end (issue 5, "Done when"): a real Celery worker with beat, a real
Redis, the test database, and an HTTP receiver that verifies every signature with the Standard
Webhooks library. No eager mode, no mocked broker.

Timings are shortened through the same settings production reads (tests/integration/conftest.py:
sweep every second, retries from 1 s doubling to 4 s, a 7 s lease), not by replacing any part.
"""

import datetime
import email
import itertools
import logging
import time
from collections import Counter, defaultdict
from pathlib import Path

import pytest
from django.urls import reverse
from fhir.resources.R4B.bundle import Bundle

from delivery.selectors import delivery_log_for
from referrals.models import Notification, Status
from tests.builders import new_draft, referral_in_state, run_action
from tests.factories import PatientFactory

from .harness import wait_until

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

WEBHOOK = Notification.Channel.WEBHOOK
DATE_OF_BIRTH = datetime.date(1951, 7, 23)


def patient(number: int, organisation):
    """Practice A's record: names and a birth date no email, log or message may ever contain."""
    return PatientFactory(
        organisation=organisation,
        given_name=f"Ottoline{number}",
        family_name=f"Quarrendon{number}",
        date_of_birth=DATE_OF_BIRTH,
    )


def patient_data_in(text: str, patients) -> list[str]:
    found = []
    for person in patients:
        formatted = f"{person.nhs_number[:3]} {person.nhs_number[3:6]} {person.nhs_number[6:]}"
        for value in (person.given_name, person.family_name, person.nhs_number, formatted):
            if value in text:
                found.append(value)
    for value in ("1951-07-23", "23/07/1951", "23 July 1951", "23 Jul 1951", "19510723"):
        if value in text:
            found.append(value)
    return found


def webhook_ids() -> set[str]:
    return {
        str(i)
        for i in Notification.objects.filter(channel=WEBHOOK).values_list("public_id", flat=True)
    }


def read_emails(directory: Path) -> list[email.message.Message]:
    messages = []
    for path in sorted(directory.glob("*.log")) if directory.exists() else []:
        # The file backend separates messages with a line of 79 dashes.
        for chunk in path.read_text().split("-" * 79):
            if chunk.strip():
                messages.append(email.message_from_string(chunk.strip()))
    return messages


def email_text(message) -> str:
    parts = message.walk() if message.is_multipart() else [message]
    return "\n".join(
        part.get_payload(decode=True).decode()
        for part in parts
        if part.get_content_maintype() == "text"
    ) + str(message["Subject"])


@pytest.mark.timeout(150)
def test_200_state_changes_reach_the_receiver_once_each_signed(
    people, broker, receiver, make_worker, tmp_path
):
    make_worker()
    started = time.monotonic()
    patients = [patient(i, people.practice_a) for i in range(40)]
    # 40 referrals through submit, accept, book, first attendance and completion: 200 changes.
    for person in patients:
        referral_in_state(people, Status.COMPLETED, patient=person)
    changed = time.monotonic()
    expected = webhook_ids()
    assert len(expected) == 200

    assert wait_until(lambda: set(receiver.accepted_ids()) >= expected, 60), (
        f"{len(set(receiver.accepted_ids()))} of 200 delivered"
    )
    delivered = time.monotonic()
    # Give a stray second send (a sweep racing the after-commit task) time to show up.
    time.sleep(4)

    deliveries = receiver.snapshot()
    assert all(d.verified for d in deliveries)
    assert len(deliveries) == 200
    assert Counter(d.webhook_id for d in deliveries) == Counter(dict.fromkeys(expected, 1))
    rows = Notification.objects.filter(channel=WEBHOOK)
    assert set(rows.values_list("status", "attempts")) == {("sent", 1)}

    bundles = [Bundle.model_validate_json(d.body) for d in deliveries]
    assert {b.entry[0].resource.eventCoding.code for b in bundles} == {"servicerequest-response"}
    assert Counter(b.entry[1].resource.status for b in bundles) == {
        "requested": 40,
        "accepted": 80,
        "in-progress": 40,
        "completed": 40,
    }
    completed = [b for b in bundles if b.entry[1].resource.status == "completed"]
    assert all(b.entry[2].resource.get_resource_type() == "Composition" for b in completed)
    assert not patient_data_in("".join(d.body.decode() for d in deliveries), patients)

    # Email went the same way (clinician's address, one per update), and carries no patient data.
    assert wait_until(
        lambda: not Notification.objects.filter(channel="email").exclude(status="sent").exists(),
        30,
    )
    emails = read_emails(tmp_path / "emails")
    assert len(emails) == 200
    assert len({m["Message-ID"] for m in emails}) == 200
    assert not patient_data_in("\n".join(email_text(m) for m in emails), patients)
    print(
        f"\n200 changes in {changed - started:.1f}s; all delivered "
        f"{delivered - changed:.1f}s after the last change"
    )


@pytest.mark.timeout(150)
def test_changes_made_while_redis_is_down_are_quick_and_delivered_after(
    people, broker, receiver, make_worker, caplog
):
    worker = make_worker()
    patients = [patient(i, people.practice_a) for i in range(50)]
    drafts = [new_draft(people, patient=person) for person in patients]
    broker.stop()
    caplog.set_level(logging.WARNING, logger="delivery.tasks")

    durations = []
    for draft in drafts:
        begun = time.monotonic()
        run_action(people, draft, "submit")  # the whole request's work, after-commit hook included
        durations.append(time.monotonic() - begun)

    assert max(durations) < 2, f"slowest change took {max(durations):.2f}s"
    assert Notification.objects.filter(channel=WEBHOOK, status="pending").count() == 50
    assert "left for the sweep" in caplog.text
    assert not patient_data_in(caplog.text, patients)
    time.sleep(2)
    assert receiver.accepted_ids() == []

    broker.start()
    expected = webhook_ids()

    def all_delivered() -> bool:
        worker.restart_if_exited()  # the supervisor's job; see Worker.restart_if_exited
        return set(receiver.accepted_ids()) >= expected

    assert wait_until(all_delivered, 90, 0.5), (
        f"{len(set(receiver.accepted_ids()))} of 50 delivered after Redis came back\n"
        + worker.log()[-5000:]
    )
    time.sleep(3)
    assert Counter(receiver.accepted_ids()) == Counter(dict.fromkeys(expected, 1))
    print(f"\nslowest change with Redis down: {max(durations) * 1000:.0f} ms")


@pytest.mark.timeout(150)
def test_a_worker_killed_mid_delivery_loses_nothing_and_never_mixes_up_ids(
    people, broker, receiver, make_worker
):
    receiver.delay = 0.3  # sends are in flight when the worker dies
    worker = make_worker()
    patients = [patient(i, people.practice_a) for i in range(12)]
    for person in patients:
        referral_in_state(people, Status.COMPLETED, patient=person)
    expected = webhook_ids()
    assert len(expected) == 60

    assert wait_until(lambda: len(receiver.snapshot()) >= 15, 30)
    worker.kill()
    received_before_kill = len({d.webhook_id for d in receiver.snapshot()})
    assert received_before_kill < 60, "the kill came too late to interrupt anything"

    make_worker()
    # Done means the portal knows it too: a send the kill interrupted after the receiver had it is
    # only recorded once the lease runs out and the sweep sends it again.
    assert wait_until(
        lambda: (
            set(receiver.accepted_ids()) >= expected
            and not Notification.objects.filter(channel=WEBHOOK).exclude(status="sent").exists()
        ),
        90,
    ), f"{len(set(receiver.accepted_ids()))} of 60 delivered after the restart"
    time.sleep(3)

    deliveries = receiver.snapshot()
    assert all(d.verified for d in deliveries)
    assert {d.webhook_id for d in deliveries} == expected  # nothing lost, nothing unexpected
    bodies = defaultdict(set)
    for delivery in deliveries:
        bodies[delivery.webhook_id].add(delivery.body)
    # An id is only ever the one message: a resend repeats it byte for byte, so a receiver that
    # drops ids it has seen processes each update exactly once.
    assert all(len(versions) == 1 for versions in bodies.values())
    repeated = [i for i, n in Counter(d.webhook_id for d in deliveries).items() if n > 1]
    # Only a send the kill interrupted can repeat: at most one per pool process.
    assert len(repeated) <= 4
    assert not Notification.objects.filter(channel=WEBHOOK).exclude(status="sent").exists()
    print(
        f"\n{received_before_kill} received before SIGKILL; {len(repeated)} resent under their id"
    )


@pytest.mark.timeout(150)
def test_a_failing_receiver_gets_retries_on_the_backoff_schedule_then_everything(
    people, broker, receiver, make_worker
):
    make_worker()
    receiver.fail_until = time.monotonic() + 5
    for number in range(2):
        referral_in_state(people, Status.COMPLETED, patient=patient(number, people.practice_a))
    expected = webhook_ids()
    assert len(expected) == 10

    assert wait_until(lambda: set(receiver.accepted_ids()) >= expected, 60)
    time.sleep(2)

    attempts = defaultdict(list)
    for delivery in receiver.snapshot():
        attempts[delivery.webhook_id].append(delivery)
    for webhook_id, tries in attempts.items():
        assert [t.answered for t in tries][-1] == 200 and [t.answered for t in tries].count(
            200
        ) == 1
        assert len(tries) >= 2, "every update was first refused"
        for number, (before, after) in enumerate(itertools.pairwise(tries), start=1):
            scheduled = min(4.0, 1.0 * 2 ** (number - 1))
            gap = after.at - before.at
            # Jitter is ±20%; the sweep runs every second and adds its own delay.
            assert 0.8 * scheduled - 0.1 <= gap <= 1.2 * scheduled + 2.5, (number, gap)
        row = Notification.objects.get(public_id=webhook_id)
        assert row.status == "sent" and row.attempts == len(tries)


@pytest.mark.timeout(120)
def test_a_receiver_that_never_recovers_leaves_the_update_dead_and_visible(
    people, broker, receiver, make_worker, admin_client
):
    receiver.always_fail_paths.add("/broken")
    people.practice_a.webhook_url = receiver.url("/broken")
    people.practice_a.save()
    make_worker(PORTAL_DELIVERY_MAX_ATTEMPTS="3")
    referral = referral_in_state(people, Status.SUBMITTED)
    row = Notification.objects.get(referral=referral, channel=WEBHOOK)

    assert wait_until(lambda: Notification.objects.get(pk=row.pk).status == "dead", 45)
    row.refresh_from_db()
    assert row.attempts == 3
    assert row.last_error.startswith("HTTP 500")
    assert [d.answered for d in receiver.snapshot()] == [500, 500, 500]

    changelist = admin_client.get(
        reverse("admin:referrals_notification_changelist") + "?attention=dead"
    )
    assert str(row.public_id) in changelist.content.decode()
    (entry,) = [e for e in delivery_log_for(referral) if e.channel == "Webhook"]
    assert entry.status == "dead" and "HTTP 500" in entry.last_error

    # Someone fixes the receiving system and presses "retry now".
    receiver.always_fail_paths.clear()
    response = admin_client.post(
        reverse("admin:referrals_notification_changelist"),
        {"action": "retry_now", "_selected_action": [row.pk]},
    )
    assert response.status_code == 302
    assert wait_until(lambda: Notification.objects.get(pk=row.pk).status == "sent", 30)
    assert receiver.accepted_ids() == [str(row.public_id)]
