"""Every write to an operator's facilities, programmes and classes: one function per action.

Each runs in one transaction, checks that the actor administers the operator (FACILITY_MANAGE)
before anything else, locks the row it changes, validates the whole object (`full_clean`) and only
then saves. Nothing is ever deleted: referrals and sessions point at these rows for years, so
an operator stops offering something by marking it inactive (`is_active=False`), which takes it
out of routing and of new bookings and can be undone.

Instructors (a facility's staff, a class's instructors) must be active instructors of the same
operator. Teaching a class at a facility means working there, so a class's instructors are added
to the facility's staff; taking someone off a facility's staff while they still teach an active
class there is refused, as they would lose sight of the participants they teach.
"""

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction

from accounts.models import Organisation, OrganisationKind, User
from accounts.permissions import Permission, has_permission
from accounts.selectors import active_instructors_of

from .models import Facility, Programme, ProgrammeClass

if TYPE_CHECKING:
    from django.db.models import Model

FACILITY_FIELDS = frozenset(
    {
        "name",
        "address",
        "postcode",
        "phone",
        "email",
        "postcode_districts",
        "accessibility_notes",
        "is_active",
    }
)
PROGRAMME_FIELDS = frozenset(
    {
        "name",
        "description",
        "conditions",
        "min_age",
        "max_age",
        "exclusions",
        "duration_weeks",
        "self_directed_visits_count",
        "planned_sessions",
        "dna_limit",
        "triage_sla_days",
        "contact_attempt_limit",
        "is_active",
    }
)
CLASS_FIELDS = frozenset(
    {
        "name",
        "programme",
        "facility",
        "weekday",
        "start_time",
        "duration_minutes",
        "capacity",
        "is_active",
    }
)
POSITIVE_PROGRAMME_COUNTS = {
    "duration_weeks": "The programme must last at least 1 week",
    "planned_sessions": "Plan at least 1 session",
    "dna_limit": "The missed-session limit must be at least 1",
    "triage_sla_days": "Allow at least 1 working day for triage",
    "contact_attempt_limit": "Allow at least 1 attempt to contact the patient",
}
POSITIVE_CLASS_COUNTS = {
    "capacity": "The class must have room for at least 1 person",
    "duration_minutes": "The class must last at least 1 minute",
}


# --- Shared checks -------------------------------------------------------------------------------


def _refuse_unless_manager(by: User, obj: "Model") -> None:
    if not has_permission(by, Permission.FACILITY_MANAGE, obj):
        raise PermissionDenied(
            "Only an admin of this operator can change its facilities, programmes and classes."
        )


def _require_operator(organisation: Organisation) -> None:
    if organisation.kind != OrganisationKind.LEISURE_OPERATOR:
        raise ValidationError("Only leisure operators have facilities, programmes and classes.")


def _only(fields: dict[str, Any], allowed: frozenset[str], what: str) -> None:
    unknown = set(fields) - allowed
    if unknown:
        raise TypeError(f"{what} has no editable fields {sorted(unknown)}")


def _require_unique_name(
    model: type[Facility | Programme],
    instance: Facility | Programme,
    operator_filter: dict[str, Any],
    noun: str,
) -> None:
    name = (instance.name or "").strip()
    instance.name = name
    clash = model.objects.filter(name__iexact=name, **operator_filter).exclude(pk=instance.pk)
    if name and clash.exists():
        raise ValidationError({"name": f"There is already a {noun} called {name}"})


def _save(instance: "Model", *, duplicate_field: str, duplicate_message: str) -> None:
    """Save after validation; a twin created meanwhile by someone else is a form error too."""
    try:
        with transaction.atomic():
            instance.save()
    except IntegrityError as clash:
        raise ValidationError({duplicate_field: duplicate_message}) from clash


def _instructors_checked(operator: Organisation, users: Iterable[User], field: str) -> list[User]:
    users = list(users)
    allowed = set(
        active_instructors_of(operator)
        .filter(pk__in=[u.pk for u in users])
        .values_list("pk", flat=True)
    )
    if any(user.pk not in allowed for user in users):
        raise ValidationError({field: f"Choose instructors who work for {operator.name}"})
    return users


# --- Facilities ----------------------------------------------------------------------------------


def _validate_facility(facility: Facility) -> None:
    _require_unique_name(Facility, facility, {"operator_id": facility.operator_id}, "facility")
    facility.full_clean()


def _set_staff(facility: Facility, staff: Iterable[User]) -> None:
    staff = _instructors_checked(facility.operator, staff, "staff")
    keeping = {user.pk for user in staff}
    still_teaching = (
        User.objects.filter(
            classes_taught__facility=facility,
            classes_taught__is_active=True,
            facilities_worked=facility,
        )
        .exclude(pk__in=keeping)
        .distinct()
        .order_by("full_name", "email")
    )
    if still_teaching:
        names = ", ".join(str(user) for user in still_teaching)
        raise ValidationError(
            {
                "staff": f"{names} still teach an active class here: "
                "take them off the class first, or keep them on the staff"
            }
        )
    facility.staff.set(staff)


def facility_create(
    *, by: User, operator: Organisation, staff: Iterable[User] = (), **fields: Any
) -> Facility:
    _only(fields, FACILITY_FIELDS, "Facility")
    with transaction.atomic():
        _refuse_unless_manager(by, operator)
        _require_operator(operator)
        facility = Facility(operator=operator, **fields)
        _validate_facility(facility)
        _save(facility, duplicate_field="name", duplicate_message="That name is already in use")
        _set_staff(facility, staff)
    return facility


def facility_update(
    *, by: User, facility: Facility, staff: Iterable[User] | None = None, **fields: Any
) -> Facility:
    """Change a facility's details, its staff (when given), or make it inactive or active again."""
    _only(fields, FACILITY_FIELDS, "Facility")
    with transaction.atomic():
        locked = Facility.objects.select_for_update().select_related("operator").get(pk=facility.pk)
        _refuse_unless_manager(by, locked)
        for name, value in fields.items():
            setattr(locked, name, value)
        _validate_facility(locked)
        _save(locked, duplicate_field="name", duplicate_message="That name is already in use")
        if staff is not None:
            _set_staff(locked, staff)
    return locked


# --- Programmes ----------------------------------------------------------------------------------


def _validate_programme(programme: Programme) -> None:
    errors = {}
    for field, message in POSITIVE_PROGRAMME_COUNTS.items():
        value = getattr(programme, field)
        if value is None or value < 1:
            errors[field] = message
    low, high = programme.min_age, programme.max_age
    if low is not None and high is not None and high < low:
        errors["max_age"] = "The maximum age must be the same as or more than the minimum age"
    if errors:
        raise ValidationError(errors)
    programme.conditions = sorted(set(programme.conditions or []))
    programme.exclusions = sorted(set(programme.exclusions or []))
    _require_unique_name(Programme, programme, {"operator_id": programme.operator_id}, "programme")
    programme.full_clean()


def programme_create(*, by: User, operator: Organisation, **fields: Any) -> Programme:
    _only(fields, PROGRAMME_FIELDS, "Programme")
    with transaction.atomic():
        _refuse_unless_manager(by, operator)
        _require_operator(operator)
        programme = Programme(operator=operator, **fields)
        _validate_programme(programme)
        _save(programme, duplicate_field="name", duplicate_message="That name is already in use")
    return programme


def programme_update(*, by: User, programme: Programme, **fields: Any) -> Programme:
    """Change eligibility, length, limits or the active flag. The outcome schedule is not edited
    here (the outcomes work adds its own editor)."""
    _only(fields, PROGRAMME_FIELDS, "Programme")
    with transaction.atomic():
        locked = Programme.objects.select_for_update().get(pk=programme.pk)
        _refuse_unless_manager(by, locked)
        for name, value in fields.items():
            setattr(locked, name, value)
        _validate_programme(locked)
        _save(locked, duplicate_field="name", duplicate_message="That name is already in use")
    return locked


# --- Classes -------------------------------------------------------------------------------------


def _validate_class(programme_class: ProgrammeClass, by: User) -> None:
    programme, facility = programme_class.programme, programme_class.facility
    # Both must be the actor's: a class cannot borrow another operator's facility or programme.
    _refuse_unless_manager(by, programme)
    _refuse_unless_manager(by, facility)
    if facility.operator_id != programme.operator_id:
        raise ValidationError({"facility": "Choose a facility of the programme's operator"})
    errors = {
        field: message
        for field, message in POSITIVE_CLASS_COUNTS.items()
        if getattr(programme_class, field) is None or getattr(programme_class, field) < 1
    }
    if errors:
        raise ValidationError(errors)
    programme_class.name = (programme_class.name or "").strip()
    programme_class.full_clean()


def _set_instructors(programme_class: ProgrammeClass, instructors: Iterable[User]) -> None:
    operator = programme_class.programme.operator
    instructors = _instructors_checked(operator, instructors, "instructors")
    programme_class.instructors.set(instructors)
    programme_class.facility.staff.add(*instructors)


def class_create(*, by: User, instructors: Iterable[User] = (), **fields: Any) -> ProgrammeClass:
    _only(fields, CLASS_FIELDS, "Class")
    with transaction.atomic():
        programme_class = ProgrammeClass(**fields)
        _validate_class(programme_class, by)
        programme_class.save()
        _set_instructors(programme_class, instructors)
    return programme_class


def class_update(
    *,
    by: User,
    programme_class: ProgrammeClass,
    instructors: Iterable[User] | None = None,
    **fields: Any,
) -> ProgrammeClass:
    """Change a class's slot, capacity, instructors or active flag.

    Its programme and facility can change only while nobody has been booked into it: referrals
    and sessions already there belong to that programme at that facility.
    """
    _only(fields, CLASS_FIELDS, "Class")
    with transaction.atomic():
        locked = (
            ProgrammeClass.objects.select_for_update()
            .select_related("programme__operator", "facility")
            .get(pk=programme_class.pk)
        )
        _refuse_unless_manager(by, locked)
        moving = {
            name
            for name in ("programme", "facility")
            if name in fields and fields[name].pk != getattr(locked, f"{name}_id")
        }
        if moving and (locked.referrals.exists() or locked.sessions.exists()):
            raise ValidationError(
                {
                    name: f"People have been booked into this class, so its {name} cannot "
                    "change: make it inactive and create a new class instead"
                    for name in sorted(moving)
                }
            )
        for name, value in fields.items():
            setattr(locked, name, value)
        _validate_class(locked, by)
        locked.save()
        if instructors is not None:
            _set_instructors(locked, instructors)
    return locked
