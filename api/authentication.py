"""Who is calling: an OAuth2 client-credentials token, resolved to its client's system user.

django-oauth-toolkit stores a client-credentials token without a user; the request acts as the
client's system user (ADR 0006), so every permission rule applies as for a person of that
organisation. A revoked client, or one of an inactive organisation, is refused even with a token
that has not expired yet.
"""

from typing import Any

from oauth2_provider.contrib.rest_framework import OAuth2Authentication
from rest_framework.exceptions import AuthenticationFailed

from accounts.api_clients import active_client_for


class ClientTokenAuthentication(OAuth2Authentication):
    www_authenticate_realm = "api"

    def authenticate(self, request: Any) -> tuple[Any, Any] | None:
        found = super().authenticate(request)
        if found is None:
            return None
        _, token = found
        client = active_client_for(token.application) if token.application_id else None
        if client is None or not client.user.is_active:
            raise AuthenticationFailed("This client is revoked or its organisation is inactive.")
        return client.user, token
