"""What the benchmark found, the targets of issue 15, the terminal table and the JSON file."""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

# Issue 15, "Done when".
LIST_P95_MS = 50.0
REPORT_P95_MS = 1000.0
CSV_MS = 5000.0
CREATE_PER_SECOND = 100.0  # from four processes
OUTBOX_ROWS = 100_000
OUTBOX_SECONDS = 600.0  # for OUTBOX_ROWS, one worker
HTTP_P95_MS = 100.0


@dataclass
class PageResult:
    name: str
    kind: str  # list, referral, report or csv
    who: str
    url: str
    target_ms: float | None
    runs: int = 0
    cold: bool = False
    median_ms: float | None = None
    p95_ms: float | None = None
    queries: int | None = None
    baseline_median_ms: float | None = None
    baseline_p95_ms: float | None = None
    baseline_error: str = ""
    error: str = ""

    @property
    def ratio(self) -> float | None:
        if self.median_ms is None or not self.baseline_median_ms:
            return None
        return self.median_ms / self.baseline_median_ms

    @property
    def passed(self) -> bool | None:
        if self.error:
            return False
        if self.target_ms is None or self.p95_ms is None:
            return None
        return self.p95_ms <= self.target_ms


@dataclass
class ThroughputResult:
    processes: int
    referrals: int
    seconds: float
    errors: int = 0
    error: str = ""

    @property
    def per_second(self) -> float:
        return self.referrals / self.seconds if self.seconds else 0.0


@dataclass
class WritesResult:
    queries_per_referral: int | None
    savepoints_per_referral: int | None = None  # SAVEPOINT and RELEASE statements besides
    runs: list[ThroughputResult] = field(default_factory=list)

    @property
    def passed(self) -> bool | None:
        four = [run for run in self.runs if run.processes == 4]
        if not four:
            return None
        return not four[0].error and four[0].per_second >= CREATE_PER_SECOND


@dataclass
class OutboxResult:
    rows: int
    drained: int = 0
    seconds: float = 0.0
    sweeps: int = 0
    sweep_every_seconds: float = 0.0
    sweep_batch: int = 0
    # The worker's own time per delivery task (its log), apart from waiting for sweeps.
    task_median_ms: float | None = None
    timed_out: bool = False
    error: str = ""

    @property
    def per_second(self) -> float:
        return self.drained / self.seconds if self.seconds else 0.0

    @property
    def projected_seconds(self) -> float | None:
        """How long OUTBOX_ROWS would take at the rate measured."""
        return OUTBOX_ROWS / self.per_second if self.per_second else None

    @property
    def passed(self) -> bool:
        projected = self.projected_seconds
        return not self.error and projected is not None and projected <= OUTBOX_SECONDS


@dataclass
class HttpResult:
    name: str
    who: str
    requests: int = 0
    errors: int = 0
    median_ms: float | None = None
    p95_ms: float | None = None

    @property
    def passed(self) -> bool:
        return not self.errors and self.p95_ms is not None and self.p95_ms <= HTTP_P95_MS


@dataclass
class BenchResults:
    tier: str
    started_at: str
    command: str
    machine: dict[str, Any]
    options: dict[str, Any]
    pages: list[PageResult] = field(default_factory=list)
    writes: WritesResult | None = None
    outbox: OutboxResult | None = None
    http: list[HttpResult] = field(default_factory=list)
    http_workers: int | None = None
    people: dict[str, str] = field(default_factory=dict)

    def verdicts(self) -> list[tuple[str, bool]]:
        """Each target of the issue measured in this run, and whether it was met."""
        out = []
        for kind, label in (("list", "list pages"), ("report", "report scopes"), ("csv", "CSV")):
            results = [p.passed for p in self.pages if p.kind == kind and p.passed is not None]
            if results:
                out.append((label, all(results)))
        if self.writes is not None and self.writes.passed is not None:
            out.append(("create-and-submit from four processes", self.writes.passed))
        if self.outbox is not None:
            out.append(("outbox drain", self.outbox.passed))
        if self.http:
            out.append(("list pages over HTTP", all(h.passed for h in self.http)))
        return out

    def as_json(self) -> dict[str, Any]:
        def with_properties(item: Any) -> dict[str, Any]:
            data = dataclasses.asdict(item)
            for name in ("ratio", "passed", "per_second", "projected_seconds"):
                if hasattr(type(item), name):
                    data[name] = getattr(item, name)
            return data

        writes = None
        if self.writes is not None:
            writes = {
                "queries_per_referral": self.writes.queries_per_referral,
                "savepoints_per_referral": self.writes.savepoints_per_referral,
                "runs": [with_properties(run) for run in self.writes.runs],
                "passed": self.writes.passed,
            }
        return {
            "tier": self.tier,
            "started_at": self.started_at,
            "command": self.command,
            "machine": self.machine,
            "options": self.options,
            "targets": {
                "list_p95_ms": LIST_P95_MS,
                "report_p95_ms": REPORT_P95_MS,
                "csv_ms": CSV_MS,
                "create_per_second_from_four": CREATE_PER_SECOND,
                "outbox_seconds_for_100k": OUTBOX_SECONDS,
                "http_p95_ms": HTTP_P95_MS,
            },
            "pages": [with_properties(page) for page in self.pages],
            "writes": writes,
            "outbox": with_properties(self.outbox) if self.outbox else None,
            "http": [with_properties(h) for h in self.http],
            "http_workers": self.http_workers,
            "verdicts": dict(self.verdicts()),
            "people": self.people,
        }

    def write_json(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(self.as_json(), indent=2, default=str) + "\n")


# --- The terminal table ------------------------------------------------------------------------


def _ms(value: float | None) -> str:
    if value is None:
        return "-"
    return f"{value:,.0f}" if value >= 100 else f"{value:.1f}"


def _verdict(passed: bool | None) -> str:
    return {True: "pass", False: "FAIL", None: "-"}[passed]


def table(headings: list[str], rows: list[list[str]], *, left: int = 2) -> str:
    """Plain columns for a terminal or a docs code block: the first `left` columns (names)
    aligned left, the figures right."""
    widths = [max(len(cell) for cell in column) for column in zip(headings, *rows, strict=True)]

    def line(cells: list[str]) -> str:
        return "  ".join(
            cell.ljust(width) if index < left else cell.rjust(width)
            for index, (cell, width) in enumerate(zip(cells, widths, strict=True))
        ).rstrip()

    return "\n".join(
        [line(headings), line(["-" * width for width in widths]), *(line(row) for row in rows)]
    )


def pages_table(pages: list[PageResult]) -> str:
    rows = []
    for page in pages:
        runs = f"{page.runs}{'*' if page.cold else ''}"
        rows.append(
            [
                page.name,
                page.who,
                runs,
                _ms(page.median_ms),
                _ms(page.p95_ms),
                "-" if page.queries is None else str(page.queries),
                "error" if page.baseline_error else _ms(page.baseline_median_ms),
                "-" if page.ratio is None else f"{page.ratio:.1f}x",
                _ms(page.target_ms),
                page.error or _verdict(page.passed),
            ]
        )
    return table(
        [
            "page",
            "as",
            "runs",
            "median ms",
            "p95 ms",
            "queries",
            "SQL ms",
            "ratio",
            "target",
            "result",
        ],
        rows,
    )


def writes_table(writes: WritesResult) -> str:
    rows = [
        [
            str(run.processes),
            f"{run.referrals:,}",
            f"{run.seconds:.1f}",
            f"{run.per_second:.1f}",
            str(run.errors),
            run.error
            or (_verdict(run.per_second >= CREATE_PER_SECOND) if run.processes == 4 else "-"),
        ]
        for run in writes.runs
    ]
    headings = ["processes", "referrals", "seconds", "per second", "errors", "result"]
    return table(headings, rows, left=0)


def outbox_line(outbox: OutboxResult) -> str:
    if outbox.error:
        return f"Outbox drain: {outbox.error}"
    projected = outbox.projected_seconds
    state = "timed out, " if outbox.timed_out else ""
    task = "-" if outbox.task_median_ms is None else f"{outbox.task_median_ms:.1f} ms"
    return (
        f"Outbox drain: {outbox.drained:,} of {outbox.rows:,} pending updates in "
        f"{outbox.seconds:.1f} s ({state}{outbox.per_second:.1f}/s; {outbox.sweeps} sweeps, one "
        f"every {outbox.sweep_every_seconds:g} s queuing up to {outbox.sweep_batch:,}; median "
        f"delivery task {task}); 100k at this rate: "
        f"{'-' if projected is None else f'{projected / 60:.1f} min'}; "
        f"target 10 min: {_verdict(outbox.passed)}"
    )


def http_table(results: list[HttpResult]) -> str:
    rows = [
        [
            h.name,
            h.who,
            str(h.requests),
            str(h.errors),
            _ms(h.median_ms),
            _ms(h.p95_ms),
            _ms(HTTP_P95_MS),
            _verdict(h.passed),
        ]
        for h in results
    ]
    return table(
        ["page", "as", "requests", "errors", "median ms", "p95 ms", "target", "result"], rows
    )
