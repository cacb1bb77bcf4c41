"""Patient, ServiceRequest, Task and Composition: the referral record, scoped as on the pages.

Every row comes through `referrals.selectors.referral_list_for`, the scope of the referral
lists: the referrer's organisation sees its own referrals and its own patient records, the
operator what was sent to it. A Patient is readable only through a referral the client can see.
"""

import uuid
from collections.abc import Callable, Mapping
from typing import Any

from django.db.models import Prefetch, Q, QuerySet

from clinical.fhir_systems import NHS_NUMBER, UBRN, portal_system
from referrals.models import Patient, Referral, ReferralEvent, Status
from referrals.selectors import referral_list_for
from referrals.workflow import FHIR_SERVICE_REQUEST_STATUS, FHIR_TASK_STATUS

from .resources.patient import patient_resource
from .resources.referral import composition, service_request, task
from .search import Param, Segment, date_filter, nothing, reference_id, token
from .types import Include, ResourceType

ENDED = (Status.COMPLETED, Status.DISCHARGED)


def _uuid(value: str) -> uuid.UUID | None:
    try:
        return uuid.UUID(value)
    except ValueError:
        return None


def referral_rows(user: Any) -> QuerySet[Referral]:
    """The referrals the user sees, with what their resources show, in a fixed order."""
    return (
        referral_list_for(user)
        .select_related("preferred_facility", "programme__operator")
        .prefetch_related(
            Prefetch(
                "events",
                queryset=ReferralEvent.objects.exclude(to_status="").order_by("-created_at", "-id"),
                to_attr="moves",
            )
        )
        .order_by("id")
    )


def patient_rows(user: Any) -> QuerySet[Patient]:
    return (
        Patient.objects.filter(pk__in=referral_list_for(user).values("patient_id"))
        .select_related("organisation")
        .order_by("id")
    )


# --- Parameters --------------------------------------------------------------------------------


def _patient_param(path: str) -> Param:
    def build(value: str, key: str) -> Q:
        found = _uuid(reference_id(value, "Patient"))
        return Q(**{f"{path}public_id": found}) if found else nothing()

    return Param("reference", "The patient (Patient/<id>)", build)


def _patient_identifier(value: str, key: str) -> Q:
    system, code = token(value)
    if system == NHS_NUMBER or (system is None and code.isdigit() and len(code) == 10):
        return Q(nhs_number=code)
    if system in (None, portal_system("Id/patient")) and (found := _uuid(code)):
        return Q(public_id=found)
    return nothing()


def _patient_id(value: str, key: str) -> Q:
    found = _uuid(value)
    return Q(public_id=found) if found else nothing()


def _referral_identifier(value: str, key: str) -> Q:
    system, code = token(value)
    if system in (None, portal_system("Id/referral-reference")):
        by_reference = Q(reference=code)
        return by_reference | Q(ubrn=code) if system is None and code else by_reference
    if system == UBRN and code:
        return Q(ubrn=code)
    return nothing()


def _statuses(mapping: Mapping[Status, str]) -> Callable[[str, str], Q]:
    def build(value: str, key: str) -> Q:
        return Q(status__in=[status for status, fhir in mapping.items() if fhir == value])

    return build


def _focus(value: str, key: str) -> Q:
    return Q(reference=reference_id(value, "ServiceRequest"))


REFERRAL_ID = Param("token", "The logical id (the referral reference)", lambda v, k: Q(reference=v))
PATIENT_PARAMS = {
    "_id": Param("token", "The logical id", _patient_id),
    "identifier": Param(
        "token", f"NHS number ({NHS_NUMBER}|9434765919) or the record's id", _patient_identifier
    ),
    "_lastUpdated": Param(
        "date", "When the record last changed", date_filter("updated_at", "_lastUpdated")
    ),
}
SERVICE_REQUEST_PARAMS = {
    "_id": REFERRAL_ID,
    "identifier": Param("token", "The referral reference or the e-RS UBRN", _referral_identifier),
    "patient": _patient_param("patient__"),
    "subject": _patient_param("patient__"),
    "status": Param(
        "token",
        "draft | active | on-hold | revoked | completed",
        _statuses(FHIR_SERVICE_REQUEST_STATUS),
    ),
    "_lastUpdated": Param(
        "date", "When the referral last changed", date_filter("updated_at", "_lastUpdated")
    ),
}
TASK_PARAMS = {
    "_id": REFERRAL_ID,
    "identifier": Param("token", "The referral reference or the e-RS UBRN", _referral_identifier),
    "focus": Param("reference", "The ServiceRequest (ServiceRequest/<reference>)", _focus),
    "based-on": Param("reference", "The ServiceRequest (ServiceRequest/<reference>)", _focus),
    "patient": _patient_param("patient__"),
    "status": Param(
        "token",
        "draft | requested | on-hold | accepted | in-progress | completed | rejected | failed "
        "| cancelled",
        _statuses(FHIR_TASK_STATUS),
    ),
    "_lastUpdated": Param(
        "date", "When the status last changed", date_filter("status_changed_at", "_lastUpdated")
    ),
}
COMPOSITION_PARAMS = {
    "_id": REFERRAL_ID,
    "patient": _patient_param("patient__"),
    "subject": _patient_param("patient__"),
    "_lastUpdated": Param(
        "date", "When the referral ended", date_filter("status_changed_at", "_lastUpdated")
    ),
}


def _one(rows: QuerySet[Any], build: Any, **lookup: Any) -> dict | None:
    row = rows.filter(**lookup).first()
    return build(row) if row is not None else None


def _referrals_audited(rows: list[Referral]) -> tuple[list[Any], list[Any]]:
    return list(rows), [row.patient_id for row in rows]


def _patients_audited(rows: list[Patient]) -> tuple[list[Any], list[Any]]:
    return [], list(rows)


def _patient_read(user: Any, id_: str) -> dict | None:
    found = _uuid(id_)
    return _one(patient_rows(user), patient_resource, public_id=found) if found else None


def _composition_rows(user: Any) -> QuerySet[Referral]:
    return referral_rows(user).filter(status__in=ENDED)


PATIENT = ResourceType(
    name="Patient",
    scope="referrals:read",
    documentation="The referring organisation's record of the patient, through a referral the "
    "client can see.",
    sources=lambda user, params: [Segment(patient_rows(user), lambda p: [patient_resource(p)])],
    read=_patient_read,
    params=PATIENT_PARAMS,
    audited=_patients_audited,
)
SERVICE_REQUEST = ResourceType(
    name="ServiceRequest",
    scope="referrals:read",
    documentation="A referral as the referrer made it; id = the referral reference. Made by "
    "POST [base]/$process-message, not by a create.",
    sources=lambda user, params: [Segment(referral_rows(user), lambda r: [service_request(r)])],
    read=lambda user, id_: _one(referral_rows(user), service_request, reference=id_),
    params=SERVICE_REQUEST_PARAMS,
    audited=_referrals_audited,
)
TASK = ResourceType(
    name="Task",
    scope="referrals:read",
    documentation="The provider's progress on a referral (DOMAIN.md's status table); id = the "
    "referral reference.",
    sources=lambda user, params: [Segment(referral_rows(user), lambda r: [task(r)])],
    read=lambda user, id_: _one(referral_rows(user), task, reference=id_),
    params=TASK_PARAMS,
    includes=(
        Include(
            name="Task:focus",
            target="ServiceRequest",
            rows=lambda user, rows: rows,
            expand=lambda r: [service_request(r)],
        ),
    ),
    audited=_referrals_audited,
)


def _composition_list(referral: Referral) -> list[dict]:
    found = composition(referral)
    return [found] if found else []


COMPOSITION = ResourceType(
    name="Composition",
    scope="referrals:read",
    documentation="The discharge summary of a completed or discharged referral; id = the "
    "referral reference.",
    sources=lambda user, params: [Segment(_composition_rows(user), _composition_list)],
    read=lambda user, id_: _one(_composition_rows(user), composition, reference=id_),
    params=COMPOSITION_PARAMS,
    audited=_referrals_audited,
)
