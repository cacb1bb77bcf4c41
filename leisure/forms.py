"""The leisure side's forms: the worklist filter and one form per triage action."""

import datetime

from django import forms
from django.utils import timezone

from accounts.models import Role, User
from accounts.validation import (
    SHORT_NOTE_MAX,
    PlainTextField,
)
from clinical.reasons import DeclineReason, DischargeReason
from facilities.models import Facility, Programme, ProgrammeClass
from referrals.forms import NHSDateField
from referrals.models import MEMBERSHIP_NUMBER_MAX, Referral, Status

from .contact import contact_limit, unable_to_contact_allowed
from .models import ContactMethod, ContactOutcome


class TriageFilterForm(forms.Form):
    """Worklist filters: none of them is patient data, so they live in the URL."""

    facility = forms.ModelChoiceField(
        label="Leisure centre", queryset=None, required=False, empty_label="All centres"
    )
    programme = forms.ModelChoiceField(
        label="Programme", queryset=None, required=False, empty_label="All programmes"
    )
    status = forms.ChoiceField(
        label="Status",
        choices=[
            ("", "Waiting for us"),
            (Status.SUBMITTED, "Submitted"),
            (Status.INFO_REQUESTED, "Information requested"),
            (Status.ACCEPTED, "Accepted"),
            (Status.WAITLISTED, "Waiting list"),
        ],
        required=False,
    )
    overdue = forms.BooleanField(label="Only overdue", required=False)

    def __init__(self, *args, operator_ids=(), **kwargs):

        super().__init__(*args, **kwargs)
        self.fields["facility"].queryset = Facility.objects.filter(operator_id__in=operator_ids)
        self.fields["programme"].queryset = Programme.objects.filter(operator_id__in=operator_ids)


def membership_number_field(label: str = "Leisure membership number (optional)") -> PlainTextField:
    """The patient's number in the operator's leisure management system: check-ins and visits
    from the operator's systems are matched to the referral by it."""
    return PlainTextField(
        max_length=MEMBERSHIP_NUMBER_MAX,
        label=label,
        required=False,
        help_text="As your leisure management system shows it. Visits recorded by your gym "
        "systems are matched to this referral by it.",
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
    )


def _show_membership_number(form: forms.Form, referral: Referral) -> None:
    """Start from the number the referral has, so accepting or booking keeps it in view."""
    if referral.membership_number and not form.is_bound:
        form.initial.setdefault("membership_number", referral.membership_number)


class AcceptForm(forms.Form):
    facility = forms.ModelChoiceField(
        label="Leisure centre",
        queryset=None,
        error_messages={"required": "Select the leisure centre"},
    )
    programme_class = forms.ModelChoiceField(
        label="Class",
        queryset=None,
        required=False,
        empty_label="No class yet (one-to-one sessions first)",
        help_text="A full class puts the patient on its waiting list.",
    )
    instructor = forms.ModelChoiceField(
        label="Instructor", queryset=None, required=False, empty_label="Not assigned yet"
    )
    membership_number = membership_number_field()
    note = PlainTextField(
        max_length=SHORT_NOTE_MAX,
        label="Note for the timeline (optional)",
        widget=forms.Textarea(attrs={"rows": 3}),
        required=False,
    )

    def __init__(self, *args, referral, free_places=None, **kwargs):

        super().__init__(*args, **kwargs)
        operator_id = referral.operator_id
        self.fields["facility"].queryset = Facility.objects.filter(
            operator_id=operator_id, is_active=True
        )
        classes = ProgrammeClass.objects.filter(
            programme_id=referral.programme_id, is_active=True
        ).select_related("facility")
        self.fields["programme_class"].queryset = classes
        free = free_places or {}
        self.fields["programme_class"].label_from_instance = lambda c: (
            f"{c.name}, {c.facility.name}, {c.get_weekday_display()} {c.start_time:%H:%M} "
            f"({free.get(c.id, c.capacity)} of {c.capacity} places free)"
        )
        self.fields["instructor"].queryset = User.objects.filter(
            memberships__organisation_id=operator_id,
            memberships__role=Role.INSTRUCTOR,
            memberships__is_active=True,
            is_active=True,
        ).distinct()
        # The centre the referrer chose with the patient comes first to mind: preselect it and
        # say whose choice it is, so accepting elsewhere is a decision, not an accident.
        preferred = referral.preferred_facility_id
        self.fields["facility"].label_from_instance = lambda f: (
            f"{f.name} (the referrer's preferred centre)" if f.id == preferred else f.name
        )
        if preferred and not self.is_bound:
            self.initial.setdefault("facility", preferred)
        _show_membership_number(self, referral)


class DeclineForm(forms.Form):
    reason = forms.ChoiceField(
        label="Why are you declining this referral?",
        choices=DeclineReason.choices,
        widget=forms.RadioSelect,
        error_messages={"required": "Select why you are declining the referral"},
    )
    note = PlainTextField(
        max_length=SHORT_NOTE_MAX,
        label="Message for the referrer",
        widget=forms.Textarea(attrs={"rows": 4}),
        required=False,
        help_text="The referrer sees this. Do not include anything the patient has not "
        "agreed to share.",
    )

    def __init__(self, *args, referral: Referral | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        if referral is not None and not unable_to_contact_allowed(referral):
            # Not offered (and refused if posted) until the programme's attempts are logged.
            reason = self.fields["reason"]
            reason.choices = [
                choice
                for choice in DeclineReason.choices
                if choice[0] != DeclineReason.UNABLE_TO_CONTACT
            ]
            reason.help_text = (
                f"'{DeclineReason.UNABLE_TO_CONTACT.label}' is offered once "
                f"{contact_limit(referral)} attempts to reach the patient are logged."
            )


class RequestInformationForm(forms.Form):
    question = PlainTextField(
        max_length=SHORT_NOTE_MAX,
        label="What do you need to know?",
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text="The referrer sees this question and answers it on the referral.",
        error_messages={"required": "Enter your question for the referrer"},
    )


def recommendations_field() -> PlainTextField:
    """The instructor's advice for the referrer, which goes into the discharge summary."""
    return PlainTextField(
        max_length=SHORT_NOTE_MAX,
        label="Recommendations for the referrer (optional)",
        widget=forms.Textarea(attrs={"rows": 4}),
        required=False,
        help_text="The referrer reads this in the discharge summary, for example how to keep "
        "active and what to review.",
    )


class DischargeForm(forms.Form):
    reason = forms.ChoiceField(
        label="Why is the patient leaving the programme?",
        choices=DischargeReason.choices,
        widget=forms.RadioSelect,
        error_messages={"required": "Select why the patient is being discharged"},
    )
    note = PlainTextField(
        max_length=SHORT_NOTE_MAX,
        label="More detail (optional)",
        widget=forms.Textarea(attrs={"rows": 3}),
        required=False,
    )
    recommendations = recommendations_field()


class NoteForm(forms.Form):
    """Actions that need only a confirmation and an optional note (waitlist, complete)."""

    note = PlainTextField(
        max_length=SHORT_NOTE_MAX,
        label="Note for the timeline (optional)",
        widget=forms.Textarea(attrs={"rows": 3}),
        required=False,
    )


class CompleteForm(NoteForm):
    recommendations = recommendations_field()


class BookForm(forms.Form):
    service_field_names = {"first_session_at": "first_session_on"}
    first_session_on = NHSDateField(
        label="Date of the first session",
        required=False,
        help_text="For a class, leave blank to start at its next session.",
    )
    first_session_time = forms.TimeField(
        label="Time (for a one-to-one session)",
        required=False,
        help_text="For example, 14:30",
        widget=forms.TimeInput(attrs={"inputmode": "numeric"}, format="%H:%M"),
    )
    membership_number = membership_number_field()
    note = PlainTextField(
        max_length=SHORT_NOTE_MAX,
        label="Note for the timeline (optional)",
        widget=forms.Textarea(attrs={"rows": 3}),
        required=False,
    )

    def __init__(self, *args, referral, **kwargs):
        super().__init__(*args, **kwargs)
        _show_membership_number(self, referral)
        self.in_class = referral.programme_class_id is not None
        self.class_time = referral.programme_class.start_time if self.in_class else None

    def clean(self):
        cleaned = super().clean()
        day, time = cleaned.get("first_session_on"), cleaned.get("first_session_time")
        if not self.in_class and not self.has_error("first_session_on"):
            if day is None:
                self.add_error("first_session_on", "Enter the date of the first session")
            if time is None:
                self.add_error("first_session_time", "Enter the time of the first session")
        if day is not None:
            # Whether it is in the future and within a year is `referral_book`'s rule, shown on
            # the date field through `service_field_names`.
            at = self.class_time if self.in_class else (time or datetime.time(0, 0))
            cleaned["first_session_at"] = timezone.make_aware(datetime.datetime.combine(day, at))
        else:
            cleaned["first_session_at"] = None
        return cleaned


class MembershipNumberForm(forms.Form):
    """Record, change or (left blank) remove the patient's leisure membership number."""

    membership_number = membership_number_field("Leisure membership number")

    def __init__(self, *args, referral: Referral, **kwargs):
        super().__init__(*args, **kwargs)
        field = self.fields["membership_number"]
        field.help_text = f"{field.help_text} Leave it blank to remove it."
        _show_membership_number(self, referral)


class ContactAttemptForm(forms.Form):
    """One attempt to reach the patient. Left blank, the date and time are now."""

    method = forms.ChoiceField(
        label="How did you try to contact the patient?",
        choices=ContactMethod.choices,
        widget=forms.RadioSelect,
        error_messages={"required": "Select how you tried to contact the patient"},
    )
    outcome = forms.ChoiceField(
        label="What happened?",
        choices=ContactOutcome.choices,
        widget=forms.RadioSelect,
        error_messages={"required": "Select what happened"},
    )
    attempted_on = NHSDateField(
        label="Date of the attempt (optional)",
        required=False,
        help_text="Leave blank for today. For example, 15 3 2026",
    )
    attempted_time = forms.TimeField(
        label="Time (optional)",
        required=False,
        help_text="Leave blank for now. For example, 14:30",
        widget=forms.TimeInput(attrs={"inputmode": "numeric"}, format="%H:%M"),
        error_messages={"invalid": "Enter the time as hours and minutes, like 14:30"},
    )
    note = PlainTextField(
        max_length=SHORT_NOTE_MAX,
        label="Note (optional)",
        widget=forms.Textarea(attrs={"rows": 3}),
        required=False,
        help_text="For colleagues, for example the best time to call back.",
    )

    def clean(self):
        cleaned = super().clean()
        day, time = cleaned.get("attempted_on"), cleaned.get("attempted_time")
        now = timezone.localtime()
        if day is None and time is None:
            cleaned["attempted_at"] = None  # now, as the service stamps it
            return cleaned
        day = day or now.date()
        if time is None:
            # A day without a time: now if it is today, else midday (the hour is not known).
            time = now.time() if day == now.date() else datetime.time(12, 0)
        cleaned["attempted_at"] = timezone.make_aware(datetime.datetime.combine(day, time))
        return cleaned
