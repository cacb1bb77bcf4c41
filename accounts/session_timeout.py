"""Signed-in sessions end after a spell without activity, and a while after sign-in whatever.

Staff use shared PCs on wards and in clinics: a session left open shows patient data to whoever
sits down next. A session with no request for PORTAL_SESSION_IDLE_MINUTES is signed out, and
every session PORTAL_SESSION_MAX_HOURS after sign-in (SESSION_COOKIE_AGE is the same, so the
cookie goes then too). The page warns shortly before the idle limit
(static/js/session-timeout.js, configured through data- attributes on <body>, never inline
script) and its "Stay signed in" button posts to the keep-alive view, a request like any other.
"""

from collections.abc import Callable

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth.signals import user_logged_in
from django.contrib.auth.views import redirect_to_login
from django.dispatch import receiver
from django.http import HttpRequest, HttpResponse
from django.shortcuts import resolve_url
from django.urls import reverse
from django.utils import timezone

from .htmx import is_htmx

SIGNED_IN_AT = "portal_signed_in_at"
LAST_ACTIVITY = "portal_last_activity"
# Saving the session on every request would write its row for every page and fragment; the
# last-activity time is kept to within this many seconds instead.
ACTIVITY_RESOLUTION_SECONDS = 15
# The warning comes this long before the idle limit (or at half of a very short limit).
WARNING_SECONDS = 120


def _now() -> float:
    return timezone.now().timestamp()


def idle_seconds() -> int:
    return int(settings.PORTAL_SESSION_IDLE_MINUTES * 60)


def max_seconds() -> int:
    return int(settings.PORTAL_SESSION_MAX_HOURS * 60 * 60)


def warning_seconds() -> int:
    return min(settings.PORTAL_SESSION_WARNING_SECONDS, idle_seconds() // 2)


@receiver(user_logged_in, dispatch_uid="portal_session_timeout_sign_in")
def _record_sign_in(sender, request: HttpRequest | None, user, **kwargs) -> None:
    if request is not None and hasattr(request, "session"):
        now = _now()
        request.session[SIGNED_IN_AT] = now
        request.session[LAST_ACTIVITY] = now


def _plural(count: int, word: str) -> str:
    return f"{count} {word}" if count == 1 else f"{count} {word}s"


def expiry_message(request: HttpRequest) -> str | None:
    """Why this signed-in request's session has ended, or None while it is still live.

    A live session gets its last-activity time moved on.
    """
    session = request.session
    now = _now()
    signed_in_at = session.setdefault(SIGNED_IN_AT, now)
    last_activity = session.get(LAST_ACTIVITY, now)
    if now - signed_in_at > max_seconds():
        hours = _plural(settings.PORTAL_SESSION_MAX_HOURS, "hour")
        return f"You were signed out because you had been signed in for {hours}."
    if now - last_activity > idle_seconds():
        minutes = _plural(settings.PORTAL_SESSION_IDLE_MINUTES, "minute")
        return f"You were signed out after {minutes} without activity."
    if LAST_ACTIVITY not in session or now - last_activity >= ACTIVITY_RESOLUTION_SECONDS:
        session[LAST_ACTIVITY] = now
    return None


class SessionTimeoutMiddleware:
    """Signs out an expired session before the view runs, and sends the browser to sign in.

    An htmx request or the keep-alive gets 401 with HX-Redirect instead of a redirect, so the
    sign-in page is never swapped into a fragment of the old page.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.user.is_authenticated and (message := expiry_message(request)):
            return self._sign_out(request, message)
        return self.get_response(request)

    @staticmethod
    def _sign_out(request: HttpRequest, message: str) -> HttpResponse:
        logout(request)
        messages.info(request, message)
        login_url = resolve_url(settings.LOGIN_URL)
        if is_htmx(request) or request.path == reverse("session_keep_alive"):
            response = HttpResponse(status=401)
            response["HX-Redirect"] = login_url
            return response
        # Back to the same page after signing in again; a form post goes back to its page.
        return redirect_to_login(
            request.get_full_path() if request.method == "GET" else request.path, login_url
        )


def session_timeout(request: HttpRequest) -> dict:
    """Template context: the limits the warning script reads from <body>'s data- attributes."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    return {
        "session_timeout": {
            "idle_seconds": idle_seconds(),
            "warning_seconds": warning_seconds(),
            "warning_minutes": max(1, round(warning_seconds() / 60)),
            "keep_alive_url": reverse("session_keep_alive"),
        }
    }
