"""Audit search and export, for organisation admins (their own staff) and platform staff (all).

The filters are staff, references, dates and kinds, never patient data, so they sit in the query
string. A referral reference is matched without saying whether it exists, so the page cannot be
used to probe other organisations' referrals.
"""

import csv
from typing import TYPE_CHECKING

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import HttpResponse
from django.shortcuts import render
from django.utils import timezone

from accounts.permissions import Permission, has_permission
from audit import selectors
from audit.models import AccessKind
from audit.services import audit_read
from referrals.models import Referral
from referrals.web import neutralise

from ..forms_audit import AuditSearchForm

if TYPE_CHECKING:
    from collections.abc import Iterable

    from django.db.models import QuerySet

    from accounts.http import AuthenticatedHttpRequest
    from accounts.models import User
    from audit.models import AccessRecord

PAGE_SIZE = 50
EXPORT_LIMIT = 10_000


def _require_auditor(user: "User") -> None:
    if not (user.is_staff or has_permission(user, Permission.AUDIT_VIEW)):
        raise PermissionDenied("Only organisation admins and platform staff search the audit.")


def _search(
    request: "AuthenticatedHttpRequest",
) -> "tuple[AuditSearchForm, QuerySet[AccessRecord] | None]":
    _require_auditor(request.user)
    form = AuditSearchForm(request.GET or None)
    if form.is_bound and not form.is_valid():
        return form, None
    criteria = form.cleaned_data if form.is_bound else {}
    referral = None
    if criteria.get("reference"):
        referral = Referral.objects.filter(reference=criteria["reference"]).first()
        if referral is None:
            return form, selectors.access_records_visible_to(request.user).none()
    records = selectors.access_records_search(
        request.user,
        person=criteria.get("person", ""),
        referral=referral,
        date_from=criteria.get("date_from"),
        date_to=criteria.get("date_to"),
        kind=criteria.get("kind", ""),
    )
    return form, records


def _references(records: "Iterable[AccessRecord]") -> dict[int, str]:
    ids = {i for record in records for i in record.referral_ids}
    return dict(Referral.objects.filter(id__in=ids).values_list("id", "reference"))


@login_required
def search(request: "AuthenticatedHttpRequest") -> HttpResponse:
    form, records = _search(request)
    page = rows = None
    if records is not None:
        page = Paginator(records, PAGE_SIZE).get_page(request.GET.get("page"))
        shown = list(page.object_list)
        references = _references(shown)
        rows = [(r, [references.get(i, "") for i in r.referral_ids]) for r in shown]
    querystring = request.GET.copy()
    querystring.pop("page", None)
    return render(
        request,
        "audit/search.html",
        {
            "form": form,
            "page_obj": page,
            "rows": rows,
            "querystring": querystring.urlencode(),
        },
        status=400 if records is None else 200,
    )


@login_required
def export_csv(request: "AuthenticatedHttpRequest") -> HttpResponse:
    form, records = _search(request)
    if records is None:
        return render(request, "audit/search.html", {"form": form}, status=400)
    shown = list(records[:EXPORT_LIMIT])
    references = _references(shown)
    audit_read(request, AccessKind.EXPORT, description=f"Audit export of {len(shown)} records")
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="audit.csv"'
    writer = csv.writer(response)
    writer.writerow(
        [
            "When",
            "Person",
            "Email",
            "Organisation",
            "Role",
            "Kind",
            "Page",
            "Request id",
            "Referrals",
        ]
    )
    for r in shown:
        row = [
            timezone.localtime(r.at).isoformat(timespec="seconds"),
            r.user.get_full_name() if r.user else "System",
            r.user.email if r.user else "",
            r.organisation_name,
            r.role_label,
            r.get_kind_display(),
            r.url_name or r.path,
            r.request_id,
            " ".join(references.get(i, "") for i in r.referral_ids),
        ]
        writer.writerow([neutralise(cell) for cell in row])
    return response
