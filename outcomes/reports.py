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
from dataclasses import dataclass, field
from typing import TypeVar

from django.db import connections, router
from django.db.models import Avg as SqlAvg
from django.db.models import (
    Case,
    CharField,
    Count,
    F,
    Q,
    QuerySet,
    StdDev,
    Value,
    When,
)

from accounts.models import Organisation, Role
from accounts.permissions import organisation_ids_with_role
from facilities.models import Facility, Programme
from facilities.selectors import programmes_commissioned_by
from referrals.adherence import ADHERENT_PERCENT, counted_expression
from referrals.models import Ethnicity, Referral, Sex, Status

from . import instruments
from .models import ReportOutcome, ReportReferral

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
    referrers = referrals_reportable_by(user).values("referring_organisation_id")
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


def _scoped(queryset: QuerySet[_Fact], user, filters: ReportFilters) -> QuerySet[_Fact]:
    """The facts (`ReportReferral` or `ReportOutcome` rows) of the referrals in the user's
    report scope, narrowed by the filters: both carry the same filter columns."""
    queryset = queryset.filter(programme__in=programmes_reportable_by(user).values("pk"))
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


def _age_band() -> Case:
    return Case(
        When(Q(age__lt=16), then=Value("Under 16")),
        When(Q(age__lte=34), then=Value("16 to 34")),
        When(Q(age__lte=49), then=Value("35 to 49")),
        When(Q(age__lte=64), then=Value("50 to 64")),
        When(Q(age__lte=74), then=Value("65 to 74")),
        default=Value("75 and over"),
        output_field=CharField(),
    )


AGE_BANDS = ("Under 16", "16 to 34", "35 to 49", "50 to 64", "65 to 74", "75 and over")

# NHS Data Dictionary ethnic category codes, by their top-level group.
ETHNIC_GROUPS = {
    "White": ("A", "B", "C"),
    "Mixed or multiple ethnic groups": ("D", "E", "F", "G"),
    "Asian or Asian British": ("H", "J", "K", "L"),
    "Black or Black British": ("M", "N", "P"),
    "Other ethnic group": ("R", "S"),
    "Not stated or not known": (Ethnicity.NOT_STATED, Ethnicity.NOT_KNOWN),
}


def _ethnic_group() -> Case:
    return Case(
        *[When(ethnicity__in=codes, then=Value(group)) for group, codes in ETHNIC_GROUPS.items()],
        default=Value("Not stated or not known"),
        output_field=CharField(),
    )


def _sex() -> Case:
    return Case(
        *[When(sex=code, then=Value(label)) for code, label in Sex.choices],
        default=Value(Sex.NOT_KNOWN.label),
        output_field=CharField(),
    )


# Each referral's figures from its facts (`ReportReferral`) and its programme's plan.
_ROW_COLUMNS = {
    "counted": counted_expression(attended="attended", visit_days="visit_days"),
    "planned": F("programme__planned_sessions"),
    "counts_visits": F("programme__self_directed_visits_count"),
    "age_band": _age_band(),
    "sex_group": _sex(),
    "ethnic_group": _ethnic_group(),
}
_FACT_COLUMNS = ("accepted", "status", "attended", "visit_days", "visit_count")
_DAYS = "days_to_first_session"
# The breakdowns, by the column each groups on: all in the one grouping-sets query.
_BREAKDOWNS = {
    "age_band": ("Age band at referral", AGE_BANDS),
    "sex_group": ("Sex", tuple(Sex.labels)),
    "ethnic_group": ("Ethnic group", tuple(ETHNIC_GROUPS)),
}

# Headline, breakdowns and the days-to-first-session histogram in one pass over the facts: one
# grouping set each. `started`: counted at least one; adherent: counted at least 75% of planned
# (exact integer arithmetic); completed: started and now completed.
_FIGURES_SQL = """
SELECT {groupings}, {groups},
    count(*),
    count(*) FILTER (WHERE accepted),
    count(*) FILTER (WHERE counted >= 1),
    count(*) FILTER (WHERE counted >= 1 AND counted * 100 >= planned * %s),
    count(*) FILTER (WHERE counted >= 1 AND status = %s),
    coalesce(sum(attended), 0),
    coalesce(sum(visit_days) FILTER (WHERE counts_visits), 0),
    coalesce(sum(counted), 0),
    coalesce(sum(visit_count), 0)
FROM ({rows}) AS facts
GROUP BY GROUPING SETS ((), {sets})
"""


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


def _figures(
    facts: QuerySet[ReportReferral],
) -> tuple[Counts, AttendanceTotals, float | None, dict[str, list[BreakdownRow]]]:
    rows = facts.annotate(**_ROW_COLUMNS).values(*_FACT_COLUMNS, _DAYS, *_ROW_COLUMNS)
    rows_sql, rows_params = rows.query.sql_with_params()
    grouped = (*_BREAKDOWNS, _DAYS)
    sql = _FIGURES_SQL.format(
        groupings=", ".join(f"GROUPING({column})" for column in grouped),
        groups=", ".join(grouped),
        rows=rows_sql,
        sets=", ".join(f"({column})" for column in grouped),
    )
    params = (ADHERENT_PERCENT, Status.COMPLETED, *rows_params)
    counts, totals = Counts(0, 0, 0, 0, 0), AttendanceTotals()
    found: dict[str, dict[str, Counts]] = {column: {} for column in _BREAKDOWNS}
    histogram: dict[int, int] = {}
    with connections[router.db_for_read(ReportReferral)].cursor() as cursor:
        cursor.execute(sql, params)
        for row in cursor.fetchall():
            flags, groups = row[: len(grouped)], row[len(grouped) : 2 * len(grouped)]
            figures = Counts(*row[2 * len(grouped) : 2 * len(grouped) + 5])
            if all(flags):  # the grand total
                counts = figures
                totals = AttendanceTotals(*row[2 * len(grouped) + 5 :])
            elif not flags[-1]:
                if groups[-1] is not None:
                    histogram[groups[-1]] = figures.referrals
            else:
                column = grouped[flags.index(0)]
                found[column][groups[flags.index(0)]] = figures
    breakdowns = {
        title: [
            BreakdownRow(group, found[column][group]) for group in order if group in found[column]
        ]
        for column, (title, order) in _BREAKDOWNS.items()
    }
    return counts, totals, _median(histogram), breakdowns


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
    change = F("exit") - F("baseline")
    rows = {
        (row["instrument"], row["score"]): row
        for row in outcomes.values("instrument", "score")
        .annotate(
            n=Count("pk"),
            mean=SqlAvg(change),
            sd=StdDev(change, sample=True),
            up=Count("pk", filter=Q(exit__gt=F("baseline"))),
        )
        .order_by()
    }
    changes = []
    for code, path, label in _score_paths():
        row = rows.get((code, path))
        if not row:
            continue
        n, mean, sd = row["n"], row["mean"], row["sd"]
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
    """The report for `user` (who must hold REPORT_VIEW): two queries over the report's facts
    (`report_facts.py`), whatever the data size; the facts are current to the last commit."""
    filters = filters or ReportFilters()
    counts, totals, median_days, breakdowns = _figures(
        _scoped(ReportReferral.objects.all(), user, filters)
    )
    outcomes, gppaq_pairs, gppaq_up = _outcome_changes(
        _scoped(ReportOutcome.objects.all(), user, filters)
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
