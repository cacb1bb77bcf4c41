"""The home page: each role's starting point, listing what that user may see."""

from typing import TYPE_CHECKING

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpResponse
from django.shortcuts import render

from accounts.models import Role
from accounts.permissions import Permission, active_memberships, has_permission
from audit.models import AccessKind
from audit.services import audit_read

from ..alerts import open_alerts_panel
from ..selectors import referral_list_for, referral_status_counts, referrals_commissioned_by

if TYPE_CHECKING:
    from accounts.http import AuthenticatedHttpRequest

PAGE_SIZE = 25
# Aggregates show "fewer than 5" rather than a number that could identify someone.
SMALL_NUMBER = 5

HEADINGS = {
    Role.REFERRER: "Your organisation's referrals",
    Role.COORDINATOR: "Referrals to your organisation",
    Role.INSTRUCTOR: "Referrals at your facilities",
    Role.COMMISSIONER: "Referrals to the programmes you commission",
    Role.ORG_ADMIN: "Your organisation",
}


@login_required
def home(request: "AuthenticatedHttpRequest") -> HttpResponse:
    user = request.user
    memberships = active_memberships(user)
    roles = {m.role for m in memberships}
    heading = next((HEADINGS[r] for r in HEADINGS if r in roles), "Referral Portal")
    page = None
    if has_permission(user, Permission.REFERRAL_VIEW):
        referrals = referral_list_for(user).order_by("-updated_at", "-id")
        page = Paginator(referrals, PAGE_SIZE).get_page(request.GET.get("page"))
        shown = list(page.object_list)
        audit_read(
            request, AccessKind.LIST, referrals=shown, patients=[r.patient_id for r in shown]
        )
    status_counts = []
    if Role.COMMISSIONER in roles:
        status_counts = [
            {
                **row,
                "count": row["count"] if not 0 < row["count"] < SMALL_NUMBER else "fewer than 5",
            }
            for row in referral_status_counts(referrals_commissioned_by(user))
        ]
    return render(
        request,
        "home.html",
        {
            "heading": heading,
            "memberships": memberships,
            "referrals": page,
            "page_obj": page,
            "status_counts": status_counts,
            "alert_panel": open_alerts_panel(user),
        },
    )
