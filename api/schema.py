"""The OpenAPI document's security: the client-credentials flow and, per operation, the scope it
needs (read from the same `required_scope` the permission check uses, so the two cannot differ).
Imported by `ApiConfig.ready`, which registers the extension with drf-spectacular."""

from typing import Any

from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.settings import spectacular_settings

from accounts.models import ApiScope

from .permissions import required_scope


class ClientCredentialsScheme(OpenApiAuthenticationExtension):
    target_class = "api.authentication.ClientTokenAuthentication"
    name = "oauth2"

    def get_security_requirement(self, auto_schema: Any) -> dict[str, list[str]]:
        scope = required_scope(auto_schema.view, auto_schema.method)
        return {self.name: [scope] if scope else []}

    def get_security_definition(self, auto_schema: Any) -> dict[str, Any]:
        return {
            "type": "oauth2",
            "description": "OAuth2 client credentials: POST the client id and secret to the token "
            "URL for a bearer token that lasts an hour (docs/api.md).",
            "flows": {
                "clientCredentials": {
                    "tokenUrl": spectacular_settings.OAUTH2_TOKEN_URL,
                    "scopes": dict(ApiScope.choices),
                }
            },
        }
