"""Adherence: how much of the programme a participant has done, counting class sessions and,
where the programme says so, self-directed visits. The one home of that rule; the register,
caseload, referral page, discharge summary and reports all count through it.

- **Class sessions attended**: sessions of the referral marked attended on the register (by an
  instructor, or from the operator's own system in an import).
- **Self-directed visits**: `Visit`s matched to the referral (gym check-ins, swims, rows of an
  export that are not a booked session).
- **Visit days**: the days (UK local time) with a self-directed visit and no attended class
  session. A gym's door scanner records the member arriving for a class too, and two check-ins
  in a day are one day of exercise: so a day counts once, whichever way it was recorded.
- **Counted** toward adherence: class sessions attended, plus visit days when the programme's
  `self_directed_visits_count` is set. Adherent: counted at least 75% of the programme's planned
  sessions (`ADHERENT_PERCENT`), the figure commissioners' reports use.

The programme report applies the same rule in SQL, to the facts the database keeps for it
(`outcomes/report_facts.py`, ADR 0009); a property test holds the two to the same figures.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db.models import (
    Case,
    Count,
    Exists,
    F,
    IntegerField,
    OuterRef,
    QuerySet,
    Subquery,
    Value,
    When,
)
from django.db.models.functions import Coalesce, TruncDate

from .models import Session, Visit

if TYPE_CHECKING:
    from .models import Referral

Attendance = Session.Attendance
ADHERENT_PERCENT = 75


def _local() -> datetime.tzinfo:
    return ZoneInfo(settings.TIME_ZONE)


def _visits_of(referral: Any) -> QuerySet[Visit]:
    return Visit.objects.filter(referral=referral).order_by()


def visit_days_subquery(referral: Any = None) -> Coalesce:
    """The referral's visit days (see the module): days with a visit and no attended class
    session, as a correlated subquery on `referral` (the outer referral's pk by default)."""
    referral = OuterRef("pk") if referral is None else referral
    class_that_day = Session.objects.filter(
        referral=OuterRef("referral"), status=Attendance.ATTENDED
    ).filter(scheduled_at__date=OuterRef("day"))
    days = (
        _visits_of(referral)
        .annotate(day=TruncDate("occurred_at", tzinfo=_local()))
        .exclude(Exists(class_that_day))
        .values("referral")
        .annotate(n=Count("day", distinct=True))
        .values("n")[:1]
    )
    return Coalesce(Subquery(days, output_field=IntegerField()), Value(0))


def visits_subquery(referral: Any = None) -> Coalesce:
    """How many self-directed visits are matched to the referral (every one, for display)."""
    referral = OuterRef("pk") if referral is None else referral
    count = _visits_of(referral).values("referral").annotate(n=Count("pk")).values("n")[:1]
    return Coalesce(Subquery(count, output_field=IntegerField()), Value(0))


def counted_expression(attended: str = "attended", visit_days: str = "visit_days") -> Any:
    """Counted toward adherence, from a queryset's `attended` and `visit_days` annotations and
    the referral's programme's setting (for filters and aggregates in SQL)."""
    return F(attended) + Case(
        When(programme__self_directed_visits_count=True, then=F(visit_days)),
        default=Value(0),
        output_field=IntegerField(),
    )


def with_self_directed(queryset: QuerySet[Referral]) -> QuerySet[Referral]:
    """Annotate each referral with `visit_count` and `visit_days`, in the same query (two
    correlated subqueries, so a list page's query count does not grow with its rows).
    (`visits` is the referral's relation to its `Visit`s, hence `visit_count`.)"""
    return queryset.annotate(visit_count=visits_subquery(), visit_days=visit_days_subquery())


@dataclass(frozen=True)
class Adherence:
    """A referral's attendance counted both ways, apart and together."""

    attended: int
    visits: int
    visit_days: int
    counts_visits: bool
    planned: int | None

    @property
    def counted(self) -> int:
        return self.attended + (self.visit_days if self.counts_visits else 0)

    @property
    def percent(self) -> int | None:
        """Counted as a share of the planned sessions (at most 100), or None with no plan."""
        if not self.planned:
            return None
        return min(100, round(100 * self.counted / self.planned))

    @property
    def adherent(self) -> bool:
        return bool(self.planned) and self.counted * 100 >= self.planned * ADHERENT_PERCENT

    @property
    def summary(self) -> str:
        """One line for a page: '9 of 24 planned (6 class sessions and 3 days of self-directed
        visits)', or the class sessions alone with what the visits were when they do not count."""
        of = f" of {self.planned} planned" if self.planned else ""
        sessions = _plural(self.attended, "class session")
        if self.counts_visits:
            days = _plural(self.visit_days, "day", "days") + " of self-directed visits"
            return f"{self.counted}{of} ({sessions} and {days})"
        line = f"{self.attended}{of} class sessions attended" if of else f"{sessions} attended"
        if self.visits and not self.counts_visits:
            line += (
                f"; {_plural(self.visits, 'self-directed visit')} (not counted by this programme)"
            )
        return line

    @classmethod
    def of(cls, referral: Referral, *, attended: int | None = None) -> Adherence:
        """From a referral annotated by `with_self_directed` (and with `attended`, or given it),
        its programme fetched with it."""
        programme = referral.programme
        return cls(
            attended=getattr(referral, "attended", 0) if attended is None else attended,
            visits=getattr(referral, "visit_count", 0),
            visit_days=getattr(referral, "visit_days", 0),
            counts_visits=bool(programme and programme.self_directed_visits_count),
            planned=programme.planned_sessions if programme else None,
        )


def adherence_for(referral: Referral, *, attended: int | None = None) -> Adherence:
    """One referral's adherence (one query, two with `attended` not given)."""
    from .models import Referral as ReferralModel

    queryset = ReferralModel.objects.filter(pk=referral.pk)
    if attended is None:
        queryset = queryset.annotate(
            attended=Coalesce(
                Subquery(
                    Session.objects.filter(referral=OuterRef("pk"), status=Attendance.ATTENDED)
                    .order_by()
                    .values("referral")
                    .annotate(n=Count("pk"))
                    .values("n")[:1],
                    output_field=IntegerField(),
                ),
                Value(0),
            )
        )
    row = with_self_directed(queryset).values(
        *(["attended"] if attended is None else []), "visit_count", "visit_days"
    )[0]
    programme = referral.programme
    return Adherence(
        attended=row["attended"] if attended is None else attended,
        visits=row["visit_count"],
        visit_days=row["visit_days"],
        counts_visits=bool(programme and programme.self_directed_visits_count),
        planned=programme.planned_sessions if programme else None,
    )


def _plural(n: int, one: str, many: str | None = None) -> str:
    return f"{n} {one if n == 1 else (many or one + 's')}"
