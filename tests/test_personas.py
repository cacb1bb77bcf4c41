"""The personas are built once per test session (tests/conftest.py): each test must still get
objects of its own, and whatever a test changes must be gone for the next one."""

import pytest

from accounts.models import Membership, Role
from accounts.permissions import Permission, has_permission
from tests import personas

# Both tests of the pair below run in one process, in file order (`make test` runs
# `--dist loadgroup`), so the second sees what the first left behind, if anything.
pytestmark = pytest.mark.xdist_group("personas")


def test_each_load_gives_new_objects_for_the_same_rows(people):
    again = personas.load()

    assert again.coordinator_x is not people.coordinator_x
    assert again.coordinator_x.pk == people.coordinator_x.pk
    assert again.class_x.programme_id == people.programme_x.pk


def test_a_test_that_removes_a_persona_s_role_first(people):
    assert has_permission(people.coordinator_x, Permission.REFERRAL_TRIAGE)  # caches memberships
    Membership.objects.filter(user=people.coordinator_x).update(is_active=False)

    # The cached permission still holds on this instance; a fresh one sees the change.
    assert has_permission(people.coordinator_x, Permission.REFERRAL_TRIAGE)
    assert not has_permission(personas.load().coordinator_x, Permission.REFERRAL_TRIAGE)


def test_leaves_the_next_test_the_persona_as_it_was(people):
    assert Membership.objects.get(user=people.coordinator_x).is_active
    assert has_permission(people.coordinator_x, Permission.REFERRAL_TRIAGE)


@pytest.mark.parametrize("name", sorted(personas.USERS))
def test_each_persona_has_exactly_the_membership_its_table_gives(people, name):
    organisation, role, email, _fields = personas.USERS[name]
    user = getattr(people, name)

    memberships = list(Membership.objects.filter(user=user).values_list("organisation", "role"))

    assert user.email == email
    assert memberships == [(getattr(people, organisation).pk, Role(role))]
