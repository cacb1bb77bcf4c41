"""Publishing a task from a request without waiting on a broker that does not answer.

A change and its notification rows commit in one transaction; queuing their delivery afterwards
is only a hint that saves the sweep a wait (the sweep delivers whatever was not queued). So a
request must never wait long on Redis:

- **Short timeouts.** Requests publish over a connection of their own with a connect and socket
  timeout of `PORTAL_BROKER_PUBLISH_TIMEOUT` (0.25 s), not the worker's (which must be longer
  than its blocking reads), so a broker that accepts connections but answers nothing (hung,
  stopped, a half-open network) costs the first request that meets it at most about that.
- **A circuit breaker.** That first failure opens the process's circuit: later publishes are
  skipped at once (`CircuitOpen`, the rows wait for the sweep) while a background thread pings
  the broker every `PROBE_INTERVAL_SECONDS`; when it answers, the circuit closes. No request
  pays a timeout to find out whether the broker is back.

One circuit per process (gunicorn worker, Celery child); one publish connection per thread.
"""

from __future__ import annotations

import logging
import threading
import time
from typing import TYPE_CHECKING, Any

import redis
from django.conf import settings

if TYPE_CHECKING:
    from celery import Task
    from kombu import Connection

logger = logging.getLogger(__name__)

PROBE_INTERVAL_SECONDS = 1.0


class CircuitOpen(Exception):
    """The broker failed recently: nothing is published until a probe sees it answer."""


def broker_ping(timeout: float, url: str | None = None) -> bool:
    """Whether the broker (`url`, the configured one by default) answers PING within `timeout`
    seconds (connect and reply each)."""
    url = (url or settings.CELERY_BROKER_URL).replace("redis+socket://", "unix://", 1)
    client = redis.Redis.from_url(url, socket_connect_timeout=timeout, socket_timeout=timeout)
    try:
        return bool(client.ping())
    except (redis.RedisError, OSError):
        return False
    finally:
        client.close()


class Circuit:
    """Closed: publish. Open (after a failure): skip, and probe in the background until the
    broker answers, then close."""

    def __init__(self, probe: Any = None, interval: float = PROBE_INTERVAL_SECONDS) -> None:
        self._lock = threading.Lock()
        self._opened_at: float | None = None
        self._url: str | None = None  # the broker that failed: the one the probe asks
        self._probe = probe or (
            lambda: broker_ping(settings.PORTAL_BROKER_PUBLISH_TIMEOUT, self._url)
        )
        self._interval = interval

    @property
    def is_open(self) -> bool:
        return self._opened_at is not None

    def trip(self, url: str | None = None) -> None:
        with self._lock:
            if self._opened_at is not None:
                return
            self._opened_at, self._url = time.monotonic(), url
        logger.warning("Broker unavailable: queuing paused, the sweep delivers meanwhile")
        threading.Thread(target=self._probe_until_back, name="broker-probe", daemon=True).start()

    def close(self) -> None:
        with self._lock:
            opened_at, self._opened_at = self._opened_at, None
        if opened_at is not None:
            down = time.monotonic() - opened_at
            logger.warning("Broker back after %.1f s: queuing resumed", down)

    def _probe_until_back(self) -> None:
        while self.is_open:
            time.sleep(self._interval)
            if self._probe():
                self.close()


circuit = Circuit()
_local = threading.local()


def _publish_connection(task: Task) -> Connection:
    connection = getattr(_local, "connection", None)
    if connection is not None and getattr(_local, "url", None) != task.app.conf.broker_url:
        _drop_connection()  # the app was pointed at another broker
        connection = None
    if connection is None:
        timeout = settings.PORTAL_BROKER_PUBLISH_TIMEOUT
        options = {
            **task.app.conf.broker_transport_options,
            "socket_connect_timeout": timeout,
            "socket_timeout": timeout,
            "max_retries": 0,
        }
        connection = task.app.connection_for_write(transport_options=options)
        _local.connection, _local.url = connection, task.app.conf.broker_url
    return connection


def _drop_connection() -> None:
    connection = getattr(_local, "connection", None)
    _local.connection = None
    if connection is not None:
        try:
            connection.release()
        except Exception:  # a broken connection may fail to close too; it is dropped anyway
            logger.debug("Dropping a broken broker connection failed", exc_info=True)


def publish(task: Task, arguments: list[Any]) -> None:
    """Queue `task` with `arguments`, or raise: `CircuitOpen` at once while the broker is known
    to be failing; the broker's own error (after at most the publish timeout) otherwise, which
    opens the circuit."""
    if circuit.is_open:
        raise CircuitOpen
    try:
        task.apply_async(args=arguments, retry=False, connection=_publish_connection(task))
    except Exception:
        _drop_connection()
        circuit.trip(task.app.conf.broker_url)
        raise
