"""How a GP system's message maps onto the referral and back out (docs/fhir.md's mapping table):
contact details, interpreter and language, the requester as an Organization in the message, and
the searches a GP system runs to find what it sent."""

import pytest

from referrals.models import Referral

from .messages import FHIR_JSON, changed, send

INTERPRETER = "http://hl7.org/fhir/StructureDefinition/patient-interpreterRequired"


@pytest.fixture
def sent(gp, message, people):
    organisation = {
        "fullUrl": "urn:uuid:5b6c7d8e-3333-4a5b-9c8d-7e6f5a4b3c2d",
        "resource": {
            "resourceType": "Organization",
            "id": "5b6c7d8e-3333-4a5b-9c8d-7e6f5a4b3c2d",
            "identifier": [
                {"system": "https://fhir.nhs.uk/Id/ods-organization-code", "value": "a81001"}
            ],
            "name": "Practice A",
        },
    }
    body = changed(
        message,
        **{
            "entry.1.resource.requester": {"reference": organisation["fullUrl"]},
            "entry.1.resource.priority": "urgent",
            "entry.1.resource.identifier": [
                {"system": "https://fhir.nhs.uk/Id/UBRN", "value": "000123456780"}
            ],
            "entry.2.resource.telecom": [
                {"system": "phone", "value": "07700 900123"},
                {"system": "email", "value": "ada@example.com"},
            ],
            "entry.2.resource.address": [
                {"line": ["1 Park Row"], "city": "Leeds", "postalCode": "LS1 5AB"}
            ],
            "entry.2.resource.extension": [{"url": INTERPRETER, "valueBoolean": True}],
            "entry.2.resource.communication": [
                {
                    "language": {
                        "coding": [{"system": "urn:ietf:bcp:47", "code": "pl", "display": "Polish"}]
                    }
                }
            ],
        },
    )
    body["entry"].append(organisation)
    response = send(gp, body)
    assert response.status_code == 200, response.content
    return Referral.objects.get(reference=response.json()["entry"][1]["resource"]["id"])


def test_contact_details_interpreter_and_priority_reach_the_referral(sent):
    patient = sent.patient
    assert (patient.phone, patient.email, patient.postcode) == (
        "07700 900123",
        "ada@example.com",
        "LS1 5AB",
    )
    assert patient.contact_by_phone and patient.contact_by_email and patient.contact_by_post
    assert patient.interpreter_needed and patient.interpreter_language == "Polish"
    assert sent.priority == "urgent" and sent.ubrn == "000123456780"


def test_the_patient_reads_back_with_the_same_details(sent, gp):
    patient = gp.get(f"/fhir/Patient/{sent.patient.public_id}").json()
    assert patient["extension"] == [{"url": INTERPRETER, "valueBoolean": True}]
    assert patient["communication"][0]["language"]["text"] == "Polish"
    assert {t["system"]: t["value"] for t in patient["telecom"]} == {
        "phone": "07700 900123",
        "email": "ada@example.com",
    }
    assert patient["managingOrganization"]["reference"] == "Organization/A81001"


@pytest.mark.parametrize(
    ("resource_type", "params"),
    [
        ("ServiceRequest", {"identifier": "https://fhir.nhs.uk/Id/UBRN|000123456780"}),
        ("ServiceRequest", {"identifier": "000123456780"}),
        ("ServiceRequest", {"status": "active", "_lastUpdated": "ge2020-01-01"}),
        ("Task", {"identifier": "{reference}"}),
        ("Task", {"_id": "{reference}", "status": "requested"}),
        ("Patient", {"identifier": "{nhs_number}"}),
        ("Patient", {"_id": "{patient}"}),
        ("QuestionnaireResponse", {"based-on": "ServiceRequest/{reference}"}),
        ("Observation", {"subject": "Patient/{patient}", "date": "2026-12-01"}),
    ],
)
def test_a_gp_system_finds_what_it_sent(sent, gp, resource_type, params):
    values = {
        "reference": sent.reference,
        "nhs_number": sent.patient.nhs_number,
        "patient": str(sent.patient.public_id),
    }
    filled = {name: value.format(**values) for name, value in params.items()}
    response = gp.get(f"/fhir/{resource_type}", filled)
    assert response.status_code == 200, response.content
    assert response.json()["entry"], (resource_type, filled)


@pytest.mark.parametrize(
    ("resource_type", "params"),
    [
        ("ServiceRequest", {"identifier": "https://other.example/id|000123456780"}),
        ("ServiceRequest", {"status": "revoked"}),
        ("Patient", {"_id": "not-a-uuid"}),
        ("Observation", {"date": "lt2000-01-01"}),
        ("Task", {"patient": "Patient/00000000-0000-0000-0000-000000000000"}),
    ],
)
def test_a_search_that_matches_nothing_is_an_empty_searchset(sent, gp, resource_type, params):
    response = gp.get(f"/fhir/{resource_type}", params)
    assert response.status_code == 200, response.content
    assert "entry" not in response.json()


def test_the_directory_finds_an_operator_its_centres_and_programmes(sent, gp, people):
    found = gp.get(
        "/fhir/Organization",
        {
            "identifier": f"https://referral-portal.example/fhir/Id/organisation-code|{people.operator_x.code}"
        },
    ).json()
    assert [o["id"] for o in (e["resource"] for e in found["entry"])] == [people.operator_x.code]
    centres = gp.get("/fhir/Location", {"organization": f"Organization/{people.operator_x.code}"})
    assert {e["resource"]["id"] for e in centres.json()["entry"]} >= {
        str(people.facility_x.public_id)
    }
    programmes = gp.get("/fhir/HealthcareService", {"name": "X Exercise"}).json()
    assert [e["resource"]["id"] for e in programmes["entry"]] == [str(people.programme_x.public_id)]


def test_a_body_of_another_media_type_is_refused_with_an_outcome(gp):
    response = gp.post("/fhir/$process-message", "<Bundle/>", content_type="application/xml")
    assert response.status_code == 415
    assert response["Content-Type"].startswith(FHIR_JSON)
    assert response.json()["issue"][0]["code"] == "not-supported"


def test_over_the_budget_a_client_is_told_when_to_come_back(gp, settings):
    """The API's budget per client (a new client here, so its count starts at nought)."""
    settings.PORTAL_API_RATE = "2/minute"
    responses = [gp.get("/fhir/Task") for _ in range(3)]
    assert [r.status_code for r in responses] == [200, 200, 429]
    assert int(responses[-1]["Retry-After"]) > 0
    assert responses[-1].json()["issue"][0]["code"] == "throttled"
