"""Class capacity: accepting into a full class waitlists, booking needs a free place, sessions
follow the weekly slot around bank holidays, and concurrent use stays consistent."""

import datetime

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from referrals import services
from referrals.models import Referral, Session, Status
from referrals.places import waitlist_position
from referrals.services import class_session_times
from tests.builders import referral_in_state, session_due_now
from tests.factories import ProgrammeClassFactory
from tests.referrals.test_concurrency import run_concurrently


def submitted(people, count=1):
    return [referral_in_state(people, Status.SUBMITTED) for _ in range(count)]


def accept(people, referral, programme_class):
    return services.referral_accept(
        referral=referral,
        by=people.coordinator_x,
        facility=people.facility_x,
        programme_class=programme_class,
    )


def test_accepting_into_a_full_class_puts_the_referral_on_its_waiting_list(people):
    small = ProgrammeClassFactory(
        programme=people.programme_x, facility=people.facility_x, capacity=1
    )
    first, second, third = submitted(people, 3)
    accept(people, first, small)
    accept(people, second, small)
    accept(people, third, small)

    assert first.status == Status.ACCEPTED
    assert (second.status, third.status) == (Status.WAITLISTED, Status.WAITLISTED)
    assert (waitlist_position(second), waitlist_position(third)) == (1, 2)
    assert waitlist_position(first) is None
    actions = list(second.events.values_list("action", flat=True))
    assert actions[-2:] == ["accept", "waitlist"]
    assert "number 1 on its waiting list" in second.events.get(action="waitlist").note
    # The referrer hears both: accepted, then on the waiting list.
    assert set(second.notifications.values_list("event__action", flat=True)) >= {
        "accept",
        "waitlist",
    }


def test_a_waitlisted_referral_books_only_when_a_place_frees(people, frozen_now):
    # Monday 1 November 2027: the Tuesdays from the next day run over 28 December, a bank holiday.
    frozen_now(timezone.make_aware(datetime.datetime(2027, 11, 1, 9, 0)))
    small = ProgrammeClassFactory(
        programme=people.programme_x, facility=people.facility_x, capacity=1
    )
    holder, waiting = submitted(people, 2)
    accept(people, holder, small)
    accept(people, waiting, small)

    with pytest.raises(ValidationError, match="full"):
        services.referral_book(referral=waiting, by=people.coordinator_x)
    assert Referral.objects.get(pk=waiting.pk).status == Status.WAITLISTED

    services.referral_cancel(referral=holder, by=people.referrer_a, reason="patient_withdrew")
    services.referral_book(referral=waiting, by=people.coordinator_x)
    assert waiting.status == Status.BOOKED
    days = [timezone.localdate(s.scheduled_at) for s in waiting.sessions.order_by("scheduled_at")]
    assert len(days) == 11  # twelve weeks less the bank holiday
    assert (days[0], days[-1]) == (datetime.date(2027, 11, 2), datetime.date(2028, 1, 18))
    assert datetime.date(2027, 12, 28) not in days


def test_weekly_sessions_skip_bank_holidays_and_keep_the_slot(people):
    monday = ProgrammeClassFactory(
        programme=people.programme_x,
        facility=people.facility_x,
        weekday=0,
        start_time=datetime.time(18, 30),
    )
    # From Thursday 20 August 2026: Mondays 24 Aug, [31 Aug bank holiday], 7 Sep, 14 Sep.
    times = class_session_times(monday, datetime.date(2026, 8, 20), 4)
    local = [timezone.localtime(t) for t in times]
    assert [t.date() for t in local] == [
        datetime.date(2026, 8, 24),
        datetime.date(2026, 9, 7),
        datetime.date(2026, 9, 14),
    ]
    assert {t.time() for t in local} == {datetime.time(18, 30)}
    # Evening sessions stay at 18:30 local time across the change from BST to GMT.
    winter = class_session_times(monday, datetime.date(2026, 10, 19), 2)
    assert [timezone.localtime(t).hour for t in winter] == [18, 18]


def test_a_one_to_one_booking_needs_a_time(people):
    referral = submitted(people)[0]
    services.referral_accept(referral=referral, by=people.coordinator_x, facility=people.facility_x)
    with pytest.raises(ValidationError, match="Enter when the first session is"):
        services.referral_book(referral=referral, by=people.coordinator_x)
    moment = timezone.now() + datetime.timedelta(days=2)
    services.referral_book(referral=referral, by=people.coordinator_x, first_session_at=moment)
    assert list(referral.sessions.values_list("scheduled_at", flat=True)) == [moment]


@pytest.mark.concurrency
@pytest.mark.django_db(transaction=True)
def test_ten_concurrent_accepts_into_the_last_place_overbook_nothing(people):
    last_place = ProgrammeClassFactory(
        programme=people.programme_x, facility=people.facility_x, capacity=3
    )
    for referral in submitted(people, 2):
        accept(people, referral, last_place)
    contenders = submitted(people, 10)

    outcomes = run_concurrently([lambda r=r: accept(people, r, last_place) for r in contenders])

    assert all(kind == "ok" for kind, _ in outcomes), outcomes
    statuses = [Referral.objects.get(pk=r.pk).status for r in contenders]
    assert statuses.count(Status.ACCEPTED) == 1
    assert statuses.count(Status.WAITLISTED) == 9
    holding = Referral.objects.filter(programme_class=last_place, status=Status.ACCEPTED)
    assert holding.count() == last_place.capacity
    positions = sorted(
        waitlist_position(r) for r in Referral.objects.filter(status=Status.WAITLISTED)
    )
    assert positions == list(range(1, 10))


@pytest.mark.concurrency
@pytest.mark.django_db(transaction=True)
def test_twenty_concurrent_marks_on_one_register_lose_nothing(people):
    register = ProgrammeClassFactory(
        programme=people.programme_x, facility=people.facility_x, capacity=20
    )
    referrals = []
    for _ in range(20):
        referral = submitted(people)[0]
        accept(people, referral, register)
        services.referral_book(referral=referral, by=people.coordinator_x)
        referrals.append(referral)
    sessions = [session_due_now(r.sessions.earliest("scheduled_at")) for r in referrals]

    def mark(session):
        return lambda: services.session_record_attendance(
            session=session, status=Session.Attendance.ATTENDED, by=people.instructor_x
        )

    outcomes = run_concurrently([mark(s) for s in sessions])

    assert all(kind == "ok" for kind, _ in outcomes), outcomes
    assert (
        Session.objects.filter(
            pk__in=[s.pk for s in sessions], status=Session.Attendance.ATTENDED
        ).count()
        == 20
    )
    assert (
        Referral.objects.filter(pk__in=[r.pk for r in referrals], status=Status.ACTIVE).count()
        == 20
    )
    for referral in referrals:
        assert referral.events.filter(action="start").count() == 1


@pytest.mark.concurrency
@pytest.mark.django_db(transaction=True)
def test_the_same_session_marked_twice_at_once_starts_the_referral_once(people):
    referral = referral_in_state(people, Status.BOOKED)
    session = session_due_now(referral.sessions.earliest("scheduled_at"))

    def mark():
        return services.session_record_attendance(
            session=Session.objects.get(pk=session.pk),
            status=Session.Attendance.ATTENDED,
            by=people.instructor_x,
        )

    outcomes = run_concurrently([mark, mark])

    assert [kind for kind, _ in outcomes] == ["ok", "ok"]
    assert referral.events.filter(action="start").count() == 1
    assert Referral.objects.get(pk=referral.pk).status == Status.ACTIVE
