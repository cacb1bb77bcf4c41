"""Issue 15: the production web server. Gunicorn started as the Procfile starts it
(`config/gunicorn.conf.py`, DEBUG off, static files collected and served by WhiteNoise) answers the
health probes, serves a signed-in page and a static file, and logs JSON access lines with the
request id."""

# Starting the server is the point of this module.
# ruff: noqa: S310

import json
import os
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection

from .harness import BASE_DIR, WebServer, database_url

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

PROCFILE_WEB = "gunicorn --config config/gunicorn.conf.py config.wsgi"


def _get(url: str, headers: dict[str, str] | None = None) -> tuple[int, dict[str, str], bytes]:
    request = urllib.request.Request(url, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read()


@pytest.fixture
def server(tmp_path: Path):
    static_root = tmp_path / "static"
    env = {
        **os.environ,
        "DATABASE_URL": database_url(connection.settings_dict),
        "REDIS_URL": settings.REDIS_URL,
        "DEBUG": "false",
        "STATIC_ROOT": str(static_root),
    }
    subprocess.run(
        [sys.executable, "manage.py", "collectstatic", "--noinput", "--verbosity", "0"],
        cwd=BASE_DIR,
        env=env,
        check=True,
    )
    assert PROCFILE_WEB in (BASE_DIR / "Procfile").read_text()
    web = WebServer(tmp_path, env)
    web.start()
    try:
        yield web.url, web.log_path
    finally:
        web.stop()


def test_gunicorn_serves_probes_pages_and_static_files(server):
    base, log = server

    assert _get(base + "/healthz")[0] == 200
    status, _, body = _get(base + "/readyz")
    assert status == 200, body
    assert json.loads(body) == {"status": "ok", "database": "ok", "broker": "ok"}

    status, headers, body = _get(base + "/accounts/login/", {"X-Request-ID": "gunicorn-1234"})
    assert status == 200
    assert headers["X-Request-ID"] == "gunicorn-1234"
    assert b"Sign in" in body
    stylesheet = next(
        line.split('href="')[1].split('"')[0]
        for line in body.decode().splitlines()
        if 'rel="stylesheet"' in line and "/static/" in line
    )
    status, headers, _ = _get(base + stylesheet)
    assert status == 200
    assert headers["Content-Type"].startswith("text/css")

    time.sleep(0.5)  # the access log is written after the response
    text = log.read_text().splitlines()
    lines = [json.loads(line) for line in text if '"gunicorn.access"' in line]
    login = [line for line in lines if line["path"] == "/accounts/login/"]
    assert login and login[0]["status"] == 200 and login[0]["request_id"] == "gunicorn-1234"
