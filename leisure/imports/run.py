"""The run of an attendance import (`import_run`, by the Celery task `leisure.tasks`).

The file is read by `leisure.imports.reading` (pure: format, encoding, messes, each row's
problems) with the source's saved `ImportMapping`. Each row then ends exactly one way, counted on
the `AttendanceImport`:

- **skipped**: a blank row or a repeated header (the reader passes over it);
- **rejected**, with its reasons field by field (`ImportRowProblem`, for the report): a row the
  mapping cannot read; a time in the future; a visit before the referral was accepted or after it
  ended; a did-not-attend or cancelled row with no booked session to mark ("not a visit");
- **recorded**: an attended row matched to the operator's referral and not at a booked session
  of it becomes a self-directed `Visit` (source import, event id `row_key(row, source_name)`),
  written by `referrals.visits`, the one writer (which starts a booked referral whose programme
  counts visits);
- **sessions marked**: a row of a booked session of the referral (the nearest within
  `SESSION_WINDOW` of the row's time, or the one that day when the file gives no time) marks it
  attended, did not attend or cancelled through `referrals.services.session_record_attendance`,
  so the register shows it and the referrer hears of a start or a missed session once, through
  the status-update loop;
- **duplicate** (nothing changed): the row's visit is already stored (earlier in the file, or from
  an overlapping earlier file), its session is already marked so, or it is already queued;
- **unmatched**: nobody matches: queued once per operator and row key for a coordinator, who
  resolves it by choosing the referral (`unmatched_resolve`).

A row is matched to the operator's referrals by `leisure.imports.matching`.

`import_run` works in chunks of `CHUNK_ROWS`, each in its own transaction with the counters, so a
page can poll progress, memory stays flat, and a run that dies resumes after the last committed
chunk. Matching costs one query per identifier kind per chunk and visits are inserted in bulk
(`manage.py import_benchmark` measures it). Importing a file again changes only the duplicate
counter: row keys, `ON CONFLICT DO NOTHING` and the queue's unique key see to it.
"""

from __future__ import annotations

import datetime as dt
import logging
import math
from collections import Counter, defaultdict
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from itertools import islice
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import DatabaseError, transaction
from django.db.models import F, OuterRef, Subquery
from django.utils import timezone

from referrals import services as referral_services
from referrals.models import Referral, Session, Status, Visit
from referrals.models import VisitSource as VisitSourceChoices
from referrals.visits import CLOCK_SKEW, EARLIEST_VISIT, MatchedVisit, visits_record_matched
from referrals.workflow import WorkflowError

from ..models import (
    IMPORT_FAILURE_MAX,
    AttendanceImport,
    ImportRowKind,
    ImportRowProblem,
    ImportStatus,
)
from .mappings import column_mapping
from .matching import Candidates, open_at
from .reading import Cell, CleanRow, ColumnMapping, ReadError, RowProblems, SourceRow
from .reading import Status as RowStatus
from .reading import row_key as reading_row_key
from .uploads import import_table

logger = logging.getLogger(__name__)

CHUNK_ROWS = 2_000

# How far a row's time may be from the booked session it marks.
SESSION_WINDOW = dt.timedelta(minutes=60)
# A row's status as a session's attendance. A leisure system's
# "cancelled" is the member's cancellation (a centre's cancellation is not in a member's record).
SESSION_MARKS = {
    RowStatus.ATTENDED: Session.Attendance.ATTENDED,
    RowStatus.DNA: Session.Attendance.DNA,
    RowStatus.CANCELLED: Session.Attendance.CANCELLED_PATIENT,
}

# The states in which the register takes marks (`session_record_attendance`).
REGISTER_OPEN = frozenset({Status.BOOKED, Status.ACTIVE})

NOT_A_VISIT = (
    "Not a visit: a did-not-attend or cancelled row only marks a booked session of the "
    "referral within an hour of its time, and there is none"
)


class _Superseded(Exception):
    """Another run of the same import committed the chunk this one was about to write."""


def import_run(import_id: int) -> AttendanceImport:
    """Process the import's rows, a chunk per transaction, from where it stopped. Safe to run
    twice or concurrently: a finished import is left alone, and a chunk is written only if the
    progress is still what this run read. Database errors propagate (the task retries and
    resumes); a file that cannot be read marks the import failed."""
    with transaction.atomic():
        claimed = (
            AttendanceImport.objects.select_for_update(of=("self",))
            .select_related("mapping", "operator", "created_by")
            .defer("data")
            .get(pk=import_id)
        )
        if claimed.status in (ImportStatus.DRAFT, ImportStatus.DONE, ImportStatus.FAILED):
            return claimed  # a draft runs once the coordinator starts it
        if claimed.status == ImportStatus.UPLOADED:
            claimed.status, claimed.started_at = ImportStatus.RUNNING, timezone.now()
            claimed.save(update_fields=["status", "started_at"])
    try:
        table = import_table(claimed)
        if claimed.mapping is None:  # a started import has its mapping; never left without
            raise ReadError("The import has no column mapping: upload the file again")
        mapping = column_mapping(claimed.mapping)
        done = claimed.rows_read
        rows = islice(table.rows(), done, None)
        for chunk in _chunks(rows, CHUNK_ROWS):
            with transaction.atomic():
                _check_progress(claimed.pk, done)
                counts = _process_chunk(claimed, mapping, chunk)
                AttendanceImport.objects.filter(pk=claimed.pk).update(
                    rows_read=F("rows_read") + len(chunk),
                    **{name: F(name) + value for name, value in counts.items()},
                )
            done += len(chunk)
        with transaction.atomic():
            _check_progress(claimed.pk, done)
            AttendanceImport.objects.filter(pk=claimed.pk).update(
                status=ImportStatus.DONE,
                skipped=table.skipped_count(),
                finished_at=timezone.now(),
            )
    except _Superseded:
        logger.info("Attendance import %s is being run by another worker", import_id)
    except ReadError as error:
        _fail(import_id, str(error))
    except DatabaseError:
        raise
    except Exception:
        logger.exception("Attendance import %s failed", import_id)
        _fail(import_id, "The import stopped on an unexpected error: the rows before it are kept")
    return AttendanceImport.objects.defer("data").get(pk=import_id)


def _chunks(rows: Iterator[SourceRow], size: int) -> Iterator[list[SourceRow]]:
    while chunk := list(islice(rows, size)):
        yield chunk


def _check_progress(import_id: int, expected: int) -> None:
    locked = (
        AttendanceImport.objects.select_for_update().only("rows_read", "status").get(pk=import_id)
    )
    if locked.status != ImportStatus.RUNNING or locked.rows_read != expected:
        raise _Superseded


def _fail(import_id: int, message: str) -> None:
    AttendanceImport.objects.filter(pk=import_id).update(
        status=ImportStatus.FAILED,
        failure=message[:IMPORT_FAILURE_MAX],
        finished_at=timezone.now(),
    )


@dataclass
class _Pending:
    row: SourceRow
    clean: CleanRow
    key: str


@dataclass
class _Chunk:
    """What one chunk's rows became, before it is written."""

    counts: Counter[str] = field(default_factory=Counter)
    problems: list[ImportRowProblem] = field(default_factory=list)


def _process_chunk(
    attendance_import: AttendanceImport, mapping: ColumnMapping, rows: Sequence[SourceRow]
) -> Counter[str]:
    operator = attendance_import.operator
    now = timezone.now()
    out = _Chunk()

    def reject(row: SourceRow, reasons: dict[str, list[str]]) -> None:
        out.counts["rejected"] += 1
        out.problems.append(
            ImportRowProblem(
                attendance_import=attendance_import,
                operator=operator,
                kind=ImportRowKind.REJECTED,
                row_number=row.number,
                reasons=reasons,
                values=_jsonable(row.values),
                created_at=now,
            )
        )

    pending: list[_Pending] = []
    for row in rows:
        result = mapping.apply(row)
        if isinstance(result, RowProblems):
            reasons: dict[str, list[str]] = defaultdict(list)
            for problem in result.problems:
                reasons[problem.field].append(str(problem))
            reject(row, dict(reasons))
        elif result.occurred_at > now + CLOCK_SKEW:
            reject(row, {"date": ["This visit is in the future: import it once it has happened"]})
        elif result.occurred_at < EARLIEST_VISIT:
            reject(row, {"date": ["This date is too long ago to be a visit"]})
        else:
            pending.append(
                _Pending(row, result, reading_row_key(result, attendance_import.source_name))
            )

    candidates = Candidates.find(operator, [item.clean for item in pending])
    attended: list[tuple[_Pending, Referral]] = []
    unmatched: list[_Pending] = []
    marks: list[tuple[_Pending, list[Referral]]] = []
    for item in pending:
        found = candidates.of(item.clean)
        if item.clean.status != RowStatus.ATTENDED:
            if found:
                marks.append((item, found))
            else:
                reject(item.row, {"status": [NOT_A_VISIT]})
            continue
        if not found:
            unmatched.append(item)
            continue
        referral, refusal = open_at(found, item.clean)
        if refusal:
            reject(item.row, {"date": [refusal]})
        else:
            attended.append((item, referral))

    sessions = _booked_sessions_near([(item, [r]) for item, r in attended] + marks)
    at_class: list[tuple[_Pending, list[Referral]]] = []
    visits: list[tuple[_Pending, Referral]] = []
    for item, referral in attended:
        # A class of a referral still on its programme goes on the register; one that has
        # ended keeps its register as it was closed, and the row is a visit.
        on_register = referral.status in REGISTER_OPEN
        if on_register and _session_for(item.clean, sessions[referral.pk]):
            at_class.append((item, [referral]))
        else:
            visits.append((item, referral))
    _record_visits(attendance_import, visits, out)
    _queue_unmatched(attendance_import, unmatched, out, now)
    _mark_sessions(attendance_import, at_class + marks, sessions, out, reject)
    ImportRowProblem.objects.bulk_create(out.problems)
    return out.counts


def _record_visits(
    attendance_import: AttendanceImport,
    attended: list[tuple[_Pending, Referral]],
    out: _Chunk,
) -> None:
    if not attended:
        return
    stored = visits_record_matched(
        operator=attendance_import.operator,
        by=attendance_import.created_by,
        visits=[
            MatchedVisit(
                event_id=item.key,
                occurred_at=item.clean.occurred_at,
                referral=referral,
                membership_number=item.clean.membership_number,
                activity=item.clean.activity,
            )
            for item, referral in attended
        ],
    )
    counted: set[str] = set()
    for item, _ in attended:
        if item.key in stored and item.key not in counted:
            out.counts["recorded"] += 1
            counted.add(item.key)
        else:
            out.counts["duplicates"] += 1
    if counted:
        # A visit queued as unmatched by an earlier import and matched now (its member's number
        # was recorded since): the queue's row is resolved by this import.
        ImportRowProblem.objects.filter(
            operator=attendance_import.operator,
            kind=ImportRowKind.UNMATCHED,
            resolved_at__isnull=True,
            row_key__in=counted,
        ).update(
            resolved_referral=Subquery(
                Visit.objects.filter(
                    operator=attendance_import.operator,
                    source=VisitSourceChoices.IMPORT,
                    source_event_id=OuterRef("row_key"),
                ).values("referral")[:1]
            ),
            resolved_by=attendance_import.created_by,
            resolved_at=timezone.now(),
        )


def _queue_unmatched(
    attendance_import: AttendanceImport, unmatched: list[_Pending], out: _Chunk, now: dt.datetime
) -> None:
    if not unmatched:
        return
    operator = attendance_import.operator
    keys = {item.key for item in unmatched}
    # Already a visit (queued before, then resolved, and the queue row since removed by hand, or
    # matched before the member's number was taken off the referral): nothing to queue.
    visited = set(
        Visit.objects.filter(
            operator=operator, source=VisitSourceChoices.IMPORT, source_event_id__in=keys
        ).values_list("source_event_id", flat=True)
    )
    queued: dict[str, ImportRowProblem] = {}
    for item in unmatched:
        if item.key in visited or item.key in queued:
            continue
        clean = item.clean
        queued[item.key] = ImportRowProblem(
            attendance_import=attendance_import,
            operator=operator,
            kind=ImportRowKind.UNMATCHED,
            row_number=item.row.number,
            values=_jsonable(item.row.values),
            membership_number=clean.membership_number,
            referral_reference=clean.referral_reference,
            nhs_number=clean.nhs_number,
            date_of_birth=clean.date_of_birth,
            occurred_at=clean.occurred_at,
            time_known=clean.time_known,
            activity=clean.activity,
            row_key=item.key,
            created_at=now,
        )
    rows = sorted(queued.values(), key=lambda problem: problem.row_key)
    ImportRowProblem.objects.bulk_create(rows, ignore_conflicts=True)
    ours = set(
        ImportRowProblem.objects.filter(public_id__in=[row.public_id for row in rows]).values_list(
            "row_key", flat=True
        )
    )
    counted: set[str] = set()
    for item in unmatched:
        if item.key in ours and item.key not in counted:
            out.counts["unmatched"] += 1
            counted.add(item.key)
        else:
            out.counts["duplicates"] += 1


def _booked_sessions_near(
    rows: list[tuple[_Pending, list[Referral]]],
) -> defaultdict[int, list[Session]]:
    """The sessions of the rows' referrals within a day of the rows' times, by referral: one
    query for the chunk."""
    sessions: defaultdict[int, list[Session]] = defaultdict(list)
    if not rows:
        return sessions
    times = [item.clean.occurred_at for item, _ in rows]
    for booked in Session.objects.filter(
        referral_id__in={referral.pk for _, found in rows for referral in found},
        scheduled_at__gte=min(times) - dt.timedelta(days=1),
        scheduled_at__lte=max(times) + dt.timedelta(days=1),
    ).order_by("scheduled_at"):
        sessions[booked.referral_id].append(booked)
    return sessions


def _mark_sessions(
    attendance_import: AttendanceImport,
    marks: list[tuple[_Pending, list[Referral]]],
    sessions: dict[int, list[Session]],
    out: _Chunk,
    reject: Any,
) -> None:
    """Rows of a booked session (attended at its time, did not attend, cancelled): each marks
    its session through the register's own service, so the referrer hears of a start or a
    missed session once. Few in an export of visits, so each is its own transaction."""
    for item, found in marks:
        session = _session_for(item.clean, [s for r in found for s in sessions[r.pk]])
        target = SESSION_MARKS[item.clean.status]
        if session is None:
            reject(item.row, {"status": [NOT_A_VISIT]})
        elif session.status == target:
            out.counts["duplicates"] += 1
        elif session.status != Session.Attendance.BOOKED:
            marked = Session.Attendance(session.status).label.lower()
            reject(
                item.row,
                {
                    "status": [
                        f"The session is already marked {marked} on the register: change it "
                        "there if this file is right"
                    ]
                },
            )
        else:
            try:
                with transaction.atomic():
                    referral_services.session_record_attendance(
                        session=session,
                        status=target,
                        by=attendance_import.created_by,
                        imported=True,
                    )
            except (ValidationError, WorkflowError, PermissionDenied) as refused:
                reject(item.row, {"status": [_message(refused)]})
            else:
                out.counts["sessions_marked"] += 1


def _session_for(clean: CleanRow, sessions: list[Session]) -> Session | None:
    """The session the row is about: the nearest within `SESSION_WINDOW` of its time, or, when
    the file gives only the day, the one session that day."""
    if clean.time_known:
        near = [s for s in sessions if abs(s.scheduled_at - clean.occurred_at) <= SESSION_WINDOW]
        return min(near, key=lambda s: abs(s.scheduled_at - clean.occurred_at), default=None)
    day = clean.occurred_at.date()
    that_day = [s for s in sessions if timezone.localdate(s.scheduled_at) == day]
    return that_day[0] if len(that_day) == 1 else None


def _message(error: Exception) -> str:
    if isinstance(error, ValidationError):
        return " ".join(error.messages)
    return str(error)


def _jsonable(values: dict[str, Cell]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name, value in values.items():
        if value is None or isinstance(value, str | bool | int):
            out[name] = value
        elif isinstance(value, float):
            out[name] = value if math.isfinite(value) else str(value)
        elif isinstance(value, dt.date | dt.time | dt.datetime):
            out[name] = value.isoformat()
        else:
            out[name] = str(value)
    return out
