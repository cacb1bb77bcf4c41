"""Who may do what: the one home of role-based and object-level permission rules.

`has_permission(user, permission, obj)` is true when one of the user's active memberships has a
role that grants the permission *and* that membership's organisation is the one the object belongs
to. A referral belongs to two organisations: the referrer's (for referrer permissions) and the
operator's (for coordinator and instructor permissions); instructors also need to work at the
referral's facility. An organisation's system (an API client's user, `Role.SYSTEM`) is read as the
people's roles it acts in there (ADR 0006), so every rule here holds for it unchanged.
"""

from enum import StrEnum
from typing import TYPE_CHECKING, Any, Protocol

from .models import SYSTEM_ROLES, Membership, Organisation, Role

if TYPE_CHECKING:
    from collections.abc import Iterable

    from django.contrib.auth.models import AnonymousUser
    from django.db.models import Model

    from .models import User


class Permission(StrEnum):
    REFERRAL_VIEW = "referral.view"
    REFERRAL_CREATE = "referral.create"
    REFERRAL_EDIT_DRAFT = "referral.edit_draft"
    REFERRAL_SUBMIT = "referral.submit"
    REFERRAL_ANSWER_INFO = "referral.answer_info"
    REFERRAL_CANCEL = "referral.cancel"
    REFERRAL_TRIAGE = "referral.triage"
    REFERRAL_BOOK = "referral.book"
    REFERRAL_DISCHARGE = "referral.discharge"
    REFERRAL_COMPLETE = "referral.complete"
    SESSION_RECORD = "session.record"
    ASSESSMENT_RECORD = "assessment.record"
    ORGANISATION_MANAGE = "organisation.manage"
    FACILITY_MANAGE = "facility.manage"
    REPORT_VIEW = "report.view"
    AUDIT_VIEW = "audit.view"
    # The organisation's data protection lead answers subject access requests (its admins).
    SUBJECT_ACCESS = "patient.subject_access"
    # Whoever hears the patient's decision records it: referrer, coordinator or instructor.
    CONSENT_RECORD = "referral.consent_record"
    # The operator's people who act on a safety alert: its coordinators and the instructors at
    # the referral's facility.
    ALERT_ACKNOWLEDGE = "alert.acknowledge"
    # The operator's coordinators import attendance from its leisure management system: the
    # visits and session marks of every referral the file names (leisure/imports/).
    ATTENDANCE_IMPORT = "attendance.import"


P = Permission
ROLE_PERMISSIONS: dict[str, frozenset[Permission]] = {
    Role.REFERRER: frozenset(
        {
            P.REFERRAL_VIEW,
            P.REFERRAL_CREATE,
            P.REFERRAL_EDIT_DRAFT,
            P.REFERRAL_SUBMIT,
            P.REFERRAL_ANSWER_INFO,
            P.REFERRAL_CANCEL,
            P.CONSENT_RECORD,
        }
    ),
    Role.COORDINATOR: frozenset(
        {
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
        }
    ),
    Role.INSTRUCTOR: frozenset(
        {
            P.REFERRAL_VIEW,
            P.REFERRAL_BOOK,
            P.REFERRAL_COMPLETE,
            P.SESSION_RECORD,
            P.ASSESSMENT_RECORD,
            P.CONSENT_RECORD,
            P.ALERT_ACKNOWLEDGE,
        }
    ),
    Role.ORG_ADMIN: frozenset(
        {P.ORGANISATION_MANAGE, P.FACILITY_MANAGE, P.AUDIT_VIEW, P.SUBJECT_ACCESS}
    ),
    Role.COMMISSIONER: frozenset({P.REPORT_VIEW}),
    # Nothing of its own: `active_memberships` reads a system's membership as the people's roles
    # it acts in (SYSTEM_ROLES), and those grant (ADR 0006).
    Role.SYSTEM: frozenset(),
}

# Roles that act on a referral for the referring side, and for the receiving operator.
REFERRING_ROLES = frozenset({Role.REFERRER})
OPERATOR_ROLES = frozenset({Role.COORDINATOR, Role.INSTRUCTOR})


def active_memberships(user: "User | AnonymousUser") -> list[Membership]:
    """The user's active memberships in active organisations, cached on the user object."""
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return []
    cached: list[Membership] | None = getattr(user, "_active_memberships", None)
    if cached is None:
        cached = _as_roles(
            Membership.objects.filter(
                user=user, is_active=True, organisation__is_active=True
            ).select_related("organisation")
        )
        user._active_memberships = cached  # type: ignore[attr-defined]  # per-request cache
    return cached


def _as_roles(memberships: "Iterable[Membership]") -> list[Membership]:
    """A system's membership read as the roles it acts in at that kind of organisation
    (`SYSTEM_ROLES`, ADR 0006): unsaved copies, so every rule below reads roles as for people."""
    expanded = []
    for membership in memberships:
        if membership.role != Role.SYSTEM:
            expanded.append(membership)
            continue
        for role in SYSTEM_ROLES[membership.organisation.kind]:
            acting = Membership(
                user_id=membership.user_id, organisation=membership.organisation, role=role
            )
            acting.acts_for_system = True  # type: ignore[attr-defined]  # read below
            expanded.append(acting)
    return expanded


def staffed_facility_ids(user: "User") -> frozenset[int]:
    """The facilities whose referrals the user works on as an instructor: those they staff, and
    for a system of an operator every facility of that operator (ADR 0006)."""
    cached: frozenset[int] | None = getattr(user, "_staffed_facility_ids", None)
    if cached is None:
        operators = [
            m.organisation
            for m in active_memberships(user)
            if m.role == Role.INSTRUCTOR and getattr(m, "acts_for_system", False)
        ]
        ids = set(user.facilities_worked.values_list("id", flat=True))
        for operator in operators:
            # The reverse relation of facilities.Facility.operator: accounts imports no app above.
            ids.update(operator.facilities.values_list("id", flat=True))
        cached = frozenset(ids)
        user._staffed_facility_ids = cached  # type: ignore[attr-defined]  # per-request cache
    return cached


def forget_cached_permissions(user: "User | AnonymousUser") -> None:
    """Call after changing a user's memberships or facilities within one request or test."""
    for attr in ("_active_memberships", "_staffed_facility_ids"):
        if hasattr(user, attr):
            delattr(user, attr)


def organisations_granting(
    user: "User | AnonymousUser", permission: Permission
) -> list[Organisation]:
    """The organisations in which one of the user's memberships grants `permission`."""
    seen: dict[int, Organisation] = {}
    for membership in active_memberships(user):
        if permission in ROLE_PERMISSIONS[membership.role]:
            seen.setdefault(membership.organisation_id, membership.organisation)
    return list(seen.values())


def organisations_with_role(user: "User | AnonymousUser", *roles: str) -> list[Organisation]:
    """The organisations where the user holds one of `roles` (an active membership)."""
    seen: dict[int, Organisation] = {}
    for membership in active_memberships(user):
        if membership.role in roles:
            seen.setdefault(membership.organisation_id, membership.organisation)
    return list(seen.values())


def organisation_ids_with_role(user: "User | AnonymousUser", *roles: str) -> list[int]:
    return [o.id for o in organisations_with_role(user, *roles)]


def roles_in(user: "User | AnonymousUser", organisation: Organisation) -> set[str]:
    return {m.role for m in active_memberships(user) if m.organisation_id == organisation.id}


def has_permission(
    user: "User | AnonymousUser", permission: Permission, obj: "Model | None" = None
) -> bool:
    """True when a membership of the user grants `permission` for `obj` (or at all, if no obj)."""
    granting = [m for m in active_memberships(user) if permission in ROLE_PERMISSIONS[m.role]]
    if obj is None:
        return bool(granting)
    if not granting or not user.is_authenticated:  # only a signed-in user has memberships
        return False
    return any(_membership_covers(m, obj, user) for m in granting)


def _membership_covers(membership: Membership, obj: Any, user: "User") -> bool:
    # `obj` is any model instance: its attributes depend on the model its label names.
    organisation_id = membership.organisation_id
    model = obj._meta.label
    if model == "referrals.Referral":
        return _covers_referral(membership, obj, user)
    if model in {
        "referrals.Session",
        "outcomes.Assessment",
        "referrals.ReferralEvent",
        "referrals.Alert",
    }:
        return _covers_referral(membership, obj.referral, user)
    if model == "accounts.Organisation":
        return bool(organisation_id == obj.id)
    if model in {"facilities.Facility", "facilities.Programme"}:
        return bool(organisation_id == obj.operator_id)
    if model == "facilities.ProgrammeClass":
        return bool(organisation_id == obj.programme.operator_id)
    return False


class ReferralParties(Protocol):
    """What the referral rules read of a referral (accounts sits below referrals: no import)."""

    referring_organisation_id: int | None
    operator_id: int | None
    facility_id: int | None


def _covers_referral(membership: Membership, referral: ReferralParties, user: "User") -> bool:
    if membership.role in REFERRING_ROLES:
        return membership.organisation_id == referral.referring_organisation_id
    if membership.role in OPERATOR_ROLES:
        if referral.operator_id is None or membership.organisation_id != referral.operator_id:
            return False
        if membership.role == Role.INSTRUCTOR:
            return (
                referral.facility_id is not None
                and referral.facility_id in staffed_facility_ids(user)
            )
        return True
    return False
