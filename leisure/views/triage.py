"""The leisure coordinator's pages: the triage worklist and the workflow actions on a referral.

Each action page fetches the referral through the user-scoped selector (another operator's
referral is a 404), checks the action's permission (403), and calls its one service.
"""

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, cast

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone

from accounts.models import User
from accounts.permissions import Permission, has_permission
from audit.models import AccessKind
from audit.services import audit_read
from facilities.models import ProgrammeClass
from referrals.alerts import open_alerts_panel
from referrals.clinical_record import visible_clinical_record
from referrals.listing import (
    forget_search,
    page_of_rows,
    page_without_count,
    querystring_without_page,
    remember_search,
    render_list,
    search_form_for,
)
from referrals.models import Referral, Status
from referrals.places import (
    class_participants,
    free_places_by_class,
    places_free,
    waitlist_position,
)
from referrals.sections import Viewer
from referrals.services import ACTION_SERVICES
from referrals.web import posted_version, referral_or_404, run_workflow_action
from referrals.workflow import ACTIONS, actions_available_from
from referrals.working_days import working_days_between

from .. import selectors
from ..contact import contact_log
from ..forms import (
    AcceptForm,
    BookForm,
    CompleteForm,
    DeclineForm,
    DischargeForm,
    NoteForm,
    RequestInformationForm,
    TriageFilterForm,
)

if TYPE_CHECKING:
    import datetime
    from uuid import UUID

    from django.http import QueryDict

    from accounts.http import AuthenticatedHttpRequest
    from facilities.models import Programme

PAGE_SIZE = 50
CLASSES_PAGE_SIZE = 50
SEARCH_SESSION_KEY = "triage_worklist_search"


@dataclass(frozen=True)
class WorklistRow:
    referral: Referral
    days_waiting: int
    overdue: bool
    place_free: bool


def _worklist_rows(referrals: list[Referral], today: "datetime.date") -> list[WorklistRow]:
    free = free_places_by_class({r.programme_class_id for r in referrals if r.programme_class_id})
    rows = []
    for referral in referrals:
        submitted_on = timezone.localdate(referral.submitted_at)
        waited = working_days_between(submitted_on, today)
        rows.append(
            WorklistRow(
                referral=referral,
                days_waiting=waited,
                # cast: a submitted referral has its programme (required on submission).
                overdue=referral.status == Status.SUBMITTED
                and waited > cast("Programme", referral.programme).triage_sla_days,
                place_free=referral.status == Status.WAITLISTED
                and referral.programme_class_id is not None
                and free.get(referral.programme_class_id, 0) > 0,
            )
        )
    return rows


@login_required
def worklist(request: "AuthenticatedHttpRequest") -> HttpResponse:
    if not has_permission(request.user, Permission.REFERRAL_TRIAGE):
        raise PermissionDenied("Only leisure coordinators triage referrals.")
    operator_ids = selectors.operators_coordinated_by(request.user)
    if request.method == "POST":
        return remember_search(request, SEARCH_SESSION_KEY, "triage:worklist")
    filters = TriageFilterForm(request.GET or None, operator_ids=operator_ids)
    criteria = filters.cleaned_data if filters.is_bound and filters.is_valid() else {}
    search = request.session.get(SEARCH_SESSION_KEY, "")
    today = timezone.localdate()
    referrals = selectors.triage_worklist(
        request.user,
        facility=criteria.get("facility"),
        programme=criteria.get("programme"),
        status=criteria.get("status", ""),
        overdue=criteria.get("overdue", False),
        search=search,
        today=today,
    )
    page = page_of_rows(referrals, request.GET.get("page"), PAGE_SIZE)
    shown = page.rows
    audit_read(request, AccessKind.LIST, referrals=shown)
    context = {
        "filters": filters,
        "search_form": search_form_for(search),
        "search": search,
        "page_obj": page,
        "rows": _worklist_rows(shown, today),
        "querystring": querystring_without_page(request),
        "alert_panel": open_alerts_panel(request.user),
        "can_import": has_permission(request.user, Permission.ATTENDANCE_IMPORT),
    }
    return render_list(
        request, "triage/worklist.html", "triage/partials/worklist_results.html", context
    )


@login_required
def clear_search(request: "AuthenticatedHttpRequest") -> HttpResponse:
    return forget_search(request, SEARCH_SESSION_KEY, "triage:worklist")


# --- Actions -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class ActionPage:
    title: str
    form_class: type[forms.Form]
    button: str
    success: str
    # The form fields the action's service takes (ACTION_SERVICES), besides referral and by.
    fields: tuple[str, ...] = ("note",)
    warning: bool = False


ACTION_PAGES = {
    "accept": ActionPage(
        "Accept the referral",
        AcceptForm,
        "Accept",
        "Referral accepted.",
        fields=("facility", "programme_class", "instructor", "membership_number", "note"),
    ),
    "decline": ActionPage(
        "Decline the referral",
        DeclineForm,
        "Decline",
        "Referral declined.",
        fields=("reason", "note"),
        warning=True,
    ),
    "request_info": ActionPage(
        "Ask the referrer for information",
        RequestInformationForm,
        "Send question",
        "Question sent to the referrer.",
        fields=("question",),
    ),
    "waitlist": ActionPage(
        "Add to the waiting list", NoteForm, "Add to waiting list", "Added to the waiting list."
    ),
    "book": ActionPage(
        "Book sessions",
        BookForm,
        "Book",
        "Sessions booked.",
        fields=("first_session_at", "membership_number", "note"),
    ),
    "complete": ActionPage(
        "Complete the programme",
        CompleteForm,
        "Complete",
        "Programme completed.",
        fields=("note", "recommendations"),
    ),
    "discharge": ActionPage(
        "Discharge the patient",
        DischargeForm,
        "Discharge",
        "Patient discharged.",
        fields=("reason", "note", "recommendations"),
        warning=True,
    ),
}


def triage_actions_section(viewer: Viewer, referral: Referral) -> dict[str, Any]:
    """On the referral page: the provider's actions, and a way back to the worklist."""
    return {
        "triage_actions": triage_actions_for(viewer.user, referral),
        "back_to_triage": not viewer.is_referrer,
    }


def triage_actions_for(user: User, referral: Referral) -> list[dict[str, str]]:
    """The operator-side actions this user may take on the referral now, as links."""
    return [
        {
            "label": ACTION_PAGES[action.name].title,
            "href": reverse("triage:action", args=[referral.reference, action.name]),
        }
        for action in actions_available_from(referral.status)
        if action.name in ACTION_PAGES and has_permission(user, action.permission, referral)
    ]


def _form_for(name: str, referral: Referral, data: "QueryDict | None" = None) -> forms.Form:
    page = ACTION_PAGES[name]
    if page.form_class is AcceptForm:
        # cast: only a submitted referral is accepted, and it has its programme.
        programme = cast("Programme", referral.programme)
        free = free_places_by_class(programme.classes.values_list("id", flat=True))
        return AcceptForm(data, referral=referral, free_places=free)
    if page.form_class is BookForm:
        return BookForm(data, referral=referral)
    if page.form_class is DeclineForm:
        return DeclineForm(data, referral=referral)
    return page.form_class(data)


@login_required
def action(request: "AuthenticatedHttpRequest", reference: str, name: str) -> HttpResponse:
    if name not in ACTION_PAGES:
        raise Http404("No such action")
    referral = referral_or_404(request.user, reference)
    workflow_action = ACTIONS[name]
    if not has_permission(request.user, workflow_action.permission, referral):
        raise PermissionDenied("You cannot do that to this referral.")
    if referral.status not in workflow_action.sources:
        messages.info(request, f"This referral is {referral.get_status_display().lower()} now.")
        return redirect("referrals:detail", reference=reference)
    page = ACTION_PAGES[name]
    form = _form_for(name, referral, request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        done = run_workflow_action(
            request,
            form,
            lambda: ACTION_SERVICES[name](
                referral=posted_version(request, referral),
                by=request.user,
                **{field: form.cleaned_data[field] for field in page.fields},
            ),
            success=page.success,
        )
        if done:
            referral.refresh_from_db()
            if name == "accept" and referral.status == Status.WAITLISTED:
                messages.warning(
                    request,
                    "The class is full, so the referral is on its waiting list "
                    f"(number {waitlist_position(referral)}).",
                )
            return done
    audit_read(
        request, AccessKind.REFERRAL_PAGE, referrals=[referral], patients=[referral.patient_id]
    )
    return render(
        request,
        "triage/action.html",
        {
            "referral": referral,
            "form": form,
            "page": page,
            "name": name,
            # What the referrer told us, to decide on: the same record as the referral page.
            "clinical_record": visible_clinical_record(request.user, referral),
            # Whether the patient could be reached bears on accepting or declining.
            "contact_log": contact_log(request.user, referral)
            if name in ("accept", "decline")
            else None,
        },
    )


# --- Classes and places ------------------------------------------------------------------------


@login_required
def classes(request: "AuthenticatedHttpRequest") -> HttpResponse:
    if not has_permission(request.user, Permission.REFERRAL_TRIAGE):
        raise PermissionDenied("Only leisure coordinators see class places.")
    page = page_without_count(
        selectors.classes_coordinated_by(request.user), request.GET.get("page"), CLASSES_PAGE_SIZE
    )
    for row in page.rows:
        row.free = places_free(row.capacity, row.taken)  # type: ignore[attr-defined]  # template
    return render(request, "triage/classes.html", {"classes": page.rows, "page_obj": page})


@login_required
def class_detail(request: "AuthenticatedHttpRequest", public_id: "UUID") -> HttpResponse:
    try:
        programme_class = selectors.classes_coordinated_by(request.user).get(public_id=public_id)
    except ProgrammeClass.DoesNotExist as missing:
        raise Http404("No such class") from missing
    holding, waiting = class_participants(programme_class)
    shown = [*holding, *waiting]
    audit_read(request, AccessKind.LIST, referrals=shown)
    return render(
        request,
        "triage/class_detail.html",
        {
            "programme_class": programme_class,
            "holding": holding,
            "waiting": waiting,
            "free": places_free(programme_class.capacity, len(holding)),
        },
    )
