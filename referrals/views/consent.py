"""Recording a patient's consent decision on a referral, for the referrer and the provider alike.

The page offers only the decisions that change something (`consent.open_decisions`); the service
re-checks everything under a lock, so a stale page is refused with a message, never applied.
"""

from typing import TYPE_CHECKING

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpResponse
from django.shortcuts import redirect, render

from accounts.permissions import Permission, has_permission
from audit.models import AccessKind
from audit.services import audit_read

from ..consent import RECORDABLE_METHODS, consent_record_decision, open_decisions
from ..forms import ConsentDecisionForm
from ..models import ConsentDecision, ConsentPurpose
from ..web import apply_service_errors, posted_version, referral_or_404
from ..workflow import WorkflowError

if TYPE_CHECKING:
    from accounts.http import AuthenticatedHttpRequest

DONE_MESSAGES = {
    (ConsentDecision.WITHDRAWN, ConsentPurpose.REFERRAL): (
        "Withdrawal of consent to the referral recorded."
    ),
    (ConsentDecision.WITHDRAWN, ConsentPurpose.SHARE_PROGRESS): (
        "Withdrawal recorded: no more progress updates will be sent to the referrer."
    ),
    (ConsentDecision.WITHDRAWN, ConsentPurpose.EVALUATION): (
        "Withdrawal recorded: this referral is no longer used for evaluation."
    ),
    (ConsentDecision.GIVEN, ConsentPurpose.SHARE_PROGRESS): (
        "Consent recorded: progress updates will be shared with the referrer from now on."
    ),
    (ConsentDecision.GIVEN, ConsentPurpose.EVALUATION): "Consent to evaluation use recorded.",
}


@login_required
def record_consent(request: "AuthenticatedHttpRequest", reference: str) -> HttpResponse:
    referral = referral_or_404(request.user, reference)
    if not has_permission(request.user, Permission.CONSENT_RECORD, referral):
        raise PermissionDenied("You cannot record consent decisions for this referral.")
    choices = open_decisions(referral)
    if not choices:
        messages.info(request, "There is no consent decision to record on this referral.")
        return redirect("referrals:detail", reference=reference)
    form = ConsentDecisionForm(request.POST or None, choices=choices, methods=RECORDABLE_METHODS)
    if request.method == "POST" and form.is_valid():
        decision, purpose = form.cleaned_data["choice"].split(":", 1)
        try:
            consent_record_decision(
                referral=posted_version(request, referral),
                by=request.user,
                purpose=purpose,
                decision=decision,
                method=form.cleaned_data["method"],
                note=form.cleaned_data["note"],
            )
        except WorkflowError as refused:
            messages.error(request, refused.message)
            return redirect("referrals:detail", reference=reference)
        except ValidationError as error:
            apply_service_errors(form, error)
        else:
            messages.success(request, DONE_MESSAGES[(decision, purpose)])
            return redirect("referrals:detail", reference=reference)
    audit_read(
        request, AccessKind.REFERRAL_PAGE, referrals=[referral], patients=[referral.patient_id]
    )
    return render(request, "referrals/consent.html", {"referral": referral, "form": form})
