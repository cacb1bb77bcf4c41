"""The report's fast path (facts kept by the database, `outcomes/report_facts.py`) gives exactly
the figures of a straightforward computation over the referrals themselves, on random data:
random states, sessions, self-directed visits (some on a class day), acceptances later
cancelled, consent, patients, facilities, programmes that count visits or not, outcome
measures, and random filters (issue 15)."""

import datetime
import math
import statistics
import zoneinfo
from types import SimpleNamespace

import pytest
from django.db import transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from facilities.models import Programme
from outcomes import reports
from outcomes.instruments import REGISTRY, score
from outcomes.models import Assessment, Timepoint
from referrals.adherence import ADHERENT_PERCENT
from referrals.models import (
    Attendance,
    Ethnicity,
    Referral,
    ReferralEvent,
    Session,
    Sex,
    Status,
    Visit,
)
from tests.builders import new_draft, run_action
from tests.factories import PatientFactory, ProgrammeFactory
from tests.outcomes.test_reports import gppaq_answers

LONDON = zoneinfo.ZoneInfo("Europe/London")
TODAY = datetime.date(2026, 11, 20)
ACCEPTED_OR_LATER = {"accepted", "waitlisted", "booked", "active", "completed", "discharged"}
STATES = [s for s in Status.values if s != Status.DRAFT]
ETHNICITIES = list(Ethnicity.values)
SEXES = list(Sex.values)
ATTENDANCE = list(Attendance.values)

# A moment as (day offset from TODAY, hour): late evening hours cross midnight in UTC.
moments = st.tuples(st.integers(-120, 0), st.sampled_from([0, 7, 12, 23]))

referral_plans = st.fixed_dictionaries(
    {
        # Mostly the states whose figures differ (started, adherent, completed).
        "status": st.sampled_from([*STATES, "active", "completed", "completed", "discharged"]),
        "accepted_event": st.booleans(),
        "programme": st.sampled_from(["plain", "counting"]),
        "facility": st.sampled_from(["assigned", "preferred_only", "other"]),
        "consent_research": st.booleans(),
        "referred_days_ago": st.integers(0, 200),
        "submitted": moments,
        "age": st.integers(14, 90),
        "sex": st.sampled_from(SEXES),
        "ethnicity": st.sampled_from(ETHNICITIES),
        "sessions": st.lists(
            st.tuples(moments, st.sampled_from([*ATTENDANCE, "attended", "attended"])),
            max_size=6,
            unique_by=lambda s: s[0],
        ),
        "visits": st.lists(moments, max_size=5),
        "gppaq": st.one_of(st.none(), st.tuples(st.integers(0, 3), st.integers(0, 3))),
        "sit_to_stand": st.one_of(
            st.none(), st.tuples(st.integers(0, 30), st.one_of(st.none(), st.integers(0, 30)))
        ),
    }
)
filters = st.fixed_dictionaries(
    {
        # Mostly the whole scope, so that most examples have many referrals in the figures.
        "programme": st.sampled_from([None, None, None, "plain", "counting"]),
        "facility": st.sampled_from([None, None, None, "x", "x2"]),
        "from_days_ago": st.one_of(st.none(), st.none(), st.integers(0, 200)),
    }
)


def _at(moment) -> datetime.datetime:
    day, hour = moment
    return datetime.datetime.combine(
        TODAY + datetime.timedelta(days=day), datetime.time(hour, 30), LONDON
    )


def _measure(referral, instrument, timepoint, answers):
    Assessment.objects.create(
        referral=referral,
        instrument=instrument,
        timepoint=timepoint,
        answers=answers,
        scores=score(instrument, answers),
    )


def _build(people, programmes, plan, index) -> Referral:
    facility = {
        "assigned": people.facility_x,
        "preferred_only": None,
        "other": people.facility_x2,
    }[plan["facility"]]
    patient = PatientFactory(
        organisation=people.practice_a,
        date_of_birth=datetime.date(1980, 5, 17),  # eligible for both programmes
        sex=plan["sex"],
        ethnicity=plan["ethnicity"],
    )
    referral = new_draft(
        people,
        patient=patient,
        programme=programmes[plan["programme"]],
        consent_research=plan["consent_research"],
    )
    run_action(people, referral, "submit")
    # The patient's recorded date of birth corrected afterwards: any age on the report.
    dob = TODAY - datetime.timedelta(days=round(plan["age"] * 365.25) + index)
    type(patient).objects.filter(pk=patient.pk).update(date_of_birth=dob)
    # The state and dates the plan asks for, as they would be after the journey.
    Referral.objects.filter(pk=referral.pk).update(
        status=plan["status"],
        facility=facility,
        preferred_facility=people.facility_x if plan["facility"] != "other" else None,
        referred_on=TODAY - datetime.timedelta(days=plan["referred_days_ago"]),
        submitted_at=_at(plan["submitted"]),
    )
    if plan["accepted_event"]:
        ReferralEvent.objects.create(
            referral=referral, action="accept", from_status="submitted", to_status="accepted"
        )
    for moment, status in plan["sessions"]:
        at = _at(moment)
        Session.objects.create(
            referral=referral,
            scheduled_at=at,
            status=status,
            logged_at=None if status == Attendance.BOOKED else at,
        )
    for number, moment in enumerate(plan["visits"]):
        Visit.objects.create(
            operator=people.operator_x,
            referral=referral,
            occurred_at=_at(moment),
            source="checkin",
            source_event_id=f"{referral.pk}-{number}",
            recorded_by=people.coordinator_x,
        )
    if plan["gppaq"] is not None:
        _measure(referral, "gppaq", Timepoint.BASELINE, gppaq_answers(plan["gppaq"][0]))
        _measure(referral, "gppaq", Timepoint.EXIT, gppaq_answers(plan["gppaq"][1]))
    if plan["sit_to_stand"] is not None:
        before, after = plan["sit_to_stand"]
        _measure(referral, "sit_to_stand_30s", Timepoint.BASELINE, {"count": before})
        if after is not None:
            _measure(referral, "sit_to_stand_30s", Timepoint.EXIT, {"count": after})
    return referral


# --- The straightforward computation: one referral at a time, in Python -----------------------


def _age_band(age: int) -> str:
    for limit, band in ((15, "Under 16"), (34, "16 to 34"), (49, "35 to 49")):
        if age <= limit:
            return band
    for limit, band in ((64, "50 to 64"), (74, "65 to 74")):
        if age <= limit:
            return band
    return "75 and over"


def _years(born: datetime.date, on: datetime.date) -> int:
    return on.year - born.year - ((on.month, on.day) < (born.month, born.day))


def _ethnic_group(code: str) -> str:
    for group, codes in reports.ETHNIC_GROUPS.items():
        if code in codes:
            return group
    return "Not stated or not known"


def _value(scores: dict, path: str):
    for key in path.split("."):
        scores = scores.get(key) if isinstance(scores, dict) else None
    return scores if isinstance(scores, int | float) and not isinstance(scores, bool) else None


def _expected(referrals: list[Referral]) -> SimpleNamespace:
    rows = []
    changes: dict[tuple[str, str], list[float]] = {}
    gppaq = [0, 0]
    for referral in referrals:
        sessions = list(referral.sessions.filter(status=Attendance.ATTENDED))
        class_days = {s.scheduled_at.astimezone(LONDON).date() for s in sessions}
        visit_days = {v.occurred_at.astimezone(LONDON).date() for v in referral.visits.all()}
        programme = referral.programme
        counted = len(sessions) + (
            len(visit_days - class_days) if programme.self_directed_visits_count else 0
        )
        firsts = [s.scheduled_at for s in sessions if s.scheduled_at >= referral.submitted_at]
        started = counted >= 1
        rows.append(
            SimpleNamespace(
                accepted=referral.status in ACCEPTED_OR_LATER
                or referral.events.filter(to_status="accepted").exists(),
                started=started,
                adherent=started and counted * 100 >= programme.planned_sessions * ADHERENT_PERCENT,
                completed=started and referral.status == Status.COMPLETED,
                attended=len(sessions),
                visit_days_counted=len(visit_days - class_days)
                if programme.self_directed_visits_count
                else 0,
                counted=counted,
                visits=referral.visits.count(),
                days=(
                    min(firsts).astimezone(LONDON).date()
                    - referral.submitted_at.astimezone(LONDON).date()
                ).days
                if firsts
                else None,
                age_band=_age_band(_years(referral.patient.date_of_birth, referral.referred_on)),
                sex=Sex(referral.patient.sex).label,
                ethnic_group=_ethnic_group(referral.patient.ethnicity),
            )
        )
        if not referral.consent_research:
            continue
        measures = {(a.instrument, a.timepoint): a.scores for a in referral.assessments.all()}
        for code, instrument in REGISTRY.items():
            before = measures.get((code, Timepoint.BASELINE))
            after = measures.get((code, Timepoint.EXIT))
            if before is None or after is None:
                continue
            for path in instrument.reported_outputs:
                b, a = _value(before, path), _value(after, path)
                if b is not None and a is not None:
                    changes.setdefault((code, path), []).append(a - b)
            pai = (_value(before, "pai"), _value(after, "pai"))
            if code == "gppaq" and None not in pai:
                gppaq[0] += 1
                gppaq[1] += pai[1] > pai[0]

    def counts(group):
        return reports.Counts(
            referrals=len(group),
            accepted=sum(r.accepted for r in group),
            started=sum(r.started for r in group),
            adherent=sum(r.adherent for r in group),
            completed=sum(r.completed for r in group),
        )

    def breakdown(attribute, order):
        return [
            (value, counts([r for r in rows if getattr(r, attribute) == value]))
            for value in order
            if any(getattr(r, attribute) == value for r in rows)
        ]

    days = [r.days for r in rows if r.days is not None]
    return SimpleNamespace(
        counts=counts(rows),
        attendance=reports.AttendanceTotals(
            class_sessions=sum(r.attended for r in rows),
            visit_days_counted=sum(r.visit_days_counted for r in rows),
            sessions_counted=sum(r.counted for r in rows),
            visits_recorded=sum(r.visits for r in rows),
        ),
        median=statistics.median(days) if days else None,
        changes=changes,
        gppaq=tuple(gppaq),
        breakdowns={
            "Age band at referral": breakdown("age_band", reports.AGE_BANDS),
            "Sex": breakdown("sex", Sex.labels),
            "Ethnic group": breakdown("ethnic_group", list(reports.ETHNIC_GROUPS)),
        },
    )


@pytest.fixture
def programmes(people):
    plain = people.programme_x
    Programme.objects.filter(pk=plain.pk).update(planned_sessions=4)
    plain.refresh_from_db()
    counting = ProgrammeFactory(
        operator=people.operator_x,
        name="X Gym on referral",
        planned_sessions=6,
        self_directed_visits_count=True,
        min_age=0,
        max_age=120,
    )
    return {"plain": plain, "counting": counting}


@settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(plans=st.lists(referral_plans, min_size=3, max_size=10), chosen=filters)
def test_the_report_equals_a_straightforward_computation(people, programmes, plans, chosen):
    with transaction.atomic():
        built = [_build(people, programmes, plan, index) for index, plan in enumerate(plans)]
        referred_from = (
            None
            if chosen["from_days_ago"] is None
            else TODAY - datetime.timedelta(days=chosen["from_days_ago"])
        )
        facility = {None: None, "x": people.facility_x, "x2": people.facility_x2}
        criteria = reports.ReportFilters(
            programme=programmes.get(chosen["programme"]),
            facility=facility[chosen["facility"]],
            referred_from=referred_from,
        )
        report = reports.programme_report(people.coordinator_x, criteria)

        chosen_referrals = [
            r
            for r in Referral.objects.filter(pk__in=[b.pk for b in built]).select_related(
                "programme", "patient"
            )
            if (criteria.programme is None or r.programme_id == criteria.programme.pk)
            and (
                criteria.facility is None
                or (r.facility_id or r.preferred_facility_id) == criteria.facility.pk
            )
            and (referred_from is None or r.referred_on >= referred_from)
        ]
        expected = _expected(chosen_referrals)
        transaction.set_rollback(True)

    assert report.counts == expected.counts
    assert report.attendance == expected.attendance
    if expected.median is None:
        assert report.median_days_to_first_session is None
    else:
        assert report.median_days_to_first_session == pytest.approx(expected.median)
    assert (report.gppaq_pairs, report.gppaq_moved_up) == expected.gppaq
    shown = {(c.instrument, c.score): c for c in report.outcomes}
    assert set(shown) == set(expected.changes)
    for key, values in expected.changes.items():
        change = shown[key]
        assert change.n == len(values)
        assert change.mean_change == pytest.approx(statistics.fmean(values))
        if len(values) >= 2:
            assert change.sd == pytest.approx(statistics.stdev(values), abs=1e-9)
            assert not math.isnan(change.ci_low)
    assert {
        title: [(row.group, row.counts) for row in rows]
        for title, rows in report.breakdowns.items()
    } == expected.breakdowns
