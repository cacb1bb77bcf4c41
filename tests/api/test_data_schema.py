"""The OpenAPI document describes the data endpoints (issue 12): each with the scope it needs,
its body and its responses, errors as problem documents; and it validates without a warning."""

import yaml
from django.core.management import call_command

from api.problems import PROBLEM_CONTENT_TYPE

# path: {method: (scope, the statuses it documents)}
OPERATIONS = {
    "/api/v1/programmes/": {"get": ("referrals:read", {"200", "400", "401", "403"})},
    "/api/v1/facilities/": {"get": ("referrals:read", {"200", "400", "401", "403"})},
    "/api/v1/classes/": {"get": ("referrals:read", {"200", "400", "401", "403"})},
    "/api/v1/sessions/": {"get": ("referrals:read", {"200", "400", "401", "403"})},
    "/api/v1/sessions/{id}/attendance/": {
        "post": ("attendance:write", {"200", "400", "401", "403", "404", "409", "422"})
    },
    "/api/v1/referrals/{reference}/assessments/": {
        "get": ("outcomes:read", {"200", "400", "401", "403", "404"}),
        "post": ("outcomes:write", {"201", "400", "401", "403", "404", "422"}),
    },
    "/api/v1/checkins/": {"post": ("attendance:write", {"200", "400", "401", "403", "422"})},
    "/api/v1/events/": {"get": ("referrals:read", {"200", "400", "401", "403"})},
    "/api/v1/notifications/": {"get": ("referrals:read", {"200", "400", "401", "403"})},
    "/api/v1/notifications/{id}/read/": {
        "post": ("referrals:read", {"200", "401", "403", "404", "422"})
    },
}


def test_the_data_endpoints_are_documented_and_the_schema_validates(db, tmp_path):
    out = tmp_path / "schema.yaml"
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(out))
    document = yaml.safe_load(out.read_text())

    for path, methods in OPERATIONS.items():
        for method, (scope, statuses) in methods.items():
            operation = document["paths"][path][method]
            assert operation["security"] == [{"oauth2": [scope]}], (path, method)
            # Every operation may be throttled (api.schema.throttled_responses).
            assert set(operation["responses"]) == statuses | {"429"}, (path, method)
            assert "Retry-After" in operation["responses"]["429"]["headers"]
            for status, response in operation["responses"].items():
                if status.startswith("4"):
                    assert list(response["content"]) == [PROBLEM_CONTENT_TYPE]
    bodies = {
        "/api/v1/sessions/{id}/attendance/": "AttendanceRequest",
        "/api/v1/referrals/{reference}/assessments/": "AssessmentInputRequest",
        "/api/v1/checkins/": "CheckinRequest",
    }
    for path, name in bodies.items():
        body = document["paths"][path]["post"]["requestBody"]["content"]["application/json"]
        assert body["schema"]["$ref"].endswith(name)
    # Every POST honours Idempotency-Key (`api/idempotency.py`), and says so.
    for path, methods in document["paths"].items():
        if "post" in methods:
            headers = {p["name"] for p in methods["post"]["parameters"] if p["in"] == "header"}
            assert "Idempotency-Key" in headers, path
    # A check-in is one event or a batch of up to 1,000, each refusing fields it does not know.
    schemas = document["components"]["schemas"]
    assert [one["$ref"] for one in schemas["CheckinRequest"]["oneOf"]] == [
        "#/components/schemas/CheckinEventRequest",
        "#/components/schemas/CheckinBatchRequest",
    ]
    events = schemas["CheckinBatchRequest"]["properties"]["events"]
    assert (events["minItems"], events["maxItems"]) == (1, 1000)
    assert schemas["CheckinEventRequest"]["additionalProperties"] is False
    assert set(schemas["CheckinEventRequest"]["required"]) == {
        "event_id",
        "facility",
        "membership_number",
        "occurred_at",
    }
    feed = document["components"]["schemas"]["EventsPage"]
    assert set(feed["properties"]) == {"events", "next"}
