"""`manage.py seed_demo`: a demo scheme in every state, reached through the services, loaded once.

Seeding takes a few seconds, so the module seeds once (inside a transaction rolled back at the end)
and each test reads the result in its own nested transaction.
"""

import io
import itertools
import re
from types import SimpleNamespace

import pytest
from django.apps import apps
from django.core.management import CommandError, call_command
from django.db import transaction
from django.test import override_settings
from django.utils import timezone

from accounts.models import Membership, Organisation, Role, User
from demo.data import DEMO_PASSWORD, HISTORIC_CASES, PROGRAMMES, STATUS_COUNTS
from facilities.postcodes import validate_postcode
from referrals.models import Patient, Referral, ReferralEvent, Session, Status
from referrals.nhs_numbers import validate_nhs_number
from referrals.workflow import ALLOWED_MOVES
from tests import personas

PROJECT_APPS = {"accounts", "facilities", "referrals", "outcomes"}

# One process runs the whole module (`make test` distributes by `--dist loadgroup`), so the demo
# is seeded once rather than once per process that happens to get one of these tests.
pytestmark = pytest.mark.xdist_group("seed_demo")


def _model_counts() -> dict[str, int]:
    return {
        model._meta.label: model.objects.count()
        for model in apps.get_models()
        if model._meta.app_label in PROJECT_APPS
    }


def _seed(*args) -> str:
    out = io.StringIO()
    call_command("seed_demo", *args, stdout=out)
    return out.getvalue()


@pytest.fixture(scope="module")
def seeded(django_db_setup, django_db_blocker):
    """Seed an empty database with `--if-empty`, then seed it again without it."""
    atomic = transaction.atomic()
    with (
        django_db_blocker.unblock(),
        override_settings(PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"]),
    ):
        atomic.__enter__()
        personas.remove()  # the session's personas, back when the transaction rolls back
        assert not Organisation.objects.exists()
        first_output = _seed("--if-empty")
        after_first = _model_counts()
        second_output = _seed()
        after_second = _model_counts()
    yield SimpleNamespace(
        first_output=first_output,
        second_output=second_output,
        after_first=after_first,
        after_second=after_second,
    )
    with django_db_blocker.unblock():
        transaction.set_rollback(True)
        atomic.__exit__(None, None, None)


def test_seed_on_an_empty_database_loads_the_demo_and_prints_the_sign_ins(seeded, db):
    assert "Demo data ready" in seeded.first_output
    assert "http://127.0.0.1:8000/" in seeded.first_output
    for user in User.objects.all():
        assert user.email in seeded.first_output
    assert DEMO_PASSWORD in seeded.first_output
    cases = sum(STATUS_COUNTS.values()) + len(HISTORIC_CASES)
    assert seeded.after_first["referrals.Referral"] == cases
    assert seeded.after_first["referrals.Patient"] == cases
    assert seeded.after_first["facilities.Programme"] == len(PROGRAMMES)


def test_seeding_twice_creates_no_duplicates(seeded, db):
    assert seeded.after_second == seeded.after_first
    assert "nothing new" in seeded.second_output


def test_if_empty_on_a_database_with_organisations_creates_nothing(seeded, db):
    before = _model_counts()

    output = _seed("--if-empty")

    assert "not loaded" in output
    assert _model_counts() == before


def test_refuses_to_seed_production_without_the_flag(db, settings):
    settings.PRODUCTION = True
    before = _model_counts()

    with pytest.raises(CommandError, match="production"):
        _seed()

    assert _model_counts() == before


def test_every_status_has_at_least_one_referral(seeded, db):
    present = set(Referral.objects.values_list("status", flat=True))

    assert present == set(Status.values)


def test_every_timeline_is_a_valid_path_through_the_workflow(seeded, db):
    events_by_referral: dict[int, list[ReferralEvent]] = {}
    for event in ReferralEvent.objects.exclude(to_status="").order_by("id"):
        events_by_referral.setdefault(event.referral_id, []).append(event)

    for referral in Referral.objects.all():
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


def test_active_and_finished_referrals_have_attended_their_first_session(seeded, db):
    for referral in Referral.objects.filter(status__in=[Status.ACTIVE, Status.COMPLETED]):
        first = referral.sessions.order_by("scheduled_at").first()
        assert first.status == Session.Attendance.ATTENDED
        assert referral.events.filter(action="start", actor__isnull=False).exists()


def test_patients_are_synthetic(seeded, db):
    numbers = list(Patient.objects.exclude(nhs_number=None).values_list("nhs_number", flat=True))

    assert numbers
    assert Patient.objects.filter(nhs_number=None).exists()
    for number in numbers:
        assert number.startswith("999")
        validate_nhs_number(number)
    for patient in Patient.objects.all():
        validate_postcode(patient.postcode)
        assert patient.postcode.startswith("LS")
        assert re.fullmatch(r"07700 900\d{3}", patient.phone)
        assert not patient.email or patient.email.endswith("@example.com")


def test_demo_covers_msk_referrals_drafts_and_withheld_consent(seeded, db):
    referrals = Referral.objects.all()

    assert referrals.filter(referring_organisation__kind="msk_service").exists()
    assert referrals.filter(consent_share_outcomes=False).exclude(status=Status.DRAFT).exists()
    assert referrals.filter(events__action="answer_info").exists()
    assert referrals.filter(events__action="dna").exists()


def test_there_is_a_user_for_every_role_and_a_superuser(seeded, db):
    roles = set(Membership.objects.values_list("role", flat=True))

    assert roles == set(Role.values)
    admin = User.objects.get(is_superuser=True)
    assert admin.is_staff
    assert admin.check_password(DEMO_PASSWORD)
    assert all(user.check_password(DEMO_PASSWORD) for user in User.objects.all())


def test_a_demo_referrer_signs_in_and_sees_only_their_practices_referrals(seeded, db, client):
    signed_in = client.post(
        "/accounts/login/", {"login": "gp@beechgrove.demo", "password": DEMO_PASSWORD}
    )
    assert signed_in.status_code == 302

    html = client.get("/referrals/?clinician=all&page=1").content.decode()
    shown = set(re.findall(r"ER-[2-9B-Z]{6}", html))

    practice = Organisation.objects.get(code="B86001")
    own = set(
        Referral.objects.filter(referring_organisation=practice).values_list("reference", flat=True)
    )
    others = set(
        Referral.objects.exclude(referring_organisation=practice).values_list(
            "reference", flat=True
        )
    )
    assert shown, "the dashboard lists the practice's referrals"
    assert shown <= own
    assert shown.isdisjoint(others)


def test_some_referrals_ended_long_enough_ago_for_the_retention_dry_run(seeded, db):
    out = io.StringIO()

    call_command("retention", "--dry-run", stdout=out)

    assert "pseudonymise referral" in out.getvalue()
    assert "pseudonymise patient" in out.getvalue()
    old = Referral.objects.filter(status_changed_at__year__lte=timezone.now().year - 9)
    assert old.count() == len(HISTORIC_CASES)
    for referral in old:
        assert referral.events.order_by("created_at").last().created_at.year < timezone.now().year


def test_demo_has_consent_withdrawn_for_each_purpose(seeded, db):
    from referrals.models import ConsentRecord

    withdrawals = ConsentRecord.objects.filter(decision="withdrawn")
    assert set(withdrawals.values_list("purpose", flat=True)) == {
        "referral",
        "share_progress",
        "evaluation",
    }
    ended = ReferralEvent.objects.filter(reason_code="consent_withdrawn")
    assert set(ended.values_list("action", flat=True)) == {"cancel", "discharge"}
    for record in withdrawals:
        assert record.recorded_by is not None and record.note
        flag = {"referral": "consent_referral", "share_progress": "consent_share_outcomes"}.get(
            record.purpose, "consent_research"
        )
        assert getattr(record.referral, flag) is False
    # Every submitted referral starts its history with the decisions sent with it.
    submitted = Referral.objects.exclude(status=Status.DRAFT)
    assert not submitted.exclude(consents__method="with_referral").exists()
