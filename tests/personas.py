"""The named personas (CONVENTIONS.md): a referrer at practice A and at practice B, a coordinator
and an instructor at operator X and at operator Y, a commissioner, and organisation admins.

They are built once per test session (about 45 inserts, see tests/conftest.py) and committed, so a
test's own transaction starts with them in place and rolls back only what the test wrote. Each test
loads them afresh (`load`), so no object, and no permission cache on a user, outlives a test.
"""

from types import SimpleNamespace

from accounts.models import Membership, Organisation, OrganisationKind, Role, User
from facilities.models import Facility, Programme, ProgrammeClass
from tests.factories import (
    FacilityFactory,
    OrganisationFactory,
    ProgrammeClassFactory,
    ProgrammeFactory,
    member,
)

ORGANISATIONS = {
    "practice_a": ("A81001", "Practice A", OrganisationKind.GP_PRACTICE),
    "practice_b": ("B82002", "Practice B", OrganisationKind.GP_PRACTICE),
    "operator_x": ("LOX", "Operator X", OrganisationKind.LEISURE_OPERATOR),
    "operator_y": ("LOY", "Operator Y", OrganisationKind.LEISURE_OPERATOR),
    "commissioner_org": ("QWO", "West Yorkshire ICB", OrganisationKind.COMMISSIONER),
}
# name: (operator, facility name, postcode or None for the factory's)
FACILITIES = {
    "facility_x": ("operator_x", "X Leisure Centre", None),
    "facility_x2": ("operator_x", "X Pool", None),
    "facility_y": ("operator_y", "Y Gym", "M1 1AE"),
}
# name: (operator, programme name, its class's name, the facility the class meets at)
PROGRAMMES = {
    "programme_x": ("operator_x", "X Exercise on referral", "class_x", "facility_x"),
    "programme_y": ("operator_y", "Y Exercise on referral", "class_y", "facility_y"),
}
CLASS_NAMES = {"class_x": "Tuesday circuits X", "class_y": "Tuesday circuits Y"}
# name: (organisation, role, email, other user fields)
USERS: dict[str, tuple[str, Role, str, dict[str, str]]] = {
    "referrer_a": (
        "practice_a",
        Role.REFERRER,
        "gp.a@example.nhs.uk",
        {"professional_registration": "GMC 7012345"},
    ),
    "referrer_b": ("practice_b", Role.REFERRER, "gp.b@example.nhs.uk", {}),
    "coordinator_x": ("operator_x", Role.COORDINATOR, "coordinator.x@example.org", {}),
    "coordinator_y": ("operator_y", Role.COORDINATOR, "coordinator.y@example.org", {}),
    "instructor_x": ("operator_x", Role.INSTRUCTOR, "instructor.x@example.org", {}),
    "instructor_y": ("operator_y", Role.INSTRUCTOR, "instructor.y@example.org", {}),
    "commissioner": ("commissioner_org", Role.COMMISSIONER, "commissioner@example.nhs.uk", {}),
    "admin_a": ("practice_a", Role.ORG_ADMIN, "admin.a@example.nhs.uk", {}),
    "admin_x": ("operator_x", Role.ORG_ADMIN, "admin.x@example.org", {}),
}
# Instructors staff one facility each; the commissioner commissions programme X only.
STAFF = {"instructor_x": "facility_x", "instructor_y": "facility_y"}
COMMISSIONED = {"programme_x": "commissioner_org"}


def build() -> None:
    """Insert the personas (in whatever transaction is open)."""
    organisations = {
        name: OrganisationFactory(kind=kind, name=title, code=code)
        for name, (code, title, kind) in ORGANISATIONS.items()
    }
    facilities = {}
    for name, (operator, title, postcode) in FACILITIES.items():
        extra = {"postcode": postcode} if postcode else {}
        facilities[name] = FacilityFactory(operator=organisations[operator], name=title, **extra)
    for name, (operator, title, class_name, facility) in PROGRAMMES.items():
        programme = ProgrammeFactory(operator=organisations[operator], name=title)
        ProgrammeClassFactory(
            programme=programme, facility=facilities[facility], name=CLASS_NAMES[class_name]
        )
        if name in COMMISSIONED:
            programme.commissioners.add(organisations[COMMISSIONED[name]])
    for name, (organisation, role, email, fields) in USERS.items():
        user = member(organisations[organisation], role, email, **fields)
        if name in STAFF:
            facilities[STAFF[name]].staff.add(user)


def present() -> bool:
    return Organisation.objects.filter(code=ORGANISATIONS["practice_a"][0]).exists()


def load() -> SimpleNamespace:
    """Fresh instances of every persona object, read from the database in five queries."""
    codes = {code: name for name, (code, _title, _kind) in ORGANISATIONS.items()}
    found: dict[str, object] = {
        codes[o.code]: o for o in Organisation.objects.filter(code__in=codes)
    }
    by_title = {(o, title): name for name, (o, title, _p) in FACILITIES.items()}
    for facility in Facility.objects.filter(operator__code__in=codes).select_related("operator"):
        name = by_title.get((codes[facility.operator.code], facility.name))
        if name:
            found[name] = facility
    by_title = {(o, title): name for name, (o, title, _c, _f) in PROGRAMMES.items()}
    for programme in Programme.objects.filter(operator__code__in=codes).select_related("operator"):
        name = by_title.get((codes[programme.operator.code], programme.name))
        if name:
            found[name] = programme
    class_names = {title: name for name, title in CLASS_NAMES.items()}
    for programme_class in ProgrammeClass.objects.filter(name__in=class_names):
        found[class_names[programme_class.name]] = programme_class
    emails = {email: name for name, (_o, _r, email, _f) in USERS.items()}
    for user in User.objects.filter(email__in=emails):
        found[emails[user.email]] = user
    expected = {*ORGANISATIONS, *FACILITIES, *PROGRAMMES, *CLASS_NAMES, *USERS}
    assert found.keys() == expected, f"personas missing: {sorted(expected - found.keys())}"
    return SimpleNamespace(**found)


def remove() -> None:
    """Delete the personas, for a test that needs an empty database (inside its transaction)."""
    codes = [code for code, _title, _kind in ORGANISATIONS.values()]
    emails = [email for _o, _r, email, _f in USERS.values()]
    ProgrammeClass.objects.filter(programme__operator__code__in=codes).delete()
    Programme.objects.filter(operator__code__in=codes).delete()
    Facility.objects.filter(operator__code__in=codes).delete()
    Membership.objects.filter(user__email__in=emails).delete()
    User.objects.filter(email__in=emails).delete()
    Organisation.objects.filter(code__in=codes).delete()
