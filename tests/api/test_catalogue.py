"""The offer (issue 12): programmes, facilities and classes, an operator's own for its systems and
what can be referred to for a referrer's, as the referral wizard offers them."""

import pytest

from tests.factories import FacilityFactory, ProgrammeClassFactory, ProgrammeFactory

from .helpers import expire_tokens, problem_fields, queries_for

LISTS = ["/api/v1/programmes/", "/api/v1/facilities/", "/api/v1/classes/"]


def names(api, url: str) -> set[str]:
    response = api.get(url)
    assert response.status_code == 200, response.content
    return {row["name"] for row in response.json()["results"]}


def test_an_operator_sees_its_own_offer_active_or_not_and_no_other(people, client_of, api_as):
    retired = ProgrammeFactory(operator=people.operator_x, name="Retired X", is_active=False)
    api = api_as(client_of(people.operator_x))

    assert names(api, LISTS[0]) == {people.programme_x.name, retired.name}
    assert names(api, LISTS[1]) == {people.facility_x.name, people.facility_x2.name}
    assert names(api, LISTS[2]) == {people.class_x.name}
    row = api.get(LISTS[2]).json()["results"][0]
    assert row["programme"] == {
        "id": str(people.programme_x.public_id),
        "name": people.programme_x.name,
    }
    assert row["weekday_label"] == people.class_x.get_weekday_display()


def test_a_programme_says_which_measures_it_takes_and_when(people, client_of, api_as):
    ProgrammeFactory(
        operator=people.operator_x,
        name="Scheduled X",
        # Untidy as stored: the API gives the measures in the library's order, timepoints in time's.
        outcome_schedule=[
            {"instrument": "phq9", "timepoints": ["baseline"]},
            {"instrument": "swemwbs", "timepoints": ["exit", "baseline", "exit"]},
        ],
    )
    rows = api_as(client_of(people.operator_x)).get(LISTS[0]).json()["results"]

    schedules = {row["name"]: row["outcome_schedule"] for row in rows}
    assert schedules["Scheduled X"] == [
        {"instrument": "swemwbs", "timepoints": ["baseline", "exit"]},
        {"instrument": "phq9", "timepoints": ["baseline"]},
    ]
    assert schedules[people.programme_x.name] == []


def test_a_referrer_sees_what_the_wizard_offers(people, client_of, api_as):
    # Offered: an active class of an active programme at an active facility, any operator.
    ProgrammeFactory(operator=people.operator_x, name="No classes yet")
    closed = FacilityFactory(operator=people.operator_y, name="Closed pool", is_active=False)
    ProgrammeClassFactory(programme=people.programme_y, facility=closed, name="Closed class")
    paused = ProgrammeClassFactory(
        programme=people.programme_x, facility=people.facility_x2, is_active=False
    )
    api = api_as(client_of(people.practice_a))

    assert names(api, LISTS[0]) == {people.programme_x.name, people.programme_y.name}
    assert names(api, LISTS[1]) == {people.facility_x.name, people.facility_y.name}
    assert names(api, LISTS[2]) == {people.class_x.name, people.class_y.name}
    assert paused.name not in names(api, LISTS[2])


def test_a_commissioner_system_sees_no_offer(people, client_of, api_as):
    """A commissioner's client can only have reports:read, so the offer is refused outright."""
    api = api_as(client_of(people.commissioner_org))
    for url in LISTS:
        response = api.get(url)
        assert response.status_code == 403 and "results" not in response.json()


@pytest.mark.parametrize("url", LISTS)
def test_without_the_scope_or_with_an_expired_token_nothing_is_shown(
    people, client_of, api_as, url
):
    refused = api_as(client_of(people.operator_x, ["attendance:write"])).get(url)
    problem_fields(refused, 403)
    reader = client_of(people.operator_x, ["referrals:read"], name="Reader")
    api = api_as(reader)
    expire_tokens(reader)
    problem_fields(api.get(url), 401)


def test_each_list_costs_the_same_queries_for_one_row_or_twenty(people, client_of, api_as):
    operator = people.operator_y
    api = api_as(client_of(operator))
    one = [queries_for(api, url)[0] for url in LISTS]
    for _ in range(19):
        programme = ProgrammeFactory(operator=operator)
        ProgrammeClassFactory(programme=programme, facility=FacilityFactory(operator=operator))
    twenty = []
    for url in LISTS:
        count, body = queries_for(api, url)
        assert len(body["results"]) == 20
        twenty.append(count)
    assert twenty == one
