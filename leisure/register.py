"""Queries for the instructor's pages (/today/): the day's classes, their registers and the
caseload, each in a constant number of queries whatever the number of participants.

Kept apart from `selectors.py` because only the register pages use them; the scoping still
starts from `accounts.permissions` and `selectors.referrals_visible_to`. Attendance is only ever
written by `services.session_record_attendance`.
"""

import datetime
from dataclasses import dataclass
from typing import TYPE_CHECKING, TypedDict, cast

from django.db import connection
from django.db.models import (
    BooleanField,
    Case,
    Count,
    Exists,
    F,
    Max,
    Min,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Value,
    When,
)
from django.db.models.functions import Now
from django.db.models.lookups import Exact, GreaterThan, GreaterThanOrEqual, In
from django.utils import timezone

from accounts.models import Role
from accounts.permissions import (
    organisation_ids_with_role,
    staffed_facility_ids,
)
from facilities.models import ProgrammeClass
from referrals.adherence import Adherence, counted_expression, with_self_directed
from referrals.listing import ListPage, page_of_rows
from referrals.models import Attendance, Referral, Session, Status
from referrals.selectors import referrals_visible_to

if TYPE_CHECKING:
    from collections.abc import Iterable
    from uuid import UUID

    from django_stubs_ext import WithAnnotations

    from accounts.models import User

    class AttendanceCounts(TypedDict):
        """What `with_attendance_counts` adds to each referral."""

        attended: int
        missed: int
        booked_left: int
        next_session_at: datetime.datetime | None
        planned: int | None
        dna_run: int
        consider_discharge: bool
        ready_to_complete: bool
        # And visit_count, visit_days (`referrals.adherence.with_self_directed`), read by
        # `Adherence.of`.


IN_PROGRAMME = (Status.BOOKED, Status.ACTIVE)
CASELOAD_PAGE_SIZE = 50


def instructor_operator_ids(user: "User") -> frozenset[int]:
    """Operators where the user holds an active instructor membership."""
    return frozenset(organisation_ids_with_role(user, Role.INSTRUCTOR))


def day_bounds(day: datetime.date) -> tuple[datetime.datetime, datetime.datetime]:
    """The aware start and end of a local calendar day (23 or 25 hours long at clock changes)."""
    start = timezone.make_aware(datetime.datetime.combine(day, datetime.time.min))
    end = timezone.make_aware(
        datetime.datetime.combine(day + datetime.timedelta(days=1), datetime.time.min)
    )
    return start, end


# --- Classes -----------------------------------------------------------------------------------


def classes_run_by(user: "User") -> QuerySet[ProgrammeClass]:
    """Every class whose register the user may keep: classes at facilities they staff, run by an
    operator where they are an instructor. Another operator's class is simply not in here."""
    operators = instructor_operator_ids(user)
    return ProgrammeClass.objects.filter(
        facility_id__in=staffed_facility_ids(user),
        facility__operator_id__in=operators,
        programme__operator_id__in=operators,
    ).select_related("programme", "facility")


def classes_today_for(user: "User", day: datetime.date) -> QuerySet[ProgrammeClass]:
    """The user's classes that meet on `day`'s weekday: the active ones, and an inactive one
    that still has sessions that day. Exactly those: a session on another weekday (a class's
    slot moved, a one-to-one) is listed apart, by `sessions_of_the_day`, so no class shows up
    on a day it does not meet."""
    start, end = day_bounds(day)
    sessions_that_day = Session.objects.filter(
        programme_class=OuterRef("pk"), scheduled_at__gte=start, scheduled_at__lt=end
    )
    return (
        classes_run_by(user)
        .filter(weekday=day.weekday())
        .filter(Q(is_active=True) | Exists(sessions_that_day))
        .order_by("start_time", "facility__name", "name", "id")
    )


def sessions_of_the_day(
    user: "User", day: datetime.date, classes: "Iterable[ProgrammeClass]"
) -> tuple[dict[int, list[Session]], list[Session]]:
    """In two queries: the registers of `classes` on `day` (class id -> sessions), and the day's
    other sessions of the user's caseload, on none of those registers: one-to-ones and
    assessments, and class sessions on a day their class does not meet. Two, not one with an
    OR: each is served by its own index (a class's sessions by time; a referral's sessions by
    time), where the OR read every session in the country that day."""
    classes = list(classes)
    registers: dict[int, list[Session]] = {c.id: [] for c in classes}
    for session in _sessions_on(day).filter(programme_class__in=list(registers)):
        registers[cast(int, session.programme_class_id)].append(session)
    others = list(
        _sessions_on(day)
        .filter(referral__in=caseload_scope(user))
        .exclude(programme_class__in=list(registers))
        .select_related("programme_class")
    )
    return registers, others


def holders_without_session(
    classes: "Iterable[ProgrammeClass]", day: datetime.date
) -> dict[int, list[Referral]]:
    """Per class, participants holding a place (booked or under way) whose sessions run over
    `day` (booked before and after it) but have none that day: the register names them rather
    than leave them out. One query; class id -> referrals by surname."""
    classes = list(classes)
    start, end = day_bounds(day)
    that_day = Session.objects.filter(
        referral=OuterRef("pk"), scheduled_at__gte=start, scheduled_at__lt=end
    )
    missing = (
        Referral.objects.filter(
            programme_class__in=[c.id for c in classes], status__in=IN_PROGRAMME
        )
        .annotate(first_at=Min("sessions__scheduled_at"), last_at=Max("sessions__scheduled_at"))
        .filter(first_at__lt=start, last_at__gte=end)
        .exclude(Exists(that_day))
        .select_related("patient")
        .order_by("patient__family_name", "patient__given_name", "id")
    )
    result: dict[int, list[Referral]] = {c.id: [] for c in classes}
    for referral in missing:
        # cast: filtered on the class, so every referral here has one.
        result[cast(int, referral.programme_class_id)].append(referral)
    return result


# --- Registers ---------------------------------------------------------------------------------


def _sessions_on(day: datetime.date) -> QuerySet[Session]:
    start, end = day_bounds(day)
    return (
        Session.objects.filter(scheduled_at__gte=start, scheduled_at__lt=end)
        .select_related("referral__patient", "referral__programme")
        .order_by("referral__patient__family_name", "referral__patient__given_name", "id")
    )


def register_for(programme_class: ProgrammeClass, day: datetime.date) -> QuerySet[Session]:
    """The class's sessions on `day` (local date) with referral and patient, by surname."""
    return _sessions_on(day).filter(programme_class=programme_class)


def registers_for(
    classes: "Iterable[ProgrammeClass]", day: datetime.date
) -> dict[int, list[Session]]:
    """The registers of several classes on one day, in one query: class id -> sessions."""
    classes = list(classes)
    registers: dict[int, list[Session]] = {c.id: [] for c in classes}
    for session in _sessions_on(day).filter(programme_class__in=[c.id for c in classes]):
        # cast: filtered on the class, so every session here has one.
        registers[cast(int, session.programme_class_id)].append(session)
    return registers


def session_for_recorder(user: "User", public_id: "UUID | str") -> Session:
    """One session of a referral the user may see, for marking; Session.DoesNotExist if not."""
    return Session.objects.select_related("referral__patient", "programme_class").get(
        public_id=public_id,
        referral__in=caseload_scope(user),
    )


# --- Progress and prompts ----------------------------------------------------------------------


def with_attendance_counts(
    queryset: QuerySet[Referral],
) -> "QuerySet[WithAnnotations[Referral, AttendanceCounts]]":
    """Annotate each referral with its attendance, counted in SQL in the same query:

    attended, missed (DNAs), booked_left (sessions not yet marked), planned (the programme's
    planned sessions), next_session_at, and dna_run: DNAs since the last attended session, i.e.
    the current run of missed sessions. Cancellations neither add to a run nor end it: a
    cancelled session is not a missed one, and nor did the participant turn up. Also
    visit_count and visit_days (`referrals.adherence`), for what counts toward adherence.
    """
    last_attended = (
        Session.objects.filter(referral=OuterRef("pk"), status=Attendance.ATTENDED)
        .order_by("-scheduled_at")
        .values("scheduled_at")[:1]
    )
    dna = Q(sessions__status=Attendance.DNA)
    counted = with_self_directed(queryset.alias(last_attended_at=Subquery(last_attended)))
    return (
        counted.annotate(
            attended=Count("sessions", filter=Q(sessions__status=Attendance.ATTENDED)),
            missed=Count("sessions", filter=dna),
            booked_left=Count("sessions", filter=Q(sessions__status=Attendance.BOOKED)),
            next_session_at=Min(
                "sessions__scheduled_at",
                filter=Q(sessions__status=Attendance.BOOKED, sessions__scheduled_at__gte=Now()),
            ),
            planned=F("programme__planned_sessions"),
            dna_run=Count(
                "sessions",
                filter=dna
                & (
                    Q(last_attended_at__isnull=True)
                    | Q(sessions__scheduled_at__gt=F("last_attended_at"))
                ),
            ),
        )
        .alias(counted=counted_expression())
        .annotate(
            consider_discharge=_flag(CONSIDER_DISCHARGE),
            ready_to_complete=_flag(READY_TO_COMPLETE),
        )
    )


# The instructor's prompts, in SQL so that a caseload is filtered, counted and paged by them
# without building a row per participant (`Progress` reads them). Written as lookups rather than
# keyword Q objects: the same SQL, a third of the time to build.
# The programme's limit of missed sessions in a row is reached (DOMAIN.md).
CONSIDER_DISCHARGE = Q(
    In(F("status"), IN_PROGRAMME),
    GreaterThan(F("programme__dna_limit"), 0),
    GreaterThanOrEqual(F("dna_run"), F("programme__dna_limit")),
)
# The planned sessions are done (counting self-directed visits where the programme does), or
# none are left to attend after some were attended.
READY_TO_COMPLETE = Q(Exact(F("status"), Status.ACTIVE)) & (
    Q(GreaterThan(F("planned"), 0), GreaterThanOrEqual(F("counted"), F("planned")))
    | Q(Exact(F("booked_left"), 0), GreaterThanOrEqual(F("counted"), 1))
)


def _flag(condition: Q) -> Case:
    return Case(
        When(condition, then=Value(True)), default=Value(False), output_field=BooleanField()
    )


@dataclass(frozen=True)
class Progress:
    """Where a participant is in their programme, and what the instructor should be prompted."""

    status: str
    attended: int
    missed: int
    booked_left: int
    planned: int
    dna_run: int
    dna_limit: int
    adherence: Adherence
    # Prompts: the programme's limit of missed sessions in a row is reached; the planned
    # sessions are done (`CONSIDER_DISCHARGE`, `READY_TO_COMPLETE`, counted in SQL).
    consider_discharge: bool
    ready_to_complete: bool

    @classmethod
    def of(cls, referral: "WithAnnotations[Referral, AttendanceCounts]") -> "Progress":
        """From a referral annotated by `with_attendance_counts` (programme fetched with it)."""
        programme = referral.programme
        return cls(
            status=referral.status,
            attended=referral.attended,
            missed=referral.missed,
            booked_left=referral.booked_left,
            planned=referral.planned or 0,
            dna_run=referral.dna_run,
            dna_limit=programme.dna_limit if programme else 0,
            adherence=Adherence.of(referral),
            consider_discharge=referral.consider_discharge,
            ready_to_complete=referral.ready_to_complete,
        )


def progress_for(referral_ids: "Iterable[int]") -> dict[int, Progress]:
    """Progress of each referral in `referral_ids`, in one query."""
    referrals = with_attendance_counts(
        Referral.objects.filter(id__in=list(referral_ids)).select_related("programme")
    )
    return {r.id: Progress.of(r) for r in referrals}


def consecutive_missed(referral: Referral) -> int:
    """The referral's current run of missed sessions (DNAs since it last attended)."""
    return progress_for([referral.id])[referral.id].dna_run


# --- Caseload ----------------------------------------------------------------------------------


def caseload_scope(user: "User") -> QuerySet[Referral]:
    """Referrals the user sees *as an instructor*: visible to them, at a facility they staff, of
    an operator where they instruct (a user who also coordinates sees more elsewhere)."""
    return referrals_visible_to(user).filter(
        operator_id__in=instructor_operator_ids(user),
        facility_id__in=staffed_facility_ids(user),
    )


CASELOAD_FLAGS = ("consider_discharge", "ready_to_complete")


CASELOAD_ORDER = ("patient__family_name", "patient__given_name", "id")
# What a row shows and its progress reads (and the audit of the page: the referral's sides),
# and no more: the counted rows are sorted to be grouped, so their width is the query's cost.
# A field left out would be read row by row (the query-count tests catch it).
CASELOAD_ROW_FIELDS = (
    "reference",
    "status",
    "referring_organisation_id",
    "operator_id",
    "programme_class_id",
    "patient__given_name",
    "patient__family_name",
    "programme__name",
    "programme__planned_sessions",
    "programme__dna_limit",
    "programme__self_directed_visits_count",
    "facility__name",
    "programme_class__name",
)


@dataclass(frozen=True)
class CaseloadRow:
    referral: Referral
    progress: Progress


class Caseload:
    """The instructor's participants in the programme (booked or active), by surname: the
    list alone, and the list with each participant's attendance and prompts counted in SQL.

    Made once a request and queried from: the counted query takes longer to build in Python
    than the database takes to run it, so the summary and the page share one.
    """

    def __init__(self, user: "User") -> None:
        self.in_order = (
            caseload_scope(user).filter(status__in=IN_PROGRAMME).order_by(*CASELOAD_ORDER)
        )
        self.counted = (
            with_attendance_counts(
                self.in_order.select_related("patient", "programme", "facility", "programme_class")
            )
            .only(*CASELOAD_ROW_FIELDS)
            .order_by(*CASELOAD_ORDER)
        )

    def with_prompt(
        self, flag: str = ""
    ) -> "QuerySet[WithAnnotations[Referral, AttendanceCounts]]":
        """Those with the prompt `flag` (one of `CASELOAD_FLAGS`), else everyone: one query."""
        return self.counted.filter(**{flag: True}) if flag in CASELOAD_FLAGS else self.counted

    def summary(self) -> dict[str, int]:
        """How many participants there are, and how many have each prompt: one query.

        Counted over the counted query as a subquery, in SQL written here: the ORM cannot
        aggregate over the prompts, which are themselves built on aggregates.
        """
        rows = self.counted.order_by().values(*CASELOAD_FLAGS)
        inner, params = rows.query.sql_with_params()
        counts = ", ".join(f'count(*) FILTER (WHERE caseload."{flag}")' for flag in CASELOAD_FLAGS)
        with connection.cursor() as cursor:
            # The names are CASELOAD_FLAGS' and the inner query the ORM's, with its parameters.
            cursor.execute(f"SELECT count(*), {counts} FROM ({inner}) AS caseload", params)  # noqa: S608
            total, *flagged = cursor.fetchone()
        return {"total": total, **dict(zip(CASELOAD_FLAGS, flagged, strict=True))}

    def page(
        self,
        *,
        flag: str = "",
        page: str | None = None,
        size: int | None = None,
        total: int | None = None,
    ) -> ListPage[CaseloadRow]:
        """One page of those `with_prompt(flag)`, in one query that counts attendance for the
        page's participants only (unless a prompt picks them: then it counts for everyone);
        rows are built for the page only. `total`, when the caller counted the list
        (`summary`), is shown."""
        counted = self.with_prompt(flag)
        found = page_of_rows(
            counted,
            page,
            size or CASELOAD_PAGE_SIZE,
            total=total,
            keys_from=counted if flag in CASELOAD_FLAGS else self.in_order,
        )
        return found.map(lambda r: CaseloadRow(referral=r, progress=Progress.of(r)))
