"""People and places the manage-page tests need beyond the shared personas."""

from accounts.models import OrganisationKind, Role
from tests.factories import MembershipFactory, OrganisationFactory, UserFactory


def org_admin(organisation, email=None, **user_fields):
    """A new user who is an active org admin of `organisation`."""
    user = UserFactory(**({"email": email} if email else {}), **user_fields)
    MembershipFactory(user=user, organisation=organisation, role=Role.ORG_ADMIN)
    return user


def member(organisation, role, **user_fields):
    user = UserFactory(**user_fields)
    MembershipFactory(user=user, organisation=organisation, role=role)
    return user


def new_operator(name="Operator Z", code="LOZ"):
    return OrganisationFactory(kind=OrganisationKind.LEISURE_OPERATOR, name=name, code=code)
