"""Subject access: everything one organisation holds about one patient, found by NHS number.

One gathering, two formats: the JSON download and the printable document both render what
`subject_access_export` returns. The organisation's own records only:

- a referring organisation: the patient records on its referrals and those referrals (drafts too);
- a leisure operator: the referrals it received (and the patient details they carried);
- a commissioner holds no identifiable records, so it never finds anyone.

With each referral: consent, the timeline, sessions, safety alerts, assessments (answers and
scores) and the notifications sent to this organisation about it, and the records that apps
above this one keep about a referral (registered with `register_referral_records`, from
`leisure`: the coordinator's contact attempts, the leisure membership number and the
self-directed visits the operator's systems recorded). Another organisation's patient is simply not
found (None), exactly like an NHS number nobody holds.
"""

import datetime
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.db.models import Prefetch, Q, QuerySet
from django.utils import timezone

from accounts.models import Organisation, OrganisationKind
from referrals.models import Notification, Patient, Referral
from referrals.nhs_numbers import format_nhs_number, normalise_nhs_number

if TYPE_CHECKING:
    from collections.abc import Iterable

    from django.db.models import Model

    from accounts.models import User
    from facilities.models import Facility, Programme, ProgrammeClass

PATIENT_FIELDS = (
    "nhs_number",
    "given_name",
    "family_name",
    "date_of_birth",
    "sex",
    "gender_identity",
    "ethnicity",
    "postcode",
    "phone",
    "email",
    "contact_by_phone",
    "contact_by_email",
    "contact_by_post",
    "do_not_contact",
    "interpreter_needed",
    "interpreter_language",
    "registered_gp_ods",
    "created_at",
    "updated_at",
    "pseudonymised_at",
)
REFERRAL_FIELDS = (
    "reference",
    "status",
    "referred_on",
    "submitted_at",
    "status_changed_at",
    "clinician_name",
    "clinician_registration",
    "reasons",
    "bp_systolic",
    "bp_diastolic",
    "bp_measured_on",
    "heart_rate_medication",
    "medication_notes",
    "relevant_history",
    "discharge_recommendations",
    "exclusions_present",
    "safety_screened_at",
    "risk_tier",
    "priority",
    "ubrn",
    "bars_service_request_id",
    "created_at",
    "updated_at",
    "pseudonymised_at",
)
CONSENT_FIELDS = (
    "consent_referral",
    "consent_share_outcomes",
    "consent_research",
    "consent_recorded_at",
)


@dataclass(frozen=True)
class ReferralRecords:
    """Records another app keeps about a referral, for the export: `gather` takes the
    organisation and its referrals and returns each referral's records (by referral id) as
    plain dicts, in one query, only those the organisation itself holds."""

    title: str
    gather: Callable[[Organisation, Sequence[Referral]], dict[int, list[dict[str, Any]]]]


_referral_records: dict[str, ReferralRecords] = {}


def register_referral_records(key: str, records: ReferralRecords) -> None:
    """Called from an app's `ready()`: the export and its document then carry `key`."""
    _referral_records[key] = records


@dataclass(frozen=True)
class SubjectAccessExport:
    organisation: Organisation
    nhs_number: str
    generated_at: datetime.datetime
    data: dict[str, Any]
    # The rows the export shows, for the audit record of this read.
    referrals: tuple[Referral, ...] = ()
    patients: tuple[Patient, ...] = ()


def _value(value: object) -> object:
    if isinstance(value, datetime.datetime):
        return timezone.localtime(value).isoformat()
    if isinstance(value, datetime.date):
        return value.isoformat()
    return value


def _fields(obj: "Model", names: "Iterable[str]") -> dict[str, Any]:
    out = {}
    for name in names:
        display = getattr(obj, f"get_{name}_display", None)
        value = getattr(obj, name)
        out[name] = display() if display and value not in ("", None) else _value(value)
    return out


def _name(user: "User | None") -> str | None:
    return str(user) if user is not None else None


def referrals_held_by(organisation: Organisation, nhs_number: str) -> QuerySet[Referral]:
    """The organisation's own referrals of the patient with this NHS number."""
    if organisation.kind in (OrganisationKind.GP_PRACTICE, OrganisationKind.MSK_SERVICE):
        scope = Q(referring_organisation=organisation)
    elif organisation.kind == OrganisationKind.LEISURE_OPERATOR:
        scope = Q(operator=organisation)
    else:
        return Referral.objects.none()
    notifications = (
        Notification.objects.filter(recipient_organisation=organisation)
        .select_related("recipient_user")
        .order_by("created_at", "id")
    )
    return (
        Referral.objects.filter(scope, patient__nhs_number=nhs_number)
        .select_related(
            "patient",
            "referring_organisation",
            "operator",
            "programme",
            "facility",
            "preferred_facility",
            "programme_class",
            "instructor",
            "consent_recorded_by",
        )
        .prefetch_related(
            "events__actor",
            "events__actor_organisation",
            "consents__recorded_by",
            "consents__recorded_by_organisation",
            "sessions__logged_by",
            "assessments__recorded_by",
            "alerts__raised_by",
            "alerts__acknowledged_by",
            Prefetch("notifications", queryset=notifications, to_attr="sent_to_organisation"),
        )
        .order_by("created_at", "id")
    )


def _patient(patient: Patient) -> dict[str, Any]:
    return {"id": str(patient.public_id), **_fields(patient, PATIENT_FIELDS)}


def _referral(referral: Referral, extra: dict[str, list[dict[str, Any]]]) -> dict[str, Any]:
    def named(obj: "Programme | Facility | ProgrammeClass | None") -> str | None:
        return obj.name if obj is not None else None

    return {
        **_fields(referral, REFERRAL_FIELDS),
        "patient_id": str(referral.patient.public_id),
        "referring_organisation": str(referral.referring_organisation),
        "operator": str(referral.operator) if referral.operator else None,
        "programme": named(referral.programme),
        "preferred_facility": named(referral.preferred_facility),
        "facility": named(referral.facility),
        "programme_class": named(referral.programme_class),
        "instructor": _name(referral.instructor),
        "consent": {
            **_fields(referral, CONSENT_FIELDS),
            "consent_recorded_by": _name(referral.consent_recorded_by),
        },
        "consent_history": [
            {
                "at": _value(record.recorded_at),
                "purpose": record.get_purpose_display(),
                "decision": record.get_decision_display(),
                "method": record.get_method_display(),
                "recorded_by": _name(record.recorded_by),
                "organisation": str(record.recorded_by_organisation)
                if record.recorded_by_organisation
                else None,
                "note": record.note,
            }
            for record in referral.consents.all()
        ],
        "timeline": [
            {
                "at": _value(event.created_at),
                "kind": event.get_kind_display(),
                "action": event.action,
                "by": _name(event.actor),
                "organisation": str(event.actor_organisation) if event.actor_organisation else None,
                "from_status": event.from_status,
                "to_status": event.to_status,
                "reason_code": event.reason_code,
                "note": event.note,
            }
            for event in referral.events.all()
        ],
        "sessions": [
            {
                "scheduled_at": _value(session.scheduled_at),
                "kind": session.get_kind_display(),
                "status": session.get_status_display(),
                "logged_by": _name(session.logged_by),
                "logged_at": _value(session.logged_at),
                "notes": session.notes,
            }
            for session in referral.sessions.all()
        ],
        "alerts": [
            {
                "raised_at": _value(alert.raised_at),
                "kind": alert.title,
                "severity": alert.get_severity_display(),
                "what_was_found": alert.summary,
                "description": alert.description,
                "done_at_the_time": alert.immediate_action,
                "raised_by": _name(alert.raised_by),
                "acknowledged_at": _value(alert.acknowledged_at),
                "acknowledged_by": _name(alert.acknowledged_by),
                "action_taken": alert.action_taken,
            }
            for alert in referral.alerts.all()
        ],
        "assessments": [
            {
                "instrument": assessment.instrument,
                "timepoint": assessment.get_timepoint_display(),
                "administered_at": _value(assessment.administered_at),
                "method": assessment.get_method_display(),
                "recorded_by": _name(assessment.recorded_by),
                "answers": assessment.answers,
                "scores": assessment.scores,
            }
            for assessment in referral.assessments.all()
        ],
        "notifications": [
            {
                "created_at": _value(n.created_at),
                "kind": n.get_kind_display(),
                "channel": n.get_channel_display(),
                "recipient": _name(n.recipient_user) or n.recipient_address,
                "status": n.get_status_display(),
                "sent_at": _value(n.sent_at),
                "content": n.payload,
            }
            for n in referral.sent_to_organisation  # type: ignore[attr-defined]  # Prefetch to_attr
        ],
        **extra,
    }


def subject_access_export(
    organisation: Organisation, nhs_number: str
) -> SubjectAccessExport | None:
    """All `organisation` holds about the patient with `nhs_number`, or None if it holds nothing.

    A fixed number of queries whatever the number of referrals.
    """
    number = normalise_nhs_number(nhs_number or "")
    if not number:
        return None
    referrals = list(referrals_held_by(organisation, number))
    if not referrals:
        return None
    patients = {r.patient_id: r.patient for r in referrals}
    gathered = {
        key: records.gather(organisation, referrals) for key, records in _referral_records.items()
    }
    now = timezone.now()
    data = {
        "organisation": {"name": organisation.name, "code": organisation.code},
        "nhs_number": format_nhs_number(number),
        "generated_at": _value(now),
        "patients": [_patient(p) for p in patients.values()],
        "referrals": [
            _referral(r, {key: found.get(r.pk, []) for key, found in gathered.items()})
            for r in referrals
        ],
    }
    return SubjectAccessExport(
        organisation=organisation,
        nhs_number=number,
        generated_at=now,
        data=data,
        referrals=tuple(referrals),
        patients=tuple(patients.values()),
    )


# --- The readable document ------------------------------------------------------------------------


def _label(key: str) -> str:
    return key.replace("_", " ").capitalize().replace("Nhs", "NHS").replace("Bp ", "BP ")


def _text(value: object) -> str:
    if value is None or value == "" or value == [] or value == {}:
        return "None recorded"
    if value is True:
        return "Yes"
    if value is False:
        return "No"
    if isinstance(value, dict):
        return "; ".join(f"{_label(str(k))}: {_text(v)}" for k, v in value.items())
    if isinstance(value, list):
        return ", ".join(_text(v) for v in value)
    return str(value)


def rows(record: dict[str, Any]) -> list[tuple[str, str]]:
    """(label, text) for each plain field of one record, for a summary list."""
    return [(_label(k), _text(v)) for k, v in record.items() if not isinstance(v, list | dict)]


def table(records: list[dict[str, Any]]) -> dict[str, list]:
    """Headings and rows of text for a list of like records (timeline, sessions, ...)."""
    if not records:
        return {"headings": [], "rows": []}
    keys = list(records[0])
    return {
        "headings": [_label(k) for k in keys],
        "rows": [[_text(record[k]) for k in keys] for record in records],
    }


def document_context(export: SubjectAccessExport) -> dict[str, Any]:
    data = export.data
    return {
        "organisation": export.organisation,
        "nhs_number": data["nhs_number"],
        "generated_at": export.generated_at,
        "patients": [rows(p) for p in data["patients"]],
        "referrals": [
            {
                "reference": r["reference"],
                "details": rows(r),
                "consent": rows(r["consent"]),
                "consent_history": table(r["consent_history"]),
                "timeline": table(r["timeline"]),
                "sessions": table(r["sessions"]),
                "alerts": table(r["alerts"]),
                "assessments": table(r["assessments"]),
                "notifications": table(r["notifications"]),
                "more": [
                    {"title": records.title, "table": table(r.get(key, []))}
                    for key, records in _referral_records.items()
                ],
            }
            for r in data["referrals"]
        ],
    }
