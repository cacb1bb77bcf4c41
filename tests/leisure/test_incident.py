"""Logging an incident in a session (issue 11, finding 2): the instructor's page raises a safety
alert; the wrong role is refused and another operator's session is a 404."""

import pytest
from django.urls import reverse

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
