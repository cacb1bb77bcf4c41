import datetime

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone
from hypothesis import given, settings
from hypothesis import strategies as st

from clinical.conditions import Condition
from governance.models import ProgrammeEvent
from outcomes.schedules import (
    DONE,
    DUE,
    FOLLOWUP_MISSED_AFTER_MONTHS,
    GRACE_DAYS,
    MISSED,
    OVERDUE,
    UPCOMING,
    add_months,
    assessments_due,
    due_state,
    followups_due,
    programme_set_outcome_schedule,
    referrals_with_schedule,
    schedule_for,
    validate_schedule,
)
from outcomes.services import assessment_record
from referrals import services
from referrals.models import Attendance, Referral, Session, Status
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


def first_session_on(referral):
    return timezone.localdate(referral.sessions.order_by("scheduled_at").first().scheduled_at)


def test_baseline_due_at_the_first_session_and_overdue_after_grace(scheduled):
    referral = referral_in_state(scheduled, Status.BOOKED)
    first = first_session_on(referral)
    assert first > TODAY  # booked today, for a class in the days ahead

    assert states(referral, TODAY)[("phq9", "baseline")] == UPCOMING
    on_the_day = states(referral, first)
    assert on_the_day[("phq9", "baseline")] == DUE
    assert on_the_day[("phq9", "exit")] == UPCOMING
    assert on_the_day[("phq9", "followup_3m")] == UPCOMING
    later = states(referral, first + datetime.timedelta(days=15))
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
    rows = assessments_due(scheduled.instructor_x, today=first_session_on(booked))
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


# --- Finding 9 (issue 11): due lists, mental-health defaults, the schedule's rules -------------

PINNED = timezone.make_aware(datetime.datetime(2026, 11, 2, 9, 0))  # a Monday


def test_finding_9_outcomes_due_never_lists_ended_referrals(scheduled, frozen_now):
    frozen_now(PINNED)
    booked = referral_in_state(scheduled, Status.BOOKED)
    completed = referral_in_state(scheduled, Status.COMPLETED)
    discharged = referral_in_state(scheduled, Status.DISCHARGED)
    a_month_on = datetime.date(2026, 12, 2)
    # Their baseline and exit were never recorded: overdue on their own pages...
    assert states(completed, a_month_on)[("phq9", "exit")] == OVERDUE
    assert states(discharged, a_month_on)[("phq9", "baseline")] == OVERDUE

    rows = assessments_due(scheduled.instructor_x, today=a_month_on)

    # ...but the instructor's due list holds the open referral only.
    assert {row.referral for row in rows} == {booked}


def test_finding_9_exit_falls_due_when_the_programme_ends_while_the_referral_is_open(
    scheduled, frozen_now
):
    frozen_now(PINNED)
    active = referral_in_state(scheduled, Status.ACTIVE)  # booked on 2 November 2026
    rows = {(r.instrument, r.timepoint): r for r in schedule_for(active, today=PINNED.date())}

    # 12 weeks after booking: Monday 25 January 2027.
    assert rows[("phq9", "exit")].due_on == datetime.date(2027, 1, 25)
    assert rows[("phq9", "exit")].state == UPCOMING
    due = assessments_due(scheduled.instructor_x, today=datetime.date(2027, 1, 26))
    assert (active, "phq9", "exit") in {(r.referral, r.instrument, r.timepoint) for r in due}


def test_finding_9_a_depression_referral_gets_phq9_and_gad7_at_baseline_and_exit(
    people, frozen_now
):
    frozen_now(PINNED)
    people.programme_x.outcome_schedule = [
        {"instrument": "gppaq", "timepoints": ["baseline", "exit"]}
    ]
    people.programme_x.save()
    depressed = referral_in_state(people, Status.BOOKED, reasons=[Condition.DEPRESSION])
    hypertensive = referral_in_state(people, Status.BOOKED, reasons=[Condition.HYPERTENSION])

    assert {(r.instrument, r.timepoint) for r in schedule_for(depressed)} == {
        ("gppaq", "baseline"),
        ("gppaq", "exit"),
        ("phq9", "baseline"),
        ("phq9", "exit"),
        ("gad7", "baseline"),
        ("gad7", "exit"),
    }
    assert {(r.instrument, r.timepoint) for r in schedule_for(hypertensive)} == {
        ("gppaq", "baseline"),
        ("gppaq", "exit"),
    }


def test_an_anxiety_referral_keeps_the_programmes_own_phq9_timepoints(scheduled, frozen_now):
    frozen_now(PINNED)
    anxious = referral_in_state(scheduled, Status.BOOKED, reasons=[Condition.ANXIETY])

    rows = [(r.instrument, r.timepoint) for r in schedule_for(anxious)]

    # PHQ-9 once per timepoint: the programme's four, which include baseline and exit.
    assert [t for code, t in rows if code == "phq9"] == [
        "baseline",
        "exit",
        "followup_3m",
        "followup_6m",
    ]
    assert [t for code, t in rows if code == "gad7"] == ["baseline", "exit"]


@pytest.mark.parametrize("count", [1, 6])
def test_assessments_due_runs_constant_queries(
    scheduled, django_assert_max_num_queries, count, frozen_now
):
    frozen_now(PINNED)
    for _ in range(count):
        referral_in_state(scheduled, Status.BOOKED, reasons=[Condition.DEPRESSION])
    user = scheduled.instructor_x
    from accounts.permissions import forget_cached_permissions

    forget_cached_permissions(user)
    with django_assert_max_num_queries(6):
        rows = assessments_due(user, today=PINNED.date() + datetime.timedelta(days=14))
    # Each booked today, for a first session within the week: two weeks on, PHQ-9, six-minute
    # walk and GAD-7 baselines are outstanding (PHQ-9 once).
    assert len(rows) == count * 3


def test_finding_9_schedule_rules_name_measures_by_name():
    with pytest.raises(ValidationError) as refused:
        validate_schedule(
            [
                {"instrument": "phq9", "timepoints": ["exit"]},
                {"instrument": "no_such_measure", "timepoints": ["baseline"]},
                {"instrument": "gad7", "timepoints": ["baseline", "someday"]},
            ]
        )

    assert refused.value.messages == [
        "Patient Health Questionnaire-9 (PHQ-9): also choose baseline, because change is "
        "measured from baseline",
        "Generalised Anxiety Disorder Assessment-7 (GAD-7): 'someday' is not a timepoint",
        "'no_such_measure' is not an outcome measure",
    ]


@pytest.mark.parametrize(
    "schedule",
    ["phq9", [["phq9", "baseline"]], [{"instrument": "phq9", "timepoints": "baseline"}], None],
)
def test_a_schedule_of_the_wrong_shape_is_refused(schedule):
    with pytest.raises(ValidationError) as refused:
        validate_schedule(schedule)

    assert refused.value.messages == [
        "The outcome schedule must list measures, each with its timepoints"
    ]


def test_a_licence_gated_measure_is_refused_until_switched_on(settings):
    settings.PORTAL_EQ5D5L_LICENSED = False
    with pytest.raises(ValidationError) as refused:
        validate_schedule([{"instrument": "eq5d5l", "timepoints": ["baseline"]}])

    assert refused.value.messages == ["EQ-5D-5L needs a licence that has not been switched on here"]


def test_a_valid_schedule_is_stored_in_one_order_without_repeats():
    assert validate_schedule(
        [
            {"instrument": "six_minute_walk", "timepoints": ["exit", "baseline", "exit"]},
            {"instrument": "gppaq", "timepoints": ["followup_3m", "baseline"]},
            {"instrument": "phq9", "timepoints": []},
        ]
    ) == [
        {"instrument": "gppaq", "timepoints": ["baseline", "followup_3m"]},
        {"instrument": "six_minute_walk", "timepoints": ["baseline", "exit"]},
    ]


def test_the_admin_sets_the_schedule_and_the_change_history_keeps_who(people):
    schedule = [{"instrument": "swemwbs", "timepoints": ["baseline", "mid", "exit"]}]

    programme_set_outcome_schedule(
        programme=people.programme_x, schedule=schedule, by=people.admin_x
    )

    people.programme_x.refresh_from_db()
    assert people.programme_x.outcome_schedule == schedule
    latest = ProgrammeEvent.objects.filter(pgh_obj_id=people.programme_x.pk).latest("pgh_id")
    assert latest.outcome_schedule == schedule


@pytest.mark.parametrize("persona", ["coordinator_x", "instructor_x", "admin_a", "referrer_a"])
def test_only_the_operators_admin_sets_the_schedule(people, persona):
    before = people.programme_x.outcome_schedule

    with pytest.raises(PermissionDenied):
        programme_set_outcome_schedule(
            programme=people.programme_x,
            schedule=[{"instrument": "phq9", "timepoints": ["baseline"]}],
            by=getattr(people, persona),
        )

    people.programme_x.refresh_from_db()
    assert people.programme_x.outcome_schedule == before


def test_an_invalid_schedule_changes_nothing(people):
    before = people.programme_x.outcome_schedule

    with pytest.raises(ValidationError):
        programme_set_outcome_schedule(
            programme=people.programme_x,
            schedule=[{"instrument": "phq9", "timepoints": ["exit"]}],
            by=people.admin_x,
        )

    people.programme_x.refresh_from_db()
    assert people.programme_x.outcome_schedule == before


# --- The walk-through: follow-ups from years ago, and a baseline at the first session ----------


def test_followups_from_years_ago_were_missed_and_are_not_listed(scheduled, frozen_now):
    frozen_now(timezone.make_aware(datetime.datetime(2017, 3, 6, 10, 0)))
    historic = referral_in_state(scheduled, Status.COMPLETED)  # completed on 6 March 2017
    frozen_now(PINNED)

    rows = {(r.instrument, r.timepoint): r for r in schedule_for(historic, today=PINNED.date())}

    assert rows[("phq9", "followup_3m")].due_on == datetime.date(2017, 6, 6)
    assert rows[("phq9", "followup_3m")].state == MISSED
    assert rows[("phq9", "followup_3m")].state_label == "Missed"
    assert rows[("phq9", "followup_6m")].state == MISSED
    assert followups_due(scheduled.instructor_x, today=PINNED.date()) == []


def test_a_followup_is_chased_for_three_months_after_its_due_date_then_missed(
    scheduled, frozen_now
):
    frozen_now(timezone.make_aware(datetime.datetime(2026, 1, 15, 10, 0)))
    completed = referral_in_state(scheduled, Status.COMPLETED)
    due_on = datetime.date(2026, 4, 15)  # three months after completion
    last_day = add_months(due_on, FOLLOWUP_MISSED_AFTER_MONTHS)  # 15 July 2026

    def listed(today):
        return [
            (r.referral, r.timepoint)
            for r in followups_due(scheduled.instructor_x, today=today)
            if r.timepoint == "followup_3m"
        ]

    assert listed(last_day) == [(completed, "followup_3m")]
    assert states(completed, last_day)[("phq9", "followup_3m")] == OVERDUE
    assert listed(last_day + datetime.timedelta(days=1)) == []
    assert states(completed, last_day + datetime.timedelta(days=1))[("phq9", "followup_3m")] == (
        MISSED
    )


def test_in_programme_measures_are_never_missed_only_overdue():
    long_ago = datetime.date(2017, 1, 1)
    assert due_state(long_ago, PINNED.date(), followup=False) == OVERDUE
    assert due_state(long_ago, PINNED.date(), followup=True) == MISSED


@settings(max_examples=200, deadline=None)
@given(
    due_on=st.dates(min_value=datetime.date(2015, 1, 1), max_value=datetime.date(2035, 12, 31)),
    days_later=st.integers(min_value=-400, max_value=800),
    followup=st.booleans(),
)
def test_a_measure_is_chased_only_from_its_due_date_to_the_end_of_its_window(
    due_on, days_later, followup
):
    today = due_on + datetime.timedelta(days=days_later)

    state = due_state(due_on, today, followup=followup)

    window_ends = add_months(due_on, FOLLOWUP_MISSED_AFTER_MONTHS) if followup else None
    chased = state in {DUE, OVERDUE}
    assert chased == (due_on <= today and (window_ends is None or today <= window_ends))
    assert (state == UPCOMING) == (today < due_on)
    assert (state == OVERDUE) == (chased and (today - due_on).days > GRACE_DAYS)
    assert state != MISSED or followup


def test_baseline_falls_due_at_the_first_session_not_cancelled(scheduled):
    referral = referral_in_state(scheduled, Status.BOOKED)
    first, second = referral.sessions.order_by("scheduled_at")[:2]
    services.session_record_attendance(
        session=first, status=Attendance.CANCELLED_PROVIDER, by=scheduled.instructor_x
    )

    rows = {(r.instrument, r.timepoint): r for r in schedule_for(referral)}

    assert rows[("phq9", "baseline")].due_on == timezone.localdate(second.scheduled_at)
    assert rows[("phq9", "baseline")].due_on != timezone.localdate(
        referral.events.get(action="book").created_at
    )


def test_baseline_due_date_is_the_first_session_for_any_sessions(scheduled):
    referral = referral_in_state(scheduled, Status.BOOKED)
    booked_on = timezone.localdate(referral.events.get(action="book").created_at)
    statuses = [
        Attendance.BOOKED,
        Attendance.ATTENDED,
        Attendance.DNA,
        Attendance.CANCELLED_PATIENT,
        Attendance.CANCELLED_PROVIDER,
    ]

    @settings(max_examples=25, deadline=None)
    @given(
        sessions=st.dictionaries(
            st.integers(min_value=-30, max_value=120), st.sampled_from(statuses), max_size=5
        ),
        hour=st.integers(min_value=0, max_value=23),
    )
    def check(sessions, hour):
        Session.objects.filter(referral=referral).delete()
        start = timezone.make_aware(datetime.datetime.combine(booked_on, datetime.time(hour)))
        for offset, status in sessions.items():
            at = start + datetime.timedelta(days=offset)
            logged = None if status == Attendance.BOOKED else at
            Session.objects.create(
                referral=referral, scheduled_at=at, status=status, logged_at=logged
            )
        taking_place = [
            offset
            for offset, status in sessions.items()
            if status not in {Attendance.CANCELLED_PATIENT, Attendance.CANCELLED_PROVIDER}
        ]
        expected = (
            booked_on + datetime.timedelta(days=min(taking_place)) if taking_place else booked_on
        )

        alone = {(r.instrument, r.timepoint): r.due_on for r in schedule_for(referral)}
        # The due lists read the first session from an annotation: the same dates.
        annotated = referrals_with_schedule(Referral.objects.filter(pk=referral.pk)).get()
        listed = {(r.instrument, r.timepoint): r.due_on for r in schedule_for(annotated)}
        assert alone[("phq9", "baseline")] == expected
        assert listed == alone

    check()
