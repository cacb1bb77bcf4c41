"""Reads about organisations and their members for the organisation admin's pages (/manage/).

Everything starts from the organisations the user administers: another organisation, or a member
of one, is simply not found, and the views turn that into a 404.
"""

from typing import TYPE_CHECKING

from django.core import signing
from django.db.models import QuerySet

from .models import Membership, Organisation, Role, User
from .permissions import Permission, active_memberships, has_permission

if TYPE_CHECKING:
    from uuid import UUID

# Memberships have no public id of their own, so URLs carry a signed token for one instead of the
# integer key: it cannot be guessed or enumerated, and it is still looked up in the admin's
# organisation only.
MEMBER_TOKEN_SALT = "manage.membership"  # noqa: S105 - a signing namespace, not a secret


def organisations_managed_by(user: User) -> list[Organisation]:
    """The active organisations in which `user` is an active org admin, by name."""
    organisations = {
        m.organisation.id: m.organisation
        for m in active_memberships(user)
        if has_permission(user, Permission.ORGANISATION_MANAGE, m.organisation)
    }
    return sorted(organisations.values(), key=lambda o: (o.name, o.code))


def organisation_managed_by(user: User, public_id: "UUID | str") -> Organisation:
    """One organisation `user` administers; Organisation.DoesNotExist for any other."""
    for organisation in organisations_managed_by(user):
        if str(organisation.public_id) == str(public_id):
            return organisation
    raise Organisation.DoesNotExist("No organisation you manage has that id")


def members_of(organisation: Organisation) -> QuerySet[Membership]:
    """Every person's membership of the organisation, active first, then by name and email.
    Its systems' memberships (`Role.SYSTEM`) are left out: they are its API clients."""
    return (
        Membership.objects.filter(organisation=organisation)
        .exclude(role=Role.SYSTEM)
        .select_related("user", "organisation")
        .order_by("-is_active", "user__full_name", "user__email", "role")
    )


def member_token(membership: Membership) -> str:
    return signing.dumps(membership.pk, salt=MEMBER_TOKEN_SALT)


def membership_in(organisation: Organisation, token: str) -> Membership:
    """The membership a token names, if it is one of `organisation`'s; DoesNotExist otherwise."""
    try:
        pk = signing.loads(token, salt=MEMBER_TOKEN_SALT)
    except signing.BadSignature as bad:
        raise Membership.DoesNotExist("Not a member token") from bad
    return members_of(organisation).get(pk=pk)


def active_instructors_of(operator: Organisation) -> QuerySet[User]:
    """Active instructors of the operator: who may staff its facilities and teach its classes."""
    return User.objects.filter(
        is_active=True,
        memberships__organisation=operator,
        memberships__role=Role.INSTRUCTOR,
        memberships__is_active=True,
    ).order_by("full_name", "email")
