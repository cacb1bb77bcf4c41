"""Issue 15: the portal behind PgBouncer in transaction pooling mode (docs/deploy.md).

Gunicorn with four workers reaches the test database only through PgBouncer with two server
connections, so every worker's transactions run on whichever server connection is free: any
session state the portal relied on (a time zone set per connection, a server-side cursor, a
session-level setting) would leak between them or be lost. Four GP systems then make and send
referrals over the API at once, and each referral, its timeline and its change-history context
(the request id, set transaction-locally by pghistory) must come out right."""

# A local server is what these requests are for.
# ruff: noqa: S310

import concurrent.futures
import json
import os
import shutil
import urllib.request
import uuid

import pytest
from django.conf import global_settings
from django.db import connection

from accounts.api_clients import api_client_create
from governance.models import PatientEvent
from referrals.models import Referral, Status

from .harness import PgBouncer, WebServer, database_url
from .test_gunicorn import _get

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

PER_CLIENT = 4
CLIENTS = 4


def _pgbouncer_binary() -> str:
    found = shutil.which("pgbouncer") or (
        "/usr/sbin/pgbouncer" if os.path.exists("/usr/sbin/pgbouncer") else None
    )
    if found is None:
        if os.environ.get("CI"):
            pytest.fail("CI needs pgbouncer: `make test` installs it (apt-get install pgbouncer)")
        pytest.skip("pgbouncer is not installed (sudo apt-get install pgbouncer)")
    return found


@pytest.fixture
def bouncer():
    server = PgBouncer(_pgbouncer_binary(), connection.settings_dict, pool_size=2)
    server.start()
    yield server
    server.stop()


@pytest.fixture
def web(tmp_path, bouncer, settings):
    user = connection.settings_dict.get("USER") or "postgres"
    env = {
        **os.environ,
        "DATABASE_URL": bouncer.database_url(connection.settings_dict["NAME"], user),
        "DATABASE_TRANSACTION_POOLING": "true",
        "REDIS_URL": settings.REDIS_URL,
    }
    assert env["DATABASE_URL"] != database_url(connection.settings_dict)
    server = WebServer(tmp_path, env, workers=4)
    server.start()
    yield server
    server.stop()


def _post(url: str, body: dict | None, headers: dict[str, str], form: bool = False):
    data = (
        "&".join(f"{k}={v}" for k, v in body.items()).encode()
        if form
        else json.dumps(body or {}).encode()
    )
    content_type = "application/x-www-form-urlencoded" if form else "application/json"
    request = urllib.request.Request(
        url, data=data, headers={"Content-Type": content_type, **headers}, method="POST"
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        return response.status, json.loads(response.read())


def _draft(people) -> dict:
    from tests.api.test_referral_writes import draft_body

    return draft_body(people)


def test_four_gp_systems_refer_at_once_through_pgbouncer(people, bouncer, web, settings):
    assert _get(web.url + "/readyz")[0] == 200, web.log()[-3000:]
    # Secrets hashed as the server will check them (the tests' fast hasher is not its own).
    settings.PASSWORD_HASHERS = global_settings.PASSWORD_HASHERS
    credentials = [
        api_client_create(
            organisation=people.practice_a,
            name=f"GP system {n}",
            scopes=["referrals:read", "referrals:write"],
            by=None,
        )
        for n in range(CLIENTS)
    ]

    def refer(issued) -> list[tuple[str, str]]:
        status, token = _post(
            web.url + "/oauth/token/",
            {
                "grant_type": "client_credentials",
                "client_id": issued.client_id,
                "client_secret": issued.client_secret,
            },
            {},
            form=True,
        )
        assert status == 200
        auth = {"Authorization": f"Bearer {token['access_token']}"}
        made = []
        for _ in range(PER_CLIENT):
            request_id = f"pgb-{uuid.uuid4().hex[:16]}"
            status, draft = _post(
                web.url + "/api/v1/referrals/",
                _draft(people),
                {**auth, "X-Request-ID": request_id, "Idempotency-Key": str(uuid.uuid4())},
            )
            assert status == 201, draft
            status, sent = _post(
                web.url + f"/api/v1/referrals/{draft['reference']}/submit/",
                {"version": draft["version"]},
                auth,
            )
            assert status == 200, sent
            assert sent["status"] == "submitted"
            made.append((draft["reference"], request_id))
        return made

    with concurrent.futures.ThreadPoolExecutor(CLIENTS) as pool:
        results = [r for made in pool.map(refer, credentials) for r in made]

    assert len(results) == CLIENTS * PER_CLIENT
    for reference, request_id in results:
        referral = Referral.objects.get(reference=reference)
        assert referral.status == Status.SUBMITTED
        assert referral.events.filter(action="submit").count() == 1
        # The history row written with the patient carries this request's context, set
        # transaction-locally: never another request's, whichever server connection ran it.
        created = PatientEvent.objects.filter(pgh_obj_id=referral.patient_id).first()
        assert created is not None
        assert created.pgh_context is not None
        assert created.pgh_context.metadata.get("request_id") == request_id
    assert "ERROR" not in web.log(), web.log()[-3000:]
    assert "login attempt" in bouncer.log()  # the web server's connections were PgBouncer's
