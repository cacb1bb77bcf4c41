"""The printable discharge summary of a completed or discharged referral: a letter from the
centre to the referrer, to print or save as PDF from the browser (the print stylesheet drops the
site's header, footer and buttons).

Whoever may see the referral may see its summary (the same user-scoped selector as the referral
page); other referrals, and referrals that have not ended, are a 404. The referrer sees
attendance, outcomes, safety events and recommendations only while the patient's consent to share
progress stands.
"""

import datetime
from typing import TYPE_CHECKING

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse
from django.shortcuts import render
from django.utils import formats, timezone

from audit.models import AccessKind
from audit.services import audit_read

from ..consent import can_see_progress
from ..discharge import discharge_summary_for
from ..models import Status
from ..web import referral_or_404

if TYPE_CHECKING:
    from accounts.http import AuthenticatedHttpRequest

ENDED = frozenset({Status.COMPLETED, Status.DISCHARGED})


def _date(value: datetime.date | None) -> str:
    if value is None:
        return "Not recorded"
    return formats.date_format(
        timezone.localtime(value) if isinstance(value, datetime.datetime) else value, "j F Y"
    )


@login_required
def discharge_summary(request: "AuthenticatedHttpRequest", reference: str) -> HttpResponse:
    referral = referral_or_404(request.user, reference)
    if referral.status not in ENDED:
        raise Http404("This referral has not ended")
    summary = discharge_summary_for(referral)
    audit_read(request, AccessKind.PRINTOUT, referrals=[referral])
    # Progress (attendance, outcomes) reaches the referrer only while consent to share stands.
    shows_progress = can_see_progress(request.user, referral)
    patient = referral.patient
    facility = referral.facility
    context = {
        "referral": referral,
        "summary": summary,
        "facility": facility,
        "operator": referral.operator,
        "ended_on": _date(summary.ended_at),
        "patient_rows": [
            ("Name", patient.full_name),
            ("NHS number", patient.nhs_number_display),
            ("Date of birth", _date(patient.date_of_birth)),
        ],
        "referral_rows": [
            ("Reference", referral.reference),
            ("Referred by", f"{referral.clinician_name}, {referral.referring_organisation.name}"),
            ("Referred on", _date(referral.referred_on)),
            ("Programme", referral.programme.name if referral.programme else "Not recorded"),
            ("Leisure centre", facility.name if facility else "Not assigned"),
        ],
        "ending_rows": [
            ("Status", summary.status_label),
            ("Ended on", _date(summary.ended_at)),
            ("Reason", summary.reason_label),
        ],
        "shows_progress": shows_progress,
        "attendance_rows": summary.attendance.rows,
        "outcomes": [
            {
                "name": outcome.name,
                "baseline": f"{outcome.baseline_text} ({outcome.baseline_timepoint}, "
                f"{_date(outcome.baseline_on)})",
                "latest": (
                    f"{outcome.latest_text} ({outcome.latest_timepoint}, "
                    f"{_date(outcome.latest_on)})"
                    if outcome.latest is not None
                    else "Not measured again"
                ),
                "change": outcome.change_text,
                "verdict": outcome.verdict,
                "direction": outcome.direction_text,
            }
            for outcome in summary.outcomes
        ],
    }
    return render(request, "referrals/discharge_summary.html", context)
