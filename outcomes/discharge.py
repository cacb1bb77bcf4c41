"""The outcome part of the discharge summary: each reported score of each instrument recorded
for the referral, with baseline, latest, change and the instrument's minimal important difference.

`referrals.discharge` assembles the summary but sits below this app, so `OutcomesConfig.ready`
registers `outcome_changes` there as an outcome source (ADR 0004's inversion). One query.
"""

import datetime
from decimal import Decimal
from typing import Any

from django.utils import timezone

from referrals.discharge import OutcomeChange
from referrals.models import Referral

from . import instruments
from .instruments.base import lookup
from .models import Assessment, Timepoint

TIMEPOINT_ORDER = {value: index for index, value in enumerate(Timepoint.values)}


def _number(value: Any) -> Decimal | None:
    if isinstance(value, bool) or not isinstance(value, int | float | Decimal):
        return None
    return Decimal(str(value))


def _places(*values: Decimal | None) -> int:
    exponents = [v.as_tuple().exponent for v in values if v is not None]
    return max([0, *(-e for e in exponents if isinstance(e, int))])


def _day(moment: datetime.datetime) -> datetime.date:
    return timezone.localdate(moment)


def outcome_changes(referral: Referral) -> list[OutcomeChange]:
    """Per instrument (by name) and reported score: the baseline (the baseline timepoint, or
    the first recorded when there is none), the latest later one, and the threshold."""
    assessments = sorted(
        Assessment.objects.filter(referral=referral),
        key=lambda a: (TIMEPOINT_ORDER.get(a.timepoint, 99), a.administered_at),
    )
    by_instrument: dict[str, list[Assessment]] = {}
    for assessment in assessments:
        by_instrument.setdefault(assessment.instrument, []).append(assessment)

    changes: list[OutcomeChange] = []
    for code, administered in by_instrument.items():
        try:
            definition = instruments.get(code)
        except instruments.UnknownInstrument:
            continue
        for output in definition.reported_outputs:
            points = []
            for assessment in administered:
                try:
                    value = _number(lookup(assessment.scores, output))
                except (KeyError, TypeError):
                    value = None
                if value is not None:
                    points.append((assessment, value))
            if not points:
                continue
            first, baseline = points[0]
            later = points[1:]
            latest_assessment, latest = later[-1] if later else (None, None)
            threshold, threshold_text = definition.minimal_important_difference(output, baseline)
            codings = definition.output_codings(output)
            changes.append(
                OutcomeChange(
                    instrument_code=code,
                    instrument_name=definition.short_name or definition.name,
                    score_code=output,
                    score_label=definition.output_label(output),
                    unit=definition.output_unit(output),
                    places=_places(baseline, latest),
                    baseline=baseline,
                    baseline_timepoint=first.get_timepoint_display(),
                    baseline_on=_day(first.administered_at),
                    latest=latest,
                    latest_timepoint=(
                        latest_assessment.get_timepoint_display() if latest_assessment else ""
                    ),
                    latest_on=_day(latest_assessment.administered_at)
                    if latest_assessment
                    else None,
                    threshold=threshold,
                    threshold_text=threshold_text,
                    higher_is_better=definition.higher_is_better.get(output),
                    codings=tuple((c.system, c.code, c.display) for c in codings),
                )
            )
    return sorted(changes, key=lambda c: c.instrument_name.lower())
