"""Outcome pages: a participant's progress, recording one instrument, and the instructor's list
of what is due. Thin: fetch through the user-scoped selector (404 if not theirs), check, call the
service, render."""

from typing import TYPE_CHECKING

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render

from accounts.permissions import Permission, has_permission
from audit.models import AccessKind
from audit.services import audit_read
from referrals import alerts
from referrals.consent import can_see_progress
from referrals.web import referral_or_404

from . import instruments, schedules, selectors, services
from .forms import InstrumentForm
from .models import Timepoint

if TYPE_CHECKING:
    from accounts.http import AuthenticatedHttpRequest


@login_required
def progress(request: "AuthenticatedHttpRequest", reference: str) -> HttpResponse:
    referral = referral_or_404(request.user, reference)
    if not can_see_progress(request.user, referral):
        raise PermissionDenied("The patient has not agreed to share their progress.")
    can_record = has_permission(request.user, Permission.ASSESSMENT_RECORD, referral)
    summary = selectors.outcome_summary(referral)
    audit_read(
        request, AccessKind.REFERRAL_PAGE, referrals=[referral], patients=[referral.patient_id]
    )
    return render(
        request,
        "outcomes/progress.html",
        {
            "referral": referral,
            "patient": referral.patient,
            "summary": summary,
            "schedule": schedules.schedule_for(referral) if can_record else [],
            "can_record": can_record,
        },
    )


def _instrument_or_404(code: str) -> instruments.Instrument:
    try:
        definition = instruments.get(code)
    except instruments.UnknownInstrument as unknown:
        raise Http404("No such outcome measure") from unknown
    if not definition.enabled:
        raise Http404("That outcome measure is not switched on")
    return definition


def _show_errors(form: InstrumentForm, error: ValidationError) -> None:
    """The instrument's own refusals, each on its question and naming it."""
    if hasattr(error, "error_dict"):
        for code, errors in error.message_dict.items():
            form.add_error(
                code if code in form.fields else None,
                [form.item_message(code, message) for message in errors],
            )
    else:
        form.add_error(None, error.messages)


@login_required
def record(
    request: "AuthenticatedHttpRequest", reference: str, instrument: str, timepoint: str
) -> HttpResponse:
    referral = referral_or_404(request.user, reference)
    if not has_permission(request.user, Permission.ASSESSMENT_RECORD, referral):
        raise PermissionDenied("Only the referral's instructors can record outcome measures.")
    definition = _instrument_or_404(instrument)
    if timepoint not in Timepoint.values:
        raise Http404("No such timepoint")
    audit_read(
        request, AccessKind.REFERRAL_PAGE, referrals=[referral], patients=[referral.patient_id]
    )
    existing = referral.assessments.filter(instrument=instrument, timepoint=timepoint).first()
    if request.method == "POST":
        form = InstrumentForm(request.POST, instrument=definition)
        if form.is_valid():
            try:
                assessment = services.assessment_record(
                    referral=referral,
                    instrument=instrument,
                    timepoint=timepoint,
                    answers=form.answers(),
                    by=request.user,
                    method=form.cleaned_data["method"],
                )
            except ValidationError as error:
                _show_errors(form, error)
            else:
                if assessment.scores.get("safety_alert"):
                    return render(
                        request,
                        "outcomes/safety_alert.html",
                        {"referral": referral, "instrument": definition, "assessment": assessment},
                    )
                findings = (
                    alerts.measure_findings(assessment.scores)
                    if instrument == services.PHYSICAL_MEASURES
                    else []
                )
                if findings:
                    return render(
                        request,
                        "outcomes/measures_alert.html",
                        {"referral": referral, "instrument": definition, "findings": findings},
                    )
                messages.success(
                    request,
                    f"{definition.short_name or definition.name} "
                    f"({Timepoint(timepoint).label.lower()}) recorded.",
                )
                return redirect("outcomes:progress", reference=referral.reference)
    else:
        initial = dict(existing.answers, method=existing.method) if existing else None
        form = InstrumentForm(initial=initial, instrument=definition)
    return render(
        request,
        "outcomes/record.html",
        {
            "referral": referral,
            "patient": referral.patient,
            "instrument": definition,
            "timepoint_label": Timepoint(timepoint).label,
            "form": form,
            "existing": existing,
        },
        status=400 if request.method == "POST" else 200,
    )


@login_required
def due(request: "AuthenticatedHttpRequest") -> HttpResponse:
    if not has_permission(request.user, Permission.ASSESSMENT_RECORD):
        raise PermissionDenied("Only instructors record outcome measures.")
    due, followups = schedules.assessments_due(request.user), schedules.followups_due(request.user)
    shown = list({row.referral.pk: row.referral for row in [*due, *followups]}.values())
    audit_read(request, AccessKind.LIST, referrals=shown)
    return render(
        request,
        "outcomes/due.html",
        {
            "due": due,
            "followups": followups,
            "missed_after_months": schedules.FOLLOWUP_MISSED_AFTER_MONTHS,
        },
    )
