"""The form for a new API client: a name and the scopes that fit the organisation's kind."""

from django import forms

from accounts.models import SCOPES_BY_KIND, ApiScope, Organisation
from accounts.validation import PlainTextField


class ApiClientForm(forms.Form):
    name = PlainTextField(
        label="Name",
        max_length=100,
        help_text="What will use it, for example the name of your leisure management system.",
        error_messages={"required": "Enter a name for the client"},
    )
    scopes = forms.MultipleChoiceField(
        label="What it may do",
        widget=forms.CheckboxSelectMultiple,
        error_messages={"required": "Select what the client may do"},
    )

    def __init__(self, *args, organisation: Organisation, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["scopes"].choices = [
            (scope, ApiScope(scope).label) for scope in SCOPES_BY_KIND[organisation.kind]
        ]
