"""A referral as the referrer sent it: ServiceRequest, the BP Observation, the safety screen and
clinical answers as a QuestionnaireResponse, and the Task (the provider's progress on it)."""

from clinical.conditions import Condition
from clinical.fhir_systems import LOINC, OBSERVATION_CATEGORY, SNOMED, UBRN, UCUM, portal_system
from delivery.fhir_messages import (
    discharge_composition,
    organisation_reference,
    outcome_observation,
    task_resource,
)
from referrals.discharge import ENDING_ACTIONS, discharge_summary_for
from referrals.models import Priority, Referral, ReferralEvent, RiskTier, Status
from referrals.workflow import FHIR_SERVICE_REQUEST_STATUS

from .common import coding, concept, instant, meta
from .questionnaires import SAFETY_SCREEN, SCREEN_ITEMS, safety_screen_canonical

# SNOMED CT 310882002 |Exercise on prescription (regime/therapy)|: what every referral asks for.
EXERCISE_ON_PRESCRIPTION = ("310882002", "Exercise on prescription")
BP_PANEL = ("85354-9", "Blood pressure panel with all children optional")
BP_SYSTOLIC = ("8480-6", "Systolic blood pressure")
BP_DIASTOLIC = ("8462-4", "Diastolic blood pressure")


def _patient_reference(referral: Referral) -> dict:
    return {"reference": f"Patient/{referral.patient.public_id}"}


def bp_observation_id(referral: Referral) -> str:
    return f"{referral.reference}-bp"


def screen_response_id(referral: Referral) -> str:
    return f"{referral.reference}-{SAFETY_SCREEN}"


def service_request(referral: Referral) -> dict:
    identifiers = [{"system": portal_system("Id/referral-reference"), "value": referral.reference}]
    if referral.ubrn:
        identifiers.append({"system": UBRN, "value": referral.ubrn})
    resource: dict = {
        "resourceType": "ServiceRequest",
        "id": referral.reference,
        **meta(referral.updated_at),
        "identifier": identifiers,
        "status": FHIR_SERVICE_REQUEST_STATUS[Status(referral.status)],
        "intent": "order",
        "priority": "urgent" if referral.priority == Priority.URGENT else "routine",
        "code": concept(SNOMED, *EXERCISE_ON_PRESCRIPTION),
        "subject": _patient_reference(referral),
        "authoredOn": instant(referral.submitted_at or referral.created_at),
        "requester": organisation_reference(referral.referring_organisation),
        "reasonCode": [
            concept(SNOMED, code, Condition(code).label if code in Condition.values else "")
            for code in referral.reasons
        ],
    }
    if referral.clinician_name:
        resource["requester"] = {
            **resource["requester"],
            "display": f"{referral.clinician_name}, {referral.referring_organisation.name}",
        }
    performers = []
    if referral.operator is not None:
        performers.append(organisation_reference(referral.operator))
    if referral.programme is not None:
        performers.append(
            {
                "reference": f"HealthcareService/{referral.programme.public_id}",
                "display": referral.programme.name,
            }
        )
    if performers:
        resource["performer"] = performers
    facility = referral.facility or referral.preferred_facility
    if facility is not None:
        resource["locationReference"] = [
            {"reference": f"Location/{facility.public_id}", "display": facility.name}
        ]
    supporting = []
    if referral.bp_systolic is not None and referral.bp_diastolic is not None:
        supporting.append({"reference": f"Observation/{bp_observation_id(referral)}"})
    supporting.append({"reference": f"QuestionnaireResponse/{screen_response_id(referral)}"})
    resource["supportingInfo"] = supporting
    if referral.relevant_history:
        resource["note"] = [{"text": referral.relevant_history}]
    return resource


def bp_observation(referral: Referral) -> dict | None:
    """The blood pressure the referrer measured: the LOINC panel with both readings."""
    if referral.bp_systolic is None or referral.bp_diastolic is None:
        return None
    resource: dict = {
        "resourceType": "Observation",
        "id": bp_observation_id(referral),
        **meta(referral.updated_at),
        "status": "final",
        "category": [concept(OBSERVATION_CATEGORY, "vital-signs", "Vital Signs")],
        "code": concept(LOINC, *BP_PANEL),
        "subject": _patient_reference(referral),
        "basedOn": [{"reference": f"ServiceRequest/{referral.reference}"}],
        "component": [
            {
                "code": concept(LOINC, code, display),
                "valueQuantity": {
                    "value": value,
                    "unit": "mmHg",
                    "system": UCUM,
                    "code": "mm[Hg]",
                },
            }
            for (code, display), value in (
                (BP_SYSTOLIC, referral.bp_systolic),
                (BP_DIASTOLIC, referral.bp_diastolic),
            )
        ],
    }
    if referral.bp_measured_on:
        resource["effectiveDateTime"] = referral.bp_measured_on.isoformat()
    return resource


def _answer(item: str, referral: Referral) -> list[dict]:
    if item == "heart-rate-medication":
        value = referral.heart_rate_medication
        return [] if value is None else [{"valueBoolean": value}]
    if item == "medication-notes":
        return [{"valueString": referral.medication_notes}] if referral.medication_notes else []
    if item == "risk-tier":
        if not referral.risk_tier:
            return []
        tier = RiskTier(referral.risk_tier)
        return [{"valueCoding": coding(portal_system("CodeSystem/risk-tier"), tier, tier.label)}]
    if referral.safety_screened_at is None:
        return []
    return [{"valueBoolean": item in referral.exclusions_present}]


def safety_screen_response(referral: Referral) -> dict:
    """The safety screen and the clinical answers the referrer gave, against the portal's
    Questionnaire (`questionnaires.safety_screen`)."""
    items = []
    for link_id, text in SCREEN_ITEMS:
        answers = _answer(link_id, referral)
        if answers:
            items.append({"linkId": link_id, "text": text, "answer": answers})
    resource: dict = {
        "resourceType": "QuestionnaireResponse",
        "id": screen_response_id(referral),
        **meta(referral.updated_at),
        "questionnaire": safety_screen_canonical(),
        "status": "completed" if referral.safety_screened_at else "in-progress",
        "subject": _patient_reference(referral),
        "basedOn": [{"reference": f"ServiceRequest/{referral.reference}"}],
        "author": organisation_reference(referral.referring_organisation),
    }
    if referral.safety_screened_at:
        resource["authored"] = instant(referral.safety_screened_at)
    if items:
        resource["item"] = items
    return resource


def latest_move(referral: Referral) -> ReferralEvent | None:
    """The last event that changed the referral's state: what its Task shows. Reads the
    prefetched `moves` (`types_record.referral_rows`) when there."""
    moves = getattr(referral, "moves", None)
    if moves is not None:
        return moves[0] if moves else None
    return referral.events.exclude(to_status="").order_by("-created_at", "-id").first()


def task(referral: Referral) -> dict:
    """The Task the webhook messages carry, as it stands now, with a stable id (the reference).
    An ended referral's Task points at its discharge summary (`Composition/<reference>`)."""
    event = latest_move(referral)
    if event is None:  # every referral has its "create" event; a defensive fallback
        event = ReferralEvent(referral=referral, action="create", to_status=referral.status)
        event.created_at = referral.updated_at
    ended = event.action in ENDING_ACTIONS
    resource = task_resource(
        referral,
        event,
        task_id=referral.reference,
        summary_reference=f"Composition/{referral.reference}" if ended else "",
    )
    # Served beside the ServiceRequest, so a client can follow the literal reference too.
    served = {"reference": f"ServiceRequest/{referral.reference}"}
    resource["focus"] = {**served, **resource["focus"]}
    resource["basedOn"] = [{**served, **resource["basedOn"][0]}]
    resource["for"] = _patient_reference(referral)
    resource["meta"] = {"lastUpdated": instant(event.created_at)}
    return resource


def composition(referral: Referral) -> dict | None:
    """The discharge summary of an ended referral, as the ending's message carries it, with
    the outcome Observations contained (the message's own, without the patient)."""
    event = latest_move(referral)
    if event is None or event.action not in ENDING_ACTIONS:
        return None
    summary = discharge_summary_for(referral, event)
    shares = referral.shares_progress
    observations = (
        {
            f"outcome-{index}": outcome_observation(o, referral)
            for index, o in enumerate((o for o in summary.outcomes if o.codings), 1)
        }
        if shares
        else {}
    )
    resource = discharge_composition(
        summary,
        referral,
        instant(event.created_at),
        [f"#{id_}" for id_ in observations],
        shares_progress=shares,
    )
    resource = {
        "id": referral.reference,
        **meta(event.created_at),
        **resource,
        "subject": _patient_reference(referral),
        "identifier": {
            "system": portal_system("Id/discharge-summary"),
            "value": referral.reference,
        },
    }
    if observations:
        resource["contained"] = [{"id": id_, **o} for id_, o in observations.items()]
    return resource
