"""Forms for the operator admin's pages. They validate what was typed; the services write.

Choices of programme and facility use public ids as option values, never database keys.
"""

import re

from django import forms
from django.core.exceptions import ValidationError

from accounts.models import User
from accounts.validation import (
    ADDRESS_MAX,
    SHORT_NOTE_MAX,
    PlainTextField,
    validate_phone_number,
)
from clinical.conditions import Condition, Exclusion
from facilities.models import Facility, Programme, ProgrammeClass
from facilities.postcodes import normalise_postcode, validate_postcode
from facilities.timetable import planned_sessions_problem

_DISTRICT = re.compile(r"^[A-Z]{1,2}[0-9][0-9A-Z]?$")
TIME_FORMATS = ["%H:%M", "%H.%M"]


class InstructorChoiceField(forms.ModelMultipleChoiceField):
    widget = forms.CheckboxSelectMultiple
    default_error_messages = {
        "invalid_choice": "Choose instructors from the list",
        "invalid_pk_value": "Choose instructors from the list",
    }

    def label_from_instance(self, user: User) -> str:
        return f"{user.full_name} ({user.email})" if user.full_name else user.email


class ActiveField(forms.BooleanField):
    def __init__(self, label: str, **kwargs):
        super().__init__(label=label, required=False, **kwargs)


# --- Facilities ----------------------------------------------------------------------------------


class FacilityForm(forms.Form):
    name = PlainTextField(
        label="Name", max_length=200, error_messages={"required": "Enter the facility's name"}
    )
    address = PlainTextField(
        max_length=ADDRESS_MAX,
        label="Address",
        widget=forms.Textarea(attrs={"rows": 3, "autocomplete": "street-address"}),
        error_messages={"required": "Enter the facility's address"},
    )
    postcode = forms.CharField(
        label="Postcode",
        max_length=10,
        error_messages={"required": "Enter the facility's postcode"},
        widget=forms.TextInput(attrs={"autocomplete": "postal-code"}),
    )
    phone = PlainTextField(
        label="Phone number (optional)",
        required=False,
        max_length=20,
        validators=[validate_phone_number],
        help_text="Patients ring this to change or cancel a session: it is on their letter.",
        widget=forms.TextInput(attrs={"autocomplete": "tel", "type": "tel"}),
    )
    email = forms.EmailField(
        label="Email (optional)",
        required=False,
        max_length=254,
        help_text="Also on the patient's letter.",
        error_messages={"invalid": "Enter an email address, like bookings@centre.example"},
        widget=forms.EmailInput(attrs={"autocomplete": "email", "spellcheck": "false"}),
    )
    postcode_districts = forms.CharField(
        label="Postcode districts served",
        required=False,
        max_length=500,
        help_text="The first part of the postcodes this facility takes referrals from, separated "
        "by commas, for example LS6, LS7. Referrers see the nearest facilities first.",
    )
    accessibility_notes = PlainTextField(
        max_length=SHORT_NOTE_MAX,
        label="Accessibility (optional)",
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="For example step-free access, a pool hoist, accessible changing rooms.",
    )
    staff = InstructorChoiceField(
        label="Instructors who work here",
        queryset=User.objects.none(),
        required=False,
        help_text="They see the referrals assigned to this facility. Select all that apply.",
    )
    is_active = ActiveField("Open for referrals", initial=True)

    def __init__(self, *args, instructors, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["staff"].queryset = instructors

    def clean_postcode(self):
        value = self.cleaned_data["postcode"]
        validate_postcode(value)
        return normalise_postcode(value)

    def clean_postcode_districts(self):
        districts = []
        for part in re.split(r"[\s,;]+", self.cleaned_data["postcode_districts"].upper()):
            if not part:
                continue
            if not _DISTRICT.match(part):
                raise ValidationError(
                    f"{part} is not a postcode district: enter the first part of a postcode, "
                    "like LS6"
                )
            if part not in districts:
                districts.append(part)
        return sorted(districts)

    def service_fields(self) -> dict:
        data = self.cleaned_data
        return {
            "name": data["name"].strip(),
            "address": data["address"].strip(),
            "postcode": data["postcode"],
            "phone": data["phone"].strip(),
            "email": data["email"].strip(),
            "postcode_districts": data["postcode_districts"],
            "accessibility_notes": data["accessibility_notes"].strip(),
            "is_active": data["is_active"],
        }

    @staticmethod
    def initial_from(facility: Facility) -> dict:
        return {
            "name": facility.name,
            "address": facility.address,
            "postcode": facility.postcode,
            "phone": facility.phone,
            "email": facility.email,
            "postcode_districts": ", ".join(facility.postcode_districts),
            "accessibility_notes": facility.accessibility_notes,
            "staff": [user.pk for user in facility.staff.all()],
            "is_active": facility.is_active,
        }


# --- Programmes ----------------------------------------------------------------------------------


class ProgrammeForm(forms.Form):
    name = PlainTextField(
        label="Name",
        max_length=200,
        help_text="As referrers will see it, for example Exercise on referral (12 weeks).",
        error_messages={"required": "Enter the programme's name"},
    )
    description = PlainTextField(
        max_length=SHORT_NOTE_MAX,
        label="Description (optional)",
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    conditions = forms.MultipleChoiceField(
        label="Conditions the programme is for",
        choices=sorted(Condition.choices, key=lambda choice: choice[1]),
        widget=forms.CheckboxSelectMultiple,
        help_text="Referrals for these conditions are offered this programme first. "
        "Select all that apply.",
        error_messages={"required": "Select at least one condition the programme is for"},
    )
    min_age = forms.IntegerField(
        label="Minimum age",
        min_value=0,
        max_value=120,
        initial=16,
        error_messages={
            "required": "Enter the minimum age",
            "invalid": "Enter the minimum age as a whole number, like 16",
        },
    )
    max_age = forms.IntegerField(
        label="Maximum age (optional)",
        min_value=0,
        max_value=120,
        required=False,
        help_text="Leave blank for no upper age limit.",
        error_messages={"invalid": "Enter the maximum age as a whole number, like 90"},
    )
    exclusions = forms.MultipleChoiceField(
        label="Exclusions",
        choices=Exclusion.choices,
        widget=forms.CheckboxSelectMultiple,
        required=False,
        initial=list(Exclusion.values),
        help_text="A patient with any of these cannot be referred to the programme. "
        "Select all that apply.",
    )
    duration_weeks = forms.IntegerField(
        label="Length in weeks",
        min_value=1,
        max_value=104,
        initial=12,
        error_messages={"required": "Enter the programme's length in weeks"},
    )
    planned_sessions = forms.IntegerField(
        label="Planned sessions",
        min_value=1,
        max_value=500,
        initial=12,
        help_text="Sessions each participant is offered: at most one a week, as a participant "
        "joins one weekly class (or one a day, where self-directed visits count). Adherence is "
        "measured against this: 75% or more counts as adhering.",
        error_messages={"required": "Enter the number of planned sessions"},
    )
    dna_limit = forms.IntegerField(
        label="Missed sessions in a row before discharge is considered",
        min_value=1,
        max_value=20,
        initial=3,
        error_messages={"required": "Enter the number of missed sessions"},
    )
    self_directed_visits_count = ActiveField(
        "Self-directed visits count toward adherence",
        help_text="Gym check-ins and visits from your leisure system's exports count as "
        "sessions done: at most one a day, and not on a day the participant attended a class. "
        "The first one after booking starts the programme.",
    )
    triage_sla_days = forms.IntegerField(
        label="Working days to triage a referral",
        min_value=1,
        max_value=60,
        initial=5,
        help_text="A referral not accepted, declined or queried by then is shown as overdue.",
        error_messages={"required": "Enter the number of working days"},
    )
    contact_attempt_limit = forms.IntegerField(
        label="Attempts to contact the patient before declining as unable to contact",
        min_value=1,
        max_value=20,
        initial=3,
        required=False,
        help_text="Coordinators log each call, text, letter or email; after this many, "
        "'unable to contact' is offered as a reason to decline. Leave blank to keep it as it "
        "is (3 for a new programme).",
        error_messages={
            "invalid": "Enter the number of attempts as a whole number, like 3",
        },
    )
    is_active = ActiveField("Taking referrals", initial=True)

    def clean(self):
        cleaned = super().clean()
        low, high = cleaned.get("min_age"), cleaned.get("max_age")
        if low is not None and high is not None and high < low:
            self.add_error(
                "max_age", "The maximum age must be the same as or more than the minimum age"
            )
        weeks, planned = cleaned.get("duration_weeks"), cleaned.get("planned_sessions")
        if weeks is not None and planned is not None:
            problem = planned_sessions_problem(
                weeks, planned, counts_visits=bool(cleaned.get("self_directed_visits_count"))
            )
            if problem:
                self.add_error("planned_sessions", problem)
        return cleaned

    def service_fields(self) -> dict:
        data = self.cleaned_data
        return {
            "name": data["name"].strip(),
            "description": data["description"].strip(),
            "conditions": data["conditions"],
            "min_age": data["min_age"],
            "max_age": data["max_age"],
            "exclusions": data["exclusions"],
            "duration_weeks": data["duration_weeks"],
            "planned_sessions": data["planned_sessions"],
            "dna_limit": data["dna_limit"],
            "self_directed_visits_count": data["self_directed_visits_count"],
            "triage_sla_days": data["triage_sla_days"],
            "is_active": data["is_active"],
        } | (
            {"contact_attempt_limit": data["contact_attempt_limit"]}
            if data.get("contact_attempt_limit") is not None
            else {}
        )

    @staticmethod
    def initial_from(programme: Programme) -> dict:
        return {
            name: getattr(programme, name)
            for name in [
                "name",
                "description",
                "conditions",
                "min_age",
                "max_age",
                "exclusions",
                "duration_weeks",
                "planned_sessions",
                "dna_limit",
                "self_directed_visits_count",
                "triage_sla_days",
                "contact_attempt_limit",
                "is_active",
            ]
        }


# --- Classes -------------------------------------------------------------------------------------


class ClassForm(forms.Form):
    name = PlainTextField(
        label="Name",
        max_length=200,
        help_text="For example Tuesday morning circuits.",
        error_messages={"required": "Enter the class's name"},
    )
    programme = forms.ModelChoiceField(
        label="Programme",
        queryset=Programme.objects.none(),
        to_field_name="public_id",
        empty_label="Choose a programme",
        error_messages={
            "required": "Choose the programme this class runs",
            "invalid_choice": "Choose a programme from the list",
        },
    )
    facility = forms.ModelChoiceField(
        label="Facility",
        queryset=Facility.objects.none(),
        to_field_name="public_id",
        empty_label="Choose a facility",
        error_messages={
            "required": "Choose the facility where the class runs",
            "invalid_choice": "Choose a facility from the list",
        },
    )
    weekday = forms.TypedChoiceField(
        label="Day of the week",
        coerce=int,
        choices=[("", "Choose a day"), *ProgrammeClass.Weekday.choices],
        error_messages={"required": "Choose the day of the week the class runs"},
    )
    start_time = forms.TimeField(
        label="Start time",
        input_formats=TIME_FORMATS,
        help_text="Use the 24-hour clock, for example 18:30.",
        widget=forms.TimeInput(format="%H:%M"),
        error_messages={
            "required": "Enter the time the class starts",
            "invalid": "Enter the start time in the 24-hour clock, like 18:30",
        },
    )
    duration_minutes = forms.IntegerField(
        label="Length in minutes",
        min_value=5,
        max_value=480,
        initial=60,
        error_messages={"required": "Enter how long the class lasts, in minutes"},
    )
    capacity = forms.IntegerField(
        label="Places",
        min_value=1,
        max_value=500,
        help_text="When every place is taken, accepted referrals join the waiting list.",
        error_messages={
            "required": "Enter the number of places in the class",
            "min_value": "The class must have at least 1 place",
        },
    )
    instructors = InstructorChoiceField(
        label="Instructors",
        queryset=User.objects.none(),
        required=False,
        help_text="They are added to the facility's staff, so they see its referrals. "
        "Select all that apply.",
    )
    is_active = ActiveField("Running (taking bookings)", initial=True)

    def __init__(self, *args, programmes, facilities, instructors, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["programme"].queryset = programmes
        self.fields["facility"].queryset = facilities
        self.fields["instructors"].queryset = instructors

    def service_fields(self) -> dict:
        data = self.cleaned_data
        return {
            "name": data["name"].strip(),
            "programme": data["programme"],
            "facility": data["facility"],
            "weekday": data["weekday"],
            "start_time": data["start_time"],
            "duration_minutes": data["duration_minutes"],
            "capacity": data["capacity"],
            "is_active": data["is_active"],
        }

    @staticmethod
    def initial_from(programme_class: ProgrammeClass) -> dict:
        return {
            "name": programme_class.name,
            "programme": programme_class.programme.public_id,
            "facility": programme_class.facility.public_id,
            "weekday": programme_class.weekday,
            "start_time": programme_class.start_time,
            "duration_minutes": programme_class.duration_minutes,
            "capacity": programme_class.capacity,
            "instructors": [user.pk for user in programme_class.instructors.all()],
            "is_active": programme_class.is_active,
        }
