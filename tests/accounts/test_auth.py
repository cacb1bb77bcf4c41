"""Signing in and out, password reset, closed sign-up and the MFA requirement for staff."""

import time

import pytest
from allauth.mfa.models import Authenticator
from allauth.mfa.recovery_codes.internal.auth import RecoveryCodes
from allauth.mfa.totp.internal.auth import (
    SECRET_SESSION_KEY,
    TOTP,
    format_hotp_value,
    generate_totp_secret,
    hotp_value,
)
from django.urls import reverse

from accounts.models import User
from tests.builders import new_draft
from tests.factories import TEST_PASSWORD, PatientFactory

LOGIN_URL = "/accounts/login/"


def totp_code(secret: str) -> str:
    return format_hotp_value(hotp_value(secret, int(time.time()) // 30))


def sign_in(client, user, password=TEST_PASSWORD):
    return client.post(reverse("account_login"), {"login": user.email, "password": password})


def reauthenticate(client, password=TEST_PASSWORD):
    """allauth asks for the password again before MFA changes, even straight after sign-in."""
    response = client.post(reverse("account_reauthenticate"), {"password": password})
    assert response.status_code == 302, response.content
    return response


def signed_in_user_id(client):
    return client.session.get("_auth_user_id")


# --- Sign in and out ----------------------------------------------------------------------------


def test_sign_in_page_renders(client, db):
    response = client.get(LOGIN_URL)

    assert response.status_code == 200
    assert b'name="login"' in response.content
    assert b'name="password"' in response.content


def test_sign_in_with_email_and_password_goes_home(client, people):
    response = sign_in(client, people.referrer_a)

    assert response.status_code == 302
    assert response.url == "/"
    assert signed_in_user_id(client) == str(people.referrer_a.pk)


def test_sign_in_email_is_case_insensitive(client, people):
    response = client.post(
        reverse("account_login"),
        {"login": people.referrer_a.email.upper(), "password": TEST_PASSWORD},
    )

    assert response.status_code == 302
    assert signed_in_user_id(client) == str(people.referrer_a.pk)


def test_sign_in_with_wrong_password_shows_an_error_and_does_not_sign_in(client, people):
    response = sign_in(client, people.referrer_a, password="not-the-password")

    assert response.status_code == 200
    assert b"not correct" in response.content
    assert signed_in_user_id(client) is None


def test_inactive_user_cannot_sign_in(client, people):
    people.referrer_a.is_active = False
    people.referrer_a.save()

    response = sign_in(client, people.referrer_a)

    assert signed_in_user_id(client) is None
    assert response.status_code == 302
    assert response.url == reverse("account_inactive")


def test_sign_out_by_post_ends_the_session(client, people):
    client.force_login(people.referrer_a)

    response = client.post(reverse("account_logout"))

    assert response.status_code == 302
    assert signed_in_user_id(client) is None
    assert client.get("/").status_code == 302


def test_anonymous_home_redirects_to_sign_in(client, db):
    response = client.get("/")

    assert response.status_code == 302
    assert response.url == f"{LOGIN_URL}?next=/"


# --- Sign-up is closed ---------------------------------------------------------------------------


def test_signup_is_closed(client, db):
    page = client.get(reverse("account_signup"))
    response = client.post(
        reverse("account_signup"),
        {
            "email": "newcomer@example.org",
            "password1": "a-long-enough-password-1",
            "password2": "a-long-enough-password-1",
        },
    )

    assert page.status_code == 200
    assert b'name="password1"' not in page.content
    assert response.status_code == 200
    assert b"the sign up is currently closed" in response.content
    assert not User.objects.filter(email="newcomer@example.org").exists()
    assert signed_in_user_id(client) is None


# --- Password reset ------------------------------------------------------------------------------


def test_password_reset_sends_an_email_without_patient_data(client, people, mailoutbox):
    patient = PatientFactory(
        organisation=people.practice_a, given_name="Philomena", family_name="Zabriskie"
    )
    referral = new_draft(people, patient=patient)

    response = client.post(reverse("account_reset_password"), {"email": people.referrer_a.email})

    assert response.status_code == 302
    assert len(mailoutbox) == 1
    message = mailoutbox[0]
    assert message.to == [people.referrer_a.email]
    text = message.subject + message.body + "".join(str(a[0]) for a in message.alternatives)
    assert "/accounts/password/reset/key/" in text
    for secret in ("Philomena", "Zabriskie", patient.nhs_number, referral.reference):
        assert secret not in text


def test_password_reset_page_renders(client, db):
    assert client.get(reverse("account_reset_password")).status_code == 200


# --- MFA ---------------------------------------------------------------------------------------


@pytest.fixture
def require_mfa(settings):
    settings.PORTAL_REQUIRE_MFA = True


def test_without_mfa_requirement_home_is_reachable_without_totp(client, people, settings):
    settings.PORTAL_REQUIRE_MFA = False
    client.force_login(people.referrer_a)

    assert client.get("/").status_code == 200


def test_mfa_required_user_without_totp_is_sent_to_activate_it(client, people, require_mfa):
    client.force_login(people.referrer_a)

    response = client.get("/")

    assert response.status_code == 302
    assert response.url == reverse("mfa_activate_totp")


def test_mfa_required_staff_without_totp_cannot_reach_admin(client, people, require_mfa):
    staff = people.referrer_a
    staff.is_staff = staff.is_superuser = True
    staff.save()
    client.force_login(staff)

    response = client.get("/admin/")

    assert response.status_code == 302
    assert response.url == reverse("mfa_activate_totp")


def test_mfa_required_user_without_totp_can_still_sign_out(client, people, require_mfa):
    client.force_login(people.referrer_a)

    assert client.get("/accounts/logout/").status_code == 200
    assert client.post(reverse("account_logout")).status_code == 302
    assert signed_in_user_id(client) is None


def test_mfa_requirement_does_not_apply_to_anonymous_visitors(client, db, require_mfa):
    response = client.get("/")

    assert response.status_code == 302
    assert response.url.startswith(LOGIN_URL)


def test_home_reachable_once_totp_is_active(client, people, require_mfa):
    TOTP.activate(people.referrer_a, generate_totp_secret())
    client.force_login(people.referrer_a)

    assert client.get("/").status_code == 200


def test_activating_totp_through_the_page_unlocks_home_and_recovery_codes(
    client, people, require_mfa
):
    sign_in(client, people.referrer_a)
    assert client.get("/").url == reverse("mfa_activate_totp")
    reauthenticate(client)
    activation_page = client.get(reverse("mfa_activate_totp"))
    assert activation_page.status_code == 200
    secret = client.session[SECRET_SESSION_KEY]

    response = client.post(reverse("mfa_activate_totp"), {"code": totp_code(secret)})

    assert response.status_code == 302
    assert Authenticator.objects.filter(
        user=people.referrer_a, type=Authenticator.Type.TOTP
    ).exists()
    assert client.get("/").status_code == 200
    assert client.get(reverse("mfa_view_recovery_codes")).status_code == 200


def test_mfa_pages_ask_for_the_password_again_before_changes(client, people, require_mfa):
    sign_in(client, people.referrer_a)

    response = client.get(reverse("mfa_activate_totp"))

    assert response.status_code == 302
    assert response.url.startswith(reverse("account_reauthenticate"))
    assert client.get(response.url).status_code == 200


def test_activating_totp_with_a_wrong_code_changes_nothing(client, people, require_mfa):
    sign_in(client, people.referrer_a)
    reauthenticate(client)
    client.get(reverse("mfa_activate_totp"))

    response = client.post(reverse("mfa_activate_totp"), {"code": "000000"})

    assert response.status_code == 200
    assert not Authenticator.objects.filter(user=people.referrer_a).exists()
    assert client.get("/").status_code == 302


def test_recovery_codes_page_reachable_once_mfa_is_on(client, people, require_mfa):
    TOTP.activate(people.referrer_a, generate_totp_secret())
    RecoveryCodes.activate(people.referrer_a)
    client.force_login(people.referrer_a)
    reauthenticate(client)

    page = client.get(reverse("mfa_view_recovery_codes"))

    assert page.status_code == 200
    assert (
        RecoveryCodes(Authenticator.objects.get(user=people.referrer_a, type="recovery_codes"))
        .get_unused_codes()[0]
        .encode()
        in page.content
    )
    assert client.get(reverse("mfa_index")).status_code == 200


def test_sign_in_with_totp_asks_for_the_code_before_signing_in(client, people):
    secret = generate_totp_secret()
    TOTP.activate(people.referrer_a, secret)

    response = sign_in(client, people.referrer_a)

    assert response.status_code == 302
    assert response.url == reverse("mfa_authenticate")
    assert signed_in_user_id(client) is None

    response = client.post(reverse("mfa_authenticate"), {"code": totp_code(secret)})

    assert response.status_code == 302
    assert response.url == "/"
    assert signed_in_user_id(client) == str(people.referrer_a.pk)


def test_sign_in_page_does_not_offer_self_sign_up(client, db):
    page = client.get(LOGIN_URL).content.decode()
    assert "sign up" not in page.lower()
    assert reverse("account_signup") not in page


def test_staff_with_an_unverified_address_can_still_enrol_totp(client, people, require_mfa):
    """Addresses come from admins, so enrolment must not wait on email verification."""
    from allauth.account.models import EmailAddress

    EmailAddress.objects.create(
        user=people.referrer_a, email=people.referrer_a.email, verified=False, primary=True
    )
    sign_in(client, people.referrer_a)
    reauthenticate(client)

    page = client.get(reverse("mfa_activate_totp"))

    assert page.status_code == 200
    assert SECRET_SESSION_KEY in client.session
