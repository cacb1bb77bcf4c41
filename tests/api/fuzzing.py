"""Schemathesis over the live OpenAPI document, in process: what `test_schemathesis.py` checks and
how it calls the API.

The app is Django's own WSGI handler, called in the test's thread, so every request runs on the
test's database connection and inside its transaction (rolled back at the end, like any test).
"""

from collections import Counter
from collections.abc import Callable, Iterator
from typing import Any

import schemathesis
from django.core.handlers.wsgi import WSGIHandler
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis import APIOperation, Case, GenerationMode
from schemathesis.specs.openapi.schemas import OpenApiSchema

SCHEMA_URL = "/api/v1/schema/?format=json"

# What every response must be: no server error, nothing the document does not say (status code,
# content type, body, the headers it names), and bad input refused with a 4xx, never taken.
CHECKS = [
    schemathesis.checks.not_a_server_error,
    schemathesis.checks.status_code_conformance,
    schemathesis.checks.content_type_conformance,
    schemathesis.checks.response_schema_conformance,
    schemathesis.checks.response_headers_conformance,
    schemathesis.checks.negative_data_rejection,
]

# 50 cases an operation, the same ones on every run (derandomize; no example database, so a
# failure found on one machine is not replayed on another). No health checks: each case is a
# request, slow by nature, and large bodies are drawn on purpose.
EXAMPLES = settings(
    max_examples=50,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=list(HealthCheck),
)


def in_test_transaction(handler: WSGIHandler) -> Callable[..., list[bytes]]:
    """Django's WSGI app without the connection handling a server needs: Django closes a
    connection that is in a transaction (the test's) when a request starts and ends, so those
    signals are off during the request, as `django.test.Client` turns them off."""

    def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> list[bytes]:
        request_started.disconnect(close_old_connections)
        request_finished.disconnect(close_old_connections)
        try:
            response = handler(environ, start_response)
            body = b"".join(response)
            response.close()  # sends request_finished, as a server does
        finally:
            request_started.connect(close_old_connections)
            request_finished.connect(close_old_connections)
        return [body]

    return app


def live_schema(config: schemathesis.Config | None = None) -> OpenApiSchema:
    """The document as /api/v1/schema/ serves it, its operations called in process."""
    return schemathesis.openapi.from_wsgi(
        SCHEMA_URL, in_test_transaction(WSGIHandler()), config=config
    )


def operations(schema: OpenApiSchema) -> Iterator[APIOperation]:
    """Every operation of the document; one schemathesis cannot read fails here."""
    for result in schema.get_all_operations():
        yield result.ok()


def fuzz(
    operation: APIOperation, headers: dict[str, str], real: st.SearchStrategy[Case] | None
) -> Counter[int]:
    """Call `operation` with schemathesis's valid and invalid cases and, when given, `real` ones
    (naming objects that exist), checking every response; the statuses it answered."""
    modes = (GenerationMode.POSITIVE, GenerationMode.NEGATIVE)
    cases = [operation.as_strategy(mode) for mode in modes]
    if real is not None:
        cases.append(real)
    statuses: Counter[int] = Counter()

    @given(case=st.one_of(cases))
    @EXAMPLES
    def call(case: Case) -> None:
        statuses[case.call_and_validate(headers=headers, checks=CHECKS).status_code] += 1

    call()
    return statuses
