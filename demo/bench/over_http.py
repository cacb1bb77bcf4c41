"""The list pages over HTTP: gunicorn with the production config, four clients at once.

Each client is a thread holding a signed-in session per person (cookies made with
`force_login`, stored in the database like any session) and asks for every list page in its
own shuffled order, round after round, one request at a time; latency is from sending the
request to reading the last byte.
"""

from __future__ import annotations

import http.client
import multiprocessing
import os
import random
import statistics
import threading
import time
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path

from django.conf import settings
from django.test import Client

from .pages import LIST, Page, pages_for
from .processes import free_port, gunicorn, server_env, wait_until
from .results import HttpResult
from .timing import percentile
from .world import Cast

CLIENTS = 4
TIMEOUT_SECONDS = 60


def _session_cookie(page: Page) -> str:
    client = Client()
    client.force_login(page.user)
    return client.cookies[settings.SESSION_COOKIE_NAME].value


def _get(port: int, url: str, cookie: str) -> tuple[int, float]:
    started = time.perf_counter()
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=TIMEOUT_SECONDS)
    try:
        conn.request("GET", url, headers={"Cookie": f"{settings.SESSION_COOKIE_NAME}={cookie}"})
        response = conn.getresponse()
        response.read()
        status = response.status
    finally:
        conn.close()
    return status, (time.perf_counter() - started) * 1000


def _healthy(port: int) -> bool:
    try:
        return _get(port, "/healthz", "")[0] == 200
    except OSError:
        return False


def _run_clients(client: Callable[..., None], rounds: int, record: bool = True) -> None:
    threads = [threading.Thread(target=client, args=(n, rounds, record)) for n in range(CLIENTS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()


def measure_http(
    cast: Cast, *, rounds: int, log_dir: Path, log: Callable[[str], None]
) -> tuple[list[HttpResult], int]:
    """(per list page, its latencies over HTTP; gunicorn's worker count)."""
    pages = [page for page in pages_for(cast) if page.kind == LIST]
    # A session per client and person: four people at four desks, not one shared sign-in.
    cookies: dict[tuple[int, int], str] = {}
    for number in range(CLIENTS):
        for page in pages:
            key = (number, page.user.pk)
            if key not in cookies:
                cookies[key] = _session_cookie(page)
    port = free_port()
    server = gunicorn(log_dir / "gunicorn.log", server_env(GUNICORN_BIND=f"127.0.0.1:{port}"))
    samples: dict[int, list[float]] = defaultdict(list)
    errors: dict[int, int] = defaultdict(int)
    lock = threading.Lock()

    def client(number: int, rounds: int, record: bool = True) -> None:
        order = list(range(len(pages)))
        rng = random.Random(number)  # noqa: S311 (an order of pages, not a secret)
        for _ in range(rounds):
            rng.shuffle(order)
            for index in order:
                page = pages[index]
                try:
                    status, ms = _get(port, page.url, cookies[(number, page.user.pk)])
                except OSError:
                    status, ms = 0, 0.0
                if not record:
                    continue
                with lock:
                    if status == 200:
                        samples[index].append(ms)
                    else:
                        errors[index] += 1

    server.start()
    try:
        if not wait_until(lambda: _healthy(port), 60, 0.2):
            server.check_running()
            raise RuntimeError(f"gunicorn did not answer:\n{server.log()[-3000:]}")
        expected = int(os.environ.get("WEB_CONCURRENCY", str(multiprocessing.cpu_count() * 2)))
        wait_until(lambda: server.log().count("Booting worker") >= expected, 30, 0.2)
        workers = server.log().count("Booting worker")
        # A round that is not recorded first, so every worker has its imports and templates.
        _run_clients(client, 1, record=False)
        started = time.monotonic()
        _run_clients(client, rounds)
        log(f"  {CLIENTS} clients, {rounds} rounds in {time.monotonic() - started:.1f} s")
    finally:
        server.stop()
    results = []
    for index, page in enumerate(pages):
        times = samples[index]
        results.append(
            HttpResult(
                name=page.name,
                who=page.who,
                requests=len(times) + errors[index],
                errors=errors[index],
                median_ms=statistics.median(times) if times else None,
                p95_ms=percentile(times, 0.95) if times else None,
            )
        )
    return results, workers
