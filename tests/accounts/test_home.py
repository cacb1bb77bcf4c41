"""The home page: each persona's starting point shows what they may see and nothing more."""

import datetime
from html import unescape

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from referrals import services
from referrals.models import Status
from tests.builders import new_draft, referral_in_state, run_action
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
        heart_rate_medication=False,
        risk_tier="low",
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


def test_referrer_home_counts_own_practice_referrals_and_not_another_practices(
    client, people, seeded
):
    client.force_login(people.referrer_a)

    response = client.get(HOME)

    summary = response.context["referrer"]
    assert (summary["total"], summary["mine"], summary["drafts"], summary["questions"]) == (
        2,
        2,
        1,
        0,
    )
    assert summary["needs_action"] == 1
    html = response.content.decode()
    for referral in seeded:
        assert referral.reference not in html
    for name in ("Araminta", "Zabriskie", "Quenby"):
        assert name not in html


def test_finding_11_the_referrers_home_has_make_a_referral_and_search_and_no_second_list(
    client, people, seeded
):
    client.force_login(people.referrer_a)

    response = client.get(HOME)

    html = response.content.decode()
    assert response.context["referrals"] is None  # the one list is the dashboard
    assert "<table" not in html
    assert f'href="{reverse("referrals:new")}"' in html
    assert "Make a referral" in html
    assert f'action="{reverse("referrals:dashboard")}?clinician=all"' in html
    assert 'name="q"' in html
    assert f'href="{reverse("referrals:dashboard")}?status=needs_action&amp;clinician=all"' in html
    assert "There are no referrals to show" not in html


def test_finding_11_searching_from_the_referrers_home_finds_the_referral(client, people, seeded):
    _, a_submitted, _ = seeded
    client.force_login(people.referrer_a)

    response = client.post(
        f"{reverse('referrals:dashboard')}?clinician=all", {"q": "Zabriskie"}, follow=True
    )

    assert response.redirect_chain == [(f"{reverse('referrals:dashboard')}?clinician=all", 302)]
    assert a_submitted.reference in response.content.decode()


def test_coordinator_sees_referrals_to_their_operator_but_not_drafts_or_other_operators(
    client, people, seeded
):
    a_draft, a_submitted, b_submitted = seeded

    html = home_html(client, people.coordinator_x)

    assert a_submitted.reference in html
    assert a_draft.reference not in html
    assert b_submitted.reference not in html
    assert "Araminta" not in html


def test_the_staff_homes_link_each_reference_to_its_referral(client, people, seeded):
    _, a_submitted, _ = seeded
    link = f'href="{reverse("referrals:detail", args=[a_submitted.reference])}"'

    assert link in home_html(client, people.coordinator_x)


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


def test_finding_11_the_leisure_admins_home_shows_counts_and_manage_links(client, people, seeded):
    _, a_submitted, _ = seeded
    run_action(people, a_submitted, "accept")
    referral_in_state(people, Status.DECLINED)
    client.force_login(people.admin_x)

    response = client.get(HOME)

    (item,) = response.context["admin_organisations"]
    assert item["organisation"] == people.operator_x
    assert (item["received"], item["received_open"], item["overdue"]) == (2, 1, 0)
    html = unescape(response.content.decode())
    assert "There are no referrals to show" not in html
    assert "Referrals received" in html
    assert "(1 open, 0 overdue for triage)" in html
    operator = people.operator_x.public_id
    for name in ("manage:facilities", "manage:programmes", "manage:classes", "manage:members"):
        assert f'href="{reverse(name, args=[operator])}"' in html
    assert f'href="{reverse("manage:index")}"' in html
    assert "<table" not in html


def test_finding_11_the_practice_admins_home_counts_referrals_sent(client, people, seeded):
    client.force_login(people.admin_a)

    response = client.get(HOME)

    (item,) = response.context["admin_organisations"]
    assert item["organisation"] == people.practice_a
    assert (item["sent"], item["sent_open"]) == (1, 1)  # drafts are not sent
    html = unescape(response.content.decode())
    assert "Referrals sent" in html
    assert "Referrals received" not in html


def test_finding_11_the_admins_home_counts_overdue_triage(client, people, frozen_now):
    frozen_now(datetime.datetime(2026, 11, 2, 9, 0, tzinfo=datetime.UTC))  # a Monday
    referral_in_state(people, Status.SUBMITTED)
    # Five working days is the programme's time to triage: on the sixth it is overdue.
    frozen_now(datetime.datetime(2026, 11, 10, 9, 0, tzinfo=datetime.UTC))
    client.force_login(people.admin_x)

    response = client.get(HOME)

    (item,) = response.context["admin_organisations"]
    assert (item["received"], item["received_open"], item["overdue"]) == (1, 1, 1)


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
    on_page = [r for r in references if f">{r}</a>" in html]
    assert len(on_page) == shown
    return len(queries)


def test_home_runs_the_same_number_of_queries_for_1_and_50_referrals(client, people):
    client.force_login(people.coordinator_x)
    references = [referral_in_state(people, Status.SUBMITTED).reference]
    with_one = home_query_count(client, references)

    for _ in range(49):
        referral = new_draft(people)
        services.referral_submit(referral=referral, by=people.referrer_a)
        references.append(referral.reference)
    with_fifty = home_query_count(client, references)

    assert with_fifty == with_one


def counted_queries(client) -> int:
    client.get(HOME)  # warm caches (session, content types) before measuring
    with CaptureQueriesContext(connection) as queries:
        response = client.get(HOME)
    assert response.status_code == 200
    return len(queries)


@pytest.mark.parametrize("persona", ["referrer_a", "admin_a", "admin_x"])
def test_finding_11_the_count_homes_run_the_same_queries_for_1_and_30_referrals(
    client, people, persona
):
    client.force_login(getattr(people, persona))
    referral_in_state(people, Status.SUBMITTED)
    with_one = counted_queries(client)

    for _ in range(29):
        referral = new_draft(people)
        services.referral_submit(referral=referral, by=people.referrer_a)
    with_thirty = counted_queries(client)

    assert with_thirty == with_one


def test_referrer_home_query_count_is_bounded(client, people, django_assert_max_num_queries):
    for _ in range(30):
        new_draft(people)
    client.force_login(people.referrer_a)
    client.get(HOME)

    # Session, user, memberships, the counts, the unread updates: one spare, no more.
    with django_assert_max_num_queries(6):
        response = client.get(HOME)
    assert response.status_code == 200
    assert response.context["referrer"]["drafts"] == 30


def test_home_pages_referrals_25_at_a_time(client, people):
    references = set()
    for _ in range(30):
        referral = new_draft(people)
        services.referral_submit(referral=referral, by=people.referrer_a)
        references.add(referral.reference)
    client.force_login(people.coordinator_x)

    first = client.get(HOME).content.decode()
    second = client.get(HOME, {"page": 2}).content.decode()

    on_first = {ref for ref in references if ref in first}
    on_second = {ref for ref in references if ref in second}
    assert len(on_first) == 25
    assert len(on_second) == 5
    assert on_first | on_second == references
