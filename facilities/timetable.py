"""How many sessions a programme's timetable lets one participant attend.

A participant is booked into one class (`Referral.programme_class`) and a class meets once a week
(`ProgrammeClass.weekday`, one slot), so over a programme of N weeks a participant can attend at
most N sessions. A programme that plans more cannot be reached by anyone, and measuring adherence
against it (75% of planned, `outcomes/reports.py`) would call almost everyone non-adherent. The
programme form refuses such a plan and says why.

Where the programme counts self-directed visits toward adherence (`referrals.adherence`), every
day can count once (a class or a visit), so a plan of up to seven sessions a week is reachable:
one class a week and a gym visit of the participant's own, say, is two.
"""

CLASSES_A_WEEK_PER_PARTICIPANT = 1
COUNTED_DAYS_A_WEEK = 7


def reachable_sessions(duration_weeks: int, *, counts_visits: bool = False) -> int:
    """The most sessions one participant can have counted: weeks x classes a week they join,
    or weeks x days where self-directed visits count (a day counts once)."""
    a_week = COUNTED_DAYS_A_WEEK if counts_visits else CLASSES_A_WEEK_PER_PARTICIPANT
    return max(duration_weeks, 0) * a_week


def planned_sessions_problem(
    duration_weeks: int, planned_sessions: int, *, counts_visits: bool = False
) -> str | None:
    """Why `planned_sessions` cannot be reached in `duration_weeks`, or None when it can."""
    most = reachable_sessions(duration_weeks, counts_visits=counts_visits)
    if planned_sessions <= most:
        return None
    weeks = f"{duration_weeks} week{'' if duration_weeks == 1 else 's'}"
    if counts_visits:
        return (
            f"Planned sessions must be {most} or fewer: a day counts once, whether a class or "
            f"a visit, so {weeks} give at most {most}. Lower the planned sessions or lengthen "
            "the programme"
        )
    return (
        f"Planned sessions must be {most} or fewer: each participant joins one class, which "
        f"meets once a week, so {weeks} give at most {most} sessions. Lower the planned "
        "sessions, lengthen the programme, or count self-directed visits"
    )
