"""API clients and tokens for the API tests: `api_as(client_of(org, scopes))` is a DRF client
holding a real token from the real token endpoint."""

from collections.abc import Callable

import pytest
from django.test import Client
from rest_framework.test import APIClient

from accounts.api_clients import IssuedCredentials, api_client_create
from accounts.models import SCOPES_BY_KIND


def token_for(credentials: IssuedCredentials, scope: str | None = None) -> dict:
    """A token from POST /oauth/token/, as an integration gets one."""
    data = {
        "grant_type": "client_credentials",
        "client_id": credentials.client_id,
        "client_secret": credentials.client_secret,
    }
    if scope is not None:
        data["scope"] = scope
    response = Client().post("/oauth/token/", data)
    assert response.status_code == 200, response.content
    return response.json()


@pytest.fixture
def client_of(people) -> Callable[..., IssuedCredentials]:
    def make(organisation, scopes=None, name="Test system") -> IssuedCredentials:
        """A client with `scopes`, by default every scope that fits the organisation's kind."""
        scopes = SCOPES_BY_KIND[organisation.kind] if scopes is None else scopes
        return api_client_create(organisation=organisation, name=name, scopes=scopes, by=None)

    return make


@pytest.fixture
def api_as() -> Callable[..., APIClient]:
    def make(credentials: IssuedCredentials, scope: str | None = None) -> APIClient:
        api = APIClient()
        api.credentials(
            HTTP_AUTHORIZATION=f"Bearer {token_for(credentials, scope)['access_token']}"
        )
        return api

    return make
