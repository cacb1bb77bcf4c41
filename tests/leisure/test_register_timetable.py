"""Registers that add up (issue 11, finding 5): a day's register lists exactly the classes that
meet that weekday, with everyone booked into that session; sessions off a class's timetable are
listed apart, never under a class that does not meet that day. Property-based over dates and
timetables."""

import datetime
import zoneinfo
from html import unescape

import pytest
from django.urls import reverse
from hypothesis import given, settings
from hypothesis import strategies as st

from facilities.models import ProgrammeClass
from leisure import register
from referrals import services
from referrals.models import Session
from referrals.services import class_session_times
from referrals.working_days import is_bank_holiday
from tests.builders import new_draft
from tests.factories import ProgrammeClassFactory

LONDON = zoneinfo.ZoneInfo("Europe/London")
MONDAY_16_NOV = datetime.datetime(2026, 11, 16, 9, 0, tzinfo=LONDON)
WEDNESDAY_25_NOV = datetime.date(2026, 11, 25)


def booked_into(people, programme_class, count):
    """`count` referrals accepted into the class and booked from its next session."""
    referrals = []
    for _ in range(count):
        referral = new_draft(people)
        services.referral_submit(referral=referral, by=people.referrer_a)
        services.referral_accept(
            referral=referral,
            by=people.coordinator_x,
            facility=people.facility_x,
            programme_class=programme_class,
            instructor=people.instructor_x,
        )
        services.referral_book(referral=referral, by=people.coordinator_x)
        referrals.append(referral)
    return referrals


@pytest.fixture
def week_of_classes(people, frozen_now):
    """A Monday and a Wednesday class at facility X; 7 booked into the Wednesday one."""
    frozen_now(MONDAY_16_NOV)
    monday = ProgrammeClassFactory(
        programme=people.programme_x,
        facility=people.facility_x,
        name="Monday circuits",
        weekday=0,
        capacity=10,
    )
    wednesday = ProgrammeClassFactory(
        programme=people.programme_x,
        facility=people.facility_x,
        name="Wednesday circuits",
        weekday=2,
        capacity=10,
    )
    wednesday_people = booked_into(people, wednesday, 7)
    return monday, wednesday, wednesday_people


def today_page(client, people, day):
    client.force_login(people.instructor_x)
    return unescape(
        client.get(reverse("register:today"), {"day": day.isoformat()}).content.decode()
    )


def test_finding_5_wednesday_register_lists_the_wednesday_class(client, people, week_of_classes):
    monday, wednesday, booked = week_of_classes

    listed = list(register.classes_today_for(people.instructor_x, WEDNESDAY_25_NOV))
    page = today_page(client, people, WEDNESDAY_25_NOV)

    assert wednesday in listed and monday not in listed
    assert "Wednesday circuits" in page
    for referral in booked:
        assert referral.patient.full_name in page
    assert "No one is booked into this class on this day" not in page


def test_finding_5_a_wednesday_does_not_list_the_monday_class(client, people, week_of_classes):
    monday, _wednesday, _booked = week_of_classes
    # A session of the Monday class put on a Wednesday (as the old demo did): it shows apart.
    (stray,) = booked_into(people, monday, 1)
    Session.objects.filter(pk=stray.sessions.earliest("scheduled_at").pk).update(
        scheduled_at=datetime.datetime(2026, 11, 25, 10, 0, tzinfo=LONDON)
    )

    listed = list(register.classes_today_for(people.instructor_x, WEDNESDAY_25_NOV))
    page = today_page(client, people, WEDNESDAY_25_NOV)

    assert monday not in listed
    assert "Monday circuits" not in page.split("Other sessions on this day")[0]
    assert "Other sessions on this day" in page
    assert stray.patient.full_name in page.split("Other sessions on this day", 1)[1]


def test_finding_5_a_place_holder_with_no_session_that_day_is_named(
    client, people, week_of_classes
):
    _monday, wednesday, booked = week_of_classes
    # Their 25 November session went missing (their sessions before and after remain).
    Session.objects.filter(referral=booked[0], scheduled_at__date=WEDNESDAY_25_NOV).delete()

    missing = register.holders_without_session([wednesday], WEDNESDAY_25_NOV)[wednesday.id]
    page = today_page(client, people, WEDNESDAY_25_NOV)

    assert missing == [booked[0]]
    assert "1 with a place but no session this day" in page
    assert booked[0].patient.full_name in page


@settings(max_examples=60, deadline=None)
@given(
    weekday=st.integers(min_value=0, max_value=6),
    first_day=st.dates(min_value=datetime.date(2020, 1, 1), max_value=datetime.date(2035, 12, 31)),
    weeks=st.integers(min_value=1, max_value=52),
    start=st.times(),
)
def test_finding_5_booked_sessions_fall_on_the_class_weekday_once_a_week(
    weekday, first_day, weeks, start
):
    programme_class = ProgrammeClass(weekday=weekday, start_time=start.replace(microsecond=0))

    times = class_session_times(programme_class, first_day, weeks)

    local = [t.astimezone(LONDON) for t in times]
    assert all(t.weekday() == weekday for t in local)
    assert all(t.date() >= first_day for t in local)
    assert all(t.date() - first_day < datetime.timedelta(days=7 * weeks) for t in local)
    # One a week, less the bank holidays on the class's day (the centre is closed).
    first = first_day + datetime.timedelta(days=(weekday - first_day.weekday()) % 7)
    slots = [first + datetime.timedelta(weeks=w) for w in range(weeks)]
    assert [t.date() for t in local] == [d for d in slots if not is_bank_holiday(d)]


def test_finding_5_any_day_lists_exactly_the_classes_of_its_weekday(people):
    classes = {
        weekday: ProgrammeClassFactory(
            programme=people.programme_x, facility=people.facility_x, weekday=weekday
        )
        for weekday in range(7)
    }
    # An inactive class meets nobody: left out even on its own weekday.
    ProgrammeClassFactory(
        programme=people.programme_x, facility=people.facility_x, weekday=3, is_active=False
    )

    @settings(max_examples=40, deadline=None)
    @given(day=st.dates(min_value=datetime.date(2000, 1, 1), max_value=datetime.date(2099, 12, 31)))
    def check(day):
        listed = list(register.classes_today_for(people.instructor_x, day))
        assert all(c.weekday == day.weekday() for c in listed)
        assert classes[day.weekday()] in listed
        assert all(c.is_active for c in listed)

    check()
