"""Sessions and attendance (issue 12): what the organisation may see of a referral's sessions, and
attendance recorded through the register's own service."""

import datetime

import pytest
from django.utils import timezone

from referrals.models import Referral, ReferralEvent, Session, Status
from tests.builders import referral_in_state, session_due_now

from .helpers import expire_tokens, problem_fields, queries_for

LIST = "/api/v1/sessions/"


def attendance_url(session: Session) -> str:
    return f"{LIST}{session.public_id}/attendance/"


def first_session(referral: Referral) -> Session:
    return referral.sessions.order_by("scheduled_at").first()


def listed(api, query: str = "") -> list[dict]:
    response = api.get(f"{LIST}{query}")
    assert response.status_code == 200, response.content
    return response.json()["results"]


def test_an_operator_lists_a_referrals_sessions_a_class_register_and_a_day(
    people, client_of, api_as
):
    referral = referral_in_state(people, Status.BOOKED)
    referral_in_state(people, Status.SUBMITTED)  # no sessions
    sessions = list(referral.sessions.order_by("id"))
    api = api_as(client_of(people.operator_x))

    rows = listed(api, f"?referral={referral.reference}")
    assert [row["id"] for row in rows] == [str(s.public_id) for s in sessions]
    assert rows[0]["patient"]["nhs_number"] == referral.patient.nhs_number
    assert rows[0]["programme_class"]["name"] == people.class_x.name
    assert rows[0]["status"] == "booked"
    assert len(listed(api, f"?class={people.class_x.public_id}")) == len(sessions)
    day = timezone.localdate(sessions[1].scheduled_at)
    assert [row["id"] for row in listed(api, f"?date={day:%Y-%m-%d}")] == [
        str(sessions[1].public_id)
    ]
    assert listed(api, f"?referral={referral.reference}&date=2001-01-01") == []


def test_the_referrer_sees_sessions_only_with_consent_to_share_progress(people, client_of, api_as):
    shared = referral_in_state(people, Status.BOOKED)
    private = referral_in_state(people, Status.BOOKED, consent_share_outcomes=False)
    api = api_as(client_of(people.practice_a))

    assert {row["referral"] for row in listed(api)} == {shared.reference}
    assert listed(api, f"?referral={private.reference}") == []


def test_another_organisation_sees_nothing_and_cannot_mark_attendance(people, client_of, api_as):
    referral = referral_in_state(people, Status.BOOKED)
    session = session_due_now(first_session(referral))
    operator_y = api_as(client_of(people.operator_y))
    practice_b = api_as(client_of(people.practice_b))

    for api, refused in ((operator_y, 404), (practice_b, 403)):  # a GP system has no
        assert listed(api) == []  # attendance:write scope, so it is refused before the lookup
        assert listed(api, f"?referral={referral.reference}") == []
        problem_fields(
            api.post(attendance_url(session), {"status": "attended"}, format="json"), refused
        )

    session.refresh_from_db()
    assert session.status == Session.Attendance.BOOKED
    own = listed(api_as(client_of(people.operator_x)), f"?referral={referral.reference}")
    assert own[0]["status"] == "booked"


def test_marking_the_first_session_attended_starts_the_referral(people, client_of, api_as):
    referral = referral_in_state(people, Status.BOOKED)
    session = session_due_now(first_session(referral))
    issued = client_of(people.operator_x)
    api = api_as(issued)

    response = api.post(
        attendance_url(session), {"status": "attended", "note": "Came early"}, format="json"
    )

    assert response.status_code == 200, response.content
    assert response.json()["status"] == "attended"
    session.refresh_from_db()
    assert (session.status, session.logged_by, session.notes) == (
        Session.Attendance.ATTENDED,
        issued.client.user,
        "Came early",
    )
    referral.refresh_from_db()
    assert referral.status == Status.ACTIVE
    started = referral.events.get(action="start")
    assert (started.actor, started.actor_organisation) == (issued.client.user, people.operator_x)
    # The same mark again changes nothing.
    again = api.post(attendance_url(session), {"status": "attended"}, format="json")
    assert again.status_code == 200
    assert referral.events.filter(kind=ReferralEvent.Kind.CORRECTION).count() == 0


def test_a_missed_session_goes_on_the_timeline(people, client_of, api_as):
    referral = referral_in_state(people, Status.BOOKED)
    session = session_due_now(first_session(referral))

    api = api_as(client_of(people.operator_x, ["attendance:write"]))
    assert api.post(attendance_url(session), {"status": "dna"}, format="json").status_code == 200

    assert referral.events.filter(action="dna").count() == 1


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"status": "maybe"}, "status"),
        ({"status": "booked"}, "status"),
        ({}, "status"),
        ({"status": "dna", "note": "x" * 5000}, "note"),
        ({"status": "dna", "note": "bad \u202e text"}, "note"),
    ],
)
def test_bad_attendance_is_a_problem_naming_the_field(people, client_of, api_as, body, field):
    referral = referral_in_state(people, Status.BOOKED)
    session = session_due_now(first_session(referral))
    api = api_as(client_of(people.operator_x))

    assert problem_fields(api.post(attendance_url(session), body, format="json"), 400) == [field]
    session.refresh_from_db()
    assert session.status == Session.Attendance.BOOKED


def test_a_session_yet_to_happen_or_of_an_ended_referral_is_refused(people, client_of, api_as):
    referral = referral_in_state(people, Status.BOOKED)
    later = referral.sessions.order_by("scheduled_at").last()
    api = api_as(client_of(people.operator_x))

    assert problem_fields(
        api.post(attendance_url(later), {"status": "attended"}, format="json"), 400
    ) == ["status"]
    ended = referral_in_state(people, Status.COMPLETED)
    attended = ended.sessions.get(status=Session.Attendance.ATTENDED)
    refused = api.post(attendance_url(attended), {"status": "dna"}, format="json")
    assert problem_fields(refused, 409) == []
    assert refused.json()["code"] == "workflow_error"
    attended.refresh_from_db()
    assert attended.status == Session.Attendance.ATTENDED


def test_a_referrer_may_read_but_never_mark_attendance(people, client_of, api_as):
    referral = referral_in_state(people, Status.BOOKED)
    session = session_due_now(first_session(referral))
    api = api_as(client_of(people.practice_a))

    assert len(listed(api, f"?referral={referral.reference}")) == referral.sessions.count()
    problem_fields(api.post(attendance_url(session), {"status": "attended"}, format="json"), 403)
    session.refresh_from_db()
    assert session.status == Session.Attendance.BOOKED


@pytest.mark.parametrize(
    "query", ["?class=not-a-uuid", "?date=2026-02-30", "?date=yesterday", "?page_size=x&cursor=zz"]
)
def test_bad_filters_are_problems_never_errors(people, client_of, api_as, query):
    response = api_as(client_of(people.operator_x)).get(f"{LIST}{query}")
    assert response.status_code in (400, 404), response.content
    assert response["Content-Type"] == "application/problem+json"


def test_each_endpoint_needs_its_scope_and_a_live_token(people, client_of, api_as):
    referral = referral_in_state(people, Status.BOOKED)
    session = session_due_now(first_session(referral))

    reader = api_as(client_of(people.operator_x, ["referrals:read"], name="Reader"))
    problem_fields(reader.post(attendance_url(session), {"status": "attended"}, format="json"), 403)
    marker = api_as(client_of(people.operator_x, ["attendance:write"], name="Marker"))
    problem_fields(marker.get(LIST), 403)

    issued = client_of(people.operator_x, name="Everything")
    api = api_as(issued)
    expire_tokens(issued)
    problem_fields(api.get(LIST), 401)
    problem_fields(api.post(attendance_url(session), {"status": "attended"}, format="json"), 401)
    session.refresh_from_db()
    assert session.status == Session.Attendance.BOOKED


def test_the_list_costs_the_same_queries_for_one_session_or_twenty(people, client_of, api_as):
    referral = referral_in_state(people, Status.ACCEPTED)
    start = timezone.now() + datetime.timedelta(days=1)

    def add(count: int, offset: int) -> None:
        Session.objects.bulk_create(
            Session(
                referral=referral,
                programme_class=people.class_x,
                scheduled_at=start + datetime.timedelta(days=offset + n),
            )
            for n in range(count)
        )

    api = api_as(client_of(people.operator_x))
    add(1, 0)
    one, body = queries_for(api, LIST)
    assert len(body["results"]) == 1
    add(19, 1)
    twenty, body = queries_for(api, LIST)
    assert len(body["results"]) == 20
    assert twenty == one
