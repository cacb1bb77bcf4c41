"""Every page, printout and export showing patient data carries the hardening headers
(config/security.py): a strict Content-Security-Policy, a Permissions-Policy and no-store."""

import datetime

import pytest
from django.urls import reverse
from django.utils import timezone
from django.utils.html import escape

from config.security import PERMISSIONS_POLICY_FEATURES
from referrals import services
from referrals.models import Status
from tests.builders import referral_in_state
from tests.factories import UserFactory


def csp_directives(response) -> dict[str, list[str]]:
    policy = response["Content-Security-Policy"]
    directives = {}
    for part in policy.split(";"):
        name, *sources = part.split()
        directives[name] = sources
    return directives


def assert_hardened(response) -> None:
    assert response.status_code == 200
    policy = response["Content-Security-Policy"]
    assert "unsafe-inline" not in policy
    assert "unsafe-eval" not in policy
    directives = csp_directives(response)
    assert directives["default-src"] == ["'self'"]
    assert directives["script-src"] == ["'self'"]
    assert directives["style-src"] == ["'self'"]
    assert directives["font-src"] == ["'self'"]
    assert directives["connect-src"] == ["'self'"]
    assert directives["frame-ancestors"] == ["'none'"]
    assert directives["object-src"] == ["'none'"]
    cache_control = {v.strip() for v in response["Cache-Control"].split(",")}
    assert {"no-store", "private"} <= cache_control
    permissions = response["Permissions-Policy"]
    for feature in ("camera", "microphone", "geolocation", "payment", "usb"):
        assert f"{feature}=()" in permissions


@pytest.fixture
def discharged(people):
    referral = referral_in_state(people, Status.ACTIVE)
    services.referral_discharge(
        referral=referral, by=people.coordinator_x, reason="dna_limit", note="Stopped coming"
    )
    referral.refresh_from_db()
    return referral


def test_the_referral_page_is_hardened(client, people):
    referral = referral_in_state(people, Status.SUBMITTED)
    client.force_login(people.referrer_a)

    response = client.get(reverse("referrals:detail", args=[referral.reference]))

    assert escape(referral.patient.family_name) in response.content.decode()  # O'Connor: O&#x27;
    assert_hardened(response)


def test_the_discharge_summary_printout_is_hardened(client, people, discharged):
    client.force_login(people.referrer_a)

    assert_hardened(client.get(reverse("referral_discharge_summary", args=[discharged.reference])))


def test_the_csv_exports_are_hardened(client, people):
    referral_in_state(people, Status.SUBMITTED)
    client.force_login(UserFactory(is_staff=True))
    assert_hardened(client.get(reverse("audit:export")))

    client.force_login(people.commissioner)
    today = timezone.localdate()
    assert_hardened(
        client.get(
            reverse("reports:export_csv"),
            {"date_from": (today - datetime.timedelta(days=30)).isoformat(), "date_to": today},
        )
    )


def test_every_signed_in_page_is_no_store(client, people):
    client.force_login(people.coordinator_x)

    for url in (reverse("home"), reverse("triage:worklist"), reverse("mfa_index")):
        assert "no-store" in client.get(url)["Cache-Control"], url


def test_a_signed_out_page_has_the_policies_too(client, db):
    response = client.get(reverse("account_login"))

    assert "unsafe-inline" not in response["Content-Security-Policy"]
    assert "camera=()" in response["Permissions-Policy"]


def test_static_files_are_left_to_cache(client, db):
    response = client.get("/static/css/portal.css")

    assert "Content-Security-Policy" not in response
    assert "no-store" not in response.get("Cache-Control", "")


def test_an_error_page_has_the_policy_too(client, people):
    client.force_login(people.referrer_a)

    response = client.get("/referrals/ER-NOSUCH/")

    assert response.status_code == 404
    assert "script-src 'self'" in response["Content-Security-Policy"]
    assert "no-store" in response["Cache-Control"]


def test_the_permissions_policy_lists_only_features_browsers_know():
    # An unrecognised feature name is a console error in Chromium, which the browser tests catch;
    # this keeps the list to the plain, lower-case names.
    assert all(f.replace("-", "").isalpha() and f.islower() for f in PERMISSIONS_POLICY_FEATURES)


def test_debug_error_pages_keep_their_inline_styles(client, settings, db):
    settings.DEBUG = True

    response = client.get("/no-such-page/")

    assert response.status_code == 404
    assert "Content-Security-Policy" not in response
    settings.DEBUG = False
    assert "Content-Security-Policy" in client.get("/no-such-page/")
