"""What each referral should have measured, and when; and the rules a programme's schedule obeys.

`programme.outcome_schedule` is a list of {"instrument": code, "timepoints": [timepoint, ...]},
set by the operator's admin on /manage/ (`programme_set_outcome_schedule`, which validates it
with `validate_schedule`). A referral's schedule is its programme's, plus PHQ-9 and GAD-7 at
baseline and exit when a reason for referral is a mental-health condition
(`MENTAL_HEALTH_CONDITIONS`): those measures matter for that patient whatever the programme.

Due dates:
- baseline: on the patient's first booked session (the earliest not cancelled), where the
  baseline is taken; on the booking date only if no such session exists;
- mid: halfway through the programme's weeks after booking;
- exit: at the end of the programme's weeks after booking while the referral is open, or on the
  day it ended (completion or discharge) once it has;
- follow-ups: 3, 6 and 12 months after exit, for completed referrals only (a discharged patient
  left the programme and is not followed up).
Anything not done within GRACE_DAYS of its due date is overdue. A follow-up not done within
FOLLOWUP_MISSED_AFTER_MONTHS of its due date was missed: it is no longer due, as a "3 months
after" answer given years later measures nothing, and by then the next follow-up is due (3 months
is the gap between the 3- and 6-month ones). The instructor's "due" list (`assessments_due`) holds
open referrals only: once a referral has ended, only its follow-ups are chased (`followups_due`).
"""

import calendar
import datetime
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Min, OuterRef, Prefetch, Subquery
from django.utils import timezone

from accounts.permissions import Permission, has_permission
from clinical.conditions import Condition
from facilities.models import Programme
from referrals.models import Attendance, Referral, ReferralEvent, Session, Status
from referrals.selectors import referral_list_for

from . import instruments
from .models import Timepoint

if TYPE_CHECKING:
    from django.db.models import QuerySet

    from accounts.models import User

GRACE_DAYS = 14
FOLLOWUP_MISSED_AFTER_MONTHS = 3
FOLLOWUP_MONTHS: dict[str, int] = {
    Timepoint.FOLLOWUP_3M: 3,
    Timepoint.FOLLOWUP_6M: 6,
    Timepoint.FOLLOWUP_12M: 12,
}
TIMEPOINT_ORDER = {value: index for index, value in enumerate(Timepoint.values)}
# Referrals with anything to schedule: booked onwards, and ended ones with an exit or follow-up.
SCHEDULED_STATES = (Status.BOOKED, Status.ACTIVE, Status.COMPLETED, Status.DISCHARGED)
# Referrals still in the programme: the only ones whose in-programme measures are chased.
OPEN_STATES = (Status.BOOKED, Status.ACTIVE)
DATE_ACTIONS = ("book", "complete", "discharge")

DONE, DUE, OVERDUE, UPCOMING, MISSED = "done", "due", "overdue", "upcoming", "missed"

# Reasons for referral that bring PHQ-9 (depression) and GAD-7 (anxiety) whatever the programme.
MENTAL_HEALTH_CONDITIONS = frozenset({Condition.DEPRESSION, Condition.ANXIETY})
MENTAL_HEALTH_MEASURES = (
    {"instrument": "phq9", "timepoints": [Timepoint.BASELINE, Timepoint.EXIT]},
    {"instrument": "gad7", "timepoints": [Timepoint.BASELINE, Timepoint.EXIT]},
)
STATE_LABELS = {
    DONE: "Done",
    DUE: "Due",
    OVERDUE: "Overdue",
    UPCOMING: "Not due yet",
    MISSED: "Missed",
}
# Sessions that still take place: the baseline is due at the first of them.
CANCELLED = (Attendance.CANCELLED_PATIENT, Attendance.CANCELLED_PROVIDER)


@dataclass(frozen=True)
class ScheduledAssessment:
    referral: Referral
    instrument: str
    instrument_name: str
    timepoint: str
    due_on: datetime.date | None
    state: str

    @property
    def timepoint_label(self) -> str:
        return Timepoint(self.timepoint).label

    @property
    def state_label(self) -> str:
        return STATE_LABELS[self.state]

    @property
    def is_followup(self) -> bool:
        return self.timepoint in FOLLOWUP_MONTHS

    @property
    def is_outstanding(self) -> bool:
        return self.state in {DUE, OVERDUE}


def add_months(day: datetime.date, months: int) -> datetime.date:
    """The same day `months` later, or the month's last day (31 Aug + 6 months = 28/29 Feb)."""
    month_index = day.month - 1 + months
    year, month = day.year + month_index // 12, month_index % 12 + 1
    return day.replace(
        year=year, month=month, day=min(day.day, calendar.monthrange(year, month)[1])
    )


# --- The rules of a schedule ------------------------------------------------------------------


def schedulable_instruments() -> tuple[instruments.Instrument, ...]:
    """The measures an admin may choose: every instrument switched on here."""
    return instruments.all_instruments()


def instrument_label(definition: instruments.Instrument) -> str:
    """A measure's name as people read it: "Six-minute walk test (6MWT)", never its code."""
    short = definition.short_name
    return f"{definition.name} ({short})" if short and short != definition.name else definition.name


def normalise_schedule(schedule: object) -> list[dict[str, Any]]:
    """The schedule in one canonical form: instruments in the registry's order, each once, its
    timepoints in programme order without repeats; entries without timepoints dropped. Anything
    unreadable is left for `validate_schedule` to name."""
    by_code: dict[str, list[str]] = {}
    for entry in schedule if isinstance(schedule, list) else []:
        if not isinstance(entry, dict) or not isinstance(entry.get("instrument"), str):
            continue
        points = entry.get("timepoints")
        chosen = by_code.setdefault(entry["instrument"], [])
        for timepoint in points if isinstance(points, list) else []:
            if isinstance(timepoint, str) and timepoint not in chosen:
                chosen.append(timepoint)
    order = {code: index for index, code in enumerate(instruments.REGISTRY)}
    return [
        {
            "instrument": code,
            "timepoints": sorted(
                points, key=lambda t: TIMEPOINT_ORDER.get(t, len(TIMEPOINT_ORDER))
            ),
        }
        for code, points in sorted(by_code.items(), key=lambda item: order.get(item[0], len(order)))
        if points
    ]


def validate_schedule(schedule: object) -> list[dict[str, Any]]:
    """The schedule, normalised, or a ValidationError whose messages name each measure by name.

    Rules: a list of {"instrument", "timepoints"}; every instrument one this installation offers
    (licence-gated ones only once switched on); every timepoint one of `Timepoint`; and a measure
    taken after baseline is also taken at baseline, because change is measured from baseline.
    """
    if not isinstance(schedule, list) or not all(
        isinstance(entry, dict)
        and isinstance(entry.get("instrument"), str)
        and isinstance(entry.get("timepoints"), list)
        for entry in schedule
    ):
        raise ValidationError(
            "The outcome schedule must list measures, each with its timepoints",
            code="schedule_shape",
        )
    normalised = normalise_schedule(schedule)
    messages = []
    for entry in normalised:
        try:
            definition = instruments.get(entry["instrument"])
        except instruments.UnknownInstrument:
            messages.append(f"{entry['instrument'][:40]!r} is not an outcome measure")
            continue
        name = instrument_label(definition)
        if not definition.enabled:
            messages.append(f"{name} needs a licence that has not been switched on here")
        unknown = [t for t in entry["timepoints"] if t not in TIMEPOINT_ORDER]
        if unknown:
            messages.append(f"{name}: {unknown[0][:40]!r} is not a timepoint")
        elif Timepoint.BASELINE not in entry["timepoints"]:
            messages.append(
                f"{name}: also choose baseline, because change is measured from baseline"
            )
    if messages:
        raise ValidationError(messages, code="schedule_invalid")
    return normalised


def describe_schedule(schedule: object) -> list[tuple[str, list[str]]]:
    """(measure name, [timepoint labels]) for showing a schedule to people: names, never codes.
    A measure no longer offered is shown by its code, marked, rather than hidden."""
    rows = []
    for entry in normalise_schedule(schedule):
        try:
            name = instrument_label(instruments.get(entry["instrument"]))
        except instruments.UnknownInstrument:
            name = f"{entry['instrument']} (no longer offered)"
        labels = [Timepoint(t).label for t in entry["timepoints"] if t in TIMEPOINT_ORDER]
        rows.append((name, labels))
    return rows


def schedule_entries_for(referral: Referral) -> list[dict[str, Any]]:
    """The referral's schedule: its programme's, plus PHQ-9 and GAD-7 at baseline and exit when
    a reason for referral is a mental-health condition."""
    programme = referral.programme
    entries = list(programme.outcome_schedule or []) if programme else []
    if MENTAL_HEALTH_CONDITIONS.intersection(referral.reasons or []):
        entries.extend(MENTAL_HEALTH_MEASURES)
    return normalise_schedule(entries)


def programme_set_outcome_schedule(
    *, programme: Programme, schedule: object, by: "User"
) -> Programme:
    """Replace the programme's outcome schedule: the operator's admins only, validated first.

    The programme's change history (django-pghistory, `governance.ProgrammeEvent`) records the
    old and new schedule with who changed it, as for every other programme field.
    """
    with transaction.atomic():
        locked = Programme.objects.select_for_update().get(pk=programme.pk)
        if not has_permission(by, Permission.FACILITY_MANAGE, locked):
            raise PermissionDenied("Only an admin of this operator can change its programmes.")
        locked.outcome_schedule = validate_schedule(schedule)
        locked.save(update_fields=["outcome_schedule"])
    return locked


# --- A referral's schedule ----------------------------------------------------------------------


def _first_session_at() -> Subquery:
    """When the referral's first session not cancelled is (or was), as a subquery."""
    sessions = Session.objects.filter(referral=OuterRef("pk")).exclude(status__in=CANCELLED)
    return Subquery(
        sessions.order_by().values("referral").annotate(at=Min("scheduled_at")).values("at")[:1]
    )


def _event_dates(referral: Referral) -> dict[str, datetime.date]:
    """{action: local date} of the last book/complete/discharge event, and "first_session": the
    first session's local date (prefetched and annotated by `referrals_with_schedule`, or
    queried)."""
    events = getattr(referral, "schedule_events", None)
    if events is None:
        events = referral.events.filter(action__in=DATE_ACTIONS).order_by("created_at", "id")
    dates = {event.action: timezone.localdate(event.created_at) for event in events}
    if hasattr(referral, "schedule_first_session_at"):
        first_at = referral.schedule_first_session_at
    else:
        first_at = (
            referral.sessions.exclude(status__in=CANCELLED)
            .order_by("scheduled_at")
            .values_list("scheduled_at", flat=True)
            .first()
        )
    if first_at is not None:
        dates["first_session"] = timezone.localdate(first_at)
    return dates


def _due_on(
    referral: Referral, timepoint: str, dates: dict[str, datetime.date]
) -> datetime.date | None:
    booked = dates.get("book")
    exit_on = dates.get("complete") or dates.get("discharge")
    if timepoint == Timepoint.BASELINE:
        return dates.get("first_session", booked)
    if timepoint == Timepoint.MID:
        if booked is None:
            return None
        weeks = referral.programme.duration_weeks if referral.programme else 12
        return booked + datetime.timedelta(days=weeks * 7 // 2)
    if timepoint == Timepoint.EXIT:
        if referral.status in (Status.COMPLETED, Status.DISCHARGED):
            return exit_on
        if booked is None:
            return None
        weeks = referral.programme.duration_weeks if referral.programme else 12
        return booked + datetime.timedelta(weeks=weeks)
    if referral.status != Status.COMPLETED or dates.get("complete") is None:
        return None
    return add_months(dates["complete"], FOLLOWUP_MONTHS[timepoint])


def due_state(due_on: datetime.date | None, today: datetime.date, *, followup: bool) -> str:
    """Whether a measure not yet done is upcoming, due, overdue, or (a follow-up) missed."""
    if due_on is None or due_on > today:
        return UPCOMING
    if followup and add_months(due_on, FOLLOWUP_MISSED_AFTER_MONTHS) < today:
        return MISSED
    if (today - due_on).days > GRACE_DAYS:
        return OVERDUE
    return DUE


def schedule_for(
    referral: Referral, *, today: datetime.date | None = None
) -> list[ScheduledAssessment]:
    """Every scheduled (instrument, timepoint) for the referral, with its due date and state.

    Uses prefetched `assessments` and `schedule_events` when present (see
    `referrals_with_schedule`), so a list of referrals runs a constant number of queries.
    """
    today = today or timezone.localdate()
    programme = referral.programme
    if programme is None or referral.status not in SCHEDULED_STATES:
        return []
    done = {(a.instrument, a.timepoint) for a in referral.assessments.all()}
    dates = _event_dates(referral)
    rows = []
    for entry in schedule_entries_for(referral):
        code = entry["instrument"]
        try:
            definition = instruments.get(code)
        except instruments.UnknownInstrument:
            continue  # a schedule naming a retired instrument should not break the page
        if not definition.enabled:
            continue
        for timepoint in sorted(
            (t for t in entry["timepoints"] if t in TIMEPOINT_ORDER),
            key=TIMEPOINT_ORDER.__getitem__,
        ):
            due_on = _due_on(referral, timepoint, dates)
            state = (
                DONE
                if (code, timepoint) in done
                else due_state(due_on, today, followup=timepoint in FOLLOWUP_MONTHS)
            )
            rows.append(
                ScheduledAssessment(
                    referral=referral,
                    instrument=code,
                    instrument_name=definition.short_name or definition.name,
                    timepoint=timepoint,
                    due_on=due_on,
                    state=state,
                )
            )
    # After exit, nothing before exit can be done any more in practice: baseline and mid that
    # were never recorded stay listed (as overdue) so that the gap is visible.
    return rows


def referrals_with_schedule(queryset: "QuerySet[Referral]") -> "QuerySet[Referral]":
    """Prefetch what `schedule_for` reads: assessments, the dating events and the first
    session's time (annotated, so no query more)."""
    queryset = queryset.annotate(schedule_first_session_at=_first_session_at())
    return queryset.select_related("programme", "patient").prefetch_related(
        "assessments",
        Prefetch(
            "events",
            queryset=ReferralEvent.objects.filter(action__in=DATE_ACTIONS).order_by(
                "created_at", "id"
            ),
            to_attr="schedule_events",
        ),
    )


def assessments_due(
    user: "User", *, today: datetime.date | None = None
) -> list[ScheduledAssessment]:
    """Due and overdue assessments (not follow-ups) on open referrals the user can see.

    A referral that has ended (completed, discharged, declined, cancelled) is never listed: its
    exit measure shows on its progress page, and its follow-ups in `followups_due`.
    """
    referrals = referrals_with_schedule(
        referral_list_for(user).filter(status__in=OPEN_STATES).order_by("reference")
    )
    return [
        row
        for referral in referrals
        for row in schedule_for(referral, today=today)
        if row.is_outstanding and not row.is_followup
    ]


def followups_due(user: "User", *, today: datetime.date | None = None) -> list[ScheduledAssessment]:
    """Follow-ups due or overdue on completed referrals the user can see, oldest due first.

    A constant number of queries however many referrals there are.
    """
    referrals = referrals_with_schedule(
        referral_list_for(user).filter(status=Status.COMPLETED).order_by("reference")
    )
    rows = [
        row
        for referral in referrals
        for row in schedule_for(referral, today=today)
        if row.is_outstanding and row.is_followup
    ]
    return sorted(rows, key=lambda row: (row.due_on, row.referral.reference))
