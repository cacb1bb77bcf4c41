"""The outbox drain: many pending status updates, one real Celery worker, the sweep sent as
beat sends it, timed until none is pending.

The updates are webhook rows to the bench practice, whose webhook points at a receiver in this
process on 127.0.0.1 (answering 200), so nothing leaves the machine; they hang off a few bench
referrals' submissions and are written in one INSERT ... SELECT, as a backlog after an outage
would stand. The worker gets the dummy email backend, so an email row could not leave either.
"""

from __future__ import annotations

import json
import re
import statistics
import threading
import time
import uuid
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import connection
from kombu.exceptions import ChannelError

from accounts.models import Organisation
from delivery.fhir_messages import bundle_for_update
from delivery.tasks import notifications_sweep_task
from referrals.models import Notification, ReferralEvent

from .processes import celery_worker, server_env, wait_until
from .results import OutboxResult
from .writes import BenchWorld, create_and_submit, delete_bench_referrals

REFERRALS = 20  # the updates are spread over this many bench referrals
DEDUP_PREFIX = "bench-"
DUE = (Notification.DeliveryStatus.PENDING, Notification.DeliveryStatus.RETRYING)
SWEEP = "notifications-sweep"  # its entry in CELERY_BEAT_SCHEDULE
POLL_SECONDS = 1.0


class Receiver:
    """The practice's system: accepts every POST with 200 and counts them."""

    def __init__(self) -> None:
        self.received = 0
        lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                self.rfile.read(int(self.headers.get("Content-Length", "0")))
                with lock:
                    receiver.received += 1
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/bench/referral-updates"

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def _submissions(world: BenchWorld) -> list[ReferralEvent]:
    """A few bench referrals, submitted through the services, and nothing of their own left in
    the outbox (their in-app and email rows)."""
    for index in range(REFERRALS):
        create_and_submit(world, "", 900_000 + index)
    Notification.objects.filter(recipient_organisation=world.practice).delete()
    return list(
        ReferralEvent.objects.filter(
            referral__referring_organisation=world.practice, action="submit"
        ).select_related("referral")
    )


def insert_pending(world: BenchWorld, rows: int, url: str) -> None:
    """`rows` pending webhook updates in one statement, due an hour ago (past the sweep's grace)."""
    events = _submissions(world)
    sample = events[0]
    payload = bundle_for_update(
        message_id=uuid.uuid4(), event=sample, referral=sample.referral, destination=url
    )
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO referrals_notification (public_id, referral_id, event_id, kind, channel,"
            " recipient_organisation_id, recipient_address, digest, dedup_key, payload, status,"
            " attempts, next_attempt_at, last_error, created_at)"
            " SELECT gen_random_uuid(), e.referral_id, e.id, 'update', 'webhook', %(org)s,"
            " %(url)s, false, %(prefix)s || n, %(payload)s::jsonb, 'pending', 0,"
            " now() - interval '1 hour', '', now() - interval '1 hour'"
            " FROM generate_series(1, %(rows)s) AS n"
            " JOIN unnest(%(events)s::bigint[], %(referrals)s::bigint[])"
            "  WITH ORDINALITY AS e(id, referral_id, k) ON e.k = 1 + n %% %(count)s",
            {
                "org": world.practice.pk,
                "url": url,
                "prefix": DEDUP_PREFIX,
                "payload": json.dumps(payload),
                "rows": rows,
                "events": [e.pk for e in events],
                "referrals": [e.referral_id for e in events],
                "count": len(events),
            },
        )


def _pending(world: BenchWorld) -> int:
    return Notification.objects.filter(
        recipient_organisation=world.practice,
        dedup_key__startswith=DEDUP_PREFIX,
        status__in=DUE,
    ).count()


def _queued(queue: str) -> int:
    """Messages waiting in a broker queue."""
    with notifications_sweep_task.app.connection_for_read() as conn:
        try:
            declared = conn.default_channel.queue_declare(queue=queue, passive=True)
        except ChannelError:  # Redis drops an empty queue's key: nothing is waiting
            return 0
        return int(declared.message_count)


TASK_DONE = re.compile(r"deliver_notification\[[^\]]+\] succeeded in ([0-9.]+)s")


def task_median_ms(worker_log: str) -> float | None:
    """The worker's median time per delivery task, from its log lines."""
    times = [float(seconds) * 1000 for seconds in TASK_DONE.findall(worker_log)]
    return statistics.median(times) if times else None


def _sweep_as_beat_does() -> None:
    entry = settings.CELERY_BEAT_SCHEDULE[SWEEP]
    notifications_sweep_task.apply_async(**entry.get("options", {}))


def measure_outbox(
    world: BenchWorld, *, rows: int, timeout: float, log_dir: Path, log: Callable[[str], None]
) -> OutboxResult:
    interval = float(settings.CELERY_BEAT_SCHEDULE[SWEEP]["schedule"])
    result = OutboxResult(
        rows=rows, sweep_every_seconds=interval, sweep_batch=settings.PORTAL_DELIVERY_SWEEP_BATCH
    )
    receiver = Receiver()
    worker = celery_worker(
        log_dir / "worker.log",
        server_env(
            PORTAL_WEBHOOK_ALLOW_HTTP="true",
            PORTAL_WEBHOOK_ALLOW_PRIVATE="true",
            EMAIL_BACKEND="django.core.mail.backends.dummy.EmailBackend",
        ),
    )
    delete_bench_referrals(world)
    try:
        started = time.monotonic()
        insert_pending(world, rows, receiver.url)
        log(f"  {rows:,} pending updates written in {time.monotonic() - started:.1f} s")
        Organisation.objects.filter(pk=world.practice.pk).update(
            webhook_enabled=True, webhook_url=receiver.url
        )
        worker.start()
        if not wait_until(lambda: " ready." in worker.log(), 90, 0.2):
            worker.check_running()
            raise RuntimeError(f"the worker did not start:\n{worker.log()[-3000:]}")
        # Whatever earlier runs left queued (deliveries of rows since deleted) goes first.
        queue = settings.CELERY_TASK_DEFAULT_QUEUE
        if not wait_until(lambda: _queued(queue) == 0, 300, 0.5):
            log(f"  {_queued(queue):,} older tasks still queued: the drain starts behind them")
        started = time.monotonic()
        next_sweep = started
        pending = rows
        while pending:
            now = time.monotonic()
            if now - started > timeout:
                result.timed_out = True
                break
            if now >= next_sweep:
                _sweep_as_beat_does()
                result.sweeps += 1
                next_sweep += interval
            time.sleep(POLL_SECONDS)
            worker.check_running()
            pending = _pending(world)
        result.seconds = time.monotonic() - started
        result.drained = rows - pending
        result.task_median_ms = task_median_ms(worker.log())
        log(f"  the receiver got {receiver.received:,} updates")
    except Exception as failure:
        result.error = f"{type(failure).__name__}: {str(failure)[:500]}"
    finally:
        worker.stop()
        receiver.stop()
        Organisation.objects.filter(pk=world.practice.pk).update(
            webhook_enabled=False, webhook_url=""
        )
        delete_bench_referrals(world)
    return result
