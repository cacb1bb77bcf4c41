"""Outcome measures over the API (issue 12): recorded through the assessment service (validated
and scored by the instrument library, PHQ-9 question 9 raising the safety alert) and read as the
progress page shows them."""

import pytest

from outcomes.models import Assessment, Timepoint
from referrals.models import Alert, Status
from tests.builders import referral_in_state

from .helpers import expire_tokens, problem_fields, queries_for

CALM = {f"q{n}": 0 for n in range(1, 10)}


def url_of(referral) -> str:
    return f"/api/v1/referrals/{referral.reference}/assessments/"


def record(api, referral, answers=None, **body):
    headers = {name: body.pop(name) for name in list(body) if name.startswith("HTTP_")}
    body = {"instrument": "phq9", "timepoint": "baseline", "answers": answers or CALM, **body}
    return api.post(url_of(referral), body, format="json", **headers)


def test_the_operator_records_a_measure_and_reads_it_back_scored(people, client_of, api_as):
    referral = referral_in_state(people, Status.BOOKED)
    issued = client_of(people.operator_x)
    api = api_as(issued)

    response = record(api, referral, {**CALM, "q1": 2, "q2": 1})

    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["instrument"], body["instrument_name"], body["timepoint"]) == (
        "phq9",
        "PHQ-9",
        "baseline",
    )
    assert body["scores"]["total"] == 3 and body["safety_alert"] is False
    assert body["method"] == "imported"
    stored = Assessment.objects.get(referral=referral)
    assert stored.recorded_by == issued.client.user and stored.answers["q1"] == 2
    listed = api.get(url_of(referral)).json()["results"]
    assert [row["id"] for row in listed] == [str(stored.public_id)]
    assert listed[0]["answers"]["q1"] == 2
    assert not Alert.objects.filter(referral=referral).exists()


def test_phq9_question_9_above_0_raises_the_safety_alert(people, client_of, api_as):
    referral = referral_in_state(people, Status.ACTIVE)
    api = api_as(client_of(people.operator_x))

    response = record(api, referral, {**CALM, "q9": 1})

    assert response.status_code == 201, response.content
    assert response.json()["safety_alert"] is True
    alert = Alert.objects.get(referral=referral)
    assert alert.kind == Alert.Kind.PHQ9_ITEM9 and alert.is_open
    assert referral.events.filter(action="safety_alert").count() == 1


def test_the_referrer_reads_scores_with_consent_and_nothing_without(people, client_of, api_as):
    shared = referral_in_state(people, Status.BOOKED)
    private = referral_in_state(people, Status.BOOKED, consent_share_outcomes=False)
    operator = api_as(client_of(people.operator_x))
    for referral in (shared, private):
        assert record(operator, referral).status_code == 201
    api = api_as(client_of(people.practice_a))

    rows = api.get(url_of(shared)).json()["results"]
    assert rows[0]["scores"]["total"] == 0 and rows[0]["answers"] is None
    refused = api.get(url_of(private))
    problem_fields(refused, 403)
    assert "results" not in refused.json()
    # Reading is not recording: the referrer's system may not record a measure.
    problem_fields(record(api, shared, timepoint="exit"), 403)
    assert Assessment.objects.filter(referral=shared).count() == 1


def test_a_recording_sent_again_with_its_idempotency_key_is_not_recorded_again(
    people, client_of, api_as
):
    referral = referral_in_state(people, Status.ACTIVE)
    api = api_as(client_of(people.operator_x))
    events = referral.events.count()

    first = record(api, referral, HTTP_IDEMPOTENCY_KEY="exit-1")
    again = record(api, referral, HTTP_IDEMPOTENCY_KEY="exit-1")

    assert (first.status_code, again.status_code) == (201, 201)
    assert again.json() == first.json() and again["Idempotent-Replayed"] == "true"
    # Without the key, the same answers again would be a second recording (a correction).
    assert Assessment.objects.filter(referral=referral).count() == 1
    assert list(referral.events.values_list("action", flat=True)[events:]) == [
        "assessment_recorded"
    ]


def test_another_organisation_sees_nothing_and_changes_nothing(people, client_of, api_as):
    referral = referral_in_state(people, Status.BOOKED)
    operator = api_as(client_of(people.operator_x))
    assert record(operator, referral).status_code == 201
    before = operator.get(url_of(referral)).json()["results"]

    # A GP system has no outcomes:write scope: refused before the referral is looked up.
    for organisation, refused in ((people.operator_y, 404), (people.practice_b, 403)):
        api = api_as(client_of(organisation))
        problem_fields(api.get(url_of(referral)), 404)
        problem_fields(record(api, referral, {**CALM, "q9": 3}), refused)

    assert operator.get(url_of(referral)).json()["results"] == before
    assert not Alert.objects.filter(referral=referral).exists()


@pytest.mark.parametrize(
    ("body", "fields"),
    [
        ({"instrument": "nope"}, ["instrument"]),
        ({"timepoint": "someday"}, ["timepoint"]),
        ({"timepoint": "followup_3m"}, [""]),  # not while the referral is booked
        ({"answers": {**CALM, "q1": 7}}, ["answers.q1"]),
        ({"answers": {"q1": 1}}, [f"answers.q{n}" for n in range(2, 10)]),
        ({"answers": {**CALM, "q10": 1}}, ["answers.q10"]),
        ({"answers": ["q1"]}, ["answers"]),
        ({"answers": {**CALM, "q1": "x" * 20000}}, ["answers"]),
        ({"method": "telepathy"}, ["method"]),
        ({"instrument": None}, ["instrument"]),
    ],
)
def test_bad_input_is_a_problem_naming_the_fields(people, client_of, api_as, body, fields):
    referral = referral_in_state(people, Status.BOOKED)
    api = api_as(client_of(people.operator_x))
    full = {"instrument": "phq9", "timepoint": "baseline", "answers": CALM, **body}

    response = api.post(url_of(referral), full, format="json")

    assert sorted(problem_fields(response, 400)) == sorted(fields)
    assert not Assessment.objects.filter(referral=referral).exists()


def test_each_method_needs_its_scope_and_a_live_token(people, client_of, api_as):
    referral = referral_in_state(people, Status.BOOKED)

    reader = api_as(client_of(people.operator_x, ["outcomes:read"], name="Reader"))
    problem_fields(record(reader, referral), 403)
    writer = api_as(client_of(people.operator_x, ["outcomes:write"], name="Writer"))
    problem_fields(writer.get(url_of(referral)), 403)
    referrals_only = api_as(client_of(people.operator_x, ["referrals:read"], name="Referrals"))
    problem_fields(referrals_only.get(url_of(referral)), 403)

    issued = client_of(people.operator_x, name="Everything")
    api = api_as(issued)
    expire_tokens(issued)
    problem_fields(api.get(url_of(referral)), 401)
    problem_fields(record(api, referral), 401)
    assert not Assessment.objects.filter(referral=referral).exists()


def test_the_list_costs_the_same_queries_for_one_assessment_or_twenty(people, client_of, api_as):
    referral = referral_in_state(people, Status.ACTIVE)
    slots = [
        (code, timepoint)
        for code in ("phq9", "gad7", "swemwbs", "gppaq")
        for timepoint in Timepoint.values
    ]

    def add(chosen):
        Assessment.objects.bulk_create(
            Assessment(referral=referral, instrument=code, timepoint=timepoint, scores={"total": 1})
            for code, timepoint in chosen
        )

    api = api_as(client_of(people.operator_x))
    add(slots[:1])
    one, body = queries_for(api, url_of(referral))
    assert len(body["results"]) == 1
    add(slots[1:20])
    twenty, body = queries_for(api, url_of(referral))
    assert len(body["results"]) == 20
    assert twenty == one
