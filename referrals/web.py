"""View plumbing every page shares (`is_htmx` comes from `accounts.htmx`, imported here so pages
find it with the rest): one home for fetching a referral the user may see, showing a
service's errors on a form, telling an htmx request apart, and running a workflow action.

Pages of any app (referrals, leisure, outcomes, manage) use these, so the rules behind them (a
referral another organisation owns is a 404; a refused move is a message, never a 500) are
written once.
"""

import contextlib
import re
from collections.abc import Callable
from typing import cast

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import ResolverMatch

from accounts.htmx import is_htmx
from accounts.models import User

from .models import Referral, ReferralEvent
from .selectors import referral_for_user
from .workflow import WorkflowError

__all__ = [
    "apply_service_errors",
    "is_htmx",
    "neutralise",
    "posted_version",
    "referral_or_404",
    "run_workflow_action",
]


def referral_or_404(user: User, reference: str) -> Referral:
    """The referral if `user` may see it; otherwise a 404, never a 403 that would confirm it."""
    try:
        return referral_for_user(user, reference)
    except Referral.DoesNotExist as missing:
        raise Http404("No referral with that reference") from missing


def apply_service_errors(form: forms.Form, error: ValidationError) -> None:
    """Show a service's ValidationError on the form: on the field it names, or at the top.

    A form whose field carries a service argument under another name (a date for a datetime)
    maps it in `service_field_names`."""
    renamed: dict[str, str] = getattr(form, "service_field_names", {})
    if hasattr(error, "error_dict"):
        for name, errors in error.message_dict.items():
            field = renamed.get(name, name)
            form.add_error(field if field in form.fields else None, errors)
    else:
        form.add_error(None, error.messages)


def posted_version(request: HttpRequest, referral: Referral) -> Referral:
    """Use the version the user saw, so a change made meanwhile is caught, not overwritten."""
    with contextlib.suppress(ValueError):
        referral.version = int(request.POST.get("version", referral.version))
    return referral


def run_workflow_action(
    request: HttpRequest,
    form: forms.Form,
    action: Callable[[], ReferralEvent],
    *,
    success: str,
) -> HttpResponse | None:
    """Run one workflow service for a valid form.

    Returns the redirect to the referral page (with a success or refusal message), or None when
    the service found a problem with the input, now shown on the form.
    """
    try:
        event = action()
    except WorkflowError as refused:  # includes ReferralChanged: someone acted first
        messages.error(request, refused.message)
        # cast: a view runs only after its URL resolved, so the match is set.
        match = cast(ResolverMatch, request.resolver_match)
        return redirect("referrals:detail", reference=match.kwargs["reference"])
    except ValidationError as error:
        apply_service_errors(form, error)
        return None
    messages.success(request, success)
    return redirect("referrals:detail", reference=event.referral.reference)


# A spreadsheet runs a cell starting with one of these as a formula (CSV injection).
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
NUMBER = re.compile(r"-?[0-9]+(\.[0-9]+)?")


def neutralise(value: object) -> str:
    """Prefix a quote to a cell a spreadsheet would run, leaving plain (negative) numbers alone."""
    text = str(value)
    if text.startswith(FORMULA_TRIGGERS) and not NUMBER.fullmatch(text):
        return f"'{text}"
    return text
