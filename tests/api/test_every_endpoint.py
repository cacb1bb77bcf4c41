"""Every operation of /api/v1/ tried on organisation X's objects by every kind of caller (issue 12).

The operations come from the generated OpenAPI document, so an endpoint added later is tried here
at once, and fails until `CASES` says how to fill its path and body and who may call it. For each
one, on a referral of practice A at operator X in a state where it makes sense:

- a client of another organisation (of the same kind, of the other, and a commissioner's) gets
  a 404 or 403 problem (a 400 naming a patient it does not hold), or, from a list, a 200
  without X's objects; the response holds none of X's data;
- the right organisation's client, with a token lacking the operation's scope, gets a 403;
- an expired token, and no token, get a 401 with `WWW-Authenticate`;
- and only then does the right client with the right scope get its 2xx, showing X's objects:
  the refusals above are not passing because everything is refused.

No refused call changes anything (`snapshot`), and every status seen is one the document lists
for the operation. The one-at-a-time tests beside this file test each endpoint's own rules.
"""

import datetime
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import Any

import pytest
from django.utils import timezone
from drf_spectacular.generators import SchemaGenerator
from rest_framework.test import APIClient

from accounts.api_clients import IssuedCredentials
from accounts.models import SCOPES_BY_KIND
from outcomes.models import Assessment
from outcomes.services import assessment_record
from referrals import selectors, services
from referrals.models import (
    Alert,
    Notification,
    Patient,
    Referral,
    ReferralEvent,
    Session,
    Status,
    Visit,
)
from tests.builders import ROUTES, new_draft, run_action, session_due_now
from tests.factories import PatientFactory

from .helpers import expire_tokens, problem_fields

# Served to anyone (no patient data), so outside this matrix.
PUBLIC_PATHS = frozenset({"/api/v1/schema/", "/api/v1/docs/"})
PHQ9_CALM = {f"q{n}": 0 for n in range(1, 10)}
GAD7_CALM = {f"q{n}": 0 for n in range(1, 8)}


@dataclass(frozen=True)
class Operation:
    method: str
    path: str
    spec: dict[str, Any] = field(compare=False, repr=False)

    @property
    def id(self) -> str:
        return str(self.spec["operationId"])

    @property
    def scope(self) -> str:
        """The one scope the document says the operation needs."""
        scopes = [scope for requirement in self.spec["security"] for scope in requirement["oauth2"]]
        assert len(scopes) == 1, f"{self.id} needs one scope, not {scopes}"
        return str(scopes[0])

    def documents(self, status: int) -> bool:
        return str(status) in self.spec["responses"]


def _operations() -> list[Operation]:
    """The document's operations, drawn without a request or a database (at collection)."""
    document = SchemaGenerator().get_schema(request=None, public=True)
    return [
        Operation(method.upper(), path, spec)
        for path, methods in document["paths"].items()
        if path not in PUBLIC_PATHS
        for method, spec in methods.items()
    ]


OPERATIONS = _operations()


@dataclass
class World:
    """Organisation X's objects that an operation is tried on, and who owns them."""

    people: SimpleNamespace
    referral: Referral
    patient: Patient
    owner: IssuedCredentials
    sessions: list[Session]
    notifications: list[Notification]
    assessments: list[Assessment]

    def private(self) -> list[str]:
        """What no other organisation may ever be shown: the patient and X's objects' ids."""
        nhs = self.patient.nhs_number
        return [
            self.referral.reference,
            self.patient.given_name,
            self.patient.family_name,
            nhs,
            f"{nhs[:3]} {nhs[3:6]} {nhs[6:]}",
            str(self.patient.public_id),
            *(str(row.public_id) for row in self.sessions),
            *(str(row.public_id) for row in self.notifications),
            *(str(row.public_id) for row in self.assessments),
        ]


@dataclass(frozen=True)
class Case:
    """How to try one operation: whose it is, on a referral in which state, with which path
    parameters and body, and what another organisation's client gets."""

    owner: str  # "practice_a" or "operator_x": the organisation whose client may do it
    state: str = Status.SUBMITTED
    path: Callable[[World], dict[str, str]] = lambda w: {}
    body: Callable[[World], dict[str, Any]] | None = None
    # The identifiers of X's objects the owner's 2xx shows (and no other organisation's may).
    shows: Callable[[World], list[str]] = lambda w: [w.referral.reference]
    foreign: int = 404  # for the other organisation of the same kind; 200 from a list
    # For an organisation of the other kind with the scope, when not the same as `foreign`.
    other_kind: int | None = None
    writes: bool = True  # a POST or PATCH that changes something when allowed
    due_now: bool = False  # the first session is under way (attendance can be recorded)
    membership_number: str = ""  # the coordinator recorded the patient's leisure membership


def _reference(w: World) -> dict[str, str]:
    return {"reference": w.referral.reference}


def _action(owner: str, state: str, **fields: Any) -> Case:
    """A workflow action on the referral, with its fields and the version read."""
    return Case(
        owner, state, path=_reference, body=lambda w: {**fields, "version": w.referral.version}
    )


WORLD_MEMBER = "WORLD-MEMBER-1"


def _checkin_body(w: World) -> dict[str, Any]:
    """A visit by the referral's patient at X's centre an hour ago."""
    return {
        "event_id": "world-visit-1",
        "facility": str(w.people.facility_x.public_id),
        "membership_number": WORLD_MEMBER,
        "occurred_at": (timezone.now() - datetime.timedelta(hours=1)).isoformat(),
    }


def _accept_body(w: World) -> dict[str, Any]:
    return {"facility": str(w.people.facility_x.public_id), "version": w.referral.version}


A, X = "practice_a", "operator_x"
CASES: dict[str, Case] = {
    # Referrals: the list, one, and the writes.
    "referrals_list": Case(X, foreign=200),
    "referrals_retrieve": Case(A, path=_reference),
    "referral_create_draft": Case(
        A,
        Status.DRAFT,
        body=lambda w: {"patient_id": str(w.patient.public_id)},
        shows=lambda w: [str(w.patient.public_id)],  # a new referral of X's patient
        foreign=400,  # practice B has no patient with this id
        other_kind=403,  # an operator makes no referrals
    ),
    "referral_update_draft": _action(A, Status.DRAFT, priority="urgent"),
    "referral_submit": _action(A, Status.DRAFT),
    "referral_accept": Case(X, path=_reference, body=_accept_body),
    "referral_decline": _action(X, Status.SUBMITTED, reason="outside_area"),
    "referral_request_info": _action(X, Status.SUBMITTED, question="Is the knee pain recent?"),
    "referral_answer_info": _action(A, Status.INFO_REQUESTED, answer="Six months, stable."),
    "referral_waitlist": _action(X, Status.ACCEPTED),
    "referral_book": _action(X, Status.ACCEPTED),
    "referral_start": _action(X, Status.BOOKED),
    "referral_complete": _action(X, Status.ACTIVE),
    "referral_discharge": _action(X, Status.ACTIVE, reason="patient_choice"),
    "referral_cancel": _action(A, Status.SUBMITTED, reason="patient_withdrew"),
    "patient_lookup": Case(
        A,
        body=lambda w: {"nhs_number": w.patient.nhs_number},
        shows=lambda w: [w.referral.reference, w.patient.nhs_number],
        writes=False,
    ),
    # Sessions and attendance.
    "sessions_list": Case(
        X, Status.BOOKED, foreign=200, shows=lambda w: [str(s.public_id) for s in w.sessions]
    ),
    "sessions_attendance_create": Case(
        X,
        Status.BOOKED,
        path=lambda w: {"id": str(w.sessions[0].public_id)},
        body=lambda w: {"status": "attended"},
        due_now=True,
    ),
    # Visits from the operator's gym platform: another operator's client is refused each event
    # (a 200 naming nothing of X's).
    "checkins_create": Case(
        X, Status.BOOKED, body=_checkin_body, foreign=200, membership_number=WORLD_MEMBER
    ),
    # Outcome measures.
    "referrals_assessments_list": Case(
        X,
        Status.BOOKED,
        path=_reference,
        shows=lambda w: [str(a.public_id) for a in w.assessments],
    ),
    "referrals_assessments_create": Case(
        X,
        Status.BOOKED,
        path=_reference,
        body=lambda w: {"instrument": "gad7", "timepoint": "baseline", "answers": GAD7_CALM},
    ),
    # The events feed and in-app updates.
    "events_retrieve": Case(X, Status.BOOKED, foreign=200),
    "notifications_list": Case(
        A, foreign=200, shows=lambda w: [str(n.public_id) for n in w.notifications]
    ),
    "notifications_read_create": Case(A, path=lambda w: {"id": str(w.notifications[0].public_id)}),
    # The offer: an operator's own (another operator sees none of X's).
    "programmes_list": Case(X, foreign=200, shows=lambda w: [str(w.people.programme_x.public_id)]),
    "facilities_list": Case(X, foreign=200, shows=lambda w: [str(w.people.facility_x.public_id)]),
    "classes_list": Case(X, foreign=200, shows=lambda w: [str(w.people.class_x.public_id)]),
}
OTHER_OF_SAME_KIND = {A: "practice_b", X: "operator_y"}
OTHER_OF_OTHER_KIND = {A: "operator_y", X: "practice_b"}


def world_for(case: Case, people: SimpleNamespace, client_of: Callable[..., Any]) -> World:
    """A referral of practice A at operator X in the case's state, made the way the product
    makes it, with its sessions, a recorded measure once booked, and the referrer's updates."""
    practice = client_of(people.practice_a, name="Practice A's system")
    patient = PatientFactory(
        organisation=people.practice_a, given_name="Marigold", family_name="Quiverwright"
    )
    referral = new_draft(people, patient=patient)
    # Referred by practice A's system, so its in-app updates are about this referral.
    Referral.objects.filter(pk=referral.pk).update(referring_clinician=practice.client.user)
    referral.refresh_from_db()
    for action in ROUTES[case.state]:
        run_action(people, referral, action)
    referral.refresh_from_db()
    if case.membership_number:
        services.referral_set_membership_number(
            referral=referral, by=people.coordinator_x, number=case.membership_number
        )
    if referral.status in (Status.BOOKED, Status.ACTIVE):
        assessment_record(
            referral=referral,
            instrument="phq9",
            timepoint="baseline",
            answers=PHQ9_CALM,
            by=people.instructor_x,
        )
        referral.refresh_from_db()
    sessions = list(referral.sessions.order_by("scheduled_at"))
    if case.due_now:
        sessions[0] = session_due_now(sessions[0])
    owner = practice if case.owner == A else client_of(people.operator_x, name="X's system")
    return World(
        people=people,
        referral=referral,
        patient=patient,
        owner=owner,
        sessions=sessions,
        notifications=list(
            Notification.objects.filter(recipient_user=practice.client.user, channel="in_app")
        ),
        assessments=list(referral.assessments.all()),
    )


def snapshot() -> dict[str, list[dict[str, Any]]]:
    """Every row a call could change. The test's transaction holds only this world and the
    personas, so whole tables are compared."""
    models = (Referral, Patient, Session, Assessment, Notification, ReferralEvent, Alert, Visit)
    return {model.__name__: list(model.objects.order_by("pk").values()) for model in models}


def send(api: APIClient, operation: Operation, url: str, body: dict[str, Any] | None) -> Any:
    """The call, checked to end in a status the document lists for the operation."""
    if operation.method == "GET":
        response = api.get(url)
    else:
        content = "" if body is None else json.dumps(body)
        response = api.generic(operation.method, url, content, content_type="application/json")
    assert operation.documents(response.status_code), (
        f"{operation.id} answered {response.status_code}, which its responses do not list: "
        f"{response.content[:300]!r}"
    )
    return response


def assert_shows_none_of(response: Any, markers: list[str], status: int) -> None:
    """A refusal is a problem document, a list another organisation reads is a 200; neither
    holds any of the markers, in its body or its headers."""
    if status >= 400:
        problem_fields(response, status)
    else:
        assert response.status_code == status, response.content
    said = "\n".join([response.content.decode(), *(f"{k}: {v}" for k, v in response.items())])
    assert not [marker for marker in markers if marker in said], said[:500]


def owners_view(api: APIClient, world: World) -> tuple[Any, str]:
    """The referral as its owner reads it: unchanged by any refused call."""
    response = api.get(f"/api/v1/referrals/{world.referral.reference}/")
    assert response.status_code == 200, response.content
    return response.json(), response["ETag"]


@pytest.fixture(autouse=True)
def _feed_horizon_passed(monkeypatch: pytest.MonkeyPatch) -> None:
    """The events feed holds back events while an older transaction is open (ADR 0007), and the
    test's own transaction is: let the horizon be past them, so X's events are there to be
    withheld. When events come out is `test_events.py`'s business."""
    monkeypatch.setattr(selectors, "_oldest_open_transaction", lambda: 2**62)


def assert_owner_reaches(
    api: APIClient, operation: Operation, url: str, body: dict[str, Any] | None, shows: list[str]
) -> None:
    """The owner's client with the scope gets its 2xx, showing X's objects: the refusals are not
    passing because everything is refused."""
    response = send(api, operation, url, body)
    assert 200 <= response.status_code < 300, response.content
    content = response.content.decode()
    assert all(marker in content for marker in shows), content[:500]


@pytest.mark.parametrize("operation", OPERATIONS, ids=lambda operation: operation.id)
def test_only_the_owners_client_with_the_scope_reaches_its_objects(
    operation, people, client_of, api_as
):
    case = CASES.get(operation.id)
    if case is None:
        pytest.fail(
            f"{operation.method} {operation.path} ({operation.id}) is not in CASES: say whose "
            "it is and how to fill its path and body"
        )
    world = world_for(case, people, client_of)
    parameters = case.path(world)
    in_path = {p["name"] for p in operation.spec.get("parameters", []) if p["in"] == "path"}
    assert set(parameters) == in_path, "CASES fills other path parameters than the document has"
    assert (case.body is not None) == ("requestBody" in operation.spec), "a body, or none"
    url = operation.path.format(**parameters)
    body = case.body(world) if case.body else None
    owner = getattr(people, case.owner)
    owners_api = api_as(world.owner)
    before, seen_before = snapshot(), owners_view(owners_api, world)
    if operation.method == "GET":  # first: X's objects are there to be withheld from the others
        assert_owner_reaches(owners_api, operation, url, None, case.shows(world))

    # Another organisation of the same kind, with all its scopes: nothing of X's.
    same = getattr(people, OTHER_OF_SAME_KIND[case.owner])
    response = send(api_as(client_of(same, name="Another system")), operation, url, body)
    assert_shows_none_of(response, [*world.private(), *case.shows(world)], case.foreign)
    # Organisations of the other kinds: a 403 before any lookup for a scope their kind lacks.
    for name in (OTHER_OF_OTHER_KIND[case.owner], "commissioner_org"):
        other = getattr(people, name)
        lacks_scope = operation.scope not in SCOPES_BY_KIND[other.kind]
        expected = 403 if lacks_scope else case.other_kind or case.foreign
        response = send(api_as(client_of(other, name="Other kind's system")), operation, url, body)
        assert_shows_none_of(response, world.private(), expected)

    # The owner's client, with a token carrying every scope but the one needed.
    others = [scope for scope in world.owner.client.scopes if scope != operation.scope]
    assert others and len(others) < len(world.owner.client.scopes)
    response = send(api_as(world.owner, scope=" ".join(others)), operation, url, body)
    assert_shows_none_of(response, world.private(), 403)

    # An expired token, and none.
    expired = client_of(owner, name="Expired system")
    expired_api = api_as(expired)
    expire_tokens(expired)
    for api in (expired_api, APIClient()):
        response = send(api, operation, url, body)
        assert_shows_none_of(response, world.private(), 401)
        assert response["WWW-Authenticate"].startswith("Bearer")

    assert snapshot() == before
    assert owners_view(owners_api, world) == seen_before

    if operation.method != "GET":  # last, as it changes what the refusals must not
        assert_owner_reaches(owners_api, operation, url, body, case.shows(world))
        assert (snapshot() != before) == case.writes


def test_every_case_is_an_operation_of_the_document():
    """A row left behind by a removed or renamed endpoint would test nothing."""
    assert set(CASES) <= {operation.id for operation in OPERATIONS}
