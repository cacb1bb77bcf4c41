"""The pages and the API give the same answer to the same question (issue 12): the referrals a
GP practice's people see on the dashboard are the ones its system lists, and an operator's
coordinator's worklist holds the submitted referrals its system lists as submitted."""

from referrals.models import Status
from tests.builders import new_draft, referral_in_state


def _all_pages(api, url: str) -> list[str]:
    references: list[str] = []
    while url:
        body = api.get(url).json()
        references += [row["reference"] for row in body["results"]]
        url = body["next"]
    return references


def test_the_practice_dashboard_and_the_practice_system_list_the_same_referrals(
    client, people, client_of, api_as
):
    mine = [referral_in_state(people, status) for status in (Status.SUBMITTED, Status.ACTIVE)]
    mine.append(new_draft(people))

    client.force_login(people.referrer_a)
    page = client.get("/referrals/", {"clinician": "all"})
    on_the_page = {row.reference for row in page.context["page_obj"].object_list}

    api = api_as(client_of(people.practice_a))
    over_the_api = _all_pages(api, "/api/v1/referrals/?page_size=2")

    assert set(over_the_api) == on_the_page
    assert {r.reference for r in mine} <= on_the_page
    assert len(over_the_api) == len(set(over_the_api))  # no row twice across pages


def test_the_coordinators_worklist_and_the_operator_system_list_the_same_submitted_referrals(
    client, people, client_of, api_as
):
    for status in (Status.SUBMITTED, Status.SUBMITTED, Status.ACCEPTED):
        referral_in_state(people, status)

    client.force_login(people.coordinator_x)
    worklist = client.get("/triage/", {"status": "submitted"})
    rows = worklist.context["page_obj"].object_list
    on_the_page = {row.reference for row in rows}

    api = api_as(client_of(people.operator_x))
    over_the_api = set(_all_pages(api, "/api/v1/referrals/?status=submitted"))

    assert over_the_api == on_the_page and len(on_the_page) == 2
