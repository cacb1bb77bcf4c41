"""What the schemathesis run (test_schemathesis.py) found, each pinned by a plain test: bad input
is a 400 problem naming the field and changes nothing, and the document says what the API does."""

import base64
import json

import pytest
import yaml
from django.core.management import call_command

from api.models import IdempotencyKey

from .helpers import PROBLEM, problem_fields


@pytest.fixture
def practice(people, client_of, api_as):
    return api_as(client_of(people.practice_a))


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"nhs_number": "999\u00000001"}, "nhs_number"),
        ({"nhs_number": "\ud800"}, "nhs_number"),
        ({"nhs\u0000": "9990000018"}, ""),  # a key: reported at its parent, not echoed
        ({"patient": {"given_name": ["x", "\u0000"]}}, "patient.given_name[1]"),
    ],
)
def test_text_postgresql_cannot_store_is_a_400_naming_the_field(practice, body, field):
    """Echoed in a refusal that the idempotency record keeps, a NUL key was a 500."""
    as_json = json.dumps(body)  # escaped, as a client sends them: \u0000, \ud800
    response = practice.post(
        "/api/v1/patients/lookup/",
        as_json,
        content_type="application/json",
        HTTP_IDEMPOTENCY_KEY="k-1",
    )
    assert problem_fields(response, 400) == [field]
    assert not IdempotencyKey.objects.exists()


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/sessions/not-a-uuid/attendance/",
        "/api/v1/referrals",  # no slash: never a redirect, which would drop a POST's body
        "/api/v1/nothing/here/",
    ],
)
def test_any_other_api_url_is_a_404_problem(practice, path):
    for response in (practice.get(path), practice.post(path, {}, format="json")):
        assert response.status_code == 404
        assert response["Content-Type"] == PROBLEM
        assert response.json()["status"] == 404


def _cursor(position: str) -> str:
    return base64.b64encode(f"o=0&p={position}".encode()).decode()


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("page_size=1.5", "page_size"),
        ("page_size=0", "page_size"),
        ("page_size=5&page_size=6", "page_size"),
        ("cursor=nonsense", "cursor"),
        (f"cursor={_cursor('not-an-id')}", "cursor"),  # was a 500
        ("unread=", "unread"),
    ],
)
def test_a_bad_page_or_filter_is_a_400_naming_it(practice, query, field):
    assert problem_fields(practice.get(f"/api/v1/notifications/?{query}"), 400) == [field]


def test_a_page_over_the_largest_is_the_largest(practice):
    assert practice.get("/api/v1/referrals/?page_size=5000").status_code == 200


def test_the_document_says_what_the_api_does(db, tmp_path):
    out = tmp_path / "schema.yaml"
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(out))
    document = yaml.safe_load(out.read_text())
    schemas, paths = document["components"]["schemas"], document["paths"]

    # Bodies refuse fields they do not know.
    assert schemas["DraftCreateRequest"]["additionalProperties"] is False
    assert schemas["PatientDetailsRequest"]["additionalProperties"] is False
    # A class's start is a local time, with no UTC offset; a centre may have no email address.
    assert "format" not in schemas["ProgrammeClass"]["properties"]["start_time"]
    assert {"maxLength": 0} in schemas["Facility"]["properties"]["email"]["anyOf"]
    # Reads of referrals document their refusals.
    assert {"400", "401", "403"} <= set(paths["/api/v1/referrals/"]["get"]["responses"])
    assert {"401", "404"} <= set(paths["/api/v1/referrals/{reference}/"]["get"]["responses"])
    # A new draft links to reading, changing and sending it, at the version it returned.
    created = paths["/api/v1/referrals/"]["post"]["responses"]["201"]
    assert set(created["links"]) == {"ReadDraft", "UpdateDraft", "SubmitDraft"}
    assert created["links"]["SubmitDraft"]["parameters"] == {
        "reference": "$response.body#/reference",
        "header.If-Match": "$response.header.ETag",
    }
    assert set(created["headers"]) == {"ETag", "Location"}
