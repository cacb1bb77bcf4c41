"""Which referrals each persona may see (`referrals_visible_to`), commissioner aggregates and the
single-referral lookup: the one place that scopes referral lists (CONVENTIONS.md, "Reads")."""

from types import SimpleNamespace

import pytest

from accounts.models import Membership, OrganisationKind, Role, User
from referrals import services
from referrals.models import Referral, Status
from referrals.selectors import (
    referral_for_user,
    referral_list_for,
    referral_status_counts,
    referrals_commissioned_by,
    referrals_visible_to,
)
from tests.builders import new_draft, referral_in_state
from tests.factories import MembershipFactory, OrganisationFactory, PatientFactory, UserFactory


def practice_b_referral(people, *, submit=True, accept=False) -> Referral:
    """A referral from practice B to operator Y's programme, moved on by B and Y's people."""
    referral = services.referral_create_draft(
        by=people.referrer_b,
        organisation=people.practice_b,
        patient=PatientFactory(organisation=people.practice_b),
        reasons=["38341003"],
        heart_rate_medication=False,
        risk_tier="low",
        programme=people.programme_y,
        preferred_facility=people.facility_y,
        consent_referral=True,
        exclusions_present=[],
    )
    if submit:
        services.referral_submit(referral=referral, by=people.referrer_b)
    if accept:
        services.referral_accept(
            referral=referral, by=people.coordinator_y, facility=people.facility_y
        )
    referral.refresh_from_db()
    return referral


@pytest.fixture
def referrals(people):
    """One referral in each situation that visibility turns on."""
    at_x2 = referral_in_state(people, Status.SUBMITTED)
    services.referral_accept(referral=at_x2, by=people.coordinator_x, facility=people.facility_x2)
    return SimpleNamespace(
        a_draft=referral_in_state(people, Status.DRAFT),
        a_submitted=referral_in_state(people, Status.SUBMITTED),
        a_at_x=referral_in_state(people, Status.ACCEPTED),
        a_at_x2=at_x2,
        a_completed=referral_in_state(people, Status.COMPLETED),
        b_draft=practice_b_referral(people, submit=False),
        b_submitted=practice_b_referral(people),
        b_at_y=practice_b_referral(people, accept=True),
    )


def fresh(user) -> User:
    """The user as a new request would load them, with no cached memberships or facilities."""
    return User.objects.get(pk=user.pk)


def visible(user) -> set[str]:
    return set(referrals_visible_to(user).values_list("reference", flat=True))


def refs(*referrals) -> set[str]:
    return {r.reference for r in referrals}


def test_referrer_sees_own_practice_referrals_including_drafts(people, referrals):
    r = referrals

    assert visible(people.referrer_a) == refs(
        r.a_draft, r.a_submitted, r.a_at_x, r.a_at_x2, r.a_completed
    )


def test_referrer_does_not_see_another_practices_referrals(people, referrals):
    r = referrals

    assert visible(people.referrer_b) == refs(r.b_draft, r.b_submitted, r.b_at_y)


def test_coordinator_sees_own_operators_submitted_referrals_but_not_drafts(people, referrals):
    r = referrals

    assert visible(people.coordinator_x) == refs(r.a_submitted, r.a_at_x, r.a_at_x2, r.a_completed)


def test_coordinator_does_not_see_another_operators_referrals(people, referrals):
    r = referrals

    assert visible(people.coordinator_y) == refs(r.b_submitted, r.b_at_y)


def test_instructor_sees_only_referrals_at_facilities_they_staff(people, referrals):
    r = referrals

    # a_at_x2 is at operator X's pool, which instructor X does not staff.
    assert visible(people.instructor_x) == refs(r.a_at_x, r.a_completed)


def test_instructor_at_another_operator_sees_none_of_operator_xs_referrals(people, referrals):
    assert visible(people.instructor_y) == refs(referrals.b_at_y)


def test_instructor_who_staffs_no_facility_sees_nothing(people, referrals):
    people.facility_x.staff.remove(people.instructor_x)

    assert visible(fresh(people.instructor_x)) == set()


@pytest.mark.parametrize("persona", ["commissioner", "admin_a", "admin_x"])
def test_commissioners_and_org_admins_see_no_individual_referrals(people, referrals, persona):
    assert visible(getattr(people, persona)) == set()


def test_user_with_two_roles_sees_the_union_of_both(people, referrals):
    user = UserFactory()
    MembershipFactory(user=user, organisation=people.practice_b, role=Role.REFERRER)
    MembershipFactory(user=user, organisation=people.operator_x, role=Role.COORDINATOR)
    r = referrals

    assert visible(user) == refs(
        r.b_draft, r.b_submitted, r.b_at_y, r.a_submitted, r.a_at_x, r.a_at_x2, r.a_completed
    )


def test_inactive_membership_sees_nothing(people, referrals):
    Membership.objects.filter(user=people.referrer_a).update(is_active=False)

    assert visible(fresh(people.referrer_a)) == set()


def test_user_with_no_memberships_sees_nothing(people, referrals):
    assert visible(UserFactory()) == set()


def test_referral_list_for_matches_visibility(people, referrals):
    listed = {r.reference for r in referral_list_for(people.coordinator_x)}

    assert listed == visible(people.coordinator_x)


# --- Single referral by reference --------------------------------------------------------------


def test_referral_for_user_returns_a_visible_referral(people, referrals):
    found = referral_for_user(people.referrer_a, referrals.a_draft.reference)

    assert found.pk == referrals.a_draft.pk


@pytest.mark.parametrize(
    ("persona", "which"),
    [
        ("referrer_b", "a_submitted"),
        ("coordinator_x", "a_draft"),
        ("coordinator_y", "a_submitted"),
        ("instructor_x", "a_at_x2"),
        ("commissioner", "a_submitted"),
    ],
)
def test_referral_for_user_raises_does_not_exist_for_an_unseen_referral(
    people, referrals, persona, which
):
    with pytest.raises(Referral.DoesNotExist):
        referral_for_user(getattr(people, persona), getattr(referrals, which).reference)


def test_referral_for_user_raises_does_not_exist_for_an_unknown_reference(people):
    with pytest.raises(Referral.DoesNotExist):
        referral_for_user(people.referrer_a, "ER-ZZZZZZ")


# --- Commissioner aggregates -------------------------------------------------------------------


def test_commissioner_aggregates_cover_the_programmes_they_commission(people, referrals):
    r = referrals
    commissioned = set(
        referrals_commissioned_by(people.commissioner).values_list("reference", flat=True)
    )

    # Operator X's programme is commissioned; Y's is not.
    assert refs(r.a_submitted, r.a_at_x, r.a_at_x2, r.a_completed) <= commissioned
    assert commissioned.isdisjoint(refs(r.b_draft, r.b_submitted, r.b_at_y))
    # Unsent drafts are the referrer's own business, even for a commissioned programme.
    assert commissioned.isdisjoint(refs(r.a_draft))


@pytest.fixture
def commissioner_in_two_funding_orgs(people):
    """The commissioner belongs to two organisations that both fund programme X."""
    second = OrganisationFactory(kind=OrganisationKind.COMMISSIONER)
    people.programme_x.commissioners.add(second)
    MembershipFactory(user=people.commissioner, organisation=second, role=Role.COMMISSIONER)
    return fresh(people.commissioner)


def test_commissioned_referrals_are_not_duplicated_by_two_commissioning_memberships(
    people, commissioner_in_two_funding_orgs
):
    referral = referral_in_state(people, Status.SUBMITTED)

    qs = referrals_commissioned_by(commissioner_in_two_funding_orgs)

    assert list(qs.values_list("reference", flat=True)) == [referral.reference]


def test_status_counts_count_each_referral_once_for_a_commissioner_in_two_funding_orgs(
    people, commissioner_in_two_funding_orgs
):
    referral_in_state(people, Status.SUBMITTED)

    rows = referral_status_counts(referrals_commissioned_by(commissioner_in_two_funding_orgs))

    assert rows[1] == {"status": "submitted", "label": "Submitted", "count": 1}


@pytest.mark.parametrize("persona", ["referrer_a", "coordinator_x", "admin_a"])
def test_non_commissioners_have_no_commissioned_referrals(people, referrals, persona):
    assert not referrals_commissioned_by(getattr(people, persona)).exists()


def test_inactive_commissioner_membership_has_no_commissioned_referrals(people, referrals):
    Membership.objects.filter(user=people.commissioner).update(is_active=False)

    assert not referrals_commissioned_by(fresh(people.commissioner)).exists()


# --- Status counts -----------------------------------------------------------------------------

LIFECYCLE_ORDER = [
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


def test_status_counts_list_every_state_in_lifecycle_order_with_zeros(db):
    rows = referral_status_counts(Referral.objects.none())

    assert [row["status"] for row in rows] == LIFECYCLE_ORDER
    assert all(row["count"] == 0 for row in rows)
    assert rows[2]["label"] == "Information requested"


def test_status_counts_count_referrals_per_state(people):
    new_draft(people)
    new_draft(people)
    referral_in_state(people, Status.SUBMITTED)
    referral_in_state(people, Status.DECLINED)

    counts = {row["status"]: row["count"] for row in referral_status_counts(Referral.objects.all())}

    assert counts == dict.fromkeys(LIFECYCLE_ORDER, 0) | {
        "draft": 2,
        "submitted": 1,
        "declined": 1,
    }


def test_status_counts_ignore_any_ordering_on_the_queryset(people):
    referral_in_state(people, Status.SUBMITTED)
    referral_in_state(people, Status.SUBMITTED)

    rows = referral_status_counts(Referral.objects.order_by("-updated_at", "reference"))

    assert rows[1]["count"] == 2
