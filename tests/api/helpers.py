"""Shared checks for the data endpoints' tests: an expired token, a problem document, and the
queries one call costs."""

import datetime

from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from oauth2_provider.models import AccessToken

PROBLEM = "application/problem+json"


def expire_tokens(credentials) -> None:
    AccessToken.objects.filter(application__api_client=credentials.client).update(
        expires=timezone.now() - datetime.timedelta(seconds=1)
    )


def problem_fields(response, status: int) -> list[str]:
    """The fields a problem document names, after checking it is one with this status."""
    assert response.status_code == status, response.content
    assert response["Content-Type"] == PROBLEM
    body = response.json()
    assert body["status"] == status and body["title"] and body["detail"]
    return [error["field"] for error in body.get("errors", [])]


def queries_for(api, url: str) -> tuple[int, dict]:
    """How many queries a GET costs, and what it returned (a 200)."""
    with CaptureQueriesContext(connection) as captured:
        response = api.get(url)
    assert response.status_code == 200, response.content
    return len(captured), response.json()
