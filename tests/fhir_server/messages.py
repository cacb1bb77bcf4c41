"""A GP system's BaRS-style referral message, as docs/fhir.md shows it: build one, change what a
test is about, send it."""

import copy
import uuid
from typing import Any

from clinical.fhir_systems import (
    BARS_MESSAGE_EVENTS,
    LOINC,
    NHS_NUMBER,
    ODS_ORGANISATION,
    SNOMED,
    portal_system,
)
from fhir_server.resources.questionnaires import safety_screen_canonical
from tests.factories import _nhs_numbers

FHIR_JSON = "application/fhir+json"
HYPERTENSION = "38341003"
PROCESS = "/fhir/$process-message"


def referral_message(people, *, nhs_number: str | None = None, **changes: Any) -> dict:
    """A complete, valid message from practice A to programme X at facility X."""
    sr, pt, bp, qr = (str(uuid.uuid4()) for _ in range(4))
    consents = [str(uuid.uuid4()) for _ in range(3)]
    screen = [
        {"linkId": code, "answer": [{"valueBoolean": False}]}
        for code in (
            "resting_bp_180_100",
            "unstable_angina",
            "uncontrolled_arrhythmia",
            "recent_mi_or_stroke",
            "uncontrolled_heart_failure",
            "acute_illness",
            "uncontrolled_diabetes",
        )
    ]
    screen += [
        {"linkId": "heart-rate-medication", "answer": [{"valueBoolean": False}]},
        {
            "linkId": "risk-tier",
            "answer": [
                {"valueCoding": {"system": portal_system("CodeSystem/risk-tier"), "code": "low"}}
            ],
        },
    ]
    bundle = {
        "resourceType": "Bundle",
        "id": str(uuid.uuid4()),
        "identifier": {
            "system": "https://gp-system.example/message-id",
            "value": str(uuid.uuid4()),
        },
        "type": "message",
        "timestamp": "2026-12-07T09:00:00+00:00",
        "entry": [
            {
                "fullUrl": f"urn:uuid:{uuid.uuid4()}",
                "resource": {
                    "resourceType": "MessageHeader",
                    "id": str(uuid.uuid4()),
                    "eventCoding": {
                        "system": BARS_MESSAGE_EVENTS,
                        "code": "servicerequest-request",
                    },
                    "source": {"endpoint": "https://gp-system.example/fhir"},
                    "focus": [{"reference": f"urn:uuid:{sr}"}],
                },
            },
            {
                "fullUrl": f"urn:uuid:{sr}",
                "resource": {
                    "resourceType": "ServiceRequest",
                    "id": sr,
                    "status": "active",
                    "intent": "order",
                    "priority": "routine",
                    "subject": {"reference": f"urn:uuid:{pt}"},
                    "requester": {
                        "identifier": {"system": ODS_ORGANISATION, "value": people.practice_a.code}
                    },
                    "reasonCode": [{"coding": [{"system": SNOMED, "code": HYPERTENSION}]}],
                    "performer": [
                        {"reference": f"HealthcareService/{people.programme_x.public_id}"}
                    ],
                    "locationReference": [{"reference": f"Location/{people.facility_x.public_id}"}],
                    "supportingInfo": [
                        {"reference": f"urn:uuid:{bp}"},
                        {"reference": f"urn:uuid:{qr}"},
                    ],
                    "note": [{"text": "Keen to start; walks daily."}],
                },
            },
            {
                "fullUrl": f"urn:uuid:{pt}",
                "resource": {
                    "resourceType": "Patient",
                    "id": pt,
                    "identifier": [
                        {"system": NHS_NUMBER, "value": nhs_number or next(_nhs_numbers)}
                    ],
                    "name": [{"use": "official", "family": "Lovelace", "given": ["Ada"]}],
                    "gender": "female",
                    "birthDate": "1970-05-17",
                    "address": [{"use": "home", "postalCode": "LS6 2AB"}],
                    "telecom": [{"system": "phone", "value": "07700 900123"}],
                },
            },
            {
                "fullUrl": f"urn:uuid:{bp}",
                "resource": {
                    "resourceType": "Observation",
                    "id": bp,
                    "status": "final",
                    "code": {"coding": [{"system": LOINC, "code": "85354-9"}]},
                    "subject": {"reference": f"urn:uuid:{pt}"},
                    "effectiveDateTime": "2026-12-01",
                    "component": [
                        {
                            "code": {"coding": [{"system": LOINC, "code": "8480-6"}]},
                            "valueQuantity": {"value": 142, "unit": "mmHg"},
                        },
                        {
                            "code": {"coding": [{"system": LOINC, "code": "8462-4"}]},
                            "valueQuantity": {"value": 88, "unit": "mmHg"},
                        },
                    ],
                },
            },
            {
                "fullUrl": f"urn:uuid:{qr}",
                "resource": {
                    "resourceType": "QuestionnaireResponse",
                    "id": qr,
                    "questionnaire": safety_screen_canonical(),
                    "status": "completed",
                    "subject": {"reference": f"urn:uuid:{pt}"},
                    "item": screen,
                },
            },
            *(
                {
                    "fullUrl": f"urn:uuid:{cid}",
                    "resource": {
                        "resourceType": "Consent",
                        "id": cid,
                        "status": "active",
                        "scope": {
                            "coding": [
                                {
                                    "system": "http://terminology.hl7.org/CodeSystem/consentscope",
                                    "code": "patient-privacy",
                                }
                            ]
                        },
                        "category": [
                            {"coding": [{"system": "http://loinc.org", "code": "59284-0"}]}
                        ],
                        "patient": {"reference": f"urn:uuid:{pt}"},
                        "provision": {
                            "type": "permit",
                            "purpose": [
                                {
                                    "system": portal_system("CodeSystem/consent-purpose"),
                                    "code": purpose,
                                }
                            ],
                        },
                    },
                }
                for cid, purpose in zip(
                    consents, ("referral", "share_progress", "evaluation"), strict=True
                )
            ),
        ],
    }
    for path, value in changes.items():
        set_path(bundle, path, value)
    return bundle


def set_path(bundle: dict, path: str, value: Any) -> None:
    """`set_path(b, "entry.2.resource.birthDate", "1970-13-01")`; the value `DELETE` removes."""
    *parents, last = path.split(".")
    node: Any = bundle
    for part in parents:
        node = node[int(part)] if part.isdigit() else node[part]
    if value is DELETE:
        if last.isdigit():
            del node[int(last)]
        else:
            del node[last]
    elif last.isdigit():
        node[int(last)] = value
    else:
        node[last] = value


DELETE = object()


def changed(bundle: dict, **changes: Any) -> dict:
    copied = copy.deepcopy(bundle)
    for path, value in changes.items():
        set_path(copied, path.replace("__", "."), value)
    return copied


def send(api, bundle: dict):
    return api.post(PROCESS, bundle, format="json")
