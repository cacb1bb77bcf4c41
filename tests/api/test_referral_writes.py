"""Writes to referrals over /api/v1/ (issue 12): drafts, submission, the workflow actions and the
patient lookup, with real tokens, through the same services, rules and timeline as the pages."""

import datetime
import uuid

import pytest
from django.urls import resolve, reverse
from django.utils import timezone
from oauth2_provider.models import AccessToken

from audit.models import AccessRecord
from referrals.models import Patient, Referral, ReferralEvent, Status
from referrals.services import ACTION_SERVICES
from tests.builders import new_draft, referral_in_state
from tests.factories import PatientFactory, _nhs_numbers

LIST = "/api/v1/referrals/"
HYPERTENSION = "38341003"
NEXT_YEAR = f"{datetime.date.today().year + 1}-01-01"


def one(reference: str, suffix: str = "") -> str:
    return f"{LIST}{reference}/{suffix}"


def patient_details(**changes) -> dict:
    return {
        "nhs_number": next(_nhs_numbers),
        "given_name": "Ada",
        "family_name": "Lovelace",
        "date_of_birth": "1970-05-17",
        "sex": "F",
        "postcode": "ls6 2ab",
        "phone": "0113 496 0123",
        "contact_methods": ["phone"],
        **changes,
    }


def draft_body(people, **changes) -> dict:
    return {
        "patient": patient_details(),
        "reasons": [HYPERTENSION],
        "bp_systolic": 142,
        "bp_diastolic": 88,
        "heart_rate_medication": "no",
        "risk_tier": "low",
        "exclusions_present": [],
        "programme": str(people.programme_x.public_id),
        "preferred_facility": str(people.facility_x.public_id),
        "consent_referral": True,
        "consent_share_outcomes": True,
        **changes,
    }


@pytest.fixture
def practice(people, client_of, api_as):
    return api_as(client_of(people.practice_a, name="GP system"))


@pytest.fixture
def operator(people, client_of, api_as):
    return api_as(client_of(people.operator_x, name="Leisure system"))


def post(api, url, body=None, **headers):
    return api.post(url, body or {}, format="json", **headers)


def assert_problem(response, status: int, field: str | None = None) -> dict:
    assert response.status_code == status, response.content
    assert response["Content-Type"] == "application/problem+json"
    body = response.json()
    assert body["status"] == status and body["detail"]
    if field is not None:
        fields = [error["field"] for error in body["errors"]]
        assert field in fields, body
    return body


# --- The journey -------------------------------------------------------------------------------


def test_a_referral_goes_from_draft_to_complete_over_the_api(people, client_of, api_as):
    gp = client_of(people.practice_a, name="GP system")
    leisure = client_of(people.operator_x, name="Leisure system")
    practice, operator = api_as(gp), api_as(leisure)

    created = post(practice, LIST, draft_body(people), HTTP_IDEMPOTENCY_KEY=str(uuid.uuid4()))
    assert created.status_code == 201, created.content
    reference = created.json()["reference"]
    assert created["Location"] == one(reference)
    assert created["ETag"] == '"1"' and created.json()["status"] == "draft"
    referral = Referral.objects.get(reference=reference)
    assert referral.patient.organisation == people.practice_a
    assert referral.patient.postcode == "LS6 2AB"  # normalised as the wizard does
    assert referral.safety_screened_by == gp.client.user

    changed = practice.patch(
        one(reference), {"priority": "urgent"}, format="json", HTTP_IF_MATCH='"1"'
    )
    assert changed.status_code == 200, changed.content
    assert changed["ETag"] == '"2"' and changed.json()["priority"] == "urgent"

    submitted = post(practice, one(reference, "submit/"), {"version": 2})
    assert submitted.status_code == 200, submitted.content
    assert submitted.json()["status"] == "submitted"
    assert submitted.json()["operator"]["code"] == people.operator_x.code

    accepted = post(
        operator,
        one(reference, "actions/accept/"),
        {
            "facility": str(people.facility_x.public_id),
            "programme_class": str(people.class_x.public_id),
            "instructor": people.instructor_x.email.upper(),
        },
        HTTP_IF_MATCH=submitted["ETag"],
    )
    assert accepted.status_code == 200, accepted.content
    assert accepted.json()["status"] == "accepted"

    booked = post(operator, one(reference, "actions/book/"), {}, HTTP_IF_MATCH=accepted["ETag"])
    assert booked.status_code == 200, booked.content
    assert booked.json()["status"] == "booked"

    started = post(operator, one(reference, "actions/start/"), {}, HTTP_IF_MATCH=booked["ETag"])
    assert started.json()["status"] == "active", started.content
    completed = post(
        operator,
        one(reference, "actions/complete/"),
        {"recommendations": "Keep walking daily."},
        HTTP_IF_MATCH=started["ETag"],
    )
    assert completed.status_code == 200, completed.content
    assert completed.json()["status"] == "completed"

    referral.refresh_from_db()
    assert referral.instructor == people.instructor_x
    assert referral.programme_class == people.class_x
    assert referral.sessions.exists()
    assert referral.discharge_recommendations == "Keep walking daily."
    # The timeline says which system did each thing, for which organisation.
    timeline = list(referral.events.order_by("created_at", "id"))
    assert [(e.action, e.actor, e.actor_organisation) for e in timeline] == [
        ("create", gp.client.user, people.practice_a),
        ("submit", gp.client.user, people.practice_a),
        ("accept", leisure.client.user, people.operator_x),
        ("book", leisure.client.user, people.operator_x),
        ("start", leisure.client.user, people.operator_x),
        ("complete", leisure.client.user, people.operator_x),
    ]
    # Each response showing the referral is an audited read.
    records = AccessRecord.objects.filter(kind="api", referral_ids__contains=[referral.pk])
    assert records.count() == 7


def test_a_draft_can_be_started_with_the_patient_only_and_finished_step_by_step(people, practice):
    created = post(practice, LIST, {"patient": patient_details()})
    assert created.status_code == 201, created.content
    reference = created.json()["reference"]
    referral = Referral.objects.get(reference=reference)
    assert referral.safety_screened_at is None and referral.programme is None

    incomplete = post(practice, one(reference, "submit/"), {"version": 1})
    body = assert_problem(incomplete, 400)
    assert {e["field"] for e in body["errors"]} >= {
        "reasons",
        "exclusions_present",
        "consent_referral",
        "programme",
    }

    steps = [
        {
            "reasons": [HYPERTENSION],
            "bp_systolic": 130,
            "bp_diastolic": 85,
            "heart_rate_medication": "no",
            "risk_tier": "low",
        },
        {"exclusions_present": []},
        {
            "programme": str(people.programme_x.public_id),
            "preferred_facility": str(people.facility_x.public_id),
        },
        {"consent_referral": True},
    ]
    for version, step in enumerate(steps, start=1):
        response = practice.patch(one(reference), {**step, "version": version}, format="json")
        assert response.status_code == 200, response.content
    referral.refresh_from_db()
    # Each step kept the answers of the others (the form sees the whole step, merged).
    assert (referral.bp_systolic, referral.reasons, referral.consent_referral) == (
        130,
        [HYPERTENSION],
        True,
    )
    assert post(practice, one(reference, "submit/"), {"version": 5}).status_code == 200


def test_a_draft_for_a_patient_the_organisation_holds_by_id_or_by_nhs_number(people, practice):
    known = PatientFactory(organisation=people.practice_a)

    by_id = post(practice, LIST, {"patient_id": str(known.public_id)})
    assert by_id.status_code == 201, by_id.content
    assert by_id.json()["patient"]["id"] == str(known.public_id)

    by_number = post(
        practice,
        LIST,
        {"patient": patient_details(nhs_number=known.nhs_number, contact_methods=[])},
    )
    assert by_number.status_code == 201, by_number.content
    assert by_number.json()["patient"]["id"] == str(known.public_id)
    known.refresh_from_db()
    assert known.given_name == "Ada"  # brought up to date, as the wizard does
    assert Patient.objects.filter(organisation=people.practice_a).count() == 1

    elsewhere = PatientFactory(organisation=people.practice_b)
    refused = post(practice, LIST, {"patient_id": str(elsewhere.public_id)})
    assert_problem(refused, 400, "patient_id")
    assert_problem(post(practice, LIST, {}), 400, "patient")


def test_patching_the_patient_updates_the_drafts_patient_record(people, practice):
    draft = new_draft(people)
    response = practice.patch(
        one(draft.reference),
        {"patient": {"family_name": "Byron", "postcode": "LS1 4AP"}},
        format="json",
        HTTP_IF_MATCH=f'"{draft.version}"',
    )
    assert response.status_code == 200, response.content
    draft.patient.refresh_from_db()
    assert (draft.patient.family_name, draft.patient.postcode) == ("Byron", "LS1 4AP")


def test_only_a_draft_is_changed_and_never_into_another_patients_record(people, practice):
    submitted = referral_in_state(people, Status.SUBMITTED)
    sent = practice.patch(
        one(submitted.reference), {"priority": "urgent", "version": 2}, format="json"
    )
    assert assert_problem(sent, 409)["code"] == "workflow_error"

    draft = new_draft(people)
    someone_else = PatientFactory(organisation=people.practice_a)
    clash = practice.patch(
        one(draft.reference),
        {"patient": {"nhs_number": someone_else.nhs_number}, "version": 1},
        format="json",
    )
    assert_problem(clash, 400, "patient.nhs_number")
    draft.patient.refresh_from_db()
    assert draft.patient.nhs_number != someone_else.nhs_number


def test_each_workflow_action_has_its_url(people, operator):
    from api.views.referral_writes import ACTION_VIEWS

    assert set(ACTION_VIEWS) == set(ACTION_SERVICES) - {"submit"}
    referral = referral_in_state(people, Status.SUBMITTED)
    for name in ACTION_VIEWS:
        response = post(operator, one(referral.reference, f"actions/{name}/"))
        assert response.status_code != 404, name


def test_decline_request_information_answer_waitlist_and_cancel(people, practice, operator):
    asked = referral_in_state(people, Status.SUBMITTED)
    response = post(
        operator,
        one(asked.reference, "actions/request_info/"),
        {"question": "Is the knee pain recent?", "version": asked.version},
    )
    assert response.json()["status"] == "info_requested", response.content
    response = post(
        practice,
        one(asked.reference, "actions/answer_info/"),
        {"answer": "Six months, stable.", "version": asked.version + 1},
    )
    assert response.json()["status"] == "submitted", response.content
    response = post(
        operator,
        one(asked.reference, "actions/decline/"),
        {"reason": "outside_area", "version": asked.version + 2},
    )
    assert response.json()["status"] == "declined", response.content
    assert asked.events.latest("created_at").reason_code == "outside_area"

    waiting = referral_in_state(people, Status.ACCEPTED)
    response = post(operator, one(waiting.reference, "actions/waitlist/"), {"version": 3})
    assert response.json()["status"] == "waitlisted", response.content
    response = post(
        practice,
        one(waiting.reference, "actions/cancel/"),
        {"reason": "patient_withdrew", "version": 4},
    )
    assert response.json()["status"] == "cancelled", response.content

    active = referral_in_state(people, Status.ACTIVE)
    response = post(
        operator,
        one(active.reference, "actions/discharge/"),
        {"reason": "patient_choice", "version": active.version},
    )
    assert response.json()["status"] == "discharged", response.content


# --- Who may -------------------------------------------------------------------------------------


def test_a_leisure_operators_client_cannot_make_referrals(people, operator):
    refused = post(operator, LIST, draft_body(people))
    assert_problem(refused, 403)
    assert not Referral.objects.exists()


def _endpoints(people):
    """Every write, as (method, url, body), on referrals in the states they act on."""
    draft = new_draft(people)
    submitted = referral_in_state(people, Status.SUBMITTED)
    return [
        ("post", LIST, draft_body(people)),
        ("patch", one(draft.reference), {"priority": "urgent", "version": draft.version}),
        ("post", one(draft.reference, "submit/"), {"version": draft.version}),
        *(
            ("post", one(submitted.reference, f"actions/{name}/"), {"version": 2})
            for name in sorted(set(ACTION_SERVICES) - {"submit"})
        ),
        ("post", "/api/v1/patients/lookup/", {"nhs_number": submitted.patient.nhs_number}),
    ]


def test_without_the_scope_every_write_is_refused(people, client_of, api_as):
    readers = {
        organisation: api_as(client_of(organisation, ["referrals:read"], name="Reader"))
        for organisation in (people.practice_a, people.operator_x)
    }
    writers = {
        organisation: api_as(client_of(organisation, ["referrals:write"], name="Writer"))
        for organisation in (people.practice_a, people.operator_x)
    }
    endpoints = _endpoints(people)
    before = {r.reference: r.version for r in Referral.objects.all()}
    for method, url, body in endpoints:
        clients = writers if url.endswith("lookup/") else readers
        for api in clients.values():
            response = getattr(api, method)(url, body, format="json")
            assert_problem(response, 403)
    assert {r.reference: r.version for r in Referral.objects.all()} == before


def test_with_an_expired_token_every_write_is_refused(people, client_of, api_as):
    issued = client_of(people.practice_a)
    api = api_as(issued)
    AccessToken.objects.filter(application__api_client=issued.client).update(
        expires=timezone.now() - datetime.timedelta(seconds=1)
    )
    for method, url, body in _endpoints(people):
        response = getattr(api, method)(url, body, format="json")
        assert_problem(response, 401)
        assert response["WWW-Authenticate"].startswith("Bearer")
    assert Referral.objects.count() == 2


def test_another_organisations_client_finds_nothing_and_changes_nothing(people, client_of, api_as):
    draft = new_draft(people)
    submitted = referral_in_state(people, Status.SUBMITTED)
    other_practice = api_as(client_of(people.practice_b))
    other_operator = api_as(client_of(people.operator_y))

    for api, method, url, body in [
        (other_practice, "patch", one(draft.reference), {"priority": "urgent", "version": 1}),
        (other_practice, "post", one(draft.reference, "submit/"), {"version": 1}),
        (
            other_practice,
            "post",
            one(submitted.reference, "actions/cancel/"),
            {"reason": "duplicate", "version": 2},
        ),
        (
            other_operator,
            "post",
            one(submitted.reference, "actions/accept/"),
            {"facility": str(people.facility_y.public_id), "version": 2},
        ),
        (
            other_operator,
            "post",
            one(submitted.reference, "actions/decline/"),
            {"reason": "outside_area", "version": 2},
        ),
    ]:
        response = getattr(api, method)(url, body, format="json")
        body = assert_problem(response, 404)
        assert "Ada" not in response.content.decode()

    owner = api_as(client_of(people.practice_a))
    for referral in (draft, submitted):
        seen = owner.get(one(referral.reference)).json()
        assert (seen["status"], seen["version"], seen["priority"]) == (
            referral.status,
            referral.version,
            referral.priority,
        )
    assert not ReferralEvent.objects.filter(
        actor__api_client__organisation__in=[people.practice_b, people.operator_y]
    ).exists()


def test_a_client_that_sees_the_referral_but_may_not_do_the_action_gets_403(
    people, practice, operator
):
    submitted = referral_in_state(people, Status.SUBMITTED)
    # The referrer may not triage; the operator may not edit, submit or answer for the referrer.
    for api, method, url, body in [
        (
            practice,
            "post",
            one(submitted.reference, "actions/accept/"),
            {"facility": str(people.facility_x.public_id)},
        ),
        (practice, "post", one(submitted.reference, "actions/decline/"), {"reason": "other"}),
        (operator, "patch", one(submitted.reference), {"priority": "urgent"}),
        (operator, "post", one(submitted.reference, "actions/answer_info/"), {"answer": "x"}),
    ]:
        response = getattr(api, method)(url, {**body, "version": 2}, format="json")
        assert_problem(response, 403)
    submitted.refresh_from_db()
    assert (submitted.status, submitted.version) == (Status.SUBMITTED, 2)


# --- Versions ----------------------------------------------------------------------------------


def test_a_stale_version_is_a_409_and_changes_nothing(people, practice, operator):
    draft = new_draft(people)
    stale = practice.patch(
        one(draft.reference), {"priority": "urgent", "version": 7}, format="json"
    )
    body = assert_problem(stale, 409)
    assert body["code"] == "referral_changed"

    submitted = referral_in_state(people, Status.SUBMITTED)
    stale = post(
        operator,
        one(submitted.reference, "actions/decline/"),
        {"reason": "duplicate"},
        HTTP_IF_MATCH='"1"',
    )
    assert assert_problem(stale, 409)["code"] == "referral_changed"
    draft.refresh_from_db()
    submitted.refresh_from_db()
    assert (draft.priority, draft.version) == ("routine", 1)
    assert (submitted.status, submitted.version) == (Status.SUBMITTED, 2)


def test_the_version_is_required_and_must_agree(people, practice):
    draft = new_draft(people)
    missing = practice.patch(one(draft.reference), {"priority": "urgent"}, format="json")
    assert_problem(missing, 428)
    assert_problem(
        practice.patch(
            one(draft.reference),
            {"priority": "urgent", "version": 2},
            format="json",
            HTTP_IF_MATCH='"1"',
        ),
        400,
        "version",
    )
    assert_problem(
        practice.patch(one(draft.reference), {"version": "one"}, format="json"), 400, "version"
    )
    assert_problem(
        post(practice, one(draft.reference, "submit/"), {}, HTTP_IF_MATCH="*"), 400, "If-Match"
    )
    weak = practice.patch(
        one(draft.reference), {"priority": "urgent"}, format="json", HTTP_IF_MATCH='W/"1"'
    )
    assert weak.status_code == 200, weak.content


def test_an_action_not_open_from_the_current_state_is_a_409(people, operator):
    submitted = referral_in_state(people, Status.SUBMITTED)
    refused = post(operator, one(submitted.reference, "actions/complete/"), {"version": 2})
    assert assert_problem(refused, 409)["code"] == "invalid_transition"


# --- Idempotency -------------------------------------------------------------------------------


def test_a_replayed_post_returns_the_first_response_and_makes_one_referral(
    people, client_of, api_as
):
    issued = client_of(people.practice_a)
    body, key = draft_body(people), str(uuid.uuid4())
    first = post(api_as(issued), LIST, body, HTTP_IDEMPOTENCY_KEY=key)
    assert first.status_code == 201
    events = ReferralEvent.objects.count()

    again = post(api_as(issued), LIST, body, HTTP_IDEMPOTENCY_KEY=key)  # a new token, too
    assert again.status_code == 201
    assert again.json() == first.json()
    assert (again["Location"], again["ETag"]) == (first["Location"], first["ETag"])
    assert again["Idempotent-Replayed"] == "true"
    assert Referral.objects.count() == 1 and ReferralEvent.objects.count() == events

    # The replay showed the patient again: it is audited as the first response was.
    created = Referral.objects.get()
    reads = AccessRecord.objects.filter(referral_ids__contains=[created.pk]).order_by("at")
    assert reads.count() == 2
    replay = reads.last()
    assert replay.patient_ids == [created.patient_id] and replay.role == "system"
    assert replay.description.startswith("Replay of POST /api/v1/referrals/")

    # Keys are the client's own: another client's same key is another request.
    other = post(
        api_as(client_of(people.practice_a, name="Other")), LIST, body, HTTP_IDEMPOTENCY_KEY=key
    )
    assert other.status_code == 201 and other.json()["reference"] != first.json()["reference"]


def test_the_same_key_with_another_request_is_a_422(people, practice):
    key = "retry-1"
    assert post(practice, LIST, draft_body(people), HTTP_IDEMPOTENCY_KEY=key).status_code == 201
    changed = post(practice, LIST, draft_body(people, priority="urgent"), HTTP_IDEMPOTENCY_KEY=key)
    assert_problem(changed, 422)
    elsewhere = post(
        practice, "/api/v1/patients/lookup/", {"nhs_number": "x"}, HTTP_IDEMPOTENCY_KEY=key
    )
    assert_problem(elsewhere, 422)
    assert Referral.objects.count() == 1


def test_a_refused_request_is_replayed_refused_and_a_key_expires_after_a_day(people, practice):
    from api.models import IdempotencyKey

    submitted = referral_in_state(people, Status.SUBMITTED)
    url = one(submitted.reference, "actions/cancel/")
    refused = post(practice, url, {"reason": "other", "version": 2}, HTTP_IDEMPOTENCY_KEY="k")
    assert_problem(refused, 400, "note")
    replayed = post(practice, url, {"reason": "other", "version": 2}, HTTP_IDEMPOTENCY_KEY="k")
    assert replayed.json() == refused.json() and replayed["Idempotent-Replayed"] == "true"

    IdempotencyKey.objects.update(created_at=timezone.now() - datetime.timedelta(hours=25))
    anew = post(practice, url, {"reason": "duplicate", "version": 2}, HTTP_IDEMPOTENCY_KEY="k")
    assert anew.status_code == 200 and anew.json()["status"] == "cancelled"


def test_a_bad_idempotency_key_is_refused(people, practice):
    refused = post(practice, LIST, draft_body(people), HTTP_IDEMPOTENCY_KEY="x" * 256)
    assert_problem(refused, 400, "Idempotency-Key")
    assert not Referral.objects.exists()


def test_keys_older_than_a_day_are_purged(people, practice):
    from api.idempotency import keys_purge
    from api.models import IdempotencyKey

    post(practice, LIST, draft_body(people), HTTP_IDEMPOTENCY_KEY="old")
    post(practice, LIST, draft_body(people), HTTP_IDEMPOTENCY_KEY="new")
    IdempotencyKey.objects.filter(key="old").update(
        created_at=timezone.now() - datetime.timedelta(hours=24, minutes=1)
    )
    assert keys_purge() == 1
    assert list(IdempotencyKey.objects.values_list("key", flat=True)) == ["new"]


def test_the_purge_runs_on_the_beat_schedule():
    from django.conf import settings

    from api import tasks

    entry = settings.CELERY_BEAT_SCHEDULE["api-idempotency-keys-purge"]
    assert entry["task"] == tasks.idempotency_keys_purge.name == "api.tasks.idempotency_keys_purge"


# --- Invalid input -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"patient": patient_details(given_name=" ")}, "patient.given_name", "first name"),
        ({"patient": patient_details(date_of_birth="1870-01-01")}, "patient.date_of_birth", ""),
        ({"patient": patient_details(nhs_number="9990000019")}, "patient.nhs_number", ""),
        ({"patient": patient_details(postcode="nowhere")}, "patient.postcode", ""),
        ({"patient": patient_details(contact_methods=["email"])}, "patient.email", ""),
        ({"patient": patient_details(sex="X")}, "patient.sex", ""),
        ({"bp_systolic": 150, "bp_diastolic": None}, "bp_diastolic", "both"),
        ({"bp_systolic": 80, "bp_diastolic": 90}, "bp_systolic", "higher"),
        ({"bp_systolic": 400, "bp_diastolic": 90}, "bp_systolic", ""),
        ({"bp_measured_on": NEXT_YEAR}, "bp_measured_on", "past"),
        ({"reasons": ["headache"]}, "reasons.0", "not a valid choice"),
        ({"reasons": HYPERTENSION}, "reasons", ""),
        ({"relevant_history": "x" * 4001}, "relevant_history", "4000"),
        ({"bp_systolic": 190, "bp_diastolic": 110}, "exclusions_present", "180/100"),
        ({"preferred_facility": str(uuid.uuid4())}, "programme", ""),
        ({"programme": "not-a-uuid"}, "programme", ""),
        ({"preferred_facility": None}, "preferred_facility", ""),
        ({"referral_status": "submitted"}, "referral_status", "Not a field"),
    ],
)
def test_invalid_answers_are_400_problems_with_field_errors(
    people, practice, changes, field, message
):
    body = draft_body(people, **changes)
    body = {k: v for k, v in body.items() if not (k == "preferred_facility" and v is None)}
    response = post(practice, LIST, body)
    problem = assert_problem(response, 400, field)
    if message:
        messages = [e["message"] for e in problem["errors"] if e["field"] == field]
        assert any(message in m for m in messages), problem
    assert not Referral.objects.exists()


def test_a_programme_the_patient_cannot_go_to_is_refused_with_the_wizards_reasons(people, practice):
    too_young = patient_details(date_of_birth=f"{timezone.localdate().year - 10}-01-01")
    response = post(practice, LIST, draft_body(people, patient=too_young))
    problem = assert_problem(response, 400, "programme")
    assert "aged 18" in problem["errors"][0]["message"]


@pytest.mark.parametrize(
    ("name", "body", "field"),
    [
        ("accept", {"facility": str(uuid.uuid4())}, "facility"),
        ("accept", {}, "facility"),
        ("accept", {"facility": "{facility_y}"}, "facility"),
        ("accept", {"facility": "{facility_x}", "instructor": "nobody@example.org"}, "instructor"),
        ("accept", {"facility": "{facility_x}", "instructor": "not an email"}, "instructor"),
        ("decline", {"reason": "other"}, "note"),
        ("decline", {"reason": "bored"}, "reason"),
        ("request_info", {"question": "  "}, "question"),
        ("request_info", {"question": "x" * 2001}, "question"),
        ("cancel", {"reason": "duplicate", "note": "\u202eevil"}, "note"),
    ],
)
def test_invalid_action_fields_are_400_problems(people, practice, operator, name, body, field):
    submitted = referral_in_state(people, Status.SUBMITTED)
    body = {
        key: value.format(
            facility_x=people.facility_x.public_id, facility_y=people.facility_y.public_id
        )
        if isinstance(value, str) and value.startswith("{")
        else value
        for key, value in body.items()
    }
    api = practice if name == "cancel" else operator
    response = post(api, one(submitted.reference, f"actions/{name}/"), {**body, "version": 2})
    assert_problem(response, 400, field)
    submitted.refresh_from_db()
    assert (submitted.status, submitted.version) == (Status.SUBMITTED, 2)


@pytest.mark.parametrize(
    ("days", "message"),
    [(-1, "must be in the future"), (400, "must be within a year")],
)
def test_a_booking_in_the_past_or_over_a_year_ahead_is_refused(people, operator, days, message):
    """The same rule as the booking page's, from the same service."""
    accepted = referral_in_state(people, Status.ACCEPTED)
    when = (timezone.now() + datetime.timedelta(days=days)).isoformat()
    response = post(
        operator,
        one(accepted.reference, "actions/book/"),
        {"first_session_at": when, "version": accepted.version},
    )
    assert_problem(response, 400, "first_session_at")
    assert message in str(response.json()["errors"])
    accepted.refresh_from_db()
    assert accepted.status == Status.ACCEPTED


@pytest.mark.parametrize(
    ("content", "content_type", "status"),
    [
        (b"{not json", "application/json", 400),
        (b"[1, 2]", "application/json", 400),
        (b"patient=1", "application/x-www-form-urlencoded", 415),
    ],
)
def test_a_body_that_is_not_a_json_object_is_a_problem_not_a_500(
    people, practice, content, content_type, status
):
    response = practice.generic("POST", LIST, content, content_type=content_type)
    assert_problem(response, status)


# --- Patient lookup ------------------------------------------------------------------------------


def test_the_lookup_finds_the_patient_among_the_organisations_referrals(people, client_of, api_as):
    submitted = referral_in_state(people, Status.SUBMITTED)
    number = submitted.patient.nhs_number
    lookup = "/api/v1/patients/lookup/"
    spaced = f"{number[:3]} {number[3:6]} {number[6:]}"

    for organisation in (people.practice_a, people.operator_x):
        found = post(
            api_as(client_of(organisation, ["referrals:read"])), lookup, {"nhs_number": spaced}
        )
        assert found.status_code == 200, found.content
        body = found.json()
        assert body["patient"]["id"] == str(submitted.patient.public_id)
        assert [r["reference"] for r in body["referrals"]] == [submitted.reference]
    record = AccessRecord.objects.latest("at")
    assert (record.kind, record.description) == ("api", "Patient lookup")
    assert number not in record.path

    for organisation in (people.practice_b, people.operator_y):
        missing = post(
            api_as(client_of(organisation, ["referrals:read"])), lookup, {"nhs_number": number}
        )
        assert_problem(missing, 404)
        assert "Ada" not in missing.content.decode()

    reader = api_as(client_of(people.practice_a, ["referrals:read"], name="Another"))
    for bad in ("123", "9990000019", "", "x" * 50):
        response = post(reader, lookup, {"nhs_number": bad})
        problem = assert_problem(response, 400, "nhs_number")
        assert problem["errors"][0]["message"]
    assert_problem(post(reader, lookup, {}), 400, "nhs_number")


# --- Routes --------------------------------------------------------------------------------------

# The writes' paths are the API's published contract: each keeps its path and its name.
API_ROUTES = [
    ("/api/v1/referrals/", "api:referral-list"),
    ("/api/v1/referrals/ER-23456789/", "api:referral-detail"),
    ("/api/v1/referrals/ER-23456789/submit/", "api:referral-submit"),
    *(
        (f"/api/v1/referrals/ER-23456789/actions/{name}/", f"api:referral-{name.replace('_', '-')}")
        for name in sorted(set(ACTION_SERVICES) - {"submit"})
    ),
    ("/api/v1/patients/lookup/", "api:patient-lookup"),
]


@pytest.mark.parametrize(("path", "name"), API_ROUTES)
def test_each_write_keeps_its_path_and_name(path, name):
    match = resolve(path)
    assert match.view_name == name
    assert reverse(name, kwargs=match.kwargs) == path


# --- The document --------------------------------------------------------------------------------


def test_the_schema_documents_each_writes_request_and_responses(client, db):
    document = client.get("/api/v1/schema/", HTTP_ACCEPT="application/json").json()
    paths = document["paths"]
    operations = [
        paths["/api/v1/referrals/"]["post"],
        paths["/api/v1/referrals/{reference}/"]["patch"],
        paths["/api/v1/referrals/{reference}/submit/"]["post"],
        paths["/api/v1/patients/lookup/"]["post"],
        *(
            paths[f"/api/v1/referrals/{{reference}}/actions/{name}/"]["post"]
            for name in set(ACTION_SERVICES) - {"submit"}
        ),
    ]
    for operation in operations:
        assert "requestBody" in operation, operation["operationId"]
        assert "400" in operation["responses"], operation["operationId"]
        assert "application/problem+json" in operation["responses"]["400"]["content"]
    accept = document["components"]["schemas"]["AcceptActionRequest"]
    assert set(accept["required"]) == {"facility"}
    patient = document["components"]["schemas"]["PatientDetailsRequest"]
    assert {"given_name", "family_name", "date_of_birth", "sex", "postcode"} <= set(
        patient["required"]
    )
    assert paths["/api/v1/referrals/"]["post"]["security"] == [{"oauth2": ["referrals:write"]}]
    assert paths["/api/v1/patients/lookup/"]["post"]["security"] == [{"oauth2": ["referrals:read"]}]


def test_the_schema_validates_without_warnings(db, tmp_path):
    from django.core.management import call_command

    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(tmp_path / "s.yml"))
