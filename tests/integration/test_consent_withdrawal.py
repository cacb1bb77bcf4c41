"""Withdrawing consent to share progress while updates wait (issue 9, "Done when"): a real Celery
worker with beat, a real Redis, the test database and a verifying HTTP receiver, as in
`test_status_updates.py`. The withdrawal is recorded the way the page records it, through
`consent_record_decision`, while the updates are still queued or being retried."""

import time

import pytest

from referrals.consent import consent_record_decision
from referrals.models import ConsentMethod, ConsentPurpose, Notification, Status
from tests.builders import referral_in_state

from .harness import wait_until
from .test_status_updates import email_text, patient, read_emails

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

N = Notification
PROGRESS = ("book", "start", "complete")


def withdraw_share_progress(people, referral) -> None:
    referral.refresh_from_db()
    consent_record_decision(
        referral=referral,
        by=people.coordinator_x,
        purpose=ConsentPurpose.SHARE_PROGRESS,
        method=ConsentMethod.TELEPHONE,
    )


def ids(referrals, actions, channel=N.Channel.WEBHOOK) -> set[str]:
    rows = N.objects.filter(referral__in=referrals, event__action__in=actions, channel=channel)
    return {str(public_id) for public_id in rows.values_list("public_id", flat=True)}


@pytest.mark.timeout(150)
def test_updates_queued_when_consent_is_withdrawn_are_never_delivered(
    people, broker, receiver, make_worker, tmp_path
):
    worker = make_worker()
    # Redis is down while the changes happen, so every email and webhook row is still pending.
    broker.stop()
    withdrawn = [
        referral_in_state(people, Status.COMPLETED, patient=patient(n, people.practice_a))
        for n in range(4)
    ]
    kept = [
        referral_in_state(people, Status.COMPLETED, patient=patient(n, people.practice_a))
        for n in range(4, 6)
    ]
    assert N.objects.exclude(channel=N.Channel.IN_APP).exclude(status="pending").count() == 0
    for referral in withdrawn:
        withdraw_share_progress(people, referral)
    broker.start()

    expected = ids(withdrawn, ["submit", "accept"]) | ids(kept, ["submit", "accept", *PROGRESS])

    def delivered() -> bool:
        worker.restart_if_exited()
        return set(receiver.accepted_ids()) >= expected

    assert wait_until(delivered, 90, 0.5), worker.log()[-5000:]
    time.sleep(4)  # sweeps keep running: nothing more may arrive

    assert {d.webhook_id for d in receiver.snapshot()} == expected
    stopped = N.objects.filter(referral__in=withdrawn, event__action__in=PROGRESS)
    assert set(stopped.values_list("status", flat=True)) == {"withheld"}
    assert stopped.filter(channel=N.Channel.EMAIL).count() == 3 * len(withdrawn)
    emails = "\n".join(email_text(m) for m in read_emails(tmp_path / "emails"))
    for referral in withdrawn:
        assert f"Referral {referral.reference}: Referral accepted" in emails
        assert f"Referral {referral.reference}: First session booked" not in emails
        assert f"Referral {referral.reference}: Programme completed" not in emails
    for referral in kept:
        assert f"Referral {referral.reference}: Programme completed" in emails


@pytest.mark.timeout(120)
def test_updates_being_retried_when_consent_is_withdrawn_are_never_delivered(
    people, broker, receiver, make_worker
):
    make_worker()
    receiver.fail_until = time.monotonic() + 3600  # the referrer's system is down
    referral = referral_in_state(people, Status.ACTIVE, patient=patient(0, people.practice_a))
    progress = ids([referral], ["book", "start"])
    assert wait_until(
        lambda: N.objects.filter(public_id__in=progress, status="retrying").count() == 2, 30
    )

    withdraw_share_progress(people, referral)
    receiver.fail_until = 0.0  # back up
    referral_events = ids([referral], ["submit", "accept"])

    assert wait_until(lambda: set(receiver.accepted_ids()) >= referral_events, 60)
    time.sleep(6)  # longer than the capped retry delay: a retry would have come by now

    assert set(receiver.accepted_ids()) == referral_events
    rows = N.objects.filter(public_id__in=progress)
    assert set(rows.values_list("status", flat=True)) == {"withheld"}
    assert all("consent" in row.last_error for row in rows)
