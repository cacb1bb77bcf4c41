"""The operator admin's outcome schedule editor: which measures each programme takes, and when.

An org admin of the operator only (403 for anyone else, 404 for another operator's programme, as
on the other manage pages). The page shows measures by name in a grid of checkboxes, validates
through `outcomes.schedules`, and lists earlier versions of the schedule from the programme's
change history (who changed it and when).
"""

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.shortcuts import redirect, render

from accounts.models import User
from facilities import selectors
from governance.models import ProgrammeEvent
from outcomes.schedules import (
    MENTAL_HEALTH_CONDITIONS,
    MENTAL_HEALTH_MEASURES,
    describe_schedule,
    normalise_schedule,
    programme_set_outcome_schedule,
)

from ..forms_schedules import OutcomeScheduleForm
from .facilities import _found_or_404, _operator_or_404

if TYPE_CHECKING:
    import datetime
    from uuid import UUID

    from accounts.http import AuthenticatedHttpRequest
    from facilities.models import Programme

HISTORY_SHOWN = 20


@dataclass(frozen=True)
class ScheduleChange:
    at: "datetime.datetime"
    by: str
    schedule: list[tuple[str, list[str]]]


def schedule_history(programme: "Programme") -> list[ScheduleChange]:
    """Each version the schedule has had, newest first, with who set it: two queries however
    many changes (the programme's events, then the names of the people in them)."""
    events = (
        ProgrammeEvent.objects.filter(pgh_obj_id=programme.pk)
        .select_related("pgh_context")
        .order_by("pgh_id")
        .only("pgh_id", "pgh_created_at", "outcome_schedule", "pgh_context__metadata")
    )
    versions: list[tuple[Any, list[dict[str, Any]], int | None]] = []
    previous: list[dict[str, Any]] | None = None
    for event in events:
        schedule = normalise_schedule(event.outcome_schedule)
        if schedule != previous:
            metadata = event.pgh_context.metadata if event.pgh_context else {}
            user_id = metadata.get("user") if isinstance(metadata, dict) else None
            versions.append((event.pgh_created_at, schedule, user_id))
        previous = schedule
    newest = versions[::-1][:HISTORY_SHOWN]
    ids = {user_id for _at, _schedule, user_id in newest if isinstance(user_id, int)}
    names = {user.pk: str(user) for user in User.objects.filter(pk__in=ids)}
    return [
        ScheduleChange(
            at=at,
            by=names.get(user_id, "Platform staff or a system task")
            if isinstance(user_id, int)
            else "Platform staff or a system task",
            schedule=describe_schedule(schedule),
        )
        for at, schedule, user_id in newest
    ]


@login_required
def programme_outcomes(
    request: "AuthenticatedHttpRequest", operator: "UUID", programme: "UUID"
) -> HttpResponse:
    operator = _operator_or_404(request, operator)
    programme = _found_or_404(selectors.programme_of, operator, programme)
    form = OutcomeScheduleForm(
        request.POST if request.method == "POST" else None, schedule=programme.outcome_schedule
    )
    if request.method == "POST" and form.is_valid():
        try:
            programme_set_outcome_schedule(
                programme=programme, schedule=form.schedule(), by=request.user
            )
        except ValidationError as error:
            form.add_error("cells", error.messages)
        else:
            messages.success(request, f"Outcome measures for {programme.name} saved")
            return redirect("manage:programme_edit", operator.public_id, programme.public_id)
    return render(
        request,
        "manage/programme_outcomes.html",
        {
            "operator": operator,
            "programme": programme,
            "form": form,
            "history": schedule_history(programme),
            "mental_health_conditions": sorted(c.label for c in MENTAL_HEALTH_CONDITIONS),
            "mental_health_measures": describe_schedule(list(MENTAL_HEALTH_MEASURES)),
        },
        status=400 if request.method == "POST" else 200,
    )
