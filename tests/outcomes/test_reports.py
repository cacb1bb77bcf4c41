"""The programme report: figures equal an independent computation on a seeded data set, small
numbers are suppressed for commissioners, commissioners never reach a patient, the CSV is safe in a
spreadsheet, and the page runs a fixed number of queries."""

import csv
import datetime
import io
import math
import re
import statistics
import uuid
import zoneinfo

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from facilities.models import Programme
from outcomes import reports
from outcomes.instruments import score
from outcomes.models import Assessment, Timepoint
from referrals import services
from referrals.adherence import adherence_for
from referrals.models import Referral, Session, Status, Visit
from tests.builders import referral_in_state

PLANNED = 4
STARTED_ROW = (
    "Started (attended at least one session, counting self-directed visits where the programme "
    "does)"
)
ADHERENCE_ROW = (
    "Adherence (attended at least 75% of planned sessions, counting self-directed visits where "
    "the programme does ÷ started)"
)
EXERCISE_FOR_PAI = {0: "none", 1: "lt1", 2: "1to3", 3: "3plus"}


def gppaq_answers(pai):
    """A desk worker whose exercise time gives Physical Activity Index `pai`."""
    return {
        "occupation": "sitting",
        "exercise": EXERCISE_FOR_PAI[pai],
        "cycling": "none",
        "walking": "none",
        "housework": "none",
        "gardening": "none",
        "walking_pace": "steady",
    }


def noon_days_ago(days):
    today_noon = timezone.localtime().replace(hour=12, minute=0, second=0, microsecond=0)
    return today_noon - datetime.timedelta(days=days)


def record(referral, instrument, timepoint, answers):
    Assessment.objects.create(
        referral=referral,
        instrument=instrument,
        timepoint=timepoint,
        answers=answers,
        scores=score(instrument, answers),
    )


# Started participants: (days since submission, days since first session, attended, missed,
# final step, baseline and exit PAI, baseline and exit sit-to-stand count).
STARTED = [
    (30, 10, 4, 0, "complete", (0, 2), (8, 12)),
    (25, 12, 3, 0, "complete", (1, 1), (10, 11)),
    (40, 8, 2, 1, None, (1, 3), (9, 15)),
    (20, 5, 1, 0, "discharge", (2, 1), (12, 10)),
    (35, 15, 5, 0, "complete", (0, 1), (7, 13)),
    (28, 9, 2, 0, "complete", (3, 3), (11, 14)),
]


def start_participant(people, plan):
    submitted_days, first_days, attended, missed, final, pai, sts = plan
    referral = referral_in_state(people, Status.BOOKED)
    Referral.objects.filter(pk=referral.pk).update(submitted_at=noon_days_ago(submitted_days))
    sessions = list(referral.sessions.order_by("scheduled_at"))
    # Time passes: the first sessions fall on consecutive days from `first_days` ago.
    marks = [Session.Attendance.ATTENDED] * attended + [Session.Attendance.DNA] * missed
    for index, (session, status) in enumerate(zip(sessions, marks, strict=False)):
        Session.objects.filter(pk=session.pk).update(scheduled_at=noon_days_ago(first_days - index))
        session.refresh_from_db()
        services.session_record_attendance(session=session, status=status, by=people.instructor_x)
    referral.refresh_from_db()
    if final == "complete":
        services.referral_complete(referral=referral, by=people.coordinator_x)
    elif final == "discharge":
        services.referral_discharge(
            referral=referral, by=people.coordinator_x, reason="patient_choice"
        )
    record(referral, "gppaq", Timepoint.BASELINE, gppaq_answers(pai[0]))
    record(referral, "gppaq", Timepoint.EXIT, gppaq_answers(pai[1]))
    record(referral, "sit_to_stand_30s", Timepoint.BASELINE, {"count": sts[0]})
    record(referral, "sit_to_stand_30s", Timepoint.EXIT, {"count": sts[1]})
    return referral


@pytest.fixture
def seeded(people):
    Programme.objects.filter(pk=people.programme_x.pk).update(planned_sessions=PLANNED)
    people.class_x.capacity = 50
    people.class_x.save()
    for plan in STARTED:
        start_participant(people, plan)
    # Accepted but not started: two waiting to be booked, one booked who missed their first.
    referral_in_state(people, Status.ACCEPTED)
    referral_in_state(people, Status.ACCEPTED)
    booked = referral_in_state(people, Status.BOOKED)
    first = booked.sessions.order_by("scheduled_at").first()
    Session.objects.filter(pk=first.pk).update(scheduled_at=noon_days_ago(3))
    first.refresh_from_db()
    services.session_record_attendance(
        session=first, status=Session.Attendance.DNA, by=people.instructor_x
    )
    # Accepted, then withdrawn: still counts as accepted.
    withdrawn = referral_in_state(people, Status.ACCEPTED)
    services.referral_cancel(referral=withdrawn, by=people.referrer_a, reason="patient_withdrew")
    # Never accepted.
    referral_in_state(people, Status.SUBMITTED)
    referral_in_state(people, Status.SUBMITTED)
    referral_in_state(people, Status.DECLINED)
    # Not in the report: a draft, and a baseline-only assessment (no exit to pair with).
    draft = referral_in_state(people, Status.DRAFT)
    record(draft, "sit_to_stand_30s", Timepoint.BASELINE, {"count": 3})
    return people


def expected_figures():
    """The report's figures worked out by hand from the seeding plan, in plain Python."""
    accepted = len(STARTED) + 2 + 1 + 1
    started = len(STARTED)
    adherent = sum(1 for plan in STARTED if plan[2] / PLANNED >= 0.75)
    completed = sum(1 for plan in STARTED if plan[4] == "complete")
    changes = [plan[6][1] - plan[6][0] for plan in STARTED]
    n = len(changes)
    mean = statistics.mean(changes)
    sd = statistics.stdev(changes)
    t_5_df = 2.571  # Student's t, two-sided 95%, 5 degrees of freedom (published tables)
    return {
        "referrals": started + 2 + 1 + 1 + 2 + 1,
        "accepted": accepted,
        "started": started,
        "adherent": adherent,
        "completed": completed,
        "uptake": started / accepted,
        "adherence": adherent / started,
        "completion": completed / started,
        "median_days": statistics.median(plan[0] - plan[1] for plan in STARTED),
        "sts": (n, mean, mean - t_5_df * sd / math.sqrt(n), mean + t_5_df * sd / math.sqrt(n)),
        "gppaq_up": sum(1 for plan in STARTED if plan[5][1] > plan[5][0]),
    }


def test_report_figures_equal_an_independent_computation(seeded):
    expected = expected_figures()
    report = reports.programme_report(seeded.coordinator_x)
    c = report.counts

    assert (c.referrals, c.accepted, c.started, c.adherent, c.completed) == (
        expected["referrals"],
        expected["accepted"],
        expected["started"],
        expected["adherent"],
        expected["completed"],
    )
    assert (c.started / c.accepted, c.adherent / c.started, c.completed / c.started) == (
        pytest.approx(expected["uptake"]),
        pytest.approx(expected["adherence"]),
        pytest.approx(expected["completion"]),
    )
    assert report.median_days_to_first_session == pytest.approx(expected["median_days"])
    sts = next(o for o in report.outcomes if o.instrument == "sit_to_stand_30s")
    assert (sts.n, sts.mean_change, sts.ci_low, sts.ci_high) == pytest.approx(expected["sts"])
    assert (report.gppaq_pairs, report.gppaq_moved_up) == (len(STARTED), expected["gppaq_up"])
    gppaq = next(o for o in report.outcomes if o.instrument == "gppaq")
    assert gppaq.mean_change == pytest.approx(statistics.mean(p[5][1] - p[5][0] for p in STARTED))


def test_scores_are_named_by_label_and_only_outcomes_are_reported(people):
    referral = referral_in_state(people, Status.COMPLETED)
    bp = {"bp_systolic": 130, "bp_diastolic": 80}
    for timepoint, pai, weight, walked in (("baseline", 0, 90.0, 7), ("exit", 2, 86.0, 9)):
        record(referral, "gppaq", timepoint, gppaq_answers(pai))
        record(referral, "swemwbs", timepoint, {f"q{n}": walked % 5 + 1 for n in range(1, 8)})
        record(
            referral,
            "physical_measures",
            timepoint,
            {"weight_kg": weight, "height_cm": 175.0, **bp},
        )

    rows = reports.outcome_rows(reports.programme_report(people.coordinator_x), suppress=False)

    assert {(row["instrument"], row["score"]) for row in rows} == {
        ("GPPAQ", "Physical Activity Index"),
        ("SWEMWBS", "Metric score"),
        ("Physical measures", "BMI (kg/m²)"),
        ("Physical measures", "Weight (kg)"),
        ("Physical measures", "Blood pressure, systolic (mmHg)"),
        ("Physical measures", "Blood pressure, diastolic (mmHg)"),
    }


def test_the_commissioner_sees_the_same_figures_for_the_programmes_they_fund(seeded):
    assert reports.programme_report(seeded.commissioner).counts == (
        reports.programme_report(seeded.coordinator_x).counts
    )


def test_other_operators_and_unfunded_programmes_are_outside_the_report(seeded):
    people = seeded
    assert reports.programme_report(people.coordinator_y).counts.referrals == 0
    people.programme_x.commissioners.clear()
    assert reports.programme_report(people.commissioner).counts.referrals == 0


def test_filters_narrow_the_report(seeded):
    people = seeded
    everything = reports.ReportFilters(programme=people.programme_x)
    assert reports.programme_report(people.coordinator_x, everything).counts.referrals == 13
    other_practice = reports.ReportFilters(referring_organisation=people.practice_b)
    assert reports.programme_report(people.coordinator_x, other_practice).counts.referrals == 0
    future = reports.ReportFilters(referred_from=timezone.localdate() + datetime.timedelta(days=1))
    assert reports.programme_report(people.coordinator_x, future).counts.referrals == 0
    pool = reports.ReportFilters(facility=people.facility_x2)
    assert reports.programme_report(people.coordinator_x, pool).counts.referrals == 0


def test_breakdowns_count_every_referral_once(seeded):
    report = reports.programme_report(seeded.coordinator_x)
    for rows in report.breakdowns.values():
        assert sum(row.counts.referrals for row in rows) == report.counts.referrals
        assert sum(row.counts.started for row in rows) == report.counts.started


def test_t_critical_values():
    assert reports.t_critical_95(1) == 12.706
    assert reports.t_critical_95(30) == 2.042
    assert reports.t_critical_95(31) == 1.96
    with pytest.raises(ValueError):
        reports.t_critical_95(0)


# --- The page, the CSV and who may see them ------------------------------------------------------


def csv_rows(response):
    return list(csv.reader(io.StringIO(response.getvalue().decode())))  # streamed


def test_anonymous_users_are_sent_to_log_in(client):
    for name in ("reports:report", "reports:export_csv"):
        response = client.get(reverse(name))
        assert response.status_code == 302
        assert "login" in response["Location"]


@pytest.mark.parametrize("persona", ["referrer_a", "instructor_x", "admin_a", "admin_x"])
def test_people_without_report_permission_are_refused(client, people, persona):
    client.force_login(getattr(people, persona))
    assert client.get(reverse("reports:report")).status_code == 403
    assert client.get(reverse("reports:export_csv")).status_code == 403


def test_the_coordinator_sees_exact_numbers(client, seeded):
    client.force_login(seeded.coordinator_x)
    response = client.get(reverse("reports:report"))
    assert response.status_code == 200
    headline = dict(response.context["headline"])
    assert headline["Referrals"] == "13"
    assert headline["Completed"] == "4"
    assert headline["Uptake (started ÷ accepted)"] == "60.0%"


def test_small_counts_are_suppressed_for_the_commissioner_on_the_page(client, seeded):
    client.force_login(seeded.commissioner)
    response = client.get(reverse("reports:report"))
    assert response.status_code == 200
    headline = dict(response.context["headline"])
    assert headline["Referrals"] == "13"
    assert headline["Completed"] == "<5"
    assert headline["Completion (completed ÷ started)"] == "Suppressed"
    body = response.content.decode()
    assert "&lt;5" in body
    assert ">4<" not in body


def test_small_counts_are_suppressed_for_the_commissioner_in_the_csv(client, seeded):
    client.force_login(seeded.commissioner)
    response = client.get(reverse("reports:export_csv"))
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    assert response["Content-Disposition"].startswith("attachment")
    values = {(row[0], row[1], row[2]): row[3] for row in csv_rows(response)[1:]}
    assert values[("Headline", "All", "Referrals")] == "13"
    assert values[("Headline", "All", "Completed")] == "<5"
    # n = 6 pairs: shown, with the interval as two plain numbers.
    change, expected_low = "Outcome change (baseline to exit)", expected_figures()["sts"][2]
    assert values[(change, "30s STS: Number of full stands in 30 seconds", "n")] == "6"
    assert float(
        values[(change, "30s STS: Number of full stands in 30 seconds", "95% CI lower")]
    ) == pytest.approx(expected_low, abs=0.005)
    # Every count in the breakdowns is either 0, suppressed, or 5 and over.
    counts = [
        value
        for (section, _, measure), value in values.items()
        if section.startswith(("Age", "Sex", "Ethnic"))
        and measure in {"Referrals", "Accepted", "Started", "Completed"}
    ]
    assert counts
    assert all(v == "<5" or int(v) == 0 or int(v) >= 5 for v in counts)


def test_the_report_names_no_patient(client, seeded):
    patients = [r.patient for r in Referral.objects.select_related("patient")]
    references = list(Referral.objects.values_list("reference", flat=True))
    for persona in ("coordinator_x", "commissioner"):
        client.force_login(getattr(seeded, persona))
        page = client.get(reverse("reports:report")).content.decode()
        export = client.get(reverse("reports:export_csv")).getvalue().decode()
        for text in (page, export):
            for patient in patients:
                # As a word: a surname like "Day" is in "Days to the first session".
                assert not re.search(rf"\b{re.escape(patient.family_name)}\b", text)
                if patient.nhs_number:
                    assert patient.nhs_number not in text
            for reference in references:
                assert reference not in text


def test_a_commissioner_cannot_reach_a_patients_referral(client, seeded):
    referral = Referral.objects.exclude(status=Status.DRAFT).first()
    client.force_login(seeded.commissioner)
    assert client.get(reverse("referrals:detail", args=[referral.reference])).status_code == 404


def test_a_commissioner_cannot_reach_the_triage_worklist(client, people):
    client.force_login(people.commissioner)
    assert client.get(reverse("triage:worklist")).status_code == 403


def test_a_commissioner_cannot_reach_the_referral_list(client, people):
    client.force_login(people.commissioner)
    assert client.get(reverse("referrals:dashboard")).status_code == 403


def test_a_programme_outside_the_users_scope_is_not_found(client, people):
    client.force_login(people.commissioner)
    url = reverse("reports:report")
    assert client.get(url, {"programme": people.programme_y.public_id}).status_code == 404
    assert client.get(url, {"programme": "not-a-uuid"}).status_code == 404
    assert client.get(url, {"programme": people.programme_x.public_id}).status_code == 200


def test_a_reversed_period_is_an_error_on_the_form(client, people):
    client.force_login(people.coordinator_x)
    response = client.get(
        reverse("reports:report"), {"referred_from": "2026-05-01", "referred_to": "2026-04-01"}
    )
    assert response.status_code == 200
    assert "There is a problem" in response.content.decode()
    assert "headline" not in response.context


def test_formula_injection_is_neutralised_in_the_csv(client, people):
    Programme.objects.filter(pk=people.programme_x.pk).update(name='=HYPERLINK("http://x","y")')
    client.force_login(people.coordinator_x)
    response = client.get(
        reverse("reports:export_csv"), {"programme": people.programme_x.public_id}
    )
    cells = [cell for row in csv_rows(response) for cell in row]
    assert '\'=HYPERLINK("http://x","y")' in cells
    assert not any(
        cell.startswith(("=", "+", "@", "\t", "\r"))
        or (cell.startswith("-") and not re.fullmatch(r"-[0-9.]+", cell))
        for cell in cells
    )


def test_neutralise_covers_every_formula_trigger():
    from referrals.web import neutralise

    for trigger in ("=", "+", "-", "@", "\t", "\r"):
        assert neutralise(f"{trigger}1+1") == f"'{trigger}1+1"
    assert neutralise("Practice A") == "Practice A"
    # A negative mean change stays a number; a formula dressed as one does not.
    assert neutralise("-2.50") == "-2.50"
    assert neutralise("-2+cmd|' /C calc'!A0") == "'-2+cmd|' /C calc'!A0"


def _page_queries(client, user, referrals):
    client.force_login(user)
    with CaptureQueriesContext(connection) as queries:
        response = client.get(reverse("reports:report"))
    assert response.status_code == 200
    # The referrals counted for are in the figures shown.
    shown = rf'>Referrals</dt>\s*<dd class="nhsuk-summary-list__value">{referrals}</dd>'
    assert re.search(shown, response.content.decode())
    return len(queries)


def test_the_report_page_runs_a_fixed_number_of_queries(client, people):
    referral_in_state(people, Status.SUBMITTED)
    one = _page_queries(client, people.coordinator_x, 1)
    for _ in range(29):
        referral_in_state(people, Status.SUBMITTED)
    thirty = _page_queries(client, people.coordinator_x, 30)
    assert thirty == one


def test_small_outcome_samples_and_their_rates_are_suppressed_only_when_asked():
    report = reports.Report(
        counts=reports.Counts(referrals=12, accepted=9, started=4, adherent=0, completed=2),
        median_days_to_first_session=11.0,
        outcomes=[
            reports.OutcomeChange("gad7", "GAD-7", "total", "Total score", 3, -2.0, 1.0, -4.5, 0.5)
        ],
        gppaq_pairs=0,
        gppaq_moved_up=0,
    )
    hidden = dict(reports.headline_rows(report, suppress=True))
    assert hidden[STARTED_ROW] == "<5"
    assert hidden["Uptake (started ÷ accepted)"] == "Suppressed"
    assert hidden["Median days from submission to first attended session"] == "Suppressed"
    assert hidden[ADHERENCE_ROW] == "Suppressed"
    assert reports.outcome_rows(report, suppress=True)[0] | {"instrument": ""} == {
        "instrument": "",
        "score": "Total score",
        "n": "<5",
        "mean_change": "Suppressed",
        "ci_low": "Suppressed",
        "ci_high": "Suppressed",
        "ci": "Suppressed",
    }
    exact = dict(reports.headline_rows(report, suppress=False))
    assert exact["Uptake (started ÷ accepted)"] == "44.4%"
    assert reports.outcome_rows(report, suppress=False)[0]["ci"] == "-4.50 to 0.50"


def test_a_small_count_cannot_be_worked_out_from_the_total_less_the_others():
    """Found on the walk: Female "<5" beside Male 6 under a total of 9 gave Female away (3)."""
    counts = [
        ("Female", reports.Counts(referrals=3, accepted=3, started=3, adherent=1, completed=1)),
        ("Male", reports.Counts(referrals=6, accepted=6, started=6, adherent=3, completed=6)),
        ("Other", reports.Counts(referrals=0, accepted=0, started=0, adherent=0, completed=0)),
    ]
    report = reports.Report(
        counts=reports.Counts(referrals=9, accepted=9, started=9, adherent=4, completed=7),
        median_days_to_first_session=None,
        outcomes=[],
        gppaq_pairs=0,
        gppaq_moved_up=0,
        breakdowns={"Sex": [reports.BreakdownRow(g, c) for g, c in counts]},
    )

    female, male, other = reports.breakdown_rows(report, suppress=True)["Sex"]

    assert female["referrals"] == "<5" and male["referrals"] == "Suppressed"
    assert female["completed"] == "<5" and male["completed"] == "Suppressed"
    assert male["uptake"] == "Suppressed" and female["completion"] == "Suppressed"
    assert other["referrals"] == "0"  # a zero gives nothing away, and is no cover for one
    exact = reports.breakdown_rows(report, suppress=False)["Sex"]
    assert (exact[0]["referrals"], exact[1]["referrals"]) == ("3", "6")


@pytest.mark.parametrize(
    ("values", "hidden"),
    [
        ([3, 6, 0], {0, 1}),
        ([3, 4, 20], {0, 1}),  # two small ones already cover each other
        ([0, 12, 30], set()),
        ([2, 0, 0], {0}),  # nothing to hide it among: the total is small and suppressed too
        ([7, 2, 9, 5], {1, 3}),
    ],
)
def test_secondary_suppression_hides_the_next_smallest_count(values, hidden):
    assert reports.hidden_cells(values) == hidden


# --- Self-directed visits: counted through referrals.adherence -----------------------------------

LONDON = zoneinfo.ZoneInfo("Europe/London")


def at(day, hour, minute=0):
    """`hour`:`minute` UK time on 2025-03-`day` (GMT) or, from day 31, on later dates (BST)."""
    base = datetime.datetime(2025, 3, 1, tzinfo=LONDON) + datetime.timedelta(days=day - 1)
    return base.replace(hour=hour, minute=minute)


def programme(people, *, counts, planned=PLANNED, name=None):
    """Operator X's programme (or a second one of X's, `name`d) that counts visits or not."""
    if name is None:
        Programme.objects.filter(pk=people.programme_x.pk).update(
            self_directed_visits_count=counts, planned_sessions=planned
        )
        return Programme.objects.get(pk=people.programme_x.pk)
    return Programme.objects.create(
        operator=people.operator_x,
        name=name,
        planned_sessions=planned,
        self_directed_visits_count=counts,
    )


def participant(people, on, *, classes=(), visits=()):
    """An accepted referral on programme `on`, with a class session attended at each of
    `classes` and a self-directed visit matched to it at each of `visits`."""
    referral = referral_in_state(people, Status.ACCEPTED)
    Referral.objects.filter(pk=referral.pk).update(programme=on)
    for when in classes:
        Session.objects.create(
            referral=referral, scheduled_at=when, status=Session.Attendance.ATTENDED, logged_at=when
        )
    for when in visits:
        Visit.objects.create(
            operator=people.operator_x,
            referral=referral,
            occurred_at=when,
            source="import",
            source_event_id=uuid.uuid4().hex,
            recorded_by=people.coordinator_x,
            created_at=timezone.now(),
        )
    referral.refresh_from_db()
    return referral


def figures(people, on=None):
    report = reports.programme_report(
        people.coordinator_x, reports.ReportFilters(programme=on) if on else None
    )
    return report, dict(reports.headline_rows(report, suppress=False))


# A class on day 2, a visit that evening (the door scanner at the class), visits on day 3 and
# two on day 4: four visits, two visit days, one class session.
WEEK = {
    "classes": [at(2, 10)],
    "visits": [at(2, 18), at(3, 9), at(4, 7), at(4, 19)],
}


def test_visit_days_count_only_where_the_programme_counts_them(people):
    counting = programme(people, counts=True, name="X Gym on referral")
    not_counting = programme(people, counts=False)
    gym = participant(people, counting, **WEEK)
    classes = participant(people, not_counting, **WEEK)

    report, rows = figures(people)

    # Apart and together, over both programmes.
    assert report.attendance == reports.AttendanceTotals(
        class_sessions=2, visit_days_counted=2, sessions_counted=4, visits_recorded=8
    )
    assert rows["Class sessions attended"] == "2"
    assert (
        rows[
            "Self-directed visit days counted (programmes that count them; a day with a class "
            "attended is not counted again)"
        ]
        == "2"
    )
    assert rows["Sessions counted toward adherence (class sessions and visit days counted)"] == "4"
    assert rows["Self-directed visits recorded (all programmes)"] == "8"
    # 3 of 4 planned (75%) where visits count; 1 of 4 where they do not.
    assert (report.counts.started, report.counts.adherent) == (2, 1)
    assert rows[ADHERENCE_ROW] == "50.0%"
    assert figures(people, counting)[0].counts.adherent == 1
    assert figures(people, not_counting)[0].counts.adherent == 0
    # The report counts as the referral page and discharge summary do: through the module.
    assert (adherence_for(gym).counted, adherence_for(gym).adherent) == (3, True)
    assert (adherence_for(classes).counted, adherence_for(classes).adherent) == (1, False)


def test_a_visit_on_the_day_of_an_attended_class_counts_once(people):
    counting = programme(people, counts=True)
    participant(people, counting, classes=[at(5, 10)], visits=[at(5, 9, 55), at(5, 11)])

    report, _rows = figures(people)

    assert report.attendance == reports.AttendanceTotals(
        class_sessions=1, visit_days_counted=0, sessions_counted=1, visits_recorded=2
    )


def test_two_visits_on_one_day_count_once(people):
    counting = programme(people, counts=True)
    participant(people, counting, visits=[at(6, 7), at(6, 20)])

    report, _rows = figures(people)

    assert report.attendance == reports.AttendanceTotals(
        class_sessions=0, visit_days_counted=1, sessions_counted=1, visits_recorded=2
    )


def test_days_are_uk_days(people):
    # 23:30 and 00:30 BST on consecutive days: one UTC day, two UK days.
    counting = programme(people, counts=True)
    participant(people, counting, classes=[at(40, 23, 30)], visits=[at(41, 0, 30)])

    assert figures(people)[0].attendance.sessions_counted == 2


def test_a_referral_started_only_by_visits_is_started_where_the_programme_counts_them(people):
    counting = programme(people, counts=True, name="X Gym on referral")
    not_counting = programme(people, counts=False)
    participant(people, counting, visits=[at(7, 9)])
    participant(people, not_counting, visits=[at(7, 9)])

    report, rows = figures(people)

    assert (report.counts.accepted, report.counts.started) == (2, 1)
    assert rows[STARTED_ROW] == "1"
    assert rows["Uptake (started ÷ accepted)"] == "50.0%"
    assert figures(people, counting)[0].counts.started == 1
    assert figures(people, not_counting)[0].counts.started == 0
    # The median stays about class sessions: a start by visits alone has no first session.
    assert report.median_days_to_first_session is None


@pytest.mark.parametrize(
    ("planned", "classes", "visit_days", "counts", "adherent"),
    [
        (4, 3, 0, False, True),  # exactly 75%
        (4, 2, 0, False, False),
        (4, 1, 2, True, True),  # exactly 75%, two thirds of it visit days
        (4, 1, 2, False, False),  # the same visits, not counted by this programme
        (8, 3, 3, True, True),  # 6 of 8: exactly 75%
        (8, 3, 2, True, False),  # 5 of 8: 62.5%
        (3, 2, 0, False, False),  # 66.7%: 75% of 3 is 2.25, so 3 are needed
        (20, 10, 4, True, False),  # 14 of 20: 70%
        (20, 10, 5, True, True),  # 15 of 20: exactly 75%
    ],
)
def test_adherent_from_exactly_75_percent_of_planned_counted(
    people, planned, classes, visit_days, counts, adherent
):
    on = programme(people, counts=counts, planned=planned)
    referral = participant(
        people,
        on,
        classes=[at(day, 10) for day in range(1, classes + 1)],
        visits=[at(day, 8) for day in range(11, 11 + visit_days)],
    )

    report, rows = figures(people)

    assert report.counts.started == 1
    assert report.counts.adherent == int(adherent)
    assert rows[ADHERENCE_ROW] == ("100.0%" if adherent else "0.0%")
    assert adherence_for(referral).adherent is adherent


def test_the_csv_shows_class_sessions_and_visits_apart_and_together(client, people):
    counting = programme(people, counts=True)
    participant(people, counting, **WEEK)
    client.force_login(people.coordinator_x)

    rows = csv_rows(client.get(reverse("reports:export_csv")))

    headline = {row[2]: row[3] for row in rows if row[0] == "Headline"}
    assert headline["Class sessions attended"] == "1"
    assert (
        headline[
            "Self-directed visit days counted (programmes that count them; a day with a class "
            "attended is not counted again)"
        ]
        == "2"
    )
    assert headline[
        "Sessions counted toward adherence (class sessions and visit days counted)"
    ] == ("3")
    assert headline["Self-directed visits recorded (all programmes)"] == "4"
    assert headline[ADHERENCE_ROW] == "100.0%"


def test_a_small_part_of_the_sessions_counted_hides_the_total_too():
    """Class sessions 40 and sessions counted 43 would give the "<5" visit days away (3)."""
    report = reports.Report(
        counts=reports.Counts(referrals=20, accepted=12, started=10, adherent=6, completed=5),
        median_days_to_first_session=9.0,
        outcomes=[],
        gppaq_pairs=0,
        gppaq_moved_up=0,
        attendance=reports.AttendanceTotals(
            class_sessions=40, visit_days_counted=3, sessions_counted=43, visits_recorded=12
        ),
    )
    together = "Sessions counted toward adherence (class sessions and visit days counted)"

    hidden = dict(reports.headline_rows(report, suppress=True))
    exact = dict(reports.headline_rows(report, suppress=False))

    assert hidden["Class sessions attended"] == "40"
    assert hidden[together] == "Suppressed"
    assert hidden["Self-directed visits recorded (all programmes)"] == "12"
    assert [
        value for label, value in hidden.items() if label.startswith("Self-directed visit days")
    ] == ["<5"]
    assert exact[together] == "43"
    # No visit days at all gives nothing away.
    zero = reports.AttendanceTotals(class_sessions=40, sessions_counted=40)
    report.attendance = zero
    assert dict(reports.headline_rows(report, suppress=True))[together] == "40"


def _report_queries(user):
    with CaptureQueriesContext(connection) as queries:
        reports.programme_report(user)
    return len(queries)


def test_the_report_runs_a_fixed_number_of_queries_with_classes_and_visits(client, people):
    people.class_x.capacity = 50
    people.class_x.save()
    counting = programme(people, counts=True, name="X Gym on referral")
    not_counting = programme(people, counts=False)
    participant(people, counting, **WEEK)
    one = _report_queries(people.coordinator_x)
    page_one = _page_queries(client, people.coordinator_x, 1)
    for index in range(12):
        participant(people, counting if index % 2 else not_counting, **WEEK)
    assert _report_queries(people.coordinator_x) == one
    assert _page_queries(client, people.coordinator_x, 13) == page_one


def test_the_csv_streams(client, seeded):
    client.force_login(seeded.coordinator_x)
    response = client.get(reverse("reports:export_csv"))
    assert response.streaming
    rows = csv_rows(response)
    assert rows[0] == ["Section", "Group", "Measure", "Value"]
    assert ["Headline", "All", "Referrals", "13"] in rows
