"""The portal's own code systems, served as CodeSystem resources at `/fhir/CodeSystem/<name>`.

Each `url` is the system the codes carry in every resource and message
(`clinical.fhir_systems.portal_system`), and each is built from the one place its codes are
defined, so a code the portal sends is always one it publishes."""

from django.db.models.enums import ChoicesType

from clinical.conditions import Exclusion
from clinical.fhir_systems import portal_canonical
from delivery.fhir_messages import OUTCOME_CHANGE, REASON_CODE_SYSTEMS, TASK_OUTPUTS
from delivery.notifications import HEADLINES
from outcomes.models import Timepoint
from referrals.models import ConsentPurpose, RiskTier, Status

PUBLISHER = "Referral Portal"


def _choices(choices: ChoicesType) -> dict[str, str]:
    """{code: label} of a choices class (any `TextChoices`: the reason enums differ by message)."""
    return {str(code): str(label) for code, label in choices.choices}


# name: (title, description, {code: display})
CODE_SYSTEMS: dict[str, tuple[str, str, dict[str, str]]] = {
    **{
        name: (
            f"{action.title()} reasons",
            f"Why a referral was {'cancelled' if action == 'cancel' else action + 'd'}: "
            "Task.statusReason of the messages and of /fhir/Task.",
            _choices(choices),
        )
        for action, (name, choices) in REASON_CODE_SYSTEMS.items()
    },
    "referral-status": (
        "Referral status",
        "The portal's own status of a referral: Task.businessStatus (Task.status carries the "
        "FHIR status it maps to).",
        _choices(Status),
    ),
    "referral-event": (
        "Referral events",
        "What happened to a referral: MessageHeader.reason of each status update.",
        dict(HEADLINES),
    ),
    "task-output": (
        "Task outputs",
        "What a Task's output is: the first session booked, attendance counts, the discharge "
        "summary.",
        dict(TASK_OUTPUTS),
    ),
    "outcome-change": (
        "Outcome change",
        "The components of an outcome Observation in a discharge summary.",
        dict(OUTCOME_CHANGE),
    ),
    "assessment-timepoint": (
        "Assessment timepoints",
        "When in the programme an outcome was measured: an outcome Observation's category.",
        _choices(Timepoint),
    ),
    "safety-exclusion": (
        "Safety exclusions",
        "The hard exclusions of the safety screen (any one stops a referral): the linkIds of "
        "the safety-screen Questionnaire.",
        _choices(Exclusion),
    ),
    "risk-tier": (
        "Risk levels",
        "The patient's risk level, as the referrer judges it.",
        _choices(RiskTier),
    ),
    "consent-purpose": (
        "Consent purposes",
        "What a patient's consent is to: Consent.provision.purpose of an inbound referral.",
        _choices(ConsentPurpose),
    ),
}


def code_system(name: str) -> dict:
    title, description, concepts = CODE_SYSTEMS[name]
    return {
        "resourceType": "CodeSystem",
        "id": name,
        "url": portal_canonical("CodeSystem", name),
        "name": "".join(part.title() for part in name.split("-")),
        "title": title,
        "status": "active",
        "publisher": PUBLISHER,
        "description": description,
        "caseSensitive": True,
        "content": "complete",
        "count": len(concepts),
        "concept": [{"code": code, "display": display} for code, display in concepts.items()],
    }
