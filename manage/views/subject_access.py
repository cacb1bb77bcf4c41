"""The data protection lead's subject access page (/manage/<organisation>/subject-access/).

Who: members whose role grants SUBJECT_ACCESS (organisation admins), for their own organisation;
anyone else signed in gets 403, another organisation's id is a 404. The NHS number is POSTed,
never put in a URL (URLs reach server and proxy logs). An NHS number the organisation holds no
record of, including another organisation's patient, gets the same "no record" answer.
Both downloads say `Cache-Control: no-store`: they are the whole record of one person.
"""

import json
from typing import TYPE_CHECKING

from django import forms
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.template.loader import render_to_string
from django.utils.cache import add_never_cache_headers, patch_cache_control

from accounts.models import Organisation
from accounts.permissions import Permission, active_memberships, has_permission
from audit.models import AccessKind
from audit.services import audit_read
from governance.subject_access import SubjectAccessExport, document_context, subject_access_export
from referrals.nhs_numbers import normalise_nhs_number, validate_nhs_number

if TYPE_CHECKING:
    from uuid import UUID

    from accounts.http import AuthenticatedHttpRequest
    from accounts.models import User


# In the range NHS numbers are issued from, with a right check digit: the example must be accepted.
EXAMPLE_NHS_NUMBER = "401 023 2137"


class SubjectAccessForm(forms.Form):
    nhs_number = forms.CharField(
        label="NHS number",
        help_text=f"10 digits, for example {EXAMPLE_NHS_NUMBER}",
        max_length=20,
    )
    format = forms.ChoiceField(
        label="What do you need?",
        choices=[
            ("html", "A readable document to print or send to the patient"),
            ("json", "A data file (JSON) of everything held"),
        ],
        initial="html",
        widget=forms.RadioSelect,
    )

    def clean_nhs_number(self) -> str:
        number = normalise_nhs_number(self.cleaned_data["nhs_number"])
        validate_nhs_number(number)  # its messages say what is wrong with the number
        return number


def organisation_for_subject_access(user: "User", public_id: "UUID | str") -> Organisation:
    """One of the user's organisations in which they may answer subject access requests."""
    if not has_permission(user, Permission.SUBJECT_ACCESS):
        raise PermissionDenied("Only your organisation's data protection lead can do this.")
    for membership in active_memberships(user):
        organisation = membership.organisation
        if str(organisation.public_id) == str(public_id) and has_permission(
            user, Permission.SUBJECT_ACCESS, organisation
        ):
            return organisation
    raise Http404("No organisation of yours has that id")


def export_response(
    export: SubjectAccessExport, fmt: str, request: HttpRequest | None = None
) -> HttpResponse:
    filename = f"subject-access-{export.organisation.code}-{export.generated_at:%Y%m%d}"
    if fmt == "json":
        response = HttpResponse(
            json.dumps(export.data, indent=2, ensure_ascii=False),
            content_type="application/json; charset=utf-8",
        )
        response["Content-Disposition"] = f'attachment; filename="{filename}.json"'
    else:
        response = HttpResponse(
            render_to_string(
                "manage/subject_access_document.html", document_context(export), request
            )
        )
        response["Content-Disposition"] = f'inline; filename="{filename}.html"'
    add_never_cache_headers(response)
    patch_cache_control(response, no_store=True, private=True)
    return response


@login_required
def subject_access(request: "AuthenticatedHttpRequest", organisation: "UUID") -> HttpResponse:
    organisation = organisation_for_subject_access(request.user, organisation)
    form = SubjectAccessForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        export = subject_access_export(organisation, form.cleaned_data["nhs_number"])
        if export is not None:
            audit_read(
                request,
                AccessKind.SUBJECT_ACCESS,
                referrals=export.referrals,
                patients=export.patients,
                description=f"Subject access export ({form.cleaned_data['format']})",
            )
            return export_response(export, form.cleaned_data["format"], request)
        form.add_error(
            "nhs_number", f"{organisation.name} holds no record of a patient with this NHS number"
        )
    response = render(
        request, "manage/subject_access.html", {"organisation": organisation, "form": form}
    )
    patch_cache_control(response, no_store=True, private=True)
    return response
