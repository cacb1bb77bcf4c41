"""The coordinator's contact log for one referral: every attempt to reach the patient, and a
form to log another. The operator's coordinators only: another operator's referral is a 404 (the
user-scoped selector), anyone else who can see the referral a 403."""

from typing import TYPE_CHECKING

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpResponse
from django.shortcuts import redirect, render

from audit.models import AccessKind
from audit.services import audit_read
from referrals.sections import Viewer
from referrals.web import apply_service_errors, referral_or_404

from ..contact import contact_attempt_record, contact_log
from ..forms import ContactAttemptForm
from ..models import ContactAttempt

if TYPE_CHECKING:
    from accounts.http import AuthenticatedHttpRequest
    from referrals.models import Referral


def contact_attempts_section(viewer: Viewer, referral: "Referral") -> dict[str, object]:
    """On the referral page: the contact log, for the operator's coordinators only."""
    return {"contact_log": contact_log(viewer.user, referral)}


@login_required
def contact_attempts(request: "AuthenticatedHttpRequest", reference: str) -> HttpResponse:
    referral = referral_or_404(request.user, reference)
    log = contact_log(request.user, referral)
    if log is None:
        raise PermissionDenied("Only the provider's coordinators log contact attempts.")
    form = ContactAttemptForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and log.can_log and form.is_valid():
        try:
            attempt: ContactAttempt = contact_attempt_record(
                referral=referral,
                by=request.user,
                method=form.cleaned_data["method"],
                outcome=form.cleaned_data["outcome"],
                attempted_at=form.cleaned_data["attempted_at"],
                note=form.cleaned_data["note"],
            )
        except ValidationError as error:
            apply_service_errors(form, error)
        else:
            # The message names no patient: it sits in a cookie until the next page.
            messages.success(request, f"Contact attempt logged: {attempt.get_outcome_display()}.")
            return redirect("triage:contact_attempts", reference=referral.reference)
    audit_read(
        request, AccessKind.REFERRAL_PAGE, referrals=[referral], patients=[referral.patient_id]
    )
    refused = request.method == "POST"
    if refused and not log.can_log:
        form = ContactAttemptForm()
        messages.error(
            request,
            f"This referral is {referral.get_status_display().lower()}: contact attempts are "
            "logged until the patient is booked.",
        )
    return render(
        request,
        "triage/contact_attempts.html",
        {"referral": referral, "patient": referral.patient, "log": log, "form": form},
        status=400 if refused else 200,
    )
