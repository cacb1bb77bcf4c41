"""The operator admin's pages (/manage/) through Django's test client: who may use each page,
writes that work, bad input that changes nothing and keeps what was typed, and list pages that run
the same number of queries for 1 row as for 50."""

import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from accounts.models import Role
from accounts.selectors import member_token
from clinical.conditions import Condition, Exclusion
from facilities.models import Facility, Programme, ProgrammeClass
from tests.facilities.helpers import member, new_operator, org_admin
from tests.factories import FacilityFactory, ProgrammeClassFactory, ProgrammeFactory

OUTSIDERS = ["coordinator_x", "instructor_x", "referrer_a", "commissioner"]


def url(name, *args):
    return reverse(f"manage:{name}", args=args)


def operator_pages(people) -> dict[str, str]:
    """Every manage page of operator X, by name."""
    x = people.operator_x.public_id
    return {
        "facilities": url("facilities", x),
        "facility_create": url("facility_create", x),
        "facility_edit": url("facility_edit", x, people.facility_x.public_id),
        "programmes": url("programmes", x),
        "programme_create": url("programme_create", x),
        "programme_edit": url("programme_edit", x, people.programme_x.public_id),
        "classes": url("classes", x),
        "class_create": url("class_create", x),
        "class_edit": url("class_edit", x, people.class_x.public_id),
        "members": url("members", x),
        "member_invite": url("member_invite", x),
        "member_deactivate": url(
            "member_deactivate", x, member_token(people.coordinator_x.memberships.get())
        ),
    }


def facility_form(**overrides):
    return {
        "name": "Riverside Leisure Centre",
        "address": "2 River Road\nLeeds",
        "postcode": "ls6 2ab",
        "postcode_districts": "ls6, LS7 ls8",
        "accessibility_notes": "Step-free entrance",
        "is_active": "on",
        **overrides,
    }


def programme_form(**overrides):
    return {
        "name": "Falls prevention",
        "description": "Strength and balance",
        "conditions": [Condition.FALLS_RISK, Condition.OSTEOPOROSIS],
        "min_age": "60",
        "max_age": "",
        "exclusions": [Exclusion.UNSTABLE_ANGINA],
        "duration_weeks": "24",
        "planned_sessions": "24",
        "dna_limit": "2",
        "triage_sla_days": "3",
        "is_active": "on",
        **overrides,
    }


def class_form(people, **overrides):
    return {
        "name": "Thursday strength and balance",
        "programme": str(people.programme_x.public_id),
        "facility": str(people.facility_x2.public_id),
        "weekday": "3",
        "start_time": "14:30",
        "duration_minutes": "45",
        "capacity": "10",
        "instructors": [str(people.instructor_x.pk)],
        "is_active": "on",
        **overrides,
    }


# --- Who may use the pages -----------------------------------------------------------------------


def test_anonymous_visitors_are_sent_to_sign_in(client, people):
    for page in [url("index"), *operator_pages(people).values()]:
        for response in (client.get(page), client.post(page, {"name": "x"})):
            assert response.status_code == 302, page
            assert response.url.startswith(reverse("account_login")), page


@pytest.mark.parametrize("persona", OUTSIDERS)
def test_people_who_are_not_admins_get_403_on_every_page(client, people, persona):
    client.force_login(getattr(people, persona))
    assert client.get(url("index")).status_code == 403
    for name, page in operator_pages(people).items():
        assert client.get(page).status_code == 403, name
        assert client.post(page, facility_form()).status_code == 403, name
    assert not Facility.objects.filter(name="Riverside Leisure Centre").exists()
    assert people.coordinator_x.memberships.get().is_active


def test_another_operators_admin_gets_404_on_every_page_of_operator_x(client, people):
    client.force_login(org_admin(people.operator_y))

    overview = client.get(url("index"))
    assert overview.status_code == 200
    assert b"Operator Y" in overview.content
    assert b"Operator X" not in overview.content
    for name, page in operator_pages(people).items():
        assert client.get(page).status_code == 404, name
        assert client.post(page, facility_form()).status_code == 404, name
    assert not Facility.objects.filter(name="Riverside Leisure Centre").exists()
    assert people.coordinator_x.memberships.get().is_active


def test_operator_xs_admin_gets_404_for_operator_ys_objects_under_their_own_operator(
    client, people
):
    client.force_login(people.admin_x)
    x = people.operator_x.public_id
    for page in [
        url("facility_edit", x, people.facility_y.public_id),
        url("programme_edit", x, people.programme_y.public_id),
        url("class_edit", x, people.class_y.public_id),
        url("member_deactivate", x, member_token(people.coordinator_y.memberships.get())),
        url("member_deactivate", x, "not-a-token"),
    ]:
        assert client.get(page).status_code == 404, page


def test_a_gp_practice_admin_manages_members_but_has_no_facility_pages(client, people):
    client.force_login(people.admin_a)
    a = people.practice_a.public_id

    overview = client.get(url("index"))
    assert overview.status_code == 200
    assert url("members", a).encode() in overview.content
    assert url("facilities", a).encode() not in overview.content
    assert client.get(url("members", a)).status_code == 200
    for name in ["facilities", "facility_create", "programmes", "classes", "class_create"]:
        assert client.get(url(name, a)).status_code == 404, name
    for page in operator_pages(people).values():
        assert client.get(page).status_code == 404, page


def test_operator_xs_admin_sees_every_page(client, people):
    client.force_login(people.admin_x)
    for name, page in {"index": url("index"), **operator_pages(people)}.items():
        response = client.get(page)
        assert response.status_code == 200, name
        assert b"There is a problem" not in response.content, name


def test_the_overview_counts_what_is_in_use(client, people):
    client.force_login(people.admin_x)
    FacilityFactory(operator=people.operator_x, is_active=False)

    response = client.get(url("index"))

    [operator] = response.context["organisations"]
    assert (
        operator.facility_count,
        operator.programme_count,
        operator.class_count,
        operator.member_count,
    ) == (2, 1, 1, 3)


# --- Facilities ----------------------------------------------------------------------------------


def test_admin_adds_a_facility(client, people):
    client.force_login(people.admin_x)
    response = client.post(
        url("facility_create", people.operator_x.public_id),
        facility_form(staff=[str(people.instructor_x.pk)]),
    )

    assert response.status_code == 302
    assert response.url == url("facilities", people.operator_x.public_id)
    facility = Facility.objects.get(name="Riverside Leisure Centre")
    assert (facility.operator, facility.postcode) == (people.operator_x, "LS6 2AB")
    assert facility.postcode_districts == ["LS6", "LS7", "LS8"]
    assert list(facility.staff.all()) == [people.instructor_x]
    listing = client.get(response.url)
    assert b"Riverside Leisure Centre added" in listing.content


def test_a_facility_with_mistakes_is_shown_again_with_errors_and_nothing_lost(client, people):
    client.force_login(people.admin_x)
    response = client.post(
        url("facility_create", people.operator_x.public_id),
        facility_form(postcode="LS6", postcode_districts="LS6, Leeds city", address=""),
    )

    assert response.status_code == 200
    content = response.content.decode()
    assert "There is a problem" in content
    assert "Enter a real UK postcode, like SW1A 1AA" in content
    assert "LEEDS is not a postcode district" in content
    assert "Enter the facility&#x27;s address" in content
    assert 'value="Riverside Leisure Centre"' in content
    assert 'value="LS6, Leeds city"' in content
    assert response.context["form"].data["accessibility_notes"] == "Step-free entrance"
    assert "<title>Error: " in content
    assert not Facility.objects.filter(name="Riverside Leisure Centre").exists()


def test_the_facility_takes_a_phone_number_and_email_for_the_patients_letter(client, people):
    client.force_login(people.admin_x)
    page = url("facility_edit", people.operator_x.public_id, people.facility_x.public_id)
    fields = {"name": "X Leisure Centre", "staff": [str(people.instructor_x.pk)]}

    refused = client.post(page, facility_form(**fields, phone="ring us", email="desk@"))
    assert refused.status_code == 200
    content = refused.content.decode()
    assert "Enter a phone number, like 0113 496 0123" in content
    assert "Enter an email address, like bookings@centre.example" in content
    assert Facility.objects.get(pk=people.facility_x.pk).phone == ""

    saved = client.post(
        page, facility_form(**fields, phone=" 0113 496 0123 ", email="desk@x.example")
    )
    assert saved.status_code == 302
    facility = Facility.objects.get(pk=people.facility_x.pk)
    assert (facility.phone, facility.email) == ("0113 496 0123", "desk@x.example")
    assert client.get(page).context["form"].initial["phone"] == "0113 496 0123"


def test_a_duplicate_facility_name_is_a_form_error(client, people):
    client.force_login(people.admin_x)
    response = client.post(
        url("facility_create", people.operator_x.public_id), facility_form(name="X Pool")
    )
    assert response.status_code == 200
    assert "There is already a facility called X Pool" in response.content.decode()
    assert Facility.objects.filter(name="X Pool").count() == 1


def test_admin_edits_and_deactivates_a_facility(client, people):
    client.force_login(people.admin_x)
    page = url("facility_edit", people.operator_x.public_id, people.facility_x.public_id)

    form = client.get(page)
    assert form.context["form"].initial["staff"] == [people.instructor_x.pk]
    response = client.post(
        page,
        facility_form(name="X Leisure Centre", is_active="", staff=[str(people.instructor_x.pk)]),
    )

    assert response.status_code == 302
    facility = Facility.objects.get(pk=people.facility_x.pk)
    assert not facility.is_active
    assert facility.address == "2 River Road\nLeeds"


def test_a_facility_cannot_be_staffed_with_another_operators_instructor(client, people):
    client.force_login(people.admin_x)
    page = url("facility_edit", people.operator_x.public_id, people.facility_x2.public_id)
    response = client.post(page, facility_form(name="X Pool", staff=[people.instructor_y.pk]))

    assert response.status_code == 200
    assert response.context["form"].errors["staff"] == ["Choose instructors from the list"]
    assert not people.facility_x2.staff.exists()


# --- Programmes ----------------------------------------------------------------------------------


def test_admin_adds_a_programme(client, people):
    client.force_login(people.admin_x)
    response = client.post(url("programme_create", people.operator_x.public_id), programme_form())

    assert response.status_code == 302
    programme = Programme.objects.get(name="Falls prevention")
    assert programme.operator == people.operator_x
    assert (programme.min_age, programme.max_age, programme.dna_limit) == (60, None, 2)
    assert programme.exclusions == [Exclusion.UNSTABLE_ANGINA]


def test_a_new_programme_starts_with_every_exclusion_ticked(client, people):
    client.force_login(people.admin_x)
    form = client.get(url("programme_create", people.operator_x.public_id)).context["form"]
    assert form["exclusions"].value() == list(Exclusion.values)


def test_a_programme_with_mistakes_changes_nothing(client, people):
    client.force_login(people.admin_x)
    page = url("programme_edit", people.operator_x.public_id, people.programme_x.public_id)
    response = client.post(
        page,
        programme_form(
            name=people.programme_x.name, min_age="70", max_age="65", conditions=[], dna_limit="0"
        ),
    )

    assert response.status_code == 200
    errors = response.context["form"].errors
    assert set(errors) == {"max_age", "conditions", "dna_limit"}
    assert 'value="70"' in response.content.decode()
    programme = Programme.objects.get(pk=people.programme_x.pk)
    assert (programme.min_age, programme.max_age) == (18, 90)


def test_admin_edits_a_programme_and_the_outcome_schedule_is_shown_by_name(client, people):
    Programme.objects.filter(pk=people.programme_x.pk).update(
        outcome_schedule=[{"instrument": "gppaq", "timepoints": ["baseline", "exit"]}]
    )
    client.force_login(people.admin_x)
    page = url("programme_edit", people.operator_x.public_id, people.programme_x.public_id)

    shown = client.get(page).content.decode()
    assert "General Practice Physical Activity Questionnaire (GPPAQ): baseline, exit" in shown
    assert "gppaq" not in shown
    response = client.post(page, programme_form(name="X Exercise on referral"))

    assert response.status_code == 302
    programme = Programme.objects.get(pk=people.programme_x.pk)
    assert programme.triage_sla_days == 3
    assert programme.outcome_schedule == [
        {"instrument": "gppaq", "timepoints": ["baseline", "exit"]}
    ]


# --- Classes -------------------------------------------------------------------------------------


def test_admin_adds_a_class(client, people):
    client.force_login(people.admin_x)
    response = client.post(url("class_create", people.operator_x.public_id), class_form(people))

    assert response.status_code == 302
    programme_class = ProgrammeClass.objects.get(name="Thursday strength and balance")
    assert (programme_class.weekday, programme_class.start_time) == (3, datetime.time(14, 30))
    assert list(programme_class.instructors.all()) == [people.instructor_x]
    assert people.instructor_x in people.facility_x2.staff.all()


def test_class_choices_are_the_operators_own_and_use_public_ids(client, people):
    client.force_login(people.admin_x)
    form = client.get(url("class_create", people.operator_x.public_id)).context["form"]

    assert list(form.fields["programme"].queryset) == [people.programme_x]
    assert set(form.fields["facility"].queryset) == {people.facility_x, people.facility_x2}
    assert list(form.fields["instructors"].queryset) == [people.instructor_x]
    content = client.get(url("class_create", people.operator_x.public_id)).content.decode()
    assert f'value="{people.programme_x.public_id}"' in content


def test_a_class_with_mistakes_is_shown_again_and_nothing_is_saved(client, people):
    client.force_login(people.admin_x)
    response = client.post(
        url("class_create", people.operator_x.public_id),
        class_form(
            people,
            facility=str(people.facility_y.public_id),
            start_time="half two",
            capacity="0",
        ),
    )

    assert response.status_code == 200
    errors = response.context["form"].errors
    assert errors["facility"] == ["Choose a facility from the list"]
    assert errors["start_time"] == ["Enter the start time in the 24-hour clock, like 18:30"]
    assert errors["capacity"] == ["The class must have at least 1 place"]
    assert 'value="half two"' in response.content.decode()
    assert not ProgrammeClass.objects.filter(name="Thursday strength and balance").exists()


def test_admin_edits_a_class(client, people):
    client.force_login(people.admin_x)
    page = url("class_edit", people.operator_x.public_id, people.class_x.public_id)

    assert client.get(page).context["form"].initial["start_time"] == datetime.time(10, 0)
    response = client.post(
        page,
        class_form(
            people,
            name=people.class_x.name,
            facility=str(people.facility_x.public_id),
            start_time="18.15",
            capacity="16",
            is_active="",
        ),
    )

    assert response.status_code == 302
    programme_class = ProgrammeClass.objects.get(pk=people.class_x.pk)
    assert (programme_class.start_time, programme_class.capacity) == (datetime.time(18, 15), 16)
    assert not programme_class.is_active


def test_an_inactive_programme_is_offered_only_to_its_own_classes(client, people):
    Programme.objects.filter(pk=people.programme_x.pk).update(is_active=False)
    client.force_login(people.admin_x)

    new = client.get(url("class_create", people.operator_x.public_id)).context["form"]
    existing = client.get(
        url("class_edit", people.operator_x.public_id, people.class_x.public_id)
    ).context["form"]

    assert list(new.fields["programme"].queryset) == []
    assert list(existing.fields["programme"].queryset) == [people.programme_x]


# --- A constant number of queries ----------------------------------------------------------------


def query_count(client, page) -> int:
    client.get(page)  # warm caches (session, content types) before measuring
    with CaptureQueriesContext(connection) as queries:
        response = client.get(page)
    assert response.status_code == 200
    return len(queries)


def add_rows(operator, kind: str, count: int, instructor) -> None:
    for _ in range(count):
        if kind == "facilities":
            FacilityFactory(operator=operator).staff.add(instructor)
        elif kind == "programmes":
            ProgrammeFactory(operator=operator)
        elif kind == "classes":
            programme = ProgrammeFactory(operator=operator)
            ProgrammeClassFactory(programme=programme).instructors.add(instructor)
        else:
            member(operator, Role.COORDINATOR)


@pytest.mark.parametrize("kind", ["facilities", "programmes", "classes", "members"])
def test_list_pages_run_the_same_number_of_queries_for_1_and_50_rows(client, db, kind):
    operator = new_operator()
    admin = org_admin(operator)  # the admin is the members list's first row
    instructor = member(operator, Role.INSTRUCTOR) if kind != "members" else None
    client.force_login(admin)
    page = url(kind, operator.public_id)
    add_rows(operator, kind, 0 if kind == "members" else 1, instructor)
    with_one = query_count(client, page)

    add_rows(operator, kind, 49, instructor)
    with_fifty = query_count(client, page)

    response = client.get(page)
    assert response.status_code == 200
    assert len(response.context["rows"]) == 50
    # Each of the 50 rows is on the page, by its name (or a member's email).
    shown = {
        "facilities": [f">{f.name}</a>" for f in Facility.objects.filter(operator=operator)],
        "programmes": [f">{p.name}</a>" for p in Programme.objects.filter(operator=operator)],
        "classes": [
            f">{c.name}</a>" for c in ProgrammeClass.objects.filter(programme__operator=operator)
        ],
        "members": [f"</span>{m.user.email}</td>" for m in operator.memberships.all()],
    }[kind]
    assert len(shown) == 50
    assert [row for row in shown if row not in response.content.decode()] == []
    assert with_fifty == with_one


def test_the_overview_runs_a_fixed_number_of_queries(client, people, django_assert_max_num_queries):
    client.force_login(people.admin_x)
    client.get(url("index"))
    # Session, user, memberships, the counts, and the MFA check: no query per row.
    with django_assert_max_num_queries(5):
        response = client.get(url("index"))
    assert response.status_code == 200
    html = response.content.decode()
    # Operator X: two facilities, one programme, one class; instructor, coordinator and admin.
    for count in ["2 open for referrals", "1 taking referrals", "1 running", "3 active"]:
        assert f'<dd class="nhsuk-summary-list__value">{count}</dd>' in html
