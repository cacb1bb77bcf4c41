"""The discharge summary in the FHIR message that goes back with the ending (issue 11,
finding 4): attendance that adds up in Task.output, one Observation per outcome score, and the
Composition's sections (outcomes, safety, recommendations)."""

import json
import uuid

from fhir.resources.R4B.bundle import Bundle

from delivery.fhir_messages import bundle_for_update
from referrals.consent import consent_record_decision
from referrals.models import Notification
from tests.delivery.test_notifications import webhook_practice  # noqa: F401  (a fixture)
from tests.referrals.test_discharge import completed_story


def ending_bundle(referral) -> dict:
    return Notification.objects.get(
        referral=referral, event__action="complete", channel=Notification.Channel.WEBHOOK
    ).payload


def resources(bundle: dict, kind: str) -> list[dict]:
    return [e["resource"] for e in bundle["entry"] if e["resource"]["resourceType"] == kind]


def test_finding_4_the_ending_message_carries_attendance_that_adds_up(
    people,
    frozen_now,
    webhook_practice,  # noqa: F811
):
    referral = completed_story(people, frozen_now)

    bundle = ending_bundle(referral)

    Bundle.model_validate(bundle)
    (task,) = resources(bundle, "Task")
    outputs = {o["type"]["coding"][0]["code"]: o.get("valueInteger") for o in task["output"]}
    assert outputs == {
        "sessions-planned": 12,
        "sessions-attended": 3,
        "sessions-missed": 1,
        "sessions-cancelled": 8,
        "sessions-not-yet-due": 0,
        "discharge-summary": None,
    }


def test_finding_4_the_ending_message_carries_each_outcome_as_an_observation(
    people,
    frozen_now,
    webhook_practice,  # noqa: F811
):
    referral = completed_story(people, frozen_now)

    bundle = ending_bundle(referral)

    observations = {o["code"]["text"]: o for o in resources(bundle, "Observation")}
    swemwbs = observations["SWEMWBS: Metric score"]
    assert swemwbs["code"]["coding"][0] == {
        "system": "http://snomed.info/sct",
        "code": "718466001",
        "display": "Short Warwick-Edinburgh Mental Well-being Scale score",
    }
    assert swemwbs["valueQuantity"] == {"value": 25.03}
    assert swemwbs["effectiveDateTime"] == "2026-10-07"
    components = {c["code"]["coding"][0]["code"]: c for c in swemwbs["component"]}
    assert components["baseline"]["valueQuantity"] == {"value": 19.25}
    assert components["change-from-baseline"]["valueQuantity"] == {"value": 5.78}
    assert components["minimal-important-difference"]["valueQuantity"] == {"value": 3}
    assert components["meaningful-change"]["valueBoolean"] is True
    bmi = observations["Physical measures: BMI"]
    assert bmi["code"]["coding"][0]["code"] == "39156-5"
    assert bmi["valueQuantity"] == {
        "value": 27.4,
        "unit": "kg/m²",
        "system": "http://unitsofmeasure.org",
        "code": "kg/m2",
    }
    # No patient in any resource: the reference identifies the referral to the referrer.
    assert all("subject" not in o for o in observations.values())
    (composition,) = resources(bundle, "Composition")
    sections = {s["title"]: s for s in composition["section"]}
    assert len(sections["Outcome measures"]["entry"]) == len(observations)
    text = json.dumps(composition)
    assert "No outcome measures" not in text
    assert "12 sessions planned: 3 attended, 1 not attended, 8 cancelled and 0 not yet due." in text
    assert "Keep up two brisk walks a week" in json.dumps(sections["Recommendations"])
    assert "No safety alerts or incidents were recorded" in text


def test_finding_4_without_consent_to_share_no_progress_is_built(people, frozen_now):
    referral = completed_story(people, frozen_now)
    consent_record_decision(
        referral=referral, by=people.coordinator_x, purpose="share_progress", method="telephone"
    )
    referral.refresh_from_db()
    event = referral.events.get(action="complete")

    bundle = bundle_for_update(
        message_id=uuid.uuid4(), event=event, referral=referral, destination="https://x.test/h"
    )

    assert resources(bundle, "Observation") == []
    (task,) = resources(bundle, "Task")
    assert [o["type"]["coding"][0]["code"] for o in task["output"]] == ["discharge-summary"]
    assert "Keep up two brisk walks" not in json.dumps(bundle)


def _systems(value) -> set[str]:
    """Every `system` in a FHIR structure (codings and identifiers alike)."""
    if isinstance(value, dict):
        found = {value["system"]} if isinstance(value.get("system"), str) else set()
        return found.union(*(_systems(item) for item in value.values()))
    if isinstance(value, list):
        return set().union(*(_systems(item) for item in value))
    return set()


def test_identifier_and_code_systems_do_not_change_with_the_host(people, settings, frozen_now):
    """Systems store the portal's identifiers and codes and match on them: the host the portal
    runs on (PORTAL_BASE_URL) may change, the namespace (PORTAL_FHIR_NAMESPACE) does not."""
    referral = completed_story(people, frozen_now)
    event = referral.events.get(action="complete")

    def built(base_url: str) -> dict:
        settings.PORTAL_BASE_URL = base_url
        return bundle_for_update(
            message_id=uuid.UUID(int=1),
            event=event,
            referral=referral,
            destination="https://x.test",
        )

    here, there = built("http://127.0.0.1:8000"), built("https://portal.scheme.example.nhs.uk")
    assert _systems(here) == _systems(there)
    portal_own = {s for s in _systems(here) if "snomed" not in s and "loinc" not in s}
    portal_own -= {
        s
        for s in portal_own
        if s.startswith(("http://hl7.org", "http://terminology", "http://unitsofmeasure.org"))
    }
    portal_own -= {s for s in portal_own if s.startswith("https://fhir.nhs.uk")}
    assert portal_own and all(
        s.startswith(settings.PORTAL_FHIR_NAMESPACE + "/") for s in portal_own
    ), portal_own
    assert "127.0.0.1" not in json.dumps(sorted(_systems(here)))
    # The message's source is where the portal is: that one does follow the host.
    (header,) = resources(there, "MessageHeader")
    assert header["source"]["endpoint"].startswith("https://portal.scheme.example.nhs.uk")
