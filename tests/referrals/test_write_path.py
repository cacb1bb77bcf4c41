"""The write path's cost and its checks (issue 15): creating a patient and a draft and submitting
it take a handful of queries, while every rule the models' `full_clean` enforced still refuses
with the same message (`referrals/model_checks.py`)."""

import datetime
import itertools

import pytest
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from accounts.permissions import forget_cached_permissions
from referrals import services
from referrals.models import ConsentRecord, Notification, Patient, Referral, ReferralEvent, Status
from tests.builders import new_draft
from tests.factories import PatientFactory, _nhs_numbers

DRAFT_ANSWERS = {
    "reasons": ["38341003"],
    "bp_systolic": 142,
    "bp_diastolic": 88,
    "heart_rate_medication": False,
    "risk_tier": "low",
    "consent_referral": True,
    "consent_share_outcomes": True,
    "consent_research": True,
    "exclusions_present": [],
}


def patient_fields(**changes) -> dict:
    return {
        "nhs_number": next(_nhs_numbers),
        "given_name": "Ada",
        "family_name": "Lovelace",
        "date_of_birth": datetime.date(1970, 5, 17),
        "sex": "F",
        "postcode": "LS6 2AB",
        "phone": "0113 496 0123",
        **changes,
    }


def test_a_new_patient_and_their_draft_take_five_queries_and_two_savepoints(
    people, django_assert_num_queries
):
    """The referrer's memberships (once per request), the NHS number looked up on the practice's
    file, the patient, the referral and its creation event: nothing is read to check it. Inside
    a test's transaction each write's savepoint is two statements more."""
    forget_cached_permissions(people.referrer_a)
    with django_assert_num_queries(5 + 4):
        patient = services.patient_record_for_referral(
            by=people.referrer_a, organisation=people.practice_a, fields=patient_fields()
        )
        referral = services.referral_create_draft(
            by=people.referrer_a,
            organisation=people.practice_a,
            patient=patient,
            programme=people.programme_x,
            preferred_facility=people.facility_x,
            **DRAFT_ANSWERS,
        )
    assert referral.events.get().action == "create"


def test_submitting_takes_six_queries_with_its_consent_records_and_updates(
    people, django_assert_num_queries
):
    """The referral locked with every row the checks and the updates read, its new state, the
    event, the three consent records at once, the clinician's email preference and the outbox
    rows at once (and the transaction's savepoint in a test). The referrer's memberships were
    read when they made the draft, as they are once per request."""
    draft = new_draft(people)
    with django_assert_num_queries(6 + 2):
        services.referral_submit(referral=draft, by=people.referrer_a)
    draft.refresh_from_db()
    assert draft.status == Status.SUBMITTED and draft.operator == people.operator_x
    assert ConsentRecord.objects.filter(referral=draft).count() == 3
    assert Notification.objects.filter(referral=draft).count() == 2  # in-app and email


def test_the_submitted_copy_holds_the_rows_it_was_checked_against(people):
    """The caller's copy gets the rows read under the lock, so showing it reads nothing more."""
    draft = new_draft(people)
    services.referral_submit(referral=draft, by=people.referrer_a)
    with CaptureQueriesContext(connection) as captured:
        shown = [draft.programme.name, draft.patient.family_name, draft.referring_organisation.name]
    assert len(captured) == 0
    assert shown[0] == people.programme_x.name
    assert draft.operator == people.operator_x  # routed there: read when asked for


# --- The same refusals, now by the database ---------------------------------------------------


def _full_clean_errors(instance) -> dict:
    with pytest.raises(ValidationError) as refused:
        instance.full_clean(exclude=["reference"] if isinstance(instance, Referral) else None)
    return refused.value.message_dict


@pytest.mark.parametrize(
    "changes",
    [
        {"interpreter_needed": True, "interpreter_language": ""},
        {"contact_by_email": True, "email": ""},
    ],
)
def test_a_patient_the_database_refuses_gets_full_cleans_message_and_the_transaction_goes_on(
    people, changes
):
    fields = patient_fields(**changes)
    expected = _full_clean_errors(Patient(organisation=people.practice_a, **fields))
    with transaction.atomic():  # a caller's transaction, as a view's
        with pytest.raises(ValidationError) as refused:
            services.patient_create(by=people.referrer_a, organisation=people.practice_a, **fields)
        assert refused.value.message_dict == expected
        assert not Patient.objects.filter(nhs_number=fields["nhs_number"]).exists()


def test_a_duplicate_nhs_number_is_named_on_the_field_as_full_clean_names_it(people):
    existing = PatientFactory(organisation=people.practice_a)
    fields = patient_fields(nhs_number=existing.nhs_number)
    expected = _full_clean_errors(Patient(organisation=people.practice_a, **fields))
    with pytest.raises(ValidationError) as refused:
        services.patient_create(by=people.referrer_a, organisation=people.practice_a, **fields)
    assert refused.value.message_dict == expected
    assert list(expected) == ["nhs_number"]


def test_a_field_error_and_a_constraint_are_reported_together_as_before(people):
    """A problem Python finds is reported with those the database would find, all at once."""
    fields = patient_fields(postcode="NOT A POSTCODE", interpreter_needed=True)
    expected = _full_clean_errors(Patient(organisation=people.practice_a, **fields))
    with pytest.raises(ValidationError) as refused:
        services.patient_create(by=people.referrer_a, organisation=people.practice_a, **fields)
    assert refused.value.message_dict == expected
    assert "postcode" in expected and "__all__" in expected


def test_an_update_to_a_patient_the_database_refuses_changes_nothing(people):
    patient = PatientFactory(organisation=people.practice_a, interpreter_needed=False)
    with pytest.raises(ValidationError) as refused:
        services.patient_record_for_referral(
            by=people.referrer_a,
            organisation=people.practice_a,
            patient=patient,
            fields={"interpreter_needed": True, "interpreter_language": ""},
        )
    patient.interpreter_needed = True
    assert refused.value.message_dict == _full_clean_errors(patient)
    patient.refresh_from_db()
    assert patient.interpreter_needed is False


def test_a_draft_with_an_inverted_blood_pressure_is_refused_as_full_clean_refuses_it(people):
    patient = PatientFactory(organisation=people.practice_a)
    answers = {**DRAFT_ANSWERS, "bp_systolic": 80, "bp_diastolic": 120}
    expected = _full_clean_errors(
        Referral(
            patient=patient,
            referring_organisation=people.practice_a,
            referring_clinician=people.referrer_a,
            clinician_name="Dr A",
            consent_recorded_at=timezone.now(),
            **answers,
        )
    )
    with pytest.raises(ValidationError) as refused:
        services.referral_create_draft(
            by=people.referrer_a, organisation=people.practice_a, patient=patient, **answers
        )
    assert refused.value.message_dict == expected
    assert not Referral.objects.filter(patient=patient).exists()


def test_a_draft_edit_the_database_refuses_is_explained_and_changes_nothing(people):
    draft = new_draft(people)
    with pytest.raises(ValidationError) as refused:
        services.referral_update_draft(
            referral=draft, by=people.referrer_a, bp_systolic=150, bp_diastolic=None
        )
    assert "__all__" in refused.value.message_dict
    draft.refresh_from_db()
    assert (draft.bp_systolic, draft.bp_diastolic, draft.version) == (142, 88, 1)


def test_a_reference_already_taken_is_drawn_again(people, monkeypatch):
    taken = new_draft(people).reference
    field = Referral._meta.get_field("reference")
    draws = itertools.chain([taken], iter(lambda: "ER-ZZZZZ2", None))
    monkeypatch.setattr(field, "_get_default", lambda: next(draws))
    referral = new_draft(people)
    assert referral.reference == "ER-ZZZZZ2"
    assert ReferralEvent.objects.filter(referral=referral, action="create").count() == 1
