"""The discharge summary a referrer files when a programme ends (completed or discharged)."""

import datetime
from dataclasses import dataclass, field

from django.db.models import Count, Q

from clinical.reasons import DischargeReason

from .models import Attendance, Referral, ReferralEvent, Status

ENDING_ACTIONS = frozenset({"complete", "discharge"})
NO_OUTCOMES = "No outcome measures recorded"


@dataclass(frozen=True)
class DischargeSummary:
    reference: str
    status: str
    status_label: str
    ended_at: datetime.datetime
    reason_code: str
    reason_label: str
    sessions_attended: int
    sessions_planned: int
    sessions_missed: int
    sessions_cancelled: int
    # One entry per instrument once the outcomes issue scores assessments; empty until then.
    outcome_changes: list = field(default_factory=list)

    @property
    def outcome_text(self) -> str:
        return NO_OUTCOMES if not self.outcome_changes else ""

    @property
    def attendance_text(self) -> str:
        return (
            f"Attended {self.sessions_attended} of {self.sessions_planned} planned sessions; "
            f"did not attend {self.sessions_missed}."
        )


def discharge_summary_for(
    referral: Referral, event: ReferralEvent | None = None
) -> DischargeSummary:
    """Attendance and the ending of a completed or discharged referral, in two queries."""
    if event is None:
        event = (
            referral.events.filter(action__in=ENDING_ACTIONS).order_by("-created_at", "-id").first()
        )
    counts = referral.sessions.aggregate(
        attended=Count("id", filter=Q(status=Attendance.ATTENDED)),
        missed=Count("id", filter=Q(status=Attendance.DNA)),
        cancelled=Count(
            "id",
            filter=Q(status__in=[Attendance.CANCELLED_PATIENT, Attendance.CANCELLED_PROVIDER]),
        ),
    )
    status = event.to_status if event is not None else referral.status
    if status == Status.COMPLETED:
        reason_code, reason_label = "", "Completed the programme"
    else:
        reason_code = event.reason_code if event is not None else ""
        reason_label = (
            DischargeReason(reason_code).label
            if reason_code in DischargeReason.values
            else "Not recorded"
        )
    return DischargeSummary(
        reference=referral.reference,
        status=status,
        status_label=Status(status).label,
        ended_at=event.created_at if event is not None else referral.status_changed_at,
        reason_code=reason_code,
        reason_label=reason_label,
        sessions_attended=counts["attended"],
        sessions_planned=referral.programme.planned_sessions if referral.programme else 0,
        sessions_missed=counts["missed"],
        sessions_cancelled=counts["cancelled"],
    )
