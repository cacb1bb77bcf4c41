"""The coordinator's attendance import, under /triage/imports/: upload a file, map its columns
(saved per source), preview its first rows, start it and watch its progress (htmx polls a cheap
partial), download the rejected rows, and resolve the rows nobody matched.

Every page is for `Permission.ATTENDANCE_IMPORT` (403 for anyone else) and fetches imports and
rows among the coordinator's own operators (another operator's is a 404).
"""

import csv
import io
from typing import TYPE_CHECKING, Any
from uuid import UUID

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import Q, QuerySet
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.http import urlencode
from django.views.decorators.http import require_GET

from accounts.permissions import Permission, organisations_granting
from audit.models import AccessKind
from audit.services import audit_read
from referrals.models import FINAL_STATES, Referral

from ..forms_import import MappingForm, ResolveForm, UploadForm
from ..imports.mappings import column_mapping, import_mapping_save
from ..imports.matching import referrals_for_matching
from ..imports.reading import FIELD_LABELS, ReadError
from ..imports.unmatched import unmatched_queue
from ..imports.unmatched import unmatched_resolve as resolve_unmatched_row
from ..imports.uploads import (
    Preview,
    import_column_words,
    import_headers,
    import_preview,
    import_set_mapping,
    import_start,
    import_upload,
)
from ..models import AttendanceImport, ImportMapping, ImportRowKind, ImportRowProblem, ImportStatus

if TYPE_CHECKING:
    from accounts.http import AuthenticatedHttpRequest
    from accounts.models import Organisation

QUEUE_PAGE_SIZE = 50
RECENT_IMPORTS = 20
CANDIDATES_SHOWN = 20
# The counters shown on the progress page, in the order a row is decided.
COUNTERS = (
    ("recorded", "Visits recorded"),
    ("sessions_marked", "Booked sessions marked"),
    ("duplicates", "Already imported (no change)"),
    ("unmatched", "No matching referral"),
    ("rejected", "Rejected"),
    ("skipped", "Skipped (blank rows and repeated headers)"),
)


def _operators(request: "AuthenticatedHttpRequest") -> list["Organisation"]:
    operators = organisations_granting(request.user, Permission.ATTENDANCE_IMPORT)
    if not operators:
        raise PermissionDenied("Only the operator's coordinators import attendance.")
    return operators


def _import_or_404(request: "AuthenticatedHttpRequest", import_id: UUID) -> AttendanceImport:
    operators = _operators(request)
    return get_object_or_404(
        AttendanceImport.objects.defer("data").select_related("mapping", "operator"),
        public_id=import_id,
        operator__in=operators,
    )


def _apply(form: Any, error: ValidationError) -> None:
    """A service's refusal, shown on the form: beside a field the form has, else at the top."""
    if hasattr(error, "error_dict"):
        for name, messages_ in error.message_dict.items():
            target = name if name in form.fields else None
            for message in messages_:
                form.add_error(target, message)
    else:
        for message in error.messages:
            form.add_error(None, message)


@login_required
def imports(request: "AuthenticatedHttpRequest") -> HttpResponse:
    """Upload a file (with a saved mapping or for a new source), and the recent imports."""
    operators = _operators(request)
    mappings = list(ImportMapping.objects.filter(operator__in=operators).order_by("name", "pk"))
    posted = request.method == "POST"
    form = UploadForm(
        request.POST if posted else None,
        request.FILES if posted else None,
        mappings=mappings,
        operators=operators,
    )
    if posted and form.is_valid():
        operator = form.cleaned_data["operator"]
        upload = form.cleaned_data["file"]
        saved = form.cleaned_data["saved_mapping"]
        try:
            draft = import_upload(
                operator=operator,
                filename=upload.name or "upload",
                data=upload.read(),
                by=request.user,
                mapping=saved,
            )
        except ValidationError as error:
            _apply(form, error)
        else:
            if saved is not None and not column_mapping(saved).validate(import_headers(draft)):
                return redirect("triage:import", import_id=draft.public_id)
            url = reverse("triage:import_mapping", args=[draft.public_id])
            if saved is None:
                return redirect(f"{url}?{urlencode({'name': form.cleaned_data['name']})}")
            messages.info(request, "The file's columns are not the ones saved: choose them again.")
            return redirect(url)
    recent = list(
        AttendanceImport.objects.filter(operator__in=operators)
        .defer("data")
        .select_related("mapping")[:RECENT_IMPORTS]
    )
    unmatched = sum(unmatched_queue(operator).count() for operator in operators)
    return render(
        request,
        "triage/imports.html",
        {"form": form, "recent": recent, "unmatched_count": unmatched},
    )


@login_required
def import_mapping(request: "AuthenticatedHttpRequest", import_id: UUID) -> HttpResponse:
    """Which column feeds which field, saved under the source's name, for a draft import."""
    draft = _import_or_404(request, import_id)
    if draft.status != ImportStatus.DRAFT:
        return redirect("triage:import", import_id=import_id)
    try:
        headers = import_headers(draft)
    except ReadError:  # emptied under the retention policy
        messages.error(request, "This file is no longer kept: upload it again.")
        return redirect("triage:imports")
    saved = column_mapping(draft.mapping) if draft.mapping else None
    initial = MappingForm.initial_for(saved, headers)
    posted = request.method == "POST"
    status_column = (request.POST.get("status") or "") if posted else (initial.get("status") or "")
    if status_column not in headers:
        status_column = ""
    words = import_column_words(draft, status_column) if status_column else []
    saved_values = {k.casefold(): v for k, v in (saved.status_values if saved else {}).items()}
    for index, word in enumerate(words):
        initial[f"status_word_{index}"] = saved_values.get(word.casefold(), "")
    initial["name"] = draft.mapping.name if draft.mapping else request.GET.get("name", "")
    data = None
    if posted:
        data = request.POST.copy()
        if data.get("status_words_for", "") != status_column:
            # The status column changed: its words are asked afresh, not the old column's answers.
            for key in [k for k in data if k.startswith("status_word_")]:
                del data[key]
    form = MappingForm(
        data,
        initial=initial,
        headers=headers,
        status_words=words,
        status_column=status_column,
    )
    if posted and form.is_valid():
        try:
            mapping = import_mapping_save(
                operator=draft.operator,
                name=form.cleaned_data["name"],
                mapping=form.cleaned_data["column_mapping"],
                by=request.user,
            )
            import_set_mapping(attendance_import=draft, mapping=mapping, by=request.user)
        except ValidationError as error:
            _apply(form, error)
        else:
            messages.success(request, f"Columns saved for {mapping.name}.")
            return redirect("triage:import", import_id=import_id)
    return render(
        request,
        "triage/import_mapping.html",
        {"import": draft, "form": form, "headers": headers},
    )


def _preview_rows(preview: Preview) -> list[dict[str, Any]]:
    rows = []
    for row in preview.rows:
        clean = row.clean
        who = ""
        if clean is not None:
            who = ", ".join(
                part
                for part in (
                    clean.membership_number and f"Member {clean.membership_number}",
                    clean.referral_reference,
                    clean.nhs_number and f"NHS {clean.nhs_number}",
                )
                if part
            )
        rows.append({"number": row.number, "clean": clean, "who": who, "problems": row.problems})
    return rows


@login_required
def import_detail(request: "AuthenticatedHttpRequest", import_id: UUID) -> HttpResponse:
    """A draft's preview and its start button; once started, its progress and summary."""
    attendance_import = _import_or_404(request, import_id)
    if attendance_import.status != ImportStatus.DRAFT:
        return render(
            request,
            "triage/import_progress.html",
            _progress_context(attendance_import),
        )
    if attendance_import.mapping is None:
        return redirect("triage:import_mapping", import_id=import_id)
    error = None
    if request.method == "POST":
        try:
            import_start(attendance_import=attendance_import, by=request.user)
        except ValidationError as refused:
            error = " ".join(refused.messages)
        else:
            return redirect("triage:import", import_id=import_id)
    preview = import_preview(attendance_import)
    audit_read(
        request,
        AccessKind.LIST,
        description=f"Preview of attendance file {attendance_import.filename}",
    )
    return render(
        request,
        "triage/import_preview.html",
        {
            "import": attendance_import,
            "rows": _preview_rows(preview),
            "mapped": column_mapping(attendance_import.mapping).columns(),
            "labels": FIELD_LABELS,
            "error": error,
        },
    )


def _progress_context(attendance_import: AttendanceImport) -> dict[str, Any]:
    total = attendance_import.total_rows
    done = attendance_import.status in (ImportStatus.DONE, ImportStatus.FAILED)
    percent = 100 if done else (100 * attendance_import.rows_read // total if total else 0)
    return {
        "import": attendance_import,
        "finished": done,
        "percent": percent,
        "counters": [(label, getattr(attendance_import, name)) for name, label in COUNTERS],
    }


@require_GET
@login_required
def import_progress(request: "AuthenticatedHttpRequest", import_id: UUID) -> HttpResponse:
    """The progress partial htmx polls: one indexed read of the counters, no file, no rows."""
    operators = _operators(request)
    attendance_import = get_object_or_404(
        AttendanceImport.objects.only(
            "public_id",
            "operator_id",
            "filename",
            "status",
            "failure",
            "total_rows",
            "rows_read",
            *(name for name, _ in COUNTERS),
        ),
        public_id=import_id,
        operator__in=operators,
    )
    return render(
        request, "triage/partials/import_progress.html", _progress_context(attendance_import)
    )


@require_GET
@login_required
def import_rejected(request: "AuthenticatedHttpRequest", import_id: UUID) -> HttpResponse:
    """The rejected rows as CSV: the row's number, the reasons, then the file's own columns."""
    attendance_import = _import_or_404(request, import_id)
    rows = list(
        ImportRowProblem.objects.filter(
            attendance_import=attendance_import, kind=ImportRowKind.REJECTED
        ).only("row_number", "reasons", "values")
    )
    columns: list[str] = []
    for row in rows:
        for name in row.values:
            if name not in columns:
                columns.append(name)
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["Row", "Reasons", *columns])
    for row in rows:
        reasons = "; ".join(reason for found in row.reasons.values() for reason in found)
        writer.writerow(
            [row.row_number, reasons, *(_safe_cell(row.values.get(c)) for c in columns)]
        )
    audit_read(
        request,
        AccessKind.EXPORT,
        description=f"Rejected rows of attendance file {attendance_import.filename}",
    )
    response = HttpResponse(out.getvalue(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = (
        f'attachment; filename="rejected-rows-{attendance_import.public_id}.csv"'
    )
    return response


def _safe_cell(value: Any) -> str:
    """A cell as text, never a formula when the report is opened in a spreadsheet."""
    text = "" if value is None else str(value)
    if text[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + text
    return text


@login_required
def unmatched(request: "AuthenticatedHttpRequest") -> HttpResponse:
    """The operator's unmatched rows, oldest visit first, each to be resolved."""
    operators = _operators(request)
    rows = (
        ImportRowProblem.objects.filter(
            operator__in=operators, kind=ImportRowKind.UNMATCHED, resolved_at__isnull=True
        )
        .select_related("attendance_import")
        .only(
            "public_id",
            "row_number",
            "membership_number",
            "referral_reference",
            "nhs_number",
            "date_of_birth",
            "occurred_at",
            "time_known",
            "activity",
            "attendance_import__filename",
            "attendance_import__public_id",
        )
        .order_by("occurred_at", "pk")
    )
    page = Paginator(rows, QUEUE_PAGE_SIZE).get_page(request.GET.get("page"))
    shown = list(page.object_list)
    audit_read(request, AccessKind.LIST, description="Unmatched attendance rows")
    return render(request, "triage/unmatched.html", {"page_obj": page, "rows": shown})


def _candidates(operator: "Organisation", search: str) -> QuerySet[Referral]:
    found = (
        referrals_for_matching(operator)
        .exclude(status__in=FINAL_STATES)
        .only(
            "pk",
            "reference",
            "status",
            "operator_id",
            "membership_number",
            "status_changed_at",
            "submitted_at",
            "patient__given_name",
            "patient__family_name",
            "patient__nhs_number",
            "patient__date_of_birth",
        )
    )
    for word in search.split()[:4]:
        found = found.filter(
            Q(reference__iexact=word)
            | Q(membership_number__iexact=word)
            | Q(patient__nhs_number=word.replace("-", ""))
            | Q(patient__given_name__icontains=word)
            | Q(patient__family_name__icontains=word)
        )
    return found


@login_required
def unmatched_resolve(request: "AuthenticatedHttpRequest", row_id: UUID) -> HttpResponse:
    """Choose the referral an unmatched row's visit belongs to, among the operator's open ones."""
    operators = _operators(request)
    row = get_object_or_404(
        ImportRowProblem.objects.select_related("operator", "attendance_import"),
        public_id=row_id,
        operator__in=operators,
        kind=ImportRowKind.UNMATCHED,
    )
    if row.resolved_at is not None:
        messages.info(request, "This row has been resolved already.")
        return redirect("triage:unmatched")
    posted = request.method == "POST"
    typed = (request.POST if posted else request.GET).get("q", "")[:100]
    search = "".join(ch for ch in typed if ch.isprintable()).strip()  # no NUL for Postgres
    if not search:
        search = row.membership_number or row.referral_reference or row.nhs_number
    candidates = list(_candidates(row.operator, search)[:CANDIDATES_SHOWN])
    choices = [
        (
            c.reference,
            f"{c.reference}: {c.patient.full_name}, born {c.patient.date_of_birth:%d/%m/%Y}",
        )
        for c in candidates
    ]
    form = ResolveForm(request.POST if posted else None, choices=choices)
    if posted and form.is_valid():
        chosen = next(c for c in candidates if c.reference == form.cleaned_data["referral"])
        try:
            resolve_unmatched_row(row=row, referral=chosen, by=request.user)
        except ValidationError as error:
            _apply(form, error)
        else:
            messages.success(request, f"Visit recorded on referral {chosen.reference}.")
            return redirect("triage:unmatched")
    audit_read(
        request,
        AccessKind.LIST,
        referrals=candidates,
        patients=[c.patient_id for c in candidates],
        description="Resolving an unmatched attendance row",
    )
    return render(
        request,
        "triage/unmatched_resolve.html",
        {"row": row, "form": form, "search": search, "candidates": candidates},
    )
