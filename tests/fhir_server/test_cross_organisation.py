"""No client reads another organisation's resources (issue 13), type by type: by read (a 404,
as for a resource that does not exist) and by search (never in the results), for the other
referrer and the other operator, with the right client reading the same resources as a control."""

import pytest

from .world import build_world

SEARCHES = [
    "Patient",
    "ServiceRequest",
    "Task",
    "Composition",
    "Observation",
    "QuestionnaireResponse",
]


@pytest.fixture
def world(people):
    return build_world(people)


@pytest.fixture
def clients(people, client_of, api_as):
    return {
        name: api_as(client_of(getattr(people, organisation)))
        for name, organisation in (
            ("practice_a", "practice_a"),
            ("operator_x", "operator_x"),
            ("practice_b", "practice_b"),
            ("operator_y", "operator_y"),
        )
    }


def ids_found(api, resource_type: str) -> set[str]:
    response = api.get(f"/fhir/{resource_type}", {"_count": 100})
    assert response.status_code == 200, response.content
    return {entry["resource"]["id"] for entry in response.json().get("entry", [])}


@pytest.mark.parametrize("resource_type", SEARCHES)
def test_the_other_referrer_and_operator_can_never_read_a_referrals_resources(
    world, clients, resource_type
):
    ids = world.resources_of_a()[resource_type]
    # The operator the referral was sent to reads every one of them (the referrer all but the
    # answers to instruments: `test_instrument_answers_are_for_the_operator_not_the_referrer`).
    for id_ in ids:
        assert clients["operator_x"].get(f"/fhir/{resource_type}/{id_}").status_code == 200, id_
    assert set(ids) <= ids_found(clients["operator_x"], resource_type)
    for outsider in ("practice_b", "operator_y"):
        api = clients[outsider]
        for id_ in ids:
            response = api.get(f"/fhir/{resource_type}/{id_}")
            assert response.status_code == 404, (outsider, id_, response.content)
            assert response.json()["issue"][0]["code"] == "not-found"
        assert not set(ids) & ids_found(api, resource_type), outsider


def test_the_operator_sees_what_was_sent_to_it_and_the_referrer_its_own(world, clients):
    a, b = world.a, world.b
    assert a.reference in ids_found(clients["operator_x"], "Task")
    assert b.reference not in ids_found(clients["operator_x"], "Task")
    assert b.reference in ids_found(clients["operator_y"], "Task")
    assert b.reference in ids_found(clients["practice_b"], "ServiceRequest")


def test_instrument_answers_are_for_the_operator_not_the_referrer(world, clients):
    answers = [str(x.public_id) for x in world.a.assessments.all()]
    for id_ in answers:
        assert clients["operator_x"].get(f"/fhir/QuestionnaireResponse/{id_}").status_code == 200
        assert clients["practice_a"].get(f"/fhir/QuestionnaireResponse/{id_}").status_code == 404


def test_without_consent_to_share_progress_the_referrer_reads_no_outcomes(world, clients):
    from referrals.models import Referral

    Referral.objects.filter(pk=world.a.pk).update(consent_share_outcomes=False)
    outcome_ids = {x for x in world.resources_of_a()["Observation"] if not x.endswith("-bp")}
    assert not outcome_ids & ids_found(clients["practice_a"], "Observation")
    assert outcome_ids <= ids_found(clients["operator_x"], "Observation")


@pytest.mark.parametrize(
    ("outsider", "resource_type", "owner_object"),
    [
        ("practice_b", "Organization", "practice_a"),
        ("operator_y", "Organization", "practice_a"),
        ("operator_y", "Location", "facility_x"),
        ("operator_y", "HealthcareService", "programme_x"),
    ],
)
def test_directory_entries_are_read_only_by_those_who_deal_with_them(
    world, clients, people, outsider, resource_type, owner_object
):
    owned = getattr(people, owner_object)
    id_ = owned.code if resource_type == "Organization" else str(owned.public_id)
    insider = "practice_a" if resource_type == "Organization" else "operator_x"
    assert clients[insider].get(f"/fhir/{resource_type}/{id_}").status_code == 200
    assert clients[outsider].get(f"/fhir/{resource_type}/{id_}").status_code == 404
    assert id_ not in ids_found(clients[outsider], resource_type)


def test_a_referrer_reads_the_offer_it_can_refer_to(world, clients, people):
    """The directory a GP system needs to address a message: programmes and centres it can
    refer to, whoever runs them."""
    services = ids_found(clients["practice_b"], "HealthcareService")
    assert str(people.programme_x.public_id) in services
    assert str(people.facility_x.public_id) in ids_found(clients["practice_b"], "Location")
    assert people.operator_x.code in ids_found(clients["practice_b"], "Organization")


def test_a_write_by_one_organisation_changes_nothing_another_reads(world, clients, people, message):
    """Practice B's message about a patient practice A also refers changes only B's record."""
    from .messages import changed, send

    nhs_number = world.a.patient.nhs_number
    before = clients["practice_a"].get(f"/fhir/Patient/{world.a.patient.public_id}").json()
    body = changed(
        message,
        **{
            "entry.2.resource.identifier.0.value": nhs_number,
            "entry.2.resource.name.0.family": "Changed-by-B",
            "entry.1.resource.requester.identifier.value": people.practice_b.code,
        },
    )
    assert send(clients["practice_b"], body).status_code == 200
    after = clients["practice_a"].get(f"/fhir/Patient/{world.a.patient.public_id}").json()
    before.pop("meta", None), after.pop("meta", None)
    assert after == before
    found = clients["practice_a"].get(
        "/fhir/Patient", {"identifier": f"https://fhir.nhs.uk/Id/nhs-number|{nhs_number}"}
    )
    families = {e["resource"]["name"][0]["family"] for e in found.json()["entry"]}
    assert "Changed-by-B" not in families
