"""The OpenAPI document's security: the client-credentials flow and, per operation, the scope it
needs (read from the same `required_scope` the permission check uses, so the two cannot differ).
Imported by `ApiConfig.ready`, which registers the extensions with drf-spectacular. Also: strict
bodies say they refuse unknown fields, and the links from a new draft to the calls that follow it
(`referral_links`, a postprocessing hook)."""

from typing import Any

from drf_spectacular.extensions import OpenApiAuthenticationExtension, OpenApiSerializerExtension
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


class StrictBody(OpenApiSerializerExtension):
    """A body that refuses fields it does not know (`StrictSerializer`) says so:
    `additionalProperties: false`, so a client generated from the document cannot send one."""

    target_class = "api.serializers_writes.StrictSerializer"
    match_subclasses = True

    def map_serializer(self, auto_schema: Any, direction: Any) -> dict[str, Any]:
        schema: dict[str, Any] = auto_schema._map_serializer(
            self.target, direction, bypass_extensions=True
        )
        schema["additionalProperties"] = False
        return schema


# --- Links between the draft operations (OpenAPI 3 "links"; drf-spectacular has no decorator) --

REFERENCE = {"reference": "$response.body#/reference"}
# A write names the version it read: the ETag of the response it follows.
AT_VERSION = {**REFERENCE, "header.If-Match": "$response.header.ETag"}
READ = ("referrals_retrieve", REFERENCE, "Read the referral.")
UPDATE = ("referral_update_draft", AT_VERSION, "Change the draft, at the version just returned.")
SUBMIT = ("referral_submit", AT_VERSION, "Send the draft, at the version just returned.")
# operationId: (the status whose response links, {link name: (target operationId, parameters,
# description)})
LINKS: dict[str, tuple[str, dict[str, tuple[str, dict[str, str], str]]]] = {
    "referral_create_draft": (
        "201",
        {"ReadDraft": READ, "UpdateDraft": UPDATE, "SubmitDraft": SUBMIT},
    ),
    "referrals_retrieve": ("200", {"UpdateDraft": UPDATE, "SubmitDraft": SUBMIT}),
    "referral_update_draft": (
        "200",
        {"ReadDraft": READ, "UpdateDraft": UPDATE, "SubmitDraft": SUBMIT},
    ),
}
ETAG_HEADER = {
    "description": 'The referral\'s version, like "3": send it back as If-Match to change it.',
    "schema": {"type": "string"},
    "required": True,
}
LOCATION_HEADER = {
    "description": "The new referral's URL.",
    "schema": {"type": "string"},
    "required": True,
}


def referral_links(result: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
    """drf-spectacular postprocessing hook (SPECTACULAR_SETTINGS): the links from a draft's
    creation to reading, changing and sending it, and the ETag (and Location) headers they
    follow, so a client, and the stateful tests, can walk from one call to the next."""
    operations = {
        operation["operationId"]: operation
        for methods in result["paths"].values()
        for operation in methods.values()
        if isinstance(operation, dict) and "operationId" in operation
    }
    for operation_id, (status, links) in LINKS.items():
        response = operations[operation_id]["responses"][status]
        response["links"] = {
            name: {"operationId": target, "parameters": parameters, "description": description}
            for name, (target, parameters, description) in links.items()
        }
        response["headers"] = {"ETag": ETAG_HEADER}
        if status == "201":
            response["headers"]["Location"] = LOCATION_HEADER
    return result


RETRY_AFTER_HEADER = {
    "description": "Seconds to wait before the next call.",
    "schema": {"type": "integer", "minimum": 0},
    "required": True,
}


def throttled_responses(result: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
    """drf-spectacular postprocessing hook: every call counts against the client's budget
    (`api.throttling`), so every operation may answer 429 with Retry-After; said once here
    rather than on each view."""
    for methods in result["paths"].values():
        for operation in methods.values():
            if isinstance(operation, dict) and operation.get("security"):
                operation["responses"]["429"] = {
                    "description": "Over the client's request budget: wait Retry-After seconds.",
                    "headers": {"Retry-After": RETRY_AFTER_HEADER},
                    "content": {
                        "application/problem+json": {
                            "schema": {"$ref": "#/components/schemas/Problem"}
                        }
                    },
                }
    return result
