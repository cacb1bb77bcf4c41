"""Writing access records. Callers hand over what they already hold: these functions run one
INSERT and no other query, so a list page adds exactly one query however many rows it shows."""

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from accounts.models import Role
from accounts.permissions import active_memberships

from .models import AccessKind, AccessRecord

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser
    from django.db.models import Model
    from django.http import HttpRequest

    from accounts.models import Membership, Organisation, User

PLATFORM_STAFF = "platform_staff"


def _ids(items: Iterable[Any]) -> list[int]:
    """Ids of model instances or ints, in order, without duplicates (never a query)."""
    seen: dict[int, None] = {}
    for item in items:
        seen[int(getattr(item, "pk", item))] = None
    return list(seen)


def _membership_for(user: "User | AnonymousUser", referrals: Iterable[Any]) -> "Membership | None":
    """The membership the user looked with: the one on the referral's side when there is one
    referral, otherwise the first active one."""
    memberships = active_memberships(user)
    referrals = [r for r in referrals if hasattr(r, "referring_organisation_id")]
    if len(referrals) == 1:
        referral = referrals[0]
        for membership in memberships:
            if membership.role == Role.REFERRER:
                if membership.organisation_id == referral.referring_organisation_id:
                    return membership
            elif membership.organisation_id == referral.operator_id:
                return membership
    return memberships[0] if memberships else None


def audit_read_by(
    user: "User | None",
    kind: str,
    *,
    organisation: "Organisation | None" = None,
    role: str = "",
    request_id: str = "",
    referrals: "Iterable[Model | int]" = (),
    patients: "Iterable[Model | int]" = (),
    description: str = "",
    url_name: str = "",
    path: str = "",
) -> None:
    """Record a read by `user` (None for the system) outside a request: commands, the API."""
    referrals = list(referrals)
    if kind not in AccessKind.values:
        raise ValueError(f"Unknown access kind {kind!r}")
    AccessRecord.objects.create(
        user=user if getattr(user, "pk", None) else None,
        organisation=organisation,
        organisation_name=organisation.name if organisation else "",
        role=role,
        kind=kind,
        url_name=url_name[:100],
        path=path[:500],
        request_id=request_id[:64],
        referral_ids=_ids(referrals),
        # A referral instance names its patient already: record it without asking for it.
        patient_ids=_ids(
            [*patients, *(r.patient_id for r in referrals if hasattr(r, "patient_id"))]
        ),
        description=description[:200],
    )


def audit_read(
    request: "HttpRequest",
    kind: str,
    *,
    referrals: "Iterable[Model | int]" = (),
    patients: "Iterable[Model | int]" = (),
    description: str = "",
) -> None:
    """Record that this request showed patient-identifiable data: one INSERT, whatever the rows."""
    referrals = list(referrals)
    user = request.user
    membership = None if user.is_staff else _membership_for(user, referrals)
    if membership is not None:
        organisation = membership.organisation
        # An organisation's system acts in people's roles (ADR 0006), but is recorded as itself.
        role = Role.SYSTEM if getattr(membership, "acts_for_system", False) else membership.role
    else:
        organisation, role = None, PLATFORM_STAFF if user.is_staff else ""
    match = getattr(request, "resolver_match", None)
    audit_read_by(
        user if user.is_authenticated else None,  # someone signed out is recorded as no one
        kind,
        organisation=organisation,
        role=role,
        request_id=getattr(request, "request_id", ""),
        referrals=referrals,
        patients=patients,
        description=description,
        url_name=(match.view_name if match else "") or "",
        path=request.path,
    )
