"""The programme report (DOMAIN.md, "Reports"): aggregate figures, computed in SQL.

Every figure is an aggregate over the referrals in the user's report scope, narrowed by the
filters. Each referral's facts (sessions attended, visit days, acceptance, days to the first
session, age, and its outcome scores at baseline and exit) are worked out once, when what they
derive from changes, into `ReportReferral` and `ReportOutcome` rows (`report_facts.py`), so a
report is two queries over one row per referral, whatever the data size and history: the whole
country's in under a second. No figure names or identifies a patient.

Definitions (the ones DOMAIN.md leaves open):

- *referrals*: submitted referrals (drafts are the referrer's own business), by `referred_on`.
- *accepted*: ever accepted, i.e. the referral has an `accept` transition on its timeline, or is in
  a state only reachable through acceptance (accepted, waiting list, booked, active, completed,
  discharged). A referral cancelled after acceptance still counts as accepted.
- *counted*: how attendance counts toward adherence, from `referrals.adherence`, the rule's one
  home (nothing here re-implements it): class sessions attended, plus *visit days* (UK-local days
  with a self-directed `Visit` matched to the referral and no attended class session, so a day
  counts once however it was recorded) where the programme's `self_directed_visits_count` is set.
- *started*: counted at least one (a class session attended, or a visit day where the programme
  counts them). *uptake* = started ÷ accepted.
- *adherence*: started participants whose counted total is at least 75% of the programme's
  planned sessions (`counted * 100 >= planned * ADHERENT_PERCENT`, exact integer arithmetic)
  ÷ started.
- *completion*: started referrals now completed ÷ started.
- *class sessions attended*, *self-directed visit days counted* (only programmes that count
  them), *sessions counted toward adherence* (the two together) and *self-directed visits
  recorded* (every visit matched to a referral in the report, whether or not its programme
  counts them; unmatched visits belong to no referral and are in no report): sums over the
  referrals, so the report shows class attendance and self-directed visits apart and together.
- *days to first session*: calendar days (in the site's time zone) from submission to the first
  attended *class* session on or after it; the median (`percentile_cont(0.5)`) over the
  referrals that have one (a referral started by visits alone has no such session and is left
  out). Never negative: a session recorded before the referral was submitted (a data error, or
  an import) is no first session of this referral and is left out of the duration.
- *outcome change*: per instrument and reported score (`Instrument.reported_outputs`, named by
  its label, never its key), referrals with that score at both baseline and exit, counting only
  referrals whose patient consents to evaluation use (consent not given or withdrawn takes a
  referral out of every outcome figure: `referrals.consent.evaluation_referrals`;
  the counts of referrals, uptake and attendance are service activity and keep every referral);
  n, mean of (exit - baseline), sample SD and a 95% CI (see `t_critical_95`).
  *moved up a GPPAQ category*: exit Physical Activity Index above baseline (the PAI is the band
  index, 0 inactive … 3 active), as a share of the GPPAQ pairs.
- the facility filter matches the assigned facility, or the preferred facility while none is
  assigned (as the triage worklist does).

Small-number suppression (`present`): for anyone with a commissioner role every count from 1 to 4
is shown as "<5", and any rate, mean or median derived from such a count is suppressed too; the
sessions counted toward adherence are suppressed while either of their two parts is small, so
that the total less the class sessions cannot give a small number of visit days away. In a
breakdown, a column with one small count also hides its next smallest count ("Suppressed"), so
that the headline total less the counts shown cannot give the small one away.
Coordinators see exact numbers for their own operators' programmes. Deprivation is not recorded,
so there is no deprivation breakdown.
"""

import datetime
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from django.db.models import (
    Count,
    Q,
    QuerySet,
    StdDev,
    Sum,
)

from accounts.models import Organisation, Role
from accounts.permissions import organisation_ids_with_role
from facilities.models import Facility, Programme
from facilities.selectors import programmes_commissioned_by
from referrals.models import Ethnicity, Referral, Sex, Status

from . import instruments
from .models import ReportOutcome, ReportReferral, ReportReferrer

_Fact = TypeVar("_Fact", ReportReferral, ReportOutcome)

SMALL_NUMBER = 5
SUPPRESSED = "<5"

# Two-sided 95% critical values of Student's t for 1-30 degrees of freedom (standard tables).
# Beyond 30 the normal value 1.96 is used: at most 2% narrower than t (df 31: 2.040).
_T_95 = (
    12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228,
    2.201, 2.179, 2.160, 2.145, 2.131, 2.120, 2.110, 2.101, 2.093, 2.086,
    2.080, 2.074, 2.069, 2.064, 2.060, 2.056, 2.052, 2.048, 2.045, 2.042,
)  # fmt: skip


def t_critical_95(degrees_of_freedom: int) -> float:
    if degrees_of_freedom < 1:
        raise ValueError("a confidence interval needs at least two observations")
    if degrees_of_freedom <= len(_T_95):
        return _T_95[degrees_of_freedom - 1]
    return 1.96


# --- Scope and filters -------------------------------------------------------------------------


def report_organisations(user) -> tuple[list[int], list[int]]:
    """(operators the user coordinates, commissioners the user belongs to)."""
    operators = organisation_ids_with_role(user, Role.COORDINATOR)
    commissioners = organisation_ids_with_role(user, Role.COMMISSIONER)
    return operators, commissioners


def suppresses_small_numbers(user) -> bool:
    """Anyone with a commissioner role sees suppressed figures, even if also a coordinator."""
    return bool(report_organisations(user)[1])


def programmes_reportable_by(user) -> QuerySet[Programme]:
    """Coordinators: their operators' programmes; commissioners: the programmes they fund."""
    operators = organisation_ids_with_role(user, Role.COORDINATOR)
    funded = programmes_commissioned_by(user).values("pk")
    return Programme.objects.filter(Q(operator_id__in=operators) | Q(pk__in=funded))


def facilities_reportable_by(user) -> QuerySet[Facility]:
    operators = programmes_reportable_by(user).values("operator_id")
    return Facility.objects.filter(operator_id__in=operators)


def referring_organisations_reportable_by(user) -> QuerySet[Organisation]:
    """Organisations that have referred to the user's reportable programmes (`ReportReferrer`:
    a small table, not every referral)."""
    referrers = ReportReferrer.objects.filter(
        programme__in=programmes_reportable_by(user).values("pk")
    ).values("referring_organisation_id")
    return Organisation.objects.filter(pk__in=referrers)


def referrals_reportable_by(user) -> QuerySet[Referral]:
    return Referral.objects.filter(programme__in=programmes_reportable_by(user)).exclude(
        status=Status.DRAFT
    )


@dataclass(frozen=True)
class ReportFilters:
    programme: Programme | None = None
    facility: Facility | None = None
    referring_organisation: Organisation | None = None
    referred_from: datetime.date | None = None
    referred_to: datetime.date | None = None


# Up to this many programmes a scope is given to the database as ids, beyond it as a subquery.
LARGE_SCOPE = 200


def _scope(user) -> list[int] | QuerySet[Programme]:
    """The user's reportable programmes as the report's queries filter by them. A few are
    given as ids, so the planner sees how many rows each has (one operator's can be 77,000 of a
    million) and reads them from the index; many (an ICB's operators, the country) as a
    subquery, read whole in parallel."""
    programmes = programmes_reportable_by(user)
    ids = list(programmes.values_list("pk", flat=True)[: LARGE_SCOPE + 1])
    return ids if len(ids) <= LARGE_SCOPE else programmes.values("pk")


def _scoped(
    queryset: QuerySet[_Fact], scope: list[int] | QuerySet[Programme], filters: ReportFilters
) -> QuerySet[_Fact]:
    """The facts (`ReportReferral` or `ReportOutcome` rows) of the referrals in the scope,
    narrowed by the filters: both carry the same filter columns."""
    queryset = queryset.filter(programme_id__in=scope)
    if filters.programme is not None:
        queryset = queryset.filter(programme=filters.programme)
    if filters.facility is not None:
        queryset = queryset.filter(facility=filters.facility)
    if filters.referring_organisation is not None:
        queryset = queryset.filter(referring_organisation=filters.referring_organisation)
    if filters.referred_from:
        queryset = queryset.filter(referred_on__gte=filters.referred_from)
    if filters.referred_to:
        queryset = queryset.filter(referred_on__lte=filters.referred_to)
    return queryset


# --- The figures -------------------------------------------------------------------------------


@dataclass
class Counts:
    referrals: int
    accepted: int
    started: int
    adherent: int
    completed: int


@dataclass
class AttendanceTotals:
    """Sessions over the report's referrals: class attendance and self-directed visits apart
    (`class_sessions`, `visit_days_counted`) and together (`sessions_counted`, their sum), and
    every visit recorded (`visits_recorded`, counted toward adherence or not)."""

    class_sessions: int = 0
    visit_days_counted: int = 0
    sessions_counted: int = 0
    visits_recorded: int = 0


@dataclass
class OutcomeChange:
    instrument: str
    instrument_name: str
    score: str
    score_label: str
    n: int
    mean_change: float | None
    sd: float | None
    ci_low: float | None
    ci_high: float | None


@dataclass
class BreakdownRow:
    group: str
    counts: Counts


@dataclass
class Report:
    counts: Counts
    median_days_to_first_session: float | None
    outcomes: list[OutcomeChange]
    gppaq_pairs: int
    gppaq_moved_up: int
    breakdowns: dict[str, list[BreakdownRow]] = field(default_factory=dict)
    attendance: AttendanceTotals = field(default_factory=AttendanceTotals)


AGE_BANDS = ("Under 16", "16 to 34", "35 to 49", "50 to 64", "65 to 74", "75 and over")
_AGE_BAND_UPPER = (15, 34, 49, 64, 74)  # the oldest age in each band but the last

# NHS Data Dictionary ethnic category codes, by their top-level group.
ETHNIC_GROUPS = {
    "White": ("A", "B", "C"),
    "Mixed or multiple ethnic groups": ("D", "E", "F", "G"),
    "Asian or Asian British": ("H", "J", "K", "L"),
    "Black or Black British": ("M", "N", "P"),
    "Other ethnic group": ("R", "S"),
    "Not stated or not known": (Ethnicity.NOT_STATED, Ethnicity.NOT_KNOWN),
}
_ETHNIC_GROUP_OF = {code: group for group, codes in ETHNIC_GROUPS.items() for code in codes}
_SEX_LABELS = dict(Sex.choices)


def age_band(age: int) -> str:
    """The band of an age in whole years at referral."""
    for upper, band in zip(_AGE_BAND_UPPER, AGE_BANDS, strict=False):
        if age <= upper:
            return band
    return AGE_BANDS[-1]


def ethnic_group(code: str) -> str:
    return _ETHNIC_GROUP_OF.get(code, "Not stated or not known")


def sex_label(code: str) -> str:
    return str(_SEX_LABELS.get(code, Sex.NOT_KNOWN.label))


# Each breakdown: its title, how a patient's recorded value maps to a group, and the groups in
# the order shown. The figures are grouped by the recorded values in SQL and summed into the
# groups here, so the group definitions have this one home.
_BREAKDOWNS: dict[str, tuple[str, Callable[[Any], str], tuple[str, ...]]] = {
    "age": ("Age band at referral", age_band, AGE_BANDS),
    "sex": ("Sex", sex_label, tuple(Sex.labels)),
    "ethnicity": ("Ethnic group", ethnic_group, tuple(ETHNIC_GROUPS)),
}

# Started: counted at least one session; adherent and the counts are the facts' (see
# `report_facts.py`); completed: started and now completed.
_STARTED = Q(counted__gte=1)
_FIGURES = {
    # Counting a column the scope's index carries (never null), so the figures are read from
    # the index alone (Django counts "*" only unfiltered).
    "referrals": Count("*"),
    "accepted": Count("programme", filter=Q(accepted=True)),
    "started": Count("programme", filter=_STARTED),
    "adherent": Count("programme", filter=Q(adherent=True)),
    "completed": Count("programme", filter=_STARTED & Q(status=Status.COMPLETED)),
    # Named apart from the columns they sum: an aggregate named like one replaces it.
    "class_sessions": Sum("attended", default=0),
    "visit_day_total": Sum("visit_days_counted", default=0),
    "sessions_counted": Sum("counted", default=0),
    "visits_recorded": Sum("visit_count", default=0),
}
_COUNTS = ("referrals", "accepted", "started", "adherent", "completed")


def _median(histogram: dict[int, int]) -> float | None:
    """PostgreSQL's `percentile_cont(0.5)` of the values a histogram counts: the middle value,
    or halfway between the middle two (exactly as the database interpolates)."""
    total = sum(histogram.values())
    if not total:
        return None
    position = (total - 1) * 0.5
    low_rank = math.floor(position)
    low = _value_at(histogram, low_rank)
    high = _value_at(histogram, math.ceil(position))
    return low + (high - low) * (position - low_rank)


def _value_at(histogram: dict[int, int], rank: int) -> int:
    """The value at 0-based `rank` in the sorted values a histogram counts."""
    seen = 0
    for value in sorted(histogram):
        seen += histogram[value]
        if seen > rank:
            return value
    raise ValueError(f"rank {rank} is beyond the {seen} values counted")


def _add(total: dict[str, int], row: dict[str, int]) -> None:
    for name in _FIGURES:
        total[name] = total.get(name, 0) + row[name]


def _figures(
    facts: QuerySet[ReportReferral],
) -> tuple[Counts, AttendanceTotals, float | None, dict[str, list[BreakdownRow]]]:
    """Headline, breakdowns and the median in two parallel-friendly queries: the figures grouped
    by the patient's recorded age, sex and ethnicity (a few thousand rows at most, summed here),
    and the days to the first session as a histogram."""
    grouped = facts.values(*_BREAKDOWNS).annotate(**_FIGURES).order_by()
    total: dict[str, int] = {}
    groups: dict[str, dict[str, dict[str, int]]] = {column: {} for column in _BREAKDOWNS}
    for row in grouped:
        _add(total, row)
        for column, (_title, group_of, _order) in _BREAKDOWNS.items():
            _add(groups[column].setdefault(group_of(row[column]), {}), row)
    histogram = dict(
        facts.filter(days_to_first_session__isnull=False)
        .values_list("days_to_first_session")
        .annotate(n=Count("*"))
        .order_by()
    )
    breakdowns = {
        title: [
            BreakdownRow(group, Counts(*(groups[column][group][name] for name in _COUNTS)))
            for group in order
            if group in groups[column]
        ]
        for column, (title, _group_of, order) in _BREAKDOWNS.items()
    }
    counts = Counts(*(total.get(name, 0) for name in _COUNTS))
    attendance = AttendanceTotals(*(total.get(name, 0) for name in _FIGURES if name not in _COUNTS))
    return counts, attendance, _median(histogram), breakdowns


def _score_paths() -> list[tuple[str, str, str]]:
    """(instrument code, dotted score path, heading) for every outcome score of every
    instrument: its `reported_outputs`, as the discharge summary reports, so a measurement taken
    only to work another out (height, for BMI) is no outcome here either."""
    return [
        (code, path, instrument.output_heading(path))
        for code, instrument in instruments.REGISTRY.items()
        for path in instrument.reported_outputs
    ]


GPPAQ_INDEX = ("gppaq", "pai")  # the Physical Activity Index: 0 inactive ... 3 active


def _outcome_changes(outcomes: QuerySet[ReportOutcome]) -> tuple[list[OutcomeChange], int, int]:
    rows = {
        (row["instrument"], row["score"]): row
        for row in outcomes.values("instrument", "score")
        .annotate(
            n=Count("*"),
            total=Sum("change"),
            sd=StdDev("change", sample=True),
            up=Count("programme", filter=Q(change__gt=0)),  # exit above baseline
        )
        .order_by()
    }
    changes = []
    for code, path, label in _score_paths():
        row = rows.get((code, path))
        if not row:
            continue
        # The mean from the sum: one accumulator fewer per row than AVG beside STDDEV.
        n, mean, sd = row["n"], row["total"] / row["n"], row["sd"]
        low = high = None
        if n >= 2 and sd is not None:
            margin = t_critical_95(n - 1) * sd / math.sqrt(n)
            low, high = mean - margin, mean + margin
        instrument = instruments.get(code)
        changes.append(
            OutcomeChange(
                instrument=code,
                instrument_name=instrument.short_name or instrument.name,
                score=path,
                score_label=label,
                n=n,
                mean_change=mean,
                sd=sd,
                ci_low=low,
                ci_high=high,
            )
        )
    gppaq = rows.get(GPPAQ_INDEX, {"n": 0, "up": 0})
    return changes, gppaq["n"], gppaq["up"]


def programme_report(user, filters: ReportFilters | None = None) -> Report:
    """The report for `user` (who must hold REPORT_VIEW): the scope's programmes, then three
    queries over the report's facts (`report_facts.py`), whatever the data size; the facts are
    current to the last commit."""
    filters = filters or ReportFilters()
    programmes = _scope(user)
    counts, totals, median_days, breakdowns = _figures(
        _scoped(ReportReferral.objects.all(), programmes, filters)
    )
    outcomes, gppaq_pairs, gppaq_up = _outcome_changes(
        _scoped(ReportOutcome.objects.all(), programmes, filters)
    )
    return Report(
        counts=counts,
        median_days_to_first_session=median_days,
        outcomes=outcomes,
        gppaq_pairs=gppaq_pairs,
        gppaq_moved_up=gppaq_up,
        attendance=totals,
        breakdowns=breakdowns,
    )


# --- Presentation, with small-number suppression -----------------------------------------------


def is_small(count: int | None) -> bool:
    return count is not None and 0 < count < SMALL_NUMBER


def show_count(count: int, suppress: bool) -> str:
    return SUPPRESSED if suppress and is_small(count) else str(count)


def show_rate(numerator: int, denominator: int, suppress: bool) -> str:
    if not denominator:
        return "Not applicable"
    if suppress and (is_small(numerator) or is_small(denominator)):
        return "Suppressed"
    return f"{100 * numerator / denominator:.1f}%"


def show_number(value: float | None, places: int = 1) -> str:
    return "Not applicable" if value is None else f"{value:.{places}f}"


STARTED_LABEL = (
    "Started (attended at least one session, counting self-directed visits where the "
    "programme does)"
)
ADHERENCE_LABEL = (
    "Adherence (attended at least 75% of planned sessions, counting self-directed visits where "
    "the programme does ÷ started)"
)


def headline_rows(report: Report, suppress: bool) -> list[tuple[str, str]]:
    c, a = report.counts, report.attendance
    median = (
        "Suppressed"
        if suppress and is_small(c.started)
        else show_number(report.median_days_to_first_session)
    )
    # A small part of the total would be the total less the other part: hide the total too.
    counted = (
        "Suppressed"
        if suppress
        and not is_small(a.sessions_counted)
        and (is_small(a.class_sessions) or is_small(a.visit_days_counted))
        else show_count(a.sessions_counted, suppress)
    )
    return [
        ("Referrals", show_count(c.referrals, suppress)),
        ("Accepted", show_count(c.accepted, suppress)),
        (STARTED_LABEL, show_count(c.started, suppress)),
        ("Uptake (started ÷ accepted)", show_rate(c.started, c.accepted, suppress)),
        (ADHERENCE_LABEL, show_rate(c.adherent, c.started, suppress)),
        ("Completed", show_count(c.completed, suppress)),
        ("Completion (completed ÷ started)", show_rate(c.completed, c.started, suppress)),
        ("Class sessions attended", show_count(a.class_sessions, suppress)),
        (
            "Self-directed visit days counted (programmes that count them; a day with a class "
            "attended is not counted again)",
            show_count(a.visit_days_counted, suppress),
        ),
        (
            "Sessions counted toward adherence (class sessions and visit days counted)",
            counted,
        ),
        ("Self-directed visits recorded (all programmes)", show_count(a.visits_recorded, suppress)),
        ("Median days from submission to first attended session", median),
        (
            "Moved up at least one GPPAQ category (baseline to exit)",
            show_rate(report.gppaq_moved_up, report.gppaq_pairs, suppress),
        ),
    ]


def outcome_rows(report: Report, suppress: bool) -> list[dict[str, str]]:
    rows = []
    for change in report.outcomes:
        hidden = suppress and is_small(change.n)
        rows.append(
            {
                "instrument": change.instrument_name,
                "score": change.score_label,
                "n": show_count(change.n, suppress),
                "mean_change": "Suppressed" if hidden else show_number(change.mean_change, 2),
                "ci_low": "Suppressed" if hidden else show_number(change.ci_low, 2),
                "ci_high": "Suppressed" if hidden else show_number(change.ci_high, 2),
                "ci": (
                    "Suppressed"
                    if hidden
                    else "Not applicable"
                    if change.ci_low is None
                    else f"{change.ci_low:.2f} to {change.ci_high:.2f}"
                ),
            }
        )
    return rows


BREAKDOWN_COUNTS = ("referrals", "accepted", "started", "completed")


def hidden_cells(values: list[int]) -> set[int]:
    """The cells of one breakdown column to hide: each small count (1 to 4), and, when that is
    a single cell, the next smallest non-zero one too. Otherwise the column's total (the
    headline figure) less the cells shown would give the small one away."""
    hidden = {index for index, value in enumerate(values) if is_small(value)}
    if len(hidden) == 1:
        others = [
            (value, index) for index, value in enumerate(values) if value and index not in hidden
        ]
        if others:
            hidden.add(min(others)[1])
    return hidden


def _breakdown_table(rows: list[BreakdownRow], suppress: bool) -> list[dict[str, str]]:
    hidden = {
        name: hidden_cells([getattr(row.counts, name) for row in rows]) if suppress else set()
        for name in BREAKDOWN_COUNTS
    }

    def cell(name: str, index: int, value: int) -> str:
        if index not in hidden[name]:
            return str(value)
        return SUPPRESSED if is_small(value) else "Suppressed"

    def rate(numerator: str, denominator: str, index: int, counts: Counts) -> str:
        if index in hidden[numerator] or index in hidden[denominator]:
            return "Suppressed"
        return show_rate(getattr(counts, numerator), getattr(counts, denominator), False)

    return [
        {
            "group": row.group,
            **{name: cell(name, index, getattr(row.counts, name)) for name in BREAKDOWN_COUNTS},
            "uptake": rate("started", "accepted", index, row.counts),
            "completion": rate("completed", "started", index, row.counts),
        }
        for index, row in enumerate(rows)
    ]


def breakdown_rows(report: Report, suppress: bool) -> dict[str, list[dict[str, str]]]:
    """Each breakdown's rows as shown. With suppression, a count hidden in a column (small, or
    hidden beside a small one) hides the rates built on it as well."""
    return {title: _breakdown_table(rows, suppress) for title, rows in report.breakdowns.items()}
