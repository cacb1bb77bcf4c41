"""Starting the bench's servers (a Celery worker, gunicorn) as the Procfile does, against the
database and Redis this process uses, and stopping them again."""

# Starting the project's own programs is this module's job.
# ruff: noqa: S603

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from urllib.parse import quote

from django.conf import settings
from django.db import connection

BASE_DIR = Path(settings.BASE_DIR)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def wait_until(condition: Callable[[], bool], timeout: float, interval: float = 0.1) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(interval)
    return condition()


def database_url() -> str:
    """This process's database as a DATABASE_URL (under pytest, the test database)."""
    db = connection.settings_dict
    user = quote(db.get("USER") or "", safe="")
    password = quote(db.get("PASSWORD") or "", safe="")
    credentials = f"{user}:{password}@" if password else (f"{user}@" if user else "")
    host = quote(db.get("HOST") or "", safe="")
    port = f":{db['PORT']}" if db.get("PORT") else ""
    return f"postgres://{credentials}{host}{port}/{db['NAME']}"


def server_env(**extra: str) -> dict[str, str]:
    """The environment of a server started by the bench: this process's, its database and
    Redis named explicitly, DEBUG off."""
    return {
        **os.environ,
        "DATABASE_URL": database_url(),
        "REDIS_URL": settings.REDIS_URL,
        "DEBUG": "false",
        "PYTHONUNBUFFERED": "1",
        **extra,
    }


class Server:
    """A program in a process group of its own, its output in `log_path`."""

    def __init__(self, command: list[str], env: dict[str, str], log_path: Path):
        self.command, self.env, self.log_path = command, env, log_path
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        with self.log_path.open("wb") as log:
            self.process = subprocess.Popen(
                self.command,
                cwd=BASE_DIR,
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
            )

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def check_running(self) -> None:
        if self.process is None or self.process.poll() is not None:
            raise RuntimeError(f"{self.command[0]} exited:\n{self.log()[-3000:]}")

    def stop(self) -> None:
        """SIGTERM to the group (a warm shutdown), SIGKILL if it has not ended in 30 s."""
        if self.process is None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(30)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(10)
        self.process = None


def celery_worker(log_path: Path, env: dict[str, str]) -> Server:
    """One worker process as the Procfile runs it (`WORKER_CONCURRENCY=1`), named apart from
    any other worker on the same Redis."""
    command = [
        sys.executable, "-m", "celery", "-A", "config", "worker", "-l", "info",
        "--concurrency", "1", "--max-tasks-per-child", "1000",
        "--hostname", f"bench-{os.getpid()}@%h",
    ]  # fmt: skip
    return Server(command, env, log_path)


def gunicorn(log_path: Path, env: dict[str, str]) -> Server:
    """Gunicorn with the production config (`config/gunicorn.conf.py`, the Procfile's web)."""
    binary = str(Path(sys.executable).parent / "gunicorn")
    command = [binary, "--config", "config/gunicorn.conf.py", "config.wsgi"]
    return Server(command, env, log_path)
