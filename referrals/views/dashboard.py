"""The referrer's dashboard: their organisation's referrals, filtered and searched."""

from dataclasses import dataclass
from typing import TYPE_CHECKING

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpResponse
from django.views.decorators.http import require_POST

from accounts.models import Organisation
from accounts.permissions import Permission, organisations_granting
from audit.models import AccessKind
from audit.services import audit_read

from .. import selectors
from ..forms import (
    DashboardFilterForm,
)
from ..listing import (
    forget_search,
    page_of_rows,
    querystring_without_page,
    remember_search,
    render_list,
    search_form_for,
)
from ..models import Referral

if TYPE_CHECKING:
    from accounts.http import AuthenticatedHttpRequest
    from accounts.models import User

PAGE_SIZE = 25
SEARCH_SESSION_KEY = "referral_dashboard_search"


def _require_referrer(user: "User") -> list[Organisation]:
    """The organisations the user refers for; a 403 for anyone who may not make referrals."""
    organisations = organisations_granting(user, Permission.REFERRAL_CREATE)
    if not organisations:
        raise PermissionDenied("Only referrers can make and follow referrals here.")
    return organisations


# --- Dashboard ---------------------------------------------------------------------------------


@login_required
def dashboard(request: "AuthenticatedHttpRequest") -> HttpResponse:
    _require_referrer(request.user)
    if request.method == "POST":
        return remember_search(request, SEARCH_SESSION_KEY, "referrals:dashboard")

    filters = DashboardFilterForm(request.GET or None, initial={"clinician": "mine"})
    criteria = filters.cleaned_data if filters.is_bound and filters.is_valid() else {}
    search = request.session.get(SEARCH_SESSION_KEY, "")
    referrals = selectors.referrer_dashboard(
        request.user,
        status=criteria.get("status", ""),
        clinician=criteria.get("clinician") or "mine",
        referred_from=criteria.get("referred_from"),
        referred_to=criteria.get("referred_to"),
        search=search,
    )
    page = page_of_rows(referrals, request.GET.get("page"), PAGE_SIZE)
    rows = page.rows
    ids = [r.id for r in rows]
    overdue = set(
        selectors.referrals_overdue_for_triage(Referral.objects.filter(id__in=ids)).values_list(
            "id", flat=True
        )
    )
    unread = selectors.referral_ids_with_unread_updates(request.user, ids)
    audit_read(request, AccessKind.LIST, referrals=rows, patients=[r.patient_id for r in rows])
    context = {
        "filters": filters,
        "search_form": search_form_for(search),
        "search": search,
        "page_obj": page,
        "rows": [
            DashboardRow(referral=r, overdue=r.id in overdue, unread=r.id in unread) for r in rows
        ],
        "unread_count": selectors.unread_updates_for(request.user).count(),
        "querystring": querystring_without_page(request),
    }
    return render_list(
        request,
        "referrals/dashboard.html",
        "referrals/partials/dashboard_results.html",
        context,
    )


@dataclass(frozen=True)
class DashboardRow:
    referral: Referral
    overdue: bool
    unread: bool


@login_required
@require_POST
def clear_search(request: "AuthenticatedHttpRequest") -> HttpResponse:
    return forget_search(request, SEARCH_SESSION_KEY, "referrals:dashboard")
