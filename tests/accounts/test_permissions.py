"""`has_permission`: roles grant permissions, and a membership only covers its own organisation's
objects (DOMAIN.md, "People and organisations"; accounts/permissions.py)."""

import pytest
from django.contrib.auth.models import AnonymousUser
from django.core.exceptions import ValidationError

from accounts.models import Membership, OrganisationKind, Role, User
from accounts.permissions import (
    ROLE_PERMISSIONS,
    Permission,
    forget_cached_permissions,
    has_permission,
)
from referrals import services
from referrals.models import ReferralEvent, Session, Status
from tests.builders import referral_in_state
from tests.factories import MembershipFactory, OrganisationFactory, PatientFactory, UserFactory

P = Permission

REFERRAL_PERMISSIONS = [p for p in Permission if p.value.startswith(("referral.", "session."))]

# What each role may do at all (no object), written out rather than derived from the code's
# table so that a change to the table has to be a deliberate change here too.
EXPECTED_GRANTS = {
    Role.REFERRER: {
        P.REFERRAL_VIEW,
        P.REFERRAL_CREATE,
        P.REFERRAL_EDIT_DRAFT,
        P.REFERRAL_SUBMIT,
        P.REFERRAL_ANSWER_INFO,
        P.REFERRAL_CANCEL,
        P.CONSENT_RECORD,
    },
    Role.COORDINATOR: {
        P.REFERRAL_VIEW,
        P.REFERRAL_TRIAGE,
        P.REFERRAL_BOOK,
        P.REFERRAL_CANCEL,
        P.REFERRAL_DISCHARGE,
        P.REFERRAL_COMPLETE,
        P.REPORT_VIEW,
        P.CONSENT_RECORD,
        P.ALERT_ACKNOWLEDGE,
        P.ATTENDANCE_IMPORT,
    },
    Role.INSTRUCTOR: {
        P.REFERRAL_VIEW,
        P.REFERRAL_BOOK,
        P.REFERRAL_COMPLETE,
        P.SESSION_RECORD,
        P.ASSESSMENT_RECORD,
        P.CONSENT_RECORD,
        P.ALERT_ACKNOWLEDGE,
    },
    Role.COMMISSIONER: {P.REPORT_VIEW},
    Role.ORG_ADMIN: {P.ORGANISATION_MANAGE, P.FACILITY_MANAGE, P.AUDIT_VIEW, P.SUBJECT_ACCESS},
    # A system's own row grants nothing: it acts in the people's roles SYSTEM_ROLES names.
    Role.SYSTEM: set(),
}
# Each persona's one role (tests/personas.py), written out for the same reason.
PERSONA_ROLES = {
    "referrer_a": Role.REFERRER,
    "referrer_b": Role.REFERRER,
    "coordinator_x": Role.COORDINATOR,
    "coordinator_y": Role.COORDINATOR,
    "instructor_x": Role.INSTRUCTOR,
    "instructor_y": Role.INSTRUCTOR,
    "commissioner": Role.COMMISSIONER,
    "admin_a": Role.ORG_ADMIN,
    "admin_x": Role.ORG_ADMIN,
}


def fresh(user) -> User:
    """The user as a new request would load them, with no cached memberships."""
    return User.objects.get(pk=user.pk)


def accept_into(people, referral, facility):
    services.referral_accept(referral=referral, by=people.coordinator_x, facility=facility)
    referral.refresh_from_db()
    return referral


@pytest.mark.parametrize("role", list(Role))
@pytest.mark.parametrize("permission", list(Permission))
def test_each_role_grants_exactly_its_permissions(role, permission):
    """The role table alone: no database."""
    assert (permission in ROLE_PERMISSIONS[role]) is (permission in EXPECTED_GRANTS[role])


@pytest.mark.parametrize("persona", sorted(PERSONA_ROLES))
def test_each_persona_holds_exactly_the_permissions_of_its_role(people, persona):
    user = getattr(people, persona)

    held = {permission for permission in Permission if has_permission(user, permission)}

    assert held == EXPECTED_GRANTS[PERSONA_ROLES[persona]]


@pytest.mark.parametrize("permission", list(Permission))
def test_anonymous_user_has_no_permission(permission):
    assert has_permission(AnonymousUser(), permission) is False


@pytest.mark.parametrize("permission", list(Permission))
def test_user_without_memberships_has_no_permission(db, permission):
    assert has_permission(UserFactory(), permission) is False


# --- Referrals: the referring side -------------------------------------------------------------


@pytest.mark.parametrize(
    "permission",
    [P.REFERRAL_VIEW, P.REFERRAL_EDIT_DRAFT, P.REFERRAL_SUBMIT, P.REFERRAL_CANCEL],
)
def test_referrer_covers_own_practice_referral_but_not_another_practice(people, permission):
    draft = referral_in_state(people, Status.DRAFT)

    assert has_permission(people.referrer_a, permission, draft) is True
    assert has_permission(people.referrer_b, permission, draft) is False


def test_referrer_cannot_triage_own_practice_referral(people):
    referral = referral_in_state(people, Status.SUBMITTED)

    assert has_permission(people.referrer_a, P.REFERRAL_TRIAGE, referral) is False
    assert has_permission(people.referrer_a, P.SESSION_RECORD, referral) is False


def test_referrer_covers_practice_organisation_for_create_only_at_own_practice(people):
    assert has_permission(people.referrer_a, P.REFERRAL_CREATE, people.practice_a) is True
    assert has_permission(people.referrer_a, P.REFERRAL_CREATE, people.practice_b) is False
    assert has_permission(people.coordinator_x, P.REFERRAL_CREATE, people.operator_x) is False


# --- Referrals: the operator side ---------------------------------------------------------------


@pytest.mark.parametrize(
    "permission",
    [P.REFERRAL_VIEW, P.REFERRAL_TRIAGE, P.REFERRAL_CANCEL, P.REFERRAL_DISCHARGE],
)
def test_coordinator_covers_referral_to_own_operator_but_not_other_operator(people, permission):
    referral = referral_in_state(people, Status.SUBMITTED)

    assert has_permission(people.coordinator_x, permission, referral) is True
    assert has_permission(people.coordinator_y, permission, referral) is False


def test_coordinator_does_not_cover_a_draft_not_yet_routed_to_an_operator(people):
    draft = referral_in_state(people, Status.DRAFT)

    assert has_permission(people.coordinator_x, P.REFERRAL_VIEW, draft) is False


def test_instructor_does_not_cover_referral_with_no_facility_yet(people):
    referral = referral_in_state(people, Status.SUBMITTED)

    assert has_permission(people.instructor_x, P.REFERRAL_VIEW, referral) is False


def test_instructor_does_not_cover_referral_at_a_facility_they_do_not_staff(people):
    referral = accept_into(people, referral_in_state(people, Status.SUBMITTED), people.facility_x2)

    assert referral.operator_id == people.operator_x.id
    for permission in (P.REFERRAL_VIEW, P.SESSION_RECORD, P.ASSESSMENT_RECORD):
        assert has_permission(people.instructor_x, permission, referral) is False


def test_instructor_covers_referral_once_accepted_into_their_facility(people):
    referral = accept_into(people, referral_in_state(people, Status.SUBMITTED), people.facility_x)

    for permission in (P.REFERRAL_VIEW, P.SESSION_RECORD, P.ASSESSMENT_RECORD):
        assert has_permission(people.instructor_x, permission, referral) is True
    assert has_permission(people.instructor_y, P.REFERRAL_VIEW, referral) is False
    # An instructor records, but does not triage.
    assert has_permission(people.instructor_x, P.REFERRAL_TRIAGE, referral) is False


def test_instructor_staffing_another_operators_facility_gains_nothing_there(people):
    """Facility staff lists are data; without a membership at that operator they grant nothing."""
    people.facility_y.staff.add(people.instructor_x)
    referral = referral_in_state(
        people,
        Status.SUBMITTED,
        programme=people.programme_y,
        preferred_facility=people.facility_y,
    )
    services.referral_accept(referral=referral, by=people.coordinator_y, facility=people.facility_y)
    referral.refresh_from_db()

    assert has_permission(fresh(people.instructor_x), P.REFERRAL_VIEW, referral) is False
    assert has_permission(people.instructor_y, P.REFERRAL_VIEW, referral) is True


def test_session_and_event_are_covered_through_their_referral(people):
    referral = referral_in_state(people, Status.BOOKED)
    session = Session.objects.filter(referral=referral).earliest("scheduled_at")
    event = ReferralEvent.objects.filter(referral=referral).first()

    assert has_permission(people.instructor_x, P.SESSION_RECORD, session) is True
    assert has_permission(people.instructor_y, P.SESSION_RECORD, session) is False
    assert has_permission(people.referrer_a, P.REFERRAL_VIEW, event) is True
    assert has_permission(people.referrer_b, P.REFERRAL_VIEW, event) is False


def test_objects_of_other_kinds_are_never_covered(people):
    patient = PatientFactory(organisation=people.practice_a)

    assert has_permission(people.referrer_a, P.REFERRAL_VIEW, patient) is False


def test_roles_in_two_organisations_do_not_mix(people):
    """Referrer at B plus coordinator at X: may triage X's referral, may not submit A's."""
    user = UserFactory()
    MembershipFactory(user=user, organisation=people.practice_b, role=Role.REFERRER)
    MembershipFactory(user=user, organisation=people.operator_x, role=Role.COORDINATOR)
    draft = referral_in_state(people, Status.DRAFT)
    submitted = referral_in_state(people, Status.SUBMITTED)

    assert has_permission(user, P.REFERRAL_TRIAGE, submitted) is True
    assert has_permission(user, P.REFERRAL_SUBMIT, draft) is False
    assert has_permission(user, P.REFERRAL_EDIT_DRAFT, draft) is False
    assert has_permission(user, P.REFERRAL_VIEW, draft) is False


@pytest.mark.parametrize("persona", ["commissioner", "admin_a", "admin_x"])
@pytest.mark.parametrize("status", [Status.DRAFT, Status.ACCEPTED])
def test_commissioner_and_org_admins_have_no_referral_permission(people, persona, status):
    referral = referral_in_state(people, status)
    user = getattr(people, persona)

    for permission in REFERRAL_PERMISSIONS:
        assert has_permission(user, permission) is False
        assert has_permission(user, permission, referral) is False


# --- Inactive memberships, organisations and users ----------------------------------------------


def test_inactive_membership_grants_nothing(people):
    referral = referral_in_state(people, Status.SUBMITTED)
    Membership.objects.filter(user=people.coordinator_x).update(is_active=False)
    user = fresh(people.coordinator_x)

    for permission in Permission:
        assert has_permission(user, permission) is False
    assert has_permission(user, P.REFERRAL_TRIAGE, referral) is False


def test_inactive_organisation_grants_nothing_to_its_members(people):
    referral = referral_in_state(people, Status.SUBMITTED)
    people.operator_x.is_active = False
    people.operator_x.save()
    user = fresh(people.coordinator_x)

    for permission in Permission:
        assert has_permission(user, permission) is False
    assert has_permission(user, P.REFERRAL_VIEW, referral) is False


def test_inactive_user_has_no_permission(people):
    referral = referral_in_state(people, Status.DRAFT)
    people.referrer_a.is_active = False
    people.referrer_a.save()
    user = fresh(people.referrer_a)

    for permission in Permission:
        assert has_permission(user, permission) is False
    assert has_permission(user, P.REFERRAL_VIEW, referral) is False


def test_forget_cached_permissions_picks_up_a_deactivated_membership(people):
    user = people.coordinator_x
    assert has_permission(user, P.REFERRAL_TRIAGE) is True
    Membership.objects.filter(user=user).update(is_active=False)

    forget_cached_permissions(user)

    assert has_permission(user, P.REFERRAL_TRIAGE) is False


# --- Organisation admins: their own organisation, facilities, programmes and classes -------------


def test_operator_admin_manages_own_facilities_programmes_and_classes_only(people):
    admin = people.admin_x

    assert has_permission(admin, P.FACILITY_MANAGE, people.facility_x) is True
    assert has_permission(admin, P.FACILITY_MANAGE, people.facility_x2) is True
    assert has_permission(admin, P.FACILITY_MANAGE, people.programme_x) is True
    assert has_permission(admin, P.FACILITY_MANAGE, people.class_x) is True

    assert has_permission(admin, P.FACILITY_MANAGE, people.facility_y) is False
    assert has_permission(admin, P.FACILITY_MANAGE, people.programme_y) is False
    assert has_permission(admin, P.FACILITY_MANAGE, people.class_y) is False


def test_org_admin_manages_own_organisation_only(people):
    assert has_permission(people.admin_x, P.ORGANISATION_MANAGE, people.operator_x) is True
    assert has_permission(people.admin_x, P.ORGANISATION_MANAGE, people.operator_y) is False
    assert has_permission(people.admin_x, P.ORGANISATION_MANAGE, people.practice_a) is False

    assert has_permission(people.admin_a, P.ORGANISATION_MANAGE, people.practice_a) is True
    assert has_permission(people.admin_a, P.ORGANISATION_MANAGE, people.practice_b) is False


def test_practice_admin_cannot_manage_an_operators_facilities(people):
    assert has_permission(people.admin_a, P.FACILITY_MANAGE, people.facility_x) is False
    assert has_permission(people.admin_a, P.FACILITY_MANAGE, people.programme_x) is False


@pytest.mark.parametrize("persona", ["coordinator_x", "instructor_x"])
def test_operator_staff_who_are_not_admins_cannot_manage_facilities(people, persona):
    user = getattr(people, persona)

    assert has_permission(user, P.FACILITY_MANAGE, people.facility_x) is False
    assert has_permission(user, P.ORGANISATION_MANAGE, people.operator_x) is False


# --- Membership.clean: roles only where the organisation kind can hold them ---------------------


# Every kind also takes a system's membership (an API client's, ADR 0006), which only
# accounts.api_clients makes: the people's services refuse it (below).
ALLOWED_ROLES = {
    OrganisationKind.GP_PRACTICE: {Role.REFERRER, Role.ORG_ADMIN, Role.SYSTEM},
    OrganisationKind.MSK_SERVICE: {Role.REFERRER, Role.ORG_ADMIN, Role.SYSTEM},
    OrganisationKind.LEISURE_OPERATOR: {
        Role.COORDINATOR,
        Role.INSTRUCTOR,
        Role.ORG_ADMIN,
        Role.SYSTEM,
    },
    OrganisationKind.COMMISSIONER: {Role.COMMISSIONER, Role.ORG_ADMIN, Role.SYSTEM},
}


@pytest.mark.parametrize("kind", list(OrganisationKind))
@pytest.mark.parametrize("role", list(Role))
def test_membership_clean_allows_only_roles_the_organisation_kind_can_hold(db, kind, role):
    membership = Membership(
        user=UserFactory(), organisation=OrganisationFactory(kind=kind), role=role
    )

    if role in ALLOWED_ROLES[kind]:
        membership.full_clean()
    else:
        with pytest.raises(ValidationError) as excinfo:
            membership.full_clean()
        assert "role" in excinfo.value.message_dict


def test_membership_clean_refuses_coordinator_at_a_gp_practice(people):
    membership = Membership(
        user=people.referrer_a, organisation=people.practice_a, role=Role.COORDINATOR
    )

    with pytest.raises(ValidationError, match="coordinator cannot belong to a gp practice"):
        membership.full_clean()


def test_an_admin_cannot_give_a_person_a_systems_role(people):
    from accounts import services

    with pytest.raises(ValidationError):
        services.member_invite(
            by=people.admin_x,
            organisation=people.operator_x,
            email="someone@example.org",
            full_name="Some One",
            role=Role.SYSTEM,
        )
    assert not Membership.objects.filter(role=Role.SYSTEM).exists()
