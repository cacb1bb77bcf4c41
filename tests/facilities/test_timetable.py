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
        "once a week, so 12 weeks give at most 12 sessions. Lower the planned sessions or "
        "lengthen the programme"
    ]


@pytest.mark.parametrize(("weeks", "planned"), [("12", "12"), ("12", "9"), ("24", "24")])
def test_finding_5_the_programme_form_takes_a_reachable_plan(weeks, planned):
    form = ProgrammeForm(programme_form(duration_weeks=weeks, planned_sessions=planned))

    assert form.is_valid(), form.errors
