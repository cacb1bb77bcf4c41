"""One benchmark run: the tier, the people, each section chosen, and the results."""

# git is asked which commit is measured; nothing else is started from here.
# ruff: noqa: S603

from __future__ import annotations

import datetime
import os
import platform
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.db import connection

from . import results as out
from .outbox import measure_outbox
from .over_http import measure_http
from .pages import CSV, LIST, REFERRAL, REPORT, measure_pages
from .results import BenchResults
from .world import BenchError, ensure_tier, find_cast
from .writes import bench_world, measure_writes

# Sections, in the order they run, and the page kinds each times in-process.
SECTIONS = ("lists", "referral", "reports", "writes", "outbox", "http")
PAGE_KINDS = {"lists": {LIST}, "referral": {REFERRAL}, "reports": {REPORT, CSV}}


@dataclass(frozen=True)
class Options:
    tier: str
    runs: int
    sections: tuple[str, ...]
    budget: float  # seconds of timed runs per page before stopping early
    create_seconds: float
    outbox_rows: int
    outbox_timeout: float
    output_dir: Path
    command: str


def _code_version() -> str | None:
    """The commit measured, with "+changes" when the checkout has uncommitted ones (None
    outside a git checkout)."""
    git = ["git", "-C", str(settings.BASE_DIR)]
    try:
        commit = subprocess.run(
            [*git, "rev-parse", "--short", "HEAD"], capture_output=True, text=True, check=True
        ).stdout.strip()
        changes = subprocess.run(
            [*git, "status", "--porcelain", "--untracked-files=no"],
            capture_output=True, text=True, check=True,
        ).stdout.strip()  # fmt: skip
    except (OSError, subprocess.CalledProcessError):
        return None
    return f"{commit}+changes" if changes else commit


def _machine() -> dict[str, object]:
    with connection.cursor() as cursor:
        cursor.execute("SHOW server_version")
        server_version = cursor.fetchone()[0]
    return {
        "cpus": os.cpu_count(),
        "platform": platform.platform(),
        "python": platform.python_version(),
        "postgresql": server_version,
        "database": connection.settings_dict["NAME"],
        "code": _code_version(),
        "load_average_at_start": os.getloadavg(),
    }


def refuse_unless_safe() -> None:
    if getattr(settings, "PRODUCTION", False):
        raise BenchError("Refusing to benchmark in production: it writes rows of its own.")
    if settings.DEBUG:
        raise BenchError(
            "The benchmark measures with DEBUG off (as production runs): run `make bench`, "
            "or set DEBUG=false."
        )


def run(options: Options, log: Callable[[str], None]) -> BenchResults:
    refuse_unless_safe()
    started = datetime.datetime.now(datetime.UTC)
    clock = time.monotonic()

    def say(message: str) -> None:
        log(f"[{time.monotonic() - clock:6.1f} s] {message}")

    ensure_tier(options.tier, say)
    results = BenchResults(
        tier=options.tier,
        started_at=started.isoformat(timespec="seconds"),
        command=options.command,
        machine=_machine(),
        options={
            "runs": options.runs,
            "sections": list(options.sections),
            "budget_seconds": options.budget,
            "create_seconds": options.create_seconds,
            "outbox_rows": options.outbox_rows,
            "outbox_timeout_seconds": options.outbox_timeout,
        },
    )
    log_dir = options.output_dir / "logs"
    kinds = set().union(*(PAGE_KINDS.get(s, set()) for s in options.sections))
    needs_cast = bool(kinds) or "http" in options.sections
    cast = find_cast() if needs_cast else None
    if cast is not None:
        results.people = {
            "referrer": cast.referrer.email,
            "coordinator": cast.coordinator.email,
            "instructor": cast.instructor.email,
            "commissioner": cast.commissioner.email,
            "national commissioner": cast.national.email,
            "org admin": cast.admin.email,
            "operator": cast.operator.name,
            "ICB": cast.icb.name,
            "referral": cast.referral.reference,
            "register": f"{cast.register_class.name} on {cast.register_day}",
        }
        say("As: " + ", ".join(f"{role} {who}" for role, who in results.people.items()))
    if cast is not None and kinds:
        say("Pages, in-process:")
        results.pages = measure_pages(
            cast, runs=options.runs, budget=options.budget, kinds=kinds, log=say
        )
    if "writes" in options.sections or "outbox" in options.sections:
        world = bench_world()
        if "writes" in options.sections:
            say(f"Create-and-submit, {options.create_seconds:g} s from 1 and 4 processes:")
            results.writes = measure_writes(world, seconds=options.create_seconds)
            for run_result in results.writes.runs:
                say(f"  {run_result.processes}: {run_result.per_second:.1f}/s")
        if "outbox" in options.sections:
            say(f"Outbox drain of {options.outbox_rows:,} updates by one worker:")
            results.outbox = measure_outbox(
                world,
                rows=options.outbox_rows,
                timeout=options.outbox_timeout,
                log_dir=log_dir,
                log=say,
            )
    if "http" in options.sections and cast is not None:
        say("List pages over HTTP (gunicorn, four clients):")
        results.http, results.http_workers = measure_http(
            cast, rounds=options.runs, log_dir=log_dir, log=say
        )
    return results


def report_text(results: BenchResults) -> str:
    """Everything measured, as plain tables."""
    parts = [
        f"Benchmark at tier {results.tier}, {results.started_at}, code "
        f"{results.machine.get('code') or 'unknown'} "
        f"({results.machine['cpus']} CPUs, PostgreSQL {results.machine['postgresql']}, "
        f"load average at start {results.machine['load_average_at_start'][0]:.2f})",
    ]
    if results.pages:
        parts += [
            "",
            "Pages in-process (ms; p95 nearest-rank; queries from the warm-up; SQL = the "
            "hand-written baseline's median; ratio = page median / SQL median; * = one cold run)",
            out.pages_table(results.pages),
        ]
    if results.writes is not None:
        parts += [
            "",
            f"Create-and-submit ({results.writes.queries_per_referral} queries and "
            f"{results.writes.savepoints_per_referral} savepoint statements each; target "
            f"{out.CREATE_PER_SECOND:g}/s from four processes)",
            out.writes_table(results.writes),
        ]
    if results.outbox is not None:
        parts += ["", out.outbox_line(results.outbox)]
    if results.http:
        parts += [
            "",
            f"List pages over HTTP (gunicorn, {results.http_workers} workers, four clients)",
            out.http_table(results.http),
        ]
    verdicts = results.verdicts()
    if verdicts:
        parts += ["", "Targets (issue 15):"]
        parts += [f"  {'pass' if ok else 'FAIL'}  {label}" for label, ok in verdicts]
    return "\n".join(parts)
