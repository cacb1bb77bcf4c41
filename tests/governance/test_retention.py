"""The retention rule: referrals ended past retention are pseudonymised, stale drafts deleted,
patients pseudonymised only when all their referrals are past retention, report figures unchanged,
the dry run changes nothing and a second run does nothing."""

import datetime
import io

import pytest
from django.core.management import CommandError, call_command
from django.db import IntegrityError, transaction
from django.utils import timezone

from governance import retention
from governance.tasks import retention_run
from outcomes import reports
from outcomes.instruments import score
from outcomes.models import Assessment, Timepoint
from referrals.models import (
    ConsentRecord,
    Notification,
    Patient,
    Referral,
    ReferralEvent,
    Session,
    Status,
)
from tests.builders import new_draft, referral_in_state
from tests.factories import PatientFactory

YEARS_AGO_9 = datetime.timedelta(days=9 * 366)


def _age_out(referral: Referral, delta=YEARS_AGO_9) -> None:
    """Let time pass since the referral ended."""
    Referral.objects.filter(pk=referral.pk).update(status_changed_at=timezone.now() - delta)


def _with_free_text(referral: Referral) -> Referral:
    Referral.objects.filter(pk=referral.pk).update(
        medication_notes="Bisoprolol", relevant_history="Knee pain", ubrn="123456789012"
    )
    ReferralEvent.objects.create(referral=referral, kind="note", action="note", note="Rang Mrs X")
    Session.objects.filter(referral=referral).update(notes="Came with her daughter")
    ConsentRecord.objects.create(
        referral=referral,
        purpose="evaluation",
        decision="withdrawn",
        method="telephone",
        note="Rang from her daughter's phone",
    )
    return referral


def _snapshot() -> dict:
    return {
        "patients": list(Patient.objects.order_by("pk").values()),
        "referrals": list(Referral.objects.order_by("pk").values()),
        "events": list(ReferralEvent.objects.order_by("pk").values()),
        "sessions": list(Session.objects.order_by("pk").values()),
    }


@pytest.fixture
def ended(people, frozen_now):
    """A completed referral of a patient born the day after a birthday boundary, aged out.

    Referred on Monday 15 June 2026 (the clock stops there), by then 64 and 65 the next day."""
    frozen_now(timezone.make_aware(datetime.datetime(2026, 6, 15, 10, 0)))
    today = timezone.localdate()
    born = retention.years_before(today, 65) + datetime.timedelta(days=1)  # 64 today
    assert born == datetime.date(1961, 6, 16)
    patient = PatientFactory(
        organisation=people.practice_a,
        date_of_birth=born,
        postcode="LS6 2AB",
        email="a@example.com",
        gender_identity="Woman",
    )
    referral = _with_free_text(referral_in_state(people, Status.COMPLETED, patient=patient))
    _age_out(referral)
    return referral


def test_dry_run_reports_per_organisation_and_changes_nothing(ended, people):
    draft = new_draft(people)
    Referral.objects.filter(pk=draft.pk).update(
        updated_at=timezone.now() - datetime.timedelta(days=400)
    )
    before = _snapshot()
    out = io.StringIO()

    call_command("retention", "--dry-run", stdout=out)

    text = out.getvalue()
    assert _snapshot() == before
    assert "Practice A (A81001)" in text
    assert "pseudonymise referral" in text
    assert "delete draft" in text
    assert "pseudonymise patient" in text
    assert "Dry run: nothing was changed." in text


def test_apply_pseudonymises_an_ended_referral_and_its_patient(ended):
    patient = ended.patient
    nhs_number = patient.nhs_number
    age_before = patient.age_on(ended.referred_on)

    result = retention.retention_apply(retention.retention_plan(timezone.now()))

    assert result.counts[retention.PSEUDONYMISE_REFERRAL] == 1
    assert result.counts[retention.PSEUDONYMISE_PATIENT] == 1
    ended.refresh_from_db()
    patient.refresh_from_db()
    assert ended.pseudonymised_at is not None
    assert (ended.medication_notes, ended.relevant_history, ended.ubrn) == ("", "", "")
    assert ended.status == Status.COMPLETED
    assert not ended.events.exclude(note="").exists()
    assert not ended.sessions.exclude(notes="").exists()
    assert not ended.consents.exclude(note="").exists()
    assert ended.consents.filter(decision="withdrawn").exists()
    assert patient.pseudonymised_at is not None
    assert patient.nhs_number is None
    # A keyed hash (HMAC-SHA256 with PORTAL_PSEUDONYM_KEY), worked out here, not by the code.
    import hashlib
    import hmac

    from django.conf import settings

    key = settings.PORTAL_PSEUDONYM_KEY.encode()
    keyed = hmac.new(key, nhs_number.encode(), hashlib.sha256).hexdigest()
    assert patient.nhs_number_pseudonym == keyed
    assert patient.nhs_number_pseudonym != nhs_number
    assert (patient.given_name, patient.phone, patient.email, patient.gender_identity) == (
        "",
        "",
        "",
        "",
    )
    assert patient.family_name == retention.PSEUDONYMISED_NAME
    assert patient.postcode == "LS6"
    assert patient.age_on(ended.referred_on) == age_before
    # Moved from 1 January 1961 only as far as keeps them 64 on 15 June 2026: to 16 June 1961.
    assert patient.date_of_birth == datetime.date(1961, 6, 16)


def test_running_twice_changes_nothing_the_second_time(ended):
    retention.retention_apply(retention.retention_plan(timezone.now()))
    after_first = _snapshot()

    second_plan = retention.retention_plan(timezone.now())
    result = retention.retention_apply(second_plan)

    assert second_plan.is_empty
    assert sum(result.counts.values()) == 0
    assert _snapshot() == after_first


def test_patient_is_kept_while_any_of_their_referrals_is_within_retention(people, ended):
    recent = referral_in_state(people, Status.DECLINED, patient=ended.patient)

    retention.retention_apply(retention.retention_plan(timezone.now()))

    ended.refresh_from_db()
    recent.refresh_from_db()
    assert ended.pseudonymised_at is not None
    assert recent.pseudonymised_at is None
    assert ended.patient.nhs_number is not None
    assert Patient.objects.get(pk=ended.patient_id).pseudonymised_at is None


def test_referrals_that_have_not_ended_are_never_pseudonymised(people):
    active = referral_in_state(people, Status.ACTIVE)
    Referral.objects.filter(pk=active.pk).update(status_changed_at=timezone.now() - YEARS_AGO_9)

    plan = retention.retention_plan(timezone.now())

    assert active.pk not in plan.referral_ids
    assert active.patient_id not in plan.patient_ids


def test_an_ended_referral_inside_retention_is_kept(people):
    referral = referral_in_state(people, Status.CANCELLED)
    _age_out(referral, datetime.timedelta(days=7 * 365))

    assert retention.retention_plan(timezone.now()).is_empty


def test_years_can_be_overridden(people):
    referral = referral_in_state(people, Status.CANCELLED)

    plan = retention.retention_plan(timezone.now() + datetime.timedelta(seconds=1), years=0)

    assert referral.pk in plan.referral_ids


def test_stale_drafts_and_their_patients_are_deleted_but_fresh_ones_kept(people):
    stale, fresh = new_draft(people), new_draft(people)
    Referral.objects.filter(pk=stale.pk).update(
        updated_at=timezone.now() - datetime.timedelta(days=200)
    )
    Patient.objects.filter(pk=stale.patient_id).update(
        updated_at=timezone.now() - datetime.timedelta(days=200)
    )

    result = retention.retention_apply(retention.retention_plan(timezone.now()))

    assert result.counts[retention.DELETE_DRAFT] == 1
    assert result.counts[retention.DELETE_PATIENT] == 1
    assert not Referral.objects.filter(pk=stale.pk).exists()
    assert not Patient.objects.filter(pk=stale.patient_id).exists()
    assert Referral.objects.filter(pk=fresh.pk).exists()


def test_a_draft_edited_after_the_plan_is_kept(people):
    draft = new_draft(people)
    Referral.objects.filter(pk=draft.pk).update(
        updated_at=timezone.now() - datetime.timedelta(days=200)
    )
    plan = retention.retention_plan(timezone.now())
    Referral.objects.filter(pk=draft.pk).update(updated_at=timezone.now())

    result = retention.retention_apply(plan)

    assert result.counts[retention.DELETE_DRAFT] == 0
    assert Referral.objects.filter(pk=draft.pk).exists()


def test_report_figures_are_unchanged_by_the_purge(people):
    today = timezone.localdate()
    referrals = []
    for offset, status in enumerate([Status.COMPLETED, Status.DISCHARGED, Status.DECLINED]):
        born = retention.years_before(today, 50 + 15 * offset) + datetime.timedelta(days=1)
        patient = PatientFactory(organisation=people.practice_a, date_of_birth=born, ethnicity="H")
        referral = referral_in_state(people, status, patient=patient)
        referrals.append(_with_free_text(referral))
    for pai_before, referral in zip([0, 1], referrals[:2], strict=True):
        for timepoint, pai in [(Timepoint.BASELINE, pai_before), (Timepoint.EXIT, pai_before + 2)]:
            answers = {
                "occupation": "sitting",
                "exercise": {0: "none", 1: "lt1", 2: "1to3", 3: "3plus"}[pai],
                "cycling": "none",
                "walking": "none",
                "housework": "none",
                "gardening": "none",
                "walking_pace": "steady",
            }
            Assessment.objects.create(
                referral=referral,
                instrument="gppaq",
                timepoint=timepoint,
                answers=answers,
                scores=score("gppaq", answers),
            )
    referral_in_state(people, Status.ACTIVE)  # still in retention
    before = reports.programme_report(people.coordinator_x)

    result = retention.retention_apply(
        retention.retention_plan(timezone.now() + datetime.timedelta(seconds=1), years=0)
    )

    assert result.counts[retention.PSEUDONYMISE_PATIENT] == 3
    assert reports.programme_report(people.coordinator_x) == before
    assert before.counts.referrals == 4


def test_delivered_notification_bodies_are_cleared_pending_ones_kept(ended):
    sent = ended.notifications.first()
    Notification.objects.filter(pk=sent.pk).update(
        status=Notification.DeliveryStatus.SENT, sent_at=timezone.now(), payload={"x": 1}
    )

    retention.retention_apply(retention.retention_plan(timezone.now()))

    sent.refresh_from_db()
    assert sent.payload == {}


def test_the_timeline_still_refuses_any_other_update(ended):
    event = ended.events.first()
    with pytest.raises(IntegrityError), transaction.atomic():
        ReferralEvent.objects.filter(pk=event.pk).update(action="forged")
    with pytest.raises(IntegrityError), transaction.atomic():
        ReferralEvent.objects.filter(pk=event.pk).update(note="", reason_code="forged")


def test_the_command_applies_without_dry_run_and_the_task_runs_the_rule(ended, people):
    out = io.StringIO()
    call_command("retention", stdout=out)
    assert "Done: 1 pseudonymise referral" in out.getvalue()

    other = referral_in_state(people, Status.DECLINED)
    _age_out(other)
    counts = retention_run.apply().get()
    assert counts[retention.PSEUDONYMISE_REFERRAL] == 1


def test_the_command_says_when_nothing_is_past_retention(db):
    out = io.StringIO()
    call_command("retention", "--dry-run", stdout=out)
    assert "Nothing is past retention." in out.getvalue()


def test_the_command_refuses_a_negative_number_of_years(db):
    with pytest.raises(CommandError, match="0 or more"):
        call_command("retention", "--years", "-1")


def test_retention_is_scheduled_daily(settings):
    entry = settings.CELERY_BEAT_SCHEDULE["retention"]
    assert entry["task"] == "governance.tasks.retention_run"


@pytest.mark.parametrize(
    ("born", "day", "expected"),
    [
        # 59 on the day before their 60th birthday: no earlier date keeps them 59.
        (datetime.date(1960, 6, 10), datetime.date(2020, 6, 9), datetime.date(1960, 6, 10)),
        # 60 on the birthday itself: 1 January of the year keeps them 60.
        (datetime.date(1960, 6, 10), datetime.date(2020, 6, 10), datetime.date(1960, 1, 1)),
        (datetime.date(1960, 2, 29), datetime.date(2021, 2, 28), datetime.date(1960, 2, 29)),
        (datetime.date(1963, 3, 1), datetime.date(2024, 2, 29), datetime.date(1963, 3, 1)),
        # 49 on 1 January 2020 from 2 January 1970 on; 1 January 1970 would make them 50.
        (datetime.date(1970, 12, 31), datetime.date(2020, 1, 1), datetime.date(1970, 1, 2)),
    ],
)
def test_coarsened_date_of_birth_keeps_the_age_and_the_year(born, day, expected):
    coarse = retention.coarsened_date_of_birth(born, [day])

    assert coarse == expected
    assert coarse.year == born.year
    assert coarse <= born
    patient = Patient(date_of_birth=coarse)
    assert patient.age_on(day) == Patient(date_of_birth=born).age_on(day)


def test_apply_works_in_batches(people, settings):
    settings.PORTAL_RETENTION_BATCH = 1
    for status in (Status.COMPLETED, Status.DECLINED, Status.CANCELLED):
        _age_out(referral_in_state(people, status))
    plan = retention.retention_plan(timezone.now())

    result = retention.retention_apply(plan)

    assert result.counts[retention.PSEUDONYMISE_REFERRAL] == 3
    assert result.counts[retention.PSEUDONYMISE_PATIENT] == 3
    assert Referral.objects.filter(pseudonymised_at__isnull=True).count() == 0


@pytest.mark.parametrize(
    ("moment", "months", "expected"),
    [
        (datetime.datetime(2026, 3, 31, 12), 1, datetime.datetime(2026, 2, 28, 12)),
        (datetime.datetime(2026, 1, 15, 12), 6, datetime.datetime(2025, 7, 15, 12)),
        (datetime.datetime(2024, 8, 31, 12), 6, datetime.datetime(2024, 2, 29, 12)),
    ],
)
def test_months_before_keeps_the_day_where_the_month_has_it(moment, months, expected):
    assert retention.months_before(moment, months) == expected


def test_pseudonymising_forgets_the_earlier_versions_in_the_change_history(ended):
    from governance.models import PatientEvent

    patient = ended.patient
    Patient.objects.filter(pk=patient.pk).update(phone="07700 900777")  # one more old version
    assert PatientEvent.objects.filter(pgh_obj_id=patient.pk).count() >= 2

    retention.retention_apply(retention.retention_plan(timezone.now()))

    history = list(PatientEvent.objects.filter(pgh_obj_id=patient.pk))
    assert len(history) == 1
    assert history[0].nhs_number is None
    assert history[0].phone == ""


def test_deleting_a_stale_draft_patient_leaves_no_history_of_them(people):
    from governance.models import PatientEvent

    stale = new_draft(people)
    long_ago = timezone.now() - datetime.timedelta(days=200)
    Referral.objects.filter(pk=stale.pk).update(updated_at=long_ago)
    Patient.objects.filter(pk=stale.patient_id).update(updated_at=long_ago)

    retention.retention_apply(retention.retention_plan(timezone.now()))

    assert not PatientEvent.objects.filter(pgh_obj_id=stale.patient_id).exists()


def test_a_safety_alerts_free_text_is_cleared_with_the_referral(people, ended):
    from referrals.alerts import alert_acknowledge, incident_record

    session = ended.sessions.order_by("scheduled_at").first()
    alert = incident_record(
        session=session,
        by=people.instructor_x,
        incident_kind="fall",
        description="Mrs X slipped by the pool",
        immediate_action="Rang her daughter",
    )
    alert_acknowledge(alert=alert, by=people.coordinator_x, action_taken="Spoke to Mrs X at home")

    retention.retention_apply(retention.retention_plan(timezone.now()))

    alert.refresh_from_db()
    assert (alert.description, alert.immediate_action) == ("", "")
    assert alert.action_taken == "Cleared under the retention policy"
    # The coded facts stay: what kind of alert, when, and that it was acknowledged.
    assert (alert.kind, alert.incident_kind) == ("incident", "fall")
    assert alert.acknowledged_at is not None
