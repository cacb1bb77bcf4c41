"""Named personas (CONVENTIONS.md): a referrer at practice A and at practice B, a coordinator and
an instructor at operator X and at operator Y, a commissioner, and organisation admins."""

from types import SimpleNamespace

import pytest

from accounts.models import OrganisationKind, Role
from tests.factories import (
    FacilityFactory,
    MembershipFactory,
    OrganisationFactory,
    ProgrammeClassFactory,
    ProgrammeFactory,
    UserFactory,
)


def _member(organisation, role, **user_fields):
    user = UserFactory(**user_fields)
    MembershipFactory(user=user, organisation=organisation, role=role)
    return user


@pytest.fixture
def people(db):
    practice_a = OrganisationFactory(
        kind=OrganisationKind.GP_PRACTICE, name="Practice A", code="A81001"
    )
    practice_b = OrganisationFactory(
        kind=OrganisationKind.GP_PRACTICE, name="Practice B", code="B82002"
    )
    operator_x = OrganisationFactory(
        kind=OrganisationKind.LEISURE_OPERATOR, name="Operator X", code="LOX"
    )
    operator_y = OrganisationFactory(
        kind=OrganisationKind.LEISURE_OPERATOR, name="Operator Y", code="LOY"
    )
    commissioner_org = OrganisationFactory(
        kind=OrganisationKind.COMMISSIONER, name="West Yorkshire ICB", code="QWO"
    )
    facility_x = FacilityFactory(operator=operator_x, name="X Leisure Centre")
    facility_x2 = FacilityFactory(operator=operator_x, name="X Pool")
    facility_y = FacilityFactory(operator=operator_y, name="Y Gym", postcode="M1 1AE")
    programme_x = ProgrammeFactory(operator=operator_x, name="X Exercise on referral")
    programme_x.commissioners.add(commissioner_org)
    programme_y = ProgrammeFactory(operator=operator_y, name="Y Exercise on referral")
    class_x = ProgrammeClassFactory(programme=programme_x, facility=facility_x)
    class_y = ProgrammeClassFactory(programme=programme_y, facility=facility_y)

    instructor_x = _member(operator_x, Role.INSTRUCTOR, email="instructor.x@example.org")
    facility_x.staff.add(instructor_x)
    instructor_y = _member(operator_y, Role.INSTRUCTOR, email="instructor.y@example.org")
    facility_y.staff.add(instructor_y)
    return SimpleNamespace(
        practice_a=practice_a,
        practice_b=practice_b,
        operator_x=operator_x,
        operator_y=operator_y,
        commissioner_org=commissioner_org,
        facility_x=facility_x,
        facility_x2=facility_x2,
        facility_y=facility_y,
        programme_x=programme_x,
        programme_y=programme_y,
        class_x=class_x,
        class_y=class_y,
        referrer_a=_member(
            practice_a,
            Role.REFERRER,
            email="gp.a@example.nhs.uk",
            professional_registration="GMC 7012345",
        ),
        referrer_b=_member(practice_b, Role.REFERRER, email="gp.b@example.nhs.uk"),
        coordinator_x=_member(operator_x, Role.COORDINATOR, email="coordinator.x@example.org"),
        coordinator_y=_member(operator_y, Role.COORDINATOR, email="coordinator.y@example.org"),
        instructor_x=instructor_x,
        instructor_y=instructor_y,
        commissioner=_member(
            commissioner_org, Role.COMMISSIONER, email="commissioner@example.nhs.uk"
        ),
        admin_a=_member(practice_a, Role.ORG_ADMIN, email="admin.a@example.nhs.uk"),
        admin_x=_member(operator_x, Role.ORG_ADMIN, email="admin.x@example.org"),
    )


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    """Real hashing costs ~0.3 s a user; the personas would make every test slow."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def frozen_now(monkeypatch):
    """`frozen_now(moment)` stops the clock at `moment` (an aware datetime) for the rest of the
    test, so expectations built on "today" (working days, bank holidays, ages) mean the same on
    any day: `django.utils.timezone.now` returns it, and so `timezone.localdate()`, the services
    and `auto_now` fields see it, as do the model fields whose default is `timezone.now` (Django
    caches that function on the field, as referrals/demo.py's clock also allows for). The
    database's own NOW() is not stopped."""
    from django.apps import apps
    from django.utils import timezone

    real_now = timezone.now

    def freeze(moment):
        assert timezone.is_aware(moment), "freeze the clock at an aware datetime"
        monkeypatch.setattr(timezone, "now", lambda: moment)
        for model in apps.get_models():
            for model_field in model._meta.concrete_fields:
                if getattr(model_field, "default", None) is real_now:
                    monkeypatch.setattr(model_field, "_get_default", lambda: moment)
        return moment

    return freeze
