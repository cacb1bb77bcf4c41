"""Writes for outcome measures: recording an assessment, and the safety alerts it raises.

Scores are always computed here by `outcomes.instruments.score`; nobody types a score in.
"""

from decimal import Decimal
from typing import TYPE_CHECKING, Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone

from accounts.permissions import Permission, has_permission
from accounts.validation import validate_answers_size
from referrals import alerts
from referrals.models import Alert, Referral, ReferralEvent, Status

from . import instruments
from .instruments.base import NON_ITEM_ERRORS
from .models import Assessment, Method, Timepoint

if TYPE_CHECKING:
    import datetime

    from accounts.models import User

# When each timepoint may be recorded. Baseline and mid-programme belong to the programme itself
# (a paper form may be entered after completion); exit also after an early discharge, so the
# patient's last measures are kept; follow-ups come after a completed programme only.
RECORDABLE_STATES: dict[str, frozenset[str]] = {
    Timepoint.BASELINE: frozenset({Status.BOOKED, Status.ACTIVE, Status.COMPLETED}),
    Timepoint.MID: frozenset({Status.ACTIVE, Status.COMPLETED}),
    Timepoint.EXIT: frozenset({Status.ACTIVE, Status.COMPLETED, Status.DISCHARGED}),
    Timepoint.FOLLOWUP_3M: frozenset({Status.COMPLETED}),
    Timepoint.FOLLOWUP_6M: frozenset({Status.COMPLETED}),
    Timepoint.FOLLOWUP_12M: frozenset({Status.COMPLETED}),
}

# Its blood pressure and resting heart rate raise alerts (`referrals.alerts.measure_findings`).
PHYSICAL_MEASURES = "physical_measures"


def _json_ready(answers: dict[str, Any]) -> dict[str, Any]:
    """Cleaned-for-storage answers: Decimals (from number inputs) as floats, read via str."""
    return {
        code: float(str(value)) if isinstance(value, Decimal) else value
        for code, value in answers.items()
    }


def _instrument_label(instrument: instruments.Instrument) -> str:
    return instrument.short_name or instrument.name


@transaction.atomic
def assessment_record(
    *,
    referral: Referral,
    instrument: str,
    timepoint: str,
    answers: dict[str, Any],
    by: "User",
    method: str = Method.INSTRUCTOR,
    administered_at: "datetime.datetime | None" = None,
) -> Assessment:
    """Record (or re-record) one instrument at one timepoint for a referral.

    Raises PermissionDenied without ASSESSMENT_RECORD on the referral, and ValidationError for an
    unknown or switched-off instrument, a timepoint the referral's state does not allow, or
    answers the instrument rejects (keyed by item code). Re-recording replaces the answers and
    scores and adds a correction to the timeline. PHQ-9 question 9 above 0, and physical measures
    with BP of 180/100 or more or a resting heart rate out of range, raise a safety alert
    (`referrals/alerts.py`) in the same transaction: it reaches the operator's staff at once.
    """
    if not has_permission(by, Permission.ASSESSMENT_RECORD, referral):
        raise PermissionDenied("Only the referral's instructors can record outcome measures.")
    try:
        definition = instruments.get(instrument)
    except instruments.UnknownInstrument as unknown:
        raise ValidationError({"instrument": str(unknown)}) from unknown
    if not definition.enabled:
        raise ValidationError({"instrument": f"{definition.name} is not switched on here."})
    if timepoint not in Timepoint.values:
        raise ValidationError({"timepoint": f"{timepoint!r} is not a timepoint."})
    if method not in Method.values:
        raise ValidationError({"method": f"{method!r} is not a recording method."})
    validate_answers_size(answers)

    locked = Referral.objects.select_for_update().get(pk=referral.pk)
    if locked.status not in RECORDABLE_STATES[timepoint]:
        raise ValidationError(
            f"{Timepoint(timepoint).label} measures cannot be recorded while the referral is "
            f"{locked.get_status_display().lower()}."
        )
    try:
        scores = definition.score(answers)
    except instruments.InvalidAnswers as invalid:
        raise ValidationError(
            {
                (code if code != NON_ITEM_ERRORS else "__all__"): message
                for code, message in invalid.errors.items()
            }
        ) from invalid

    now = timezone.now()
    stored_answers = _json_ready(answers)
    existing = (
        Assessment.objects.select_for_update()
        .filter(referral=locked, instrument=instrument, timepoint=timepoint)
        .first()
    )
    label = f"{_instrument_label(definition)} at {Timepoint(timepoint).label.lower()}"
    event_common = {
        "referral": locked,
        "actor": by,
        "actor_organisation": locked.operator,
        "created_at": now,
    }
    if existing is None:
        assessment = Assessment.objects.create(
            referral=locked,
            instrument=instrument,
            timepoint=timepoint,
            answers=stored_answers,
            scores=scores,
            method=method,
            recorded_by=by,
            administered_at=administered_at or now,
        )
    else:
        assessment = existing
        assessment.answers = stored_answers
        assessment.scores = scores
        assessment.method = method
        assessment.recorded_by = by
        assessment.administered_at = administered_at or now
        assessment.save()
        ReferralEvent.objects.create(
            **event_common,
            kind=ReferralEvent.Kind.CORRECTION,
            action="assessment_corrected",
            note=f"{label} recorded again; replaces the earlier answers.",
        )
    # The timeline says what was recorded, never the answers or scores.
    ReferralEvent.objects.create(
        **event_common,
        kind=ReferralEvent.Kind.NOTE,
        action="assessment_recorded",
        note=f"{label} recorded.",
    )
    if scores.get("safety_alert"):
        alerts.alert_raise_unless_open(
            referral=locked,
            kind=Alert.Kind.PHQ9_ITEM9,
            summary=f"{label}: question 9 answered above 'Not at all'",
            by=by,
            now=now,
        )
    if instrument == PHYSICAL_MEASURES:
        alerts.alerts_raise_for_measures(
            referral=locked, scores=scores, label=label, by=by, now=now
        )
    return assessment
