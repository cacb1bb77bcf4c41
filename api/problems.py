"""Errors as RFC 9457 problem details (`application/problem+json`), with field-level detail.

Every error the API returns has `type`, `title`, `status` and `detail`; a refused input also has
`errors`, one entry per field (`{"field": ..., "message": ...}`), so an integration can show the
message beside the field it came from. Django's `ValidationError` and `PermissionDenied` raised by
the services are translated here, so views call the services and let their errors through; so is
a refused workflow move (`referrals.workflow.WorkflowError`), a 409 whose `code` says which:
`referral_changed` (a stale version: read the referral again), `invalid_transition` (not from
its current state) or `workflow_error`.
"""

from typing import Any

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404, HttpRequest, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler, set_rollback

from referrals.workflow import WorkflowError

PROBLEM_CONTENT_TYPE = "application/problem+json"
TYPE_BASE = "https://referral-portal.example/problems/"  # identifiers, not fetched

TITLES = {
    400: "The request is not valid",
    401: "Authentication needed",
    403: "Not allowed",
    404: "Not found",
    405: "Method not allowed",
    406: "Not acceptable",
    409: "Conflict",
    412: "Precondition failed",
    415: "Unsupported media type",
    422: "Unprocessable request",
    428: "Precondition required",
    429: "Too many requests",
}
TYPES = {
    400: "invalid-request",
    401: "unauthenticated",
    403: "forbidden",
    404: "not-found",
    405: "method-not-allowed",
    406: "not-acceptable",
    409: "conflict",
    412: "precondition-failed",
    415: "unsupported-media-type",
    422: "unprocessable",
    428: "precondition-required",
    429: "throttled",
}


def _field_errors(detail: Any, prefix: str = "") -> list[dict[str, str]]:
    """DRF's nested error detail as a flat list of {field, message}."""
    errors: list[dict[str, str]] = []
    if isinstance(detail, dict):
        for key, value in detail.items():
            name = "" if key in ("non_field_errors", "__all__") else str(key)
            errors += _field_errors(
                value, f"{prefix}.{name}" if prefix and name else prefix or name
            )
    elif isinstance(detail, list):
        for index, value in enumerate(detail):
            if isinstance(value, dict | list) and not all(isinstance(v, str) for v in value):
                errors += _field_errors(value, f"{prefix}[{index}]")
            else:
                errors += _field_errors(value, prefix)
    else:
        errors.append({"field": prefix, "message": str(detail)})
    return errors


def problem(status_code: int, detail: str, **extra: Any) -> Response:
    body = {
        "type": TYPE_BASE + TYPES.get(status_code, "error"),
        "title": TITLES.get(status_code, "Error"),
        "status": status_code,
        "detail": detail,
        **extra,
    }
    return Response(body, status=status_code, content_type=PROBLEM_CONTENT_TYPE)


def problem_exception_handler(exc: Exception, context: dict) -> Response | None:
    if isinstance(exc, WorkflowError):
        set_rollback()
        return problem(status.HTTP_409_CONFLICT, exc.message, code=exc.code)
    if isinstance(exc, DjangoValidationError):
        detail = exc.message_dict if hasattr(exc, "error_dict") else {"": exc.messages}
        exc = exceptions.ValidationError(detail)
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied(str(exc) or None)
    elif isinstance(exc, Http404):
        exc = exceptions.NotFound()
    response = exception_handler(exc, context)
    if response is None:
        return None
    if isinstance(exc, exceptions.ValidationError):
        errors = _field_errors(exc.detail)
        first = errors[0]["message"] if errors else "The request is not valid."
        reply = problem(response.status_code, first, errors=errors)
    else:
        said = exc.detail if isinstance(exc, exceptions.APIException) else str(exc)
        reply = problem(response.status_code, str(said))
    for header in ("WWW-Authenticate", "Retry-After", "Allow"):
        if header in response:
            reply[header] = response[header]
    return reply


@csrf_exempt
def no_such_endpoint(request: HttpRequest, *args: Any, **kwargs: Any) -> JsonResponse:
    """Any other URL under /api/v1/ (a misspelt path, an id that is not a UUID, a missing slash):
    a 404 problem like every other error, not the site's HTML page nor a redirect that would
    drop a POST's body. A view of its own (`api.urls`), so it needs no token and asks no scope."""
    body = {
        "type": TYPE_BASE + TYPES[404],
        "title": TITLES[404],
        "status": 404,
        "detail": "No such endpoint: the schema at /api/v1/schema/ lists them.",
    }
    return JsonResponse(body, status=404, content_type=PROBLEM_CONTENT_TYPE)


__all__ = [
    "PROBLEM_CONTENT_TYPE",
    "no_such_endpoint",
    "problem",
    "problem_exception_handler",
    "status",
]
