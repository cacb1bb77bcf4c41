"""Outcome reads shared by the referral page and the progress page."""

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.db.models import QuerySet

from referrals.consent import can_see_progress
from referrals.models import Referral
from referrals.sections import Viewer

from . import instruments
from .instruments.base import lookup
from .models import Assessment, Timepoint

# The score to chart and compare where an instrument reports several: the one people quote.
PRIMARY_OUTPUT = {"swemwbs": "metric", "physical_measures": "bmi", "ipaq_short": "total_met"}
TIMEPOINT_ORDER = {value: index for index, value in enumerate(Timepoint.values)}


@dataclass
class OutcomePoint:
    timepoint: str
    timepoint_label: str
    administered_at: object
    value: float | int | None
    band_label: str = ""


@dataclass
class InstrumentSummary:
    code: str
    name: str
    output: str
    output_label: str
    points: list[OutcomePoint] = field(default_factory=list)
    higher_is_better: bool | None = None
    threshold: float | int | Decimal | None = None

    @property
    def baseline(self) -> OutcomePoint | None:
        return next((p for p in self.points if p.timepoint == Timepoint.BASELINE), None)

    @property
    def latest(self) -> OutcomePoint | None:
        return self.points[-1] if self.points else None

    @property
    def change(self) -> float | int | None:
        baseline, latest = self.baseline, self.latest
        if baseline is None or latest is None or latest is baseline:
            return None
        if baseline.value is None or latest.value is None:
            return None
        difference = Decimal(str(latest.value)) - Decimal(str(baseline.value))
        return int(difference) if difference == difference.to_integral() else float(difference)

    @property
    def improved(self) -> bool | None:
        if self.change is None or self.higher_is_better is None or self.change == 0:
            return None
        return (self.change > 0) == self.higher_is_better

    @property
    def meaningful(self) -> bool | None:
        """Whether the change is an improvement at least the instrument's threshold; None when
        the instrument declares no threshold or there is no change to judge yet."""
        if self.threshold is None or self.change is None:
            return None
        return bool(self.improved) and abs(self.change) >= self.threshold

    @property
    def chart_id(self) -> str:
        return f"chart-{self.code}"

    @property
    def data_id(self) -> str:
        return f"chart-{self.code}-data"

    @property
    def chart_data(self) -> dict[str, Any]:
        return {
            "label": f"{self.name}: {self.output_label}",
            "labels": [p.timepoint_label for p in self.points],
            "values": [p.value for p in self.points],
        }


def _primary_output(definition: instruments.Instrument) -> str:
    if definition.code in PRIMARY_OUTPUT:
        return PRIMARY_OUTPUT[definition.code]
    for declared in (definition.meaningful_change, definition.higher_is_better):
        if declared:
            return next(iter(declared))
    return next(iter(definition.score_ranges))


def _band_label(definition: instruments.Instrument, scores: dict[str, Any], output: str) -> str:
    for banding in definition.bandings:
        if banding.score == output:
            try:
                label: str = lookup(scores, banding.output + "_label")
            except (KeyError, TypeError):
                return ""
            return label
    return ""


def assessments_of(referral: Referral) -> QuerySet[Assessment]:
    """The referral's recorded assessments; callers check `can_see_progress` first, as the
    progress page does."""
    return Assessment.objects.filter(referral=referral).select_related("referral")


def outcome_summary(referral: Referral) -> list[InstrumentSummary]:
    """Per instrument recorded for the referral: its points in timepoint order, baseline, latest,
    change from baseline and whether that passes the instrument's meaningful-change threshold."""
    assessments = sorted(
        Assessment.objects.filter(referral=referral),
        key=lambda a: (TIMEPOINT_ORDER.get(a.timepoint, 99), a.administered_at),
    )
    summaries: dict[str, InstrumentSummary] = {}
    for assessment in assessments:
        try:
            definition = instruments.get(assessment.instrument)
        except instruments.UnknownInstrument:
            continue
        output = _primary_output(definition)
        summary = summaries.get(assessment.instrument)
        if summary is None:
            summary = summaries[assessment.instrument] = InstrumentSummary(
                code=definition.code,
                name=definition.short_name or definition.name,
                output=output,
                output_label=definition.output_heading(output),
                higher_is_better=definition.higher_is_better.get(output),
                threshold=definition.meaningful_change.get(output),
            )
        try:
            value = lookup(assessment.scores, output)
        except (KeyError, TypeError):
            value = None
        summary.points.append(
            OutcomePoint(
                timepoint=assessment.timepoint,
                timepoint_label=assessment.get_timepoint_display(),
                administered_at=assessment.administered_at,
                value=value,
                band_label=_band_label(definition, assessment.scores, output),
            )
        )
    return sorted(summaries.values(), key=lambda s: s.name)


def outcome_summary_section(viewer: Viewer, referral: Referral) -> dict[str, Any]:
    """On the referral page: the outcome summary, for whoever may see the patient's progress."""
    shown = can_see_progress(viewer.user, referral)
    return {"outcome_summary": outcome_summary(referral) if shown else None}
