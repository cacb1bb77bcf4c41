"""Logging an incident in a session (issue 11, finding 2): the instructor's page raises a safety
alert; the wrong role is refused and another operator's session is a 404."""

import datetime

import pytest
from django.urls import reverse
from django.utils import timezone

from referrals import services
from referrals.models import Alert, Session, Status
from tests.builders import referral_in_state, session_due_now

FORM = {
    "incident_kind": "chest_pain",
    "description": "Tight chest during the cycling intervals.",
    "immediate_action": "Stopped exercise, sat down; 999 called; handed to paramedics.",
}


@pytest.fixture
def session(people) -> Session:
    booked = referral_in_state(people, Status.BOOKED)
    return session_due_now(booked.sessions.order_by("scheduled_at").first())


def incident_url(session) -> str:
    return reverse("register:incident", args=[session.public_id])


def test_the_instructor_logs_an_incident_which_raises_an_alert(client, people, session):
    client.force_login(people.instructor_x)
    page = client.get(incident_url(session))
    assert page.status_code == 200
    assert "Log an incident in the session on" in page.content.decode()

    response = client.post(incident_url(session), FORM)

    assert response.status_code == 302
    assert response.url == reverse("referrals:detail", args=[session.referral.reference])
    alert = Alert.objects.get()
    assert (alert.kind, alert.incident_kind, alert.severity) == ("incident", "chest_pain", "urgent")
    assert alert.session == session
    assert alert.immediate_action == FORM["immediate_action"]
    assert alert.raised_by == people.instructor_x


def test_a_missing_answer_is_a_form_error_and_logs_nothing(client, people, session):
    client.force_login(people.instructor_x)
    response = client.post(incident_url(session), {**FORM, "description": ""})

    assert response.status_code == 400
    assert "Describe what happened" in response.content.decode()
    assert not Alert.objects.exists()


def test_a_session_still_to_come_is_refused_with_a_message(client, people):
    booked = referral_in_state(people, Status.BOOKED)
    client.force_login(people.instructor_x)
    response = client.post(incident_url(booked.sessions.order_by("scheduled_at").first()), FORM)

    assert response.status_code == 400
    assert "has not happened yet" in response.content.decode()
    assert not Alert.objects.exists()


@pytest.mark.parametrize(
    ("persona", "status"),
    [
        ("coordinator_x", 403),
        ("referrer_a", 403),
        ("commissioner", 403),
        ("admin_x", 403),
        ("instructor_y", 404),
    ],
)
def test_the_wrong_role_or_organisation_is_refused(client, people, session, persona, status):
    client.force_login(getattr(people, persona))
    assert client.get(incident_url(session)).status_code == status
    assert client.post(incident_url(session), FORM).status_code == status
    assert not Alert.objects.exists()


def test_anonymous_visitors_are_sent_to_sign_in(client, session):
    response = client.get(incident_url(session))
    assert response.status_code == 302
    assert response.url.startswith(reverse("account_login"))


def test_the_register_and_the_referral_page_link_to_it(client, people, session):
    client.force_login(people.instructor_x)
    referral_page = client.get(reverse("referrals:detail", args=[session.referral.reference]))
    assert f'href="{incident_url(session)}"' in referral_page.content.decode()

    today = client.get(reverse("register:today"))
    assert f'href="{incident_url(session)}"' in today.content.decode()


def test_a_session_later_today_gets_the_reason_and_no_form_until_just_before_it(
    client, people, frozen_now
):
    """Found on the walk: at 04:49 an incident was logged in a class starting at 10:00."""
    booked = referral_in_state(people, Status.BOOKED)
    first = booked.sessions.order_by("scheduled_at").first()
    starts = (timezone.localtime(first.scheduled_at) + datetime.timedelta(days=1)).replace(
        hour=10, minute=0
    )
    Session.objects.filter(pk=first.pk).update(scheduled_at=starts)

    frozen_now(starts.replace(hour=4, minute=49))
    client.force_login(people.instructor_x)
    page = client.get(incident_url(first)).content.decode()
    assert "has not happened yet" in page and "Log incident</button>" not in page
    assert client.post(incident_url(first), FORM).status_code == 400
    assert not Alert.objects.exists()

    frozen_now(starts - datetime.timedelta(minutes=10))  # the warm-up before it starts
    client.force_login(people.instructor_x)  # signed in again after the idle timeout
    assert "Log incident</button>" in client.get(incident_url(first)).content.decode()
    assert client.post(incident_url(first), FORM).status_code == 302
    assert Alert.objects.get().session == first


def test_a_cancelled_session_takes_no_incident(client, people):
    booked = referral_in_state(people, Status.BOOKED)
    cancelled = session_due_now(booked.sessions.order_by("scheduled_at").first())
    services.session_record_attendance(
        session=cancelled, status=Session.Attendance.CANCELLED_PATIENT, by=people.instructor_x
    )
    client.force_login(people.instructor_x)

    assert "was cancelled" in client.get(incident_url(cancelled)).content.decode()
    response = client.post(incident_url(cancelled), FORM)
    assert response.status_code == 400 and "was cancelled" in response.content.decode()
    assert not Alert.objects.exists()
