"""`POST /api/v1/checkins/` (issue 14): visits from a leisure operator's gym platform, each
recorded once, matched by membership number, refused for another operator's client, in a
constant number of queries per batch."""

import datetime
import json
import uuid

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import resolve, reverse
from django.utils import timezone

from audit.models import AccessRecord
from referrals import services
from referrals.models import Referral, Status, Visit
from tests.builders import referral_in_state

from .helpers import problem_fields

URL = "/api/v1/checkins/"


@pytest.fixture
def operator(people, client_of, api_as):
    return api_as(client_of(people.operator_x))


def with_number(people, status, number) -> Referral:
    referral = referral_in_state(people, status)
    services.referral_set_membership_number(
        referral=referral, by=people.coordinator_x, number=number
    )
    return referral


def an_event(people, event_id="e-1", number="M-100", **fields):
    at = timezone.now() - datetime.timedelta(hours=1)
    return {
        "event_id": event_id,
        "facility": str(people.facility_x.public_id),
        "membership_number": number,
        "occurred_at": at.isoformat(),
        **fields,
    }


def post(api, body, **headers):
    return api.post(URL, json.dumps(body), content_type="application/json", **headers)


def results(response) -> list[dict]:
    assert response.status_code == 200, response.content
    return response.json()["results"]


def test_one_event_is_recorded_on_the_referral_with_the_number(people, operator):
    referral = with_number(people, Status.BOOKED, "M-100")

    [result] = results(
        post(
            operator,
            an_event(
                people,
                number="m-100",
                activity="Gym",
                duration_minutes=40,
                met_minutes=280,
                average_heart_rate=118,
            ),
        )
    )

    visit = Visit.objects.get()
    assert result == {
        "event_id": "e-1",
        "status": "recorded",
        "visit": str(visit.public_id),
        "referral": referral.reference,
        "errors": {},
    }
    assert (visit.referral, visit.met_minutes, visit.average_heart_rate) == (referral, 280, 118)
    assert visit.recorded_by.api_client.organisation == people.operator_x


def test_a_batch_of_1000_posted_twice_records_1000_visits(people, operator):
    referrals = [with_number(people, Status.ACTIVE, f"m-{n}") for n in range(3)]
    base = timezone.now() - datetime.timedelta(days=20)
    batch = {
        "events": [
            an_event(
                people,
                f"evt-{n:04d}",
                f"M-{n % 4}",  # M-3 is nobody's: unmatched
                occurred_at=(base + datetime.timedelta(minutes=n)).isoformat(),
            )
            for n in range(1000)
        ]
    }

    first = results(post(operator, batch))
    second = results(post(operator, batch))

    assert Visit.objects.count() == 1000
    assert [r["event_id"] for r in first] == [e["event_id"] for e in batch["events"]]
    assert {r["status"] for r in first[3::4]} == {"unmatched"}
    assert [r["status"] for i, r in enumerate(first) if i % 4 != 3] == ["recorded"] * 750
    assert [r["status"] for r in second] == ["duplicate"] * 1000
    assert [(r["visit"], r["referral"]) for r in second] == [
        (r["visit"], r["referral"]) for r in first
    ]
    for n, referral in enumerate(referrals):
        assert referral.visits.count() == 250
        assert first[n]["referral"] == referral.reference


def test_a_client_of_another_operator_is_refused_for_every_event(
    people, operator, client_of, api_as
):
    with_number(people, Status.BOOKED, "M-100")
    other = api_as(client_of(people.operator_y))
    batch = {"events": [an_event(people, f"e-{n}") for n in range(50)]}

    answered = results(post(other, batch))

    assert [r["status"] for r in answered] == ["refused"] * 50
    assert all(r["visit"] is None and r["referral"] is None for r in answered)
    assert all(set(r["errors"]) == {"facility"} for r in answered)
    assert not Visit.objects.exists()
    # Its own facility, with X's member's number, is its own unmatched visit: X's referral is
    # never named to it.
    own = an_event(people, "y-1", facility=str(people.facility_y.public_id))
    [result] = results(post(other, own))
    assert (result["status"], result["referral"]) == ("unmatched", None)


def test_out_of_order_and_late_events_are_taken_and_the_future_is_refused(people, operator):
    referral = with_number(people, Status.ACTIVE, "M-100")
    now = timezone.now()
    moments = {
        "yesterday": now - datetime.timedelta(days=1),
        "last-month": now - datetime.timedelta(days=35),
        "last-week": now - datetime.timedelta(days=7),
        "fast-clock": now + datetime.timedelta(minutes=8),
        "tomorrow": now + datetime.timedelta(days=1),
    }
    batch = {"events": [an_event(people, k, occurred_at=v.isoformat()) for k, v in moments.items()]}

    answered = {r["event_id"]: r for r in results(post(operator, batch))}

    assert {k: r["status"] for k, r in answered.items()} == {
        "yesterday": "recorded",
        "last-month": "recorded",
        "last-week": "recorded",
        "fast-clock": "recorded",
        "tomorrow": "refused",
    }
    assert list(answered["tomorrow"]["errors"]) == ["occurred_at"]
    assert referral.visits.count() == 4


def test_a_visit_with_no_open_referral_is_kept_unmatched(people, operator):
    ended = referral_in_state(people, Status.ACTIVE)
    services.referral_set_membership_number(referral=ended, by=people.coordinator_x, number="M-100")
    ended.refresh_from_db()
    services.referral_complete(referral=ended, by=people.coordinator_x)

    [result] = results(post(operator, an_event(people)))

    assert (result["status"], result["referral"]) == ("unmatched", None)
    assert Visit.objects.get(public_id=result["visit"]).referral is None


def test_matching_picks_the_open_referral(people, operator):
    declined = with_number(people, Status.SUBMITTED, "M-100")
    services.referral_decline(referral=declined, by=people.coordinator_x, reason="outside_area")
    open_one = with_number(people, Status.WAITLISTED, "M-100")

    [result] = results(post(operator, an_event(people)))

    assert result["referral"] == open_one.reference


def test_a_number_given_at_accept_through_the_api_is_used(people, operator):
    referral = referral_in_state(people, Status.SUBMITTED)
    accepted = operator.post(
        f"/api/v1/referrals/{referral.reference}/actions/accept/",
        {
            "facility": str(people.facility_x.public_id),
            "membership_number": " gy-77 ",
            "version": referral.version,
        },
        format="json",
    )
    assert accepted.status_code == 200, accepted.content

    [result] = results(post(operator, an_event(people, number="GY-77")))

    assert result["referral"] == referral.reference


def test_a_number_given_at_booking_through_the_api_is_used(people, operator):
    referral = referral_in_state(people, Status.ACCEPTED)
    booked = operator.post(
        f"/api/v1/referrals/{referral.reference}/actions/book/",
        {"membership_number": "bk-1", "version": referral.version},
        format="json",
    )
    assert booked.status_code == 200, booked.content

    [result] = results(post(operator, an_event(people, number="BK-1")))

    assert result["referral"] == referral.reference


def test_a_bad_number_at_accept_is_a_400_naming_it(people, operator):
    referral = referral_in_state(people, Status.SUBMITTED)

    response = operator.post(
        f"/api/v1/referrals/{referral.reference}/actions/accept/",
        {
            "facility": str(people.facility_x.public_id),
            "membership_number": "AB\u202e12",
            "version": referral.version,
        },
        format="json",
    )

    assert problem_fields(response, 400) == ["membership_number"]


def test_the_response_is_an_audited_read_of_the_referrals_named(people, operator):
    first = with_number(people, Status.BOOKED, "M-1")
    second = with_number(people, Status.BOOKED, "M-2")
    before = AccessRecord.objects.count()

    post(
        operator,
        {"events": [an_event(people, "a", "M-1"), an_event(people, "b", "M-2")]},
        HTTP_X_REQUEST_ID="checkins-audit-1",
    )

    assert AccessRecord.objects.count() == before + 1
    record = AccessRecord.objects.get(request_id="checkins-audit-1")
    assert record.kind == "api"
    assert set(record.referral_ids) == {first.pk, second.pk}
    assert set(record.patient_ids) == {first.patient_id, second.patient_id}


def test_nothing_named_writes_no_access_record(people, operator):
    before = AccessRecord.objects.count()

    post(operator, an_event(people, number="nobody"))

    assert AccessRecord.objects.count() == before


def test_a_batch_costs_the_same_queries_at_any_size(people, operator):
    for n in range(5):
        with_number(people, Status.ACTIVE, f"M-{n}")

    def queries(size: int, prefix: str) -> int:
        batch = {"events": [an_event(people, f"{prefix}-{n}", f"M-{n % 6}") for n in range(size)]}
        with CaptureQueriesContext(connection) as captured:
            assert len(results(post(operator, batch))) == size
        return len(captured)

    queries(1, "warm")  # the token and the client's user, looked up once per test client
    small, large = queries(2, "small"), queries(1000, "large")
    assert small == large
    assert large <= 12


def test_an_idempotency_key_replays_the_first_answer(people, operator):
    with_number(people, Status.BOOKED, "M-100")
    body = an_event(people)
    first = post(operator, body, HTTP_IDEMPOTENCY_KEY="k-1")
    again = post(operator, body, HTTP_IDEMPOTENCY_KEY="k-1")

    assert results(again) == results(first)
    assert again["Idempotent-Replayed"] == "true"
    assert Visit.objects.count() == 1


# --- Refusals ----------------------------------------------------------------------------------


def test_without_the_attendance_scope_it_is_a_403(people, client_of, api_as):
    api = api_as(client_of(people.operator_x), scope="referrals:read outcomes:write")

    problem_fields(post(api, an_event(people)), 403)
    assert not Visit.objects.exists()


@pytest.mark.parametrize("organisation", ["practice_a", "commissioner_org"])
def test_other_kinds_of_organisation_get_a_403(people, client_of, api_as, organisation):
    api = api_as(client_of(getattr(people, organisation)))

    problem_fields(post(api, an_event(people)), 403)


def test_the_path_is_the_published_one():
    assert resolve(URL).view_name == "api:checkins"
    assert reverse("api:checkins") == URL


def test_without_a_token_it_is_a_401(people, client):
    response = client.post(URL, json.dumps({}), content_type="application/json")
    assert response.status_code == 401


TOO_MANY = {"events": [{"event_id": f"e-{n}"} for n in range(1001)]}


@pytest.mark.parametrize(
    ("body", "fields"),
    [
        ({}, ["event_id", "facility", "membership_number", "occurred_at"]),
        ([], [""]),
        ("event", [""]),
        (None, [""]),
        ({"events": []}, ["events"]),
        ({"events": "all of them"}, ["events"]),
        (TOO_MANY, ["events"]),
        ({"event_id": "x" * 101}, ["event_id"]),
        ({"event_id": 12}, ["event_id"]),
        ({"facility": 12}, ["facility"]),
        ({"facility": "not-a-uuid"}, ["facility"]),
        ({"membership_number": ""}, ["membership_number"]),
        ({"membership_number": "M" * 41}, ["membership_number"]),
        ({"membership_number": "M\u202e1"}, ["membership_number"]),
        ({"occurred_at": "2026-03-02T18:30:00"}, ["occurred_at"]),  # no offset
        ({"occurred_at": "2026-03-02"}, ["occurred_at"]),
        ({"occurred_at": "0001-01-01T00:00:00+05:00"}, ["occurred_at"]),  # overflows to UTC
        ({"duration_minutes": -1}, ["duration_minutes"]),
        ({"duration_minutes": 1441}, ["duration_minutes"]),
        ({"duration_minutes": "40"}, ["duration_minutes"]),
        ({"duration_minutes": 40.5}, ["duration_minutes"]),
        ({"met_minutes": 20_001}, ["met_minutes"]),
        ({"average_heart_rate": 20}, ["average_heart_rate"]),
        ({"average_heart_rate": True}, ["average_heart_rate"]),
        ({"activity": "a" * 101}, ["activity"]),
        ({"steps": 4000}, ["steps"]),
    ],
)
def test_bad_input_is_a_400_naming_the_field_and_records_nothing(people, operator, body, fields):
    if isinstance(body, dict) and "events" not in body and body:
        body = {**an_event(people), **body}  # the rest of the event is valid

    response = post(operator, body)

    named = problem_fields(response, 400)
    if body is TOO_MANY or (isinstance(body, dict) and "events" in body):
        assert all(field.startswith("events") for field in named), named
    else:
        assert sorted(named) == sorted(fields), named
    assert not Visit.objects.exists()


def test_one_bad_event_in_a_batch_is_named_by_its_place(people, operator):
    batch = {"events": [an_event(people, "a"), an_event(people, "b", duration_minutes=-5)]}

    named = problem_fields(post(operator, batch), 400)

    assert named == ["events.1.duration_minutes"]
    assert not Visit.objects.exists()


def test_an_unknown_facility_is_refused_for_that_event_only(people, operator):
    with_number(people, Status.BOOKED, "M-100")
    batch = {
        "events": [
            an_event(people, "a", facility=str(uuid.uuid4())),
            an_event(people, "b"),
        ]
    }

    answered = results(post(operator, batch))

    assert [r["status"] for r in answered] == ["refused", "recorded"]
