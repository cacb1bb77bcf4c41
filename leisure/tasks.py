"""Celery tasks of the leisure side: thin, taking ids, safe to run twice."""

from celery import shared_task
from django.db import InterfaceError, OperationalError
from django.utils import timezone

from .imports import run, uploads


@shared_task(
    acks_late=True,
    reject_on_worker_lost=True,
    ignore_result=True,
    # A lost connection or a failover: retried, and the run resumes after its last chunk.
    autoretry_for=(OperationalError, InterfaceError),
    retry_backoff=5,
    retry_backoff_max=300,
    max_retries=5,
    # 100,000 rows take well under a minute; a file ten times that still fits.
    soft_time_limit=1800,
    time_limit=1900,
)
def attendance_import_run(import_id: int) -> None:
    """Import an uploaded attendance file (`leisure.imports.run.import_run`)."""
    run.import_run(import_id)


@shared_task(name="leisure.tasks.attendance_imports_sweep", ignore_result=True)
def attendance_imports_sweep() -> int:
    """Beat, every minute: queue again the started imports no worker took (a broker outage at
    the moment of starting loses nothing). Returns how many."""
    waiting = uploads.imports_waiting(timezone.now())
    for import_id in waiting:
        uploads._queue(import_id)
    return len(waiting)
