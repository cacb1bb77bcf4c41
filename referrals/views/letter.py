"""The printable letter for the patient about their first (or next) session: where the centre is,
when to come, what to bring and how to change it.

For whoever may see the referral and act on it with the patient: the operator's coordinators, the
instructors at its facility and the referrer (the user-scoped selector: anyone else gets a 404).
A booking is progress, so the referrer has it only while the patient's consent to share progress
stands, as on the referral page. Printed by the browser with a print stylesheet; audited as a
printout.
"""

from typing import TYPE_CHECKING

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils import formats, timezone

from accounts.permissions import Permission, has_permission
from audit.models import AccessKind
from audit.services import audit_read

from ..booking import LETTER_STATES, next_booked_session
from ..consent import can_see_progress
from ..models import Status
from ..web import referral_or_404

if TYPE_CHECKING:
    from accounts.http import AuthenticatedHttpRequest

# What every exercise session asks of the patient; the centre adds its own on the day.
WHAT_TO_BRING = [
    "comfortable clothes you can move in, and trainers or flat shoes with a good grip",
    "a bottle of water",
    "a list of the medicines you take",
    "any inhaler or angina spray (GTN) you use, and glucose tablets or a snack if you have "
    "diabetes",
    "glasses or hearing aids if you use them",
    "this letter",
]


@login_required
def patient_letter(request: "AuthenticatedHttpRequest", reference: str) -> HttpResponse:
    referral = referral_or_404(request.user, reference)
    if not has_permission(request.user, Permission.REFERRAL_VIEW, referral):
        raise PermissionDenied("You cannot print letters for this referral.")
    session = (
        next_booked_session(referral)
        if referral.status in LETTER_STATES and can_see_progress(request.user, referral)
        else None
    )
    if session is None:
        messages.info(request, "There is no session booked to write to the patient about.")
        return redirect("referrals:detail", reference=reference)
    audit_read(request, AccessKind.PRINTOUT, referrals=[referral])
    patient = referral.patient
    at = timezone.localtime(session.at)
    context = {
        "referral": referral,
        "patient": patient,
        "session": session,
        "first": referral.status == Status.BOOKED,
        "day": formats.date_format(at, "l j F Y"),
        "time": formats.date_format(at, "H:i"),
        "centre": session.centre,
        "operator": referral.operator,
        "what_to_bring": WHAT_TO_BRING,
        "today": timezone.localdate(),
    }
    return render(request, "referrals/letter.html", context)
