"""The webhook body: a FHIR R4 message Bundle telling the referrer's system what happened.

Shaped after the NHS Booking and Referral Standard (BaRS): a `message` Bundle whose first entry is
a MessageHeader with event `servicerequest-response`, focused on a Task that carries the referral's
FHIR status (`referrals.workflow.FHIR_TASK_STATUS`), the portal's own status as businessStatus and
the coded reason; the Task points at the referrer's ServiceRequest by the referral reference (and
the e-RS UBRN when there is one). A completion or discharge adds the discharge summary as a
Composition, referenced from Task.output next to the attendance counts.

Deliberately absent: the patient. No name, NHS number or date of birth travels in the message; the
referrer's system already holds the patient against the referral it sent, and matches on the
reference. Free-text notes stay in the portal too, as they may hold clinical detail.

Built as plain dicts and validated with `fhir.resources` (R4B models, which match R4 for these
resources) before they are stored, so a malformed message fails in the transaction that writes it,
not hours later in a worker.
"""

import json
import uuid
from urllib.parse import urlsplit

from django.conf import settings
from django.utils.html import escape
from fhir.resources.R4B.bundle import Bundle

from accounts.models import OrganisationKind
from clinical.reasons import CancelReason, DeclineReason, DischargeReason
from referrals.booking import next_booked_session
from referrals.discharge import ENDING_ACTIONS, DischargeSummary, discharge_summary_for
from referrals.models import Referral, ReferralEvent, Status
from referrals.workflow import FHIR_TASK_STATUS

BARS_MESSAGE_EVENTS = "https://fhir.nhs.uk/CodeSystem/message-events-bars"
ODS_SYSTEM = "https://fhir.nhs.uk/Id/ods-organization-code"
UBRN_SYSTEM = "https://fhir.nhs.uk/Id/UBRN"
SNOMED = "http://snomed.info/sct"
# SNOMED CT 373942005 |Discharge summary (record artifact)|
DISCHARGE_SUMMARY_CODE = "373942005"

REASON_CODE_SYSTEMS = {
    "decline": ("decline-reason", DeclineReason),
    "discharge": ("discharge-reason", DischargeReason),
    "cancel": ("cancel-reason", CancelReason),
}


def portal_system(name: str) -> str:
    """A code system or identifier namespace of this portal, e.g. its referral references."""
    return f"{settings.PORTAL_BASE_URL}/fhir/{name}"


def _organisation_reference(organisation) -> dict:
    system = (
        portal_system("Id/organisation-code")
        if organisation.kind == OrganisationKind.LEISURE_OPERATOR
        else ODS_SYSTEM
    )
    return {
        "type": "Organization",
        "identifier": {"system": system, "value": organisation.code},
        "display": organisation.name,
    }


def _service_request_reference(referral: Referral) -> dict:
    return {
        "type": "ServiceRequest",
        "identifier": {
            "system": portal_system("Id/referral-reference"),
            "value": referral.reference,
        },
        "display": f"Exercise referral {referral.reference}",
    }


def _reason(event: ReferralEvent) -> dict | None:
    if event.action not in REASON_CODE_SYSTEMS or not event.reason_code:
        return None
    name, choices = REASON_CODE_SYSTEMS[event.action]
    label = choices(event.reason_code).label if event.reason_code in choices.values else ""
    coding = {"system": portal_system(f"CodeSystem/{name}"), "code": event.reason_code}
    if label:
        coding["display"] = label
    return {"coding": [coding], "text": label or event.reason_code}


def _narrative(*paragraphs: str) -> dict:
    body = "".join(f"<p>{escape(text)}</p>" for text in paragraphs)
    return {"status": "generated", "div": f'<div xmlns="http://www.w3.org/1999/xhtml">{body}</div>'}


def _output(code: str, display: str, **value) -> dict:
    return {
        "type": {
            "coding": [
                {
                    "system": portal_system("CodeSystem/task-output"),
                    "code": code,
                    "display": display,
                }
            ]
        },
        **value,
    }


def _discharge_composition(summary: DischargeSummary, referral: Referral, when: str) -> dict:
    return {
        "resourceType": "Composition",
        "status": "final",
        "type": {
            "coding": [
                {"system": SNOMED, "code": DISCHARGE_SUMMARY_CODE, "display": "Discharge summary"}
            ]
        },
        "date": when,
        "author": [_organisation_reference(referral.operator)],
        "title": f"Exercise referral {referral.reference}: discharge summary",
        "section": [
            {
                "title": "Ending",
                "text": _narrative(f"{summary.status_label}: {summary.reason_label}."),
            },
            {"title": "Attendance", "text": _narrative(summary.attendance_text)},
            {
                "title": "Outcome measures",
                "text": _narrative(summary.outcome_text or "See the portal."),
                **(
                    {
                        "emptyReason": {
                            "coding": [
                                {
                                    "system": "http://terminology.hl7.org/CodeSystem/list-empty-reason",
                                    "code": "unavailable",
                                }
                            ]
                        }
                    }
                    if not summary.outcome_changes
                    else {}
                ),
            },
        ],
    }


def _first_session_outputs(referral: Referral, event: ReferralEvent) -> list[dict]:
    """A booking's Task.output: when the first session is, and the centre (no patient data)."""
    first = next_booked_session(referral, after=event.created_at)
    if first is None:
        return []
    outputs = [_output("first-session", "First session", valueDateTime=first.at.isoformat())]
    if first.centre is not None:
        outputs.append(
            _output(
                "first-session-location",
                "Where the first session is",
                valueReference={
                    "type": "Location",
                    "identifier": {
                        "system": portal_system("Id/facility"),
                        "value": str(first.centre.public_id),
                    },
                    "display": first.centre.name,
                },
            )
        )
    return outputs


def bundle_for_update(
    *, message_id: uuid.UUID, event: ReferralEvent, referral: Referral, destination: str
) -> dict:
    """The validated FHIR message for one timeline event, as JSON-ready data."""
    when = event.created_at.isoformat()
    status = event.to_status or referral.status
    header_id, task_id, summary_id = (str(uuid.uuid4()) for _ in range(3))
    identifiers = [{"system": portal_system("Id/referral-reference"), "value": referral.reference}]
    if referral.ubrn:
        identifiers.append({"system": UBRN_SYSTEM, "value": referral.ubrn})
    task = {
        "resourceType": "Task",
        "id": task_id,
        "identifier": identifiers,
        "basedOn": [_service_request_reference(referral)],
        "focus": _service_request_reference(referral),
        "status": FHIR_TASK_STATUS[status],
        "businessStatus": {
            "coding": [
                {
                    "system": portal_system("CodeSystem/referral-status"),
                    "code": status,
                    "display": Status(status).label,
                }
            ],
            "text": Status(status).label,
        },
        "intent": "order",
        "authoredOn": (referral.submitted_at or referral.created_at).isoformat(),
        "lastModified": when,
        "requester": _organisation_reference(referral.referring_organisation),
    }
    if referral.operator is not None:
        task["owner"] = _organisation_reference(referral.operator)
    reason = _reason(event)
    if reason is not None:
        task["statusReason"] = reason
    entries = []
    first_session = _first_session_outputs(referral, event) if event.action == "book" else []
    if first_session:
        task["output"] = first_session
    if event.action in ENDING_ACTIONS:
        summary = discharge_summary_for(referral, event)
        task["output"] = [
            _output(
                "sessions-attended", "Sessions attended", valueInteger=summary.sessions_attended
            ),
            _output("sessions-planned", "Sessions planned", valueInteger=summary.sessions_planned),
            _output(
                "sessions-missed", "Sessions not attended", valueInteger=summary.sessions_missed
            ),
            _output(
                "discharge-summary",
                "Discharge summary",
                valueReference={"reference": f"urn:uuid:{summary_id}", "type": "Composition"},
            ),
        ]
        entries.append(
            {
                "fullUrl": f"urn:uuid:{summary_id}",
                "resource": {"id": summary_id, **_discharge_composition(summary, referral, when)},
            }
        )
    destination_parts = urlsplit(destination)
    header = {
        "resourceType": "MessageHeader",
        "id": header_id,
        "eventCoding": {
            "system": BARS_MESSAGE_EVENTS,
            "code": "servicerequest-response",
            "display": "ServiceRequest Response",
        },
        "destination": [
            {
                # Scheme, host and path only: a token in the query string is not repeated here.
                "endpoint": f"{destination_parts.scheme}://{destination_parts.netloc}"
                f"{destination_parts.path}",
                "receiver": _organisation_reference(referral.referring_organisation),
            }
        ],
        "source": {
            "name": "Referral Portal",
            "software": "Referral Portal",
            "endpoint": f"{settings.PORTAL_BASE_URL}/fhir",
        },
        "reason": {
            "coding": [{"system": portal_system("CodeSystem/referral-event"), "code": event.action}]
        },
        "focus": [{"reference": f"urn:uuid:{task_id}", "type": "Task"}],
    }
    if referral.operator is not None:
        header["sender"] = _organisation_reference(referral.operator)
    bundle = {
        "resourceType": "Bundle",
        "id": str(message_id),
        "type": "message",
        "timestamp": when,
        "entry": [
            {"fullUrl": f"urn:uuid:{header_id}", "resource": header},
            {"fullUrl": f"urn:uuid:{task_id}", "resource": task},
            *entries,
        ],
    }
    return json.loads(Bundle.model_validate(bundle).model_dump_json())


def bundle_body(payload: dict) -> str:
    """The exact bytes (as text) POSTed: re-validated and in FHIR's element order.

    The payload comes back from a jsonb column, which does not keep key order; serialising it
    through the model gives the same body on every retry, and a FHIR-ordered one.
    """
    return Bundle.model_validate(payload).model_dump_json()
