"""The data the schemathesis tests run against, and the "real" cases that reach it.

Random references and ids are almost always 404s, which test little. So a third of each
operation's cases name what the caller can see, as a real system would call: a referral (for a
workflow action, one in a state the action moves from, when there is one), a session or an
update by its id, the referral's current ETag as If-Match, a fresh Idempotency-Key, and for the
writes that need one a body the service can accept (a complete draft, an assessment, one of the
operator's leisure centres). Everything here is made through the services (`tests.builders`).
"""

import datetime
import uuid
from dataclasses import dataclass, field
from typing import Any

from hypothesis import strategies as st
from schemathesis import Case, GenerationMode

from accounts.api_clients import IssuedCredentials
from referrals import services
from referrals.models import Notification, Priority, Referral, Status
from referrals.visits import OPEN_FOR_VISITS
from referrals.workflow import ACTIONS
from tests.api.conftest import token_for
from tests.builders import ROUTES, new_draft, run_action, session_due_now
from tests.factories import _nhs_numbers

# Two referrals in each state an action moves from (the actions use them up), and a finished one.
STATES = [
    *[Status.DRAFT, Status.SUBMITTED, Status.INFO_REQUESTED, Status.ACCEPTED] * 2,
    *[Status.WAITLISTED, Status.BOOKED, Status.ACTIVE] * 2,
    Status.COMPLETED,
]
HYPERTENSION = "38341003"


@dataclass
class Caller:
    """One organisation's system: its bearer token, and what it can see."""

    credentials: IssuedCredentials
    references: list[str]
    ids: dict[str, list[str]] = field(default_factory=dict)  # path prefix: public ids there
    headers: dict[str, str] = field(init=False)

    def __post_init__(self) -> None:
        self.headers = {"Authorization": f"Bearer {token_for(self.credentials)['access_token']}"}


@dataclass
class World:
    """Referrals in every state, made by practice A's system and sent to operator X, and the
    ids a valid body names."""

    referrer: Caller  # practice A's system: the referring clinician of every referral here
    operator: Caller  # operator X's system, to which they are sent
    patient_ids: list[str]
    nhs_numbers: list[str]
    programme_id: str
    facility_id: str
    class_id: str
    # Membership numbers of the open referrals (the coordinator recorded them): check-ins name
    # them, and one nobody has.
    membership_numbers: list[str] = field(default_factory=list)


def _referred_by(people: Any, system: Any, status: str) -> Referral:
    """A referral made by practice A's system (so the updates about it are the system's)."""
    referral = new_draft(people)
    Referral.objects.filter(pk=referral.pk).update(referring_clinician=system)
    for action in ROUTES[status]:
        referral.refresh_from_db()
        run_action(people, referral, action)
    referral.refresh_from_db()
    return referral


def build_world(people: Any, client_of: Any) -> World:
    referrer = client_of(people.practice_a, name="GP system")
    operator = client_of(people.operator_x, name="Leisure system")
    referrals = [_referred_by(people, referrer.client.user, status) for status in STATES]
    numbers = []
    for n, referral in enumerate(referrals):
        if referral.status in OPEN_FOR_VISITS:
            numbers.append(f"FUZZ-{n}")
            services.referral_set_membership_number(
                referral=referral, by=people.coordinator_x, number=numbers[-1]
            )
    sessions = [s for r in referrals for s in r.sessions.order_by("scheduled_at")]
    session_due_now(sessions[0])  # one that can be marked attended now
    updates = Notification.objects.filter(
        recipient_user=referrer.client.user, channel="in_app"
    ).order_by("pk")
    return World(
        referrer=Caller(
            referrer,
            [r.reference for r in referrals],
            {"/api/v1/notifications/": [str(n.public_id) for n in updates]},
        ),
        operator=Caller(
            operator,
            [r.reference for r in referrals if r.status != Status.DRAFT],
            {"/api/v1/sessions/": [str(s.public_id) for s in sessions]},
        ),
        patient_ids=[str(r.patient.public_id) for r in referrals],
        nhs_numbers=[r.patient.nhs_number for r in referrals],
        programme_id=str(people.programme_x.public_id),
        facility_id=str(people.facility_x.public_id),
        class_id=str(people.class_x.public_id),
        membership_numbers=[*numbers, "NOBODY-1"],
    )


# --- Bodies a service can accept ---------------------------------------------------------------


def complete_draft(world: World) -> dict[str, Any]:
    """Every step of the wizard answered, for a new patient: a draft that can be sent."""
    return {
        "patient": {
            "nhs_number": next(_nhs_numbers),
            "given_name": "Ada",
            "family_name": "Lovelace",
            "date_of_birth": "1970-05-17",
            "sex": "F",
            "postcode": "LS6 2AB",
            "phone": "0113 496 0123",
            "contact_methods": ["phone"],
        },
        "reasons": [HYPERTENSION],
        "bp_systolic": 142,
        "bp_diastolic": 88,
        "heart_rate_medication": False,
        "risk_tier": "low",
        "exclusions_present": [],
        "programme": world.programme_id,
        "preferred_facility": world.facility_id,
        "consent_referral": True,
        "consent_share_outcomes": True,
    }


def valid_bodies(world: World) -> dict[str, st.SearchStrategy[Any]]:
    """operationId: bodies its service accepts (from the right state)."""
    answer = st.integers(min_value=0, max_value=3)
    in_two_days = datetime.datetime.now(datetime.UTC) + datetime.timedelta(days=2)
    # A visit in the last month at X's centre by one of the members (or nobody yet), with an id
    # drawn from a small set, so that some come again as duplicates.
    checkin = st.fixed_dictionaries(
        {
            "event_id": st.sampled_from([f"fuzz-visit-{n}" for n in range(30)]),
            "facility": st.just(world.facility_id),
            "membership_number": st.sampled_from(world.membership_numbers),
            "occurred_at": st.integers(min_value=0, max_value=30 * 24 * 60).map(
                lambda minutes: (
                    datetime.datetime.now(datetime.UTC) - datetime.timedelta(minutes=minutes)
                ).isoformat()
            ),
        },
        optional={
            "activity": st.sampled_from(["Gym", "Swim", ""]),
            "duration_minutes": st.integers(min_value=0, max_value=240),
            "met_minutes": st.integers(min_value=0, max_value=2000),
            "average_heart_rate": st.integers(min_value=40, max_value=200),
        },
    )
    return {
        "referral_create_draft": st.one_of(
            st.builds(complete_draft, st.just(world)),
            st.fixed_dictionaries({"patient_id": st.sampled_from(world.patient_ids)}),
        ),
        "referral_update_draft": st.fixed_dictionaries(
            {},
            optional={
                "priority": st.sampled_from(Priority.values),
                "relevant_history": st.text(max_size=200),
                "consent_research": st.booleans(),
            },
        ),
        "patient_lookup": st.fixed_dictionaries({"nhs_number": st.sampled_from(world.nhs_numbers)}),
        "referrals_assessments_create": st.fixed_dictionaries(
            {
                "instrument": st.just("phq9"),
                "timepoint": st.sampled_from(["baseline", "mid", "exit"]),
                "answers": st.fixed_dictionaries({f"q{n}": answer for n in range(1, 10)}),
            }
        ),
        "referral_accept": st.fixed_dictionaries(
            {"facility": st.just(world.facility_id)},
            optional={"programme_class": st.just(world.class_id)},
        ),
        "checkins_create": st.one_of(
            checkin,
            st.fixed_dictionaries({"events": st.lists(checkin, min_size=1, max_size=20)}),
        ),
        "referral_book": st.fixed_dictionaries(
            {}, optional={"first_session_at": st.just(in_two_days.isoformat())}
        ),
    }


# --- Cases -------------------------------------------------------------------------------------


def _movable(references: list[str], operation_id: str, pick: int) -> str:
    """One of `references` (the `pick`th), of those a workflow action can move now if any (read
    when the case is drawn, just before the call). The draw is an index into the whole list, so
    Hypothesis sees the same choices however the referrals have moved meanwhile."""
    action = ACTIONS.get(operation_id.removeprefix("referral_"))
    ready = references
    if action is not None:
        movable = Referral.objects.filter(reference__in=references, status__in=action.sources)
        ready = sorted(movable.values_list("reference", flat=True)) or references
    return ready[pick % len(ready)]


def _current_etag(reference: str) -> str:
    version = Referral.objects.filter(reference=reference).values_list("version", flat=True)
    return f'"{version.first() or 1}"'


def real_cases(operation: Any, caller: Caller, world: World) -> st.SearchStrategy[Case] | None:
    """Valid cases of `operation` naming what `caller` can see; None when it names nothing."""
    operation_id = operation.schema.get_operation_id(operation)
    body = valid_bodies(world).get(operation_id)
    names = {parameter.name for parameter in operation.iter_parameters()}
    ids = next((v for k, v in caller.ids.items() if operation.path.startswith(k)), [])
    if not ({"reference", "id"} & names) and body is None:
        return None

    @st.composite
    def cases(draw: st.DrawFn) -> Case:
        path: dict[str, str] = {}
        headers: dict[str, str] = {}
        if "reference" in names:
            pick = draw(st.integers(min_value=0, max_value=len(caller.references) - 1))
            path["reference"] = _movable(caller.references, operation_id, pick)
        if "id" in names:
            path["id"] = draw(st.sampled_from(ids))
        if "If-Match" in names:
            headers["If-Match"] = _current_etag(path["reference"])
        if "Idempotency-Key" in names:
            headers["Idempotency-Key"] = str(uuid.uuid4())  # a new one per request
        given: dict[str, Any] = {"path_parameters": path, "headers": headers}
        if body is not None:
            given["body"] = draw(body)
        case: Case = draw(operation.as_strategy(GenerationMode.POSITIVE, **given))
        if isinstance(case.body, dict):
            case.body.pop("version", None)  # If-Match carries it
        return case

    return cases()
