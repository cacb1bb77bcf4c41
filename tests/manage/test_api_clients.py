"""The organisation admin's API clients page (issue 12): create with the scopes that fit the
organisation, see the secret once on a page never stored, rotate and revoke; nobody else gets
in; and the client's system user never shows as a member."""

from html import unescape

import pytest
from django.urls import reverse
from oauth2_provider.models import Application

from accounts.api_clients import api_client_create
from accounts.models import ApiClient


def url(name, organisation, *args):
    return reverse(f"manage:{name}", args=[organisation.public_id, *args])


def html(response) -> str:
    return unescape(response.content.decode())


def test_the_admin_creates_a_client_and_sees_its_secret_once(client, people):
    client.force_login(people.admin_x)
    page = html(client.get(url("api_client_create", people.operator_x)))
    assert "Record attendance at sessions" in page and "Read programme reports" in page

    response = client.post(
        url("api_client_create", people.operator_x),
        {"name": "Leisure management system", "scopes": ["referrals:read", "attendance:write"]},
    )

    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
    created = ApiClient.objects.get(name="Leisure management system")
    shown = html(response)
    assert created.application.client_id in shown
    secret = shown.split('id="client-secret">')[1].split("<")[0]
    assert (
        len(secret) > 40
        and secret != Application.objects.get(pk=created.application_id).client_secret
    )
    assert "/oauth/token/" in shown
    listing = html(client.get(url("api_clients", people.operator_x)))
    assert "Leisure management system" in listing and secret not in listing
    assert created.created_by == people.admin_x


def test_a_gp_practice_is_offered_only_the_scopes_that_fit_it(client, people):
    client.force_login(people.admin_a)
    page = html(client.get(url("api_client_create", people.practice_a)))
    assert "Record attendance at sessions" not in page

    refused = client.post(
        url("api_client_create", people.practice_a),
        {"name": "GP system", "scopes": ["attendance:write"]},
    )
    assert refused.status_code == 400
    assert "Select a valid choice" in html(refused)
    empty = client.post(url("api_client_create", people.practice_a), {"name": " ", "scopes": []})
    assert "Enter a name for the client" in html(empty)
    assert "Select what the client may do" in html(empty)
    assert not ApiClient.objects.exists()


def test_a_new_secret_and_revoking_ask_first_then_act(client, people):
    issued = api_client_create(
        organisation=people.operator_x, name="LMS", scopes=["referrals:read"], by=None
    )
    client.force_login(people.admin_x)
    rotate = url("api_client_rotate", people.operator_x, issued.client.public_id)
    revoke = url("api_client_revoke", people.operator_x, issued.client.public_id)

    assert "Make a new secret for LMS?" in html(client.get(rotate))
    assert ApiClient.objects.get(pk=issued.client.pk).secret_rotated_at is None
    rotated = client.post(rotate)
    assert rotated.status_code == 200 and "no-store" in rotated["Cache-Control"]
    assert ApiClient.objects.get(pk=issued.client.pk).secret_rotated_at is not None

    assert "Revoke LMS?" in html(client.get(revoke))
    done = client.post(revoke)
    assert done.status_code == 302
    revoked = ApiClient.objects.get(pk=issued.client.pk)
    assert revoked.revoked_by == people.admin_x
    assert "LMS is revoked" in html(client.get(done.url))
    assert "was revoked" in html(client.get(rotate))


@pytest.mark.parametrize(
    ("persona", "status"),
    [("coordinator_x", 403), ("instructor_x", 403), ("referrer_a", 403), ("admin_a", 404)],
)
def test_nobody_but_the_organisations_admins_gets_in(client, people, persona, status):
    issued = api_client_create(
        organisation=people.operator_x, name="LMS", scopes=["referrals:read"], by=None
    )
    client.force_login(getattr(people, persona))
    for name, args in [
        ("api_clients", ()),
        ("api_client_create", ()),
        ("api_client_rotate", (issued.client.public_id,)),
        ("api_client_revoke", (issued.client.public_id,)),
    ]:
        assert client.get(url(name, people.operator_x, *args)).status_code == status
    assert (
        client.post(
            url("api_client_revoke", people.operator_x, issued.client.public_id)
        ).status_code
        == status
    )
    assert ApiClient.objects.get(pk=issued.client.pk).revoked_at is None


def test_another_organisations_client_is_a_404_for_this_admin(client, people):
    theirs = api_client_create(
        organisation=people.operator_y, name="LMS", scopes=["referrals:read"], by=None
    )
    client.force_login(people.admin_x)
    response = client.post(url("api_client_revoke", people.operator_x, theirs.client.public_id))
    assert response.status_code == 404
    assert ApiClient.objects.get(pk=theirs.client.pk).revoked_at is None


def test_a_clients_system_user_is_not_listed_or_counted_as_a_member(client, people):
    issued = api_client_create(
        organisation=people.operator_x, name="LMS", scopes=["referrals:read"], by=None
    )
    client.force_login(people.admin_x)

    members = html(client.get(url("members", people.operator_x)))
    assert issued.client.user.email not in members
    index = client.get(reverse("manage:index"))
    organisation = next(o for o in index.context["organisations"] if o.pk == people.operator_x.pk)
    assert organisation.api_client_count == 1
    assert "1 in use" in html(index)
