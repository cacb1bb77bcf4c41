"""The webhook body: a FHIR R4 message Bundle telling the referrer's system what happened.

Shaped after the NHS Booking and Referral Standard (BaRS): a `message` Bundle whose first entry is
a MessageHeader with event `servicerequest-response`, focused on a Task that carries the referral's
FHIR status (`referrals.workflow.FHIR_TASK_STATUS`), the portal's own status as businessStatus and
the coded reason; the Task points at the referrer's ServiceRequest by the referral reference (and
the e-RS UBRN when there is one). A completion or discharge adds the discharge summary
(`referrals.discharge`) as a Composition, referenced from Task.output next to the attendance
counts (planned, then attended, not attended, cancelled and not yet due, which add up to it), and
one Observation per coded outcome score (latest value; baseline, change, minimal important
difference and whether the change is meaningful as components; LOINC first, then SNOMED CT),
which the Composition's outcome section lists; a score no national terminology codes is in the
section's text only. The instructor's recommendations go in their own section: they are written
for the referrer. Attendance, outcomes and recommendations travel only with consent to share
progress.

Deliberately absent: the patient. No name, NHS number or date of birth travels in the message; the
referrer's system already holds the patient against the referral it sent, and matches on the
reference. Free-text timeline notes stay in the portal too, as they may hold clinical detail
meant for colleagues; the discharge recommendations are the one free text written for the
referrer, and travel in the discharge summary.

Built as plain dicts and validated with `fhir.resources` (R4B models, which match R4 for these
resources) before they are stored, so a malformed message fails in the transaction that writes it,
not hours later in a worker.
"""

import json
import uuid
from decimal import Decimal
from urllib.parse import urlsplit

from django.conf import settings
from django.utils.html import escape
from fhir.resources.R4B.bundle import Bundle

from accounts.models import OrganisationKind
from clinical.fhir_systems import (
    BARS_MESSAGE_EVENTS,
    ODS_ORGANISATION,
    SNOMED,
    UBRN,
    portal_system,
    quantity,
)
from clinical.reasons import CancelReason, DeclineReason, DischargeReason
from referrals.booking import next_booked_session
from referrals.discharge import (
    ENDING_ACTIONS,
    DischargeSummary,
    OutcomeChange,
    discharge_summary_for,
)
from referrals.models import Referral, ReferralEvent, Status
from referrals.workflow import FHIR_TASK_STATUS

# SNOMED CT 373942005 |Discharge summary (record artifact)|
DISCHARGE_SUMMARY_CODE = "373942005"

# The portal's code systems for what a Task produced and how an outcome changed (published at
# /fhir/CodeSystem/task-output and /fhir/CodeSystem/outcome-change).
TASK_OUTPUTS = {
    "first-session": "First session",
    "first-session-location": "Where the first session is",
    "sessions-planned": "Sessions planned",
    "sessions-attended": "Sessions attended",
    "sessions-missed": "Sessions not attended",
    "sessions-cancelled": "Sessions cancelled",
    "sessions-not-yet-due": "Sessions not yet due",
    "sessions-not-recorded": "Sessions with attendance not recorded",
    "discharge-summary": "Discharge summary",
}
OUTCOME_CHANGE = {
    "baseline": "Baseline value",
    "change-from-baseline": "Change from baseline",
    "minimal-important-difference": "Minimal important difference",
    "meaningful-change": "Meaningful change",
}
REASON_CODE_SYSTEMS = {
    "decline": ("decline-reason", DeclineReason),
    "discharge": ("discharge-reason", DischargeReason),
    "cancel": ("cancel-reason", CancelReason),
}


def organisation_reference(organisation) -> dict:
    system = (
        portal_system("Id/organisation-code")
        if organisation.kind == OrganisationKind.LEISURE_OPERATOR
        else ODS_ORGANISATION
    )
    return {
        "type": "Organization",
        "identifier": {"system": system, "value": organisation.code},
        "display": organisation.name,
    }


def service_request_reference(referral: Referral) -> dict:
    return {
        "type": "ServiceRequest",
        "identifier": {
            "system": portal_system("Id/referral-reference"),
            "value": referral.reference,
        },
        "display": f"Exercise referral {referral.reference}",
    }


def status_reason(event: ReferralEvent) -> dict | None:
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


def _output(code: str, **value) -> dict:
    display = TASK_OUTPUTS[code]
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


def _quantity(value: Decimal, unit: str) -> dict:
    number: int | float = int(value) if value == value.to_integral_value() else float(value)
    return quantity(number, unit)


def _change_component(code: str, **value: object) -> dict:
    display = OUTCOME_CHANGE[code]
    return {
        "code": {
            "coding": [
                {
                    "system": portal_system("CodeSystem/outcome-change"),
                    "code": code,
                    "display": display,
                }
            ],
            "text": display,
        },
        **value,
    }


def outcome_observation(outcome: OutcomeChange, referral: Referral) -> dict:
    """One outcome as an Observation: the latest value (the baseline when measured once), with
    the baseline, the change, the minimal important difference and the verdict as components.
    No subject: the referral reference identifies the patient to the referrer (module note)."""
    measured_once = outcome.latest is None or outcome.latest_on is None
    value = outcome.baseline if measured_once else outcome.latest
    when = outcome.baseline_on if measured_once else outcome.latest_on
    code: dict = {"text": outcome.name}
    if outcome.codings:
        code["coding"] = [
            {"system": system, "code": code_value, **({"display": display} if display else {})}
            for system, code_value, display in outcome.codings
        ]
    components = []
    if outcome.baseline is not None and not measured_once:
        components.append(
            _change_component(
                "baseline",
                valueQuantity=_quantity(outcome.baseline, outcome.unit),
            )
        )
    if outcome.change is not None:
        components.append(
            _change_component(
                "change-from-baseline",
                valueQuantity=_quantity(outcome.change, outcome.unit),
            )
        )
    if outcome.threshold is not None:
        components.append(
            _change_component(
                "minimal-important-difference",
                valueQuantity=_quantity(outcome.threshold.quantize(Decimal("0.01")), outcome.unit),
            )
        )
    if outcome.meaningful is not None:
        components.append(_change_component("meaningful-change", valueBoolean=outcome.meaningful))
    observation: dict = {
        "resourceType": "Observation",
        "status": "final",
        "code": code,
        "basedOn": [service_request_reference(referral)],
        "note": [{"text": f"{outcome.verdict}. {outcome.direction_text}."}],
    }
    if value is not None:
        observation["valueQuantity"] = _quantity(value, outcome.unit)
    if when is not None:
        observation["effectiveDateTime"] = when.isoformat()
    if components:
        observation["component"] = components
    return observation


def _empty_reason(code: str = "unavailable") -> dict:
    return {
        "emptyReason": {
            "coding": [
                {"system": "http://terminology.hl7.org/CodeSystem/list-empty-reason", "code": code}
            ]
        }
    }


def discharge_composition(
    summary: DischargeSummary,
    referral: Referral,
    when: str,
    observation_references: list[str],
    *,
    shares_progress: bool,
) -> dict:
    """The letter's sections as a Composition; the outcome section points at the Observations.
    Without consent to share progress, only the ending goes back."""
    withheld = "Not shared: the patient has not consented to sharing their progress."
    if shares_progress:
        outcome_section: dict = {
            "title": "Outcome measures",
            "text": _narrative(
                *([o.sentence for o in summary.outcomes] or [f"{summary.outcome_text}."])
            ),
        }
        if observation_references:
            outcome_section["entry"] = [
                {"reference": reference, "type": "Observation"}
                for reference in observation_references
            ]
        else:
            outcome_section.update(_empty_reason())
        progress_sections = [
            {"title": "Attendance", "text": _narrative(summary.attendance_text)},
            outcome_section,
            {
                "title": "Safety alerts and incidents",
                "text": _narrative(
                    *([e.sentence for e in summary.safety_events] or [f"{summary.safety_text}."])
                ),
            },
            {
                "title": "Recommendations",
                "text": _narrative(summary.recommendations_text),
            },
        ]
    else:
        progress_sections = [
            {
                "title": "Attendance and outcomes",
                "text": _narrative(withheld),
                **_empty_reason("withheld"),
            }
        ]
    return {
        "resourceType": "Composition",
        "status": "final",
        "type": {
            "coding": [
                {"system": SNOMED, "code": DISCHARGE_SUMMARY_CODE, "display": "Discharge summary"}
            ]
        },
        "date": when,
        "author": [organisation_reference(referral.operator)],
        "title": f"Exercise referral {referral.reference}: discharge summary",
        "section": [
            {"title": "Ending", "text": _narrative(summary.ending_text)},
            *progress_sections,
        ],
    }


def first_session_outputs(referral: Referral, event: ReferralEvent) -> list[dict]:
    """A booking's Task.output: when the first session is, and the centre (no patient data)."""
    first = next_booked_session(referral, after=event.created_at)
    if first is None:
        return []
    outputs = [_output("first-session", valueDateTime=first.at.isoformat())]
    if first.centre is not None:
        outputs.append(
            _output(
                "first-session-location",
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


def attendance_outputs(summary: DischargeSummary) -> list[dict]:
    """Attendance in Task.output: planned, then each part of it (they add up to planned)."""
    tally = summary.attendance
    outputs = [
        _output("sessions-planned", valueInteger=tally.planned),
        _output("sessions-attended", valueInteger=tally.attended),
        _output("sessions-missed", valueInteger=tally.did_not_attend),
        _output("sessions-cancelled", valueInteger=tally.cancelled),
        _output("sessions-not-yet-due", valueInteger=tally.not_yet_due),
    ]
    if tally.not_recorded:
        outputs.append(
            _output(
                "sessions-not-recorded",
                valueInteger=tally.not_recorded,
            )
        )
    return outputs


def task_resource(
    referral: Referral,
    event: ReferralEvent,
    *,
    task_id: str,
    summary: DischargeSummary | None = None,
    summary_reference: str = "",
) -> dict:
    """The referral's Task as `event` left it: FHIR status, the portal's status as
    businessStatus, the coded reason, and what the event produced (the first session of a
    booking; the attendance and the discharge summary, at `summary_reference`, of an ending).
    The webhook sends it and `/fhir/Task` serves it: one shape for both."""
    status = event.to_status or referral.status
    identifiers = [{"system": portal_system("Id/referral-reference"), "value": referral.reference}]
    if referral.ubrn:
        identifiers.append({"system": UBRN, "value": referral.ubrn})
    task: dict = {
        "resourceType": "Task",
        "id": task_id,
        "identifier": identifiers,
        "basedOn": [service_request_reference(referral)],
        "focus": service_request_reference(referral),
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
        "lastModified": event.created_at.isoformat(),
        "requester": organisation_reference(referral.referring_organisation),
    }
    if referral.operator is not None:
        task["owner"] = organisation_reference(referral.operator)
    reason = status_reason(event)
    if reason is not None:
        task["statusReason"] = reason
    if event.action == "book" and (first_session := first_session_outputs(referral, event)):
        task["output"] = first_session
    if summary_reference:
        # The summary's attendance counts travel when it is at hand (the message of the ending);
        # a reader of the Task alone finds them in the Composition it points at.
        task["output"] = [
            *(
                attendance_outputs(summary)
                if summary is not None and referral.shares_progress
                else []
            ),
            _output(
                "discharge-summary",
                valueReference={"reference": summary_reference, "type": "Composition"},
            ),
        ]
    return task


def bundle_for_update(
    *, message_id: uuid.UUID, event: ReferralEvent, referral: Referral, destination: str
) -> dict:
    """The validated FHIR message for one timeline event, as JSON-ready data."""
    when = event.created_at.isoformat()
    header_id, task_id, summary_id = (str(uuid.uuid4()) for _ in range(3))
    entries = []
    summary = None
    if event.action in ENDING_ACTIONS:
        summary = discharge_summary_for(referral, event)
        shares_progress = referral.shares_progress
        observations = (
            {
                str(uuid.uuid4()): outcome_observation(o, referral)
                for o in summary.outcomes
                if o.codings  # an uncoded score is in the summary's text only
            }
            if shares_progress
            else {}
        )
        composition = discharge_composition(
            summary,
            referral,
            when,
            [f"urn:uuid:{id_}" for id_ in observations],
            shares_progress=shares_progress,
        )
        entries.append(
            {"fullUrl": f"urn:uuid:{summary_id}", "resource": {"id": summary_id, **composition}}
        )
        entries.extend(
            {"fullUrl": f"urn:uuid:{id_}", "resource": {"id": id_, **observation}}
            for id_, observation in observations.items()
        )
    task = task_resource(
        referral,
        event,
        task_id=task_id,
        summary=summary,
        summary_reference=f"urn:uuid:{summary_id}" if summary is not None else "",
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
                "receiver": organisation_reference(referral.referring_organisation),
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
        header["sender"] = organisation_reference(referral.operator)
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
