"""The shapes of the referral writes: what a client sends, in JSON types, for the OpenAPI document.

These only parse JSON (a date is a date, a list a list of known codes) and refuse fields they do
not know. What an answer must be is decided where the pages decide it: the wizard's forms
(`api/drafts.py` runs them) and the services, whose messages come back keyed by these names.
Which fields a patient needs, and the messages when one is missing, are read from `PatientForm`.
"""

from typing import Any, ClassVar, cast

from django import forms
from rest_framework import serializers

from accounts.models import Organisation
from accounts.selectors import active_instructors_of
from clinical.conditions import Condition, Exclusion
from clinical.reasons import CancelReason, DeclineReason, DischargeReason
from facilities.models import Facility, ProgrammeClass
from facilities.selectors import class_of, facility_of
from referrals.forms import PatientForm
from referrals.models import (
    MEMBERSHIP_NUMBER_MAX,
    Ethnicity,
    Priority,
    Referral,
    RiskTier,
    Sex,
)

from .serializers import OrganisationRefSerializer, PatientSerializer


class StrictSerializer(serializers.Serializer):
    """Refuses fields it does not know: a misspelt answer is an error, never silently dropped."""

    def to_internal_value(self, data: Any) -> Any:
        if isinstance(data, dict):
            unknown = sorted(set(data) - set(self.fields))
            if unknown:
                raise serializers.ValidationError(
                    dict.fromkeys(unknown, "Not a field of this request")
                )
        return super().to_internal_value(data)


def _as_in_patient_form(name: str, field_class: type[serializers.Field], **kwargs: Any) -> Any:
    """A field required exactly when the wizard's patient step requires it, with its message."""
    form_field = PatientForm.base_fields[name]
    kwargs.setdefault("required", form_field.required)
    if form_field.required:
        kwargs.setdefault("error_messages", {"required": form_field.error_messages["required"]})
    if form_field.help_text:
        kwargs.setdefault("help_text", str(form_field.help_text))
    return field_class(**kwargs)


CONTACT_METHODS = cast(forms.ChoiceField, PatientForm.base_fields["contact_methods"]).choices


class PatientDetailsSerializer(StrictSerializer):
    """The patient step of the wizard. An NHS number already on your organisation's file means
    that record, which these details bring up to date."""

    nhs_number = _as_in_patient_form(
        "nhs_number", serializers.CharField, allow_blank=True, allow_null=True
    )
    given_name = _as_in_patient_form("given_name", serializers.CharField, allow_blank=True)
    family_name = _as_in_patient_form("family_name", serializers.CharField, allow_blank=True)
    date_of_birth = _as_in_patient_form("date_of_birth", serializers.DateField)
    sex = _as_in_patient_form("sex", serializers.ChoiceField, choices=Sex.choices)
    postcode = _as_in_patient_form("postcode", serializers.CharField, allow_blank=True)
    phone = _as_in_patient_form("phone", serializers.CharField, allow_blank=True, allow_null=True)
    email = _as_in_patient_form("email", serializers.CharField, allow_blank=True, allow_null=True)
    contact_methods = serializers.ListField(
        child=serializers.ChoiceField(choices=CONTACT_METHODS),
        required=False,
        help_text="How the leisure centre may contact the patient.",
    )
    do_not_contact = serializers.BooleanField(
        required=False,
        help_text="The patient asked not to be contacted except about this referral.",
    )
    interpreter_needed = serializers.BooleanField(required=False, default=False)
    interpreter_language = serializers.CharField(
        required=False, allow_blank=True, allow_null=True, help_text="Needed with an interpreter."
    )
    ethnicity = serializers.ChoiceField(
        choices=Ethnicity.choices,
        required=False,
        default=PatientForm.base_fields["ethnicity"].initial,
    )


class DraftAnswersSerializer(StrictSerializer):
    """The wizard's other steps. Each is optional in a draft (submission checks the whole
    referral); a step sent is checked as the wizard checks it, with the draft's other answers."""

    # Clinical details.
    reasons = serializers.ListField(
        child=serializers.ChoiceField(choices=Condition.choices),
        required=False,
        help_text="SNOMED CT codes of the reasons for referral.",
    )
    bp_systolic = serializers.IntegerField(required=False, allow_null=True)
    bp_diastolic = serializers.IntegerField(required=False, allow_null=True)
    bp_measured_on = serializers.DateField(required=False, allow_null=True)
    heart_rate_medication = serializers.BooleanField(required=False)
    medication_notes = serializers.CharField(required=False, allow_blank=True)
    relevant_history = serializers.CharField(required=False, allow_blank=True)
    risk_tier = serializers.ChoiceField(choices=RiskTier.choices, required=False)
    priority = serializers.ChoiceField(choices=Priority.choices, required=False)
    # Safety screen.
    exclusions_present = serializers.ListField(
        child=serializers.ChoiceField(choices=Exclusion.choices),
        required=False,
        help_text="The safety screen: the exclusions that apply, [] for none of them. Leave out "
        "until the screen is done.",
    )
    # Programme and leisure centre: one of the placements open to the patient.
    programme = serializers.UUIDField(required=False, help_text="With preferred_facility.")
    preferred_facility = serializers.UUIDField(required=False, help_text="With programme.")
    # Consent.
    consent_referral = serializers.BooleanField(required=False)
    consent_share_outcomes = serializers.BooleanField(required=False)
    consent_research = serializers.BooleanField(required=False)


class DraftCreateSerializer(DraftAnswersSerializer):
    patient = PatientDetailsSerializer(required=False, help_text="A patient, by their details.")
    patient_id = serializers.UUIDField(
        required=False, help_text="Or one of your organisation's patients, by id."
    )

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if ("patient" in attrs) == ("patient_id" in attrs):
            raise serializers.ValidationError(
                {"patient": "Give the patient's details, or the patient_id of your patient"}
            )
        return attrs


class DraftUpdateSerializer(DraftAnswersSerializer):
    """Send only what changes (and the version); the patient's details update the draft's
    patient record."""

    version = serializers.IntegerField(
        required=False, min_value=1, help_text="The version read, unless sent as If-Match."
    )
    patient = PatientDetailsSerializer(required=False)


# --- Workflow actions --------------------------------------------------------------------------


class ActionSerializer(StrictSerializer):
    """An action's fields: those its service takes (`referrals.services.ACTION_SERVICES`)."""

    # A service's error on one of its own arguments, under the name this request gives it.
    renamed_errors: ClassVar[dict[str, str]] = {}

    version = serializers.IntegerField(
        required=False, min_value=1, help_text="The version read, unless sent as If-Match."
    )

    def service_arguments(self, referral: Referral) -> dict[str, Any]:
        return {name: value for name, value in self.validated_data.items() if name != "version"}


class SubmitAction(ActionSerializer):
    pass


def _note(help_text: str = "For the timeline (optional).") -> serializers.CharField:
    return serializers.CharField(required=False, allow_blank=True, default="", help_text=help_text)


class NoteAction(ActionSerializer):
    note = _note()


def _membership_number() -> serializers.CharField:
    return serializers.CharField(
        required=False,
        allow_blank=True,
        default="",
        max_length=MEMBERSHIP_NUMBER_MAX,
        help_text="The patient's number in your leisure management system (optional; left out "
        "or blank keeps the one recorded). Check-ins are matched to the referral by it.",
    )


class AcceptAction(NoteAction):
    facility = serializers.UUIDField(help_text="One of your leisure centres.")
    programme_class = serializers.UUIDField(
        required=False, allow_null=True, help_text="A class of the programme there (optional)."
    )
    instructor = serializers.EmailField(
        required=False, allow_null=True, help_text="One of your instructors, by email (optional)."
    )
    membership_number = _membership_number()

    def service_arguments(self, referral: Referral) -> dict[str, Any]:
        arguments = super().service_arguments(referral)
        # cast: only a submitted referral is accepted, and submission set its operator.
        operator, errors = cast(Organisation, referral.operator), {}
        try:
            arguments["facility"] = facility_of(operator, arguments["facility"])
        except Facility.DoesNotExist:
            errors["facility"] = "None of your leisure centres has this id"
        if arguments.get("programme_class") is not None:
            try:
                arguments["programme_class"] = class_of(operator, arguments["programme_class"])
            except ProgrammeClass.DoesNotExist:
                errors["programme_class"] = "None of your classes has this id"
        if arguments.get("instructor") is not None:
            email = arguments["instructor"]
            arguments["instructor"] = (
                active_instructors_of(operator).filter(email__iexact=email).first()
            )
            if arguments["instructor"] is None:
                errors["instructor"] = "None of your active instructors has this email address"
        if errors:
            raise serializers.ValidationError(errors)
        return arguments


class DeclineAction(NoteAction):
    reason = serializers.ChoiceField(choices=DeclineReason.choices)
    note = _note("The referrer sees this; needed when the reason is 'other'.")


class RequestInfoAction(ActionSerializer):
    renamed_errors: ClassVar[dict[str, str]] = {"note": "question"}
    question = serializers.CharField(
        allow_blank=True, help_text="The referrer sees and answers it."
    )


class AnswerInfoAction(ActionSerializer):
    renamed_errors: ClassVar[dict[str, str]] = {"note": "answer"}
    answer = serializers.CharField(allow_blank=True)


class WaitlistAction(NoteAction):
    pass


class BookAction(NoteAction):
    first_session_at = serializers.DateTimeField(
        required=False,
        allow_null=True,
        help_text="When the first session is: needed without a class; for a class, the day "
        "from which its weekly sessions are booked (left out, from tomorrow).",
    )
    membership_number = _membership_number()


class StartAction(NoteAction):
    pass


class CompleteAction(NoteAction):
    recommendations = _note("For the referrer, in the discharge summary (optional).")


class DischargeAction(CompleteAction):
    reason = serializers.ChoiceField(choices=DischargeReason.choices)
    note = _note("Needed when the reason is 'other'.")


class CancelAction(NoteAction):
    reason = serializers.ChoiceField(choices=CancelReason.choices)
    note = _note("Needed when the reason is 'other'.")


# Each workflow action's request, by its name in ACTION_SERVICES (submit has its own URL).
ACTION_BODIES: dict[str, type[ActionSerializer]] = {
    "accept": AcceptAction,
    "decline": DeclineAction,
    "request_info": RequestInfoAction,
    "answer_info": AnswerInfoAction,
    "waitlist": WaitlistAction,
    "book": BookAction,
    "start": StartAction,
    "complete": CompleteAction,
    "discharge": DischargeAction,
    "cancel": CancelAction,
}


# --- Patient lookup ----------------------------------------------------------------------------


class PatientLookupSerializer(StrictSerializer):
    nhs_number = serializers.CharField(
        allow_blank=True, help_text="10 digits; spaces allowed, as in 999 000 0018."
    )


class ReferralSummarySerializer(serializers.ModelSerializer):
    status_label = serializers.CharField(source="get_status_display", read_only=True)
    referring_organisation = OrganisationRefSerializer(read_only=True)

    class Meta:
        model = Referral
        fields = ["reference", "status", "status_label", "referring_organisation", "updated_at"]
        read_only_fields = fields


class PatientLookupResultSerializer(serializers.Serializer):
    patient = PatientSerializer(
        help_text="As your organisation's most recent referral of them records them."
    )
    referrals = ReferralSummarySerializer(many=True, help_text="Newest first.")
