"""Issue 15: /healthz and /readyz for orchestrators (`config/health.py`), and JSON log lines
with the request id (`config/logs.py`)."""

import json
import logging

import pytest
from django.db import OperationalError

from config import health
from config.logs import JsonFormatter, RequestIdFilter


def test_liveness_answers_without_touching_anything(client, db, django_assert_num_queries):
    with django_assert_num_queries(0):
        response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}
    assert response["Cache-Control"] == "no-store"


def test_readiness_checks_the_database_and_the_broker(client, db):
    response = client.get("/readyz")
    assert response.status_code == 200, response.content
    assert response.json() == {"status": "ok", "database": "ok", "broker": "ok"}


def test_a_broker_that_refuses_makes_the_process_not_ready(client, db, settings):
    settings.CELERY_BROKER_URL = "redis://127.0.0.1:1/0"  # nothing listens on port 1

    response = client.get("/readyz")

    assert response.status_code == 503
    assert response.json() == {"status": "failing", "database": "ok", "broker": "failing"}


def test_a_failing_database_makes_the_process_not_ready(client, db, monkeypatch):
    def down():
        raise OperationalError("connection refused")

    monkeypatch.setitem(health.CHECKS, "database", down)

    response = client.get("/readyz")

    assert response.status_code == 503
    assert response.json()["database"] == "failing"


@pytest.mark.parametrize("path", ["/healthz", "/readyz"])
def test_probes_by_address_over_http_meet_no_host_check_or_redirect(client, db, settings, path):
    """An orchestrator probes the pod's address over plain HTTP: no 400, no redirect."""
    settings.ALLOWED_HOSTS = ["portal.example"]
    settings.SECURE_SSL_REDIRECT = True

    response = client.get(path, HTTP_HOST="10.0.0.7:8000")

    assert response.status_code == 200


def test_probes_take_only_get_and_head(client, db):
    assert client.post("/healthz").status_code == 405
    assert client.head("/healthz").status_code == 200


def test_other_paths_are_untouched(client, db):
    assert client.get("/healthzz").status_code in (302, 404)


# --- Logs ---------------------------------------------------------------------------------------


class _Kept(logging.Handler):
    def __init__(self):
        super().__init__()
        self.addFilter(RequestIdFilter())
        self.lines: list[dict] = []

    def emit(self, record):
        self.lines.append(json.loads(JsonFormatter().format(record)))


def test_a_line_logged_while_serving_a_request_carries_its_id(client, db):
    """Django logs the 404 while the request is served: the line has the id the response
    header gives back, and the next line outside a request has none."""
    kept = _Kept()
    logger = logging.getLogger("django.request")
    logger.addHandler(kept)
    try:
        response = client.get("/no-such-page/", HTTP_X_REQUEST_ID="probe-1234567")
        logging.getLogger("django.request").warning("after the request")
    finally:
        logger.removeHandler(kept)

    assert response.status_code == 404
    assert response["X-Request-ID"] == "probe-1234567"
    during, after = kept.lines[0], kept.lines[-1]
    assert during["request_id"] == "probe-1234567"
    assert during["level"] == "WARNING" and during["logger"] == "django.request"
    assert during["message"].startswith("Not Found")
    assert during["time"].endswith("+00:00")
    assert after["request_id"] == "-"


def test_outside_a_request_the_id_is_a_dash():
    record = logging.getLogger("x").makeRecord("x", logging.INFO, __file__, 1, "m", (), None)
    RequestIdFilter().filter(record)
    assert record.request_id == "-"
    assert json.loads(JsonFormatter().format(record))["request_id"] == "-"


def test_an_exception_is_kept_in_the_line():
    try:
        raise ValueError("boom")
    except ValueError:
        import sys

        record = logging.getLogger("x").makeRecord(
            "x", logging.ERROR, __file__, 1, "failed", (), sys.exc_info()
        )
    line = json.loads(JsonFormatter().format(record))
    assert "ValueError: boom" in line["exception"]


def test_a_line_logged_inside_a_view_carries_the_request_id(client, people, monkeypatch):
    """Lines a view logs (not only Django's own response lines) have the id."""
    kept = _Kept()
    logger = logging.getLogger("tests.view")
    logger.addHandler(kept)
    from referrals.views import home as home_views

    real = home_views.render

    def logging_render(*args, **kwargs):
        logger.warning("rendering")
        return real(*args, **kwargs)

    monkeypatch.setattr(home_views, "render", logging_render)
    client.force_login(people.referrer_a)
    try:
        client.get("/", HTTP_X_REQUEST_ID="view-7654321")
    finally:
        logger.removeHandler(kept)
    assert kept.lines and kept.lines[0]["request_id"] == "view-7654321"
