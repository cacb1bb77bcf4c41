"""What the portal accepts as patient and referral data: NHS numbers, postcodes, the patient
service, and the database constraints that hold even when Python validation is bypassed."""

import datetime

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from facilities.postcodes import normalise_postcode, postcode_district, validate_postcode
from referrals import services
from referrals.models import Notification, Patient, Referral, ReferralEvent, Sex
from referrals.nhs_numbers import (
    format_nhs_number,
    normalise_nhs_number,
    synthetic_nhs_numbers,
    validate_nhs_number,
)
from tests.builders import new_draft
from tests.factories import OrganisationFactory, PatientFactory

VALID_NHS_NUMBER = "9990000018"  # 999 range: valid checksum, never issued to a real person.


def patient_fields(**overrides) -> dict:
    fields = {
        "nhs_number": VALID_NHS_NUMBER,
        "given_name": "Ada",
        "family_name": "Testpatient",
        "date_of_birth": datetime.date(1960, 1, 31),
        "sex": Sex.FEMALE,
        "postcode": "LS6 2AB",
    }
    return fields | overrides


def create_patient(people, **overrides) -> Patient:
    return services.patient_create(
        by=people.referrer_a, organisation=people.practice_a, **patient_fields(**overrides)
    )


# --- NHS numbers -------------------------------------------------------------------------------


@pytest.mark.parametrize("value", ["9990000018", "4010234563", "999 000 0018", "999-000-0018"])
def test_valid_nhs_numbers_pass(value):
    validate_nhs_number(value)


@pytest.mark.parametrize(
    ("value", "code"),
    [
        ("9990000017", "nhs_number_checksum"),  # wrong check digit
        ("9434765918", "nhs_number_checksum"),
        ("9990000000", "nhs_number_checksum"),  # stem whose check digit would be 10
        ("999000001", "nhs_number_length"),  # 9 digits
        ("99900000180", "nhs_number_length"),  # 11 digits
        ("99900000AB", "nhs_number_length"),  # letters
        ("", "nhs_number_length"),
    ],
)
def test_invalid_nhs_numbers_are_rejected_with_a_code(value, code):
    with pytest.raises(ValidationError) as excinfo:
        validate_nhs_number(value)

    assert excinfo.value.code == code


@pytest.mark.parametrize(
    ("typed", "stored"),
    [
        ("999 000 0018", "9990000018"),
        ("999-000-0018", "9990000018"),
        (" 9990000018 ", "9990000018"),
    ],
)
def test_normalise_nhs_number_drops_spaces_and_dashes(typed, stored):
    assert normalise_nhs_number(typed) == stored


def test_format_nhs_number_groups_three_three_four():
    assert format_nhs_number("9990000018") == "999 000 0018"
    assert format_nhs_number("12345") == "12345"


def test_synthetic_nhs_numbers_are_valid_and_in_the_999_range():
    numbers = synthetic_nhs_numbers()
    first = [next(numbers) for _ in range(20)]

    assert first[0] == "9990000018"
    for number in first:
        assert number.startswith("999")
        validate_nhs_number(number)


def test_patient_create_stores_a_valid_nhs_number(people):
    patient = create_patient(people)

    patient.refresh_from_db()
    assert patient.nhs_number == "9990000018"
    assert patient.nhs_number_display == "999 000 0018"


@pytest.mark.parametrize("typed", ["999 000 0018", "999-000-0018"])
def test_patient_create_normalises_spaced_or_dashed_nhs_number(people, typed):
    patient = create_patient(people, nhs_number=typed)

    patient.refresh_from_db()
    assert patient.nhs_number == "9990000018"


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("9990000017", "NHS number is not valid"),
        ("999000001", "must be 10 digits"),
        ("99900000AB", "must be 10 digits"),
    ],
)
def test_patient_create_rejects_bad_nhs_number_and_writes_nothing(people, value, message):
    with pytest.raises(ValidationError) as excinfo:
        create_patient(people, nhs_number=value)

    assert message in " ".join(excinfo.value.message_dict["nhs_number"])
    assert not Patient.objects.exists()


def test_patient_create_refuses_a_duplicate_nhs_number(people):
    create_patient(people)

    with pytest.raises(ValidationError) as excinfo:
        create_patient(people, given_name="Someone", family_name="Else")

    assert "nhs_number" in str(excinfo.value)
    assert Patient.objects.count() == 1


def test_database_refuses_a_duplicate_nhs_number_in_one_organisation(db):
    first = PatientFactory(nhs_number=VALID_NHS_NUMBER)

    with pytest.raises(IntegrityError), transaction.atomic():
        PatientFactory(organisation=first.organisation, nhs_number=VALID_NHS_NUMBER)


def test_two_organisations_each_hold_a_record_with_one_nhs_number(db):
    first = PatientFactory(nhs_number=VALID_NHS_NUMBER)
    second = PatientFactory(nhs_number=VALID_NHS_NUMBER)

    assert first.organisation != second.organisation
    assert Patient.objects.filter(nhs_number=VALID_NHS_NUMBER).count() == 2


@pytest.mark.parametrize("missing", [None, ""])
def test_two_patients_without_an_nhs_number_are_allowed(people, missing):
    first = create_patient(people, nhs_number=missing)
    second = create_patient(people, nhs_number=missing, given_name="Bea")

    first.refresh_from_db()
    second.refresh_from_db()
    assert first.nhs_number is None
    assert second.nhs_number is None
    assert first.nhs_number_display == "Not known"


def test_database_refuses_an_nhs_number_that_is_not_ten_digits(db):
    with pytest.raises(IntegrityError), transaction.atomic():
        PatientFactory(nhs_number="12345")


def test_database_stores_no_nhs_number_as_null_not_empty(db):
    """An empty string would collide in the unique index; the check constraint refuses it."""
    with pytest.raises(IntegrityError), transaction.atomic():
        PatientFactory(nhs_number="")


# --- Postcodes ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "value",
    [
        "LS6 2AB",
        "M1 1AE",
        "B33 8TH",
        "CR2 6XH",
        "DN55 1PT",
        "W1A 0AX",
        "EC1A 1BB",
        "SW1A 1AA",
        "GIR 0AA",
        "ls62ab",
        " sw1a1aa ",
    ],
)
def test_valid_postcodes_pass(value):
    validate_postcode(value)


@pytest.mark.parametrize(
    "value",
    ["", "LS6", "12345", "QS6 2AB", "LS6 2CA", "LS6 2AI", "LS62 AB1", "ZZZZ ZZZ", "LS6 2AB X"],
)
def test_invalid_postcodes_are_rejected(value):
    with pytest.raises(ValidationError) as excinfo:
        validate_postcode(value)

    assert excinfo.value.code == "invalid_postcode"


@pytest.mark.parametrize(
    ("typed", "normalised"),
    [
        ("ls62ab", "LS6 2AB"),
        ("LS6 2AB", "LS6 2AB"),
        ("  ls6   2ab ", "LS6 2AB"),
        ("sw1a1aa", "SW1A 1AA"),
        ("m11ae", "M1 1AE"),
    ],
)
def test_normalise_postcode_upper_cases_with_one_space(typed, normalised):
    assert normalise_postcode(typed) == normalised


@pytest.mark.parametrize(
    ("postcode", "district"),
    [("LS6 2AB", "LS6"), ("ls62ab", "LS6"), ("SW1A 1AA", "SW1A"), ("M1 1AE", "M1")],
)
def test_postcode_district_is_the_outward_code(postcode, district):
    assert postcode_district(postcode) == district


def test_facility_district_comes_from_its_postcode(people):
    assert people.facility_y.district == "M1"


def test_patient_create_stores_a_normalised_postcode(people):
    patient = create_patient(people, postcode="ls62ab")

    patient.refresh_from_db()
    assert patient.postcode == "LS6 2AB"


def test_patient_create_normalises_a_postcode_typed_with_extra_spaces(people):
    patient = create_patient(people, postcode=" sw1a  1aa ")

    patient.refresh_from_db()
    assert patient.postcode == "SW1A 1AA"


@pytest.mark.parametrize("postcode", ["not a postcode", "LS6", ""])
def test_patient_create_rejects_a_bad_postcode_and_writes_nothing(people, postcode):
    with pytest.raises(ValidationError) as excinfo:
        create_patient(people, postcode=postcode)

    assert "postcode" in excinfo.value.message_dict
    assert not Patient.objects.exists()


# --- Other patient rules ------------------------------------------------------------------------


def test_patient_create_needs_a_referrer_at_the_organisation(people):
    with pytest.raises(PermissionDenied):
        services.patient_create(
            by=people.coordinator_x, organisation=people.practice_a, **patient_fields()
        )
    with pytest.raises(PermissionDenied):
        services.patient_create(
            by=people.referrer_a, organisation=people.practice_b, **patient_fields()
        )

    assert not Patient.objects.exists()


def test_patient_create_requires_an_interpreter_language_when_one_is_needed(people):
    with pytest.raises(ValidationError):
        create_patient(people, interpreter_needed=True, interpreter_language="")

    assert not Patient.objects.exists()


def test_patient_create_requires_an_email_to_contact_by_email(people):
    with pytest.raises(ValidationError):
        create_patient(people, contact_by_email=True, email="")

    assert not Patient.objects.exists()


def test_patient_with_a_future_date_of_birth_is_invalid(db):
    patient = PatientFactory.build(date_of_birth=timezone.localdate() + datetime.timedelta(days=1))

    with pytest.raises(ValidationError) as excinfo:
        patient.full_clean()

    assert "date_of_birth" in excinfo.value.message_dict


def test_patient_create_rejects_a_future_date_of_birth_and_writes_nothing(people):
    tomorrow = timezone.localdate() + datetime.timedelta(days=1)

    with pytest.raises(ValidationError) as excinfo:
        create_patient(people, date_of_birth=tomorrow)

    assert "date_of_birth" in excinfo.value.message_dict
    assert not Patient.objects.exists()


def test_patient_born_over_120_years_ago_is_invalid(db):
    long_ago = datetime.date(timezone.localdate().year - 121, 12, 31)
    patient = PatientFactory.build(date_of_birth=long_ago)

    with pytest.raises(ValidationError) as excinfo:
        patient.full_clean()

    assert "date_of_birth" in excinfo.value.message_dict


def test_patient_with_a_date_of_birth_today_is_valid(db):
    PatientFactory.build(
        organisation=OrganisationFactory(), date_of_birth=timezone.localdate()
    ).full_clean()


# --- Database constraints, bypassing Python validation ------------------------------------------


def bare_referral(people, **fields) -> Referral:
    """A referral written straight to the database, skipping services and full_clean."""
    return Referral.objects.create(
        patient=PatientFactory(organisation=people.practice_a),
        referring_organisation=people.practice_a,
        clinician_name="Dr Test",
        **fields,
    )


@pytest.mark.parametrize(
    "fields",
    [
        {"bp_systolic": 140},
        {"bp_diastolic": 90},
        {"bp_systolic": 80, "bp_diastolic": 90},
        {"bp_systolic": 90, "bp_diastolic": 90},
    ],
    ids=["systolic-only", "diastolic-only", "systolic-below", "systolic-equal"],
)
def test_database_refuses_unpaired_or_inverted_blood_pressure(people, fields):
    with pytest.raises(IntegrityError), transaction.atomic():
        bare_referral(people, **fields)


def test_database_accepts_paired_blood_pressure(people):
    assert bare_referral(people, bp_systolic=140, bp_diastolic=90).pk


def test_database_refuses_a_submitted_referral_without_consent_or_routing(people):
    with pytest.raises(IntegrityError), transaction.atomic():
        bare_referral(people, status="submitted", programme=people.programme_x)


def test_database_refuses_consent_without_a_time(people):
    with pytest.raises(IntegrityError), transaction.atomic():
        bare_referral(people, consent_referral=True)


def test_database_refuses_an_unknown_status(people):
    with pytest.raises(IntegrityError), transaction.atomic():
        bare_referral(people, status="lost")


def test_database_refuses_interpreter_needed_without_a_language(db):
    with pytest.raises(IntegrityError), transaction.atomic():
        PatientFactory(interpreter_needed=True, interpreter_language="")


def test_database_refuses_contact_by_email_without_an_email(db):
    with pytest.raises(IntegrityError), transaction.atomic():
        PatientFactory(contact_by_email=True, email="")


def test_database_refuses_an_in_app_notification_without_a_user(people):
    referral = new_draft(people)
    event = referral.events.get()

    with pytest.raises(IntegrityError), transaction.atomic():
        Notification.objects.create(
            referral=referral,
            event=event,
            channel=Notification.Channel.IN_APP,
            recipient_organisation=people.practice_a,
        )


def test_database_refuses_an_email_notification_without_an_address(people):
    referral = new_draft(people)
    event = referral.events.get()

    with pytest.raises(IntegrityError), transaction.atomic():
        Notification.objects.create(
            referral=referral,
            event=event,
            channel=Notification.Channel.EMAIL,
            recipient_organisation=people.practice_a,
            recipient_user=people.referrer_a,
        )


def test_database_refuses_a_sent_notification_without_a_sent_time(people):
    referral = new_draft(people)
    event = referral.events.get()

    with pytest.raises(IntegrityError), transaction.atomic():
        Notification.objects.create(
            referral=referral,
            event=event,
            channel=Notification.Channel.IN_APP,
            recipient_organisation=people.practice_a,
            recipient_user=people.referrer_a,
            status=Notification.DeliveryStatus.SENT,
        )


# --- The timeline is append-only -----------------------------------------------------------------


def test_database_trigger_refuses_a_queryset_update_of_a_referral_event(people):
    referral = new_draft(people)
    event = referral.events.get()

    with pytest.raises(IntegrityError, match="append-only"), transaction.atomic():
        ReferralEvent.objects.filter(pk=event.pk).update(note="rewritten history")

    event.refresh_from_db()
    assert event.note == ""


def test_saving_an_existing_referral_event_raises_value_error(people):
    referral = new_draft(people)
    event = referral.events.get()
    event.note = "rewritten history"

    with pytest.raises(ValueError, match="append-only"):
        event.save()

    event.refresh_from_db()
    assert event.note == ""


def test_deleting_a_referral_removes_its_timeline(people):
    """The trigger forbids updates only, so the retention purge can still delete a referral."""
    referral = new_draft(people)
    assert ReferralEvent.objects.filter(referral=referral).exists()

    referral.delete()

    assert not ReferralEvent.objects.filter(referral_id=referral.pk).exists()
