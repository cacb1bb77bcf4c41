"""The home page: each role's starting point.

Referrers get a starting point, not a second list: "Make a referral", the search, and how many
referrals wait on them, all leading to their one list, the dashboard (`/referrals/`). The leisure
provider's staff get the referrals they work on. Commissioners get counts by status, and
organisation admins counts and the links to `/manage/`: neither ever sees a patient's row.
"""

from typing import TYPE_CHECKING, Any

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpResponse
from django.shortcuts import render

from accounts.models import OrganisationKind, Role
from accounts.permissions import OPERATOR_ROLES, Permission, active_memberships, has_permission
from accounts.selectors import organisations_managed_by
from audit.models import AccessKind
from audit.services import audit_read
from facilities.selectors import organisation_summaries

from ..alerts import open_alerts_panel
from ..forms import SearchForm
from ..selectors import (
    NEEDS_ACTION,
    organisation_referral_counts,
    referral_list_for,
    referral_status_counts,
    referrals_commissioned_by,
    referrer_home_counts,
    unread_updates_for,
)

if TYPE_CHECKING:
    from accounts.http import AuthenticatedHttpRequest
    from accounts.models import User

PAGE_SIZE = 25
# Aggregates show "fewer than 5" rather than a number that could identify someone.
SMALL_NUMBER = 5

HEADINGS = {
    Role.REFERRER: "Your referrals",
    Role.COORDINATOR: "Referrals to your organisation",
    Role.INSTRUCTOR: "Referrals at your facilities",
    Role.COMMISSIONER: "Referrals to the programmes you commission",
    Role.ORG_ADMIN: "Your organisation",
}


def _referrer_summary(user: "User") -> dict[str, Any]:
    counts = referrer_home_counts(user)
    return {
        **counts,
        "needs_action": counts["drafts"] + counts["questions"],
        "unread": unread_updates_for(user).count(),
        "needs_action_status": NEEDS_ACTION,
        "search_form": SearchForm(),
    }


def _admin_organisations(user: "User") -> list[dict[str, Any]]:
    organisations = organisation_summaries(organisations_managed_by(user))
    counts = organisation_referral_counts(organisations)
    return [
        {
            "organisation": organisation,
            "is_operator": organisation.kind == OrganisationKind.LEISURE_OPERATOR,
            **counts[organisation.id],
        }
        for organisation in organisations
    ]


@login_required
def home(request: "AuthenticatedHttpRequest") -> HttpResponse:
    user = request.user
    memberships = active_memberships(user)
    roles = {m.role for m in memberships}
    heading = next((HEADINGS[r] for r in HEADINGS if r in roles), "Referral Portal")
    page = None
    # The provider's staff work from this list; a referrer's list is the dashboard.
    if roles & OPERATOR_ROLES and has_permission(user, Permission.REFERRAL_VIEW):
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
            "referrer": _referrer_summary(user) if Role.REFERRER in roles else None,
            "admin_organisations": _admin_organisations(user) if Role.ORG_ADMIN in roles else [],
        },
    )
