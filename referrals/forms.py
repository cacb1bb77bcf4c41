"""Forms for the referrer's journey. They validate input; the services do the writing.

Every step accepts a partial answer when the referrer saves a draft; "Continue" asks for the
step's required answers; the submit service checks the whole referral again.
"""

import datetime

from django import forms
from django.core.exceptions import ValidationError
from django.forms.utils import ErrorDict
from django.utils import timezone

from accounts.validation import (
    CLINICAL_TEXT_MAX,
    CONSENT_NOTE_MAX,
    SHORT_NOTE_MAX,
    PlainTextField,
    PortalDateField,
    date_from_parts,
)
from clinical.conditions import Condition, Exclusion, bp_is_excluded, exclusions_with_bp
from clinical.reasons import CancelReason
from facilities.postcodes import normalise_postcode, validate_postcode

from .models import (
    Ethnicity,
    Patient,
    Priority,
    RiskTier,
    Sex,
    Status,
    validate_date_of_birth,
)
from .nhs_numbers import is_valid_nhs_number, normalise_nhs_number, validate_nhs_number

YES_NO = [("yes", "Yes"), ("no", "No")]
# A yes/no radio's answer; nothing chosen is None, not "no".
YES_NO_ANSWERS = {"yes": True, "no": False}


class DateInputWidget(forms.MultiWidget):
    """The NHS date input: day, month and year boxes (components/date_input.html)."""

    template_name = "components/date_input_widget.html"

    def __init__(self, attrs=None):
        super().__init__(
            [
                forms.TextInput(attrs={"inputmode": "numeric"}),
                forms.TextInput(attrs={"inputmode": "numeric"}),
                forms.TextInput(attrs={"inputmode": "numeric"}),
            ],
            attrs,
        )

    def decompress(self, value):
        if isinstance(value, datetime.date):
            return [value.day, value.month, value.year]
        return [None, None, None]


class NHSDateField(forms.MultiValueField):
    """Day, month and year boxes. Anything that is not a real date in the portal's years (letters,
    31 February, a year of 0 or 20 digits) is a message, never an exception: see
    `accounts.validation.date_from_parts`. Each form adds the range that makes sense for it."""

    widget = DateInputWidget

    def __init__(self, error_messages=None, **kwargs):
        error_messages = {
            "incomplete": "Enter a full date, including the day, month and year",
            **(error_messages or {}),
        }
        fields = [forms.CharField(), forms.CharField(), forms.CharField()]
        super().__init__(
            fields=fields, error_messages=error_messages, require_all_fields=False, **kwargs
        )

    def compress(self, data_list):
        if not data_list or not any(data_list):
            return None
        if not all(data_list):
            raise ValidationError(self.error_messages["incomplete"], code="incomplete")
        return date_from_parts(*data_list, label=self.label or "Date")


class PatientForm(forms.Form):
    """Who the patient is and how to contact them."""

    nhs_number = forms.CharField(
        label="NHS number",
        required=False,
        max_length=14,
        help_text="10 digits, for example 999 000 0018. "
        "Leave blank if the patient does not have one.",
        widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "off"}),
    )
    given_name = PlainTextField(
        label="First name",
        max_length=100,
        error_messages={"required": "Enter the patient's first name"},
    )
    family_name = PlainTextField(
        label="Last name",
        max_length=100,
        error_messages={"required": "Enter the patient's last name"},
    )
    date_of_birth = NHSDateField(
        label="Date of birth",
        help_text="For example, 15 3 1984",
        error_messages={"required": "Enter the patient's date of birth"},
    )
    sex = forms.ChoiceField(
        label="Sex",
        choices=Sex.choices,
        widget=forms.RadioSelect,
        error_messages={"required": "Select the patient's sex"},
    )
    postcode = forms.CharField(
        label="Postcode",
        max_length=10,
        error_messages={"required": "Enter the patient's postcode"},
    )
    phone = PlainTextField(label="Phone number", max_length=20, required=False)
    email = forms.EmailField(label="Email address", max_length=254, required=False)
    contact_methods = forms.MultipleChoiceField(
        label="How can the leisure centre contact the patient?",
        choices=[("phone", "Phone"), ("email", "Email"), ("post", "Post")],
        widget=forms.CheckboxSelectMultiple,
        required=False,
        help_text="Select all that apply.",
    )
    do_not_contact = forms.BooleanField(
        label="The patient asked not to be contacted except about this referral", required=False
    )
    interpreter_needed = forms.ChoiceField(
        label="Does the patient need an interpreter?",
        choices=YES_NO,
        widget=forms.RadioSelect,
        initial="no",
    )
    interpreter_language = PlainTextField(
        label="Language for the interpreter", max_length=60, required=False
    )
    ethnicity = forms.ChoiceField(
        label="Ethnicity", choices=Ethnicity.choices, initial=Ethnicity.NOT_STATED
    )

    def clean_nhs_number(self):
        value = normalise_nhs_number(self.cleaned_data["nhs_number"])
        if value:
            validate_nhs_number(value)
        return value

    def clean_date_of_birth(self):
        value = self.cleaned_data["date_of_birth"]
        if value is not None:
            validate_date_of_birth(value)
        return value

    def clean_postcode(self):
        value = self.cleaned_data["postcode"]
        validate_postcode(value)
        return normalise_postcode(value)

    def clean(self):
        cleaned = super().clean()
        methods = set(cleaned.get("contact_methods") or [])
        if "phone" in methods and not cleaned.get("phone"):
            self.add_error("phone", "Enter a phone number, or untick phone as a contact method")
        if "email" in methods and not cleaned.get("email"):
            self.add_error("email", "Enter an email address, or untick email as a contact method")
        if cleaned.get("interpreter_needed") == "yes" and not cleaned.get("interpreter_language"):
            self.add_error("interpreter_language", "Enter the language the patient needs")
        return cleaned

    def patient_fields(self) -> dict:
        """The cleaned answers as Patient model fields."""
        data = self.cleaned_data
        methods = set(data.get("contact_methods") or [])
        interpreter = data["interpreter_needed"] == "yes"
        return {
            "nhs_number": data["nhs_number"] or None,
            "given_name": data["given_name"].strip(),
            "family_name": data["family_name"].strip(),
            "date_of_birth": data["date_of_birth"],
            "sex": data["sex"],
            "postcode": data["postcode"],
            "phone": data.get("phone", ""),
            "email": data.get("email", ""),
            "contact_by_phone": "phone" in methods,
            "contact_by_email": "email" in methods,
            "contact_by_post": "post" in methods,
            "do_not_contact": data.get("do_not_contact", False),
            "interpreter_needed": interpreter,
            "interpreter_language": data.get("interpreter_language", "") if interpreter else "",
            "ethnicity": data["ethnicity"],
        }

    @classmethod
    def for_lookup(cls, nhs_number: str = "", error: str = "") -> "PatientForm":
        """An empty form after Find patient, holding the number looked up and the lookup's
        message. It is unbound (nothing else was entered yet, so nothing else is an error), and
        an unbound form has no `cleaned_data` for `add_error`: the message is set directly."""
        form = cls(initial={"nhs_number": nhs_number})
        form._errors = ErrorDict()
        if error:
            form._errors["nhs_number"] = form.error_class([error])
        return form

    @classmethod
    def initial_from(cls, patient: Patient) -> dict:
        methods = [
            method
            for method, chosen in (
                ("phone", patient.contact_by_phone),
                ("email", patient.contact_by_email),
                ("post", patient.contact_by_post),
            )
            if chosen
        ]
        return {
            "nhs_number": patient.nhs_number or "",
            "given_name": patient.given_name,
            "family_name": patient.family_name,
            "date_of_birth": patient.date_of_birth,
            "sex": patient.sex,
            "postcode": patient.postcode,
            "phone": patient.phone,
            "email": patient.email,
            "contact_methods": methods,
            "do_not_contact": patient.do_not_contact,
            "interpreter_needed": "yes" if patient.interpreter_needed else "no",
            "interpreter_language": patient.interpreter_language,
            "ethnicity": patient.ethnicity,
        }


class FindPatientForm(forms.Form):
    """The Find patient button: only the NHS number is read. Every input gets a message: empty,
    too long, letters, a wrong check digit, a number never issued."""

    nhs_number = forms.CharField(
        max_length=14,
        required=True,
        strip=True,
        error_messages={
            "required": "Enter the patient's NHS number to find them",
            "max_length": "NHS number must be 10 digits",
        },
    )

    def clean_nhs_number(self) -> str:
        value = normalise_nhs_number(self.cleaned_data["nhs_number"])
        validate_nhs_number(value)
        return value

    @property
    def shown_number(self) -> str:
        """What to put back in the box: the typed text when it is short enough to be a number,
        with control characters dropped, else nothing (a 10,000-character paste is not echoed)."""
        typed = str(self.data.get("nhs_number", ""))
        if len(typed) > 14:
            return ""
        return "".join(ch for ch in typed if ch.isprintable())

    @property
    def message(self) -> str:
        return " ".join(self.errors.get("nhs_number", []))


class StepForm(forms.Form):
    """A step whose required answers are required only when the referrer continues."""

    required_to_continue: tuple[str, ...] = ()

    def __init__(self, *args, completing: bool = True, **kwargs):
        super().__init__(*args, **kwargs)
        self.completing = completing

    def clean(self):
        cleaned = super().clean()
        if self.completing:
            for name in self.required_to_continue:
                if name not in self.errors and not cleaned.get(name):
                    self.add_error(name, self.fields[name].error_messages["required"])
        return cleaned


# A reading older than this says nothing about the patient's blood pressure today.
BP_MAX_AGE_DAYS = 2 * 365


class ClinicalDetailsForm(StepForm):
    # Clinical answers start unanswered: a preselected one would be sent though nobody chose it.
    required_to_continue = ("reasons", "heart_rate_medication", "risk_tier")

    reasons = forms.MultipleChoiceField(
        label="Reasons for referral",
        choices=sorted(Condition.choices, key=lambda choice: choice[1]),
        widget=forms.CheckboxSelectMultiple,
        required=False,
        help_text="Select all that apply.",
        error_messages={"required": "Select at least one reason for referral"},
    )
    bp_systolic = forms.IntegerField(
        label="Systolic (top number)", min_value=60, max_value=260, required=False
    )
    bp_diastolic = forms.IntegerField(
        label="Diastolic (bottom number)", min_value=30, max_value=160, required=False
    )
    bp_measured_on = NHSDateField(label="Date blood pressure was measured", required=False)
    heart_rate_medication = forms.ChoiceField(
        label="Does the patient take medication that affects heart rate, such as beta blockers?",
        choices=YES_NO,
        widget=forms.RadioSelect,
        required=False,
        error_messages={
            "required": "Select yes if the patient takes medication that affects heart rate"
        },
    )
    medication_notes = PlainTextField(
        max_length=CLINICAL_TEXT_MAX,
        label="Medication (optional)",
        widget=forms.Textarea(attrs={"rows": 3}),
        required=False,
    )
    relevant_history = PlainTextField(
        max_length=CLINICAL_TEXT_MAX,
        label="Relevant medical history (optional)",
        widget=forms.Textarea(attrs={"rows": 4}),
        required=False,
    )
    risk_tier = forms.ChoiceField(
        label="Risk level",
        choices=RiskTier.choices,
        widget=forms.RadioSelect,
        required=False,
        error_messages={"required": "Select the patient's risk level"},
    )
    priority = forms.ChoiceField(
        label="Priority",
        choices=Priority.choices,
        widget=forms.RadioSelect,
        initial=Priority.ROUTINE,
        required=False,
        help_text="Routine is selected unless you change it. Select urgent if the patient "
        "should be seen sooner.",
    )

    def clean(self):
        cleaned = super().clean()
        systolic, diastolic = cleaned.get("bp_systolic"), cleaned.get("bp_diastolic")
        if (systolic is None) != (diastolic is None) and not self.has_error("bp_systolic"):
            missing = "bp_diastolic" if diastolic is None else "bp_systolic"
            self.add_error(missing, "Enter both blood pressure numbers, or neither")
        elif systolic is not None and diastolic is not None and systolic <= diastolic:
            self.add_error("bp_systolic", "Systolic pressure must be higher than diastolic")
        measured, today = cleaned.get("bp_measured_on"), timezone.localdate()
        if measured and measured > today:
            self.add_error(
                "bp_measured_on",
                "The date blood pressure was measured must be today or in the past",
            )
        elif measured and measured < today - datetime.timedelta(days=BP_MAX_AGE_DAYS):
            self.add_error(
                "bp_measured_on",
                "The date blood pressure was measured must be within the last 2 years",
            )
        return cleaned

    def referral_fields(self) -> dict:
        data = self.cleaned_data
        return {
            "reasons": data["reasons"],
            "bp_systolic": data["bp_systolic"],
            "bp_diastolic": data["bp_diastolic"],
            "bp_measured_on": data["bp_measured_on"],
            "heart_rate_medication": YES_NO_ANSWERS.get(data["heart_rate_medication"]),
            "medication_notes": data["medication_notes"],
            "relevant_history": data["relevant_history"],
            "risk_tier": data["risk_tier"],
            "priority": data["priority"] or Priority.ROUTINE,
        }


NONE_APPLY = "none"


class ExclusiveNoneCheckboxes(forms.CheckboxSelectMultiple):
    """'None of these apply' unticks the others, and they untick it (nhsuk-frontend behaviour)."""

    def create_option(self, name, value, *args, **kwargs):
        option = super().create_option(name, value, *args, **kwargs)
        if value == NONE_APPLY:
            option["attrs"]["data-behaviour"] = "exclusive"
        return option


class SafetyScreenForm(StepForm):
    required_to_continue = ("exclusions",)

    exclusions = forms.MultipleChoiceField(
        label="Do any of these apply to the patient?",
        choices=[*Exclusion.choices, (NONE_APPLY, "None of these apply")],
        widget=ExclusiveNoneCheckboxes,
        required=False,
        help_text="Any of these stops an exercise referral. Select all that apply.",
        error_messages={"required": "Select the conditions that apply, or 'None of these apply'"},
    )

    def __init__(self, *args, bp: tuple[int | None, int | None] = (None, None), **kwargs) -> None:
        """`bp` is the referral's resting blood pressure (systolic, diastolic), if given: at
        180/100 or more its exclusion applies whatever is ticked (`clinical.conditions`)."""
        super().__init__(*args, **kwargs)
        systolic, diastolic = bp
        self.bp_reading = (
            f"{systolic}/{diastolic} mmHg" if systolic is not None and diastolic is not None else ""
        )
        self.bp_excluded = bool(self.bp_reading) and bp_is_excluded(systolic, diastolic)
        if self.bp_excluded:
            field = self.fields["exclusions"]
            field.help_text = (
                f"The blood pressure in the clinical details ({self.bp_reading}) is 180/100 or "
                f"higher, so that exclusion is selected. {field.help_text}"
            )
            if not self.is_bound:
                chosen = [c for c in self.initial.get("exclusions", []) if c != NONE_APPLY]
                self.initial["exclusions"] = exclusions_with_bp(chosen, systolic, diastolic)
        self.bp = bp

    def clean_exclusions(self):
        chosen = self.cleaned_data["exclusions"]
        if NONE_APPLY in chosen and len(chosen) > 1:
            raise ValidationError("Select 'None of these apply' only when none of them apply")
        if self.bp_excluded:
            if NONE_APPLY in chosen:
                raise ValidationError(
                    f"The blood pressure in the clinical details ({self.bp_reading}) is 180/100 "
                    "or higher, so 'None of these apply' cannot be selected. If the blood "
                    "pressure was entered wrongly, change it in the clinical details"
                )
            chosen = exclusions_with_bp(chosen, *self.bp)
        return chosen

    def exclusions_present(self) -> list[str]:
        return [code for code in self.cleaned_data["exclusions"] if code != NONE_APPLY]


class ProgrammeChoiceForm(StepForm):
    """One choice of programme at a facility, from the options the view offers."""

    required_to_continue = ("placement",)

    placement = forms.ChoiceField(
        label="Where should the patient go?",
        widget=forms.RadioSelect,
        required=False,
        error_messages={"required": "Select a programme and leisure centre"},
    )

    def __init__(self, *args, options=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.options = {option.key: option for option in options}
        self.fields["placement"].choices = [(o.key, o.label) for o in options]

    def chosen(self):
        key = self.cleaned_data.get("placement")
        return self.options.get(key) if key else None


class ConsentForm(StepForm):
    required_to_continue = ("consent_referral",)

    consent_referral = forms.BooleanField(
        label="The patient agrees to be referred to the programme",
        required=False,
        error_messages={"required": "Confirm the patient agrees to be referred"},
    )
    consent_share_outcomes = forms.BooleanField(
        label="The patient agrees that the leisure centre shares their progress and outcomes "
        "with us",
        required=False,
        help_text="Without this, you will hear whether the referral is accepted, "
        "but not how the patient gets on.",
    )
    consent_research = forms.BooleanField(
        label="The patient agrees that their anonymised data is used to evaluate the programme",
        required=False,
        help_text="Optional.",
    )


class AnswerInformationForm(forms.Form):
    answer = PlainTextField(
        max_length=SHORT_NOTE_MAX,
        label="Your answer",
        widget=forms.Textarea(attrs={"rows": 4}),
        error_messages={"required": "Enter your answer"},
    )


class CancelReferralForm(forms.Form):
    reason = forms.ChoiceField(
        label="Why are you cancelling this referral?",
        choices=CancelReason.choices,
        widget=forms.RadioSelect,
        error_messages={"required": "Select why you are cancelling the referral"},
    )
    note = PlainTextField(
        max_length=SHORT_NOTE_MAX,
        label="More detail (optional)",
        widget=forms.Textarea(attrs={"rows": 3}),
        required=False,
    )

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("reason") == CancelReason.OTHER and not cleaned.get("note", "").strip():
            self.add_error("note", "Say why, as the reason is 'Other'")
        return cleaned


class DashboardFilterForm(forms.Form):
    """Filters that are not patient data, so they can live in the URL."""

    status = forms.ChoiceField(
        label="Status",
        choices=[("", "All statuses"), ("needs_action", "Needs your action"), *Status.choices],
        required=False,
    )
    clinician = forms.ChoiceField(
        label="Referred by",
        choices=[("mine", "Me"), ("all", "Anyone in my organisation")],
        required=False,
        initial="mine",
    )
    referred_from = PortalDateField(
        label="Referred from", required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    referred_to = PortalDateField(
        label="Referred to", required=False, widget=forms.DateInput(attrs={"type": "date"})
    )

    def clean(self):
        cleaned = super().clean()
        start, end = cleaned.get("referred_from"), cleaned.get("referred_to")
        if start and end and start > end:
            self.add_error(
                "referred_to", "The end date must be the same as or after the start date"
            )
        return cleaned


class SearchForm(forms.Form):
    """Search terms can be patient data, so they are POSTed and kept in the session, not the URL."""

    q = forms.CharField(
        label="Search by reference, NHS number or last name",
        max_length=100,
        required=False,
    )

    def clean_q(self):
        """A term of digits is an NHS number: say when it cannot be one, rather than search."""
        term = self.cleaned_data["q"]
        digits = normalise_nhs_number(term)
        if digits.isdigit() and not is_valid_nhs_number(digits):
            raise ValidationError(f"{term} is not a valid NHS number")
        return term


# --- Triage (the leisure coordinator) ----------------------------------------------------------


class ConsentDecisionForm(forms.Form):
    """A patient's decision about one consent purpose, as the choices open for this referral.

    Each choice is "<decision>:<purpose>" (see `referrals/consent.py`); only the ones that change
    something are offered: withdrawing consent that stands, or giving one that does not."""

    choice = forms.ChoiceField(
        label="What has the patient decided?",
        widget=forms.RadioSelect,
        error_messages={"required": "Select what the patient has decided"},
    )
    method = forms.ChoiceField(
        label="How did the patient tell you?",
        widget=forms.RadioSelect,
        error_messages={"required": "Select how the patient told you"},
    )
    note = PlainTextField(
        max_length=CONSENT_NOTE_MAX,
        label="Note (optional)",
        help_text="For example, who you spoke to or the date on their letter. No clinical details.",
        widget=forms.Textarea(attrs={"rows": 3}),
        required=False,
    )

    def __init__(self, *args, choices, methods, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["choice"].choices = choices
        self.fields["method"].choices = methods
