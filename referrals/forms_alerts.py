"""The form that acknowledges a safety alert (`referrals/alerts.py`): the action taken is required,
so an alert cannot be closed without saying what was done about it."""

from django import forms

from accounts.validation import SHORT_NOTE_MAX, PlainTextField


class AcknowledgeAlertForm(forms.Form):
    action_taken = PlainTextField(
        max_length=SHORT_NOTE_MAX,
        label="Action taken",
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="What you did about it, for example who you spoke to and what was agreed.",
        error_messages={"required": "Enter the action you took"},
    )
