"""The write path over /api/v1/ (issue 15): a new patient's draft and its submission in a fixed,
small number of queries, answered with exactly what reading the referral again would show."""

import json
import uuid

import pytest
from rest_framework.renderers import JSONRenderer

from api.serializers import ReferralSerializer
from referrals.selectors import referral_list_for
from tests.api.test_referral_writes import LIST, draft_body, one, post

# Each request: its token and client (2), the client's memberships (1).
SIGNED_IN = 3


@pytest.fixture
def gp_system(people, client_of):
    return client_of(people.practice_a, name="GP system")


@pytest.fixture
def practice(gp_system, api_as):
    return api_as(gp_system)


def as_read_again(people, gp_system, reference: str) -> dict:
    """The referral as the response would show it from a fresh read of its row."""
    shown = referral_list_for(gp_system.client.user).get(reference=reference)
    return json.loads(JSONRenderer().render(ReferralSerializer(shown).data))


def test_a_new_patients_draft_is_made_in_a_dozen_queries(
    people, gp_system, practice, django_assert_num_queries
):
    """The chosen programme's placements (1), the NHS number on the practice's file (1), the
    patient (1), the referral and its event (2) and the audited read of the answer (1), with the
    view's, the patient's and the draft's savepoints (6): nothing is read to check the rows and
    the referral is not read back."""
    with django_assert_num_queries(SIGNED_IN + 6 + 6):
        created = post(practice, LIST, draft_body(people))
    assert created.status_code == 201, created.content
    assert created.json() == as_read_again(people, gp_system, created.json()["reference"])


def test_submitting_over_the_api_is_a_dozen_queries(
    people, gp_system, practice, django_assert_num_queries
):
    """The referral in the client's scope (1), then as the service: locked with the rows it
    reads (1), its state, event, consent records, the email preference and outbox rows (5);
    the operator it was routed to, for the answer (1), and the audited read (1); the service's
    savepoint (2)."""
    reference = post(practice, LIST, draft_body(people)).json()["reference"]
    with django_assert_num_queries(SIGNED_IN + 9 + 2):
        submitted = post(practice, one(reference, "submit/"), {"version": 1})
    assert submitted.status_code == 200, submitted.content
    assert submitted.json()["status"] == "submitted"
    assert submitted.json() == as_read_again(people, gp_system, reference)


def test_an_idempotency_key_adds_only_its_own_queries(people, practice, django_assert_num_queries):
    """The key's row (read, written, completed with the audited ids) and its savepoints."""
    with django_assert_num_queries(SIGNED_IN + 6 + 6 + 10):
        created = post(practice, LIST, draft_body(people), HTTP_IDEMPOTENCY_KEY=str(uuid.uuid4()))
    assert created.status_code == 201, created.content
