"""Issue 15: the production web server. Gunicorn started as the Procfile starts it
(`config/gunicorn.conf.py`, DEBUG off, static files collected and served by WhiteNoise) answers the
health probes, serves a signed-in page and a static file, and logs JSON access lines with the
request id."""

# Starting the server is the point of this module.
# ruff: noqa: S603, S310

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

from .harness import BASE_DIR, database_url, free_port

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
    port = free_port()
    static_root = tmp_path / "static"
    env = {
        **os.environ,
        "DATABASE_URL": database_url(connection.settings_dict),
        "REDIS_URL": settings.REDIS_URL,
        "DEBUG": "false",
        "STATIC_ROOT": str(static_root),
        "GUNICORN_BIND": f"127.0.0.1:{port}",
        "WEB_CONCURRENCY": "2",
        "PYTHONUNBUFFERED": "1",
    }
    subprocess.run(
        [sys.executable, "manage.py", "collectstatic", "--noinput", "--verbosity", "0"],
        cwd=BASE_DIR,
        env=env,
        check=True,
    )
    assert PROCFILE_WEB in (BASE_DIR / "Procfile").read_text()
    log = tmp_path / "gunicorn.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [str(Path(sys.executable).parent / "gunicorn"), *PROCFILE_WEB.split()[1:]],
            cwd=BASE_DIR,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                if _get(base + "/healthz")[0] == 200:
                    break
            except OSError:
                time.sleep(0.2)
        else:
            pytest.fail(f"gunicorn did not start: {log.read_text()}")
        yield base, log
    finally:
        process.terminate()
        process.wait(timeout=30)


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
