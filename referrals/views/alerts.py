"""Acknowledging a safety alert: the coordinator or one of the referral's instructors says what
they did, and the alert leaves everyone's open list (`referrals/alerts.py`).

The form sits in the referral page's banner; this page shows it again with its errors, and
works alone without the banner. Another organisation's referral is a 404; someone who may see
the referral but not act on its alerts (its referrer) gets 403.
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

from ..alerts import AlertAlreadyAcknowledged, alert_acknowledge
from ..forms_alerts import AcknowledgeAlertForm
from ..models import Alert
from ..web import apply_service_errors, referral_or_404

if TYPE_CHECKING:
    from uuid import UUID

    from accounts.http import AuthenticatedHttpRequest


@login_required
def acknowledge_alert(
    request: "AuthenticatedHttpRequest", reference: str, alert_id: "UUID"
) -> HttpResponse:
    referral = referral_or_404(request.user, reference)
    try:
        alert = referral.alerts.select_related("raised_by", "session").get(public_id=alert_id)
    except Alert.DoesNotExist as missing:
        raise Http404("No such alert on this referral") from missing
    if not has_permission(request.user, Permission.ALERT_ACKNOWLEDGE, alert):
        raise PermissionDenied("Only the provider's coordinators and instructors acknowledge it.")
    if not alert.is_open:
        messages.info(request, "This alert has already been acknowledged.")
        return redirect("referrals:detail", reference=reference)
    form = AcknowledgeAlertForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            alert_acknowledge(
                alert=alert, by=request.user, action_taken=form.cleaned_data["action_taken"]
            )
        except AlertAlreadyAcknowledged as refused:
            messages.info(request, refused.message)
            return redirect("referrals:detail", reference=reference)
        except ValidationError as error:
            apply_service_errors(form, error)
        else:
            messages.success(request, "Alert acknowledged. It is no longer on the open lists.")
            return redirect("referrals:detail", reference=reference)
    audit_read(
        request, AccessKind.REFERRAL_PAGE, referrals=[referral], patients=[referral.patient_id]
    )
    return render(
        request,
        "referrals/alert_acknowledge.html",
        {"referral": referral, "patient": referral.patient, "alert": alert, "form": form},
        status=400 if request.method == "POST" else 200,
    )
