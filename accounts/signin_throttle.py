"""Failed sign-ins: django-axes counts them in the database, per account and address together.

Counting per address alone would let 30 wrong passwords for one account lock out everyone
signing in from the same practice network; counting in one process's memory (allauth's rate
limits) would let each web process keep its own count. AxesDatabaseHandler keeps the count in
PostgreSQL, shared by every process, and the lock covers one email from one address only.

Settings: AXES_* in config/settings.py. Unlock by hand: `manage.py axes_reset_username EMAIL`.
"""

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse

LOCKOUT_TEMPLATE = "account/signin_locked.html"


def attempted_email(request: HttpRequest, credentials: dict | None) -> str:
    """The email being tried: allauth authenticates with `email=` (its form posts `login`).

    Lower-cased, so that changing the case of the address does not start a fresh count.
    """
    credentials = credentials or {}
    value = credentials.get("email") or credentials.get("username")
    if not value and request is not None:
        value = request.POST.get("login", "")
    return str(value or "").strip().lower()


def lockout_response(
    request: HttpRequest, original_response: HttpResponse | None = None, credentials=None
) -> HttpResponse:
    """The same page whether or not the account exists: axes counts unknown emails too."""
    minutes = int(settings.AXES_COOLOFF_TIME.total_seconds() // 60)
    response = TemplateResponse(request, LOCKOUT_TEMPLATE, {"cooloff_minutes": minutes}, status=429)
    response["Retry-After"] = str(int(settings.AXES_COOLOFF_TIME.total_seconds()))
    return response.render()
