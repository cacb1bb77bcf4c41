"""The referral state machine (DOMAIN.md, "The referral lifecycle"): the one table of legal moves.

Each action names the states it may start from, the state it leads to, and the permission the actor
needs. The services in `referrals/services.py` apply it; nothing else changes a referral's status.
"""

from dataclasses import dataclass
from typing import TYPE_CHECKING

from accounts.permissions import Permission

from .models import Status

if TYPE_CHECKING:
    from collections.abc import Iterable


class WorkflowError(Exception):
    """A business rule refused the change; nothing was written."""

    code = "workflow_error"

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


class InvalidTransition(WorkflowError):
    code = "invalid_transition"


class ReferralChanged(WorkflowError):
    """Someone else changed the referral since this copy was read (optimistic locking)."""

    code = "referral_changed"

    def __init__(
        self,
        message: str = "This referral changed since you opened it. Reload it and try again.",
    ):
        super().__init__(message)


@dataclass(frozen=True)
class Action:
    name: str
    label: str
    sources: frozenset[str]
    target: str
    permission: Permission


def _action(
    name: str, label: str, sources: "Iterable[str]", target: str, permission: Permission
) -> Action:
    return Action(name, label, frozenset(sources), target, permission)


S = Status
ACTIONS: dict[str, Action] = {
    a.name: a
    for a in [
        _action("submit", "Submit", [S.DRAFT], S.SUBMITTED, Permission.REFERRAL_SUBMIT),
        _action("accept", "Accept", [S.SUBMITTED], S.ACCEPTED, Permission.REFERRAL_TRIAGE),
        _action("decline", "Decline", [S.SUBMITTED], S.DECLINED, Permission.REFERRAL_TRIAGE),
        _action(
            "request_info",
            "Request information",
            [S.SUBMITTED],
            S.INFO_REQUESTED,
            Permission.REFERRAL_TRIAGE,
        ),
        _action(
            "answer_info",
            "Answer information request",
            [S.INFO_REQUESTED],
            S.SUBMITTED,
            Permission.REFERRAL_ANSWER_INFO,
        ),
        _action(
            "waitlist",
            "Add to waiting list",
            [S.ACCEPTED],
            S.WAITLISTED,
            Permission.REFERRAL_TRIAGE,
        ),
        _action("book", "Book", [S.ACCEPTED, S.WAITLISTED], S.BOOKED, Permission.REFERRAL_BOOK),
        _action(
            "start", "Record first attendance", [S.BOOKED], S.ACTIVE, Permission.SESSION_RECORD
        ),
        _action("complete", "Complete", [S.ACTIVE], S.COMPLETED, Permission.REFERRAL_COMPLETE),
        _action(
            "discharge",
            "Discharge",
            [S.ACCEPTED, S.WAITLISTED, S.BOOKED, S.ACTIVE],
            S.DISCHARGED,
            Permission.REFERRAL_DISCHARGE,
        ),
        # Withdrawal by the referrer (or for the patient) and by the operator share one move.
        _action(
            "cancel",
            "Cancel",
            [S.SUBMITTED, S.INFO_REQUESTED, S.ACCEPTED, S.WAITLISTED, S.BOOKED],
            S.CANCELLED,
            Permission.REFERRAL_CANCEL,
        ),
    ]
}


# States in which a referral holds a place in its class (the waiting list holds none).
PLACE_HOLDERS = frozenset({S.ACCEPTED, S.BOOKED, S.ACTIVE})

# The allowed moves as a set of (from, to) pairs: DOMAIN.md's table, derived from ACTIONS.
ALLOWED_MOVES = frozenset((source, a.target) for a in ACTIONS.values() for source in a.sources)

# FHIR Task.status for each state (BaRS), used by the webhook and FHIR interfaces.
FHIR_TASK_STATUS = {
    S.DRAFT: "draft",
    S.SUBMITTED: "requested",
    S.INFO_REQUESTED: "on-hold",
    S.ACCEPTED: "accepted",
    S.WAITLISTED: "accepted",
    S.BOOKED: "accepted",
    S.ACTIVE: "in-progress",
    S.COMPLETED: "completed",
    S.DECLINED: "rejected",
    S.DISCHARGED: "failed",
    S.CANCELLED: "cancelled",
}

# The referrer's request as a FHIR ServiceRequest sees it: in force until the programme ends.
FHIR_SERVICE_REQUEST_STATUS = {
    S.DRAFT: "draft",
    S.SUBMITTED: "active",
    S.INFO_REQUESTED: "on-hold",
    S.ACCEPTED: "active",
    S.WAITLISTED: "active",
    S.BOOKED: "active",
    S.ACTIVE: "active",
    S.COMPLETED: "completed",
    S.DECLINED: "revoked",
    S.DISCHARGED: "revoked",
    S.CANCELLED: "revoked",
}


def check_transition(status: str, action: Action) -> None:
    if status not in action.sources:
        current = Status(status).label.lower()
        raise InvalidTransition(
            f"A referral that is {current} cannot be moved by '{action.label.lower()}'."
        )


def actions_available_from(status: str) -> list[Action]:
    return [a for a in ACTIONS.values() if status in a.sources]


# Which events tell the referrer about the referral itself (always shared), and which about the
# patient's progress (shared only while the patient's consent to share progress stands). The one
# home of that split: notifications, delivery and consent withdrawal all read it from here.
REFERRAL_EVENTS = frozenset({"submit", "accept", "decline", "request_info", "waitlist", "cancel"})
# A safety alert (`referrals/alerts.py`) is news of the patient's progress like the rest: the
# provider's staff act on it at once; the referrer hears of it with consent to share progress.
PROGRESS_EVENTS = frozenset({"book", "start", "dna", "complete", "discharge", "safety_alert"})
