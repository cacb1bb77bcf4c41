"""Outcome Observations: each score an assessment produced, and each coded measure taken.

One Observation per reported output of the instrument (PHQ-9's total, each ONS4 score) and per
coded item that is not also an output (height), coded LOINC first where a LOINC code exists, then
SNOMED CT (`Instrument.output_codings`). Systolic and diastolic pressure taken together go as one
LOINC blood pressure panel, as vital-signs readers expect. The timepoint (baseline, exit, a
follow-up) is a category from the portal's own code system.

A score that neither LOINC nor SNOMED CT codes (today the four ONS4 scores) is not an Observation:
a receiving system files Observations by their code, and one without a national code would be
filed nowhere or as noise. It is in the answers (QuestionnaireResponse, for those who record
them) and in the discharge summary's text; once a code is declared for it, it is served as an
Observation with no other change (`tests/outcomes/test_instrument_codes.py` UNCODED)."""

from decimal import Decimal
from typing import Any

from clinical.fhir_systems import LOINC, OBSERVATION_CATEGORY, portal_system, quantity
from outcomes.instruments import Instrument
from outcomes.instruments.base import Coding, NumberItem, lookup
from outcomes.models import Assessment, Timepoint

from .common import coding, concept, instant, meta
from .referral import BP_DIASTOLIC, BP_PANEL, BP_SYSTOLIC

VITAL_SIGNS = {"physical_measures"}
PHYSICAL_TESTS = {"six_minute_walk", "sit_to_stand_30s"}
BP_OUTPUTS = ("bp_systolic", "bp_diastolic")


def observation_id(assessment: Assessment, output: str) -> str:
    return f"{assessment.public_id}-{output.replace('_', '-').replace('.', '-')}"


def _codings(instrument: Instrument, output: str) -> list[Coding]:
    many = getattr(instrument, "output_codings", None)
    if many is not None:
        return list(many(output))
    one = instrument.output_coding(output)
    return [one] if one is not None else []


def _category(instrument: Instrument, assessment: Assessment) -> list[dict]:
    if instrument.code in VITAL_SIGNS:
        kind = ("vital-signs", "Vital Signs")
    elif instrument.code in PHYSICAL_TESTS:
        kind = ("exam", "Exam")
    else:
        kind = ("survey", "Survey")
    timepoint = Timepoint(assessment.timepoint)
    return [
        concept(OBSERVATION_CATEGORY, *kind),
        concept(portal_system("CodeSystem/assessment-timepoint"), timepoint, timepoint.label),
    ]


def _value(value: Any, unit: str) -> dict:
    number = value if isinstance(value, int) else float(Decimal(str(value)))
    if not unit and isinstance(number, int):
        return {"valueInteger": number}
    return {"valueQuantity": quantity(number, unit)}


def _base(assessment: Assessment, instrument: Instrument, id_: str, label: str) -> dict:
    referral = assessment.referral
    return {
        "resourceType": "Observation",
        "id": id_,
        **meta(assessment.created_at),
        "status": "final",
        "category": _category(instrument, assessment),
        "code": {"text": f"{instrument.name}: {label}"},
        "subject": {"reference": f"Patient/{referral.patient.public_id}"},
        "basedOn": [{"reference": f"ServiceRequest/{referral.reference}"}],
        "effectiveDateTime": instant(assessment.administered_at),
        "issued": instant(assessment.created_at),
        "derivedFrom": [{"reference": f"QuestionnaireResponse/{assessment.public_id}"}],
    }


def _bp_panel(assessment: Assessment, instrument: Instrument) -> dict:
    resource = _base(assessment, instrument, observation_id(assessment, "bp"), "Blood pressure")
    resource["code"] = concept(LOINC, *BP_PANEL)
    resource["component"] = [
        {
            "code": concept(LOINC, *code),
            **_value(assessment.answers[output], "mmHg"),
        }
        for output, code in zip(BP_OUTPUTS, (BP_SYSTOLIC, BP_DIASTOLIC), strict=True)
    ]
    return resource


def _measured(assessment: Assessment, instrument: Instrument) -> list[tuple[str, Any]]:
    """(output, value) for each reported output with a value, then each coded item that is
    no output of its own (height beside weight and BMI)."""
    found: list[tuple[str, Any]] = []
    for output in instrument.reported_outputs:
        try:
            value = lookup(assessment.scores, output)
        except (KeyError, TypeError):
            value = None
        if value is not None and not isinstance(value, bool):
            found.append((output, value))
    named = {output.split(".")[0] for output, _ in found}
    for item in instrument.items:
        value = assessment.answers.get(item.code)
        if item.coding is None or item.code in named or value is None:
            continue
        if isinstance(item, NumberItem):
            found.append((item.code, value))
    return found


def assessment_observations(assessment: Assessment, instrument: Instrument) -> list[dict]:
    measured = _measured(assessment, instrument)
    observations = []
    outputs = {output for output, _ in measured}
    panel = all(output in outputs for output in BP_OUTPUTS)
    for output, value in measured:
        if panel and output in BP_OUTPUTS:
            continue
        label = (
            instrument.output_label(output)
            if output in instrument.reported_outputs
            else (instrument.item(output).text)
        )
        unit = (
            instrument.output_unit(output)
            if output in instrument.reported_outputs
            else getattr(instrument.item(output), "unit", "")
        )
        codings = _codings(instrument, output)
        if not codings:
            continue  # no national code: not an Observation (module docstring)
        resource = _base(assessment, instrument, observation_id(assessment, output), label)
        resource["code"] = {
            "coding": [coding(c.system, c.code, c.display) for c in codings],
            "text": f"{instrument.name}: {label}",
        }
        resource.update(_value(value, unit))
        observations.append(resource)
    if panel:
        observations.append(_bp_panel(assessment, instrument))
    return observations
