"""Both client libraries complete the round trip: two real FHIR clients, the SMART on FHIR Python
client (`fhirclient`) and `fhirpy`, against the live `/fhir/` server over HTTP.

Each, as a GP practice's system, reads the CapabilityStatement without a token, gets a token
from the token endpoint, sends a referral message to `$process-message`, finds the patient by
NHS number, and follows the referral's Task while the leisure operator's people move it along
on their side (accept, book, the first session attended, a PHQ-9 at baseline and at exit,
complete), to the discharge summary the completed Task points at and the PHQ-9 totals as coded
Observations, whose pages it then follows one by one. Every response either library receives is
parsed by the library (fhirclient's R4 models raise on anything invalid) and validated against
the R4B models of `fhir.resources` as it arrives (`live.Wire`).
"""

import itertools

import pytest

from clinical.fhir_systems import NHS_NUMBER
from outcomes.services import assessment_record
from referrals.models import Referral, Status
from tests.builders import run_action

from .live import LIBRARIES, Library, Wire, r4b_valid, token_of, token_uri
from .messages import referral_message

GP_SCOPES = ["referrals:read", "referrals:write", "outcomes:read"]
LOINC = "http://loinc.org"
SNOMED = "http://snomed.info/sct"
PHQ9_TOTAL = f"{LOINC}|44261-6"
# PHQ-9 answers at the start and at the end (question 9 at 0: no safety alert).
PHQ9_BASELINE = {**{f"q{n}": 2 for n in range(1, 9)}, "q9": 0}  # total 16
PHQ9_EXIT = {**{f"q{n}": 1 for n in range(1, 9)}, "q9": 0}  # total 8


@pytest.fixture
def fhir_base(live_server, settings) -> str:
    """The live server's `/fhir/`; the links it writes (next pages, fullUrls) name it."""
    settings.PORTAL_BASE_URL = live_server.url
    return f"{live_server.url}/fhir"


def by_id(resources: list[dict]) -> dict[str, dict]:
    return {resource["id"]: resource for resource in resources}


def the_one(resources: list[dict]) -> dict:
    assert len(resources) == 1, resources
    return resources[0]


def timepoint_of(observation: dict) -> str:
    (timepoint,) = [
        coding["code"]
        for category in observation["category"]
        for coding in category["coding"]
        if coding["system"].endswith("CodeSystem/assessment-timepoint")
    ]
    return timepoint


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("library_class", LIBRARIES, ids=lambda kind: kind.name)
def test_a_client_library_sends_a_referral_and_follows_it_to_its_outcomes(
    library_class: type[Library], fhir_base, live_server, people, client_of
):
    wire = Wire()
    client = library_class(fhir_base, wire)

    # --- 1. The CapabilityStatement, read before the client has a token -----------------------
    statement = client.capability_statement()
    assert wire.exchanges[-1].url == f"{fhir_base}/metadata"
    assert wire.exchanges[-1].authorization is None
    assert statement["resourceType"] == "CapabilityStatement"
    assert statement["fhirVersion"] == "4.0.1"
    (rest,) = statement["rest"]
    served = {resource["type"]: resource for resource in rest["resource"]}
    assert {"Patient", "Task", "Observation", "Composition"} <= set(served)
    assert {"identifier"} <= {param["name"] for param in served["Patient"]["searchParam"]}
    assert {"focus"} <= {param["name"] for param in served["Task"]["searchParam"]}
    assert {"patient", "code"} <= {p["name"] for p in served["Observation"]["searchParam"]}
    assert "process-message" in [operation["name"] for operation in rest["operation"]]

    # --- 2. The referral message, with the GP system's own token ------------------------------
    credentials = client_of(people.practice_a, GP_SCOPES, name="GP system")
    uri = token_uri(statement)
    assert uri == f"{live_server.url}/oauth/token/"
    token = token_of(uri, credentials, " ".join(GP_SCOPES))
    client.authorise(token)
    message = referral_message(people)
    nhs_number = message["entry"][2]["resource"]["identifier"][0]["value"]

    answer = client.process_message(message)

    assert wire.exchanges[-1].authorization == f"Bearer {token}"
    assert (answer["resourceType"], answer["type"]) == ("Bundle", "message")
    header, task_entry = answer["entry"]
    assert header["resource"]["resourceType"] == "MessageHeader"
    assert header["resource"]["response"] == {
        "identifier": message["entry"][0]["resource"]["id"],
        "code": "ok",
    }
    task = task_entry["resource"]
    reference = task["id"]
    assert task["resourceType"] == "Task"
    assert task["status"] == "requested"
    # The Task names its ServiceRequest by literal reference and by identifier, and the
    # ServiceRequest served there is that referral.
    assert task["focus"]["reference"] == f"ServiceRequest/{reference}"
    assert task["focus"]["identifier"]["value"] == reference
    assert header["resource"]["focus"][0]["reference"] == f"{fhir_base}/Task/{reference}"
    assert client.read("ServiceRequest", reference)["id"] == reference
    referral = Referral.objects.get(reference=reference)
    assert referral.status == Status.SUBMITTED

    # --- 3. The patient, found by NHS number --------------------------------------------------
    patient = the_one(client.search("Patient", {"identifier": f"{NHS_NUMBER}|{nhs_number}"}))
    assert patient["identifier"][0] == {"system": NHS_NUMBER, "value": nhs_number}
    assert patient["name"][0]["family"] == "Lovelace"
    assert task["for"]["reference"] == f"Patient/{patient['id']}"
    assert client.read("Patient", patient["id"])["id"] == patient["id"]

    # --- 4. The Task, followed while the operator's people move the referral along ------------
    def operator_accepts():
        run_action(people, referral, "accept")

    def operator_books_and_measures():
        run_action(people, referral, "book")
        assessment_record(
            referral=referral,
            instrument="phq9",
            timepoint="baseline",
            answers=PHQ9_BASELINE,
            by=people.instructor_x,
        )

    def patient_attends():
        run_action(people, referral, "start")  # the first session attended

    def operator_measures_and_completes():
        assessment_record(
            referral=referral,
            instrument="phq9",
            timepoint="exit",
            answers=PHQ9_EXIT,
            by=people.instructor_x,
        )
        run_action(people, referral, "complete")

    seen = [(task["status"], task["businessStatus"]["coding"][0]["code"])]
    for step in (
        operator_accepts,
        operator_books_and_measures,
        patient_attends,
        operator_measures_and_completes,
    ):
        step()
        task = client.read("Task", reference)
        (searched,) = client.search("Task", {"focus": f"ServiceRequest/{reference}"})
        assert searched == task
        seen.append((task["status"], task["businessStatus"]["coding"][0]["code"]))
    assert seen == [
        ("requested", "submitted"),
        ("accepted", "accepted"),
        ("accepted", "booked"),
        ("in-progress", "active"),
        ("completed", "completed"),
    ]
    summaries = [
        output["valueReference"]["reference"]
        for output in task["output"]
        if "valueReference" in output
        and output["valueReference"]["reference"].startswith("Composition/")
    ]
    assert summaries == [f"Composition/{reference}"]
    summary = client.read("Composition", reference)
    assert summary["status"] == "final"
    assert summary["subject"]["reference"] == f"Patient/{patient['id']}"
    (outcomes,) = [s for s in summary["section"] if s["title"] == "Outcome measures"]
    contained = by_id(summary["contained"])
    (change,) = [contained[entry["reference"].removeprefix("#")] for entry in outcomes["entry"]]
    assert change["code"]["coding"][0]["code"] == "44261-6"

    # --- 5. The PHQ-9 totals, as coded Observations -------------------------------------------
    totals = client.search(
        "Observation", {"patient": f"Patient/{patient['id']}", "code": PHQ9_TOTAL}
    )
    assert len(totals) == 2, totals
    for observation in totals:
        first, second = observation["code"]["coding"][:2]
        assert (first["system"], first["code"]) == (LOINC, "44261-6")
        assert (second["system"], second["code"]) == (SNOMED, "720433000")
        assert observation["subject"]["reference"] == f"Patient/{patient['id']}"
        assert observation["basedOn"] == [{"reference": f"ServiceRequest/{reference}"}]
    assert {timepoint_of(o): o["valueInteger"] for o in totals} == {"baseline": 16, "exit": 8}

    # --- Paging: the patient's Observations one a page, by the library's paging ---------------
    everything = client.search("Observation", {"patient": f"Patient/{patient['id']}"})
    mark = len(wire.exchanges)
    pages = client.pages("Observation", {"patient": f"Patient/{patient['id']}"}, count=1)
    fetched = wire.since(mark)
    assert len(pages) >= 3
    assert len(fetched) == len(pages)
    assert all(len(page) == 1 for page in pages)
    assert [r["id"] for page in pages for r in page] == [r["id"] for r in everything]
    assert set(by_id(totals)) < set(by_id(everything))  # the BP reading, and both totals
    for exchange, following in itertools.pairwise(fetched):
        (next_url,) = [link["url"] for link in exchange.body["link"] if link["relation"] == "next"]
        assert following.url == next_url
    assert "next" not in [link["relation"] for link in fetched[-1].body["link"]]

    # --- 6. Everything received was FHIR the R4B models accept, and nothing was refused -------
    assert all(exchange.status < 400 for exchange in wire.exchanges), [
        (e.method, e.url, e.status, e.body) for e in wire.exchanges if e.status >= 400
    ]
    for resource in [statement, answer, patient, task, summary, *totals, *everything]:
        r4b_valid(resource)
