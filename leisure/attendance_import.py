"""Importing attendance from a leisure management system's export: the services behind the
upload, the preview, the Celery run and the coordinator's queue of unmatched rows.

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

A row is matched to the operator's submitted referrals by membership number, else referral
reference, else NHS number with date of birth (the patient of one of them); among several, the
one open at the visit's time. Another operator's referral never matches: every lookup is
filtered by the importing operator.

`import_run` works in chunks of `CHUNK_ROWS`, each in its own transaction with the counters, so a
page can poll progress, memory stays flat, and a run that dies resumes after the last committed
chunk. Matching costs one query per identifier kind per chunk and visits are inserted in bulk
(`manage.py import_benchmark` measures it). Importing a file again changes only the duplicate
counter: row keys, `ON CONFLICT DO NOTHING` and the queue's unique key see to it.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
import math
import os
from collections import Counter, defaultdict
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from itertools import islice
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import DatabaseError, transaction
from django.db.models import F, Min, OuterRef, QuerySet, Subquery
from django.utils import timezone

from accounts.permissions import Permission, has_permission
from referrals import services as referral_services
from referrals.models import FINAL_STATES, Referral, ReferralEvent, Session, Status, Visit
from referrals.models import VisitSource as VisitSourceChoices
from referrals.visits import CLOCK_SKEW, EARLIEST_VISIT, MatchedVisit, visits_record_matched
from referrals.workflow import WorkflowError

from .imports.reading import (
    Cell,
    CellError,
    CleanRow,
    ColumnMapping,
    ReadError,
    RowProblems,
    SourceRow,
    Table,
    clean_text,
    read_table,
)
from .imports.reading import Status as RowStatus
from .imports.reading import row_key as reading_row_key
from .models import (
    IMPORT_FAILURE_MAX,
    IMPORT_FILENAME_MAX,
    IMPORT_MAPPING_NAME_MAX,
    AttendanceImport,
    ImportMapping,
    ImportRowKind,
    ImportRowProblem,
    ImportStatus,
)

if TYPE_CHECKING:
    from accounts.models import Organisation, User

logger = logging.getLogger(__name__)

CHUNK_ROWS = 2_000
# Larger than any real export (100,000 rows of seven columns are ~6 MB as CSV).
IMPORT_MAX_BYTES = 50 * 1024 * 1024
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


# --- Mappings ---------------------------------------------------------------------------------


def import_mapping_save(
    *, operator: Organisation, name: str, mapping: ColumnMapping, by: User
) -> ImportMapping:
    """Save the operator's mapping under `name` (a new one, or the one of that name changed)."""
    _refuse_unless_coordinator(by, operator)
    try:
        name = clean_text(name, max_length=IMPORT_MAPPING_NAME_MAX)
    except CellError as error:
        raise ValidationError({"name": [str(error)]}) from None
    if not name:
        raise ValidationError({"name": ["Give the mapping a name, such as the system's"]})
    # Checked against its own columns here (every file it reads is checked on upload).
    errors = mapping.validate(list(mapping.columns().values()))
    if errors:
        raise ValidationError({"mapping": errors})
    now = timezone.now()
    saved, _ = ImportMapping.objects.update_or_create(
        operator=operator,
        name=name,
        defaults={"mapping": dataclasses.asdict(mapping), "updated_at": now},
        create_defaults={
            "mapping": dataclasses.asdict(mapping),
            "created_by": by,
            "created_at": now,
            "updated_at": now,
        },
    )
    return saved


def column_mapping(saved: ImportMapping) -> ColumnMapping:
    return ColumnMapping(**saved.mapping)


# --- Upload and preview -----------------------------------------------------------------------


def import_create(
    *,
    operator: Organisation,
    mapping: ImportMapping,
    filename: str,
    data: bytes,
    by: User,
) -> AttendanceImport:
    """Keep an uploaded file for import with `mapping`, and queue its run after commit.

    Refused (ValidationError, with what to fix) when the file cannot be read or the mapping's
    columns are not the file's."""
    _refuse_unless_coordinator(by, operator)
    _refuse_unless_operators(mapping, operator)
    shown, table = _read_upload(filename, data)
    errors = column_mapping(mapping).validate(table.headers)
    if errors:
        raise ValidationError({"mapping": errors})
    created = AttendanceImport.objects.create(
        operator=operator,
        mapping=mapping,
        source_name=_source_name(mapping),
        filename=shown,
        data=data,
        total_rows=_count_rows(table),
        created_by=by,
    )
    transaction.on_commit(lambda: _queue(created.pk))
    return created


def import_upload(
    *,
    operator: Organisation,
    filename: str,
    data: bytes,
    by: User,
    mapping: ImportMapping | None = None,
) -> AttendanceImport:
    """Keep an uploaded file as a draft import, to be mapped (`import_set_mapping`), previewed
    and started (`import_start`) by the coordinator. Refused (ValidationError) when the file
    cannot be read; the mapping's fit to the file is checked when it starts."""
    _refuse_unless_coordinator(by, operator)
    if mapping is not None:
        _refuse_unless_operators(mapping, operator)
    shown, table = _read_upload(filename, data)
    return AttendanceImport.objects.create(
        operator=operator,
        mapping=mapping,
        status=ImportStatus.DRAFT,
        filename=shown,
        data=data,
        total_rows=_count_rows(table),
        created_by=by,
    )


def import_set_mapping(
    *, attendance_import: AttendanceImport, mapping: ImportMapping, by: User
) -> AttendanceImport:
    """Read a draft import with `mapping` (chosen, or just saved for its source)."""
    with transaction.atomic():
        locked = _draft_locked(attendance_import, by)
        _refuse_unless_operators(mapping, locked.operator)
        locked.mapping = mapping
        locked.save(update_fields=["mapping"])
    attendance_import.mapping = mapping
    return locked


def import_start(*, attendance_import: AttendanceImport, by: User) -> AttendanceImport:
    """Start a draft import: checked against its mapping, then queued after commit. Starting
    twice (a double click) is refused the second time, so a file runs once."""
    with transaction.atomic():
        locked = _draft_locked(attendance_import, by)
        mapping = locked.mapping
        if mapping is None:
            raise ValidationError({"mapping": ["Choose which columns hold what first"]})
        try:
            headers = _table(locked).headers
        except ReadError as error:
            raise ValidationError({"file": [str(error)]}) from None
        errors = column_mapping(mapping).validate(headers)
        if errors:
            raise ValidationError({"mapping": errors})
        locked.status = ImportStatus.UPLOADED
        locked.source_name = _source_name(mapping)
        locked.save(update_fields=["status", "source_name"])
        transaction.on_commit(lambda: _queue(locked.pk))
    attendance_import.status, attendance_import.source_name = locked.status, locked.source_name
    return locked


def import_headers(attendance_import: AttendanceImport) -> tuple[str, ...]:
    """The file's column names, as a mapping names them. Reads only."""
    return _table(attendance_import).headers


def import_column_words(
    attendance_import: AttendanceImport, column: str, *, rows: int = 5_000, most: int = 30
) -> list[str]:
    """The distinct values of one column (a status column's words, to translate), as the file
    spells them, from its first `rows` rows and at most `most` of them. Reads only."""
    seen: dict[str, str] = {}
    for row in islice(_table(attendance_import).rows(), rows):
        try:
            word = clean_text(row.values.get(column))
        except CellError:
            continue
        if word:
            seen.setdefault(" ".join(word.split()).casefold(), word)
        if len(seen) >= most:
            break
    return sorted(seen.values(), key=str.casefold)


def _draft_locked(attendance_import: AttendanceImport, by: User) -> AttendanceImport:
    locked = (
        AttendanceImport.objects.select_for_update(of=("self",))
        .select_related("operator", "mapping")
        .defer("data")
        .get(pk=attendance_import.pk)
    )
    _refuse_unless_coordinator(by, locked.operator)
    if locked.status != ImportStatus.DRAFT:
        raise ValidationError("This import has started already")
    return locked


def _refuse_unless_operators(mapping: ImportMapping, operator: Organisation) -> None:
    if mapping.operator_id != operator.pk:
        raise PermissionDenied("This mapping is another organisation's.")


def _source_name(mapping: ImportMapping) -> str:
    return f"{mapping.operator_id}:{mapping.pk}"


def _read_upload(filename: str, data: bytes) -> tuple[str, Table]:
    """The name to show for an uploaded file, and its table; ValidationError if unreadable."""
    try:
        shown = clean_text(os.path.basename(filename.replace("\\", "/")))[-IMPORT_FILENAME_MAX:]
    except CellError:
        shown = "upload"
    if len(data) > IMPORT_MAX_BYTES:
        raise ValidationError(
            {"file": [f"{shown} is larger than 50 MB: export a shorter period and upload that"]}
        )
    try:
        table = read_table(data, shown or "The file")
    except ReadError as error:
        raise ValidationError({"file": [str(error)]}) from None
    return shown, table


def _count_rows(table: Table) -> int:
    """The data rows, for the progress bar: one pass of the reader, no cleaning."""
    try:
        return sum(1 for _ in table.rows())
    except ReadError as error:
        raise ValidationError({"file": [str(error)]}) from None


def _queue(import_id: int) -> None:
    """After commit: hand the run to a worker. A broker outage costs the upload nothing; the
    import waits as uploaded and can be queued again."""
    from .tasks import attendance_import_run  # the task module imports this one

    try:
        attendance_import_run.apply_async(args=[import_id], retry=False)
    except Exception:
        logger.exception("Could not queue attendance import %s", import_id)


@dataclass(frozen=True)
class PreviewRow:
    number: int
    values: dict[str, Cell]
    clean: CleanRow | None
    problems: tuple[str, ...] = ()


@dataclass(frozen=True)
class Preview:
    headers: tuple[str, ...]
    rows: tuple[PreviewRow, ...]


def import_preview(attendance_import: AttendanceImport, n: int = 20) -> Preview:
    """The file's first `n` data rows, each with its clean values or every problem spelled out.
    Reads only."""
    table = _table(attendance_import)
    if attendance_import.mapping is None:
        raise ValidationError({"mapping": ["Choose which columns hold what first"]})
    mapping = column_mapping(attendance_import.mapping)
    rows = []
    for row in islice(table.rows(), n):
        result = mapping.apply(row)
        if isinstance(result, RowProblems):
            rows.append(PreviewRow(row.number, row.values, None, tuple(map(str, result.problems))))
        else:
            rows.append(PreviewRow(row.number, row.values, result))
    return Preview(table.headers, tuple(rows))


def _table(attendance_import: AttendanceImport) -> Table:
    data = (
        AttendanceImport.objects.filter(pk=attendance_import.pk)
        .values_list("data", flat=True)
        .get()
    )
    return read_table(bytes(data), attendance_import.filename)


# --- The run ------------------------------------------------------------------------------------


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
        table = _table(claimed)
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

    candidates = _Candidates.find(operator, [item.clean for item in pending])
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
        referral, refusal = _open_at(found, item.clean)
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


# --- Matching -----------------------------------------------------------------------------------


@dataclass
class _Candidates:
    """The operator's submitted referrals each identifier of a chunk names, newest first, each
    with `accepted_at` (its accept event) annotated: one query per identifier kind."""

    by_number: dict[str, list[Referral]]
    by_reference: dict[str, list[Referral]]
    by_nhs: dict[tuple[str, dt.date], list[Referral]]

    @classmethod
    def find(cls, operator: Organisation, rows: Sequence[CleanRow]) -> _Candidates:
        numbers = {row.membership_number for row in rows} - {""}
        references = {row.referral_reference for row in rows} - {""}
        nhs_numbers = {row.nhs_number for row in rows} - {""}
        by_number: dict[str, list[Referral]] = defaultdict(list)
        by_reference: dict[str, list[Referral]] = defaultdict(list)
        by_nhs: dict[tuple[str, dt.date], list[Referral]] = defaultdict(list)
        if numbers:
            for referral in referrals_for_matching(operator).filter(membership_number__in=numbers):
                by_number[referral.membership_number].append(referral)
        if references:
            for referral in referrals_for_matching(operator).filter(reference__in=references):
                by_reference[referral.reference].append(referral)
        if nhs_numbers:
            for referral in referrals_for_matching(operator).filter(
                patient__nhs_number__in=nhs_numbers
            ):
                patient = referral.patient
                by_nhs[(patient.nhs_number or "", patient.date_of_birth)].append(referral)
        return cls(by_number, by_reference, by_nhs)

    def of(self, row: CleanRow) -> list[Referral]:
        if row.membership_number and (found := self.by_number.get(row.membership_number)):
            return found
        if row.referral_reference and (found := self.by_reference.get(row.referral_reference)):
            return found
        if row.nhs_number and row.date_of_birth:
            return self.by_nhs.get((row.nhs_number, row.date_of_birth), [])
        return []


def referrals_for_matching(operator: Organisation) -> QuerySet[Referral]:
    accepted = (
        ReferralEvent.objects.filter(referral=OuterRef("pk"), action="accept")
        .order_by()
        .values("referral")
        .annotate(first=Min("created_at"))
        .values("first")
    )
    return (
        Referral.objects.filter(operator=operator, submitted_at__isnull=False)
        .exclude(status=Status.DRAFT)
        .select_related("patient")
        .only(
            "pk",
            "reference",
            "operator_id",
            "membership_number",
            "status",
            "status_changed_at",
            "submitted_at",
            "patient__nhs_number",
            "patient__date_of_birth",
        )
        .annotate(accepted_at=Subquery(accepted))
        .order_by("-submitted_at", "-pk")
    )


def _open_at(found: list[Referral], clean: CleanRow) -> tuple[Referral, str]:
    """The referral (of those found, newest first) that was open when the visit happened, or
    the newest and why it was not."""
    refusals = [(referral, _not_open_because(referral, clean)) for referral in found]
    for referral, refusal in refusals:
        if not refusal:
            return referral, ""
    return refusals[0]


def _not_open_because(referral: Referral, clean: CleanRow) -> str:
    accepted: dt.datetime | None = getattr(referral, "accepted_at", None)
    ended = referral.status_changed_at if referral.status in FINAL_STATES else None
    if accepted is None:
        if ended is not None:
            return "The referral ended without being accepted: there is no programme to count it"
        return "Before the referral was accepted: a visit counts from the day it is accepted"
    if clean.time_known:
        before = clean.occurred_at < accepted
        after = ended is not None and clean.occurred_at > ended
    else:
        day = clean.occurred_at.date()
        before = day < timezone.localdate(accepted)
        after = ended is not None and day > timezone.localdate(ended)
    if before:
        return (
            f"Before the referral was accepted (on {timezone.localtime(accepted):%d/%m/%Y}): "
            "a visit counts from then"
        )
    if after and ended is not None:
        label = Status(referral.status).label.lower()
        return f"After the referral ended ({label} on {timezone.localtime(ended):%d/%m/%Y})"
    return ""


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


# --- The coordinator's queue ----------------------------------------------------------------------


def unmatched_queue(operator: Organisation) -> QuerySet[ImportRowProblem]:
    """The operator's unmatched rows nobody has resolved, oldest visit first."""
    return ImportRowProblem.objects.filter(
        operator=operator, kind=ImportRowKind.UNMATCHED, resolved_at__isnull=True
    ).order_by("occurred_at", "pk")


def unmatched_resolve(*, row: ImportRowProblem, referral: Referral, by: User) -> Visit:
    """Record the unmatched row's visit on `referral`, chosen by a coordinator of the operator:
    the operator's own, open at the visit's time. Resolving twice is refused."""
    with transaction.atomic():
        locked = ImportRowProblem.objects.select_for_update().get(pk=row.pk)
        operator = locked.operator
        _refuse_unless_coordinator(by, operator)
        if locked.kind != ImportRowKind.UNMATCHED:
            raise ValidationError("Only an unmatched row is resolved by choosing a referral")
        if locked.resolved_at is not None:
            raise ValidationError("This row has been resolved already")
        if referral.operator_id != operator.pk:
            raise PermissionDenied("That referral is not one of your organisation's.")
        chosen = referrals_for_matching(operator).get(pk=referral.pk)
        if locked.occurred_at is None:  # cleared by retention: nothing left to record
            raise ValidationError("This row's details have been cleared under the retention policy")
        clean = CleanRow(
            number=locked.row_number,
            occurred_at=locked.occurred_at,
            time_known=locked.time_known,
            membership_number=locked.membership_number,
            referral_reference=locked.referral_reference,
            nhs_number=locked.nhs_number,
            date_of_birth=locked.date_of_birth,
            activity=locked.activity,
            status=RowStatus.ATTENDED,
        )
        refusal = _not_open_because(chosen, clean)
        if refusal:
            raise ValidationError({"referral": [refusal]})
        visits_record_matched(
            operator=operator,
            by=by,
            visits=[
                MatchedVisit(
                    event_id=locked.row_key,
                    occurred_at=locked.occurred_at,
                    referral=chosen,
                    membership_number=locked.membership_number,
                    activity=locked.activity,
                )
            ],
        )
        locked.resolved_referral, locked.resolved_by = chosen, by
        locked.resolved_at = timezone.now()
        locked.save(update_fields=["resolved_referral", "resolved_by", "resolved_at"])
        visit = Visit.objects.get(
            operator=operator, source=VisitSourceChoices.IMPORT, source_event_id=locked.row_key
        )
    _copy_resolution(row, locked)
    return visit


def _copy_resolution(target: ImportRowProblem, source: ImportRowProblem) -> None:
    for name in ("resolved_referral_id", "resolved_by_id", "resolved_at"):
        setattr(target, name, getattr(source, name))


def _refuse_unless_coordinator(by: User, operator: Organisation) -> None:
    if not has_permission(by, Permission.ATTENDANCE_IMPORT, operator):
        raise PermissionDenied("Only the operator's coordinators import attendance.")


def imports_of(operator: Organisation) -> Iterable[AttendanceImport]:
    """The operator's imports, newest first, without their files."""
    return AttendanceImport.objects.filter(operator=operator).defer("data")


# --- Retention ------------------------------------------------------------------------------------

CLEAR_IMPORTS = "clear attendance files"


def imports_due_for_clearing(now: dt.datetime) -> QuerySet[AttendanceImport]:
    """Imports uploaded more than `PORTAL_IMPORT_RETENTION_DAYS` ago whose file and row values
    are still kept. Reads only."""
    days = settings.PORTAL_IMPORT_RETENTION_DAYS
    return AttendanceImport.objects.filter(
        data_cleared_at__isnull=True, created_at__lt=now - dt.timedelta(days=days)
    )


def imports_clear(ids: list[int], now: dt.datetime) -> int:
    """Empty the files and forget what their rows said (values, reasons quoting them,
    identifiers and activity); keep the counts, row numbers, times and row keys, so the import's
    totals stand and an old file imported again is still recognised. Inside the retention
    batch's transaction; rows no longer due are skipped."""
    locked = list(
        imports_due_for_clearing(now)
        .filter(pk__in=ids)
        .select_for_update()
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    AttendanceImport.objects.filter(pk__in=locked).update(data=b"", data_cleared_at=now)
    ImportRowProblem.objects.filter(attendance_import_id__in=locked).update(
        values={},
        reasons={},
        membership_number="",
        referral_reference="",
        nhs_number="",
        date_of_birth=None,
        activity="",
    )
    return len(locked)
