"""The HTTP side of `/fhir/`: FHIR JSON in and out, the API's clients and scopes, and every error
as an OperationOutcome.

Views subclass `FhirView`: authentication, scopes (`read_scope`/`write_scope`, as on `/api/v1/`)
and the per-client budget are the API's own; what differs is the format. Responses are always
`application/fhir+json` (a client asking for `application/json` gets the same bytes: FHIR JSON
is JSON); requests may be `application/fhir+json` or `application/json`.
"""

import logging
from typing import Any

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404, HttpRequest, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from rest_framework import exceptions
from rest_framework.negotiation import BaseContentNegotiation
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response
from rest_framework.views import APIView, set_rollback

from api.parsers import StorableJSONParser
from referrals.workflow import WorkflowError

from .outcome import (
    BUSINESS_RULE,
    CONFLICT,
    EXCEPTION,
    FORBIDDEN,
    INVALID,
    LOGIN,
    NOT_FOUND,
    NOT_SUPPORTED,
    STRUCTURE,
    THROTTLED,
    FhirError,
    Issue,
    operation_outcome,
)

FHIR_JSON = "application/fhir+json"
logger = logging.getLogger(__name__)


class FhirJSONRenderer(JSONRenderer):
    media_type = FHIR_JSON
    format = "json"
    charset = "utf-8"


class FhirJSONParser(StorableJSONParser):
    media_type = FHIR_JSON


class AlwaysFhirJSON(BaseContentNegotiation):
    """FHIR JSON whatever the Accept header says: there is one format."""

    def select_parser(self, request: Any, parsers: list[Any]) -> Any:
        content_type = request.content_type.split(";")[0].strip().lower()
        return next((p for p in parsers if p.media_type == content_type), None)

    def select_renderer(self, request: Any, renderers: list[Any], format_suffix: Any = None) -> Any:
        return renderers[0], renderers[0].media_type


def _flat(detail: Any, prefix: str = "") -> list[tuple[str, str]]:
    if isinstance(detail, dict):
        return [
            pair
            for key, value in detail.items()
            for pair in _flat(value, f"{prefix}.{key}" if prefix else str(key))
        ]
    if isinstance(detail, list):
        return [pair for item in detail for pair in _flat(item, prefix)]
    return [(prefix, str(detail))]


def outcome_for(error: Exception) -> tuple[int, list[Issue], dict[str, str]]:
    """The status, issues and headers an error becomes."""
    if isinstance(error, FhirError):
        return error.status, error.issues, {}
    if isinstance(error, Http404 | exceptions.NotFound):
        return 404, [Issue(NOT_FOUND, str(error) or "No such resource.")], {}
    if isinstance(error, DjangoPermissionDenied):
        return 403, [Issue(FORBIDDEN, str(error) or "Not allowed.")], {}
    if isinstance(error, DjangoValidationError):
        pairs = _flat(error.message_dict if hasattr(error, "error_dict") else error.messages)
        return 422, [Issue(BUSINESS_RULE, message) for _, message in pairs], {}
    if isinstance(error, WorkflowError):
        return 409, [Issue(CONFLICT, str(error))], {}
    if isinstance(error, exceptions.Throttled):
        headers = {"Retry-After": str(int(error.wait or 1))}
        return 429, [Issue(THROTTLED, "Too many requests: try again later.")], headers
    if isinstance(error, exceptions.NotAuthenticated | exceptions.AuthenticationFailed):
        return error.status_code, [Issue(LOGIN, str(error.detail))], {}
    if isinstance(error, exceptions.PermissionDenied):
        return 403, [Issue(FORBIDDEN, str(error.detail))], {}
    if isinstance(error, exceptions.MethodNotAllowed | exceptions.UnsupportedMediaType):
        return error.status_code, [Issue(NOT_SUPPORTED, str(error.detail))], {}
    if isinstance(error, exceptions.ParseError):
        return 400, [Issue(STRUCTURE, str(error.detail))], {}
    if isinstance(error, exceptions.ValidationError):
        pairs = _flat(error.detail)
        return (
            400,
            [Issue(INVALID, message, (path,) if path else ()) for path, message in pairs],
            {},
        )
    if isinstance(error, exceptions.APIException):
        return error.status_code, [Issue(INVALID, str(error.detail))], {}
    # A fault of ours: logged with its traceback, told without detail (it may hold patient data).
    logger.exception("FHIR request failed", exc_info=error)
    return 500, [Issue(EXCEPTION, "The server could not answer this request; try again later.")], {}


def fhir_exception_handler(error: Exception, context: Any) -> Response:
    status, issues, headers = outcome_for(error)
    set_rollback()
    response = Response(operation_outcome(issues), status=status, headers=headers)
    auth_header = None
    view = context.get("view")
    request = context.get("request")
    if status == 401 and view is not None and request is not None:
        auth_header = view.get_authenticate_header(request)
    if auth_header:
        response["WWW-Authenticate"] = auth_header
    return response


class FhirView(APIView):
    """The base of every `/fhir/` view (module docstring). Not in the OpenAPI document: FHIR
    clients read the CapabilityStatement."""

    schema = None
    renderer_classes = [FhirJSONRenderer]
    parser_classes = [FhirJSONParser, StorableJSONParser]
    content_negotiation_class = AlwaysFhirJSON
    read_scope = ""
    write_scope = ""

    def get_exception_handler(self) -> Any:
        return fhir_exception_handler

    def initial(self, request: Any, *args: Any, **kwargs: Any) -> None:
        """An interaction the server does not offer is a 405 before any token is looked at (a
        write to a read-only type is not a question of scope)."""
        if request.method.lower() not in self.http_method_names or not hasattr(
            self, request.method.lower()
        ):
            raise exceptions.MethodNotAllowed(request.method)
        super().initial(request, *args, **kwargs)


@csrf_exempt
def no_such_interaction(request: HttpRequest, *args: Any, **kwargs: Any) -> JsonResponse:
    """Whatever under /fhir/ matched no route: an OperationOutcome, never an HTML page."""
    body = operation_outcome(
        [Issue(NOT_SUPPORTED, "This server supports no such interaction: see /fhir/metadata.")]
    )
    return JsonResponse(body, status=404, content_type=FHIR_JSON)
