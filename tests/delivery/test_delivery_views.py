"""Seeing deliveries: the delivery log on a referral, the admin's dead-and-retrying list with
"retry now", and the printable discharge summary."""

import datetime

import pytest
from django.contrib.admin.models import LogEntry
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from accounts.models import Organisation
from delivery import tasks
from delivery.selectors import delivery_log_for
from referrals import services
from referrals.models import Notification, Session, Status
from tests.builders import referral_in_state
from tests.factories import UserFactory

N = Notification


@pytest.fixture
def webhook_referral(people):
    Organisation.objects.filter(pk=people.practice_a.pk).update(
        webhook_enabled=True, webhook_url="https://gp-system.example.nhs.uk/hook?token=s3cret"
    )
    return referral_in_state(people, Status.ACCEPTED)


def test_the_delivery_log_lists_email_and_webhook_rows_newest_first(people, webhook_referral):
    accept_webhook = webhook_referral.notifications.get(channel="webhook", event__action="accept")
    N.objects.filter(pk=accept_webhook.pk).update(
        status="dead", attempts=14, last_error="HTTP 500 Internal Server Error"
    )

    log = delivery_log_for(webhook_referral)

    assert [(e.update, e.channel) for e in log] == [
        ("Referral accepted", "Webhook"),
        ("Referral accepted", "Email"),
        ("Referral received", "Webhook"),
        ("Referral received", "Email"),
    ]
    dead = next(e for e in log if e.public_id == str(accept_webhook.public_id))
    assert (dead.status, dead.tag_colour, dead.attempts) == ("dead", "red", 14)
    # A webhook shows its host only: the query string may hold a token.
    assert dead.recipient == "gp-system.example.nhs.uk"


def test_the_delivery_log_is_one_query(people, webhook_referral, django_assert_num_queries):
    with django_assert_num_queries(1):
        log = delivery_log_for(webhook_referral)
    # The one query fetched every row: submission and acceptance, each by email and webhook.
    assert [(e.update, e.channel) for e in log] == [
        ("Referral accepted", "Webhook"),
        ("Referral accepted", "Email"),
        ("Referral received", "Webhook"),
        ("Referral received", "Email"),
    ]


def test_reminders_appear_in_the_log_only_when_asked_for(people):
    referral = referral_in_state(people, Status.SUBMITTED)
    event = referral.events.get(action="submit")
    N.objects.create(
        referral=referral,
        event=event,
        kind=N.Kind.TRIAGE_REMINDER,
        channel="email",
        digest=True,
        recipient_organisation=people.operator_x,
        recipient_user=people.coordinator_x,
        recipient_address=people.coordinator_x.email,
        dedup_key="2026-11-25",
    )

    assert len(delivery_log_for(referral)) == 1
    assert len(delivery_log_for(referral, include_reminders=True)) == 2


def test_the_delivery_log_partial_shows_status_attempts_and_errors(people, webhook_referral):
    row = webhook_referral.notifications.get(channel="webhook", event__action="accept")
    N.objects.filter(pk=row.pk).update(
        status="retrying", attempts=2, last_error="HTTP 503 Service Unavailable"
    )

    html = render_to_string(
        "referrals/partials/delivery_log.html",
        {"delivery_log": delivery_log_for(webhook_referral)},
    )

    assert "Updates sent to the referrer" in html
    assert "nhsuk-tag--yellow" in html and "Retrying" in html
    assert "HTTP 503 Service Unavailable" in html
    assert "s3cret" not in html
    assert "gp-system.example.nhs.uk" in html


def test_an_empty_delivery_log_says_so(people):
    referral = referral_in_state(people, Status.DRAFT)

    html = render_to_string(
        "referrals/partials/delivery_log.html", {"delivery_log": delivery_log_for(referral)}
    )

    assert "No email or webhook updates have been sent" in html


# --- Admin -------------------------------------------------------------------------------------


@pytest.fixture
def staff_client(client, db):
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    return client


def changelist_url(query=""):
    return reverse("admin:referrals_notification_changelist") + query


def test_admin_lists_dead_and_retrying_notifications(people, staff_client):
    dead, retrying, sent = (
        referral_in_state(people, Status.SUBMITTED).notifications.get(channel="email")
        for _ in range(3)
    )
    N.objects.filter(pk=dead.pk).update(status="dead")
    N.objects.filter(pk=retrying.pk).update(status="retrying")
    N.objects.filter(pk=sent.pk).update(status="sent", sent_at=timezone.now())

    page = staff_client.get(changelist_url("?attention=yes")).content.decode()

    assert str(dead.public_id) in page and str(retrying.public_id) in page
    assert str(sent.public_id) not in page
    only_dead = staff_client.get(changelist_url("?attention=dead")).content.decode()
    assert str(dead.public_id) in only_dead and str(retrying.public_id) not in only_dead


def test_admin_retry_now_requeues_through_the_service(
    people, staff_client, monkeypatch, django_capture_on_commit_callbacks
):
    row = referral_in_state(people, Status.SUBMITTED).notifications.get(channel="email")
    sent = referral_in_state(people, Status.SUBMITTED).notifications.get(channel="email")
    N.objects.filter(pk=row.pk).update(status="dead", attempts=14)
    N.objects.filter(pk=sent.pk).update(status="sent", sent_at=timezone.now())
    queued = []
    monkeypatch.setattr(tasks, "notifications_enqueue", lambda ids: queued.extend(ids))

    with django_capture_on_commit_callbacks(execute=True):
        response = staff_client.post(
            changelist_url(),
            {"action": "retry_now", "_selected_action": [row.pk, sent.pk]},
            follow=True,
        )

    page = response.content.decode()
    assert "1 notification(s) queued to send again now." in page
    assert "1 notification(s) skipped" in page
    row.refresh_from_db()
    assert (row.status, row.attempts) == ("pending", 0)
    assert queued == [str(row.public_id)]
    assert LogEntry.objects.filter(object_id=str(row.pk), change_message="Retry requested").exists()


def test_admin_notification_pages_are_read_only(people, staff_client):
    row = referral_in_state(people, Status.SUBMITTED).notifications.get(channel="email")

    page = staff_client.get(reverse("admin:referrals_notification_change", args=[row.pk]))

    assert page.status_code == 200
    assert 'name="status"' not in page.content.decode()
    assert staff_client.get(reverse("admin:referrals_notification_add")).status_code == 403


# --- Discharge summary -------------------------------------------------------------------------


def summary_url(referral):
    return reverse("referral_discharge_summary", args=[referral.reference])


@pytest.fixture
def discharged(people):
    referral = referral_in_state(people, Status.ACTIVE)
    missed = Session.objects.create(
        referral=referral, scheduled_at=timezone.now() - datetime.timedelta(days=2)
    )
    Session.objects.filter(pk=missed.pk).update(
        status="dna", logged_at=timezone.now(), logged_by=people.instructor_x
    )
    services.referral_discharge(
        referral=referral, by=people.coordinator_x, reason="dna_limit", note="Stopped coming"
    )
    referral.refresh_from_db()
    return referral


def test_the_discharge_summary_needs_sign_in(client, discharged):
    response = client.get(summary_url(discharged))

    assert response.status_code == 302
    assert reverse("account_login") in response["Location"]


@pytest.mark.parametrize("persona", ["referrer_a", "coordinator_x"])
def test_the_referrer_and_the_operator_see_the_discharge_summary(
    client, people, discharged, persona
):
    client.force_login(getattr(people, persona))

    response = client.get(summary_url(discharged))

    assert response.status_code == 200
    page = response.content.decode()
    assert "Discharge summary" in page
    assert discharged.reference in page
    assert "1 attended, 1 not attended" in page
    assert "Did not attend the limit of sessions in a row" in page
    assert "No outcome measures were recorded during the programme" in page
    assert discharged.patient.nhs_number_display in page


def test_after_withdrawal_the_referrers_summary_leaves_out_attendance_and_outcomes(
    client, people, discharged
):
    from referrals.consent import consent_record_decision

    consent_record_decision(
        referral=discharged,
        by=people.coordinator_x,
        purpose="share_progress",
        method="telephone",
    )
    client.force_login(people.referrer_a)
    page = client.get(summary_url(discharged)).content.decode()
    assert "Did not attend the limit of sessions in a row" in page
    assert "1 attended, 1 not attended" not in page and "Outcome measures" not in page
    assert "has not consented to sharing their progress" in page
    client.force_login(people.coordinator_x)
    assert "1 attended, 1 not attended" in client.get(summary_url(discharged)).content.decode()


@pytest.mark.parametrize("persona", ["referrer_b", "coordinator_y", "commissioner"])
def test_other_organisations_get_a_404(client, people, discharged, persona):
    client.force_login(getattr(people, persona))

    assert client.get(summary_url(discharged)).status_code == 404


def test_a_referral_that_has_not_ended_has_no_summary(client, people):
    referral = referral_in_state(people, Status.ACTIVE)
    client.force_login(people.referrer_a)

    assert client.get(summary_url(referral)).status_code == 404


def test_a_completed_referral_has_a_summary(client, people):
    referral = referral_in_state(people, Status.COMPLETED)
    client.force_login(people.referrer_a)

    response = client.get(summary_url(referral))

    assert response.status_code == 200
    assert "Completed the programme" in response.content.decode()
