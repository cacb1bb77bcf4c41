"""Read and search under /fhir/ (issue 13): every resource validates as R4 and carries
identifiers that do not follow the host; outcomes are coded; searches filter, page and include
as the CapabilityStatement says, in a constant number of queries; every read of patient data is
audited; anything unsupported is an OperationOutcome."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from fhir.resources.R4B import get_fhir_model_class

from audit.models import AccessRecord
from clinical.fhir_systems import LOINC, SNOMED
from fhir_server.registry import RESOURCE_TYPES

from .world import build_world

NAMESPACE = "https://referral-portal.example/fhir/"
NATIONAL = ("https://fhir.nhs.uk/Id/", "http://snomed.info/sct", "http://loinc.org")


@pytest.fixture
def world(people):
    return build_world(people)


@pytest.fixture
def operator(people, client_of, api_as):
    return api_as(client_of(people.operator_x))


@pytest.fixture
def practice(people, client_of, api_as):
    return api_as(client_of(people.practice_a))


def get(api, url, params=None, status=200):
    response = api.get(url, params or {})
    assert response.status_code == status, response.content
    assert response["Content-Type"].startswith("application/fhir+json")
    return response.json()


def entries(bundle, mode="match"):
    return [e["resource"] for e in bundle.get("entry", []) if e["search"]["mode"] == mode]


def systems(value, found=None):
    """Every `system` and `url` anywhere in a resource."""
    found = set() if found is None else found
    if isinstance(value, dict):
        for key, item in value.items():
            if key in ("system", "url") and isinstance(item, str):
                found.add(item)
            systems(item, found)
    elif isinstance(value, list):
        for item in value:
            systems(item, found)
    return found


def everything(api) -> list[dict]:
    resources = []
    for name in RESOURCE_TYPES:
        resources += entries(get(api, f"/fhir/{name}", {"_count": 100}))
    return resources


def test_every_resource_served_validates_as_r4_and_reads_back_the_same(world, operator):
    served = everything(operator)
    assert {r["resourceType"] for r in served} == set(RESOURCE_TYPES)
    for resource in served:
        get_fhir_model_class(resource["resourceType"]).model_validate(resource)
        assert get(operator, f"/fhir/{resource['resourceType']}/{resource['id']}") == resource


def test_identifiers_and_code_systems_do_not_change_with_the_host(world, operator, settings):
    first = everything(operator)
    settings.PORTAL_BASE_URL = "https://portal.other-host.example"
    second = everything(operator)
    assert first == second
    own = {s for r in first for s in systems(r) if s.startswith(NAMESPACE)}
    assert own, "the portal's identifier and code systems are under the namespace"
    assert not {s for r in first for s in systems(r) if "127.0.0.1" in s or "other-host" in s}


def test_every_outcome_observation_is_coded_loinc_first(world, operator):
    observations = entries(get(operator, "/fhir/Observation", {"_count": 100}))
    assert len(observations) >= 6
    for observation in observations:
        codings = observation["code"]["coding"]
        assert codings[0]["system"] in (LOINC, SNOMED), observation["code"]
        loinc_first = [c["system"] for c in codings]
        assert loinc_first == sorted(loinc_first, key=lambda system: system != LOINC)
    phq9 = entries(get(operator, "/fhir/Observation", {"code": f"{LOINC}|44261-6"}))
    assert sorted(o["valueInteger"] for o in phq9) == [8, 16]
    assert {o["code"]["coding"][1]["code"] for o in phq9} == {"720433000"}
    panels = entries(get(operator, "/fhir/Observation", {"code": f"{LOINC}|85354-9"}))
    readings = sorted(
        tuple(c["valueQuantity"]["value"] for c in panel["component"]) for panel in panels
    )
    assert readings == [(138, 84), (142, 88)]  # the exit measures and the referrer's reading
    weight = entries(get(operator, "/fhir/Observation", {"code": "29463-7"}))
    assert [w["valueQuantity"] for w in weight] == [
        {"value": 82.5, "unit": "kg", "system": "http://unitsofmeasure.org", "code": "kg"}
    ]
    assert entries(get(operator, "/fhir/Observation", {"code": f"{LOINC}|8302-2"}))  # height


def test_pages_hold_at_most_count_and_the_next_links_reach_every_match(world, operator):
    whole = entries(get(operator, "/fhir/Observation", {"_count": 100}))
    seen, url, params = [], "/fhir/Observation", {"_count": 2}
    while url:
        page = get(operator, url, params)
        assert len(page.get("entry", [])) <= 2
        seen += entries(page)
        following = [link["url"] for link in page["link"] if link["relation"] == "next"]
        url, params = (
            (following[0].split("testserver")[-1].split("8000")[-1], None)
            if following
            else (None, None)
        )
    assert [r["id"] for r in seen] == [r["id"] for r in whole]


@pytest.mark.parametrize(
    ("params", "where"),
    [
        ({"_count": "many"}, "_count"),
        ({"_page": "x"}, "_page"),
        ({"family": "Smith"}, "family"),
        ({"_lastUpdated": "yesterday"}, "_lastUpdated"),
        ({"_include": "Patient:organization"}, "_include"),
        ({"status": ""}, "status"),
    ],
)
def test_an_unsupported_or_malformed_search_is_an_outcome_not_an_unfiltered_result(
    world, practice, params, where
):
    body = get(practice, "/fhir/Task", params, status=400)
    assert body["resourceType"] == "OperationOutcome"
    assert body["issue"][0]["expression"] == [where]


def test_task_search_by_focus_status_and_time_with_the_service_request_included(world, practice):
    a = world.a
    found = get(
        practice,
        "/fhir/Task",
        {"focus": f"ServiceRequest/{a.reference}", "status": "completed", "_include": "Task:focus"},
    )
    assert [t["id"] for t in entries(found)] == [a.reference]
    assert [s["resourceType"] for s in entries(found, "include")] == ["ServiceRequest"]
    task = entries(found)[0]
    outputs = {o["type"]["coding"][0]["code"]: o for o in task["output"]}
    assert outputs["discharge-summary"]["valueReference"]["reference"] == (
        f"Composition/{a.reference}"
    )
    assert not entries(get(practice, "/fhir/Task", {"status": "in-progress"}))
    assert not entries(get(practice, "/fhir/Task", {"_lastUpdated": "gt2999-01-01"}))
    assert entries(get(practice, "/fhir/Task", {"_lastUpdated": "ge2020-01-01"}))


def test_the_discharge_summary_reads_as_a_composition_with_its_outcomes(world, practice):
    composition = get(practice, f"/fhir/Composition/{world.a.reference}")
    titles = [section["title"] for section in composition["section"]]
    assert titles[:3] == ["Ending", "Attendance", "Outcome measures"]
    contained = {c["id"]: c for c in composition["contained"]}
    outcome_section = composition["section"][2]
    assert {e["reference"] for e in outcome_section["entry"]} == {f"#{i}" for i in contained}
    phq9 = next(c for c in contained.values() if c["code"]["coding"][0]["code"] == "44261-6")
    assert phq9["valueQuantity"]["value"] == 8


def test_a_patient_is_found_by_nhs_number_and_the_read_is_audited(world, practice):
    patient = world.a.patient
    before = AccessRecord.objects.count()
    found = get(
        practice,
        "/fhir/Patient",
        {"identifier": f"https://fhir.nhs.uk/Id/nhs-number|{patient.nhs_number}"},
    )
    assert [p["id"] for p in entries(found)] == [str(patient.public_id)]
    record = AccessRecord.objects.order_by("-id").first()
    assert AccessRecord.objects.count() == before + 1
    assert record.kind == "fhir" and record.patient_ids == [patient.pk]
    get(practice, f"/fhir/ServiceRequest/{world.a.reference}")
    record = AccessRecord.objects.order_by("-id").first()
    assert record.referral_ids == [world.a.pk] and record.patient_ids == [patient.pk]


@pytest.mark.parametrize("resource_type", ["Patient", "ServiceRequest", "Task", "Observation"])
def test_a_search_page_costs_the_same_queries_for_one_referral_or_five(
    people, practice, resource_type
):
    from tests.builders import referral_in_state

    referral_in_state(people, "submitted")

    def cost() -> int:
        with CaptureQueriesContext(connection) as captured:
            get(practice, f"/fhir/{resource_type}", {"_count": 50})
        return len(captured)

    one = cost()
    for _ in range(4):
        referral_in_state(people, "submitted")
    assert cost() == one


def test_the_capability_statement_lists_exactly_what_is_served(client):
    statement = get(client, "/fhir/metadata")
    get_fhir_model_class("CapabilityStatement").model_validate(statement)
    assert statement["fhirVersion"] == "4.0.1"
    rest = statement["rest"][0]
    listed = {r["type"]: r for r in rest["resource"]}
    assert set(listed) == set(RESOURCE_TYPES)
    for name, kind in RESOURCE_TYPES.items():
        assert {p["name"] for p in listed[name]["searchParam"]} == set(kind.params)
        assert {i["code"] for i in listed[name]["interaction"]} == {"read", "search-type"}
    assert listed["Task"]["searchInclude"] == ["Task:focus"]
    assert [o["name"] for o in rest["operation"]] == ["process-message"]


def test_the_code_systems_and_questionnaires_are_public_and_hold_every_code_sent(
    world, client, practice
):
    task = get(practice, f"/fhir/Task/{world.a.reference}")
    status = task["businessStatus"]["coding"][0]
    code_system = get(client, "/fhir/CodeSystem/referral-status")
    assert code_system["url"] == status["system"]
    assert status["code"] in {c["code"] for c in code_system["concept"]}
    found = get(client, "/fhir/CodeSystem", {"url": f"{NAMESPACE}CodeSystem/decline-reason"})
    assert [c["id"] for c in entries(found)] == ["decline-reason"]
    screen = get(client, "/fhir/Questionnaire/safety-screen")
    assert screen["url"] == f"{NAMESPACE}Questionnaire/safety-screen"
    phq9 = get(client, "/fhir/Questionnaire/phq9")
    assert len(phq9["item"]) == 9 and phq9["code"][0]["system"] in (LOINC, SNOMED)


def test_a_resource_the_server_does_not_serve_is_an_outcome(practice, client):
    body = get(practice, "/fhir/Appointment", status=404)
    assert body["issue"][0]["code"] == "not-supported"
    assert get(client, "/fhir/no/such/thing/here", status=404)["resourceType"] == "OperationOutcome"
    assert get(client, "/fhir/Patient", status=401)["issue"][0]["code"] == "login"


def test_a_token_without_outcomes_read_cannot_read_observations(people, client_of, api_as, world):
    api = api_as(client_of(people.practice_a, ["referrals:read", "referrals:write"]))
    assert get(api, "/fhir/Observation", status=403)["issue"][0]["code"] == "forbidden"
    assert get(api, "/fhir/Task")["resourceType"] == "Bundle"


def test_a_person_signed_in_to_the_pages_gets_no_fhir_data(world, client, people):
    """The FHIR server takes tokens only: a browser session is never enough."""
    client.force_login(people.referrer_a)
    assert get(client, "/fhir/Patient", status=401)["issue"][0]["code"] == "login"
    response = client.post("/fhir/$process-message", {}, content_type="application/fhir+json")
    assert response.status_code == 401


def test_a_write_to_a_read_only_type_is_not_supported(world, practice):
    for method in ("post", "put", "delete"):
        response = getattr(practice, method)(f"/fhir/Patient/{world.a.patient.public_id}")
        assert response.status_code == 405, (method, response.content)
        assert response.json()["issue"][0]["code"] == "not-supported"
    assert practice.post("/fhir/Patient", {}, format="json").status_code == 405
    assert practice.get("/fhir/$process-message").status_code == 405


def test_a_programme_is_listed_once_whatever_its_classes_at_a_centre(world, practice, people):
    from tests.factories import ProgrammeClassFactory

    ProgrammeClassFactory(programme=people.programme_x, facility=people.facility_x)
    found = get(
        practice,
        "/fhir/HealthcareService",
        {"location": f"Location/{people.facility_x.public_id}"},
    )
    assert [s["id"] for s in entries(found)] == [str(people.programme_x.public_id)]
    assert found["total"] == 1


def test_a_task_points_at_its_service_request_by_reference_and_identifier(world, practice):
    task = get(practice, f"/fhir/Task/{world.a.reference}")
    assert task["focus"]["reference"] == f"ServiceRequest/{world.a.reference}"
    assert task["focus"]["identifier"]["value"] == world.a.reference
    assert get(practice, task["focus"]["reference"].join(["/fhir/", ""]))["id"] == world.a.reference


def test_a_fault_of_ours_is_a_500_outcome_without_detail(world, practice, monkeypatch, caplog):
    import dataclasses

    from fhir_server import registry

    def broken(user, id_):
        raise RuntimeError("Lovelace 9434765919")

    task = registry.RESOURCE_TYPES["Task"]
    monkeypatch.setitem(registry.RESOURCE_TYPES, "Task", dataclasses.replace(task, read=broken))
    body = get(practice, f"/fhir/Task/{world.a.reference}", status=500)
    assert body["issue"][0]["code"] == "exception"
    assert "Lovelace" not in str(body)
    assert "FHIR request failed" in caplog.text
