"""API clients (issue 12, ADR 0006): made by the command or the service, tokens from the token
endpoint that expire in an hour and carry only the client's scopes, revoked and rotated at once,
and every call acting as the client's organisation under the people's rules."""

import datetime
import io
import json

import pytest
from django.core.management import CommandError, call_command
from django.test import Client
from django.utils import timezone
from oauth2_provider.models import AccessToken, Application

from accounts.api_clients import api_client_revoke, api_client_rotate
from accounts.models import ApiClient, Membership, Role
from accounts.permissions import Permission, has_permission
from audit.models import AccessRecord
from referrals.models import Status
from tests.builders import new_draft, referral_in_state

from .conftest import token_for

LIST = "/api/v1/referrals/"


def test_the_command_prints_the_client_id_and_secret_once(people):
    out = io.StringIO()
    call_command(
        "create_api_client",
        "--organisation",
        people.operator_x.code,
        "--name",
        "Leisure management system",
        "--scopes",
        "referrals:read attendance:write",
        stdout=out,
    )

    issued = json.loads(out.getvalue())
    assert set(issued) >= {"client_id", "client_secret"}
    client = ApiClient.objects.get(application__client_id=issued["client_id"])
    assert (client.organisation, client.name) == (people.operator_x, "Leisure management system")
    assert client.scopes == ["referrals:read", "attendance:write"]
    # Stored hashed: the secret printed is not what the database holds.
    assert (
        issued["client_secret"]
        not in Application.objects.get(pk=client.application_id).client_secret
    )
    assert not client.user.has_usable_password()
    assert list(Membership.objects.filter(user=client.user).values_list("role", flat=True)) == [
        Role.SYSTEM
    ]


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (
            ["--organisation", "NOPE", "--name", "x", "--scopes", "referrals:read"],
            "No organisation",
        ),
        (["--organisation", "{code}", "--name", " ", "--scopes", "referrals:read"], "Enter a name"),
        (["--organisation", "{code}", "--name", "x", "--scopes", "admin:all"], "Unknown scope"),
        (["--organisation", "{code}", "--name", "x", "--scopes", " "], "at least one scope"),
    ],
)
def test_the_command_refuses_bad_input_with_a_message(people, arguments, message):
    arguments = [a.format(code=people.operator_x.code) for a in arguments]
    with pytest.raises(CommandError, match=message):
        call_command("create_api_client", *arguments, stdout=io.StringIO())
    assert not ApiClient.objects.exists()


def test_a_token_lasts_an_hour_and_carries_only_the_clients_scopes(people, client_of):
    issued = client_of(people.operator_x, ["referrals:read"])

    token = token_for(issued)
    assert token["expires_in"] == 3600
    assert token["scope"] == "referrals:read"
    refused = Client().post(
        "/oauth/token/",
        {
            "grant_type": "client_credentials",
            "client_id": issued.client_id,
            "client_secret": issued.client_secret,
            "scope": "referrals:read referrals:write",
        },
    )
    assert refused.status_code == 400 and refused.json()["error"] == "invalid_scope"
    wrong_secret = Client().post(
        "/oauth/token/",
        {"grant_type": "client_credentials", "client_id": issued.client_id, "client_secret": "x"},
    )
    assert wrong_secret.status_code == 401


def test_a_system_acts_in_its_organisations_roles_and_never_as_an_admin(people, client_of):
    operator = client_of(people.operator_x).client.user
    practice = client_of(people.practice_a).client.user
    at_x = referral_in_state(people, Status.ACTIVE)

    assert has_permission(operator, Permission.REFERRAL_TRIAGE, at_x)
    assert has_permission(operator, Permission.SESSION_RECORD, at_x)  # at every facility
    assert not has_permission(operator, Permission.REFERRAL_SUBMIT, at_x)
    assert has_permission(practice, Permission.REFERRAL_CANCEL, at_x)
    assert not has_permission(practice, Permission.REFERRAL_TRIAGE, at_x)
    for user in (operator, practice):
        assert not has_permission(user, Permission.ORGANISATION_MANAGE)
    other = client_of(people.operator_y).client.user
    assert not has_permission(other, Permission.REFERRAL_VIEW, at_x)


def test_the_list_is_the_organisations_own_referrals_and_each_read_is_audited(
    people, client_of, api_as
):
    sent_to_x = referral_in_state(people, Status.SUBMITTED)
    draft = new_draft(people)

    operator_api = api_as(client_of(people.operator_x))
    listed = operator_api.get(LIST)
    assert listed.status_code == 200
    assert [r["reference"] for r in listed.json()["results"]] == [sent_to_x.reference]
    record = AccessRecord.objects.latest("at")
    assert (record.kind, record.role, record.organisation) == (
        "api",
        Role.SYSTEM,
        people.operator_x,
    )

    practice_api = api_as(client_of(people.practice_a))
    references = {r["reference"] for r in practice_api.get(LIST).json()["results"]}
    assert references == {sent_to_x.reference, draft.reference}

    other_api = api_as(client_of(people.operator_y))
    assert other_api.get(LIST).json()["results"] == []
    missing = other_api.get(f"{LIST}{sent_to_x.reference}/")
    assert missing.status_code == 404
    assert missing["Content-Type"] == "application/problem+json"
    assert missing.json()["status"] == 404 and "Ada" not in missing.content.decode()


def test_one_referral_carries_its_version_as_an_etag(people, client_of, api_as):
    referral = referral_in_state(people, Status.SUBMITTED)
    response = api_as(client_of(people.operator_x)).get(f"{LIST}{referral.reference}/")

    assert response.status_code == 200
    assert response["ETag"] == f'"{referral.version}"'
    body = response.json()
    assert body["patient"]["nhs_number"] == referral.patient.nhs_number
    assert body["operator"] == {"code": people.operator_x.code, "name": people.operator_x.name}


def test_without_the_scope_without_a_token_or_with_an_expired_one_nothing_is_shown(
    people, client_of, api_as
):
    referral_in_state(people, Status.SUBMITTED)
    issued = client_of(people.operator_x, ["attendance:write"])

    no_scope = api_as(issued).get(LIST)
    assert no_scope.status_code == 403 and "results" not in no_scope.json()
    anonymous = Client().get(LIST)
    assert anonymous.status_code == 401 and anonymous["WWW-Authenticate"].startswith("Bearer")
    assert anonymous["Content-Type"] == "application/problem+json"

    reader = client_of(people.operator_x, ["referrals:read"], name="Reader")
    api = api_as(reader)
    AccessToken.objects.filter(application__api_client=reader.client).update(
        expires=timezone.now() - datetime.timedelta(seconds=1)
    )
    assert api.get(LIST).status_code == 401


def test_a_persons_session_does_not_reach_the_api(client, people):
    client.force_login(people.coordinator_x)
    assert client.get(LIST).status_code == 401


def test_revoking_stops_the_client_at_once_and_rotating_ends_the_old_secret(
    people, client_of, api_as
):
    issued = client_of(people.operator_x)
    api = api_as(issued)
    assert api.get(LIST).status_code == 200

    rotated = api_client_rotate(client=issued.client, by=people.admin_x)
    assert api.get(LIST).status_code == 401  # the token from the old secret is gone
    stale = Client().post(
        "/oauth/token/",
        {
            "grant_type": "client_credentials",
            "client_id": issued.client_id,
            "client_secret": issued.client_secret,
        },
    )
    assert stale.status_code == 401
    api = api_as(rotated)
    assert api.get(LIST).status_code == 200

    api_client_revoke(client=issued.client, by=people.admin_x)
    assert api.get(LIST).status_code == 401
    with pytest.raises(AssertionError):
        token_for(rotated)


def test_only_the_organisations_admins_rotate_or_revoke(people, client_of):
    from django.core.exceptions import PermissionDenied

    issued = client_of(people.operator_x)
    for user in (people.coordinator_x, people.instructor_x, people.admin_a):
        with pytest.raises(PermissionDenied):
            api_client_revoke(client=issued.client, by=user)
    assert ApiClient.objects.get(pk=issued.client.pk).revoked_at is None


def test_the_schema_and_its_docs_are_served_from_this_host(client, db):
    schema = client.get("/api/v1/schema/", HTTP_ACCEPT="application/json")
    assert schema.status_code == 200
    document = json.loads(schema.content)
    assert document["openapi"].startswith("3.")
    assert "/api/v1/referrals/" in document["paths"]
    schemes = document["components"]["securitySchemes"]
    flows = next(iter(schemes.values()))["flows"]
    assert flows["clientCredentials"]["tokenUrl"].endswith("/oauth/token/")

    docs = client.get("/api/v1/docs/")
    assert docs.status_code == 200
    html = docs.content.decode()
    assert "http://" not in html.replace("http://testserver", "") and "https://" not in html


def test_a_client_over_its_budget_gets_a_429_problem_with_retry_after(
    people, client_of, api_as, settings
):
    settings.PORTAL_API_RATE = "3/minute"
    api = api_as(client_of(people.operator_x))
    other = api_as(client_of(people.operator_y))

    assert [api.get(LIST).status_code for _ in range(3)] == [200, 200, 200]
    over = api.get(LIST)
    assert over.status_code == 429
    assert over["Content-Type"] == "application/problem+json"
    assert 0 < int(over["Retry-After"]) <= 60
    assert other.get(LIST).status_code == 200  # a budget per client, not shared


def test_with_the_counter_down_requests_are_served(people, client_of, api_as, monkeypatch):
    from django.core.cache.backends.redis import RedisCache

    unreachable = RedisCache("redis://127.0.0.1:1/0", {"OPTIONS": {"socket_connect_timeout": 1}})
    monkeypatch.setattr("api.throttling.caches", {"api": unreachable})
    api = api_as(client_of(people.operator_x))
    assert api.get(LIST).status_code == 200
