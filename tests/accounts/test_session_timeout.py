"""Idle and absolute session limits (accounts/session_timeout.py), and the keep-alive."""

import pytest
from django.test import Client
from django.urls import reverse

from accounts.session_timeout import LAST_ACTIVITY, SIGNED_IN_AT, _now
from tests.factories import TEST_PASSWORD

pytestmark = pytest.mark.session_clock  # the real 15 s resolution (tests/conftest.py)

MINUTE = 60
HOUR = 60 * MINUTE
IDLE_MESSAGE = "You were signed out after 30 minutes without activity."


def age_session(client, *, idle: float = 0, signed_in: float | None = None) -> None:
    """Move the session's clock back: last request `idle` seconds ago, sign-in `signed_in` ago."""
    session = client.session
    now = _now()
    session[LAST_ACTIVITY] = now - idle
    session[SIGNED_IN_AT] = now - (idle if signed_in is None else signed_in)
    session.save()


def signed_in(client) -> bool:
    return "_auth_user_id" in client.session


@pytest.fixture
def referrer(client, people):
    client.force_login(people.referrer_a)
    return people.referrer_a


def test_signing_in_starts_both_clocks(client, people):
    before = _now()
    client.post(
        reverse("account_login"), {"login": people.referrer_a.email, "password": TEST_PASSWORD}
    )

    session = client.session
    assert before <= session[SIGNED_IN_AT] <= _now()
    assert session[LAST_ACTIVITY] == session[SIGNED_IN_AT]


def test_a_session_idle_29_minutes_carries_on(client, referrer):
    age_session(client, idle=29 * MINUTE)

    response = client.get(reverse("home"))

    assert response.status_code == 200
    assert signed_in(client)
    assert client.session[LAST_ACTIVITY] > _now() - 5


def test_a_session_idle_31_minutes_is_signed_out_with_the_reason(client, referrer):
    age_session(client, idle=31 * MINUTE)

    response = client.get(reverse("referrals:dashboard") + "?status=submitted")

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("account_login") + "?next=")
    assert "status%3Dsubmitted" in response["Location"]
    assert not signed_in(client)
    login_page = client.get(response["Location"])
    assert IDLE_MESSAGE in login_page.content.decode()


def test_the_idle_limit_is_the_setting(client, settings, referrer):
    settings.PORTAL_SESSION_IDLE_MINUTES = 10
    age_session(client, idle=11 * MINUTE)

    response = client.get(reverse("home"), follow=True)

    assert not signed_in(client)
    assert "You were signed out after 10 minutes without activity." in response.content.decode()


def test_an_active_session_ends_at_the_absolute_limit(client, referrer):
    age_session(client, idle=MINUTE, signed_in=8 * HOUR + MINUTE)

    response = client.get(reverse("home"), follow=True)

    assert not signed_in(client)
    assert "because you had been signed in for 8 hours" in response.content.decode()


def test_just_inside_the_absolute_limit_carries_on(client, referrer):
    age_session(client, idle=MINUTE, signed_in=8 * HOUR - MINUTE)

    assert client.get(reverse("home")).status_code == 200
    assert signed_in(client)


def test_an_htmx_request_after_the_limit_gets_401_and_hx_redirect(client, referrer):
    age_session(client, idle=31 * MINUTE)

    response = client.get(reverse("referrals:dashboard"), HTTP_HX_REQUEST="true")

    assert response.status_code == 401
    assert response["HX-Redirect"] == reverse("account_login")
    assert response.content == b""
    assert not signed_in(client)


def test_a_form_post_after_the_limit_goes_to_sign_in_without_running(client, referrer):
    age_session(client, idle=31 * MINUTE)

    response = client.post(reverse("referrals:clear_search"))

    assert response.status_code == 302
    assert response["Location"] == (
        reverse("account_login") + "?next=" + reverse("referrals:clear_search")
    )
    assert not signed_in(client)


def test_keep_alive_answers_204_and_restarts_the_idle_clock(client, referrer):
    age_session(client, idle=28 * MINUTE)

    response = client.post(reverse("session_keep_alive"))

    assert response.status_code == 204
    assert client.session[LAST_ACTIVITY] > _now() - 5
    age_session(client, idle=20 * MINUTE, signed_in=48 * MINUTE)
    assert client.get(reverse("home")).status_code == 200


def test_keep_alive_does_not_stretch_the_absolute_limit(client, referrer):
    age_session(client, idle=MINUTE, signed_in=8 * HOUR + MINUTE)

    response = client.post(reverse("session_keep_alive"))

    assert response.status_code == 401
    assert response["HX-Redirect"] == reverse("account_login")
    assert not signed_in(client)


def test_keep_alive_after_the_idle_limit_is_too_late(client, referrer):
    age_session(client, idle=31 * MINUTE)

    assert client.post(reverse("session_keep_alive")).status_code == 401
    assert not signed_in(client)


def test_keep_alive_needs_sign_in_post_and_csrf(client, people):
    url = reverse("session_keep_alive")
    assert client.post(url).status_code == 302  # anonymous: to sign in

    client.force_login(people.referrer_a)
    assert client.get(url).status_code == 405

    strict = Client(enforce_csrf_checks=True)
    strict.force_login(people.referrer_a)
    assert strict.post(url).status_code == 403


def test_requests_within_the_resolution_do_not_rewrite_the_session(client, referrer):
    age_session(client, idle=5)
    before = client.session[LAST_ACTIVITY]

    client.get(reverse("home"))

    assert client.session[LAST_ACTIVITY] == before


def test_the_page_carries_the_limits_for_the_warning(client, referrer):
    page = client.get(reverse("home")).content.decode()

    assert 'data-session-idle-seconds="1800"' in page
    assert 'data-session-warning-seconds="120"' in page
    assert f'data-session-keep-alive-url="{reverse("session_keep_alive")}"' in page
    assert 'id="session-timeout-warning"' in page
    assert 'role="alertdialog"' in page


def test_a_signed_out_page_has_no_warning(client, db):
    page = client.get(reverse("account_login")).content.decode()

    assert "data-session-idle-seconds" not in page
    assert "session-timeout-warning" not in page
