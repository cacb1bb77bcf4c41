"""The CapabilityStatement: exactly what `/fhir/` supports, read from the registry, so it cannot
claim a type, parameter or include the server does not serve."""

from django.conf import settings
from django.urls import reverse

from clinical.fhir_systems import portal_canonical

from .registry import RESOURCE_TYPES

RELEASED = "2026-12-07"
PROCESS_MESSAGE = "http://hl7.org/fhir/OperationDefinition/MessageHeader-process-message"
OAUTH_URIS = "http://fhir-registry.smarthealthit.org/StructureDefinition/oauth-uris"


def _resource(name: str) -> dict:
    kind = RESOURCE_TYPES[name]
    entry: dict = {
        "type": name,
        "documentation": kind.documentation
        + ("" if kind.scope else " Readable without a token.")
        + (f" Needs the scope {kind.scope}." if kind.scope else ""),
        "interaction": [{"code": "read"}, {"code": "search-type"}],
        "versioning": "no-version",
        "readHistory": False,
        "updateCreate": False,
        "searchParam": [
            {"name": param_name, "type": param.type, "documentation": param.documentation}
            for param_name, param in kind.params.items()
        ],
    }
    if kind.includes:
        entry["searchInclude"] = [include.name for include in kind.includes]
    return entry


def capability_statement() -> dict:
    base = f"{settings.PORTAL_BASE_URL}/fhir"
    return {
        "resourceType": "CapabilityStatement",
        "id": "referral-portal",
        "url": portal_canonical("CapabilityStatement", "referral-portal"),
        "name": "ReferralPortalFhirServer",
        "title": "Referral Portal FHIR R4 server",
        "status": "active",
        "date": RELEASED,
        "publisher": "Referral Portal",
        "description": "Exercise referrals from GP practices and MSK services to leisure "
        "providers: referrals in as BaRS-style messages ($process-message), their status "
        "(Task), outcomes (Observation, QuestionnaireResponse) and discharge summaries "
        "(Composition) out. JSON only.",
        "kind": "instance",
        "software": {"name": "Referral Portal"},
        "implementation": {"description": "Referral Portal", "url": base},
        "fhirVersion": "4.0.1",
        "format": ["json", "application/fhir+json"],
        "rest": [
            {
                "mode": "server",
                "documentation": "Referrals are made only by POST [base]/$process-message "
                "(a BaRS servicerequest-request message): no create, update or delete "
                "interaction, and no transaction or batch. Searches page with _count "
                "(at most 100) and the next link; an unsupported parameter is refused with an "
                "OperationOutcome, never ignored.",
                "security": {
                    "cors": False,
                    "service": [
                        {
                            "coding": [
                                {
                                    "system": "http://terminology.hl7.org/CodeSystem/"
                                    "restful-security-service",
                                    "code": "OAuth",
                                    "display": "OAuth",
                                }
                            ]
                        }
                    ],
                    "description": "OAuth 2.0 client credentials: the organisation's API "
                    "client (the same as /api/v1/) posts to the token endpoint; scopes "
                    "referrals:read, referrals:write (the message) and outcomes:read "
                    "(Observation, QuestionnaireResponse). The metadata, CodeSystems and "
                    "Questionnaires need no token.",
                    "extension": [
                        {
                            "url": OAUTH_URIS,
                            "extension": [
                                {
                                    "url": "token",
                                    "valueUri": f"{settings.PORTAL_BASE_URL}"
                                    f"{reverse('oauth2-token')}",
                                }
                            ],
                        }
                    ],
                },
                "resource": [_resource(name) for name in RESOURCE_TYPES],
                "operation": [
                    {
                        "name": "process-message",
                        "definition": PROCESS_MESSAGE,
                        "documentation": "A BaRS servicerequest-request message Bundle makes "
                        "and submits a referral (scope referrals:write); the answer is a "
                        "response message with the Task. Idempotent on Bundle.identifier.",
                    }
                ],
            }
        ],
        "messaging": [
            {
                "endpoint": [
                    {
                        "protocol": {
                            "system": "http://terminology.hl7.org/CodeSystem/message-transport",
                            "code": "http",
                        },
                        "address": f"{base}/$process-message",
                    }
                ],
                "documentation": "Inbound: BaRS servicerequest-request at $process-message. "
                "Outbound: a servicerequest-response message to the referrer's webhook at each "
                "change of status.",
            }
        ],
    }
