from django import forms

from audit.models import AccessKind

DATE_WIDGET = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


class AuditSearchForm(forms.Form):
    """Filters name staff, references, dates and kinds, never a patient, so they can sit in GET."""

    person = forms.CharField(label="Person (email address or name)", required=False, max_length=200)
    reference = forms.CharField(label="Referral reference", required=False, max_length=20)
    date_from = forms.DateField(label="From", required=False, widget=DATE_WIDGET)
    date_to = forms.DateField(label="To", required=False, widget=DATE_WIDGET)
    kind = forms.ChoiceField(
        label="What was viewed", required=False, choices=[("", "Anything"), *AccessKind.choices]
    )

    def clean_reference(self) -> str:
        return self.cleaned_data["reference"].strip().upper()

    def clean(self):
        cleaned = super().clean()
        start, end = cleaned.get("date_from"), cleaned.get("date_to")
        if start and end and start > end:
            self.add_error("date_to", "To must be the same as or after from")
        return cleaned
