"""factory_boy factories for the shared model. Referrals change state only through services:
use `tests.builders.referral_in_state` for a referral in a given state."""

import datetime
import itertools

import factory

from accounts.models import Membership, Organisation, OrganisationKind, Role, User
from clinical.conditions import Condition, Exclusion
from facilities.models import Facility, Programme, ProgrammeClass
from referrals.models import Patient, Sex
from referrals.nhs_numbers import synthetic_nhs_numbers

_nhs_numbers = synthetic_nhs_numbers()
TEST_PASSWORD = "correct-horse-battery-staple"


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    email = factory.Sequence(lambda n: f"user{n}@example.nhs.uk")
    full_name = factory.Faker("name", locale="en_GB")
    password = factory.PostGenerationMethodCall("set_password", TEST_PASSWORD)

    @factory.post_generation
    def _save_password(obj, create, extracted, **kwargs):
        if create:
            obj.save()


class OrganisationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Organisation

    kind = OrganisationKind.GP_PRACTICE
    name = factory.Sequence(lambda n: f"Organisation {n}")
    code = factory.Sequence(lambda n: f"T{n:05d}")


class MembershipFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Membership

    user = factory.SubFactory(UserFactory)
    organisation = factory.SubFactory(OrganisationFactory)
    role = Role.REFERRER


def member(organisation: Organisation, role: Role, email: str, **user_fields) -> User:
    """A user with one active membership: the usual shape of a persona."""
    user = UserFactory(email=email, **user_fields)
    MembershipFactory(user=user, organisation=organisation, role=role)
    return user


class FacilityFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Facility

    operator = factory.SubFactory(OrganisationFactory, kind=OrganisationKind.LEISURE_OPERATOR)
    name = factory.Sequence(lambda n: f"Leisure Centre {n}")
    address = "1 High Street\nLeeds"
    postcode = "LS6 2AB"
    postcode_districts = ["LS6", "LS7"]


class ProgrammeFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Programme

    operator = factory.SubFactory(OrganisationFactory, kind=OrganisationKind.LEISURE_OPERATOR)
    name = factory.Sequence(lambda n: f"Exercise on referral {n}")
    conditions = [Condition.HYPERTENSION, Condition.OBESITY]
    min_age = 18
    max_age = 90
    exclusions = list(Exclusion.values)
    duration_weeks = 12
    planned_sessions = 12


class ProgrammeClassFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ProgrammeClass

    programme = factory.SubFactory(ProgrammeFactory)
    facility = factory.SubFactory(
        FacilityFactory, operator=factory.SelfAttribute("..programme.operator")
    )
    name = factory.Sequence(lambda n: f"Tuesday circuits {n}")
    weekday = 1
    start_time = datetime.time(10, 0)
    capacity = 12


class PatientFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Patient

    # A practice's own record: pass the organisation making the referral.
    organisation = factory.SubFactory(OrganisationFactory)
    nhs_number = factory.LazyFunction(lambda: next(_nhs_numbers))
    given_name = factory.Faker("first_name", locale="en_GB")
    family_name = factory.Faker("last_name", locale="en_GB")
    date_of_birth = datetime.date(1965, 4, 12)
    sex = Sex.FEMALE
    postcode = "LS6 2AB"
    phone = "07700 900123"


def unique_codes(prefix: str):
    return (f"{prefix}{n:04d}" for n in itertools.count(1))
