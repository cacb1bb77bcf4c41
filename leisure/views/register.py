"""The instructor's pages: today's classes with their registers, one register, marking a
session, and the caseload with its prompts.

Only people who may record sessions (instructors) get in: anyone else signed in gets 403.
Classes and sessions are fetched through the instructor's scope (`referrals.register`), so
another operator's class or session is a 404. Marks go through
`services.session_record_attendance` and nothing else; every page works without JavaScript, and
htmx swaps a marked row in place.
"""

import datetime
import functools
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, cast

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from accounts.permissions import Permission, has_permission
from accounts.validation import parse_iso_date
from audit.models import AccessKind
from audit.services import audit_read
from facilities.models import ProgrammeClass
from referrals import services
from referrals.alerts import incident_refusal, open_alerts_panel
from referrals.models import Attendance, Session, Status
from referrals.web import is_htmx
from referrals.workflow import WorkflowError

from .. import register

if TYPE_CHECKING:
    from collections.abc import Iterable
    from uuid import UUID

    from accounts.http import AuthenticatedHttpRequest
    from accounts.models import User
    from referrals.models import Patient, Referral

MARKS = (Attendance.ATTENDED, Attendance.DNA, Attendance.CANCELLED_PATIENT)
FLAG_FILTERS = {
    "consider_discharge": "Consider discharge",
    "ready_to_complete": "Ready to complete",
}


def _require_session_recorder(user: "User") -> None:
    if not has_permission(user, Permission.SESSION_RECORD):
        raise PermissionDenied("Only instructors keep class registers.")


def _class_or_404(user: "User", public_id: "UUID") -> ProgrammeClass:
    try:
        return register.classes_run_by(user).get(public_id=public_id)
    except ProgrammeClass.DoesNotExist as missing:
        raise Http404("No such class") from missing


def _session_or_404(user: "User", public_id: "UUID") -> Session:
    try:
        return register.session_for_recorder(user, public_id)
    except Session.DoesNotExist as missing:
        raise Http404("No such session") from missing


def _day_from_query(value: str | None) -> datetime.date | None:
    # Within the portal's years: the page links to the day before and after, which would
    # overflow at year 1 or 9999.
    return parse_iso_date(value)


def _register_url(programme_class: ProgrammeClass, day: datetime.date) -> str:
    return reverse("register:register", args=[programme_class.public_id, day])


@dataclass(frozen=True)
class RegisterRow:
    session: Session
    progress: register.Progress | None
    # Attendance can be marked on the day of the session and after, cancellations at any time.
    can_mark: bool
    has_happened: bool
    # An incident only in a session that has begun and was not cancelled (referrals.alerts).
    can_log_incident: bool = False
    error: str = ""

    @property
    def patient(self) -> "Patient":
        return self.session.referral.patient


def _rows(
    sessions: "Iterable[Session]", today: datetime.date, errors: dict[int, str] | None = None
) -> list[RegisterRow]:
    sessions = list(sessions)
    progress = register.progress_for({s.referral_id for s in sessions})
    now = timezone.now()
    return [
        RegisterRow(
            session=s,
            progress=progress.get(s.referral_id),
            can_mark=s.referral.status in register.IN_PROGRAMME,
            has_happened=timezone.localdate(s.scheduled_at) <= today,
            can_log_incident=incident_refusal(s, now) is None,
            error=(errors or {}).get(s.pk, ""),
        )
        for s in sessions
    ]


def _audit_rows(
    request: HttpRequest, rows: list[RegisterRow], also: "Iterable[Referral]" = ()
) -> None:
    shown = {row.session.referral_id: row.session.referral for row in rows}
    shown.update((referral.id, referral) for referral in also)
    audit_read(request, AccessKind.LIST, referrals=list(shown.values()))


@dataclass(frozen=True)
class ClassRegister:
    programme_class: ProgrammeClass
    rows: list[RegisterRow]
    url: str
    # Holding a place, with sessions before and after the day but none on it.
    missing: "list[Referral]" = field(default_factory=list)


@login_required
def today(request: "AuthenticatedHttpRequest") -> HttpResponse:
    _require_session_recorder(request.user)
    now = timezone.localdate()
    day = _day_from_query(request.GET.get("day")) or now
    classes = list(register.classes_today_for(request.user, day))
    sessions, others = register.sessions_of_the_day(request.user, day, classes)
    missing = register.holders_without_session(classes, day)
    rows = _rows([*(s for c in classes for s in sessions[c.id]), *others], now)
    _audit_rows(request, rows, also=[r for c in classes for r in missing[c.id]])
    rows_by_class: dict[int, list[RegisterRow]] = {c.id: [] for c in classes}
    other_rows = []
    for row in rows:
        if row.session.programme_class_id in rows_by_class:
            rows_by_class[row.session.programme_class_id].append(row)
        else:
            other_rows.append(row)
    context = {
        "day": day,
        "is_today": day == now,
        "in_future": day > now,
        "previous_day": day - datetime.timedelta(days=1),
        "next_day": day + datetime.timedelta(days=1),
        "registers": [
            ClassRegister(
                programme_class=c,
                rows=rows_by_class[c.id],
                url=_register_url(c, day),
                missing=missing[c.id],
            )
            for c in classes
        ],
        "other_rows": other_rows,
        "caseload": register.Caseload(request.user).summary(),
        "alert_panel": open_alerts_panel(request.user),
    }
    return render(request, "register/today.html", context)


@login_required
def class_register(
    request: "AuthenticatedHttpRequest", class_id: "UUID", day: datetime.date
) -> HttpResponse:
    _require_session_recorder(request.user)
    programme_class = _class_or_404(request.user, class_id)
    now = timezone.localdate()
    rows = _rows(register.register_for(programme_class, day), now)
    missing = register.holders_without_session([programme_class], day)[programme_class.id]
    _audit_rows(request, rows, also=missing)
    context = {
        "programme_class": programme_class,
        "day": day,
        "is_today": day == now,
        "in_future": day > now,
        # A day the class does not meet: its sessions still show, with a note.
        "off_timetable": day.weekday() != programme_class.weekday,
        "rows": rows,
        "missing": missing,
        "previous_week": _register_url(programme_class, day - datetime.timedelta(weeks=1)),
        "next_week": _register_url(programme_class, day + datetime.timedelta(weeks=1)),
    }
    return render(request, "register/register.html", context)


def _after_mark_url(session: Session) -> str:
    if session.programme_class is None:
        return reverse("referrals:detail", args=[session.referral.reference])
    day = timezone.localdate(session.scheduled_at)
    return f"{_register_url(session.programme_class, day)}#session-{session.public_id}"


def _success_message(session: Session, was: str, progress: register.Progress) -> str:
    # Messages sit in a cookie between requests: they name no patient; the row shows who.
    parts = [f"Attendance recorded: {session.get_status_display()}."]
    if was == Status.BOOKED and session.referral.status == Status.ACTIVE:
        parts.append("The first session is attended, so the referral is now active.")
    if progress.consider_discharge:
        parts.append(f"That is {progress.dna_run} missed in a row: consider discharge.")
    elif progress.ready_to_complete:
        parts.append("The planned sessions are done: the referral is ready to complete.")
    return " ".join(parts)


def _login_required_htmx(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """login_required, but an htmx request whose sign-in has lapsed sends the whole page to the
    sign-in form: following the redirect would swap the sign-in page into a table row."""
    wrapped = login_required(view)

    @functools.wraps(view)
    def check(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if is_htmx(request) and not request.user.is_authenticated:
            login = redirect_to_login(reverse("register:today"))
            response = HttpResponse(status=204)
            response["HX-Redirect"] = login.url
            return response
        return wrapped(request, *args, **kwargs)

    return check


@_login_required_htmx
@require_POST
def mark(request: "AuthenticatedHttpRequest", session_id: "UUID") -> HttpResponse:
    _require_session_recorder(request.user)
    session = _session_or_404(request.user, session_id)
    referral_status_before = session.referral.status
    error = ""
    try:
        services.session_record_attendance(
            session=session, status=request.POST.get("status", ""), by=request.user
        )
    except ValidationError as problem:
        error = " ".join(problem.messages)
    except WorkflowError as refused:
        error = refused.message

    session.referral.refresh_from_db(fields=["status", "version"])
    now = timezone.localdate()
    if is_htmx(request):
        # cast: htmx marks come from the rows of a class's register.
        fresh = register.register_for(
            cast(ProgrammeClass, session.programme_class), timezone.localdate(session.scheduled_at)
        ).get(pk=session.pk)
        row = _rows([fresh], now, errors={fresh.pk: error})[0]
        _audit_rows(request, [row])
        # cast: `_rows` counts the progress of every session's referral.
        progress = cast(register.Progress, row.progress)
        announcement = error or (
            f"{row.patient.full_name}: {fresh.get_status_display()}"
            + (". Consider discharge" if progress.consider_discharge else "")
            + (". Ready to complete" if progress.ready_to_complete else "")
        )
        return render(
            request,
            "register/partials/register_row.html",
            {"row": row, "announcement": announcement},
        )
    if error:
        messages.error(request, error)
    else:
        progress = register.progress_for([session.referral_id])[session.referral_id]
        messages.success(request, _success_message(session, referral_status_before, progress))
    return redirect(_after_mark_url(session))


@login_required
def caseload(request: "AuthenticatedHttpRequest") -> HttpResponse:
    _require_session_recorder(request.user)
    caseload = register.Caseload(request.user)
    summary = caseload.summary()
    flag = request.GET.get("flag", "")
    if flag not in FLAG_FILTERS:
        flag = ""
    page = caseload.page(flag=flag, page=request.GET.get("page"), total=summary[flag or "total"])
    audit_read(request, AccessKind.LIST, referrals=[r.referral for r in page.rows])
    context = {
        "page_obj": page,
        "rows": page.rows,
        "summary": summary,
        "flag": flag,
        "flag_filters": FLAG_FILTERS,
        "querystring": f"flag={flag}" if flag else "",
    }
    return render(request, "register/caseload.html", context)
