"""The clinical and contact details the referrer gave, set out for the people who act on them.

The leisure provider triages, rings the patient and plans the first session from these: how to
reach the patient (and whether not to), the language they need, the blood pressure and when it was
taken, medication that changes heart rate, the history, the risk level and the safety screen with
who answered it and when. The referral page and the triage action pages show them to the
operator's coordinators, the instructors at the referral's facility and the referrer; nobody else
can open those pages (`referrals_visible_to`), and `visible_clinical_record` checks again.
"""

import datetime
from dataclasses import dataclass, field

from django.utils import formats, timezone

from accounts.models import User
from accounts.permissions import Permission, has_permission
from clinical.conditions import Condition, Exclusion

from .eligibility import exclusions_met, safety_screen_to_answer_again
from .models import Referral

NOT_GIVEN = "Not given"
NOT_ANSWERED = "Not answered"


@dataclass(frozen=True)
class RecordSection:
    title: str
    rows: list[tuple[str, str]]
    # Shown under the title, e.g. who answered the safety screen and when.
    note: str = ""
    # Rows that need the reader's attention first (e.g. do not contact).
    warnings: list[str] = field(default_factory=list)


def _day(value: datetime.date) -> str:
    return formats.date_format(value, "j F Y")


def _moment(value: datetime.datetime) -> str:
    return formats.date_format(timezone.localtime(value), "j F Y, H:i")


def _contact_section(referral: Referral) -> RecordSection:
    patient = referral.patient
    methods = [
        label
        for chosen, label in (
            (patient.contact_by_phone, "phone"),
            (patient.contact_by_email, "email"),
            (patient.contact_by_post, "post"),
        )
        if chosen
    ]
    interpreter = (
        f"Yes: {patient.interpreter_language}" if patient.interpreter_needed else "No, not needed"
    )
    warnings = []
    if patient.do_not_contact:
        warnings.append(
            "The patient asked not to be contacted except about this referral: keep to the "
            "contact methods below."
        )
    return RecordSection(
        title="Contact details",
        rows=[
            ("Phone", patient.phone or NOT_GIVEN),
            ("Email", patient.email or NOT_GIVEN),
            (
                "Contact by",
                ", ".join(methods).capitalize() if methods else "No contact method chosen",
            ),
            (
                "Do not contact",
                "Yes, except about this referral" if patient.do_not_contact else "No",
            ),
            ("Interpreter", interpreter),
            ("Registered GP practice", patient.registered_gp_ods or NOT_GIVEN),
        ],
        warnings=warnings,
    )


def _heart_rate_medication(referral: Referral) -> str:
    if referral.heart_rate_medication is None:
        return NOT_ANSWERED
    return "Yes (for example beta blockers)" if referral.heart_rate_medication else "No"


def _clinical_section(referral: Referral) -> RecordSection:
    if referral.bp_systolic is not None:
        bp = f"{referral.bp_systolic}/{referral.bp_diastolic} mmHg"
        bp += f", measured on {_day(referral.bp_measured_on)}" if referral.bp_measured_on else ""
    else:
        bp = NOT_GIVEN
    conditions = dict(Condition.choices)
    reasons = ", ".join(conditions.get(code, code) for code in referral.reasons)
    return RecordSection(
        title="Clinical details",
        rows=[
            ("Reasons for referral", reasons or "None selected"),
            ("Blood pressure", bp),
            ("Medication affecting heart rate", _heart_rate_medication(referral)),
            ("Medication notes", referral.medication_notes or "None given"),
            ("Relevant history", referral.relevant_history or "None given"),
            ("Risk level", referral.get_risk_tier_display() or NOT_ANSWERED),
            ("Priority", referral.get_priority_display()),
        ],
    )


def _safety_section(referral: Referral) -> RecordSection:
    if safety_screen_to_answer_again(referral):
        return RecordSection(
            title="Safety screen",
            rows=[],
            note="The blood pressure changed after the safety screen was answered: the referrer "
            "must answer it again.",
        )
    if referral.safety_screened_at is None:
        return RecordSection(
            title="Safety screen", rows=[], note="The referrer has not answered the safety screen."
        )
    who = referral.safety_screened_by
    note = f"Answered on {_moment(referral.safety_screened_at)}"
    if who is not None:
        note = f"Answered by {who.get_full_name()} on {_moment(referral.safety_screened_at)}"
    # The BP decides its own exclusion, even on a referral saved before the service kept to that.
    present = exclusions_met(referral)
    rows = [
        (label, "Yes, applies" if code in present else "No") for code, label in Exclusion.choices
    ]
    warnings = ["The referrer said an exclusion applies."] if present else []
    return RecordSection(title="Safety screen", rows=rows, note=note, warnings=warnings)


def clinical_record(referral: Referral) -> list[RecordSection]:
    """Everything clinical and contact the referrer gave, in the order a triager reads it."""
    return [_contact_section(referral), _clinical_section(referral), _safety_section(referral)]


def visible_clinical_record(user: User, referral: Referral) -> list[RecordSection]:
    """The record for someone who acts on the referral; nothing for anyone else."""
    if not has_permission(user, Permission.REFERRAL_VIEW, referral):
        return []
    return clinical_record(referral)
