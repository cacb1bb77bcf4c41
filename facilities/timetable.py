"""How many sessions a programme's timetable lets one participant attend.

A participant is booked into one class (`Referral.programme_class`) and a class meets once a week
(`ProgrammeClass.weekday`, one slot), so over a programme of N weeks a participant can attend at
most N sessions. A programme that plans more cannot be reached by anyone, and measuring adherence
against it (75% of planned, `outcomes/reports.py`) would call almost everyone non-adherent. The
programme form refuses such a plan and says why.
"""

CLASSES_A_WEEK_PER_PARTICIPANT = 1


def reachable_sessions(duration_weeks: int) -> int:
    """The most sessions one participant can attend: weeks x classes a week they join."""
    return max(duration_weeks, 0) * CLASSES_A_WEEK_PER_PARTICIPANT


def planned_sessions_problem(duration_weeks: int, planned_sessions: int) -> str | None:
    """Why `planned_sessions` cannot be reached in `duration_weeks`, or None when it can."""
    most = reachable_sessions(duration_weeks)
    if planned_sessions <= most:
        return None
    weeks = f"{duration_weeks} week{'' if duration_weeks == 1 else 's'}"
    return (
        f"Planned sessions must be {most} or fewer: each participant joins one class, which "
        f"meets once a week, so {weeks} give at most {most} sessions. Lower the planned "
        "sessions or lengthen the programme"
    )
