"""Questionnaires the portal publishes (one per outcome instrument, and the referral's safety
screen) and the QuestionnaireResponses that answer them.

Each has a canonical URL under `PORTAL_FHIR_NAMESPACE` (`.../Questionnaire/<code>`), the same
whatever host serves it, and its logical id is the code (`/fhir/Questionnaire/phq9`). An
instrument's choices are offered as codings whose code is the scored value ("0" to "3" for
PHQ-9), so a response carries both the score and the words the patient chose."""

from decimal import Decimal
from typing import cast

from clinical.conditions import Exclusion
from clinical.fhir_systems import portal_canonical, portal_system
from outcomes.instruments import Instrument
from outcomes.instruments.base import ChoiceItem, Item, NumberItem
from outcomes.models import Assessment
from referrals.models import RiskTier

from .common import coding, instant, meta

SAFETY_SCREEN = "safety-screen"
PUBLISHER = "Referral Portal"
# The safety screen's questions: one per hard exclusion, then the clinical answers it asks for.
SCREEN_ITEMS: tuple[tuple[str, str], ...] = (
    *((str(code), str(label)) for code, label in Exclusion.choices),
    ("heart-rate-medication", "Does the patient take medication that affects heart rate?"),
    ("medication-notes", "Medication notes"),
    ("risk-tier", "The patient's risk level"),
)


def safety_screen_canonical() -> str:
    return portal_canonical("Questionnaire", SAFETY_SCREEN)


def questionnaire_id(code: str) -> str:
    """An instrument's Questionnaire id (FHIR ids take no underscore): physical-measures."""
    return code.replace("_", "-")


def instrument_canonical(code: str) -> str:
    return portal_canonical("Questionnaire", questionnaire_id(code))


def _screen_item(link_id: str, text: str) -> dict:
    item: dict = {"linkId": link_id, "text": text}
    if link_id == "medication-notes":
        return {**item, "type": "text", "required": False}
    if link_id == "risk-tier":
        system = portal_system("CodeSystem/risk-tier")
        return {
            **item,
            "type": "choice",
            "required": True,
            "answerOption": [
                {"valueCoding": coding(system, code, label)} for code, label in RiskTier.choices
            ],
        }
    return {**item, "type": "boolean", "required": True}


def safety_screen_questionnaire() -> dict:
    return {
        "resourceType": "Questionnaire",
        "id": SAFETY_SCREEN,
        "url": safety_screen_canonical(),
        "name": "SafetyScreen",
        "title": "Exercise referral safety screen and clinical answers",
        "status": "active",
        "subjectType": ["Patient"],
        "publisher": PUBLISHER,
        "description": "Answered by the referrer: each hard exclusion (any one stops a referral; "
        "a resting blood pressure of 180/100 mmHg or more is one), whether medication affects "
        "heart rate, and the patient's risk level.",
        "item": [_screen_item(link_id, text) for link_id, text in SCREEN_ITEMS],
    }


def _instrument_item(item: Item) -> dict:
    resource: dict = {"linkId": item.code, "text": item.text, "required": item.required}
    if item.coding is not None:
        resource["code"] = [coding(item.coding.system, item.coding.code, item.coding.display)]
    if isinstance(item, ChoiceItem):
        resource["type"] = "choice"
        resource["answerOption"] = [
            {"valueCoding": {"code": str(value), "display": label}}
            for value, label in item.choices.items()
        ]
    elif isinstance(item, NumberItem):
        resource["type"] = "integer" if item.decimal_places == 0 else "decimal"
    else:  # pragma: no cover - every instrument item is one of the two
        resource["type"] = "string"
    return resource


def instrument_questionnaire(instrument: Instrument) -> dict:
    resource: dict = {
        "resourceType": "Questionnaire",
        "id": questionnaire_id(instrument.code),
        "url": instrument_canonical(instrument.code),
        "name": "".join(part.title() for part in instrument.code.split("_")),
        "title": instrument.name,
        "status": "active",
        "subjectType": ["Patient"],
        "publisher": PUBLISHER,
        "copyright": instrument.licence,
        "item": [_instrument_item(item) for item in instrument.items],
    }
    if instrument.instructions:
        resource["description"] = instrument.instructions
    codes = instrument.codes.get("instrument")
    if codes is not None:
        first = codes[0] if isinstance(codes, tuple) else codes
        resource["code"] = [coding(first.system, first.code, first.display)]
    return resource


def _answer(item: Item, value: object) -> dict:
    if isinstance(item, ChoiceItem):
        label = item.choices.get(cast(int | str, value), "")  # a choice item's answer
        return {"valueCoding": {"code": str(value), **({"display": label} if label else {})}}
    if isinstance(value, bool):  # pragma: no cover - never a number item's answer
        return {"valueBoolean": value}
    if isinstance(value, int):
        return {"valueInteger": value}
    return {"valueDecimal": float(Decimal(str(value)))}


def assessment_response(assessment: Assessment, instrument: Instrument) -> dict:
    """The answers given at one assessment, against the instrument's Questionnaire."""
    items = []
    for item in instrument.items:
        value = assessment.answers.get(item.code)
        if value is None:
            continue
        items.append({"linkId": item.code, "text": item.text, "answer": [_answer(item, value)]})
    referral = assessment.referral
    resource: dict = {
        "resourceType": "QuestionnaireResponse",
        "id": str(assessment.public_id),
        **meta(assessment.created_at),
        "questionnaire": instrument_canonical(instrument.code),
        "status": "completed",
        "subject": {"reference": f"Patient/{referral.patient.public_id}"},
        "basedOn": [{"reference": f"ServiceRequest/{referral.reference}"}],
        "authored": instant(assessment.administered_at),
    }
    if items:
        resource["item"] = items
    return resource
