"""The referral page, for both sides (what each sees depends on who they are and the patient's
consent), and the referrer's answers to questions and cancellations."""

from typing import TYPE_CHECKING, Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from accounts.permissions import (
    REFERRING_ROLES,
    Permission,
    has_permission,
    roles_in,
)
from audit.models import AccessKind
from audit.selectors import who_viewed
from audit.services import audit_read
from clinical.conditions import Condition
from clinical.reasons import REASON_LABELS

from .. import selectors, services
from ..booking import LETTER_STATES, first_session_booked_at, next_booked_session
from ..clinical_record import visible_clinical_record
from ..consent import consent_history, consent_state, open_decisions
from ..discharge import attendance_for
from ..forms import (
    AnswerInformationForm,
    CancelReferralForm,
)
from ..models import Referral, ReferralEvent, Status
from ..places import waitlist_position
from ..sections import Viewer, sections_context
from ..web import posted_version, referral_or_404, run_workflow_action
from ..workflow import actions_available_from
from .wizard import resume_url

if TYPE_CHECKING:
    from collections.abc import Iterable

    from accounts.http import AuthenticatedHttpRequest


def _latest_question(referral: Referral, timeline: "Iterable[ReferralEvent]") -> str:
    questions = [e.note for e in timeline if e.action == "request_info"]
    return questions[-1] if questions else ""


# Timeline entries whose new state does not say what happened: the referrer's answer returns the
# referral to "submitted", but it is an answer, not a second submission.
TIMELINE_HEADINGS = {
    "create": "Draft started",
    "answer_info": "Referrer answered the question",
    "dna": "Did not attend",
    "attended": "Attended",
    "session_cancelled": "Session cancelled",
    "membership_number": "Membership number",
}


def _timeline_heading(event: ReferralEvent) -> str:
    if event.action in TIMELINE_HEADINGS:
        return TIMELINE_HEADINGS[event.action]
    if event.to_status and event.kind == ReferralEvent.Kind.TRANSITION:
        return event.get_to_status_display()
    return event.get_kind_display()


def _first_session_booked(referral: Referral, event: ReferralEvent) -> str:
    """What the "booked" entry says: the first session booked then, and where."""
    first = first_session_booked_at(referral, event.created_at)
    return f"First session: {first.when_and_where}" if first else ""


@login_required
def referral_detail(
    request: "AuthenticatedHttpRequest",
    reference: str,
    answer_form: AnswerInformationForm | None = None,
) -> HttpResponse:
    referral = referral_or_404(request.user, reference)
    timeline = list(selectors.referral_timeline_for(request.user, referral))
    user = request.user
    viewer_is_referrer = bool(roles_in(user, referral.referring_organisation) & REFERRING_ROLES)
    show_progress = referral.shares_progress or not viewer_is_referrer
    for event in timeline:
        # For the template only: not fields of the model.
        event.reason_label = REASON_LABELS.get(event.reason_code, event.reason_code)  # type: ignore[attr-defined]
        event.heading = _timeline_heading(event)  # type: ignore[attr-defined]
        event.detail = (  # type: ignore[attr-defined]
            _first_session_booked(referral, event)
            if event.action == "book" and show_progress
            else ""
        )
    upcoming = (
        next_booked_session(referral)
        if referral.status in LETTER_STATES and show_progress
        else None
    )
    services.notifications_mark_read(user=user, referral=referral)
    audit_read(
        request, AccessKind.REFERRAL_PAGE, referrals=[referral], patients=[referral.patient_id]
    )
    can_answer = referral.status == Status.INFO_REQUESTED and has_permission(
        user, Permission.REFERRAL_ANSWER_INFO, referral
    )
    context: dict[str, Any] = {
        "referral": referral,
        "patient": referral.patient,
        "timeline": timeline,
        # The discharge summary's own tally, so the two pages never disagree.
        "attendance": attendance_for(referral),
        "reasons": [dict(Condition.choices).get(c, c) for c in referral.reasons],
        "question": _latest_question(referral, timeline) if can_answer else "",
        "can_answer": can_answer,
        "answer_form": answer_form or AnswerInformationForm(),
        "can_cancel": "cancel" in _allowed_actions(referral)
        and has_permission(user, Permission.REFERRAL_CANCEL, referral),
        "can_edit": referral.status == Status.DRAFT
        and has_permission(user, Permission.REFERRAL_EDIT_DRAFT, referral),
        "is_draft": referral.status == Status.DRAFT,
        "resume_url": resume_url(referral) if referral.status == Status.DRAFT else "",
        "form": answer_form,
        # Without consent to share progress, the referrer sees the referral's state, not how the
        # patient is getting on; the provider always sees its own attendance records.
        "show_progress": show_progress,
        "clinical_record": visible_clinical_record(user, referral),
        "next_session": upcoming,
        "next_session_is_first": referral.status == Status.BOOKED,
        "can_print_letter": upcoming is not None,
        "waitlist_position": waitlist_position(referral),
        "has_discharge_summary": referral.status in {Status.COMPLETED, Status.DISCHARGED},
        # Self-directed visits from the operator's systems: progress, like attendance.
        "visits": selectors.visits_summary(referral)
        if show_progress and referral.status != Status.DRAFT
        else None,
    }
    context.update(sections_context(Viewer(user, viewer_is_referrer), referral))
    context["viewers"], context["viewer_count"] = who_viewed(referral)
    context["consent_history"] = consent_history(referral)
    context["consent_state"] = consent_state(referral, context["consent_history"])
    context["can_record_consent"] = bool(open_decisions(referral)) and has_permission(
        user, Permission.CONSENT_RECORD, referral
    )
    return render(request, "referrals/detail.html", context)


def _allowed_actions(referral: Referral) -> set[str]:
    return {action.name for action in actions_available_from(referral.status)}


@login_required
@require_POST
def answer_information(request: "AuthenticatedHttpRequest", reference: str) -> HttpResponse:
    referral = referral_or_404(request.user, reference)
    form = AnswerInformationForm(request.POST)
    if form.is_valid():
        done = run_workflow_action(
            request,
            form,
            lambda: services.referral_answer_info(
                referral=posted_version(request, referral),
                by=request.user,
                answer=form.cleaned_data["answer"],
            ),
            success="Your answer has been sent. The referral is back in triage.",
        )
        if done:
            return done
    return referral_detail(request, reference, answer_form=form)


@login_required
def cancel_referral(request: "AuthenticatedHttpRequest", reference: str) -> HttpResponse:
    referral = referral_or_404(request.user, reference)
    if not has_permission(request.user, Permission.REFERRAL_CANCEL, referral):
        raise PermissionDenied("You cannot cancel this referral.")
    if "cancel" not in _allowed_actions(referral):
        messages.info(request, "This referral can no longer be cancelled.")
        return redirect("referrals:detail", reference=reference)
    form = CancelReferralForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        done = run_workflow_action(
            request,
            form,
            lambda: services.referral_cancel(
                referral=posted_version(request, referral),
                by=request.user,
                reason=form.cleaned_data["reason"],
                note=form.cleaned_data["note"],
            ),
            success=f"Referral {reference} has been cancelled.",
        )
        if done:
            return done
    return render(request, "referrals/cancel.html", {"referral": referral, "form": form})
