"""In-app updates over the API (issue 12): the client's own, as the referrer's dashboard counts
them, read one at a time."""

import pytest

from referrals.consent import consent_record_decision
from referrals.models import ConsentMethod, ConsentPurpose, Notification, Referral
from tests.builders import new_draft, run_action

from .helpers import expire_tokens, problem_fields, queries_for

LIST = "/api/v1/notifications/"


def read_url(notification) -> str:
    return f"{LIST}{notification.public_id}/read/"


def made_by(people, user, **fields) -> Referral:
    """A referral whose referring clinician is `user` (a system that made it), submitted."""
    referral = new_draft(people, **fields)
    Referral.objects.filter(pk=referral.pk).update(referring_clinician=user)
    referral.refresh_from_db()
    run_action(people, referral, "submit")
    referral.refresh_from_db()
    return referral


def in_app(user):
    return Notification.objects.filter(recipient_user=user, channel="in_app")


def test_the_client_reads_its_updates_newest_first_and_marks_one_read(people, client_of, api_as):
    issued = client_of(people.practice_a)
    referral = made_by(people, issued.client.user)
    run_action(people, referral, "accept")
    api = api_as(issued)

    rows = api.get(LIST).json()["results"]
    assert [row["content"]["action"] for row in rows] == ["accept", "submit"]
    assert rows[0]["referral"] == referral.reference and rows[0]["read_at"] is None
    accepted = in_app(issued.client.user).get(event__action="accept")

    response = api.post(read_url(accepted))
    assert response.status_code == 200, response.content
    first_read = response.json()["read_at"]
    assert first_read is not None
    assert api.post(read_url(accepted)).json()["read_at"] == first_read
    unread = api.get(f"{LIST}?unread=true").json()["results"]
    assert [row["content"]["action"] for row in unread] == ["submit"]
    read = api.get(f"{LIST}?unread=false").json()["results"]
    assert [row["id"] for row in read] == [str(accepted.public_id)]


def test_updates_withheld_after_consent_was_withdrawn_are_not_listed(people, client_of, api_as):
    issued = client_of(people.practice_a)
    referral = made_by(people, issued.client.user)
    run_action(people, referral, "accept")
    run_action(people, referral, "book")
    api = api_as(issued)
    assert "book" in {row["content"]["action"] for row in api.get(LIST).json()["results"]}

    referral.refresh_from_db()
    consent_record_decision(
        referral=referral,
        by=people.referrer_a,
        purpose=ConsentPurpose.SHARE_PROGRESS,
        method=ConsentMethod.TELEPHONE,
    )

    actions = [row["content"]["action"] for row in api.get(LIST).json()["results"]]
    assert actions == ["accept", "submit"]


def test_another_client_sees_none_and_cannot_mark_them_read(people, client_of, api_as):
    issued = client_of(people.practice_a)
    made_by(people, issued.client.user)
    theirs = in_app(issued.client.user).get()

    for other in (
        client_of(people.practice_a, name="Another system"),
        client_of(people.practice_b),
        client_of(people.operator_x),
    ):
        api = api_as(other)
        assert api.get(LIST).json()["results"] == []
        problem_fields(api.post(read_url(theirs)), 404)
    theirs.refresh_from_db()
    assert theirs.read_at is None
    # Nor a person's: the referrer's own updates are theirs.
    person_made = new_draft(people)
    run_action(people, person_made, "submit")
    assert in_app(people.referrer_a).exists()
    assert api_as(client_of(people.practice_a, name="Third")).get(LIST).json()["results"] == []


@pytest.mark.parametrize("query", ["?unread=perhaps", "?cursor=nonsense"])
def test_bad_queries_are_problems(people, client_of, api_as, query):
    response = api_as(client_of(people.practice_a)).get(f"{LIST}{query}")
    assert response.status_code in (400, 404)
    assert response["Content-Type"] == "application/problem+json"


def test_each_endpoint_needs_its_scope_and_a_live_token(people, client_of, api_as):
    issued = client_of(people.practice_a)
    made_by(people, issued.client.user)
    theirs = in_app(issued.client.user).get()

    no_scope = api_as(issued, scope="referrals:write")
    problem_fields(no_scope.get(LIST), 403)
    problem_fields(no_scope.post(read_url(theirs)), 403)
    api = api_as(issued)
    expire_tokens(issued)
    problem_fields(api.get(LIST), 401)
    problem_fields(api.post(read_url(theirs)), 401)
    theirs.refresh_from_db()
    assert theirs.read_at is None


def test_the_list_costs_the_same_queries_for_one_update_or_twenty(people, client_of, api_as):
    issued = client_of(people.practice_a)
    referral = made_by(people, issued.client.user)
    row = in_app(issued.client.user).get()
    api = api_as(issued)

    one, body = queries_for(api, LIST)
    assert len(body["results"]) == 1
    Notification.objects.bulk_create(
        Notification(
            referral=referral,
            event=row.event,
            channel="in_app",
            recipient_organisation=people.practice_a,
            recipient_user=issued.client.user,
            payload=row.payload,
            status="sent",
            sent_at=row.sent_at,
            dedup_key=f"copy-{n}",
        )
        for n in range(19)
    )
    twenty, body = queries_for(api, LIST)
    assert len(body["results"]) == 20
    assert twenty == one
