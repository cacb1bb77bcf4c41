"""Retention of attendance imports: a step leisure registers with `governance.retention`
empties each file and forgets what its rows said `PORTAL_IMPORT_RETENTION_DAYS` after upload."""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.db.models import QuerySet

from ..models import AttendanceImport, ImportRowProblem

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
