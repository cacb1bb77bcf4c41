"""Issue 15: the programme report reads from a second database, a read replica
(`REPORTS_DATABASE_URL`, `outcomes/replica.py`), while every other read and every write stays on
the primary. The replica here is a real copy of the test database made at one moment: a referral
written to the primary afterwards is missing from the report until the copy catches up, which
proves where the report read from."""

import psycopg2
import pytest
from django.db import connection, connections
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from outcomes.replica import REPORTS_DATABASE, ReportsReplicaRouter, reading_reports
from referrals.models import Referral, Status
from tests.builders import referral_in_state

pytestmark = pytest.mark.django_db(transaction=True)


def _admin_connection(settings_dict):
    """A connection to the server's maintenance database, to copy and drop databases."""
    return psycopg2.connect(
        dbname="postgres",
        user=settings_dict.get("USER") or None,
        password=settings_dict.get("PASSWORD") or None,
        host=settings_dict.get("HOST") or None,
        port=settings_dict.get("PORT") or None,
    )


@pytest.fixture
def replica(monkeypatch):
    """A copy of the test database as the `reports` database, dropped afterwards."""
    from django.db.backends.postgresql.base import DatabaseWrapper

    from outcomes import replica as module

    primary = connection.settings_dict
    name = f"{primary['NAME']}_replica"
    admin = _admin_connection(primary)
    admin.autocommit = True
    copy_of = DatabaseWrapper({**primary, "NAME": name}, alias=REPORTS_DATABASE)

    def copy():
        connections.close_all()  # a database is copied only while nobody is connected to it
        copy_of.close()
        with admin.cursor() as cursor:
            # Connections left by earlier tests in this process (a server thread, a worker that
            # has not yet exited) are closed too: this process owns its test database.
            cursor.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s",
                [primary["NAME"]],
            )
            cursor.execute(f'DROP DATABASE IF EXISTS "{name}"')
            cursor.execute(f'CREATE DATABASE "{name}" TEMPLATE "{primary["NAME"]}"')

    copy()
    # As settings.DATABASES["reports"] from REPORTS_DATABASE_URL would give.
    setattr(connections._connections, REPORTS_DATABASE, copy_of)
    monkeypatch.setattr(module, "replica_configured", lambda: True)
    try:
        yield copy
    finally:
        copy_of.close()
        delattr(connections._connections, REPORTS_DATABASE)
        with admin.cursor() as cursor:
            cursor.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.close()


def _referrals_shown(client) -> int:
    page = client.get(reverse("reports:report")).content.decode()
    shown = page.split(">Referrals</dt>", 1)[1].split("</dd>", 1)[0]
    return int(shown.rsplit(">", 1)[1])


def test_the_report_reads_from_the_replica_and_nothing_else_does(client, people, replica):
    for status in (Status.SUBMITTED, Status.ACCEPTED, Status.ACTIVE):
        referral_in_state(people, status)
    replica()  # the replica has caught up
    referral_in_state(people, Status.SUBMITTED)  # on the primary only, for now
    client.force_login(people.coordinator_x)
    on_primary = Referral.objects.filter(operator=people.operator_x).exclude(status="draft")

    with CaptureQueriesContext(connections[REPORTS_DATABASE]) as on_replica:
        shown = _referrals_shown(client)

    assert shown == on_primary.count() - 1  # the replica's figures, a moment behind
    # The figures come from the report's facts (outcomes/report_facts.py), read on the replica.
    assert any("outcomes_reportreferral" in q["sql"] for q in on_replica.captured_queries)
    replica()
    assert _referrals_shown(client) == on_primary.count()  # caught up
    # The triage worklist (another page) reads the primary.
    with CaptureQueriesContext(connections[REPORTS_DATABASE]) as elsewhere:
        client.get(reverse("triage:worklist"))
    assert elsewhere.captured_queries == []


def test_without_a_replica_reports_read_the_primary():
    router = ReportsReplicaRouter()
    with reading_reports():
        assert router.db_for_read(Referral) is None
    assert router.allow_migrate(REPORTS_DATABASE, "referrals") is False
    assert router.allow_migrate("default", "referrals") is None
    assert router.db_for_write(Referral) is None
