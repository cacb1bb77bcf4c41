"""Issue 15: a broker that fails costs one request a short timeout, then nothing until it is back
(`delivery/broker.py`); the rows it could not queue stay for the sweep."""

import threading

import pytest

from delivery import broker, tasks
from delivery.broker import Circuit, CircuitOpen
from referrals.models import Notification, Status
from tests.builders import new_draft, run_action


@pytest.fixture
def dead_broker(settings, monkeypatch):
    """Nothing listens where the broker should be: every connection is refused."""
    from config.celery import app

    monkeypatch.setattr(broker, "_local", threading.local())
    previous = app.conf.broker_url
    app.conf.broker_url = "redis://127.0.0.1:1/0"
    settings.CELERY_BROKER_URL = "redis://127.0.0.1:1/0"
    yield
    app.conf.broker_url = previous
    broker.circuit.close()


def test_a_failed_publish_opens_the_circuit_and_later_ones_skip_the_broker(
    dead_broker, monkeypatch
):
    with pytest.raises(Exception) as first:
        broker.publish(tasks.deliver_notification, ["x"])
    assert not isinstance(first.value, CircuitOpen)
    assert broker.circuit.is_open

    tried = []
    monkeypatch.setattr(broker, "_publish_connection", lambda task: tried.append(task))
    for _ in range(20):
        with pytest.raises(CircuitOpen):
            broker.publish(tasks.deliver_notification, ["x"])
    assert tried == []  # no connection was even asked for


def test_a_state_change_with_the_broker_down_leaves_its_updates_for_the_sweep(
    people, dead_broker, django_capture_on_commit_callbacks
):
    drafts = [new_draft(people) for _ in range(3)]
    for draft in drafts:
        with django_capture_on_commit_callbacks(execute=True):
            run_action(people, draft, "submit")

    assert broker.circuit.is_open
    pending = Notification.objects.filter(
        event__referral__in=drafts, status=Notification.DeliveryStatus.PENDING
    )
    assert pending.exclude(channel=Notification.Channel.IN_APP).count() >= 3
    for draft in drafts:
        draft.refresh_from_db()
        assert draft.status == Status.SUBMITTED


def test_the_probe_closes_the_circuit_when_the_broker_answers():
    answers = iter([False, False, True])
    closed = threading.Event()

    def probe():
        ok = next(answers)
        if ok:
            closed.set()
        return ok

    circuit = Circuit(probe=probe, interval=0.01)
    circuit.trip()
    assert circuit.is_open
    assert closed.wait(5)
    for _ in range(100):
        if not circuit.is_open:
            break
        threading.Event().wait(0.01)
    assert not circuit.is_open


def test_tripping_twice_starts_one_probe(monkeypatch):
    started = []
    monkeypatch.setattr(
        broker.threading,
        "Thread",
        lambda **kw: started.append(kw) or type("T", (), {"start": lambda s: None})(),
    )
    circuit = Circuit(probe=lambda: False)
    circuit.trip()
    circuit.trip()
    assert len(started) == 1


def test_the_ping_says_whether_the_broker_answers(settings):
    assert broker.broker_ping(1.0)
    settings.CELERY_BROKER_URL = "redis://127.0.0.1:1/0"
    assert not broker.broker_ping(0.25)


def test_a_healthy_broker_gets_the_task(settings):
    """With the circuit closed and Redis up, publish queues the message (the worker's queue
    grows by one)."""
    from config.celery import app

    with app.connection_for_write() as connection:
        client = connection.default_channel.client
        before = client.llen("celery")
        broker.publish(tasks.deliver_notification, ["00000000-0000-0000-0000-000000000000"])
        assert client.llen("celery") == before + 1
        client.lpop("celery")
    assert not broker.circuit.is_open
