"""Logging an incident in a session (a fall, chest pain, dizziness, hypoglycaemia or other):
the instructor's page, reached from the register and from the referral page.

The incident raises a safety alert (`referrals.alerts.incident_record`), which reaches the
coordinators at once. Only people who keep registers get in (403 for anyone else signed in);
the session is fetched through the instructor's caseload, so another operator's session is a 404.
"""

from typing import TYPE_CHECKING

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render

from accounts.permissions import Permission, has_permission
from audit.models import AccessKind
from audit.services import audit_read
from referrals.alerts import incident_record, incident_refusal
from referrals.models import Session
from referrals.web import apply_service_errors

from .. import register
from ..forms_incident import IncidentForm

if TYPE_CHECKING:
    from uuid import UUID

    from accounts.http import AuthenticatedHttpRequest


@login_required
def log_incident(request: "AuthenticatedHttpRequest", session_id: "UUID") -> HttpResponse:
    if not has_permission(request.user, Permission.SESSION_RECORD):
        raise PermissionDenied("Only instructors log incidents in sessions.")
    try:
        session = register.session_for_recorder(request.user, session_id)
    except Session.DoesNotExist as missing:
        raise Http404("No such session") from missing
    referral = session.referral
    form = IncidentForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            incident_record(session=session, by=request.user, **form.cleaned_data)
        except ValidationError as error:
            apply_service_errors(form, error)
        else:
            # Messages sit in a cookie: no patient and no detail of what happened.
            messages.success(
                request,
                "Incident logged. The safety alert is on the referral until someone "
                "acknowledges it, and the coordinators have been emailed.",
            )
            return redirect("referrals:detail", reference=referral.reference)
    audit_read(
        request, AccessKind.REFERRAL_PAGE, referrals=[referral], patients=[referral.patient_id]
    )
    return render(
        request,
        "register/incident.html",
        {
            "session": session,
            "referral": referral,
            "patient": referral.patient,
            "form": form,
            # A session still to come or cancelled gets the reason instead of the form.
            "refusal": incident_refusal(session) if request.method == "GET" else None,
        },
        status=400 if request.method == "POST" else 200,
    )
