"""The patient's leisure membership number on a referral: shown to the provider's side of the
referral page, and changed there by the operator's coordinators (`referral_set_membership_number`),
with this page for the form when it needs its errors shown."""

from typing import TYPE_CHECKING, Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpResponse
from django.shortcuts import redirect, render

from accounts.permissions import Permission, has_permission
from audit.models import AccessKind
from audit.services import audit_read
from referrals.models import FINAL_STATES, Referral, Status
from referrals.sections import Viewer
from referrals.services import referral_set_membership_number
from referrals.web import apply_service_errors, posted_version, referral_or_404
from referrals.workflow import WorkflowError

from ..forms import MembershipNumberForm

if TYPE_CHECKING:
    from accounts.http import AuthenticatedHttpRequest
    from accounts.models import User


def can_set_membership_number(user: "User", referral: Referral) -> bool:
    """The operator's coordinators, while the referral is open (the service's own rule)."""
    return (
        referral.status != Status.DRAFT
        and referral.status not in FINAL_STATES
        and has_permission(user, Permission.REFERRAL_TRIAGE, referral)
    )


def membership_number_section(viewer: Viewer, referral: Referral) -> dict[str, Any]:
    """On the referral page: the number for the provider's side (the referrer has no use for
    the operator's identifier), and the small form to change it for its coordinators."""
    can_set = can_set_membership_number(viewer.user, referral)
    return {
        "shows_membership_number": not viewer.is_referrer and referral.status != Status.DRAFT,
        "membership_form": MembershipNumberForm(referral=referral) if can_set else None,
    }


@login_required
def membership_number(request: "AuthenticatedHttpRequest", reference: str) -> HttpResponse:
    referral = referral_or_404(request.user, reference)
    if not has_permission(request.user, Permission.REFERRAL_TRIAGE, referral):
        raise PermissionDenied("Only the provider's coordinators change the membership number.")
    if not can_set_membership_number(request.user, referral):
        messages.info(request, f"This referral is {referral.get_status_display().lower()} now.")
        return redirect("referrals:detail", reference=reference)
    posted = request.method == "POST"
    form = MembershipNumberForm(request.POST if posted else None, referral=referral)
    if posted and form.is_valid():
        try:
            referral_set_membership_number(
                referral=posted_version(request, referral),
                by=request.user,
                number=form.cleaned_data["membership_number"],
            )
        except WorkflowError as refused:  # changed meanwhile, or no longer open
            messages.error(request, refused.message)
            return redirect("referrals:detail", reference=reference)
        except ValidationError as error:
            apply_service_errors(form, error)
        else:
            messages.success(request, "Membership number saved.")
            return redirect("referrals:detail", reference=reference)
    audit_read(
        request, AccessKind.REFERRAL_PAGE, referrals=[referral], patients=[referral.patient_id]
    )
    return render(request, "triage/membership_number.html", {"referral": referral, "form": form})
