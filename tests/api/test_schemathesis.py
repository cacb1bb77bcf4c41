"""Schemathesis against the live OpenAPI document (issue 12): every operation answers as the
document says, without a server error, to valid, invalid and real requests; and a draft can be
made, read, changed and sent by following the document's links.

Every call goes through Django in process, from a system with a real token (`fuzzing.py`), to
referrals in every state (`fuzz_world.py`). A failure prints a curl command that reproduces it.
"""

import uuid
from collections import Counter
from typing import Any

import pytest
import schemathesis
from hypothesis import settings
from hypothesis import strategies as st
from schemathesis import APIOperation, Case, Response
from schemathesis.errors import FailureGroup

from .fuzz_world import World, build_world, real_cases, valid_bodies
from .fuzzing import CHECKS, EXAMPLES, fuzz, live_schema, operations

# What a GP practice's system calls (what a referrer does on the pages); the leisure operator's
# system, with every scope, calls the rest.
REFERRER_CALLS = {
    "referral_create_draft",
    "referral_update_draft",
    "referral_submit",
    "referral_answer_info",
    "referral_cancel",
    "referrals_list",
    "referrals_retrieve",
    "patient_lookup",
    "notifications_list",
    "notifications_read_create",
}
# The workflow actions in the order a referral meets them, those that end one last, so that each
# finds referrals it can move; the other operations go first, in the document's order.
ACTIONS_IN_ORDER = [
    "referral_submit",
    "referral_request_info",
    "referral_answer_info",
    "referral_accept",
    "referral_waitlist",
    "referral_book",
    "referral_start",
    "referral_complete",
    "referral_discharge",
    "referral_decline",
    "referral_cancel",
]
DRAFT_CALLS = [
    "referral_create_draft",
    "referrals_retrieve",
    "referral_update_draft",
    "referral_submit",
]
# Only the document's links, positive cases: the walk is about the links, not the bodies.
FOLLOW_LINKS = {
    "generation": {"mode": "positive"},
    "phases": {"stateful": {"inference": {"algorithms": []}}},
}


@pytest.fixture
def world(people, client_of, settings) -> World:
    # A run makes more calls a minute than a client's budget (test_clients.py tests the budget).
    settings.PORTAL_API_RATE = "100000/minute"
    return build_world(people, client_of)


def test_every_operation_answers_as_documented(world):
    schema = live_schema()

    def in_order(operation: APIOperation) -> int:
        operation_id = schema.get_operation_id(operation)
        return ACTIONS_IN_ORDER.index(operation_id) if operation_id in ACTIONS_IN_ORDER else -1

    failures: list[BaseException] = []
    for operation in sorted(operations(schema), key=in_order):
        as_referrer = schema.get_operation_id(operation) in REFERRER_CALLS
        caller = world.referrer if as_referrer else world.operator
        try:
            statuses = fuzz(operation, caller.headers, real_cases(operation, caller, world))
            assert set(statuses) - {404}, f"only 404s: no case reached a real object {statuses}"
        except (Exception, FailureGroup) as failure:  # all run; every failure is raised below
            failure.add_note(f"in {operation.label}")
            failures.append(failure)
    if failures:
        raise BaseExceptionGroup(f"{len(failures)} operation(s) broke the document", failures)


def test_a_draft_is_made_read_changed_and_sent_by_following_links(world):
    schema = live_schema(schemathesis.Config.from_dict(FOLLOW_LINKS))
    valid = valid_bodies(world)
    answered: Counter[tuple[str | None, int]] = Counter()

    @schema.hook
    def flatmap_body(context: Any, body: Any) -> st.SearchStrategy[Any]:
        """Half the new drafts are complete and half the changes valid, so that the links lead
        to drafts that change and can be sent (a random body is almost always refused)."""
        chosen = valid.get(schema.get_operation_id(context.operation) or "")
        return st.just(body) if chosen is None else st.one_of(st.just(body), chosen)

    class Drafts(schema.include(operation_id=DRAFT_CALLS).as_state_machine()):
        def before_call(self, case: Case) -> None:
            # A drawn key can come again in a later walk with another body: a 422 there and not
            # when Hypothesis replays the walk, which it would take for a flaky test.
            if case.headers and "Idempotency-Key" in case.headers:
                case.headers["Idempotency-Key"] = str(uuid.uuid4())

        def get_call_kwargs(self, case: Case) -> dict[str, Any]:
            return {"headers": world.referrer.headers}

        def after_call(self, response: Response, case: Case) -> None:
            super().after_call(response, case)
            answered[schema.get_operation_id(case.operation), response.status_code] += 1

        def validate_response(self, response: Response, case: Case, **kwargs: Any) -> None:
            case.validate_response(
                response, checks=CHECKS, transport_kwargs=kwargs, recorder=self.recorder
            )

    # 25 walks of up to 8 calls.
    Drafts.run(settings=settings(EXAMPLES, max_examples=25, stateful_step_count=8))
    # A random reference is a 404: a 200 or 409 (stale, or sent already) came by a link from a
    # new draft.
    reached = {operation_id for (operation_id, status) in answered if status in (200, 409)}
    assert set(DRAFT_CALLS) - {"referral_create_draft"} <= reached, answered
