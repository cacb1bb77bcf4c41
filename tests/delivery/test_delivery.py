"""Delivering outbox rows, called directly (the integration tests run the same code in a worker):
claiming, signing, retrying with backoff, dead rows, withheld rows, the sweep and "retry now"."""

import datetime
import threading
from types import SimpleNamespace

import pytest
from django.core import mail
from django.db import connection
from django.utils import timezone
from standardwebhooks import Webhook

from accounts.models import Organisation
from delivery import outbox, tasks
from delivery.outbox import notification_deliver, notifications_claim, retry_delay
from delivery.tasks import (
    deliver_digest,
    deliver_notification,
    notification_retry_now,
    notifications_sweep,
)
from delivery.webhook import DeliveryFailed, check_webhook_url, signed_headers
from referrals.models import Notification, Referral, Status
from tests.builders import referral_in_state
from tests.integration.harness import Receiver

N = Notification


@pytest.fixture
def receiver(people, settings):
    settings.PORTAL_WEBHOOK_ALLOW_HTTP = True
    settings.PORTAL_WEBHOOK_ALLOW_PRIVATE = True
    receiver = Receiver(secret=people.practice_a.webhook_secret)
    Organisation.objects.filter(pk=people.practice_a.pk).update(
        webhook_enabled=True, webhook_url=receiver.url()
    )
    people.practice_a.refresh_from_db()
    yield receiver
    receiver.stop()


def webhook_row(referral) -> Notification:
    return referral.notifications.get(channel=N.Channel.WEBHOOK, event__action="submit")


def test_a_webhook_is_signed_and_sent_once_however_often_the_task_runs(people, receiver):
    referral = referral_in_state(people, Status.SUBMITTED)
    row = webhook_row(referral)

    assert notification_deliver(str(row.public_id)) == "sent"
    assert notification_deliver(str(row.public_id)) == "skipped"
    assert deliver_notification.run(str(row.public_id)) == "skipped"

    (delivery,) = receiver.snapshot()
    assert delivery.verified and delivery.answered == 200
    assert delivery.webhook_id == str(row.public_id)
    row.refresh_from_db()
    assert (row.status, row.attempts, row.claimed_until, row.last_error) == ("sent", 1, None, "")
    assert row.sent_at is not None


def test_every_retry_sends_the_same_body_under_the_same_id(people, receiver):
    receiver.fail_until = float("inf")
    referral = referral_in_state(people, Status.SUBMITTED)
    row = webhook_row(referral)

    notification_deliver(str(row.public_id))
    N.objects.filter(pk=row.pk).update(next_attempt_at=timezone.now())
    notification_deliver(str(row.public_id))

    first, second = receiver.snapshot()
    assert first.webhook_id == second.webhook_id == str(row.public_id)
    assert first.body == second.body


def test_a_receiver_error_schedules_a_retry_with_backoff(people, receiver, settings):
    settings.PORTAL_DELIVERY_RETRY_BASE_SECONDS = 60
    receiver.fail_until = float("inf")
    referral = referral_in_state(people, Status.SUBMITTED)
    row = webhook_row(referral)
    before = timezone.now()

    assert notification_deliver(str(row.public_id)) == "retrying"

    row.refresh_from_db()
    assert row.status == "retrying" and row.attempts == 1
    assert row.last_error == "HTTP 500 Internal Server Error"
    assert row.claimed_until is None
    wait = row.next_attempt_at - before
    assert datetime.timedelta(seconds=47) <= wait <= datetime.timedelta(seconds=73)
    assert notification_deliver(str(row.public_id)) == "skipped", "not due yet"


def test_the_last_failed_attempt_makes_the_row_dead(people, receiver, settings):
    settings.PORTAL_DELIVERY_MAX_ATTEMPTS = 3
    receiver.fail_until = float("inf")
    referral = referral_in_state(people, Status.SUBMITTED)
    row = webhook_row(referral)

    outcomes = []
    for _ in range(3):
        outcomes.append(notification_deliver(str(row.public_id)))
        N.objects.filter(pk=row.pk).update(next_attempt_at=timezone.now())

    assert outcomes == ["retrying", "retrying", "dead"]
    row.refresh_from_db()
    assert (row.status, row.attempts) == ("dead", 3)
    assert notification_deliver(str(row.public_id)) == "skipped"
    assert len(receiver.snapshot()) == 3


def test_backoff_doubles_to_the_cap_with_jitter(settings):
    settings.PORTAL_DELIVERY_RETRY_BASE_SECONDS = 60
    settings.PORTAL_DELIVERY_RETRY_CAP_SECONDS = 4 * 3600
    for attempts, expected in [(1, 60), (2, 120), (5, 960), (9, 14400), (14, 14400)]:
        delays = {retry_delay(attempts).total_seconds() for _ in range(50)}
        assert all(0.8 * expected <= d <= 1.2 * expected for d in delays)
        assert len(delays) > 1, "jittered"


def test_the_default_schedule_spans_about_a_day():
    from django.conf import settings

    mean_total = sum(
        min(
            settings.PORTAL_DELIVERY_RETRY_CAP_SECONDS,
            settings.PORTAL_DELIVERY_RETRY_BASE_SECONDS * 2 ** (n - 1),
        )
        for n in range(1, settings.PORTAL_DELIVERY_MAX_ATTEMPTS)
    )
    assert 20 * 3600 <= mean_total <= 28 * 3600


@pytest.mark.parametrize(
    ("url", "allow_http", "allow_private", "error"),
    [
        ("http://gp.example.nhs.uk/hook", False, False, "must start with https://"),
        ("ftp://gp.example.nhs.uk/hook", True, True, "must start with https://"),
        ("https://user:pw@gp.example.nhs.uk/hook", False, False, "user name or password"),
        ("https://127.0.0.1/hook", False, False, "private, loopback or reserved"),
        ("https://localhost:8443/hook", False, False, "private, loopback or reserved"),
        ("https://10.1.2.3/hook", False, False, "private, loopback or reserved"),
        ("https://[::1]/hook", False, False, "private, loopback or reserved"),
        ("https://[::ffff:192.168.0.1]/hook", False, False, "private, loopback or reserved"),
        ("https://169.254.169.254/latest/meta-data", False, False, "private, loopback or reserved"),
    ],
)
def test_refused_webhook_addresses_go_dead_at_once(
    people, settings, url, allow_http, allow_private, error
):
    settings.PORTAL_WEBHOOK_ALLOW_HTTP = allow_http
    settings.PORTAL_WEBHOOK_ALLOW_PRIVATE = allow_private
    Organisation.objects.filter(pk=people.practice_a.pk).update(
        webhook_enabled=True, webhook_url=url
    )
    referral = referral_in_state(people, Status.SUBMITTED)
    row = webhook_row(referral)

    assert notification_deliver(str(row.public_id)) == "dead"

    row.refresh_from_db()
    assert error in row.last_error
    assert "pw" not in row.last_error


def test_an_unresolvable_host_is_retried(people, settings):
    Organisation.objects.filter(pk=people.practice_a.pk).update(
        webhook_enabled=True, webhook_url="https://no-such-host.invalid/hook"
    )
    referral = referral_in_state(people, Status.SUBMITTED)

    assert notification_deliver(str(webhook_row(referral).public_id)) == "retrying"
    assert "resolve" in webhook_row(referral).last_error


def test_a_closed_port_is_retried_without_quoting_the_address(people, receiver):
    url = receiver.url("/hook?token=s3cret")
    receiver.stop()
    Organisation.objects.filter(pk=people.practice_a.pk).update(webhook_url=url)
    referral = referral_in_state(people, Status.SUBMITTED)

    assert notification_deliver(str(webhook_row(referral).public_id)) == "retrying"
    error = webhook_row(referral).last_error
    assert error.startswith("Could not connect")
    assert "s3cret" not in error


def test_a_malformed_secret_is_a_configuration_error(people, receiver):
    Organisation.objects.filter(pk=people.practice_a.pk).update(webhook_secret="whsec_!!!")
    referral = referral_in_state(people, Status.SUBMITTED)

    assert notification_deliver(str(webhook_row(referral).public_id)) == "dead"
    assert webhook_row(referral).last_error == "The webhook signing secret is not valid"


def test_signatures_verify_with_the_standard_webhooks_library(people):
    secret = people.practice_a.webhook_secret
    headers = signed_headers(secret=secret, msg_id="msg_1", body='{"a":1}')

    assert Webhook(secret).verify('{"a":1}', headers) == {"a": 1}
    assert secret.startswith("whsec_")


def test_https_on_the_public_internet_is_allowed(settings):
    settings.PORTAL_WEBHOOK_ALLOW_HTTP = False

    assert check_webhook_url("https://gp.example.nhs.uk/hook?x=1").hostname == "gp.example.nhs.uk"


def test_withdrawn_consent_withholds_a_queued_progress_update(people, receiver):
    referral = referral_in_state(people, Status.BOOKED)
    row = referral.notifications.get(channel=N.Channel.WEBHOOK, event__action="book")
    # Withdrawn after the row was claimed by nobody yet, behind the service's back: delivery
    # reads consent again itself.
    Referral.objects.filter(pk=referral.pk).update(consent_share_outcomes=False)

    assert notification_deliver(str(row.public_id)) == "withheld"

    row.refresh_from_db()
    assert row.status == "withheld"
    assert "consent" in row.last_error
    assert receiver.snapshot() == []


def test_a_webhook_switched_off_before_delivery_is_withheld(people, receiver):
    referral = referral_in_state(people, Status.SUBMITTED)
    Organisation.objects.filter(pk=people.practice_a.pk).update(webhook_enabled=False)

    assert notification_deliver(str(webhook_row(referral).public_id)) == "withheld"
    assert receiver.snapshot() == []


def test_an_unexpected_error_is_recorded_by_kind_only(people, receiver, monkeypatch):
    referral = referral_in_state(people, Status.SUBMITTED)

    def explode(**kwargs):
        raise KeyError("https://secret-host/?token=abc")

    monkeypatch.setattr(outbox.webhook, "webhook_post", explode)

    assert notification_deliver(str(webhook_row(referral).public_id)) == "retrying"
    assert webhook_row(referral).last_error == "Unexpected error (KeyError)"


def test_a_row_leased_by_another_worker_is_left_alone(people, receiver):
    referral = referral_in_state(people, Status.SUBMITTED)
    row = webhook_row(referral)
    (claimed,) = notifications_claim([str(row.public_id)])

    assert notification_deliver(str(row.public_id)) == "skipped"
    assert claimed.attempts == 1 and claimed.claimed_until > timezone.now()


def test_an_expired_lease_lets_another_worker_take_the_row(people, receiver):
    referral = referral_in_state(people, Status.SUBMITTED)
    row = webhook_row(referral)
    notifications_claim([str(row.public_id)])  # a worker that then died
    N.objects.filter(pk=row.pk).update(claimed_until=timezone.now() - datetime.timedelta(seconds=1))

    assert notification_deliver(str(row.public_id)) == "sent"
    row.refresh_from_db()
    assert row.attempts == 2


@pytest.mark.concurrency
@pytest.mark.django_db(transaction=True)
def test_two_workers_claiming_at_once_get_the_row_once(people):
    referral = referral_in_state(people, Status.SUBMITTED)
    public_id = str(referral.notifications.get(channel=N.Channel.EMAIL).public_id)
    barrier = threading.Barrier(8)
    claims = []

    def claim():
        try:
            barrier.wait(timeout=10)
            claims.append(len(notifications_claim([public_id])))
        finally:
            connection.close()

    threads = [threading.Thread(target=claim) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    assert sorted(claims) == [0] * 7 + [1]
    assert N.objects.get(public_id=public_id).attempts == 1


# --- The sweep ---------------------------------------------------------------------------------


@pytest.fixture
def queued(monkeypatch):
    """What the sweep asks the broker to run (the broker itself is the integration tests' job)."""
    calls = SimpleNamespace(deliveries=[], digests=[])

    def recorder(into):
        return lambda args, **kwargs: into.append(args[0])

    monkeypatch.setattr(deliver_notification, "apply_async", recorder(calls.deliveries))
    monkeypatch.setattr(deliver_digest, "apply_async", recorder(calls.digests))
    return calls


def test_the_sweep_queues_due_rows_past_the_grace_period(people, queued, settings):
    settings.PORTAL_DELIVERY_SWEEP_GRACE_SECONDS = 30
    referral = referral_in_state(people, Status.SUBMITTED)
    email = referral.notifications.get(channel=N.Channel.EMAIL)

    assert notifications_sweep() == {"deliveries": 0, "digests": 0}, "the after-commit task has it"

    later = timezone.now() + datetime.timedelta(seconds=31)
    assert notifications_sweep(now=later) == {"deliveries": 1, "digests": 0}
    assert queued.deliveries == [str(email.public_id)]


def test_the_sweep_queues_retries_when_due_and_skips_leased_and_finished_rows(
    people, queued, settings
):
    settings.PORTAL_DELIVERY_SWEEP_GRACE_SECONDS = 0
    retrying, leased, sent, dead = (
        referral_in_state(people, Status.SUBMITTED).notifications.get(channel="email")
        for _ in range(4)
    )
    now = timezone.now()
    N.objects.filter(pk=retrying.pk).update(status="retrying", next_attempt_at=now)
    N.objects.filter(pk=leased.pk).update(claimed_until=now + datetime.timedelta(minutes=1))
    N.objects.filter(pk=sent.pk).update(status="sent", sent_at=now)
    N.objects.filter(pk=dead.pk).update(status="dead")
    not_yet = referral_in_state(people, Status.SUBMITTED).notifications.get(channel="email")
    N.objects.filter(pk=not_yet.pk).update(
        status="retrying", next_attempt_at=now + datetime.timedelta(minutes=5)
    )

    notifications_sweep(now=now + datetime.timedelta(seconds=1))

    assert queued.deliveries == [str(retrying.public_id)]


def test_the_sweep_groups_due_digest_rows_by_address(people, queued, settings):
    settings.PORTAL_DELIVERY_SWEEP_GRACE_SECONDS = 0
    Organisation.objects.filter(pk=people.practice_a.pk).update(email_updates="daily_digest")
    first = referral_in_state(people, Status.ACCEPTED)
    second = referral_in_state(people, Status.SUBMITTED)
    digest_rows = N.objects.filter(digest=True)
    assert digest_rows.count() == 3

    assert notifications_sweep() == {"deliveries": 0, "digests": 0}, "not digest time yet"
    tomorrow = timezone.now() + datetime.timedelta(days=1, seconds=1)
    notifications_sweep(now=tomorrow)

    assert queued.deliveries == []
    (group,) = queued.digests
    assert sorted(group) == sorted(str(i) for i in digest_rows.values_list("public_id", flat=True))
    assert {first.pk, second.pk} == set(digest_rows.values_list("referral", flat=True))


def test_a_sweep_that_cannot_reach_the_broker_stops_quietly(people, monkeypatch, settings):
    settings.PORTAL_DELIVERY_SWEEP_GRACE_SECONDS = 0
    for _ in range(3):
        referral_in_state(people, Status.SUBMITTED)
    attempts = []

    def refuse(*args, **kwargs):
        attempts.append(1)
        raise ConnectionError("broker down")

    monkeypatch.setattr(deliver_notification, "apply_async", refuse)

    assert notifications_sweep() == {"deliveries": 0, "digests": 0}
    assert attempts == [1]


# --- Retry now ---------------------------------------------------------------------------------


def test_retry_now_gives_a_dead_row_fresh_attempts(
    people, receiver, django_capture_on_commit_callbacks, monkeypatch
):
    referral = referral_in_state(people, Status.SUBMITTED)
    row = webhook_row(referral)
    N.objects.filter(pk=row.pk).update(
        status="dead", attempts=14, last_error="HTTP 500", next_attempt_at=timezone.now()
    )
    queued = []
    monkeypatch.setattr(tasks, "notifications_enqueue", lambda ids: queued.extend(ids))

    with django_capture_on_commit_callbacks(execute=True):
        assert notification_retry_now(notification=row, by=people.admin_a) is True

    assert queued == [str(row.public_id)]
    assert (row.status, row.attempts) == ("pending", 0)
    assert notification_deliver(str(row.public_id)) == "sent"


@pytest.mark.parametrize("status", ["sent", "withheld"])
def test_retry_now_leaves_finished_rows_alone(people, status):
    referral = referral_in_state(people, Status.SUBMITTED)
    row = referral.notifications.get(channel=N.Channel.EMAIL)
    N.objects.filter(pk=row.pk).update(status=status, sent_at=timezone.now())

    assert notification_retry_now(notification=row, by=people.admin_a) is False


def test_retry_now_leaves_in_app_rows_and_rows_being_sent_alone(people):
    referral = referral_in_state(people, Status.SUBMITTED)
    in_app = referral.notifications.get(channel=N.Channel.IN_APP)
    email = referral.notifications.get(channel=N.Channel.EMAIL)
    notifications_claim([str(email.public_id)])

    assert notification_retry_now(notification=in_app, by=people.admin_a) is False
    assert notification_retry_now(notification=email, by=people.admin_a) is False


def test_delivery_errors_carry_whether_they_are_permanent():
    assert DeliveryFailed("x").permanent is False
    assert DeliveryFailed("x", permanent=True).permanent is True


def test_emails_go_once_per_update(people):
    referral = referral_in_state(people, Status.SUBMITTED)
    row = referral.notifications.get(channel=N.Channel.EMAIL)

    assert notification_deliver(str(row.public_id)) == "sent"
    assert notification_deliver(str(row.public_id)) == "skipped"

    (message,) = mail.outbox
    assert message.to == ["gp.a@example.nhs.uk"]
    assert message.extra_headers["Message-ID"] == f"<{row.public_id}@127.0.0.1>"


def test_an_email_the_server_refuses_is_retried(people, monkeypatch):
    import smtplib

    referral = referral_in_state(people, Status.SUBMITTED)
    row = referral.notifications.get(channel=N.Channel.EMAIL)

    def refuse(self, *args, **kwargs):
        raise smtplib.SMTPRecipientsRefused({"gp.a@example.nhs.uk": (550, b"no such user")})

    monkeypatch.setattr("django.core.mail.EmailMultiAlternatives.send", refuse)

    assert notification_deliver(str(row.public_id)) == "retrying"
    row.refresh_from_db()
    assert row.last_error == "Email not accepted (SMTPRecipientsRefused)"


# --- HTTPS, odd receivers, configuration -------------------------------------------------------


@pytest.fixture
def certificate(tmp_path):
    """A self-signed certificate for "localhost", made with the openssl command line.

    Without openssl the TLS tests skip locally; with CI set (as .ci/run sets it, after
    installing openssl) they fail instead, so CI cannot pass by skipping them, as tests/e2e does
    for chromium."""
    import os
    import shutil
    import subprocess

    if shutil.which("openssl") is None:
        missing = "openssl is not installed (apt-get install openssl) for the TLS delivery tests"
        if os.environ.get("CI", "").strip().lower() not in {"", "0", "false", "no"}:
            pytest.fail(f"CI is set but {missing}", pytrace=False)
        pytest.skip(missing)
    key, cert = tmp_path / "key.pem", tmp_path / "cert.pem"
    subprocess.run(  # noqa: S603
        [
            *("openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1"),
            *("-subj", "/CN=localhost", "-addext", "subjectAltName=DNS:localhost"),
            *("-keyout", str(key), "-out", str(cert)),
        ],
        check=True,
        capture_output=True,
    )
    return SimpleNamespace(key=key, cert=cert)


@pytest.fixture
def tls_receiver(people, settings, certificate):
    import ssl

    settings.PORTAL_WEBHOOK_ALLOW_HTTP = False
    settings.PORTAL_WEBHOOK_ALLOW_PRIVATE = True
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(certificate.cert, certificate.key)
    receiver = Receiver(secret=people.practice_a.webhook_secret, tls=context)
    Organisation.objects.filter(pk=people.practice_a.pk).update(
        webhook_enabled=True, webhook_url=receiver.url(host="localhost")
    )
    yield receiver
    receiver.stop()


def test_https_delivery_verifies_the_certificate_against_the_host_name(
    people, tls_receiver, certificate, monkeypatch
):
    import ssl

    from delivery import webhook

    original = ssl.create_default_context

    def trusting_our_test_ca():
        return original(cafile=str(certificate.cert))

    monkeypatch.setattr(webhook.ssl, "create_default_context", trusting_our_test_ca)
    referral = referral_in_state(people, Status.SUBMITTED)

    assert notification_deliver(str(webhook_row(referral).public_id)) == "sent"
    (delivery,) = tls_receiver.snapshot()
    assert delivery.verified


def test_https_to_an_untrusted_certificate_fails_and_is_retried(people, tls_receiver):
    referral = referral_in_state(people, Status.SUBMITTED)

    assert notification_deliver(str(webhook_row(referral).public_id)) == "retrying"
    assert webhook_row(referral).last_error.startswith("TLS failed (CERTIFICATE_VERIFY_FAILED")
    assert tls_receiver.snapshot() == []


def test_a_receiver_that_does_not_speak_http_is_retried(people, settings):
    import socket

    settings.PORTAL_WEBHOOK_ALLOW_HTTP = True
    settings.PORTAL_WEBHOOK_ALLOW_PRIVATE = True
    server = socket.create_server(("127.0.0.1", 0))

    def answer_nonsense():
        connection, _ = server.accept()
        with connection:
            connection.recv(65536)
            connection.sendall(b"HELLO THERE\r\n\r\n")

    thread = threading.Thread(target=answer_nonsense, daemon=True)
    thread.start()
    port = server.getsockname()[1]
    Organisation.objects.filter(pk=people.practice_a.pk).update(
        webhook_enabled=True, webhook_url=f"http://127.0.0.1:{port}/hook"
    )
    referral = referral_in_state(people, Status.SUBMITTED)

    assert notification_deliver(str(webhook_row(referral).public_id)) == "retrying"
    thread.join(5)
    server.close()
    assert webhook_row(referral).last_error == "Invalid HTTP response (BadStatusLine)"


def test_a_url_without_a_host_is_refused(settings):
    settings.PORTAL_WEBHOOK_ALLOW_HTTP = False

    with pytest.raises(DeliveryFailed) as refused:
        check_webhook_url("https:///hook")

    assert refused.value.permanent


def test_organisations_get_their_own_well_formed_secret(db):
    from django.core.exceptions import ValidationError

    from accounts.models import validate_webhook_secret
    from tests.factories import OrganisationFactory

    first, second = OrganisationFactory(), OrganisationFactory()

    assert first.webhook_secret != second.webhook_secret
    validate_webhook_secret(first.webhook_secret)
    for bad in ["", "whsec_", "whsec_!!!", "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "whsec_c2hvcnQ="]:
        with pytest.raises(ValidationError):
            validate_webhook_secret(bad)


def test_the_webhook_address_field_assumes_https_in_forms():
    field = Organisation._meta.get_field("webhook_url").formfield()

    assert field.clean("gp-system.example.nhs.uk/hook") == "https://gp-system.example.nhs.uk/hook"


def test_the_tasks_call_the_outbox(people, queued, settings):
    settings.PORTAL_DELIVERY_SWEEP_GRACE_SECONDS = 0
    referral_in_state(people, Status.SUBMITTED)

    assert deliver_digest.run(["00000000-0000-0000-0000-000000000000"]) == "skipped"
    from delivery.tasks import notifications_sweep_task as sweep_task

    assert sweep_task.run() == {"deliveries": 1, "digests": 0}
