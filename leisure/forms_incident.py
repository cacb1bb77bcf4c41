"""The form an instructor fills in to log an incident in a session (`referrals.alerts`)."""

from django import forms

from accounts.validation import SHORT_NOTE_MAX, PlainTextField
from referrals.models import IncidentKind


class IncidentForm(forms.Form):
    incident_kind = forms.ChoiceField(
        label="What happened?",
        choices=IncidentKind.choices,
        widget=forms.RadioSelect,
        error_messages={"required": "Select what happened"},
    )
    description = PlainTextField(
        max_length=SHORT_NOTE_MAX,
        label="Describe what happened",
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text="When in the session, what you saw and what the participant said.",
        error_messages={"required": "Describe what happened"},
    )
    immediate_action = PlainTextField(
        max_length=SHORT_NOTE_MAX,
        label="What was done at the time?",
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="For example: first aid given, 999 called, exercise stopped, sent home.",
        error_messages={"required": "Enter what was done at the time"},
    )
