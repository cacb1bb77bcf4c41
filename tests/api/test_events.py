"""The events feed (issue 12): every change the organisation may see, as the referral page's
timeline shows it, read page by page from an opaque cursor, each exactly once, including an event
whose transaction commits after a later one's.

The feed hands out an event only once every transaction of this database that began before it
has ended: a test's own open transaction would hold back its own events, so the tests that read
the feed commit as they go (`transaction=True`), and they poll until what they expect has come,
as an integration does."""

import threading
import time

import psycopg2
import pytest
from django.db import connection, transaction

from audit.models import AccessRecord
from outcomes.services import assessment_record
from referrals import services
from referrals.models import ReferralEvent, Status
from referrals.selectors import referral_timeline_for
from tests.builders import new_draft, referral_in_state, run_action, session_due_now

from .helpers import expire_tokens, problem_fields

FEED = "/api/v1/events/"
PATIENT = pytest.mark.django_db(transaction=True)


def poll(api, after=None, limit=None) -> tuple[list[dict], str]:
    query = {k: v for k, v in (("after", after), ("limit", limit)) if v is not None}
    response = api.get(FEED, query)
    assert response.status_code == 200, response.content
    body = response.json()
    return body["events"], body["next"]


def drain(api, after, expect: int, limit=None, timeout=60.0) -> tuple[list[dict], str]:
    """Poll from `after`, following `next`, until `expect` events have come (another connection's
    open transaction may hold them back for a moment), then once more to see that none follow."""
    got: list[dict] = []
    deadline = time.monotonic() + timeout
    while len(got) < expect and time.monotonic() < deadline:
        events, after = poll(api, after, limit)
        got += events
        if not events:
            time.sleep(0.2)
    more, after = poll(api, after, limit)
    return got + more, after


def ids(events) -> list[str]:
    return [event["id"] for event in events]


def public_ids(referrals) -> set[str]:
    return {
        str(pk)
        for pk in ReferralEvent.objects.filter(referral__in=referrals).values_list(
            "public_id", flat=True
        )
    }


@PATIENT
def test_read_page_by_page_every_change_comes_exactly_once(people, client_of, api_as):
    first = referral_in_state(people, Status.SUBMITTED)
    api = api_as(client_of(people.operator_x))

    got, after = drain(api, None, expect=len(public_ids([first])), limit=2)
    assert set(ids(got)) == public_ids([first])

    # Changes between polls: the next reads bring exactly those.
    run_action(people, first, "accept")
    second = referral_in_state(people, Status.SUBMITTED)
    new = public_ids([first, second]) - set(ids(got))
    more, after = drain(api, after, expect=len(new), limit=2)
    assert set(ids(more)) == new
    run_action(people, first, "book")
    last, after = drain(api, after, expect=1, limit=2)
    assert [e["action"] for e in last] == ["book"]

    everything = got + more + last
    assert len(ids(everything)) == len(set(ids(everything))) == len(public_ids([first, second]))
    assert poll(api, after)[0] == []
    booked = last[0]
    assert booked["referral"] == first.reference
    assert (booked["from_status"], booked["to_status"]) == ("accepted", "booked")
    assert booked["actor_organisation"]["code"] == people.operator_x.code
    record = AccessRecord.objects.filter(kind="api", referral_ids__contains=[first.pk]).latest("at")
    assert record.organisation == people.operator_x


@PATIENT
def test_an_event_committed_after_a_later_one_is_not_skipped(people, client_of, api_as):
    referral = referral_in_state(people, Status.SUBMITTED)
    api = api_as(client_of(people.operator_x))
    _, after = drain(api, None, expect=len(public_ids([referral])))
    written, release = threading.Event(), threading.Event()
    slow: list[ReferralEvent] = []

    def write_then_wait() -> None:
        try:
            with transaction.atomic():
                slow.append(
                    ReferralEvent.objects.create(
                        referral=referral, kind=ReferralEvent.Kind.NOTE, action="slow_note"
                    )
                )
                written.set()
                release.wait(timeout=30)
        finally:
            connection.close()

    writer = threading.Thread(target=write_then_wait)
    writer.start()
    try:
        assert written.wait(timeout=10)
        quick = ReferralEvent.objects.create(
            referral=referral, kind=ReferralEvent.Kind.NOTE, action="quick_note"
        )
        assert slow[0].id < quick.id and slow[0].txid < quick.txid
        # The quick event is committed, but it waits behind the transaction still open: had it
        # been handed out (and the cursor moved past it), the slow one would be skipped.
        held, after = poll(api, after)
        assert held == []
    finally:
        release.set()
        writer.join(timeout=30)

    got, after = drain(api, after, expect=2)
    assert [e["action"] for e in got] == ["slow_note", "quick_note"]
    assert poll(api, after)[0] == []


@PATIENT
def test_a_transaction_open_in_another_database_holds_nothing_back(people, client_of, api_as):
    """Only this database's transactions can write its events; others on the same server (a
    parallel test run, another application) must not delay the feed."""
    referral = referral_in_state(people, Status.SUBMITTED)
    api = api_as(client_of(people.operator_x))
    _, after = drain(api, None, expect=len(public_ids([referral])))
    settings = connection.settings_dict
    elsewhere = psycopg2.connect(
        dbname="postgres",
        host=settings["HOST"] or None,
        port=settings["PORT"] or None,
        user=settings["USER"] or None,
        password=settings["PASSWORD"] or None,
    )
    try:
        elsewhere.cursor().execute("SELECT pg_current_xact_id()")  # open, with an id
        ReferralEvent.objects.create(referral=referral, kind=ReferralEvent.Kind.NOTE, action="n")
        got, after = poll(api, after)
        assert [event["action"] for event in got] == ["n"]
    finally:
        elsewhere.rollback()
        elsewhere.close()


@PATIENT
def test_the_referrer_sees_what_its_people_see_on_the_referral_page(people, client_of, api_as):
    private = referral_in_state(people, Status.BOOKED, consent_share_outcomes=False)
    shared = referral_in_state(people, Status.BOOKED)
    for referral in (private, shared):
        session = session_due_now(referral.sessions.order_by("scheduled_at").first())
        services.session_record_attendance(session=session, status="dna", by=people.instructor_x)
        assessment_record(
            referral=referral,
            instrument="phq9",
            timepoint="baseline",
            answers={**{f"q{n}": 0 for n in range(1, 9)}, "q9": 1},
            by=people.instructor_x,
        )
    expected = {
        referral.reference: [e.action for e in referral_timeline_for(people.referrer_a, referral)]
        for referral in (private, shared)
    }
    api = api_as(client_of(people.practice_a))

    got, _ = drain(api, None, expect=sum(len(actions) for actions in expected.values()))

    seen = {
        reference: [e["action"] for e in got if e["referral"] == reference]
        for reference in expected
    }
    assert seen == expected
    hidden = {"create", "dna", "assessment_recorded", "safety_alert"}
    assert not hidden & set(seen[private.reference])
    assert hidden <= set(seen[shared.reference])
    assert set(seen[private.reference]) == {"submit", "accept", "book"}


@PATIENT
def test_another_organisation_sees_none_of_it(people, client_of, api_as):
    referral = referral_in_state(people, Status.ACCEPTED)
    own = api_as(client_of(people.operator_x))
    drain(own, None, expect=len(public_ids([referral])))

    for organisation in (people.operator_y, people.practice_b):
        events, _ = poll(api_as(client_of(organisation)))
        assert events == []
    # A commissioner's client can only have reports:read: the feed is refused outright.
    commissioner = api_as(client_of(people.commissioner_org))
    assert commissioner.get("/api/v1/events/").status_code == 403


@PATIENT
def test_a_page_costs_the_same_queries_for_one_event_or_twenty(people, client_of, api_as):
    from django.test.utils import CaptureQueriesContext

    referrals = [referral_in_state(people, Status.ACTIVE) for _ in range(4)]
    api = api_as(client_of(people.operator_x))
    total = len(public_ids(referrals))
    assert total >= 20
    drain(api, None, expect=total)

    counts = []
    for limit in (1, 20):
        with CaptureQueriesContext(connection) as captured:
            events, _ = poll(api, limit=limit)
        assert len(events) == limit
        counts.append(len(captured))
    assert counts[0] == counts[1]


# --- Refusals: no feed read, so no need to commit ---------------------------------------------


@pytest.mark.parametrize(
    "query",
    ["?after=nonsense", "?after=ZTEuMS4y%21", "?after=" + "x" * 200, "?limit=0", "?limit=501"],
)
def test_a_bad_cursor_or_limit_is_a_problem_naming_it(people, client_of, api_as, query):
    response = api_as(client_of(people.operator_x)).get(f"{FEED}{query}")
    assert problem_fields(response, 400) == [query[1:].split("=")[0]]


def test_the_feed_needs_its_scope_and_a_live_token(people, client_of, api_as):
    new_draft(people)
    problem_fields(api_as(client_of(people.practice_a, ["outcomes:read"])).get(FEED), 403)
    issued = client_of(people.practice_a, name="Reader")
    api = api_as(issued)
    expire_tokens(issued)
    problem_fields(api.get(FEED), 401)
