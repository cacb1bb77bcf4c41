"""A draft's answers from the API, checked by the wizard's own forms, ready for the services.

The wizard has a form per step (`referrals/forms.py`); a step the client sends is bound with the
draft's current answers to that step and the client's changes on top, so the form sees the whole
step as a referrer's browser would post it (both blood pressure numbers, say) and refuses what it
refuses there. Drafts take partial answers (`completing=False`, as "Save as draft"); submission
checks the whole referral in the service. The placement is checked against the placements the
wizard offers (`referrals.placements.placements_for`), so a programme the patient cannot go to is
refused with the reasons the wizard gives.
"""

from dataclasses import dataclass, field
from typing import Any

from rest_framework import serializers

from referrals.forms import (
    NONE_APPLY,
    ClinicalDetailsForm,
    ConsentForm,
    PatientForm,
    ProgrammeChoiceForm,
    SafetyScreenForm,
)
from referrals.models import Patient, Referral
from referrals.placements import PlacementOption, placements_for

from .forms_json import clean_with, form_data

DETAILS = tuple(ClinicalDetailsForm.base_fields)
CONSENT = tuple(ConsentForm.base_fields)
SAFETY = "exclusions_present"
PLACEMENT = ("programme", "preferred_facility")


@dataclass
class DraftChanges:
    """What the services are given: `patient` for `patient_record_for_referral` (None: the
    patient is not changed) and `referral` for `referral_create_draft`/`referral_update_draft`."""

    patient: dict[str, Any] | None = None
    referral: dict[str, Any] = field(default_factory=dict)


def _preview(draft: Referral, patient: Patient | None) -> Referral:
    """An unsaved copy of the draft to check answers against, leaving the draft itself alone."""
    copy = Referral(
        **{
            f.attname: getattr(draft, f.attname)
            for f in Referral._meta.concrete_fields
            if not f.primary_key
        }
    )
    if patient is not None:
        copy.patient = patient
    return copy


def _patient(
    given: dict[str, Any], current: Patient | None, errors: dict[str, Any]
) -> dict[str, Any] | None:
    answers = {**(PatientForm.initial_from(current) if current else {}), **given}
    form = PatientForm(form_data(PatientForm, answers))
    patient_errors: dict[str, Any] = {}
    if clean_with(form, patient_errors) is None:
        errors["patient"] = patient_errors
        return None
    return form.patient_fields()


def _placement(
    given: dict[str, Any], preview: Referral, errors: dict[str, Any]
) -> PlacementOption | None:
    required = str(ProgrammeChoiceForm.base_fields["placement"].error_messages["required"])
    missing = [name for name in PLACEMENT if name not in given]
    if missing:
        errors.update({name: [required] for name in missing})
        return None
    # The chosen programme's placements are all that checking the choice needs.
    placements = placements_for(preview, programme_public_id=given["programme"])
    key = f"{given['programme']}:{given['preferred_facility']}"
    form = ProgrammeChoiceForm(
        form_data(ProgrammeChoiceForm, {"placement": key}),
        options=placements.options,
        completing=False,
    )
    if form.is_valid():
        chosen: PlacementOption = form.chosen()  # a valid form chose one of the options
        return chosen
    reasons = [
        reason
        for programme, why in placements.excluded
        if str(programme.public_id) == str(given["programme"])
        for reason in why
    ]
    errors["programme"] = reasons or [
        "Choose a programme and leisure centre open to the patient: this programme does not "
        "run at that centre, or is not taking referrals"
    ]
    return None


def draft_changes(
    given: dict[str, Any], *, draft: Referral, patient: Patient | None
) -> DraftChanges:
    """Check the steps in `given` (a validated `DraftCreateSerializer`/`DraftUpdateSerializer`)
    as the wizard would; all their messages at once, keyed by field, as a ValidationError.

    `draft` is the referral being edited, or an unsaved one for a new draft; `patient` its
    patient record, if there is one yet."""
    errors: dict[str, Any] = {}
    changes = DraftChanges()
    if "patient" in given:
        changes.patient = _patient(given["patient"], patient, errors)
        if changes.patient is not None:
            patient = Patient(**changes.patient)  # as it will be, to check the placement against
    preview = _preview(draft, patient)

    if any(name in given for name in DETAILS):
        answers = {name: getattr(draft, name) for name in DETAILS}
        answers.update({name: given[name] for name in DETAILS if name in given})
        details = ClinicalDetailsForm(form_data(ClinicalDetailsForm, answers), completing=False)
        if clean_with(details, errors) is not None:
            changes.referral.update(details.referral_fields())

    if SAFETY in given:
        safety = SafetyScreenForm(
            form_data(SafetyScreenForm, {"exclusions": given[SAFETY] or [NONE_APPLY]}),
            completing=False,
            bp=(
                changes.referral.get("bp_systolic", draft.bp_systolic),
                changes.referral.get("bp_diastolic", draft.bp_diastolic),
            ),
        )
        if clean_with(safety, errors, {"exclusions": SAFETY}) is not None:
            changes.referral[SAFETY] = safety.exclusions_present()

    if any(name in given for name in PLACEMENT) and patient is not None and not errors:
        for name, value in changes.referral.items():
            setattr(preview, name, value)
        chosen = _placement(given, preview, errors)
        if chosen is not None:
            changes.referral.update(
                {"programme": chosen.programme, "preferred_facility": chosen.facility}
            )

    if any(name in given for name in CONSENT):
        answers = {name: getattr(draft, name) for name in CONSENT}
        answers.update({name: given[name] for name in CONSENT if name in given})
        cleaned = clean_with(ConsentForm(form_data(ConsentForm, answers), completing=False), errors)
        if cleaned is not None:
            changes.referral.update(cleaned)

    if errors:
        raise serializers.ValidationError(errors)
    return changes
