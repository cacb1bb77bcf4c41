"""The report's facts follow every write they derive from, in the writing transaction
(`outcomes/report_facts.py`, migration outcomes/0003): issue 15."""

import datetime

import pytest
from django.db import connection, transaction
from django.utils import timezone

from outcomes import report_facts
from outcomes.instruments import score
from outcomes.models import Assessment, ReportOutcome, ReportReferral, Timepoint
from referrals import consent, services
from referrals.models import (
    Attendance,
    ConsentMethod,
    ConsentPurpose,
    Patient,
    Referral,
    Session,
    Status,
    Visit,
)
from tests.builders import new_draft, referral_in_state, run_action, session_due_now


def facts(referral) -> ReportReferral:
    return ReportReferral.objects.get(pk=referral.pk)


def sit_to_stand(referral, timepoint, count):
    return Assessment.objects.create(
        referral=referral,
        instrument="sit_to_stand_30s",
        timepoint=timepoint,
        answers={"count": count},
        scores=score("sit_to_stand_30s", {"count": count}),
    )


def test_a_draft_has_no_facts_and_submitting_makes_them(people):
    draft = new_draft(people)
    assert not ReportReferral.objects.filter(pk=draft.pk).exists()
    run_action(people, draft, "submit")
    row = facts(draft)
    assert (row.status, row.accepted, row.attended, row.programme_id) == (
        Status.SUBMITTED,
        False,
        0,
        people.programme_x.pk,
    )
    assert row.facility_id == people.facility_x.pk  # preferred, while none is assigned


def test_marking_sessions_and_visits_updates_attendance_and_the_first_session(people):
    referral = referral_in_state(people, Status.BOOKED)
    assert facts(referral).accepted
    submitted_at = timezone.now() - datetime.timedelta(days=3)
    Referral.objects.filter(pk=referral.pk).update(submitted_at=submitted_at)
    session = session_due_now(referral.sessions.order_by("scheduled_at").first())
    services.session_record_attendance(
        session=session, status=Attendance.ATTENDED, by=people.instructor_x
    )
    row = facts(referral)
    days = timezone.localdate(session.scheduled_at) - timezone.localdate(submitted_at)
    assert (row.status, row.attended, row.days_to_first_session) == (Status.ACTIVE, 1, days.days)
    # A visit the same day is no extra day; one the next day is.
    for number, when in enumerate(
        (session.scheduled_at, session.scheduled_at + datetime.timedelta(days=1))
    ):
        Visit.objects.create(
            operator=people.operator_x,
            referral=referral,
            occurred_at=when,
            source="checkin",
            source_event_id=f"v{number}",
            recorded_by=people.coordinator_x,
        )
    row = facts(referral)
    assert (row.visit_count, row.visit_days) == (2, 1)
    Visit.objects.filter(referral=referral).delete()
    assert (facts(referral).visit_count, facts(referral).visit_days) == (0, 0)


def test_outcome_pairs_follow_the_measures_and_evaluation_consent(people):
    referral = referral_in_state(people, Status.ACTIVE)
    sit_to_stand(referral, Timepoint.BASELINE, 8)
    assert not ReportOutcome.objects.filter(referral=referral).exists()  # no exit yet
    exit_measure = sit_to_stand(referral, Timepoint.EXIT, 13)
    pair = ReportOutcome.objects.get(referral=referral)
    assert (pair.instrument, pair.score, pair.baseline, pair.exit) == (
        "sit_to_stand_30s",
        "count",
        8,
        13,
    )
    exit_measure.scores = score("sit_to_stand_30s", {"count": 15})
    exit_measure.save()
    assert ReportOutcome.objects.get(referral=referral).exit == 15
    consent.consent_record_decision(
        referral=referral,
        by=people.coordinator_x,
        purpose=ConsentPurpose.EVALUATION,
        method=ConsentMethod.IN_PERSON,
    )
    assert not ReportOutcome.objects.filter(referral=referral).exists()


def test_the_patient_and_the_referral_itself(people):
    referral = referral_in_state(people, Status.SUBMITTED)
    Patient.objects.filter(pk=referral.patient_id).update(
        date_of_birth=referral.referred_on - datetime.timedelta(days=365 * 70 + 20),
        sex="F",
        ethnicity="H",
    )
    row = facts(referral)
    assert (row.age, row.sex, row.ethnicity) == (70, "F", "H")
    Referral.objects.filter(pk=referral.pk).update(facility=people.facility_x2)
    assert facts(referral).facility_id == people.facility_x2.pk
    # Deleted (as retention deletes), its facts go with it.
    Session.objects.filter(referral=referral).delete()
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL audit.allow_purge = 'on'")
    referral.events.all().delete()
    referral.consents.all().delete()
    referral.notifications.all().delete()
    Referral.objects.filter(pk=referral.pk).delete()
    assert not ReportReferral.objects.filter(pk=referral.pk).exists()


def test_a_rolled_back_write_leaves_the_facts_as_they_were(people):
    referral = referral_in_state(people, Status.ACTIVE)
    before = facts(referral).attended
    with pytest.raises(RuntimeError), transaction.atomic():
        Session.objects.create(
            referral=referral,
            scheduled_at=datetime.datetime(2026, 1, 5, 10, tzinfo=datetime.UTC),
            status=Attendance.ATTENDED,
            logged_at=datetime.datetime(2026, 1, 5, 10, tzinfo=datetime.UTC),
        )
        assert facts(referral).attended == before + 1  # in the writing transaction
        raise RuntimeError("the write fails later on")
    assert facts(referral).attended == before


def test_the_score_paths_follow_the_instrument_library(db):
    with connection.cursor() as cursor:
        cursor.execute("SELECT instrument, score, keys FROM outcomes_report_score_paths()")
        installed = sorted(cursor.fetchall())
    assert installed == sorted(
        (code, path, keys) for code, path, keys in report_facts.score_paths()
    )


def test_rebuild_recomputes_facts_lost_or_stale(people):
    referral = referral_in_state(people, Status.ACTIVE)
    expected = facts(referral).attended
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL session_replication_role = replica")  # as a bulk load does
        cursor.execute("DELETE FROM outcomes_reportreferral")
        cursor.execute("SET LOCAL session_replication_role = origin")
    assert report_facts.rebuild() >= 1
    assert facts(referral).attended == expected


def test_a_programme_whose_settings_change_has_its_referrals_facts_refreshed(people):
    referral = referral_in_state(people, Status.ACTIVE)  # one class session attended
    programme = people.programme_x
    programme.planned_sessions = 24
    programme.save()
    assert (facts(referral).counted, facts(referral).adherent) == (1, False)
    programme.planned_sessions = 1
    programme.save()
    assert facts(referral).adherent
    Visit.objects.create(
        operator=people.operator_x,
        referral=referral,
        occurred_at=timezone.now() - datetime.timedelta(days=9),
        source="checkin",
        source_event_id="gym-1",
        recorded_by=people.coordinator_x,
    )
    assert (facts(referral).visit_days, facts(referral).counted) == (1, 1)  # not counted here
    programme.self_directed_visits_count = True
    programme.save()
    assert (facts(referral).visit_days_counted, facts(referral).counted) == (1, 2)


def test_the_referring_organisations_of_each_programme_are_kept(people):
    from outcomes.models import ReportReferrer
    from outcomes.reports import referring_organisations_reportable_by

    referral_in_state(people, Status.SUBMITTED)
    assert ReportReferrer.objects.filter(
        programme=people.programme_x, referring_organisation=people.practice_a
    ).exists()
    assert list(referring_organisations_reportable_by(people.coordinator_x)) == [people.practice_a]
    assert list(referring_organisations_reportable_by(people.coordinator_y)) == []


def test_a_scope_of_every_programme_counts_every_referral(people):
    from facilities.models import Programme
    from outcomes.reports import programme_report

    referral_in_state(people, Status.SUBMITTED)
    people.programme_y.commissioners.add(people.commissioner_org)
    assert set(Programme.objects.all()) == {people.programme_x, people.programme_y}
    referral_in_state(
        people, Status.SUBMITTED, programme=people.programme_y, preferred_facility=people.facility_y
    )
    everything = programme_report(people.commissioner)  # no programme filter at all
    assert everything.counts.referrals == Referral.objects.exclude(status=Status.DRAFT).count() == 2
