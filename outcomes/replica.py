"""Reports may read from a replica of the database (`REPORTS_DATABASE_URL`, docs/deploy.md).

A report reads a great deal and writes nothing; a read replica takes that load off the primary.
Only reads made inside `reading_reports()` go there (the report page and its CSV): everything
else, writes and the reads that must see them (read-your-writes on every other page), stays on
the primary. A replica lags by seconds, which an aggregate over months does not notice. Without
`REPORTS_DATABASE_URL` there is no `reports` database and the primary serves reports too.
"""

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

from django.conf import settings

REPORTS_DATABASE = "reports"
_reading_reports: ContextVar[bool] = ContextVar("reading_reports", default=False)


@contextmanager
def reading_reports() -> Iterator[None]:
    """Reads inside go to the reports replica, when one is configured."""
    token = _reading_reports.set(True)
    try:
        yield
    finally:
        _reading_reports.reset(token)


def replica_configured() -> bool:
    return REPORTS_DATABASE in settings.DATABASES


class ReportsReplicaRouter:
    """`DATABASE_ROUTERS`: reads inside `reading_reports()` to the replica; no opinion
    otherwise (Django's default: the primary). Nothing is ever migrated on the replica: it
    follows the primary."""

    def db_for_read(self, model: Any, **hints: Any) -> str | None:
        if _reading_reports.get() and replica_configured():
            return REPORTS_DATABASE
        return None

    def db_for_write(self, model: Any, **hints: Any) -> str | None:
        return None

    def allow_relation(self, obj1: Any, obj2: Any, **hints: Any) -> bool | None:
        return True  # the same data, whichever copy it was read from

    def allow_migrate(self, db: str, app_label: str, **hints: Any) -> bool | None:
        return False if db == REPORTS_DATABASE else None
