"""Observation and QuestionnaireResponse: outcomes, measures and answers, scoped as on the pages.

Outcome Observations come from the assessments of referrals the client can see, and only where
the progress page would show them (`referrals.consent.progress_visible_to`: the operator always,
the referrer with the patient's consent to share progress). The referrer's blood pressure
reading is an Observation of the referral itself. The answers to an instrument
(QuestionnaireResponse) are shown to those who may record them, as in the API; the safety screen
the referrer answered is part of the referral, for both parties.
"""

import uuid
from typing import Any

from django.db.models import Q, QuerySet

from accounts.permissions import Permission, organisations_granting
from outcomes import instruments
from outcomes.models import Assessment
from referrals.consent import progress_visible_to
from referrals.models import Referral
from referrals.selectors import referral_list_for

from .resources.observations import assessment_observations
from .resources.questionnaires import (
    SAFETY_SCREEN,
    assessment_response,
    instrument_canonical,
    safety_screen_canonical,
)
from .resources.referral import BP_PANEL, bp_observation, safety_screen_response
from .search import Param, Segment, date_filter, nothing, reference_id, token
from .types import ResourceType
from .types_record import referral_rows

BP = "bp"
ASSESSMENT = "assessment"
SCREEN = "screen"
# `code` matches Observation.code: a reading taken as a pair is found by the panel's code, as
# FHIR's `code` parameter never looks into components.
BP_CODES = {BP_PANEL[0]}


def _instrument(code: str) -> instruments.Instrument | None:
    try:
        definition = instruments.get(code)
    except instruments.UnknownInstrument:
        return None
    return definition


def _assessment_rows(user: Any) -> QuerySet[Assessment]:
    return (
        Assessment.objects.filter(referral__in=referral_list_for(user).values("pk"))
        .filter(progress_visible_to(user, "referral__"))
        .select_related("referral__patient")
        .order_by("id")
    )


def _answer_rows(user: Any) -> QuerySet[Assessment]:
    recorders = [o.pk for o in organisations_granting(user, Permission.ASSESSMENT_RECORD)]
    return _assessment_rows(user).filter(referral__operator_id__in=recorders)


def _bp_rows(user: Any) -> QuerySet[Referral]:
    return referral_rows(user).filter(bp_systolic__isnull=False, bp_diastolic__isnull=False)


def _codes_wanted(params: dict[str, list[str]]) -> list[set[tuple[str | None, str]]]:
    """Each `code` parameter's alternatives (repeats must all hold)."""
    return [{token(v) for v in value.split(",")} for value in params.get("code", [])]


def _matches(resource: dict, wanted: list[set[tuple[str | None, str]]]) -> bool:
    codings = [
        (c.get("system"), c.get("code")) for c in (resource.get("code") or {}).get("coding", [])
    ]
    return all(
        any(
            code == c_code and (system is None or system == c_system)
            for system, code in alternatives
            for c_system, c_code in codings
        )
        for alternatives in wanted
    )


def _observations_of(assessment: Assessment) -> list[dict]:
    definition = _instrument(assessment.instrument)
    return assessment_observations(assessment, definition) if definition else []


def _observation_sources(user: Any, params: dict[str, list[str]]) -> list[Segment]:
    wanted = _codes_wanted(params)

    def of_assessment(assessment: Assessment) -> list[dict]:
        return [o for o in _observations_of(assessment) if _matches(o, wanted)]

    def of_referral(referral: Referral) -> list[dict]:
        found = bp_observation(referral)
        return [found] if found and _matches(found, wanted) else []

    return [
        Segment(_bp_rows(user), of_referral, key=BP),
        Segment(_assessment_rows(user), of_assessment, key=ASSESSMENT),
    ]


def _instruments_coded(system: str | None, code: str) -> list[str]:
    found = []
    for definition in instruments.REGISTRY.values():
        outputs = [*definition.reported_outputs, *(item.code for item in definition.items)]
        codings = getattr(definition, "output_codings", None)
        for output in outputs:
            coded = (
                codings(output)
                if codings
                else [c for c in [definition.output_coding(output)] if c is not None]
            )
            if any(c.code == code and system in (None, c.system) for c in coded):
                found.append(definition.code)
                break
    return found


def _code(value: str, key: str) -> Q:
    system, code = token(value)
    if key == BP:
        return Q() if code in BP_CODES and system in (None, "http://loinc.org") else nothing()
    found = _instruments_coded(system, code)
    if code in BP_CODES and system in (None, "http://loinc.org"):
        found.append("physical_measures")
    return Q(instrument__in=found) if found else nothing()


def _subject(value: str, key: str) -> Q:
    try:
        found = uuid.UUID(reference_id(value, "Patient"))
    except ValueError:
        return nothing()
    path = "patient__" if key in (BP, SCREEN) else "referral__patient__"
    return Q(**{f"{path}public_id": found})


def _based_on(value: str, key: str) -> Q:
    reference = reference_id(value, "ServiceRequest")
    return Q(reference=reference) if key in (BP, SCREEN) else Q(referral__reference=reference)


OBSERVATION_PARAMS = {
    "patient": Param("reference", "The patient (Patient/<id>)", _subject),
    "subject": Param("reference", "The patient (Patient/<id>)", _subject),
    "code": Param(
        "token",
        "LOINC or SNOMED CT (http://loinc.org|44261-6 for the PHQ-9 total)",
        _code,
    ),
    "date": Param(
        "date",
        "When it was measured",
        date_filter({BP: "bp_measured_on", ASSESSMENT: "administered_at"}, "date"),
    ),
    "based-on": Param("reference", "The referral (ServiceRequest/<reference>)", _based_on),
    "_lastUpdated": Param(
        "date",
        "When it was recorded",
        date_filter({BP: "updated_at", ASSESSMENT: "created_at"}, "_lastUpdated"),
    ),
}


def _split_id(id_: str) -> tuple[uuid.UUID | None, str]:
    try:
        return uuid.UUID(id_[:36]), id_
    except ValueError:
        return None, id_


def _observation_read(user: Any, id_: str) -> dict | None:
    if id_.endswith(f"-{BP}") and not _split_id(id_)[0]:
        referral = _bp_rows(user).filter(reference=id_[: -len(BP) - 1]).first()
        return bp_observation(referral) if referral else None
    public_id, _ = _split_id(id_)
    if public_id is None:
        return None
    assessment = _assessment_rows(user).filter(public_id=public_id).first()
    if assessment is None:
        return None
    return next((o for o in _observations_of(assessment) if o["id"] == id_), None)


def _audited(rows: list[Any]) -> tuple[list[Any], list[Any]]:
    referrals = [row if isinstance(row, Referral) else row.referral for row in rows]
    return referrals, [r.patient_id for r in referrals]


OBSERVATION = ResourceType(
    name="Observation",
    scope="outcomes:read",
    documentation="Each outcome score and coded measure of an assessment (LOINC where one "
    "exists, else SNOMED CT), and the blood pressure the referrer measured.",
    sources=_observation_sources,
    read=_observation_read,
    params=OBSERVATION_PARAMS,
    audited=_audited,
    total=False,  # an assessment is several Observations: the rows, not the resources, count
)


# --- QuestionnaireResponse ---------------------------------------------------------------------


def _response_of(assessment: Assessment) -> list[dict]:
    definition = _instrument(assessment.instrument)
    return [assessment_response(assessment, definition)] if definition else []


def _questionnaire(value: str, key: str) -> Q:
    canonical = value.split("|")[0]
    if key == SCREEN:
        return Q() if canonical in (safety_screen_canonical(), SAFETY_SCREEN) else nothing()
    codes = [
        code
        for code in instruments.REGISTRY
        if canonical in (instrument_canonical(code), code.replace("_", "-"))
    ]
    return Q(instrument__in=codes) if codes else nothing()


def _response_read(user: Any, id_: str) -> dict | None:
    suffix = f"-{SAFETY_SCREEN}"
    if id_.endswith(suffix):
        referral = referral_rows(user).filter(reference=id_[: -len(suffix)]).first()
        return safety_screen_response(referral) if referral else None
    public_id, _ = _split_id(id_)
    if public_id is None or len(id_) != 36:
        return None
    assessment = _answer_rows(user).filter(public_id=public_id).first()
    found = _response_of(assessment) if assessment else []
    return found[0] if found else None


QUESTIONNAIRE_RESPONSE = ResourceType(
    name="QuestionnaireResponse",
    scope="outcomes:read",
    documentation="The safety screen the referrer answered (id <reference>-safety-screen), and "
    "the answers to each instrument, for those who may record them.",
    sources=lambda user, params: [
        Segment(referral_rows(user), lambda r: [safety_screen_response(r)], key=SCREEN),
        Segment(_answer_rows(user), _response_of, key=ASSESSMENT),
    ],
    read=_response_read,
    params={
        "patient": Param("reference", "The patient (Patient/<id>)", _subject),
        "subject": Param("reference", "The patient (Patient/<id>)", _subject),
        "questionnaire": Param("reference", "The Questionnaire's canonical URL", _questionnaire),
        "based-on": Param("reference", "The referral (ServiceRequest/<reference>)", _based_on),
        "_lastUpdated": Param(
            "date",
            "When it was recorded",
            date_filter({SCREEN: "updated_at", ASSESSMENT: "created_at"}, "_lastUpdated"),
        ),
    },
    audited=_audited,
)
