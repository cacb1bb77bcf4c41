"""An uploaded attendance file kept as an `AttendanceImport`: queued at once (`import_create`) or
kept as a draft the coordinator maps, previews and starts (`import_upload`,
`import_set_mapping`, `import_preview`, `import_start`); reading the stored file; queueing the
Celery run on commit."""

from __future__ import annotations

import datetime
import logging
import os
from collections.abc import Iterable
from dataclasses import dataclass
from itertools import islice
from typing import TYPE_CHECKING

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone

from delivery.broker import publish

from ..models import IMPORT_FILENAME_MAX, AttendanceImport, ImportMapping, ImportStatus
from .access import refuse_unless_coordinator
from .mappings import column_mapping
from .reading import (
    Cell,
    CellError,
    CleanRow,
    ReadError,
    RowProblems,
    Table,
    clean_text,
    read_table,
)

if TYPE_CHECKING:
    from accounts.models import Organisation, User

logger = logging.getLogger(__name__)

# A started import no worker has taken by then is queued again by the sweep.
IMPORT_REQUEUE_AFTER = datetime.timedelta(minutes=2)

# Larger than any real export (100,000 rows of seven columns are ~6 MB as CSV).
IMPORT_MAX_BYTES = 50 * 1024 * 1024


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
    refuse_unless_coordinator(by, operator)
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
        queued_at=timezone.now(),
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
    refuse_unless_coordinator(by, operator)
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
            headers = import_table(locked).headers
        except ReadError as error:
            raise ValidationError({"file": [str(error)]}) from None
        errors = column_mapping(mapping).validate(headers)
        if errors:
            raise ValidationError({"mapping": errors})
        locked.status = ImportStatus.UPLOADED
        locked.source_name = _source_name(mapping)
        locked.queued_at = timezone.now()
        locked.save(update_fields=["status", "source_name", "queued_at"])
        transaction.on_commit(lambda: _queue(locked.pk))
    attendance_import.status, attendance_import.source_name = locked.status, locked.source_name
    return locked


def import_headers(attendance_import: AttendanceImport) -> tuple[str, ...]:
    """The file's column names, as a mapping names them. Reads only."""
    return import_table(attendance_import).headers


def import_column_words(
    attendance_import: AttendanceImport, column: str, *, rows: int = 5_000, most: int = 30
) -> list[str]:
    """The distinct values of one column (a status column's words, to translate), as the file
    spells them, from its first `rows` rows and at most `most` of them. Reads only."""
    seen: dict[str, str] = {}
    for row in islice(import_table(attendance_import).rows(), rows):
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
    refuse_unless_coordinator(by, locked.operator)
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
    """After commit: hand the run to a worker. A broker outage costs the upload nothing (the
    publish gives up at once, `delivery.broker`); the import waits as uploaded and the sweep
    (`imports_waiting`) hands it over again."""
    from ..tasks import attendance_import_run  # the task module imports this one (by `run`)

    try:
        publish(attendance_import_run, [import_id])
    except Exception as error:
        logger.warning(
            "Could not queue attendance import %s (%s): left for the sweep",
            import_id,
            type(error).__name__,
        )


def imports_waiting(now: datetime.datetime) -> list[int]:
    """Started imports no worker has taken `IMPORT_REQUEUE_AFTER` after they were queued (the
    broker was down, or the message was lost), to queue again; each is queued anew at most once
    a period. Running one twice is safe (`run.import_run`)."""
    due = list(
        AttendanceImport.objects.filter(
            status=ImportStatus.UPLOADED, queued_at__lt=now - IMPORT_REQUEUE_AFTER
        )
        .order_by("queued_at")
        .values_list("pk", flat=True)[:100]
    )
    AttendanceImport.objects.filter(pk__in=due).update(queued_at=now)
    return due


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
    table = import_table(attendance_import)
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


def import_table(attendance_import: AttendanceImport) -> Table:
    data = (
        AttendanceImport.objects.filter(pk=attendance_import.pk)
        .values_list("data", flat=True)
        .get()
    )
    return read_table(bytes(data), attendance_import.filename)


def imports_of(operator: Organisation) -> Iterable[AttendanceImport]:
    """The operator's imports, newest first, without their files."""
    return AttendanceImport.objects.filter(operator=operator).defer("data")
