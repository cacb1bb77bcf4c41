"""The discharge summary a referrer files when a programme ends (completed or discharged).

One assembly serves the printable letter (`views/discharge.py`) and the FHIR message that goes
back with the ending (`delivery/fhir_messages.py`), so the two never disagree.

`referrals` owns the ending, the attendance and the instructor's recommendations. Outcome
measures belong to `outcomes`, an app above this one: it registers an *outcome source* in its
`AppConfig.ready` (`register_outcome_source`), as apps add sections to the referral page
(`sections.py`, ADR 0004), so the summary lists outcomes without importing up. Safety alerts and
incidents are the referral's own `Alert` records, read directly.

Attendance adds up by construction: every session booked for the patient is in exactly one of
attended, did not attend, cancelled, not yet due or (a past session nobody marked) not recorded,
and "planned" is their sum.
"""

import datetime
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal

from django.db.models import Count, Q
from django.utils import timezone

from clinical.reasons import DischargeReason

from .adherence import Adherence, adherence_for
from .models import Attendance, Referral, ReferralEvent, Status

ENDING_ACTIONS = frozenset({"complete", "discharge"})
NO_OUTCOMES = "No outcome measures were recorded during the programme"
NO_SAFETY_EVENTS = "No safety alerts or incidents were recorded"
NO_RECOMMENDATIONS = "None recorded"


# --- Attendance ----------------------------------------------------------------------------------


def _sessions(count: int) -> str:
    return f"{count} session{'' if count == 1 else 's'}"


@dataclass(frozen=True)
class AttendanceTally:
    """Every session booked for the patient, each counted once."""

    attended: int
    did_not_attend: int
    cancelled_by_patient: int
    cancelled_by_provider: int
    # Of the cancellations: sessions after the programme ended, released by the ending.
    cancelled_after_ending: int
    not_yet_due: int
    # Booked, in the past, and never marked attended or not.
    not_recorded: int
    # What the programme plans for a participant, for comparison (not part of the sum).
    programme_planned: int | None = None
    # Class sessions and self-directed visits counted together (`referrals.adherence`).
    adherence: Adherence | None = None

    @property
    def visits_sentence(self) -> str:
        """The self-directed visits, apart from the sessions, and what counts toward adherence;
        empty when there were none."""
        adherence = self.adherence
        if adherence is None or not adherence.visits:
            return ""
        visits = f"{adherence.visits} self-directed visit{'' if adherence.visits == 1 else 's'}"
        days = f"{adherence.visit_days} day{'' if adherence.visit_days == 1 else 's'}"
        if not adherence.counts_visits:
            return f"{visits} recorded by the centre's systems (the programme does not count them)."
        return (
            f"{visits} recorded by the centre's systems, on {days} without a class; counted "
            f"toward adherence: {adherence.summary}."
        )

    @property
    def cancelled(self) -> int:
        return self.cancelled_by_patient + self.cancelled_by_provider

    @property
    def planned(self) -> int:
        return (
            self.attended
            + self.did_not_attend
            + self.cancelled
            + self.not_yet_due
            + self.not_recorded
        )

    @property
    def sentence(self) -> str:
        """One sentence that adds up: planned = attended + not attended + cancelled + not yet
        due (+ not recorded, named only when there are any)."""
        if self.planned == 0:
            return "No sessions were booked."
        parts = [
            f"{self.attended} attended",
            f"{self.did_not_attend} not attended",
            f"{self.cancelled} cancelled",
            f"{self.not_yet_due} not yet due",
        ]
        if self.not_recorded:
            parts.append(f"{self.not_recorded} with attendance not recorded")
        listed = ", ".join(parts[:-1]) + " and " + parts[-1]
        return f"{_sessions(self.planned)} planned: {listed}."

    @property
    def cancelled_detail(self) -> str:
        if not self.cancelled:
            return ""
        detail = (
            f"{self.cancelled_by_patient} by the patient, "
            f"{self.cancelled_by_provider} by the centre"
        )
        if self.cancelled_after_ending:
            detail += (
                f" (of which {_sessions(self.cancelled_after_ending)} after the programme ended)"
            )
        return detail

    @property
    def rows(self) -> list[tuple[str, str]]:
        """The table: the same figures as the sentence, planned first."""
        rows = [
            ("Sessions planned for the patient", str(self.planned)),
            ("Attended", str(self.attended)),
            ("Did not attend", str(self.did_not_attend)),
            (
                "Cancelled",
                f"{self.cancelled}: {self.cancelled_detail}" if self.cancelled else "0",
            ),
            ("Not yet due", str(self.not_yet_due)),
        ]
        if self.not_recorded:
            rows.append(("Attendance not recorded", str(self.not_recorded)))
        if self.programme_planned is not None and self.programme_planned != self.planned:
            rows.append(("The programme plans", _sessions(self.programme_planned)))
        adherence = self.adherence
        if adherence is not None and adherence.visits:
            rows.append(
                (
                    "Self-directed visits",
                    f"{adherence.visits} on {adherence.visit_days} "
                    f"day{'' if adherence.visit_days == 1 else 's'} without a class"
                    + ("" if adherence.counts_visits else " (not counted by the programme)"),
                )
            )
        if adherence is not None and (adherence.visits or adherence.counts_visits):
            rows.append(("Counted toward adherence", adherence.summary))
        return rows


def attendance_for(
    referral: Referral,
    *,
    ended_at: datetime.datetime | None = None,
    as_of: datetime.datetime | None = None,
) -> AttendanceTally:
    """The referral's sessions counted by outcome (one query) and its adherence (one more).
    `as_of` (now by default) divides booked sessions into not yet due and not recorded;
    `ended_at` finds the cancellations that the ending released."""
    as_of = as_of or timezone.now()
    booked = Q(status=Attendance.BOOKED)
    cancelled = Q(status__in=[Attendance.CANCELLED_PATIENT, Attendance.CANCELLED_PROVIDER])
    aggregates = {
        "attended": Count("id", filter=Q(status=Attendance.ATTENDED)),
        "did_not_attend": Count("id", filter=Q(status=Attendance.DNA)),
        "cancelled_by_patient": Count("id", filter=Q(status=Attendance.CANCELLED_PATIENT)),
        "cancelled_by_provider": Count("id", filter=Q(status=Attendance.CANCELLED_PROVIDER)),
        "not_yet_due": Count("id", filter=booked & Q(scheduled_at__gte=as_of)),
        "not_recorded": Count("id", filter=booked & Q(scheduled_at__lt=as_of)),
    }
    if ended_at is not None:
        aggregates["cancelled_after_ending"] = Count(
            "id", filter=cancelled & Q(scheduled_at__gt=ended_at)
        )
    counts = {"cancelled_after_ending": 0, **referral.sessions.aggregate(**aggregates)}
    programme = referral.programme
    return AttendanceTally(
        **counts,
        programme_planned=programme.planned_sessions if programme else None,
        adherence=adherence_for(referral, attended=counts["attended"]),
    )


# --- Outcomes (filled in by `outcomes`) ----------------------------------------------------------


def format_number(value: Decimal | None, places: int) -> str:
    if value is None:
        return "Not recorded"
    return f"{value:.{places}f}"


@dataclass(frozen=True)
class OutcomeChange:
    """One score of one instrument: baseline, latest, the change and whether it is meaningful.

    `threshold` is the minimal important difference in the score's own units (already worked
    out for this patient when the instrument states it relative to baseline); None when the
    instrument has no agreed one. `higher_is_better` None: no direction is claimed.
    """

    instrument_code: str
    instrument_name: str
    score_code: str
    score_label: str
    unit: str
    places: int
    baseline: Decimal | None
    baseline_timepoint: str
    baseline_on: datetime.date | None
    latest: Decimal | None
    latest_timepoint: str
    latest_on: datetime.date | None
    threshold: Decimal | None
    threshold_text: str
    higher_is_better: bool | None
    # (system, code, display) of each code naming the score, LOINC first, for a FHIR
    # Observation; empty when uncoded.
    codings: tuple[tuple[str, str, str], ...] = ()

    @property
    def change(self) -> Decimal | None:
        if self.baseline is None or self.latest is None:
            return None
        return self.latest - self.baseline

    @property
    def meaningful(self) -> bool | None:
        """The change is at least the minimal important difference, either way; None when
        there is no threshold or nothing to compare yet."""
        if self.threshold is None or self.change is None:
            return None
        return abs(self.change) >= self.threshold

    @property
    def improved(self) -> bool | None:
        if self.change is None or self.higher_is_better is None or self.change == 0:
            return None
        return (self.change > 0) == self.higher_is_better

    @property
    def direction_text(self) -> str:
        if self.higher_is_better is None:
            return "No direction is better for everyone"
        return "Higher is better" if self.higher_is_better else "Lower is better"

    @property
    def verdict(self) -> str:
        if self.change is None:
            return "Measured once: no change to judge"
        if self.meaningful is None:
            return "No agreed threshold for a meaningful change"
        if not self.meaningful:
            return f"Not a meaningful change (less than {self.threshold_text})"
        if self.improved is None:
            return f"Meaningful change (at least {self.threshold_text})"
        return (
            f"Meaningful improvement (at least {self.threshold_text})"
            if self.improved
            else f"Meaningful worsening (at least {self.threshold_text})"
        )

    def _show(self, value: Decimal | None) -> str:
        shown = format_number(value, self.places)
        return f"{shown} {self.unit}" if value is not None and self.unit else shown

    @property
    def baseline_text(self) -> str:
        return self._show(self.baseline)

    @property
    def latest_text(self) -> str:
        return self._show(self.latest)

    @property
    def change_text(self) -> str:
        change = self.change
        if change is None:
            return "Not applicable"
        sign = "+" if change > 0 else ""
        return f"{sign}{self._show(change)}"

    @property
    def name(self) -> str:
        return f"{self.instrument_name}: {self.score_label}"

    @property
    def sentence(self) -> str:
        if self.change is None:
            return (
                f"{self.name}: {self.baseline_text} ({self.baseline_timepoint}); "
                f"{self.verdict[0].lower()}{self.verdict[1:]}."
            )
        return (
            f"{self.name}: {self.baseline_text} ({self.baseline_timepoint}) to "
            f"{self.latest_text} ({self.latest_timepoint}), change {self.change_text}; "
            f"{self.verdict[0].lower()}{self.verdict[1:]}."
        )


OutcomeSource = Callable[[Referral], list[OutcomeChange]]
_outcome_sources: dict[str, OutcomeSource] = {}


def register_outcome_source(name: str, source: OutcomeSource) -> None:
    """Add (or replace, when ready() runs again) the outcome source called `name`."""
    _outcome_sources[name] = source


def outcome_changes_for(referral: Referral) -> list[OutcomeChange]:
    return [change for source in _outcome_sources.values() for change in source(referral)]


# --- Safety alerts and incidents ------------------------------------------------------------------


@dataclass(frozen=True)
class SafetyEvent:
    """An alert or incident as the referrer reads it: what, when, and whether someone acted."""

    raised_on: datetime.date
    kind: str
    severity: str
    acknowledged: bool
    # Who acted and what they did, for the letter; never free text with other people's data.
    action_taken: str = ""

    @property
    def sentence(self) -> str:
        state = (
            f"acknowledged; action taken: {self.action_taken.rstrip('. ')}"
            if self.acknowledged and self.action_taken
            else "acknowledged"
            if self.acknowledged
            else "not yet acknowledged"
        )
        return f"{self.raised_on:%-d %B %Y}: {self.kind} ({self.severity.lower()}), {state}."


def safety_events_for(referral: Referral) -> list[SafetyEvent]:
    """The referral's alerts and incidents, oldest first, as the letter states them."""
    events = []
    for alert in referral.alerts.order_by("raised_at", "pk"):
        kind = alert.get_kind_display()
        if alert.incident_kind:
            kind = f"Incident in a session: {alert.get_incident_kind_display().lower()}"
        events.append(
            SafetyEvent(
                raised_on=timezone.localdate(alert.raised_at),
                kind=kind,
                severity=alert.get_severity_display(),
                acknowledged=alert.acknowledged_at is not None,
                action_taken=alert.action_taken,
            )
        )
    return events


# --- The summary ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class DischargeSummary:
    reference: str
    status: str
    status_label: str
    ended_at: datetime.datetime
    reason_code: str
    reason_label: str
    attendance: AttendanceTally
    outcomes: tuple[OutcomeChange, ...]
    safety_events: tuple[SafetyEvent, ...]
    recommendations: str

    @property
    def attendance_text(self) -> str:
        """The sessions' sentence (which adds up), then the self-directed visits, if any."""
        return " ".join(filter(None, [self.attendance.sentence, self.attendance.visits_sentence]))

    @property
    def outcome_changes(self) -> tuple[OutcomeChange, ...]:
        """The outcomes, under the name callers used before they were listed."""
        return self.outcomes

    @property
    def outcome_text(self) -> str:
        if not self.outcomes:
            return NO_OUTCOMES
        return " ".join(outcome.sentence for outcome in self.outcomes)

    @property
    def safety_text(self) -> str:
        if not self.safety_events:
            return NO_SAFETY_EVENTS
        return " ".join(event.sentence for event in self.safety_events)

    @property
    def recommendations_text(self) -> str:
        return self.recommendations or NO_RECOMMENDATIONS

    @property
    def ending_text(self) -> str:
        if self.reason_label.startswith(self.status_label):  # "Completed the programme"
            return f"{self.reason_label}."
        return f"{self.status_label}: {self.reason_label}."


def ending_event(referral: Referral) -> ReferralEvent | None:
    return referral.events.filter(action__in=ENDING_ACTIONS).order_by("-created_at", "-id").first()


def discharge_summary_for(
    referral: Referral, event: ReferralEvent | None = None
) -> DischargeSummary:
    """The summary of a completed or discharged referral: the ending, attendance, outcomes,
    safety events and recommendations. A fixed number of queries (the ending event, the
    attendance counts, and each registered source's own)."""
    if event is None:
        event = ending_event(referral)
    status = event.to_status if event is not None else referral.status
    ended_at = event.created_at if event is not None else referral.status_changed_at
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
        ended_at=ended_at,
        reason_code=reason_code,
        reason_label=reason_label,
        attendance=attendance_for(referral, ended_at=ended_at),
        outcomes=tuple(outcome_changes_for(referral)),
        safety_events=tuple(safety_events_for(referral)),
        recommendations=referral.discharge_recommendations,
    )
