"""Fixtures for the integration tests: a real Redis, a real Celery worker, a local receiver.

Nothing here uses eager mode or a mocked broker. The test process plays the web server (it calls
the workflow services, whose after-commit hook publishes to Redis); the worker subprocess reads
the same test database, which is why these tests commit (`transaction=True`).
"""

import os

import pytest
from django.db import connection

from accounts.models import Organisation

from .harness import Receiver, RedisServer, Worker, database_url


def pytest_configure(config):
    config.addinivalue_line(
        "markers",
        "integration: starts a real Redis, Celery worker and HTTP receiver (slow, ~30 s each)",
    )


# Short timings so retries, leases and sweeps happen within seconds, but in the same
# proportions as production: webhook timeout < soft limit <= hard limit < lease.
FAST_DELIVERY = {
    "PORTAL_DELIVERY_SWEEP_SECONDS": "1",
    "PORTAL_DELIVERY_SWEEP_GRACE_SECONDS": "2",
    "PORTAL_DELIVERY_RETRY_BASE_SECONDS": "1",
    "PORTAL_DELIVERY_RETRY_CAP_SECONDS": "4",
    "PORTAL_DELIVERY_MAX_ATTEMPTS": "8",
    "PORTAL_WEBHOOK_TIMEOUT_SECONDS": "3",
    "PORTAL_DELIVERY_SOFT_TIME_LIMIT": "4",
    "PORTAL_DELIVERY_TIME_LIMIT": "5",
    "PORTAL_DELIVERY_LEASE_SECONDS": "7",
}


@pytest.fixture
def redis_server(tmp_path):
    server = RedisServer(tmp_path)
    server.start()
    yield server
    server.stop()


@pytest.fixture
def broker(redis_server):
    """Point this process's Celery app at the test Redis, as the web server's would be."""
    from config.celery import app

    def reset_pools():
        app.pool.force_close_all()
        app._pool = None
        app.amqp._producer_pool = None

    previous = app.conf.broker_url
    reset_pools()
    app.conf.broker_url = redis_server.url
    yield redis_server
    reset_pools()
    app.conf.broker_url = previous


@pytest.fixture
def receiver(people):
    practice = people.practice_a
    receiver = Receiver(secret=practice.webhook_secret)
    Organisation.objects.filter(pk=practice.pk).update(
        webhook_enabled=True, webhook_url=receiver.url()
    )
    practice.refresh_from_db()
    yield receiver
    receiver.stop()


@pytest.fixture
def worker_env(tmp_path, redis_server):
    env = {
        **os.environ,
        **FAST_DELIVERY,
        "DATABASE_URL": database_url(connection.settings_dict),
        "REDIS_URL": redis_server.url,
        "DEBUG": "0",
        "PORTAL_WEBHOOK_ALLOW_HTTP": "1",
        "PORTAL_WEBHOOK_ALLOW_PRIVATE": "1",
        "EMAIL_BACKEND": "django.core.mail.backends.filebased.EmailBackend",
        "EMAIL_FILE_PATH": str(tmp_path / "emails"),
        "LOG_LEVEL": "INFO",
    }
    env.pop("PYTEST_CURRENT_TEST", None)
    return env


@pytest.fixture
def make_worker(tmp_path, worker_env, transactional_db):
    """Start workers on demand (env overrides per test); every one is stopped at the end."""
    workers = []

    def make(concurrency: int = 4, **overrides) -> Worker:
        worker = Worker(tmp_path, {**worker_env, **overrides}, concurrency=concurrency)
        worker.start()
        workers.append(worker)
        return worker

    yield make
    for worker in workers:
        worker.stop()
