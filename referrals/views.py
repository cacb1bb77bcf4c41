"""The referrer's pages: make a referral step by step, follow it, answer questions, cancel.

Views are thin: they fetch through the user-scoped selectors (another organisation's referral is a
404), validate with forms, and change things only through `referrals.services`.
"""

import contextlib
from dataclasses import dataclass

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db import transaction
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from accounts.models import Organisation, Role
from accounts.permissions import Permission, active_memberships, has_permission
from audit.models import AccessKind
from audit.selectors import who_viewed
from audit.services import audit_read
from clinical.conditions import Condition, Exclusion
from clinical.reasons import REASON_LABELS
from delivery.selectors import delivery_log_for
from outcomes.selectors import can_see_progress, outcome_summary

from . import selectors, services
from .consent import consent_history, consent_state, open_decisions
from .forms import (
    NONE_APPLY,
    AnswerInformationForm,
    CancelReferralForm,
    ClinicalDetailsForm,
    ConsentForm,
    DashboardFilterForm,
    PatientForm,
    ProgrammeChoiceForm,
    SafetyScreenForm,
)
from .listing import (
    forget_search,
    querystring_without_page,
    remember_search,
    render_list,
    search_form_for,
)
from .models import Referral, ReferralEvent, Status
from .placements import placements_for
from .services import notifications_mark_read
from .workflow import ReferralChanged, WorkflowError

PAGE_SIZE = 25
SEARCH_SESSION_KEY = "referral_dashboard_search"


def _referral_or_404(request, reference: str) -> Referral:
    try:
        return selectors.referral_for_user(request.user, reference)
    except Referral.DoesNotExist as missing:
        raise Http404("No referral with that reference") from missing


def _referring_organisations(user) -> list[Organisation]:
    return [m.organisation for m in active_memberships(user) if m.role == Role.REFERRER]


def _require_referrer(user) -> list[Organisation]:
    organisations = _referring_organisations(user)
    if not organisations:
        raise PermissionDenied("Only referrers can make and follow referrals here.")
    return organisations


def _apply_service_errors(form, error: ValidationError) -> None:
    """Show a service's ValidationError on the form: on the field it names, or at the top."""
    if hasattr(error, "error_dict"):
        for field, errors in error.message_dict.items():
            form.add_error(field if field in form.fields else None, errors)
    else:
        form.add_error(None, error.messages)


# --- Dashboard ---------------------------------------------------------------------------------


@login_required
def dashboard(request):
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
    page = Paginator(referrals, PAGE_SIZE).get_page(request.GET.get("page"))
    rows = list(page.object_list)
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
def clear_search(request):
    return forget_search(request, SEARCH_SESSION_KEY, "referrals:dashboard")


# --- Making a referral -------------------------------------------------------------------------

STEPS = ["patient", "details", "safety", "programme", "consent"]
STEP_TITLES = {
    "patient": "Patient details",
    "details": "Reason for referral and clinical details",
    "safety": "Safety screen",
    "programme": "Programme and leisure centre",
    "consent": "Consent",
}


def _next_url(referral: Referral, step: str, request) -> str:
    if request.POST.get("return") == "check" or step == STEPS[-1]:
        return reverse("referrals:check", args=[referral.reference])
    following = STEPS[STEPS.index(step) + 1]
    return reverse("referrals:step", args=[referral.reference, following])


def _after_save(request, referral: Referral, step: str):
    if "save_draft" in request.POST:
        messages.success(request, f"Draft {referral.reference} saved. You can finish it later.")
        return redirect("referrals:detail", reference=referral.reference)
    return redirect(_next_url(referral, step, request))


def _find_or_create_form(request, organisation):
    """Handle the 'Find patient' button: fill the form from a patient the organisation knows."""
    form = PatientForm(request.POST)
    form.is_valid()  # for cleaned NHS number; other errors are not shown on a lookup
    nhs_number = form.cleaned_data.get("nhs_number") if "nhs_number" not in form.errors else None
    if not nhs_number:
        form = PatientForm(initial={"nhs_number": request.POST.get("nhs_number", "")})
        form.add_error("nhs_number", "Enter a valid NHS number to find the patient")
        return form, None
    patient = selectors.patient_known_to(organisation, nhs_number)
    if patient is None:
        return PatientForm(initial={"nhs_number": nhs_number}), False
    audit_read(request, AccessKind.REFERRAL_PAGE, patients=[patient], description="Find patient")
    return PatientForm(initial=PatientForm.initial_from(patient)), True


@login_required
def new_referral(request):
    """Step 1 of a new referral: find the patient by NHS number, or enter their details."""
    organisations = _require_referrer(request.user)
    organisation = organisations[0]
    found = None
    if request.method == "POST" and "find" in request.POST:
        form, found = _find_or_create_form(request, organisation)
    elif request.method == "POST":
        form = PatientForm(request.POST)
        if form.is_valid():
            try:
                with transaction.atomic():
                    patient = services.patient_record_for_referral(
                        by=request.user, organisation=organisation, fields=form.patient_fields()
                    )
                    referral = services.referral_create_draft(
                        by=request.user, organisation=organisation, patient=patient
                    )
            except ValidationError as error:
                _apply_service_errors(form, error)
            else:
                return _after_save(request, referral, "patient")
    else:
        form = PatientForm()
    return render(
        request,
        "referrals/step_patient.html",
        {
            "form": form,
            "found": found,
            "referral": None,
            "title": STEP_TITLES["patient"],
            "steps": _step_nav(None, "patient"),
        },
    )


def _draft_or_redirect(request, reference: str):
    referral = _referral_or_404(request, reference)
    if not has_permission(request.user, Permission.REFERRAL_EDIT_DRAFT, referral):
        raise PermissionDenied("You cannot change this referral.")
    if referral.status != Status.DRAFT:
        messages.info(request, "This referral has been sent, so it can no longer be changed.")
        return referral, redirect("referrals:detail", reference=reference)
    return referral, None


def _step_nav(referral, current: str) -> list[dict]:
    return [
        {
            "title": STEP_TITLES[step],
            "current": step == current,
            "href": reverse("referrals:step", args=[referral.reference, step]) if referral else "",
        }
        for step in STEPS
    ]


def _posted_version(request, referral: Referral) -> Referral:
    """Use the version the referrer saw, so a change made meanwhile is caught, not overwritten."""
    with contextlib.suppress(ValueError):
        referral.version = int(request.POST.get("version", referral.version))
    return referral


def _save_draft(request, referral: Referral, form, fields: dict, step: str):
    try:
        services.referral_update_draft(
            referral=_posted_version(request, referral), by=request.user, **fields
        )
    except ReferralChanged as changed:
        messages.error(request, changed.message)
        return redirect("referrals:step", reference=referral.reference, step=step)
    except ValidationError as error:
        _apply_service_errors(form, error)
        return None
    return _after_save(request, referral, step)


@login_required
def edit_step(request, reference: str, step: str):
    if step not in STEPS:
        raise Http404("No such step")
    referral, leave = _draft_or_redirect(request, reference)
    if leave:
        return leave
    handler = STEP_HANDLERS[step]
    audit_read(
        request, AccessKind.REFERRAL_PAGE, referrals=[referral], patients=[referral.patient_id]
    )
    return handler(request, referral)


def _patient_step(request, referral: Referral):
    patient = referral.patient
    if request.method == "POST":
        form = PatientForm(request.POST)
        if form.is_valid():
            try:
                services.patient_record_for_referral(
                    by=request.user,
                    organisation=referral.referring_organisation,
                    fields=form.patient_fields(),
                    patient=patient,
                )
            except ValidationError as error:
                _apply_service_errors(form, error)
            else:
                return _after_save(request, referral, "patient")
    else:
        form = PatientForm(initial=PatientForm.initial_from(patient))
    return _render_step(request, referral, "patient", form)


def _details_step(request, referral: Referral):
    if request.method == "POST":
        form = ClinicalDetailsForm(request.POST, completing="save_draft" not in request.POST)
        if form.is_valid():
            response = _save_draft(request, referral, form, form.referral_fields(), "details")
            if response:
                return response
    else:
        form = ClinicalDetailsForm(
            initial={
                "reasons": referral.reasons,
                "bp_systolic": referral.bp_systolic,
                "bp_diastolic": referral.bp_diastolic,
                "bp_measured_on": referral.bp_measured_on,
                "heart_rate_medication": "yes" if referral.heart_rate_medication else "no",
                "medication_notes": referral.medication_notes,
                "relevant_history": referral.relevant_history,
                "risk_tier": referral.risk_tier,
                "priority": referral.priority,
            }
        )
    return _render_step(request, referral, "details", form)


def _safety_step(request, referral: Referral):
    if request.method == "POST":
        form = SafetyScreenForm(request.POST, completing="save_draft" not in request.POST)
        if form.is_valid():
            answered = bool(form.cleaned_data["exclusions"])
            fields = {"exclusions_present": form.exclusions_present()} if answered else {}
            response = _save_draft(request, referral, form, fields, "safety")
            if response:
                return response
    else:
        if referral.safety_screened_at is None:
            initial = []
        else:
            initial = referral.exclusions_present or [NONE_APPLY]
        form = SafetyScreenForm(initial={"exclusions": initial})
    return _render_step(request, referral, "safety", form)


def _programme_step(request, referral: Referral):
    placements = placements_for(referral)
    if request.method == "POST":
        form = ProgrammeChoiceForm(
            request.POST,
            options=placements.options,
            completing="save_draft" not in request.POST,
        )
        if form.is_valid():
            chosen = form.chosen()
            fields = (
                {"programme": chosen.programme, "preferred_facility": chosen.facility}
                if chosen
                else {}
            )
            response = _save_draft(request, referral, form, fields, "programme")
            if response:
                return response
    else:
        current = next(
            (
                o.key
                for o in placements.options
                if o.programme.id == referral.programme_id
                and o.facility.id == referral.preferred_facility_id
            ),
            None,
        )
        form = ProgrammeChoiceForm(options=placements.options, initial={"placement": current})
    return _render_step(request, referral, "programme", form, {"placements": placements})


def _consent_step(request, referral: Referral):
    if request.method == "POST":
        form = ConsentForm(request.POST, completing="save_draft" not in request.POST)
        if form.is_valid():
            response = _save_draft(request, referral, form, dict(form.cleaned_data), "consent")
            if response:
                return response
    else:
        form = ConsentForm(
            initial={
                "consent_referral": referral.consent_referral,
                "consent_share_outcomes": referral.consent_share_outcomes,
                "consent_research": referral.consent_research,
            }
        )
    return _render_step(request, referral, "consent", form)


STEP_HANDLERS = {
    "patient": _patient_step,
    "details": _details_step,
    "safety": _safety_step,
    "programme": _programme_step,
    "consent": _consent_step,
}


def _render_step(request, referral: Referral, step: str, form, extra=None):
    context = {
        "referral": referral,
        "form": form,
        "step": step,
        "title": STEP_TITLES[step],
        "steps": _step_nav(referral, step),
        "returning_to_check": request.GET.get("return") == "check"
        or request.POST.get("return") == "check",
        **(extra or {}),
    }
    return render(request, f"referrals/step_{step}.html", context)


# --- Check answers, submit, confirmation -------------------------------------------------------


def _check_answers_sections(referral: Referral) -> list[dict]:
    patient = referral.patient
    conditions = dict(Condition.choices)
    exclusions = dict(Exclusion.choices)

    def change(step):
        return reverse("referrals:step", args=[referral.reference, step]) + "?return=check"

    bp = (
        f"{referral.bp_systolic}/{referral.bp_diastolic} mmHg"
        if referral.bp_systolic
        else "Not given"
    )
    if referral.safety_screened_at is None:
        safety = "Not answered"
    elif referral.exclusions_present:
        safety = ", ".join(exclusions.get(c, c) for c in referral.exclusions_present)
    else:
        safety = "None of these apply"
    return [
        {
            "title": "Patient",
            "change": change("patient"),
            "rows": [
                ("Name", patient.full_name),
                ("NHS number", patient.nhs_number_display),
                ("Date of birth", f"{patient.date_of_birth:%d %B %Y}"),
                ("Postcode", patient.postcode),
                ("Phone", patient.phone or "Not given"),
                ("Interpreter", patient.interpreter_language or "Not needed"),
            ],
        },
        {
            "title": "Reason and clinical details",
            "change": change("details"),
            "rows": [
                (
                    "Reasons for referral",
                    ", ".join(conditions.get(c, c) for c in referral.reasons) or "None selected",
                ),
                ("Blood pressure", bp),
                (
                    "Heart rate medication",
                    "Yes" if referral.heart_rate_medication else "No",
                ),
                ("Risk level", referral.get_risk_tier_display()),
                ("Priority", referral.get_priority_display()),
            ],
        },
        {"title": "Safety screen", "change": change("safety"), "rows": [("Exclusions", safety)]},
        {
            "title": "Programme",
            "change": change("programme"),
            "rows": [
                ("Programme", referral.programme.name if referral.programme else "Not chosen"),
                (
                    "Leisure centre",
                    referral.preferred_facility.name
                    if referral.preferred_facility
                    else "Not chosen",
                ),
            ],
        },
        {
            "title": "Consent",
            "change": change("consent"),
            "rows": [
                ("Agrees to the referral", "Yes" if referral.consent_referral else "No"),
                (
                    "Agrees to share progress with you",
                    "Yes" if referral.consent_share_outcomes else "No",
                ),
                ("Agrees to evaluation use", "Yes" if referral.consent_research else "No"),
            ],
        },
    ]


@login_required
def check_answers(request, reference: str):
    referral, leave = _draft_or_redirect(request, reference)
    if leave:
        return leave
    problems = []
    if request.method == "POST":
        try:
            services.referral_submit(referral=_posted_version(request, referral), by=request.user)
        except ReferralChanged as changed:
            messages.error(request, changed.message)
            return redirect("referrals:check", reference=reference)
        except ValidationError as error:
            problems = _problem_links(referral, error)
        else:
            return redirect("referrals:confirmation", reference=reference)
    audit_read(
        request, AccessKind.REFERRAL_PAGE, referrals=[referral], patients=[referral.patient_id]
    )
    return render(
        request,
        "referrals/check_answers.html",
        {
            "referral": referral,
            "sections": _check_answers_sections(referral),
            "problems": problems,
        },
    )


# Which step fixes each field the submit service may complain about.
FIELD_STEPS = {
    "exclusions_present": "safety",
    "reasons": "details",
    "consent_referral": "consent",
    "programme": "programme",
    "preferred_facility": "programme",
}


def _problem_links(referral: Referral, error: ValidationError) -> list[dict]:
    problems = []
    for field, messages_ in error.message_dict.items():
        step = FIELD_STEPS.get(field, "details")
        href = reverse("referrals:step", args=[referral.reference, step]) + "?return=check"
        problems.extend({"message": message, "href": href} for message in messages_)
    return problems


@login_required
def confirmation(request, reference: str):
    referral = _referral_or_404(request, reference)
    if referral.status == Status.DRAFT:
        return redirect("referrals:check", reference=reference)
    return render(request, "referrals/confirmation.html", {"referral": referral})


# --- Following a referral ----------------------------------------------------------------------


def _latest_question(referral: Referral, timeline) -> str:
    questions = [e.note for e in timeline if e.action == "request_info"]
    return questions[-1] if questions else ""


@login_required
def referral_detail(request, reference: str, answer_form=None):
    referral = _referral_or_404(request, reference)
    timeline = list(selectors.referral_timeline(referral))
    for event in timeline:
        event.reason_label = REASON_LABELS.get(event.reason_code, event.reason_code)
    user = request.user
    viewer_is_referrer = any(
        m.role == Role.REFERRER and m.organisation_id == referral.referring_organisation_id
        for m in active_memberships(user)
    )
    if viewer_is_referrer and not referral.shares_progress:
        # Without consent to share progress the referrer sees the moves of the referral, not
        # the sessions, assessments or alerts behind them.
        timeline = [e for e in timeline if e.kind == ReferralEvent.Kind.TRANSITION]
    notifications_mark_read(user=user, referral=referral)
    audit_read(
        request, AccessKind.REFERRAL_PAGE, referrals=[referral], patients=[referral.patient_id]
    )
    can_answer = referral.status == Status.INFO_REQUESTED and has_permission(
        user, Permission.REFERRAL_ANSWER_INFO, referral
    )
    context = {
        "referral": referral,
        "patient": referral.patient,
        "timeline": timeline,
        "attendance": selectors.attendance_summary(referral),
        "reasons": [dict(Condition.choices).get(c, c) for c in referral.reasons],
        "question": _latest_question(referral, timeline) if can_answer else "",
        "can_answer": can_answer,
        "answer_form": answer_form or AnswerInformationForm(),
        "can_cancel": "cancel" in _allowed_actions(referral)
        and has_permission(user, Permission.REFERRAL_CANCEL, referral),
        "can_edit": referral.status == Status.DRAFT
        and has_permission(user, Permission.REFERRAL_EDIT_DRAFT, referral),
        "form": answer_form,
        # Without consent to share progress, the referrer sees the referral's state, not how the
        # patient is getting on; the provider always sees its own attendance records.
        "show_progress": referral.shares_progress or not viewer_is_referrer,
        "triage_actions": triage_actions_for(user, referral),
        "waitlist_position": selectors.waitlist_position(referral),
        "back_to_triage": not viewer_is_referrer,
        "delivery_log": delivery_log_for(referral, include_reminders=not viewer_is_referrer),
        "has_discharge_summary": referral.status in {Status.COMPLETED, Status.DISCHARGED},
        "outcome_summary": outcome_summary(referral) if can_see_progress(user, referral) else None,
    }
    context["viewers"], context["viewer_count"] = who_viewed(referral)
    context["consent_history"] = consent_history(referral)
    context["consent_state"] = consent_state(referral, context["consent_history"])
    context["can_record_consent"] = bool(open_decisions(referral)) and has_permission(
        user, Permission.CONSENT_RECORD, referral
    )
    return render(request, "referrals/detail.html", context)


def triage_actions_for(user, referral: Referral) -> list[dict]:
    from .views_triage import triage_actions_for as operator_actions

    return operator_actions(user, referral)


def _allowed_actions(referral: Referral) -> set[str]:
    from .workflow import actions_available_from

    return {action.name for action in actions_available_from(referral.status)}


def _run_workflow_action(request, form, action, *, success: str):
    """Run one workflow service for a valid form.

    Returns the redirect to the referral page (with a success or refusal message), or None when
    the service found a problem with the input, now shown on the form.
    """
    try:
        event = action()
    except WorkflowError as refused:  # includes ReferralChanged: someone acted first
        messages.error(request, refused.message)
        return redirect("referrals:detail", reference=request.resolver_match.kwargs["reference"])
    except ValidationError as error:
        _apply_service_errors(form, error)
        return None
    messages.success(request, success)
    return redirect("referrals:detail", reference=event.referral.reference)


@login_required
@require_POST
def answer_information(request, reference: str):
    referral = _referral_or_404(request, reference)
    form = AnswerInformationForm(request.POST)
    if form.is_valid():
        done = _run_workflow_action(
            request,
            form,
            lambda: services.referral_answer_info(
                referral=_posted_version(request, referral),
                by=request.user,
                answer=form.cleaned_data["answer"],
            ),
            success="Your answer has been sent. The referral is back in triage.",
        )
        if done:
            return done
    return referral_detail(request, reference, answer_form=form)


@login_required
def cancel_referral(request, reference: str):
    referral = _referral_or_404(request, reference)
    if not has_permission(request.user, Permission.REFERRAL_CANCEL, referral):
        raise PermissionDenied("You cannot cancel this referral.")
    if "cancel" not in _allowed_actions(referral):
        messages.info(request, "This referral can no longer be cancelled.")
        return redirect("referrals:detail", reference=reference)
    form = CancelReferralForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        done = _run_workflow_action(
            request,
            form,
            lambda: services.referral_cancel(
                referral=_posted_version(request, referral),
                by=request.user,
                reason=form.cleaned_data["reason"],
                note=form.cleaned_data["note"],
            ),
            success=f"Referral {reference} has been cancelled.",
        )
        if done:
            return done
    return render(request, "referrals/cancel.html", {"referral": referral, "form": form})
