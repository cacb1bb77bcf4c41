"""Failed sign-ins (accounts/signin_throttle.py): counted in the database per email and address,
so one account's wrong passwords lock out neither another account nor rely on one process."""

import datetime
import re

import pytest
from axes.handlers.proxy import AxesProxyHandler
from axes.models import AccessAttempt
from django.core.cache import caches
from django.core.management import call_command
from django.test import Client
from django.urls import reverse

from tests.factories import TEST_PASSWORD

PRACTICE_ADDRESS = "10.20.30.40"
HOME_ADDRESS = "192.0.2.7"
LOCKED_HEADING = "You cannot sign in at the moment"


def sign_in(client, email, password=TEST_PASSWORD, address=PRACTICE_ADDRESS):
    return client.post(
        reverse("account_login"), {"login": email, "password": password}, REMOTE_ADDR=address
    )


def signed_in(client) -> bool:
    return "_auth_user_id" in client.session


def fail(client, email, times, address=PRACTICE_ADDRESS):
    response = None
    for _ in range(times):
        response = sign_in(client, email, "not-the-password", address)
    return response


def without_csrf_token(html: str) -> str:
    return re.sub(r'"X-CSRFToken": "[^"]*"', "", html)


def test_thirty_wrong_passwords_lock_that_account_only(client, settings, people):
    a, b = people.referrer_a, people.referrer_b

    last = fail(client, a.email, 30)

    assert last.status_code == 429
    assert LOCKED_HEADING in last.content.decode()
    assert not signed_in(client)
    # Even the right password does not get through from that address while it is locked.
    locked = sign_in(client, a.email)
    assert locked.status_code == 429
    assert not signed_in(client)
    # Another account on the same practice network signs in as normal.
    colleague = Client()
    response = sign_in(colleague, b.email)
    assert response.status_code == 302
    assert colleague.session["_auth_user_id"] == str(b.pk)


def test_the_limit_is_the_setting(client, settings, people):
    email = people.referrer_a.email

    below = fail(client, email, settings.AXES_FAILURE_LIMIT - 1)
    assert below.status_code == 200  # the form again, with its error
    assert LOCKED_HEADING not in below.content.decode()

    assert fail(client, email, 1).status_code == 429


def test_the_lock_is_for_the_address_it_came_from(client, people):
    fail(client, people.referrer_a.email, 30)

    from_home = Client()
    assert sign_in(from_home, people.referrer_a.email, address=HOME_ADDRESS).status_code == 302
    assert signed_in(from_home)


def test_the_lock_is_in_the_database_for_every_process(client, people):
    email = people.referrer_a.email
    fail(client, email, 12)

    attempt = AccessAttempt.objects.get(username=email, ip_address=PRACTICE_ADDRESS)
    assert attempt.failures_since_start >= 10
    # A fresh client and empty caches: nothing is left in this process but the database rows.
    for cache in caches.all():
        cache.clear()
    fresh = Client()
    assert sign_in(fresh, email).status_code == 429
    assert not signed_in(fresh)


def test_changing_the_case_of_the_email_does_not_start_a_new_count(client, people):
    email = people.referrer_a.email
    fail(client, email, 5)
    fail(client, email.upper(), 5)

    assert sign_in(Client(), email).status_code == 429


def test_after_the_cool_off_the_right_password_signs_in(client, settings, people):
    email = people.referrer_a.email
    fail(client, email, 30)
    assert sign_in(client, email).status_code == 429

    AccessAttempt.objects.update(
        attempt_time=datetime.datetime.now(datetime.UTC)
        - settings.AXES_COOLOFF_TIME
        - datetime.timedelta(minutes=1)
    )

    assert sign_in(client, email).status_code == 302
    assert signed_in(client)
    # A success clears that pair's count, so the next mistake starts again from one.
    assert not AccessAttempt.objects.filter(username=email).exists()


def test_the_page_is_the_same_for_an_account_that_does_not_exist(people):
    real = fail(Client(), people.referrer_a.email, 10)
    unknown = fail(Client(), "nobody@example.nhs.uk", 10)

    assert real.status_code == unknown.status_code == 429
    assert without_csrf_token(real.content.decode()) == without_csrf_token(unknown.content.decode())
    page = real.content.decode()
    assert people.referrer_a.email not in page
    assert "15 minutes" in page
    assert real["Retry-After"] == str(15 * 60)


def test_an_admin_unlocks_an_account_with_axes_reset_username(client, people):
    email = people.referrer_a.email
    fail(client, email, 30)

    call_command("axes_reset_username", email)

    assert sign_in(client, email).status_code == 302


@pytest.mark.parametrize("failures", [0, 9])
def test_below_the_limit_no_one_is_locked(rf, people, failures):
    fail(Client(), people.referrer_a.email, failures)
    request = rf.post("/accounts/login/", REMOTE_ADDR=PRACTICE_ADDRESS)
    request.axes_ip_address = PRACTICE_ADDRESS

    assert not AxesProxyHandler.is_locked(request, {"email": people.referrer_a.email})
