"""The home page: each persona's starting point shows what they may see and nothing more."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from referrals import services
from referrals.models import Status
from tests.builders import new_draft, referral_in_state
from tests.factories import PatientFactory

HOME = "/"


def home_html(client, user) -> str:
    client.force_login(user)
    response = client.get(HOME)
    assert response.status_code == 200
    return response.content.decode()


def practice_b_submitted(people):
    referral = services.referral_create_draft(
        by=people.referrer_b,
        organisation=people.practice_b,
        patient=PatientFactory(
            organisation=people.practice_b, given_name="Bartholomew", family_name="Quenby"
        ),
        reasons=["38341003"],
        programme=people.programme_y,
        preferred_facility=people.facility_y,
        consent_referral=True,
        exclusions_present=[],
    )
    services.referral_submit(referral=referral, by=people.referrer_b)
    return referral


@pytest.fixture
def seeded(people):
    """A's draft and submitted referral to operator X, and B's submitted referral to operator Y."""
    a_draft = new_draft(
        people,
        patient=PatientFactory(
            organisation=people.practice_a, given_name="Araminta", family_name="Drafty"
        ),
    )
    a_submitted = referral_in_state(
        people,
        Status.SUBMITTED,
        patient=PatientFactory(
            organisation=people.practice_a, given_name="Philomena", family_name="Zabriskie"
        ),
    )
    b_submitted = practice_b_submitted(people)
    return a_draft, a_submitted, b_submitted


def test_anonymous_visitor_is_sent_to_sign_in(client, db):
    response = client.get(HOME)

    assert response.status_code == 302
    assert response.url.startswith("/accounts/login/")


def test_referrer_sees_own_practice_referrals_and_not_another_practices(client, people, seeded):
    a_draft, a_submitted, b_submitted = seeded

    html = home_html(client, people.referrer_a)

    assert a_draft.reference in html
    assert a_submitted.reference in html
    assert "Zabriskie" in html
    assert b_submitted.reference not in html
    assert "Quenby" not in html


def test_coordinator_sees_referrals_to_their_operator_but_not_drafts_or_other_operators(
    client, people, seeded
):
    a_draft, a_submitted, b_submitted = seeded

    html = home_html(client, people.coordinator_x)

    assert a_submitted.reference in html
    assert a_draft.reference not in html
    assert b_submitted.reference not in html
    assert "Araminta" not in html


def test_other_operators_coordinator_sees_only_their_referrals(client, people, seeded):
    _, a_submitted, b_submitted = seeded

    html = home_html(client, people.coordinator_y)

    assert b_submitted.reference in html
    assert a_submitted.reference not in html


def test_instructor_sees_nothing_before_a_referral_is_placed_at_their_facility(
    client, people, seeded
):
    _, a_submitted, _ = seeded
    assert a_submitted.reference not in home_html(client, people.instructor_x)

    services.referral_accept(
        referral=a_submitted, by=people.coordinator_x, facility=people.facility_x
    )

    assert a_submitted.reference in home_html(client, people.instructor_x)


@pytest.mark.parametrize("persona", ["admin_a", "admin_x"])
def test_org_admin_sees_no_referrals(client, people, seeded, persona):
    html = home_html(client, getattr(people, persona))

    for referral in seeded:
        assert referral.reference not in html
    for name in ("Araminta", "Zabriskie", "Quenby"):
        assert name not in html


# --- Commissioner: aggregates only ---------------------------------------------------------------


@pytest.fixture
def commissioned(people):
    """Five submitted and two declined referrals to the commissioned programme (X), one not."""
    patients = [
        PatientFactory(
            organisation=people.practice_a,
            given_name=f"Commissioned{n}",
            family_name=f"Patientname{n}",
        )
        for n in range(7)
    ]
    referrals = [
        referral_in_state(people, Status.SUBMITTED, patient=patient) for patient in patients[:5]
    ] + [referral_in_state(people, Status.DECLINED, patient=patient) for patient in patients[5:]]
    return patients, referrals


def test_commissioner_sees_status_counts_without_identifiable_data(client, people, commissioned):
    patients, referrals = commissioned
    uncommissioned = practice_b_submitted(people)

    html = home_html(client, people.commissioner)

    assert "Referrals by status" in html
    for patient in patients:
        assert patient.given_name not in html
        assert patient.family_name not in html
        assert patient.nhs_number not in html
        assert patient.nhs_number_display not in html
    for referral in [*referrals, uncommissioned]:
        assert referral.reference not in html


def test_commissioner_counts_under_five_are_shown_as_fewer_than_five(client, people, commissioned):
    client.force_login(people.commissioner)

    response = client.get(HOME)

    counts = {row["status"]: row["count"] for row in response.context["status_counts"]}
    assert counts["submitted"] == 5
    assert counts["declined"] == "fewer than 5"
    assert counts["accepted"] == 0
    assert list(counts) == [
        "draft",
        "submitted",
        "info_requested",
        "accepted",
        "waitlisted",
        "booked",
        "active",
        "completed",
        "declined",
        "discharged",
        "cancelled",
    ]
    assert b"fewer than 5" in response.content
    assert response.context["referrals"] is None


def test_commissioner_counts_leave_out_programmes_they_do_not_commission(client, people):
    for _ in range(3):
        practice_b_submitted(people)
    client.force_login(people.commissioner)

    response = client.get(HOME)

    assert all(row["count"] == 0 for row in response.context["status_counts"])


# --- A constant number of queries ---------------------------------------------------------------


def home_query_count(client, references) -> int:
    client.get(HOME)  # warm caches (session, content types) before measuring
    with CaptureQueriesContext(connection) as queries:
        response = client.get(HOME)
    assert response.status_code == 200
    # The rows counted for are on the page: the first 25 of them.
    html = response.content.decode()
    shown = min(len(references), 25)
    assert f"Showing 1 to {shown} of {len(references)}" in html
    on_page = [r for r in references if f'<span class="nhsuk-u-nowrap">{r}</span>' in html]
    assert len(on_page) == shown
    return len(queries)


@pytest.mark.parametrize("persona", ["referrer_a", "coordinator_x"])
def test_home_runs_the_same_number_of_queries_for_1_and_50_referrals(client, people, persona):
    client.force_login(getattr(people, persona))
    references = [referral_in_state(people, Status.SUBMITTED).reference]
    with_one = home_query_count(client, references)

    for _ in range(49):
        referral = new_draft(people)
        services.referral_submit(referral=referral, by=people.referrer_a)
        references.append(referral.reference)
    with_fifty = home_query_count(client, references)

    assert with_fifty == with_one


def test_referrer_home_query_count_is_bounded(client, people, django_assert_max_num_queries):
    references = [new_draft(people).reference for _ in range(30)]
    client.force_login(people.referrer_a)
    client.get(HOME)

    # Session, user, memberships, page count, page rows: one spare for growth, no more.
    with django_assert_max_num_queries(6):
        response = client.get(HOME)
    assert response.status_code == 200
    html = response.content.decode()
    assert "Showing 1 to 25 of 30" in html
    on_page = [r for r in references if f'<span class="nhsuk-u-nowrap">{r}</span>' in html]
    assert len(on_page) == 25


def test_home_pages_referrals_25_at_a_time(client, people):
    references = {new_draft(people).reference for _ in range(30)}
    client.force_login(people.referrer_a)

    first = client.get(HOME).content.decode()
    second = client.get(HOME, {"page": 2}).content.decode()

    on_first = {ref for ref in references if ref in first}
    on_second = {ref for ref in references if ref in second}
    assert len(on_first) == 25
    assert len(on_second) == 5
    assert on_first | on_second == references
