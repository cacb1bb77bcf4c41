"""`manage.py bench` (demo/bench/) end to end on tier XS with tiny settings: every section runs
for real (pages, writes from forked processes, a Celery worker draining the outbox, gunicorn
with four clients), prints its table and lands in the JSON file; the bench's rows are gone
afterwards. The numbers themselves are not judged here: this machine is not the benchmark's.

The worker and gunicorn read the test database, so the test commits (`transaction=True`), and
they use a Redis of the test's own so no other test's queued deliveries are touched."""

import io
import json

import pytest
from django.core.management import CommandError, call_command
from django.db import connection

from config.celery import app
from demo.bench.results import BenchResults, OutboxResult, PageResult
from demo.bench.timing import measure, percentile
from demo.bench.world import BENCH_PRACTICE_CODE, NATIONAL_EMAIL
from referrals.models import Notification, Referral
from tests.integration.harness import RedisServer

pytestmark = pytest.mark.xdist_group("scale_data")


@pytest.fixture
def own_redis(tmp_path, settings):
    server = RedisServer(tmp_path)
    server.start()
    previous = app.conf.broker_url

    def reset_pools():
        app.pool.force_close_all()
        app._pool = None
        app.amqp._producer_pool = None

    reset_pools()
    app.conf.broker_url = server.url
    settings.REDIS_URL = server.url
    yield server
    reset_pools()
    app.conf.broker_url = previous
    server.stop()


@pytest.mark.django_db(transaction=True)
def test_bench_runs_every_section_and_writes_json(tmp_path, own_redis, monkeypatch):
    monkeypatch.setenv("WEB_CONCURRENCY", "2")
    out = io.StringIO()
    call_command(
        "bench", "--tier", "XS", "--runs", "1", "--budget", "1", "--create-seconds", "0.3",
        "--outbox", "30", "--outbox-timeout", "60", "--output-dir", str(tmp_path / "bench"),
        stdout=out,
    )  # fmt: skip
    text = out.getvalue()
    for heading in (
        "Tier XS is not loaded: generating it",
        "Pages in-process",
        "referrals:dashboard",
        "triage:worklist",
        "register:caseload",
        "reports:export_csv",
        "Create-and-submit",
        "Outbox drain: 30 of 30 pending updates",
        "List pages over HTTP (gunicorn, 2 workers, four clients)",
        "Targets (issue 15):",
    ):
        assert heading in text, heading
    [path] = (tmp_path / "bench").glob("XS-*.json")
    data = json.loads(path.read_text())
    assert data["tier"] == "XS"
    pages = {(p["name"], p["who"]): p for p in data["pages"]}
    assert not [p for p in data["pages"] if p["error"]]
    national = pages[("reports:report", "national (commissioner)")]
    assert national["runs"] == 1 and national["queries"] > 0 and national["baseline_median_ms"]
    assert {run["processes"] for run in data["writes"]["runs"]} == {1, 4}
    assert all(run["referrals"] > 0 and not run["error"] for run in data["writes"]["runs"])
    assert data["outbox"]["drained"] == 30 and not data["outbox"]["error"]
    assert len(data["http"]) == len([p for p in data["pages"] if p["kind"] == "list"])
    assert all(h["errors"] == 0 and h["requests"] == 4 for h in data["http"])
    # The bench's own rows are gone; its national commissioner stays, for the next run.
    assert not Referral.objects.filter(referring_organisation__code=BENCH_PRACTICE_CODE).exists()
    assert not Notification.objects.filter(recipient_organisation__code=BENCH_PRACTICE_CODE)
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM accounts_user WHERE email = %s", [NATIONAL_EMAIL])
        assert cursor.fetchone()[0] == 1


@pytest.mark.django_db
def test_bench_refuses_another_tier_and_debug(settings, monkeypatch):
    # The database holds tier XS, as its generated ICBs and operators would tell the bench
    # (generating it here cost 13 s of the suite; the end-to-end test reads a database holding
    # none and generates it).
    monkeypatch.setattr("demo.bench.world.loaded_tier", lambda: "XS")
    with pytest.raises(CommandError, match="holds tier XS, not S"):
        call_command("bench", "--tier", "S", "--only", "lists", stdout=io.StringIO())
    settings.DEBUG = True
    with pytest.raises(CommandError, match="DEBUG off"):
        call_command("bench", "--tier", "XS", "--only", "lists", stdout=io.StringIO())


def test_percentiles_and_budget():
    assert percentile([5.0, 1.0, 3.0, 2.0, 4.0], 0.95) == 5.0
    assert percentile([float(n) for n in range(1, 21)], 0.95) == 19.0
    calls = []
    timing = measure(lambda: calls.append(1), runs=5, budget_seconds=10)
    assert timing.runs == 5 and len(calls) == 6  # a warm-up, then the runs
    slow = measure(lambda: None, runs=5, budget_seconds=0.0, warmup=lambda: sum(range(10**5)))
    assert slow.cold and slow.runs == 1


def test_verdicts_follow_the_issue_targets():
    results = BenchResults("M", "now", "bench", {}, {})
    results.pages = [
        PageResult("a", "list", "x", "/", 50.0, runs=3, median_ms=20, p95_ms=49),
        PageResult("b", "report", "x", "/", 1000.0, runs=1, median_ms=900, p95_ms=1200),
    ]
    results.outbox = OutboxResult(rows=1000, drained=1000, seconds=5.0)
    assert dict(results.verdicts()) == {
        "list pages": True,
        "report scopes": False,
        "outbox drain": True,
    }
