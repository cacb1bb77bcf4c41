"""The trail itself: append-only in the database, who viewed a referral (both sides, nobody
else), the audit search scoped to an admin's own staff, and pghistory's change history."""

import pytest
from django.db import IntegrityError, connection, transaction
from django.urls import reverse

from audit.models import AccessKind, AccessRecord
from audit.services import audit_read_by
from governance.models import PatientEvent
from referrals.models import Status
from tests.builders import referral_in_state
from tests.factories import UserFactory


def _record(**fields) -> AccessRecord:
    audit_read_by(fields.pop("user", None), fields.pop("kind", AccessKind.LIST), **fields)
    return AccessRecord.objects.latest("id")


def test_an_access_record_cannot_be_updated_in_the_database(db):
    record = _record(description="nightly job")
    with pytest.raises(IntegrityError, match="append-only"), transaction.atomic():
        AccessRecord.objects.filter(pk=record.pk).update(description="changed")
    record.refresh_from_db()
    assert record.description == "nightly job"


def test_an_access_record_cannot_be_deleted_without_the_purge_setting(db):
    record = _record()
    with pytest.raises(IntegrityError, match="append-only"), transaction.atomic():
        AccessRecord.objects.filter(pk=record.pk).delete()
    assert AccessRecord.objects.filter(pk=record.pk).exists()


def test_the_retention_job_may_delete_with_the_purge_setting(transactional_db):
    """A real transaction, so the SET LOCAL ends with it (a test's savepoint would not)."""
    record = _record()
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL audit.allow_purge = 'on'")
        AccessRecord.objects.filter(pk=record.pk).delete()
    assert not AccessRecord.objects.filter(pk=record.pk).exists()
    # The setting ended with its transaction.
    other = _record()
    with pytest.raises(IntegrityError), transaction.atomic():
        AccessRecord.objects.filter(pk=other.pk).delete()


def test_an_unknown_kind_is_refused(db):
    with pytest.raises(ValueError, match="Unknown access kind"):
        audit_read_by(None, "gossip")


def test_audit_read_by_records_a_system_read(people):
    referral = referral_in_state(people, Status.SUBMITTED)
    record = _record(
        kind=AccessKind.SUBJECT_ACCESS,
        organisation=people.practice_a,
        role="referrer",
        request_id="job-12345678",
        referrals=[referral, referral.pk],
        patients=[7],
    )
    assert record.user is None
    assert record.referral_ids == [referral.pk]
    assert record.patient_ids == [7, referral.patient_id]
    assert record.organisation_name == "Practice A"


# --- Who has viewed this record ----------------------------------------------------------------


def test_both_sides_see_who_viewed_the_referral(client, people):
    referral = referral_in_state(people, Status.ACCEPTED)
    url = reverse("referrals:detail", args=[referral.reference])
    client.force_login(people.coordinator_x)
    client.get(url)
    client.force_login(people.referrer_a)
    page = client.get(url)
    viewers = page.context["viewers"]
    assert [v.user for v in viewers] == [people.referrer_a, people.coordinator_x]
    html = page.content.decode()
    assert "Who has viewed this record" in html
    assert "Operator X, Coordinator" in html
    assert "Practice A, Referrer" in html
    client.force_login(people.coordinator_x)
    page = client.get(url)
    assert [v.user for v in page.context["viewers"]][:2] == [
        people.coordinator_x,
        people.referrer_a,
    ]


def test_who_viewed_is_one_row_per_person_with_their_count(client, people):
    referral = referral_in_state(people, Status.SUBMITTED)
    for _ in range(4):
        _record(user=people.coordinator_x, referrals=[referral.pk])
    client.force_login(people.referrer_a)
    page = client.get(reverse("referrals:detail", args=[referral.reference]))
    viewers = page.context["viewers"]
    assert [(v.user, v.views) for v in viewers] == [
        (people.referrer_a, 1),
        (people.coordinator_x, 4),
    ]
    assert viewers[1].first_at <= viewers[1].last_at


def test_who_viewed_is_capped_with_a_count(client, people):
    referral = referral_in_state(people, Status.SUBMITTED)
    for _ in range(25):
        _record(user=UserFactory(), referrals=[referral.pk])
    client.force_login(people.referrer_a)
    page = client.get(reverse("referrals:detail", args=[referral.reference]))
    assert len(page.context["viewers"]) == 20
    assert page.context["viewer_count"] == 26
    assert "Showing the latest 20 of 26 people" in page.content.decode()


@pytest.mark.parametrize("persona", ["referrer_b", "coordinator_y", "admin_a", "commissioner"])
def test_other_organisations_cannot_see_who_viewed(client, people, persona):
    referral = referral_in_state(people, Status.SUBMITTED)
    client.force_login(getattr(people, persona))
    response = client.get(reverse("referrals:detail", args=[referral.reference]))
    assert response.status_code == 404  # not theirs: not even told the referral exists
    assert b"Who has viewed" not in response.content


# --- Audit search --------------------------------------------------------------------------------


@pytest.fixture
def trail(people):
    referral = referral_in_state(people, Status.SUBMITTED)
    _record(
        user=people.referrer_a,
        kind=AccessKind.REFERRAL_PAGE,
        organisation=people.practice_a,
        role="referrer",
        referrals=[referral],
    )
    _record(
        user=people.referrer_b,
        kind=AccessKind.LIST,
        organisation=people.practice_b,
        role="referrer",
        description="=HYPERLINK(1)",
    )
    _record(
        user=people.coordinator_x,
        kind=AccessKind.LIST,
        organisation=people.operator_x,
        role="coordinator",
        referrals=[referral],
    )
    return referral


def test_an_admin_sees_only_their_own_organisations_staff(client, people, trail):
    client.force_login(people.admin_a)
    page = client.get(reverse("audit:search"))
    assert page.status_code == 200
    users = {record.user for record, _ in page.context["rows"]}
    assert users == {people.referrer_a}
    assert [refs for _, refs in page.context["rows"]] == [[trail.reference]]


def test_the_operator_admin_does_not_see_the_practices_staff(client, people, trail):
    client.force_login(people.admin_x)
    page = client.get(reverse("audit:search"), {"reference": trail.reference.lower()})
    assert {record.user for record, _ in page.context["rows"]} == {people.coordinator_x}


def test_platform_staff_see_everyone_and_can_filter(client, people, trail):
    client.force_login(UserFactory(is_staff=True))
    everyone = client.get(reverse("audit:search"))
    assert len(everyone.context["rows"]) == 3
    by_kind = client.get(reverse("audit:search"), {"kind": AccessKind.LIST})
    assert len(by_kind.context["rows"]) == 2
    by_person = client.get(reverse("audit:search"), {"person": people.referrer_b.email})
    assert [r.user for r, _ in by_person.context["rows"]] == [people.referrer_b]
    unknown = client.get(reverse("audit:search"), {"reference": "ER-ZZZZZZ"})
    assert unknown.context["rows"] == []


def test_a_date_range_the_wrong_way_round_is_a_clear_error(client, people, trail):
    client.force_login(people.admin_a)
    page = client.get(reverse("audit:search"), {"date_from": "2026-02-01", "date_to": "2026-01-01"})
    assert page.status_code == 400
    assert "To must be the same as or after from" in page.content.decode()


@pytest.mark.parametrize("persona", ["referrer_a", "coordinator_x", "instructor_x", "commissioner"])
def test_other_roles_cannot_search_the_audit(client, people, persona):
    client.force_login(getattr(people, persona))
    assert client.get(reverse("audit:search")).status_code == 403
    assert client.get(reverse("audit:export")).status_code == 403


def test_anonymous_is_sent_to_sign_in(client, db):
    assert client.get(reverse("audit:search")).status_code == 302


def test_the_export_is_scoped_neutralised_and_audited(client, people, trail):
    client.force_login(UserFactory(is_staff=True))
    response = client.get(reverse("audit:export"))
    assert response.status_code == 200
    text = response.content.decode()
    assert people.referrer_b.email in text
    assert trail.reference in text
    client.force_login(people.admin_a)
    before = AccessRecord.objects.count()
    text = client.get(reverse("audit:export")).content.decode()
    assert people.referrer_b.email not in text
    assert people.referrer_a.email in text
    assert AccessRecord.objects.count() == before + 1
    export = AccessRecord.objects.latest("id")
    assert export.kind == AccessKind.EXPORT
    assert export.user == people.admin_a
    assert export.organisation == people.practice_a


def test_export_cells_that_look_like_formulas_are_neutralised(client, people, db):
    staff = UserFactory(is_staff=True, full_name="=cmd|' /C calc'!A0")
    _record(user=staff, kind=AccessKind.ADMIN)
    client.force_login(staff)
    text = client.get(reverse("audit:export")).content.decode()
    assert "'=cmd" in text


# --- Change history --------------------------------------------------------------------------


def test_a_patient_change_is_recorded_with_the_user_and_request_id(client, people):
    referral = referral_in_state(people, Status.DRAFT)
    client.force_login(people.referrer_a)
    from tests.referrals.test_views import PATIENT_FORM

    patient = referral.patient
    form = {
        **PATIENT_FORM,
        "nhs_number": patient.nhs_number,
        "given_name": patient.given_name,
        "family_name": patient.family_name,
        "date_of_birth_0": patient.date_of_birth.day,
        "date_of_birth_1": patient.date_of_birth.month,
        "date_of_birth_2": patient.date_of_birth.year,
        "postcode": "LS7 3AA",
    }
    response = client.post(
        reverse("referrals:step", args=[referral.reference, "patient"]),
        form,
        headers={"X-Request-ID": "change-1234abcd"},
    )
    assert response.status_code == 302
    event = PatientEvent.objects.filter(pgh_obj_id=patient.pk, pgh_label="update").latest("pgh_id")
    assert event.postcode == "LS7 3AA"
    assert event.pgh_context.metadata["user"] == people.referrer_a.pk
    assert event.pgh_context.metadata["request_id"] == "change-1234abcd"


def test_a_person_in_two_organisations_is_recorded_with_the_one_on_the_referrals_side(
    client, people
):
    from accounts.models import Role
    from tests.factories import MembershipFactory

    referral = referral_in_state(people, Status.SUBMITTED)
    both = UserFactory()
    MembershipFactory(user=both, organisation=people.practice_b, role=Role.REFERRER)
    MembershipFactory(user=both, organisation=people.operator_x, role=Role.COORDINATOR)
    client.force_login(both)
    assert client.get(reverse("referrals:detail", args=[referral.reference])).status_code == 200
    record = AccessRecord.objects.get()
    assert (record.organisation, record.role) == (people.operator_x, Role.COORDINATOR)


def test_membership_and_assessment_changes_keep_history(people):
    from governance.models import AssessmentEvent, MembershipEvent
    from outcomes.services import assessment_record

    membership = people.referrer_b.memberships.get()
    membership.is_active = False
    membership.save()
    assert MembershipEvent.objects.filter(pgh_obj_id=membership.pk, pgh_label="update").exists()
    referral = referral_in_state(people, Status.ACTIVE)
    assessment = assessment_record(
        referral=referral,
        instrument="phq9",
        timepoint="baseline",
        answers={f"q{n}": 0 for n in range(1, 10)},
        by=people.instructor_x,
        method="instructor",
    )
    assert AssessmentEvent.objects.filter(pgh_obj_id=assessment.pk, pgh_label="insert").exists()


def test_the_search_filters_by_date(client, people, trail):
    import datetime

    from django.utils import timezone

    today = timezone.localdate()
    client.force_login(UserFactory(is_staff=True))
    within = client.get(reverse("audit:search"), {"date_from": today, "date_to": today})
    assert len(within.context["rows"]) == 3
    tomorrow = today + datetime.timedelta(days=1)
    later = client.get(reverse("audit:search"), {"date_from": tomorrow})
    assert later.context["rows"] == []
    earlier = client.get(reverse("audit:search"), {"date_to": today - datetime.timedelta(days=1)})
    assert earlier.context["rows"] == []
