"""The same Idempotency-Key twice at once, on separate PostgreSQL connections: one write."""

import pytest
from rest_framework.test import APIClient

from referrals.models import Referral
from tests.referrals.test_concurrency import run_concurrently

from .conftest import token_for
from .test_referral_writes import LIST, draft_body


@pytest.mark.concurrency
@pytest.mark.django_db(transaction=True)
def test_a_retry_sent_while_the_first_is_running_waits_and_gets_the_same_answer(people, client_of):
    token = token_for(client_of(people.practice_a))["access_token"]
    body = draft_body(people)

    def send():
        api = APIClient()
        api.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
        return api.post(LIST, body, format="json", HTTP_IDEMPOTENCY_KEY="at-once")

    outcomes = run_concurrently([send, send])

    assert [kind for kind, _ in outcomes] == ["ok", "ok"], outcomes
    first, second = (response for _, response in outcomes)
    assert (first.status_code, second.status_code) == (201, 201)
    assert first.json() == second.json()
    assert sorted(r.get("Idempotent-Replayed", "") for r in (first, second)) == ["", "true"]
    assert Referral.objects.count() == 1
