import datetime

import pytest
from django.utils import timezone

from outcomes.schedules import (
    DONE,
    DUE,
    OVERDUE,
    UPCOMING,
    add_months,
    assessments_due,
    followups_due,
    schedule_for,
)
from outcomes.services import assessment_record
from referrals.models import Status
from tests.builders import referral_in_state
from tests.outcomes.helpers import PHQ9_CALM, SCHEDULE

TODAY = timezone.localdate()


@pytest.fixture
def scheduled(people):
    people.programme_x.outcome_schedule = SCHEDULE
    people.programme_x.save()
    return people


def states(referral, today):
    return {
        (row.instrument, row.timepoint): row.state for row in schedule_for(referral, today=today)
    }


def test_add_months_keeps_the_day_or_takes_the_months_last():
    assert add_months(datetime.date(2026, 1, 15), 3) == datetime.date(2026, 4, 15)
    assert add_months(datetime.date(2025, 8, 31), 6) == datetime.date(2026, 2, 28)
    assert add_months(datetime.date(2026, 11, 30), 3) == datetime.date(2027, 2, 28)


def test_baseline_due_from_booking_and_overdue_after_grace(scheduled):
    referral = referral_in_state(scheduled, Status.BOOKED)

    now = states(referral, TODAY)
    assert now[("phq9", "baseline")] == DUE
    assert now[("phq9", "exit")] == UPCOMING
    assert now[("phq9", "followup_3m")] == UPCOMING
    later = states(referral, TODAY + datetime.timedelta(days=15))
    assert later[("phq9", "baseline")] == OVERDUE


def test_recorded_assessment_is_done(scheduled):
    referral = referral_in_state(scheduled, Status.BOOKED)
    assessment_record(
        referral=referral,
        instrument="phq9",
        timepoint="baseline",
        answers=PHQ9_CALM,
        by=scheduled.instructor_x,
    )
    assert states(referral, TODAY)[("phq9", "baseline")] == DONE


def test_completed_referral_exit_due_and_followups_months_after_completion(scheduled, frozen_now):
    # Completed on 30 November 2026: the 3-month follow-up falls on the last day of February.
    frozen_now(timezone.make_aware(datetime.datetime(2026, 11, 30, 10, 0)))
    completed_on = datetime.date(2026, 11, 30)
    referral = referral_in_state(scheduled, Status.COMPLETED)

    rows = {(r.instrument, r.timepoint): r for r in schedule_for(referral, today=completed_on)}
    assert rows[("phq9", "exit")].state == DUE
    assert rows[("phq9", "exit")].due_on == completed_on
    assert rows[("phq9", "followup_3m")].due_on == datetime.date(2027, 2, 28)
    assert rows[("phq9", "followup_6m")].due_on == datetime.date(2027, 5, 30)
    assert rows[("phq9", "followup_3m")].state == UPCOMING
    a_week_after = states(referral, datetime.date(2027, 3, 7))
    assert a_week_after[("phq9", "followup_3m")] == DUE
    assert a_week_after[("phq9", "followup_6m")] == UPCOMING
    assert states(referral, datetime.date(2027, 3, 30))[("phq9", "followup_3m")] == OVERDUE


def test_discharged_referral_gets_exit_but_no_followups(scheduled):
    referral = referral_in_state(scheduled, Status.DISCHARGED)
    later = states(referral, add_months(TODAY, 7))
    assert later[("phq9", "exit")] == OVERDUE
    assert later[("phq9", "followup_3m")] == UPCOMING
    assert later[("phq9", "followup_6m")] == UPCOMING


def test_no_schedule_before_booking_or_without_one(people, scheduled):
    assert schedule_for(referral_in_state(scheduled, Status.ACCEPTED)) == []
    scheduled.programme_x.outcome_schedule = [{"instrument": "retired", "timepoints": ["exit"]}]
    scheduled.programme_x.save()
    assert schedule_for(referral_in_state(scheduled, Status.BOOKED)) == []


def test_followups_due_lists_the_instructors_completed_referrals_only(scheduled):
    referral = referral_in_state(scheduled, Status.COMPLETED)
    in_four_months = add_months(TODAY, 4)

    rows = followups_due(scheduled.instructor_x, today=in_four_months)
    assert [(r.referral, r.instrument, r.timepoint) for r in rows] == [
        (referral, "phq9", "followup_3m")
    ]
    assert followups_due(scheduled.instructor_y, today=in_four_months) == []
    assert followups_due(scheduled.referrer_b, today=in_four_months) == []


def test_assessments_due_excludes_followups(scheduled):
    booked = referral_in_state(scheduled, Status.BOOKED)
    rows = assessments_due(scheduled.instructor_x, today=TODAY)
    assert {(r.referral, r.instrument, r.timepoint) for r in rows} == {
        (booked, "phq9", "baseline"),
        (booked, "six_minute_walk", "baseline"),
    }


@pytest.mark.parametrize("count", [1, 5])
def test_followups_due_runs_constant_queries(scheduled, django_assert_max_num_queries, count):
    completed = [referral_in_state(scheduled, Status.COMPLETED) for _ in range(count)]
    user = scheduled.instructor_x
    from accounts.permissions import forget_cached_permissions

    forget_cached_permissions(user)
    with django_assert_max_num_queries(6):
        rows = followups_due(user, today=add_months(TODAY, 4))
    assert sorted((r.referral.pk, r.instrument, r.timepoint) for r in rows) == [
        (referral.pk, "phq9", "followup_3m") for referral in completed
    ]
