"""Planned sessions follow from the timetable (issue 11, finding 5): a participant joins one
weekly class, so a programme of N weeks can plan at most N sessions, and the programme form
says so rather than accept 24 sessions over 12 weeks."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from facilities.timetable import planned_sessions_problem, reachable_sessions
from manage.forms import ProgrammeForm

from .test_views import programme_form


@given(weeks=st.integers(min_value=1, max_value=104), planned=st.integers(1, 500))
def test_finding_5_a_plan_is_reachable_only_within_one_session_a_week(weeks, planned):
    assert reachable_sessions(weeks) == weeks
    assert (planned_sessions_problem(weeks, planned) is None) == (planned <= weeks)


def test_finding_5_the_programme_form_refuses_24_sessions_over_12_weeks():
    form = ProgrammeForm(programme_form(duration_weeks="12", planned_sessions="24"))

    assert not form.is_valid()
    assert form.errors["planned_sessions"] == [
        "Planned sessions must be 12 or fewer: each participant joins one class, which meets "
        "once a week, so 12 weeks give at most 12 sessions. Lower the planned sessions, "
        "lengthen the programme, or count self-directed visits"
    ]


@pytest.mark.parametrize(("weeks", "planned"), [("12", "12"), ("12", "9"), ("24", "24")])
def test_finding_5_the_programme_form_takes_a_reachable_plan(weeks, planned):
    form = ProgrammeForm(programme_form(duration_weeks=weeks, planned_sessions=planned))

    assert form.is_valid(), form.errors


@given(weeks=st.integers(min_value=1, max_value=104), planned=st.integers(1, 800))
def test_where_visits_count_a_plan_is_reachable_within_a_day_each(weeks, planned):
    """Issue 14: a day counts once, a class or a gym visit, so up to seven a week."""
    assert reachable_sessions(weeks, counts_visits=True) == 7 * weeks
    problem = planned_sessions_problem(weeks, planned, counts_visits=True)
    assert (problem is None) == (planned <= 7 * weeks)


def test_the_programme_form_takes_24_sessions_over_12_weeks_where_visits_count():
    counted = programme_form(duration_weeks="12", planned_sessions="24")
    counted["self_directed_visits_count"] = "on"
    assert ProgrammeForm(counted).is_valid()

    too_many = {**counted, "planned_sessions": "85"}
    form = ProgrammeForm(too_many)
    assert not form.is_valid()
    assert form.errors["planned_sessions"] == [
        "Planned sessions must be 84 or fewer: a day counts once, whether a class or a visit, "
        "so 12 weeks give at most 84. Lower the planned sessions or lengthen the programme"
    ]
