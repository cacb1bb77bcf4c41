"""Making a referral step by step: patient, clinical details, safety, programme, consent, then
check the answers and submit. Each step saves the draft through `referrals.services`."""

from typing import TYPE_CHECKING, Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse

from accounts.permissions import Permission, has_permission
from audit.models import AccessKind
from audit.services import audit_read
from clinical.conditions import Condition, Exclusion, exclusions_with_bp

from .. import selectors, services
from ..eligibility import safety_screen_to_answer_again
from ..forms import (
    NONE_APPLY,
    ClinicalDetailsForm,
    ConsentForm,
    FindPatientForm,
    PatientForm,
    ProgrammeChoiceForm,
    SafetyScreenForm,
)
from ..models import Referral, Status
from ..placements import placements_for
from ..web import apply_service_errors, posted_version, referral_or_404
from ..workflow import ReferralChanged
from .dashboard import _require_referrer

if TYPE_CHECKING:
    from accounts.http import AuthenticatedHttpRequest
    from accounts.models import Organisation

# --- Making a referral -------------------------------------------------------------------------

STEPS = ["patient", "details", "safety", "programme", "consent"]
STEP_TITLES = {
    "patient": "Patient details",
    "details": "Reason for referral and clinical details",
    "safety": "Safety screen",
    "programme": "Programme and leisure centre",
    "consent": "Consent",
}


# Where a draft is left when the referrer has answered every step: the check-answers page.
CHECK = "check"


def _url_of(referral: Referral, place: str) -> str:
    if place == CHECK:
        return reverse("referrals:check", args=[referral.reference])
    return reverse("referrals:step", args=[referral.reference, place])


def _resume_point(request: HttpRequest, step: str) -> str:
    """Where the referrer will pick the draft up after saving `step`: the step itself when they
    save it as a draft, else the page the save sends them on to. The patient step saves only
    complete (it is not a `StepForm`), so a draft saved there resumes at the next step."""
    if "save_draft" in request.POST and step != STEPS[0]:
        return step
    if request.POST.get("return") == CHECK or step == STEPS[-1]:
        return CHECK
    return STEPS[STEPS.index(step) + 1]


def _first_unfinished_step(referral: Referral) -> str:
    """For a draft saved before the portal recorded where it was left."""
    if not referral.reasons:
        return "details"
    if referral.safety_screened_at is None:
        return "safety"
    if referral.programme_id is None:
        return "programme"
    if not referral.consent_referral:
        return "consent"
    return CHECK


def resume_url(referral: Referral) -> str:
    """'Continue the referral': the step the draft was saved at (or sent on to)."""
    place = referral.draft_step
    if place not in {*STEPS, CHECK}:
        place = _first_unfinished_step(referral)
    return _url_of(referral, place)


def _after_save(request: HttpRequest, referral: Referral, step: str) -> HttpResponse:
    if "save_draft" in request.POST:
        messages.success(request, f"Draft {referral.reference} saved. You can finish it later.")
        return redirect("referrals:detail", reference=referral.reference)
    return redirect(_url_of(referral, _resume_point(request, step)))


def _find_or_create_form(
    request: "AuthenticatedHttpRequest", organisation: "Organisation"
) -> tuple[PatientForm, bool | None]:
    """Handle the 'Find patient' button: fill the form from a patient the organisation knows.
    Only the NHS number is read; any other input is a message on it, never an error page."""
    lookup = FindPatientForm(request.POST)
    if not lookup.is_valid():
        return PatientForm.for_lookup(lookup.shown_number, lookup.message), None
    nhs_number = lookup.cleaned_data["nhs_number"]
    patient = selectors.patient_known_to(organisation, nhs_number)
    if patient is None:
        return PatientForm.for_lookup(nhs_number), False
    audit_read(request, AccessKind.REFERRAL_PAGE, patients=[patient], description="Find patient")
    return PatientForm(initial=PatientForm.initial_from(patient)), True


@login_required
def new_referral(request: "AuthenticatedHttpRequest") -> HttpResponse:
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
                        by=request.user,
                        organisation=organisation,
                        patient=patient,
                        draft_step=_resume_point(request, "patient"),
                    )
            except ValidationError as error:
                apply_service_errors(form, error)
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


def _draft_or_redirect(
    request: "AuthenticatedHttpRequest", reference: str
) -> tuple[Referral, HttpResponse | None]:
    referral = referral_or_404(request.user, reference)
    if not has_permission(request.user, Permission.REFERRAL_EDIT_DRAFT, referral):
        raise PermissionDenied("You cannot change this referral.")
    if referral.status != Status.DRAFT:
        messages.info(request, "This referral has been sent, so it can no longer be changed.")
        return referral, redirect("referrals:detail", reference=reference)
    return referral, None


def _step_nav(referral: Referral | None, current: str) -> list[dict[str, Any]]:
    return [
        {
            "title": STEP_TITLES[step],
            "current": step == current,
            "href": reverse("referrals:step", args=[referral.reference, step]) if referral else "",
        }
        for step in STEPS
    ]


def _save_draft(
    request: "AuthenticatedHttpRequest",
    referral: Referral,
    form: forms.Form,
    fields: dict[str, Any],
    step: str,
) -> HttpResponse | None:
    try:
        services.referral_update_draft(
            referral=posted_version(request, referral),
            by=request.user,
            **fields,
            draft_step=_resume_point(request, step),
        )
    except ReferralChanged as changed:
        messages.error(request, changed.message)
        return redirect("referrals:step", reference=referral.reference, step=step)
    except ValidationError as error:
        apply_service_errors(form, error)
        return None
    return _after_save(request, referral, step)


@login_required
def edit_step(request: "AuthenticatedHttpRequest", reference: str, step: str) -> HttpResponse:
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


def _patient_step(request: "AuthenticatedHttpRequest", referral: Referral) -> HttpResponse:
    patient = referral.patient
    if request.method == "POST":
        form = PatientForm(request.POST)
        if form.is_valid():
            try:
                with transaction.atomic():
                    services.patient_record_for_referral(
                        by=request.user,
                        organisation=referral.referring_organisation,
                        fields=form.patient_fields(),
                        patient=patient,
                    )
                    services.referral_update_draft(
                        referral=posted_version(request, referral),
                        by=request.user,
                        draft_step=_resume_point(request, "patient"),
                    )
            except ReferralChanged as changed:
                messages.error(request, changed.message)
                return redirect("referrals:step", reference=referral.reference, step="patient")
            except ValidationError as error:
                apply_service_errors(form, error)
            else:
                return _after_save(request, referral, "patient")
    else:
        form = PatientForm(initial=PatientForm.initial_from(patient))
    return _render_step(request, referral, "patient", form)


def _yes_no(answer: bool | None) -> str | None:
    return None if answer is None else ("yes" if answer else "no")


def _details_step(request: "AuthenticatedHttpRequest", referral: Referral) -> HttpResponse:
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
                "heart_rate_medication": _yes_no(referral.heart_rate_medication),
                "medication_notes": referral.medication_notes,
                "relevant_history": referral.relevant_history,
                "risk_tier": referral.risk_tier,
                "priority": referral.priority,
            }
        )
    return _render_step(request, referral, "details", form)


def _safety_step(request: "AuthenticatedHttpRequest", referral: Referral) -> HttpResponse:
    if request.method == "POST":
        form = SafetyScreenForm(
            request.POST,
            completing="save_draft" not in request.POST,
            bp=(referral.bp_systolic, referral.bp_diastolic),
        )
        if form.is_valid():
            answered = bool(form.cleaned_data["exclusions"])
            fields = {"exclusions_present": form.exclusions_present()} if answered else {}
            response = _save_draft(request, referral, form, fields, "safety")
            if response:
                return response
    else:
        # An answer set aside by a change of BP keeps its ticks, shown for the referrer to review.
        if referral.safety_screened_at is None:
            initial = referral.exclusions_present
        else:
            initial = referral.exclusions_present or [NONE_APPLY]
        form = SafetyScreenForm(
            initial={"exclusions": initial}, bp=(referral.bp_systolic, referral.bp_diastolic)
        )
    return _render_step(
        request,
        referral,
        "safety",
        form,
        {"to_answer_again": safety_screen_to_answer_again(referral)},
    )


def _programme_step(request: "AuthenticatedHttpRequest", referral: Referral) -> HttpResponse:
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


def _consent_step(request: "AuthenticatedHttpRequest", referral: Referral) -> HttpResponse:
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


def _render_step(
    request: HttpRequest,
    referral: Referral,
    step: str,
    form: forms.Form,
    extra: dict[str, Any] | None = None,
) -> HttpResponse:
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


NOT_ANSWERED = "Not answered"


def _yes_no_shown(answer: bool | None) -> str:
    return NOT_ANSWERED if answer is None else ("Yes" if answer else "No")


def _check_answers_sections(referral: Referral) -> list[dict[str, Any]]:
    patient = referral.patient
    conditions = dict(Condition.choices)
    exclusions = dict(Exclusion.choices)

    def change(step: str) -> str:
        return reverse("referrals:step", args=[referral.reference, step]) + "?return=check"

    bp = (
        f"{referral.bp_systolic}/{referral.bp_diastolic} mmHg"
        if referral.bp_systolic
        else "Not given"
    )
    # The BP decides its own exclusion, even on a draft saved before the service kept to that.
    present = exclusions_with_bp(
        referral.exclusions_present, referral.bp_systolic, referral.bp_diastolic
    )
    if referral.safety_screened_at is None:
        safety = NOT_ANSWERED
    elif present:
        safety = ", ".join(exclusions.get(c, c) for c in present)
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
                ("Heart rate medication", _yes_no_shown(referral.heart_rate_medication)),
                ("Risk level", referral.get_risk_tier_display() or NOT_ANSWERED),
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
def check_answers(request: "AuthenticatedHttpRequest", reference: str) -> HttpResponse:
    referral, leave = _draft_or_redirect(request, reference)
    if leave:
        return leave
    if request.method == "GET" and safety_screen_to_answer_again(referral):
        # A change of BP set the screen's answer aside: nothing can be sent until it is given
        # again, so go there rather than show answers that no longer stand.
        messages.warning(request, "Answer the safety screen again before sending the referral.")
        return redirect(_url_of(referral, "safety") + "?return=check")
    problems = []
    if request.method == "POST":
        try:
            services.referral_submit(referral=posted_version(request, referral), by=request.user)
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
    "heart_rate_medication": "details",
    "risk_tier": "details",
    "consent_referral": "consent",
    "programme": "programme",
    "preferred_facility": "programme",
}


def _problem_links(referral: Referral, error: ValidationError) -> list[dict[str, str]]:
    problems: list[dict[str, str]] = []
    for field, messages_ in error.message_dict.items():
        step = FIELD_STEPS.get(field, "details")
        href = reverse("referrals:step", args=[referral.reference, step]) + "?return=check"
        problems.extend({"message": message, "href": href} for message in messages_)
    return problems


@login_required
def confirmation(request: "AuthenticatedHttpRequest", reference: str) -> HttpResponse:
    referral = referral_or_404(request.user, reference)
    if referral.status == Status.DRAFT:
        return redirect("referrals:check", reference=reference)
    return render(request, "referrals/confirmation.html", {"referral": referral})


# --- Following a referral ----------------------------------------------------------------------
