"""Forms for the organisation admin's member pages. They validate input; the services write."""

from django import forms

from accounts.models import ROLES_BY_KIND, Organisation, Role
from accounts.validation import PlainTextField

ROLE_HINTS = {
    Role.REFERRER: "makes and follows referrals for the organisation",
    Role.COORDINATOR: "triages the referrals sent to the operator and manages places",
    Role.INSTRUCTOR: "runs classes, takes registers and records assessments",
    Role.ORG_ADMIN: "manages the organisation's members"
    " (and, for an operator, its facilities, programmes and classes)",
    Role.COMMISSIONER: "sees reports on the programmes the organisation commissions",
}


class InviteMemberForm(forms.Form):
    full_name = PlainTextField(
        label="Full name",
        max_length=200,
        error_messages={"required": "Enter the person's full name"},
    )
    email = forms.EmailField(
        label="Email address",
        max_length=254,
        help_text="We will send the invitation here. Use their work address.",
        error_messages={
            "required": "Enter the person's email address",
            "invalid": "Enter an email address in the correct format, like name@example.com",
        },
        widget=forms.EmailInput(attrs={"autocomplete": "off"}),
    )
    role = forms.ChoiceField(
        label="Role",
        widget=forms.RadioSelect,
        error_messages={"required": "Select the person's role"},
    )

    def __init__(self, *args, organisation: Organisation, **kwargs):
        super().__init__(*args, **kwargs)
        allowed = ROLES_BY_KIND[organisation.kind]
        roles = [role for role in Role if role in allowed]
        self.fields["role"].choices = [(role.value, role.label) for role in roles]
        self.fields["role"].help_text = "<br>".join(
            f"{role.label}: {ROLE_HINTS[role]}." for role in roles
        )

    def clean_email(self):
        return self.cleaned_data["email"].strip().lower()


class ConfirmForm(forms.Form):
    """A confirmation with no questions: it carries the service's refusal, if any."""
