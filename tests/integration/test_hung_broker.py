"""Issue 15: a hung broker costs nothing after the first state change that meets it, and nothing
is lost. Redis is stopped with SIGSTOP (it keeps its port and accepts connections but answers
nothing, the worst kind of outage), state changes go on, then it resumes with SIGCONT and every
update reaches the receiver exactly once."""

import logging
import os
import signal
import time
from collections import Counter

import pytest

from delivery import tasks
from referrals.models import Notification
from tests.builders import new_draft, run_action

from .harness import wait_until
from .test_status_updates import patient, webhook_ids

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

CHANGES = 30


@pytest.mark.timeout(150)
def test_a_hung_broker_costs_one_short_wait_then_nothing_and_loses_nothing(
    people, broker, receiver, make_worker, monkeypatch, caplog
):
    worker = make_worker()
    drafts = [new_draft(people, patient=patient(i, people.practice_a)) for i in range(CHANGES)]
    run_action(people, new_draft(people), "submit")  # a warm publish connection, as in service
    caplog.set_level(logging.INFO, logger="delivery")

    queuing: list[float] = []  # what each change's after-commit queuing cost
    real_enqueue = tasks.notifications_enqueue

    def timed(public_ids):
        begun = time.monotonic()
        try:
            return real_enqueue(public_ids)
        finally:
            queuing.append(time.monotonic() - begun)

    monkeypatch.setattr(tasks, "notifications_enqueue", timed)

    os.kill(broker.process.pid, signal.SIGSTOP)
    try:
        changes = []
        for draft in drafts:
            begun = time.monotonic()
            run_action(people, draft, "submit")
            changes.append(time.monotonic() - begun)
    finally:
        os.kill(broker.process.pid, signal.SIGCONT)

    assert len(queuing) == CHANGES
    first, rest = queuing[0], queuing[1:]
    assert first < 1.0, f"the first change waited {first:.2f}s on the hung broker"
    assert max(rest) <= 0.1, f"a later change waited {max(rest) * 1000:.0f} ms on the broker"
    assert "Broker unavailable" in caplog.text

    expected = webhook_ids()

    def all_delivered() -> bool:
        worker.restart_if_exited()
        return set(receiver.accepted_ids()) >= expected

    assert wait_until(all_delivered, 90, 0.5), (
        f"{len(set(receiver.accepted_ids()))} of {len(expected)} delivered after Redis resumed\n"
        + worker.log()[-5000:]
    )
    time.sleep(3)
    assert Counter(receiver.accepted_ids()) == Counter(dict.fromkeys(expected, 1))
    assert not Notification.objects.filter(
        channel=Notification.Channel.WEBHOOK, status=Notification.DeliveryStatus.DEAD
    ).exists()
    print(
        f"\nhung broker: first change's queuing {first * 1000:.0f} ms, later ones at most "
        f"{max(rest) * 1000:.1f} ms; whole changes at most {max(changes[1:]) * 1000:.0f} ms"
    )


@pytest.mark.timeout(180)
def test_sweeps_run_beside_a_backlog_of_deliveries_and_are_never_dropped(
    people, broker, receiver, make_worker, monkeypatch
):
    """After a long outage the queue holds thousands of deliveries. The sweep has a queue of its
    own that workers read in turn with the default one, so it runs within seconds, never expires
    behind the backlog, and the updates written meanwhile are delivered once it has drained."""
    import uuid

    import redis

    monkeypatch.setattr(tasks, "notifications_enqueue", lambda ids: 0)  # left for the sweep
    for i in range(5):
        run_action(people, new_draft(people, patient=patient(i, people.practice_a)), "submit")
    monkeypatch.undo()
    expected = webhook_ids()
    assert expected

    from config.celery import app

    backlog = 1000
    with app.connection_for_write() as connection:
        producer = app.amqp.Producer(connection)
        for _ in range(backlog):
            tasks.deliver_notification.apply_async(args=[str(uuid.uuid4())], producer=producer)
    queue = redis.Redis.from_url(broker.url)
    assert queue.llen("celery") == backlog

    worker = make_worker()
    assert wait_until(lambda: "Sweep queued" in worker.log(), 60, 0.2), worker.log()[-3000:]
    left = queue.llen("celery")
    assert left > backlog // 3, f"the sweep ran only once the backlog was down to {left}"

    def all_delivered() -> bool:
        return set(receiver.accepted_ids()) >= expected

    assert wait_until(all_delivered, 150, 0.5), worker.log()[-5000:]
    assert Counter(receiver.accepted_ids()) == Counter(dict.fromkeys(expected, 1))
    assert "Discarding revoked task: delivery.tasks.notifications_sweep" not in worker.log()
    print(f"\nthe first sweep ran with {left} of {backlog} deliveries still queued")
