"""A request id for every request, and the pghistory context (acting user, request id)."""

import re
import uuid
from contextvars import ContextVar

import pghistory.middleware

HEADER = "X-Request-ID"
# A caller's id is kept only when it is short and plain, so it cannot smuggle data into logs.
VALID_REQUEST_ID = re.compile(r"[A-Za-z0-9._-]{8,64}")
# The id of the request this thread is serving, for log records (`config.logs`); "-" outside one.
current_request_id: ContextVar[str] = ContextVar("current_request_id", default="-")


class RequestIdMiddleware:
    """Take a valid incoming X-Request-ID or make a uuid4; set `request.request_id` and echo it."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        given = request.headers.get(HEADER, "")
        request.request_id = given if VALID_REQUEST_ID.fullmatch(given) else str(uuid.uuid4())
        token = current_request_id.set(request.request_id)
        try:
            response = self.get_response(request)
        finally:
            current_request_id.reset(token)
        response[HEADER] = request.request_id
        return response


class HistoryMiddleware(pghistory.middleware.HistoryMiddleware):
    """pghistory's context (user, path) plus the request id, stored with every change event."""

    def get_context(self, request):
        return {**super().get_context(request), "request_id": getattr(request, "request_id", "")}
