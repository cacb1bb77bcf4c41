"""facilities.services: only an operator's org admin changes its facilities, programmes and
classes; every change is validated whole and a refused one changes nothing."""

import datetime

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from accounts.models import Role
from clinical.conditions import Condition, Exclusion
from facilities import services
from facilities.models import Facility, Programme, ProgrammeClass
from referrals.models import Status
from tests.builders import referral_in_state
from tests.facilities.helpers import org_admin
from tests.factories import MembershipFactory

FACILITY = {
    "name": "Riverside Leisure Centre",
    "address": "2 River Road\nLeeds",
    "postcode": " ls6  2ab ",
    "postcode_districts": ["ls6", "LS7 ", "LS6"],
    "accessibility_notes": "Step-free entrance",
}

PROGRAMME = {
    "name": "Falls prevention",
    "conditions": [Condition.FALLS_RISK, Condition.OSTEOPOROSIS],
    "min_age": 60,
    "max_age": None,
    "exclusions": [Exclusion.UNSTABLE_ANGINA],
    "duration_weeks": 24,
    "planned_sessions": 48,
    "dna_limit": 2,
    "triage_sla_days": 3,
}


def class_fields(people, **overrides):
    return {
        "name": "Thursday strength and balance",
        "programme": people.programme_x,
        "facility": people.facility_x2,
        "weekday": 3,
        "start_time": datetime.time(14, 30),
        "duration_minutes": 45,
        "capacity": 10,
        **overrides,
    }


# --- Facilities ----------------------------------------------------------------------------------


def test_admin_creates_a_facility_with_postcode_and_districts_normalised(people):
    facility = services.facility_create(
        by=people.admin_x, operator=people.operator_x, staff=[people.instructor_x], **FACILITY
    )

    facility.refresh_from_db()
    assert facility.operator == people.operator_x
    assert facility.postcode == "LS6 2AB"
    assert facility.postcode_districts == ["LS6", "LS7"]
    assert list(facility.staff.all()) == [people.instructor_x]
    assert facility.is_active


@pytest.mark.parametrize("persona", ["coordinator_x", "instructor_x", "referrer_a", "commissioner"])
def test_only_an_admin_may_create_a_facility(people, persona):
    with pytest.raises(PermissionDenied):
        services.facility_create(
            by=getattr(people, persona), operator=people.operator_x, **FACILITY
        )
    assert not Facility.objects.filter(name=FACILITY["name"]).exists()


def test_another_operators_admin_cannot_create_or_change_a_facility(people):
    admin_y = org_admin(people.operator_y)
    with pytest.raises(PermissionDenied):
        services.facility_create(by=admin_y, operator=people.operator_x, **FACILITY)
    with pytest.raises(PermissionDenied):
        services.facility_update(by=admin_y, facility=people.facility_x, is_active=False)
    people.facility_x.refresh_from_db()
    assert people.facility_x.is_active


def test_a_gp_practice_has_no_facilities(people):
    with pytest.raises(ValidationError, match="Only leisure operators"):
        services.facility_create(by=people.admin_a, operator=people.practice_a, **FACILITY)


def test_a_facility_name_is_unique_within_the_operator_whatever_its_case(people):
    with pytest.raises(ValidationError) as refused:
        services.facility_create(
            by=people.admin_x,
            operator=people.operator_x,
            **{**FACILITY, "name": people.facility_x.name.upper()},
        )
    assert "already a facility called" in refused.value.message_dict["name"][0]


def test_a_bad_postcode_is_refused(people):
    with pytest.raises(ValidationError) as refused:
        services.facility_create(
            by=people.admin_x, operator=people.operator_x, **{**FACILITY, "postcode": "LS6"}
        )
    assert "postcode" in refused.value.message_dict
    assert not Facility.objects.filter(name=FACILITY["name"]).exists()


@pytest.mark.parametrize("persona", ["instructor_y", "coordinator_x"])
def test_staff_must_be_instructors_of_the_same_operator(people, persona):
    with pytest.raises(ValidationError) as refused:
        services.facility_update(
            by=people.admin_x, facility=people.facility_x2, staff=[getattr(people, persona)]
        )
    assert refused.value.message_dict["staff"] == ["Choose instructors who work for Operator X"]
    assert not people.facility_x2.staff.exists()


def test_a_deactivated_instructor_cannot_be_put_on_the_staff(people):
    people.instructor_x.memberships.update(is_active=False)
    with pytest.raises(ValidationError):
        services.facility_update(
            by=people.admin_x, facility=people.facility_x2, staff=[people.instructor_x]
        )


def test_deactivating_a_facility_keeps_it(people):
    services.facility_update(by=people.admin_x, facility=people.facility_x, is_active=False)

    facility = Facility.objects.get(pk=people.facility_x.pk)
    assert not facility.is_active
    assert facility.classes.exists()


def test_updating_a_facility_leaves_staff_alone_unless_given(people):
    services.facility_update(by=people.admin_x, facility=people.facility_x, name="X Centre")

    assert list(people.facility_x.staff.all()) == [people.instructor_x]
    assert Facility.objects.get(pk=people.facility_x.pk).name == "X Centre"


def test_someone_teaching_an_active_class_cannot_be_taken_off_the_staff(people):
    people.class_x.instructors.add(people.instructor_x)

    with pytest.raises(ValidationError) as refused:
        services.facility_update(by=people.admin_x, facility=people.facility_x, staff=[])
    assert "still teach an active class here" in refused.value.message_dict["staff"][0]
    assert list(people.facility_x.staff.all()) == [people.instructor_x]

    services.class_update(by=people.admin_x, programme_class=people.class_x, is_active=False)
    services.facility_update(by=people.admin_x, facility=people.facility_x, staff=[])
    assert not people.facility_x.staff.exists()


def test_unknown_fields_are_a_programming_error(people):
    with pytest.raises(TypeError):
        services.facility_update(by=people.admin_x, facility=people.facility_x, operator=None)


# --- Programmes ----------------------------------------------------------------------------------


def test_admin_creates_and_edits_a_programme(people):
    programme = services.programme_create(
        by=people.admin_x, operator=people.operator_x, **PROGRAMME
    )
    assert programme.operator == people.operator_x
    assert programme.conditions == sorted(PROGRAMME["conditions"])

    services.programme_update(by=people.admin_x, programme=programme, max_age=95, dna_limit=4)

    programme.refresh_from_db()
    assert (programme.max_age, programme.dna_limit, programme.min_age) == (95, 4, 60)


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"min_age": 60, "max_age": 50}, "max_age"),
        ({"planned_sessions": 0}, "planned_sessions"),
        ({"triage_sla_days": 0}, "triage_sla_days"),
        ({"conditions": ["not-a-code"]}, "conditions"),
        ({"exclusions": ["not-an-exclusion"]}, "exclusions"),
        ({"name": "Y Exercise on referral"}, None),  # another operator's name is fine
    ],
)
def test_programme_rules_are_checked_before_saving(people, change, field):
    before = Programme.objects.get(pk=people.programme_x.pk)
    if field is None:
        services.programme_update(by=people.admin_x, programme=people.programme_x, **change)
        return
    with pytest.raises(ValidationError) as refused:
        services.programme_update(by=people.admin_x, programme=people.programme_x, **change)
    assert field in refused.value.message_dict
    after = Programme.objects.get(pk=people.programme_x.pk)
    assert (after.max_age, after.planned_sessions, after.conditions) == (
        before.max_age,
        before.planned_sessions,
        before.conditions,
    )


def test_a_coordinator_cannot_change_a_programme(people):
    with pytest.raises(PermissionDenied):
        services.programme_update(
            by=people.coordinator_x, programme=people.programme_x, is_active=False
        )
    assert Programme.objects.get(pk=people.programme_x.pk).is_active


def test_deactivating_a_programme_keeps_it(people):
    services.programme_update(by=people.admin_x, programme=people.programme_x, is_active=False)
    assert not Programme.objects.get(pk=people.programme_x.pk).is_active


def test_a_duplicate_programme_name_is_refused(people):
    with pytest.raises(ValidationError) as refused:
        services.programme_create(
            by=people.admin_x,
            operator=people.operator_x,
            **{**PROGRAMME, "name": people.programme_x.name},
        )
    assert "name" in refused.value.message_dict


# --- Classes -------------------------------------------------------------------------------------


def test_admin_creates_a_class_and_its_instructor_joins_the_facility_staff(people):
    programme_class = services.class_create(
        by=people.admin_x, instructors=[people.instructor_x], **class_fields(people)
    )

    programme_class.refresh_from_db()
    assert programme_class.facility == people.facility_x2
    assert list(programme_class.instructors.all()) == [people.instructor_x]
    assert people.instructor_x in people.facility_x2.staff.all()


def test_a_class_cannot_use_another_operators_facility(people):
    with pytest.raises(PermissionDenied):
        services.class_create(by=people.admin_x, **class_fields(people, facility=people.facility_y))
    assert not ProgrammeClass.objects.filter(name="Thursday strength and balance").exists()


def test_a_class_cannot_mix_operators_even_for_an_admin_of_both(people):
    admin_both = org_admin(people.operator_x)
    MembershipFactory(user=admin_both, organisation=people.operator_y, role=Role.ORG_ADMIN)

    with pytest.raises(ValidationError) as refused:
        services.class_create(by=admin_both, **class_fields(people, facility=people.facility_y))
    assert "facility" in refused.value.message_dict


def test_class_instructors_must_work_for_the_operator(people):
    with pytest.raises(ValidationError) as refused:
        services.class_create(
            by=people.admin_x, instructors=[people.instructor_y], **class_fields(people)
        )
    assert "instructors" in refused.value.message_dict
    assert not ProgrammeClass.objects.filter(name="Thursday strength and balance").exists()


@pytest.mark.parametrize(("field", "value"), [("capacity", 0), ("duration_minutes", 0)])
def test_a_class_needs_places_and_a_length(people, field, value):
    with pytest.raises(ValidationError) as refused:
        services.class_create(by=people.admin_x, **class_fields(people, **{field: value}))
    assert field in refused.value.message_dict


def test_a_coordinator_cannot_change_a_class(people):
    with pytest.raises(PermissionDenied):
        services.class_update(by=people.coordinator_x, programme_class=people.class_x, capacity=1)
    assert ProgrammeClass.objects.get(pk=people.class_x.pk).capacity == 12


def test_a_class_with_bookings_keeps_its_programme_and_facility(people):
    referral_in_state(people, Status.BOOKED)  # booked into class_x
    other = services.programme_create(by=people.admin_x, operator=people.operator_x, **PROGRAMME)

    with pytest.raises(ValidationError) as refused:
        services.class_update(
            by=people.admin_x,
            programme_class=people.class_x,
            programme=other,
            facility=people.facility_x2,
        )
    assert set(refused.value.message_dict) == {"programme", "facility"}

    services.class_update(
        by=people.admin_x, programme_class=people.class_x, capacity=20, start_time="18:00"
    )
    people.class_x.refresh_from_db()
    assert (people.class_x.capacity, people.class_x.programme) == (20, people.programme_x)


def test_a_class_without_bookings_may_move(people):
    services.class_update(
        by=people.admin_x, programme_class=people.class_x, facility=people.facility_x2
    )
    assert ProgrammeClass.objects.get(pk=people.class_x.pk).facility == people.facility_x2
