"""Telling an htmx request from a page load, in one place: the session-timeout middleware (at
the bottom of the stack, here in accounts) and the pages (through `referrals.web`) both ask."""

from django.http import HttpRequest


def is_htmx(request: HttpRequest) -> bool:
    return request.headers.get("HX-Request") == "true"
