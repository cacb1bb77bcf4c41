"""The pages timed in-process: every list page, the referral page from both sides, each report
scope and the national CSV, each as its heaviest realistic user, against its SQL baseline.

Requests go through Django's test client (the whole middleware stack, DEBUG off) signed in
with `force_login`; the body is read to the end, so a streamed response is timed whole. The
query count comes from the warm-up request, so capturing the queries costs the timed runs
nothing.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from dataclasses import dataclass

from django.db import connection, connections
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from accounts.models import User

from . import baselines
from .baselines import Baseline
from .results import CSV_MS, LIST_P95_MS, REPORT_P95_MS, PageResult
from .timing import measure
from .world import Cast

LIST, REFERRAL, REPORT, CSV = "list", "referral", "report", "csv"
TARGETS = {LIST: LIST_P95_MS, REPORT: REPORT_P95_MS, CSV: CSV_MS}


@dataclass(frozen=True)
class Page:
    name: str
    kind: str
    user: User
    who: str
    url: str
    baseline: Callable[[], Baseline]


def pages_for(cast: Cast) -> list[Page]:
    """Every page measured, in the order printed."""
    operator = str(cast.operator.public_id)
    referrer, coordinator, instructor = "referrer", "coordinator", "instructor"
    commissioner, admin, national = "ICB commissioner", "org admin", "national commissioner"

    def page(
        name: str, kind: str, user: User, who: str, url: str, baseline: Callable[[], Baseline]
    ) -> Page:
        return Page(name, kind, user, who, url, baseline)

    return [
        page("home", LIST, cast.referrer, referrer, reverse("home"),
             lambda: baselines.referrer_home(cast)),
        page("referrals:dashboard", LIST, cast.referrer, referrer, reverse("referrals:dashboard"),
             lambda: baselines.referrer_dashboard(cast)),
        page("home", LIST, cast.coordinator, coordinator, reverse("home"),
             lambda: baselines.coordinator_home(cast)),
        page("triage:worklist", LIST, cast.coordinator, coordinator, reverse("triage:worklist"),
             lambda: baselines.triage_worklist(cast)),
        page("triage:classes", LIST, cast.coordinator, coordinator, reverse("triage:classes"),
             lambda: baselines.triage_classes(cast)),
        page("triage:class", LIST, cast.coordinator, coordinator,
             reverse("triage:class", args=[cast.coordinator_class.public_id]),
             lambda: baselines.triage_class(cast)),
        page("triage:imports", LIST, cast.coordinator, coordinator, reverse("triage:imports"),
             lambda: baselines.triage_imports(cast)),
        page("triage:unmatched", LIST, cast.coordinator, coordinator,
             reverse("triage:unmatched"), lambda: baselines.triage_unmatched(cast)),
        page("home", LIST, cast.instructor, instructor, reverse("home"),
             lambda: baselines.instructor_home(cast)),
        page("register:today", LIST, cast.instructor, instructor, reverse("register:today"),
             lambda: baselines.register_today(cast)),
        page("register:register", LIST, cast.instructor, instructor,
             reverse("register:register", args=[cast.register_class.public_id, cast.register_day]),
             lambda: baselines.register(cast)),
        page("register:caseload", LIST, cast.instructor, instructor, reverse("register:caseload"),
             lambda: baselines.caseload(cast)),
        page("outcomes:due", LIST, cast.instructor, instructor, reverse("outcomes:due"),
             lambda: baselines.outcomes_due(cast)),
        page("home", LIST, cast.commissioner, commissioner, reverse("home"),
             lambda: baselines.commissioner_home(cast.commissioner)),
        page("home", LIST, cast.national, national, reverse("home"),
             lambda: baselines.commissioner_home(cast.national)),
        page("home", LIST, cast.admin, admin, reverse("home"),
             lambda: baselines.admin_home(cast)),
        page("manage:index", LIST, cast.admin, admin, reverse("manage:index"),
             lambda: baselines.manage_index(cast)),
        page("manage:facilities", LIST, cast.admin, admin,
             reverse("manage:facilities", args=[operator]),
             lambda: baselines.manage_facilities(cast)),
        page("manage:programmes", LIST, cast.admin, admin,
             reverse("manage:programmes", args=[operator]),
             lambda: baselines.manage_programmes(cast)),
        page("manage:classes", LIST, cast.admin, admin, reverse("manage:classes", args=[operator]),
             lambda: baselines.manage_classes(cast)),
        page("manage:members", LIST, cast.admin, admin, reverse("manage:members", args=[operator]),
             lambda: baselines.manage_members(cast)),
        page("audit:search", LIST, cast.admin, admin, reverse("audit:search"),
             lambda: baselines.audit_search(cast)),
        page("referrals:detail", REFERRAL, cast.referrer, referrer,
             reverse("referrals:detail", args=[cast.referral.reference]),
             lambda: baselines.referral_page(cast)),
        page("referrals:detail", REFERRAL, cast.referral_coordinator, coordinator,
             reverse("referrals:detail", args=[cast.referral.reference]),
             lambda: baselines.referral_page(cast)),
        page("reports:report", REPORT, cast.coordinator, "operator (coordinator)",
             reverse("reports:report"), lambda: baselines.operator_report(cast)),
        page("reports:report", REPORT, cast.commissioner, "ICB (commissioner)",
             reverse("reports:report"), lambda: baselines.commissioner_report(cast.commissioner)),
        page("reports:report", REPORT, cast.national, "national (commissioner)",
             reverse("reports:report"), lambda: baselines.commissioner_report(cast.national)),
        page("reports:export_csv", CSV, cast.national, "national (commissioner)",
             reverse("reports:export_csv"),
             lambda: baselines.commissioner_report(cast.national)),
    ]  # fmt: skip


class SignedIn:
    """One test client per person, signed in once."""

    def __init__(self) -> None:
        self.clients: dict[int, Client] = {}

    def client(self, user: User) -> Client:
        if user.pk not in self.clients:
            client = Client()
            client.force_login(user)
            self.clients[user.pk] = client
        return self.clients[user.pk]


def _queries_of(call: Callable[[], object]) -> int:
    """Queries `call` runs, on every database alias (a report may read from a replica)."""
    with contextlib.ExitStack() as stack:
        contexts = [stack.enter_context(CaptureQueriesContext(connections[a])) for a in connections]
        call()
    return sum(len(context) for context in contexts)


class RequestFailed(Exception):
    """The page answered something other than 200."""


def _fetch(client: Client, url: str) -> None:
    response = client.get(url)
    if response.status_code != 200:
        raise RequestFailed(f"HTTP {response.status_code}")
    if getattr(response, "streaming", False):
        for _chunk in response.streaming_content:  # type: ignore[attr-defined]
            pass
    else:
        _ = response.content


def _run_sql(baseline: Baseline) -> None:
    with connection.cursor() as cursor:
        cursor.execute(baseline.sql, baseline.params)
        cursor.fetchall()


def measure_page(signed_in: SignedIn, page: Page, *, runs: int, budget: float) -> PageResult:
    result = PageResult(
        name=page.name, kind=page.kind, who=page.who, url=page.url, target_ms=TARGETS.get(page.kind)
    )
    client = signed_in.client(page.user)
    counted: list[int] = []

    def fetch() -> None:
        _fetch(client, page.url)

    try:
        timing = measure(
            fetch,
            runs=runs,
            budget_seconds=budget,
            warmup=lambda: counted.append(_queries_of(fetch)),
        )
    except RequestFailed as failure:
        result.error = str(failure)
        return result
    except Exception as failure:  # a page that breaks is reported, and the bench goes on
        result.error = f"{type(failure).__name__}: {str(failure)[:200]}"
        return result
    result.runs, result.cold = timing.runs, timing.cold
    result.median_ms, result.p95_ms = timing.median_ms, timing.p95_ms
    result.queries = counted[0]
    try:
        baseline = page.baseline()
        sql = measure(lambda: _run_sql(baseline), runs=runs, budget_seconds=budget)
    except Exception as failure:  # the schema moved under the hand-written query
        result.baseline_error = f"{type(failure).__name__}: {str(failure)[:200]}"
        return result
    result.baseline_median_ms, result.baseline_p95_ms = sql.median_ms, sql.p95_ms
    return result


def measure_pages(
    cast: Cast, *, runs: int, budget: float, kinds: set[str], log: Callable[[str], None]
) -> list[PageResult]:
    signed_in = SignedIn()
    results = []
    for page in pages_for(cast):
        if page.kind not in kinds:
            continue
        result = measure_page(signed_in, page, runs=runs, budget=budget)
        log(
            f"  {page.name} as {page.who}: "
            + (result.error or f"p95 {result.p95_ms:.1f} ms over {result.runs} runs")
        )
        results.append(result)
    return results
