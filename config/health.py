"""Health endpoints for orchestrators and load balancers, answered before anything else runs.

- `GET /healthz` (liveness): the process answers. Touches nothing, so a slow database never gets
  a healthy web process restarted.
- `GET /readyz` (readiness): the database answers `SELECT 1` and the broker answers `PING`, each
  within `READY_TIMEOUT_SECONDS`; 503 with which one failed otherwise, so a load balancer stops
  sending requests to a process that cannot serve them.

Served by `HealthCheckMiddleware`, first in the stack: a probe comes from the orchestrator by the
pod's address over plain HTTP, so it must not meet the host check (`ALLOWED_HOSTS`), the HTTPS
redirect, sessions or sign-in. It says nothing about the data: only "ok" or the failing check.
"""

import json
import logging
from collections.abc import Callable

from django.db import connection, transaction
from django.http import HttpRequest, HttpResponse

from delivery.broker import broker_ping

logger = logging.getLogger(__name__)

READY_TIMEOUT_SECONDS = 1.0
LIVE_PATH = "/healthz"
READY_PATH = "/readyz"


def _database() -> None:
    # In a transaction, so the timeout is the transaction's own (behind PgBouncer too).
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET LOCAL statement_timeout = %s", [int(READY_TIMEOUT_SECONDS * 1000)])
        cursor.execute("SELECT 1")


def _broker() -> None:
    if not broker_ping(READY_TIMEOUT_SECONDS):
        raise ConnectionError("the broker did not answer PING")


CHECKS: dict[str, Callable[[], None]] = {"database": _database, "broker": _broker}


def readiness() -> tuple[bool, dict[str, str]]:
    results = {}
    for name, check in CHECKS.items():
        try:
            check()
        except Exception as error:  # any failure is "not ready"; its kind is logged
            logger.warning("Readiness check %s failed: %s", name, type(error).__name__)
            results[name] = "failing"
        else:
            results[name] = "ok"
    return all(value == "ok" for value in results.values()), results


def _json(status: int, body: dict) -> HttpResponse:
    response = HttpResponse(json.dumps(body), status=status, content_type="application/json")
    response["Cache-Control"] = "no-store"
    return response


class HealthCheckMiddleware:
    """Answers GET/HEAD of `/healthz` and `/readyz`; everything else goes on down the stack."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.path not in (LIVE_PATH, READY_PATH):
            return self.get_response(request)
        if request.method not in ("GET", "HEAD"):
            return _json(405, {"status": "method not allowed"})
        if request.path == LIVE_PATH:
            return _json(200, {"status": "ok"})
        ready, checks = readiness()
        return _json(200 if ready else 503, {"status": "ok" if ready else "failing", **checks})
