"""Repeated timings and their summary: warm-up, then runs within a time budget."""

from __future__ import annotations

import math
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass


def percentile(samples: list[float], fraction: float) -> float:
    """Nearest-rank percentile: the smallest sample with at least `fraction` of them at or below
    it (with 20 runs, p95 is the 19th fastest; with fewer than 20 it is the slowest)."""
    ordered = sorted(samples)
    return ordered[max(0, math.ceil(fraction * len(ordered)) - 1)]


@dataclass(frozen=True)
class Timing:
    samples_ms: tuple[float, ...]
    # The warm-up had to stand in for the runs: it alone took longer than the budget.
    cold: bool = False

    @property
    def runs(self) -> int:
        return len(self.samples_ms)

    @property
    def median_ms(self) -> float:
        return statistics.median(self.samples_ms)

    @property
    def p95_ms(self) -> float:
        return percentile(list(self.samples_ms), 0.95)


def timed(call: Callable[[], object]) -> float:
    """Milliseconds that `call` took, wall clock."""
    started = time.perf_counter()
    call()
    return (time.perf_counter() - started) * 1000


def measure(
    call: Callable[[], object],
    *,
    runs: int,
    budget_seconds: float,
    warmup: Callable[[], object] | None = None,
) -> Timing:
    """One warm-up (`warmup`, else `call`), then up to `runs` timed calls, stopping once they
    have used `budget_seconds` (always at least one). A warm-up slower than the whole budget is
    kept as the only sample instead, so a page that takes minutes is not run three times."""
    warm_ms = timed(warmup or call)
    if warm_ms / 1000 > budget_seconds:
        return Timing((warm_ms,), cold=True)
    samples: list[float] = []
    spent = 0.0
    while len(samples) < runs and (not samples or spent < budget_seconds):
        sample = timed(call)
        samples.append(sample)
        spent += sample / 1000
    return Timing(tuple(samples))
