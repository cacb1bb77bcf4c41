"""`manage.py generate_scale_data`: national-scale data written with COPY (demo/scale.py), checked
at tier XS (about 2,000 referrals).

The data is generated once for the module inside a transaction rolled back at the end, then
replaced with the same seed to show that a seed gives the same rows; each test reads the result
in its own nested transaction.
"""

import hashlib
import io
import itertools
import random
from types import SimpleNamespace

import pytest
from django.core.management import CommandError, call_command
from django.db import connection, transaction
from django.db.models import Count
from django.urls import reverse
from django.utils import timezone

from accounts.models import Organisation, User
from demo.scale import CODE_PREFIX, TABLES, TIERS
from outcomes import instruments
from outcomes.models import Assessment
from referrals.models import Patient, Referral, ReferralEvent, Session, Status
from referrals.nhs_numbers import validate_nhs_number
from referrals.workflow import ALLOWED_MOVES

pytestmark = pytest.mark.xdist_group("scale_data")

XS = TIERS["XS"]


def _generate(*args: str) -> str:
    out = io.StringIO()
    call_command("generate_scale_data", "--tier", "XS", *args, stdout=out)
    return out.getvalue()


def _fingerprint() -> str:
    """A digest of every generated row that a seed decides (ids depend on the sequences)."""
    digest = hashlib.sha256()
    queries = [
        "SELECT o.code, o.public_id, o.name, o.webhook_secret FROM accounts_organisation o"
        " WHERE o.code LIKE 'SCALE-%%' ORDER BY o.code",
        "SELECT r.reference, r.status, r.status_changed_at, r.version, p.public_id, p.nhs_number,"
        " p.given_name, p.family_name, p.date_of_birth, u.email FROM referrals_referral r"
        " JOIN referrals_patient p ON p.id = r.patient_id"
        " JOIN accounts_user u ON u.id = r.referring_clinician_id"
        " JOIN accounts_organisation o ON o.id = r.referring_organisation_id"
        " WHERE o.code LIKE 'SCALE-%%' ORDER BY r.reference",
        "SELECT r.reference, e.public_id, e.action, e.from_status, e.to_status, e.created_at"
        " FROM referrals_referralevent e JOIN referrals_referral r ON r.id = e.referral_id"
        " JOIN accounts_organisation o ON o.id = r.referring_organisation_id"
        " WHERE o.code LIKE 'SCALE-%%' ORDER BY e.public_id",
        "SELECT r.reference, s.public_id, s.scheduled_at, s.status, s.logged_at"
        " FROM referrals_session s JOIN referrals_referral r ON r.id = s.referral_id"
        " JOIN accounts_organisation o ON o.id = r.referring_organisation_id"
        " WHERE o.code LIKE 'SCALE-%%' ORDER BY s.public_id",
        "SELECT r.reference, a.public_id, a.instrument, a.timepoint, a.answers::text,"
        " a.scores::text FROM outcomes_assessment a JOIN referrals_referral r"
        " ON r.id = a.referral_id JOIN accounts_organisation o"
        " ON o.id = r.referring_organisation_id WHERE o.code LIKE 'SCALE-%%'"
        " ORDER BY a.public_id",
    ]
    with connection.cursor() as cursor:
        for query in queries:
            cursor.execute(query)
            for row in cursor.fetchall():
                digest.update(repr(row).encode())
    return digest.hexdigest()


def _table_counts() -> dict[str, int]:
    with connection.cursor() as cursor:
        counts = {}
        for table in TABLES:
            cursor.execute(f"SELECT COUNT(*) FROM {table}")  # noqa: S608 - fixed names
            counts[table] = cursor.fetchone()[0]
    return counts


@pytest.fixture(scope="module")
def generated(django_db_setup, django_db_blocker):
    atomic = transaction.atomic()
    with django_db_blocker.unblock():
        atomic.__enter__()
        demo_like = Organisation.objects.create(
            kind="gp_practice", name="Someone else's practice", code="NOT-SCALE-1"
        )
        before = _table_counts()
        first_output = _generate("--seed", "7")
        first_fingerprint = _fingerprint()
        with pytest.raises(CommandError, match="--replace"):
            _generate("--seed", "7")
        second_output = _generate("--seed", "7", "--replace")
        after = _table_counts()
        second_fingerprint = _fingerprint()
    yield SimpleNamespace(
        first_output=first_output,
        second_output=second_output,
        first_fingerprint=first_fingerprint,
        second_fingerprint=second_fingerprint,
        added={table: after[table] - before[table] for table in TABLES},
        demo_like=demo_like,
    )
    with django_db_blocker.unblock():
        transaction.set_rollback(True)
        atomic.__exit__(None, None, None)


def _generated_referrals():
    return Referral.objects.filter(referring_organisation__code__startswith=CODE_PREFIX)


def test_prints_progress_and_a_summary_of_rows(generated, db):
    assert "referrals_session" in generated.second_output
    assert "Tier XS generated in" in generated.second_output
    assert "deleted" in generated.second_output


def test_row_counts_are_in_the_expected_ratios(generated, db):
    added = generated.added
    referrals = added["referrals_referral"]
    assert referrals == XS.referrals
    assert added["referrals_patient"] == referrals
    assert 7.5 <= added["referrals_session"] / referrals <= 10.5
    assert 2.2 <= added["outcomes_assessment"] / referrals <= 3.4
    assert added["facilities_facility"] == XS.facilities
    kinds = dict(
        Organisation.objects.filter(code__startswith=CODE_PREFIX)
        .values_list("kind")
        .annotate(n=Count("id"))
    )
    assert kinds == {
        "gp_practice": XS.practices,
        "msk_service": XS.msk_services,
        "leisure_operator": XS.operators,
        "commissioner": XS.icbs,
    }
    present = set(_generated_referrals().values_list("status", flat=True))
    # Information requests are answered within days: at 2,000 referrals none may be open today.
    assert present >= set(Status.values) - {Status.INFO_REQUESTED}


def test_the_same_seed_gives_the_same_data(generated, db):
    assert generated.first_fingerprint == generated.second_fingerprint


def test_replace_leaves_other_organisations_alone(generated, db):
    assert Organisation.objects.filter(pk=generated.demo_like.pk).exists()


def test_refused_in_production(generated, db, settings):
    settings.PRODUCTION = True
    with pytest.raises(CommandError, match="production"):
        _generate("--replace")


def test_every_timeline_is_a_valid_path_through_the_workflow(generated, db):
    events_by_referral: dict[int, list[ReferralEvent]] = {}
    for event in (
        ReferralEvent.objects.filter(referral__in=_generated_referrals())
        .exclude(to_status="")
        .order_by("id")
    ):
        events_by_referral.setdefault(event.referral_id, []).append(event)

    for referral in _generated_referrals():
        events = events_by_referral[referral.pk]
        assert (events[0].action, events[0].from_status, events[0].to_status) == (
            "create",
            "",
            Status.DRAFT,
        )
        for previous, event in itertools.pairwise(events):
            assert event.from_status == previous.to_status, referral
            assert (event.from_status, event.to_status) in ALLOWED_MOVES, referral
        assert events[-1].to_status == referral.status, referral
        assert referral.version == len(events), referral


def test_timelines_are_told_in_order_by_plausible_actors(generated, db):
    start_of_today = timezone.make_aware(
        timezone.datetime.combine(timezone.localdate(), timezone.datetime.min.time())
    )
    referrals = {r.pk: r for r in _generated_referrals()}
    events = ReferralEvent.objects.filter(referral_id__in=referrals).order_by("referral_id", "id")
    for referral_id, group in itertools.groupby(events, key=lambda e: e.referral_id):
        referral = referrals[referral_id]
        timeline = list(group)
        times = [event.created_at for event in timeline]
        assert times == sorted(times), referral
        assert times[-1] < start_of_today
        assert times[-1] > start_of_today - timezone.timedelta(days=3 * 366 + 10)
        for event in timeline:
            assert event.actor_id is not None
            assert event.actor_organisation_id in {
                referral.referring_organisation_id,
                referral.operator_id,
            }, (referral, event.action)
        if referral.submitted_at:
            assert referral.created_at <= referral.submitted_at <= referral.status_changed_at


def test_sessions_are_consistent_with_the_status(generated, db):
    start_of_today = timezone.make_aware(
        timezone.datetime.combine(timezone.localdate(), timezone.datetime.min.time())
    )
    sessions = Session.objects.filter(referral__in=_generated_referrals()).select_related(
        "programme_class", "referral"
    )
    by_referral: dict[int, list[Session]] = {}
    for session in sessions:
        local = timezone.localtime(session.scheduled_at)
        assert local.weekday() == session.programme_class.weekday, session
        assert local.time() == session.programme_class.start_time, session
        assert (session.status == "booked") == (session.logged_at is None)
        by_referral.setdefault(session.referral_id, []).append(session)
    completed_all = completed = 0
    for referral in _generated_referrals():
        mine = sorted(by_referral.get(referral.pk, []), key=lambda s: s.scheduled_at)
        if referral.status in {Status.ACTIVE, Status.COMPLETED}:
            assert any(s.status == "attended" for s in mine), referral
            assert not [s for s in mine if s.status == "booked" and s.scheduled_at < start_of_today]
        if referral.status in {Status.COMPLETED, Status.DISCHARGED, Status.CANCELLED}:
            assert not [s for s in mine if s.status == "booked"], referral
        if referral.status == Status.COMPLETED:
            completed += 1
            assert len(mine) <= referral.programme.duration_weeks
            completed_all += all(s.status != "cancelled_provider" for s in mine)
        if referral.status in {Status.SUBMITTED, Status.ACCEPTED, Status.WAITLISTED}:
            assert not mine, referral
        if referral.status == Status.BOOKED:
            assert mine and not any(s.status == "attended" for s in mine), referral
    assert completed_all >= 0.9 * completed


def test_assessment_scores_are_the_librarys_scores_of_the_answers(generated, db):
    assessments = list(Assessment.objects.filter(referral__in=_generated_referrals()))
    for assessment in random.Random(1).sample(assessments, 200):
        assert instruments.score(assessment.instrument, assessment.answers) == assessment.scores
    timepoints = {a.timepoint for a in assessments}
    assert timepoints == {"baseline", "exit"}
    completed = _generated_referrals().filter(status=Status.COMPLETED)
    with_exit = completed.filter(assessments__timepoint="exit").distinct().count()
    assert with_exit >= 0.5 * completed.count()


def test_patients_are_synthetic_and_valid(generated, db):
    patients = Patient.objects.filter(organisation__code__startswith=CODE_PREFIX)
    numbers = list(patients.exclude(nhs_number=None).values_list("nhs_number", flat=True))
    assert numbers and patients.filter(nhs_number=None).exists()
    for number in numbers[:300]:
        assert number.startswith("999")
        validate_nhs_number(number)
    for patient in patients[:300]:
        patient.full_clean(validate_unique=False, validate_constraints=False)
    for referral in _generated_referrals().select_related("programme", "patient")[:300]:
        age = referral.patient.age_on(referral.referred_on)
        assert referral.programme.age_is_eligible(age), referral


def test_every_reference_points_at_a_row(generated, db):
    """The load skips the foreign-key triggers, so check the references it wrote."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT conrelid::regclass::text, a.attname, confrelid::regclass::text"
            " FROM pg_constraint c JOIN pg_attribute a"
            " ON a.attrelid = c.conrelid AND a.attnum = c.conkey[1]"
            " WHERE c.contype = 'f' AND conrelid::regclass::text = ANY(%s)",
            [list(TABLES)],
        )
        for table, column, target in cursor.fetchall():
            cursor.execute(
                f"SELECT COUNT(*) FROM {table} t WHERE t.{column} IS NOT NULL"  # noqa: S608
                f" AND NOT EXISTS (SELECT 1 FROM {target} x WHERE x.id = t.{column})"
            )
            assert cursor.fetchone()[0] == 0, (table, column)


def test_triggers_are_back_on_after_the_load(generated, db):
    with connection.cursor() as cursor:
        cursor.execute("SHOW session_replication_role")
        assert cursor.fetchone()[0] == "origin"


def test_skewed_operator_and_clinician_exist(generated, db):
    by_operator = list(
        _generated_referrals().values("operator").annotate(n=Count("id")).order_by("-n")
    )
    by_clinician = list(
        _generated_referrals().values("referring_clinician").annotate(n=Count("id")).order_by("-n")
    )
    assert by_operator[0]["n"] > by_operator[-1]["n"]
    assert by_clinician[0]["n"] >= round(XS.referrals * 0.004235)


def test_a_generated_coordinator_sees_the_worklist_a_report_and_a_referral(generated, db, client):
    coordinator = User.objects.get(email="coordinator1.op1@scale.example")
    operator = coordinator.memberships.get().organisation
    referral = _generated_referrals().filter(operator=operator, status=Status.ACTIVE).first()
    client.force_login(coordinator)

    assert client.get(reverse("triage:worklist")).status_code == 200
    assert client.get("/reports/").status_code == 200
    assert client.get(f"/referrals/{referral.reference}/").status_code == 200


def test_the_report_facts_are_built_for_the_generated_referrals(generated, db):
    # Loaded with the triggers off, the facts are rebuilt at the end; the replaced run's facts
    # went with its referrals.
    from outcomes.models import ReportOutcome, ReportReferral

    submitted = Referral.objects.exclude(status=Status.DRAFT)
    assert ReportReferral.objects.count() == submitted.count() > 0
    assert not ReportOutcome.objects.exclude(referral__in=submitted.values("pk")).exists()
    assert ReportOutcome.objects.exists()

    def facts():
        return list(ReportReferral.objects.order_by("pk").values())

    before = facts()
    with connection.cursor() as cursor:  # recomputing changes nothing: they were current
        cursor.execute("SELECT outcomes_report_refresh(ARRAY(SELECT id FROM referrals_referral))")
    assert facts() == before
