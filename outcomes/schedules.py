"""What is due: each programme's `outcome_schedule` against the assessments already recorded.

`programme.outcome_schedule` is a list of {"instrument": code, "timepoints": [timepoint, ...]}.
Due dates:
- baseline: from booking (the "book" event), overdue two weeks later;
- mid: halfway through the programme's weeks after booking;
- exit: when the programme ends (completion or discharge: that event's date); until then it is
  upcoming;
- follow-ups: 3, 6 and 12 months after exit, for completed referrals only (a discharged patient
  left the programme and is not followed up).
Anything not done within GRACE_DAYS of its due date is overdue.
"""

import calendar
import datetime
from dataclasses import dataclass
from typing import TYPE_CHECKING

from django.db.models import Prefetch
from django.utils import timezone

from referrals.models import Referral, ReferralEvent, Status
from referrals.selectors import referral_list_for

from . import instruments
from .models import Timepoint

if TYPE_CHECKING:
    from django.db.models import QuerySet

    from accounts.models import User

GRACE_DAYS = 14
FOLLOWUP_MONTHS: dict[str, int] = {
    Timepoint.FOLLOWUP_3M: 3,
    Timepoint.FOLLOWUP_6M: 6,
    Timepoint.FOLLOWUP_12M: 12,
}
TIMEPOINT_ORDER = {value: index for index, value in enumerate(Timepoint.values)}
# Referrals with anything to schedule: booked onwards, and ended ones with an exit or follow-up.
SCHEDULED_STATES = (Status.BOOKED, Status.ACTIVE, Status.COMPLETED, Status.DISCHARGED)
DATE_ACTIONS = ("book", "complete", "discharge")

DONE, DUE, OVERDUE, UPCOMING = "done", "due", "overdue", "upcoming"
STATE_LABELS = {DONE: "Done", DUE: "Due", OVERDUE: "Overdue", UPCOMING: "Not due yet"}


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


def _event_dates(referral: Referral) -> dict[str, datetime.date]:
    """{action: local date} of the last book/complete/discharge event (prefetched or queried)."""
    events = getattr(referral, "schedule_events", None)
    if events is None:
        events = referral.events.filter(action__in=DATE_ACTIONS).order_by("created_at", "id")
    return {event.action: timezone.localdate(event.created_at) for event in events}


def _due_on(
    referral: Referral, timepoint: str, dates: dict[str, datetime.date]
) -> datetime.date | None:
    booked = dates.get("book")
    exit_on = dates.get("complete") or dates.get("discharge")
    if timepoint == Timepoint.BASELINE:
        return booked
    if timepoint == Timepoint.MID:
        if booked is None:
            return None
        weeks = referral.programme.duration_weeks if referral.programme else 12
        return booked + datetime.timedelta(days=weeks * 7 // 2)
    if timepoint == Timepoint.EXIT:
        return exit_on if referral.status in (Status.COMPLETED, Status.DISCHARGED) else None
    if referral.status != Status.COMPLETED or dates.get("complete") is None:
        return None
    return add_months(dates["complete"], FOLLOWUP_MONTHS[timepoint])


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
    for entry in programme.outcome_schedule or []:
        code = entry.get("instrument")
        try:
            definition = instruments.get(code)
        except instruments.UnknownInstrument:
            continue  # a schedule naming a retired instrument should not break the page
        if not definition.enabled:
            continue
        for timepoint in sorted(
            (t for t in entry.get("timepoints", []) if t in TIMEPOINT_ORDER),
            key=TIMEPOINT_ORDER.__getitem__,
        ):
            due_on = _due_on(referral, timepoint, dates)
            if (code, timepoint) in done:
                state = DONE
            elif due_on is None or due_on > today:
                state = UPCOMING
            elif (today - due_on).days > GRACE_DAYS:
                state = OVERDUE
            else:
                state = DUE
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
    """Prefetch what `schedule_for` reads: assessments and the dating events."""
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
    """Due and overdue assessments (not follow-ups) on referrals the user can see."""
    referrals = referrals_with_schedule(
        referral_list_for(user).filter(status__in=SCHEDULED_STATES).order_by("reference")
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
