"""Referrals in (issue 13): a GP system's BaRS-style message becomes a submitted referral through
the browser's rules, a bad one gets an OperationOutcome naming the element and stores nothing,
and a message sent twice makes one referral."""

import datetime
import json

import pytest
from fhir.resources.R4B.bundle import Bundle

from fhir_server.models import InboundMessage
from referrals.models import Patient, Referral, ReferralEvent, Status
from tests.factories import PatientFactory, _nhs_numbers

from .messages import DELETE, FHIR_JSON, changed, send

PATIENT = "entry.2.resource"
SCREEN = "entry.4.resource"


def stored() -> tuple[int, int, int, int]:
    return (
        Referral.objects.count(),
        Patient.objects.count(),
        ReferralEvent.objects.count(),
        InboundMessage.objects.count(),
    )


def outcome(response, status: int) -> list[dict]:
    assert response.status_code == status, response.content
    assert response["Content-Type"].startswith(FHIR_JSON)
    body = response.json()
    assert body["resourceType"] == "OperationOutcome"
    assert all(issue["severity"] == "error" and issue["diagnostics"] for issue in body["issue"])
    return body["issue"]


def expressions(issues: list[dict]) -> list[str]:
    return [expression for issue in issues for expression in issue.get("expression", [])]


def test_a_gp_message_becomes_a_submitted_referral_on_the_coordinators_worklist(
    gp, message, people, client
):
    response = send(gp, message)

    assert response.status_code == 200, response.content
    assert response["Content-Type"].startswith(FHIR_JSON)
    reply = response.json()
    Bundle.model_validate(reply)
    header, task = (entry["resource"] for entry in reply["entry"])
    assert header["eventCoding"]["code"] == "servicerequest-response"
    assert header["response"] == {
        "identifier": message["entry"][0]["resource"]["id"],
        "code": "ok",
    }
    assert task["status"] == "requested"
    assert task["businessStatus"]["coding"][0]["code"] == "submitted"
    referral = Referral.objects.get(reference=task["id"])
    assert task["identifier"][0]["value"] == referral.reference
    assert "note" not in json.dumps(reply)  # nothing clinical is kept for a resend
    assert referral.status == Status.SUBMITTED
    assert referral.referring_organisation == people.practice_a
    assert referral.operator == people.operator_x
    assert (referral.programme, referral.preferred_facility) == (
        people.programme_x,
        people.facility_x,
    )
    assert referral.reasons == ["38341003"]
    assert (referral.bp_systolic, referral.bp_diastolic) == (142, 88)
    assert referral.bp_measured_on == datetime.date(2026, 12, 1)
    assert referral.exclusions_present == [] and referral.safety_screened_at is not None
    assert referral.heart_rate_medication is False and referral.risk_tier == "low"
    assert referral.consent_referral and referral.consent_share_outcomes
    assert referral.consent_research
    assert referral.relevant_history == "Keen to start; walks daily."
    patient = referral.patient
    assert (patient.given_name, patient.family_name, patient.sex) == ("Ada", "Lovelace", "F")
    assert patient.organisation == people.practice_a
    assert patient.phone == "07700 900123" and patient.postcode == "LS6 2AB"

    client.force_login(people.coordinator_x)
    worklist = client.get("/triage/")
    assert worklist.status_code == 200
    assert referral.reference in worklist.content.decode()


def test_a_malformed_element_is_named_and_nothing_is_stored(gp, message):
    before = stored()
    issues = outcome(send(gp, changed(message, **{f"{PATIENT}.birthDate": "1970-13-01"})), 400)
    assert "Bundle.entry[2].resource.birthDate" in expressions(issues)
    assert stored() == before


@pytest.mark.parametrize(
    ("change", "value", "status", "where"),
    [
        (f"{PATIENT}.birthDate", "2099-01-01", 422, "Bundle.entry[2].resource.birthDate"),
        (f"{PATIENT}.name.0.family", "", 400, "Bundle.entry[2].resource.name[0].family"),
        (f"{PATIENT}.name.0.family", DELETE, 422, "Bundle.entry[2].resource.name[0].family"),
        (f"{PATIENT}.gender", DELETE, 422, "Bundle.entry[2].resource.gender"),
        (f"{PATIENT}.address", DELETE, 422, "Bundle.entry[2].resource.address[0].postalCode"),
        (
            "entry.3.resource.component.0.valueQuantity.value",
            400,
            422,
            "Bundle.entry[3].resource.component[0].valueQuantity.value",
        ),
        (
            "entry.1.resource.reasonCode",
            DELETE,
            422,
            "Bundle.entry[1].resource.reasonCode",
        ),
        (
            f"{SCREEN}.item.8.answer",
            [{"valueCoding": {"code": "extreme"}}],
            422,
            "Bundle.entry[4].resource.item[8].answer[0].valueCoding",
        ),
        (
            f"{SCREEN}.item.7.answer",
            [{"valueString": "no"}],
            422,
            "Bundle.entry[4].resource.item[7].answer[0].valueBoolean",
        ),
        (
            "entry.0.resource.eventCoding.code",
            "servicerequest-cancel",
            422,
            "Bundle.entry[0].resource.eventCoding",
        ),
        ("identifier", DELETE, 400, "Bundle.identifier"),
        ("type", "collection", 400, "Bundle.type"),
        (
            "entry.1.resource.performer",
            [{"reference": "HealthcareService/00000000-0000-0000-0000-000000000000"}],
            422,
            "Bundle.entry[1].resource.performer[0]",
        ),
        (
            "entry.5.resource.provision.type",
            "deny",
            422,
            "Bundle.entry[5].resource.provision.type",
        ),
        (
            f"{SCREEN}.item.0.linkId",
            "not-a-question",
            422,
            "Bundle.entry[4].resource.item[0].linkId",
        ),
    ],
)
def test_each_refusal_names_the_element_and_stores_nothing(
    gp, message, change, value, status, where
):
    before = stored()
    issues = outcome(send(gp, changed(message, **{change: value})), status)
    assert where in expressions(issues), issues
    assert stored() == before


def test_an_exclusion_refuses_the_referral_with_the_browsers_reason(gp, message, people):
    exclusion = {"linkId": "unstable_angina", "answer": [{"valueBoolean": True}]}
    before = stored()
    issues = outcome(send(gp, changed(message, **{f"{SCREEN}.item.1": exclusion})), 422)
    assert any("angina" in issue["diagnostics"].lower() for issue in issues), issues
    assert "Bundle.entry[4].resource.item[1].answer[0].valueBoolean" in expressions(issues)
    assert stored() == before


@pytest.mark.parametrize(
    ("reading", "over"),
    [
        ((182, 104), ["component[0]", "component[1]"]),
        ((150, 101), ["component[1]"]),
    ],
)
def test_a_reading_of_180_over_100_cannot_go_with_the_screen_saying_it_does_not(
    gp, message, reading, over
):
    high = changed(
        message,
        **{
            "entry.3.resource.component.0.valueQuantity.value": reading[0],
            "entry.3.resource.component.1.valueQuantity.value": reading[1],
        },
    )
    before = stored()
    (issue,) = outcome(send(gp, high), 422)
    assert issue["diagnostics"].startswith(
        f"The resting blood pressure {reading[0]}/{reading[1]} mmHg is 180/100 or higher, but "
        "the safety screen answers resting_bp_180_100 false"
    )
    assert issue["expression"] == [
        *(f"Bundle.entry[3].resource.{part}.valueQuantity.value" for part in over),
        "Bundle.entry[4].resource.item[0].answer[0].valueBoolean",
    ]
    assert stored() == before


def test_a_reading_of_180_over_100_with_the_exclusion_answered_is_judged_as_in_the_browser(
    gp, message, people
):
    """Programme X lists the BP exclusion, so the patient is refused, for that reason."""
    assert "resting_bp_180_100" in people.programme_x.exclusions
    high = changed(
        message,
        **{
            "entry.3.resource.component.0.valueQuantity.value": 182,
            f"{SCREEN}.item.0.answer": [{"valueBoolean": True}],
        },
    )
    issues = outcome(send(gp, high), 422)
    assert any("Resting blood pressure" in issue["diagnostics"] for issue in issues), issues
    assert "Bundle.entry[4].resource.item[0].answer[0].valueBoolean" in expressions(issues)


def test_a_safety_screen_must_answer_every_exclusion(gp, message):
    before = stored()
    (issue,) = outcome(send(gp, changed(message, **{f"{SCREEN}.item.3": DELETE})), 422)
    assert "recent_mi_or_stroke is not answered" in issue["diagnostics"]
    assert issue["expression"] == ["Bundle.entry[4].resource.item"]
    assert stored() == before


def test_the_ubrn_and_the_named_clinician_are_kept(gp, message, people):
    practitioner = {
        "fullUrl": "urn:uuid:0f3e2c4d-1111-4a5b-9c8d-7e6f5a4b3c2d",
        "resource": {
            "resourceType": "Practitioner",
            "id": "0f3e2c4d-1111-4a5b-9c8d-7e6f5a4b3c2d",
            "identifier": [{"system": "https://fhir.hl7.org.uk/Id/gmc-number", "value": "7012345"}],
            "name": [{"family": "Okafor", "given": ["Ngozi"], "prefix": ["Dr"]}],
        },
    }
    role = {
        "fullUrl": "urn:uuid:1a2b3c4d-2222-4a5b-9c8d-7e6f5a4b3c2d",
        "resource": {
            "resourceType": "PractitionerRole",
            "id": "1a2b3c4d-2222-4a5b-9c8d-7e6f5a4b3c2d",
            "practitioner": {"reference": practitioner["fullUrl"]},
            "organization": {
                "identifier": {
                    "system": "https://fhir.nhs.uk/Id/ods-organization-code",
                    "value": people.practice_a.code,
                }
            },
        },
    }
    body = changed(
        message,
        **{
            "entry.1.resource.requester": {"reference": role["fullUrl"]},
            "entry.1.resource.identifier": [
                {
                    "system": "https://fhir.nhs.uk/Id/UBRN",
                    "value": "0001 2345 6789".replace(" ", ""),
                }
            ],
        },
    )
    body["entry"] += [practitioner, role]
    response = send(gp, body)
    assert response.status_code == 200, response.content
    referral = Referral.objects.get(reference=response.json()["entry"][1]["resource"]["id"])
    assert referral.ubrn == "000123456789"
    assert (referral.clinician_name, referral.clinician_registration) == (
        "Dr Ngozi Okafor",
        "GMC 7012345",
    )


@pytest.mark.parametrize(
    ("change", "where"),
    [
        (
            {
                "entry.1.resource.identifier": [
                    {"system": "https://fhir.nhs.uk/Id/UBRN", "value": "12AB"}
                ]
            },
            "Bundle.entry[1].resource.identifier[0].value",
        ),
        (
            {
                "entry.1.resource.requester": {
                    "identifier": {
                        "system": "https://fhir.nhs.uk/Id/ods-organization-code",
                        "value": "B82002",
                    }
                }
            },
            "Bundle.entry[1].resource.requester.identifier.value",
        ),
    ],
)
def test_a_bad_ubrn_or_another_practices_requester_is_refused(gp, message, change, where):
    before = stored()
    issues = outcome(send(gp, changed(message, **change)), 422)
    assert expressions(issues) == [where]
    assert stored() == before


def test_a_message_without_the_safety_screen_is_told_to_send_it(gp, message):
    issues = outcome(send(gp, changed(message, **{"entry.4": DELETE})), 422)
    assert {"Complete the safety screen", "Select the patient's risk level"} <= {
        issue["diagnostics"] for issue in issues
    }
    assert set(expressions(issues)) == {"Bundle.entry[1].resource.supportingInfo"}


def test_the_same_message_sent_again_gets_the_same_answer_and_makes_one_referral(gp, message):
    first = send(gp, message)
    again = send(gp, message)
    assert first.status_code == again.status_code == 200
    assert first.json() == again.json()
    assert (
        Referral.objects.filter(reference=first.json()["entry"][1]["resource"]["id"]).count() == 1
    )
    assert InboundMessage.objects.count() == 1


def test_a_different_message_under_a_used_identifier_is_a_duplicate(gp, message):
    assert send(gp, message).status_code == 200
    before = stored()
    other = changed(message, **{f"{PATIENT}.name.0.given": ["Grace"]})
    issues = outcome(send(gp, other), 422)
    assert issues[0]["code"] == "duplicate"
    assert expressions(issues) == ["Bundle.identifier"]
    assert stored() == before


def test_an_identifier_is_the_senders_own(gp, message, people, client_of, api_as):
    """Practice B may use the identifier practice A used: each sender has its own."""
    assert send(gp, message).status_code == 200
    other = referral_for_b = changed(
        message,
        **{"entry.1.resource.requester": {"display": "Practice B"}},
    )
    practice_b = api_as(client_of(people.practice_b))
    response = send(practice_b, other)
    assert response.status_code == 200, response.content
    assert Referral.objects.filter(referring_organisation=people.practice_b).count() == 1
    del referral_for_b


def test_an_nhs_number_already_held_updates_that_record_and_no_other(gp, message, people):
    nhs_number = next(_nhs_numbers)
    ours = PatientFactory(organisation=people.practice_a, nhs_number=nhs_number, phone="")
    theirs = PatientFactory(
        organisation=people.practice_b, nhs_number=nhs_number, given_name="Other"
    )
    body = changed(message, **{f"{PATIENT}.identifier.0.value": nhs_number})
    assert send(gp, body).status_code == 200
    ours.refresh_from_db()
    theirs.refresh_from_db()
    assert ours.phone == "07700 900123" and ours.given_name == "Ada"
    assert theirs.given_name == "Other"
    assert Patient.objects.filter(nhs_number=nhs_number).count() == 2


def test_only_a_referrer_with_the_write_scope_may_send(people, message, client_of, api_as):
    read_only = api_as(client_of(people.practice_a, ["referrals:read"]))
    assert outcome(send(read_only, message), 403)[0]["code"] in ("forbidden", "security")
    operator = api_as(client_of(people.operator_x))
    assert outcome(send(operator, message), 403)
    assert Referral.objects.count() == 0


def test_without_a_token_the_answer_is_401_with_a_challenge(client, message):
    response = client.post("/fhir/$process-message", message, content_type="application/fhir+json")
    assert outcome(response, 401)[0]["code"] == "login"
    assert response["WWW-Authenticate"].startswith("Bearer")


def test_a_body_that_is_not_json_is_a_400_outcome(gp):
    response = gp.post("/fhir/$process-message", "{not json", content_type=FHIR_JSON)
    assert outcome(response, 400)


def test_a_bundle_that_is_no_message_is_refused(gp):
    issues = outcome(
        gp.post("/fhir/$process-message", {"resourceType": "Patient"}, format="json"), 400
    )
    assert expressions(issues) == ["Bundle"]
