"""Input the portal refuses with a message and without writing anything: absurd dates, NHS numbers
nobody was issued, hidden bidirectional characters, and free text longer than its limit (refused
by the form, the model and the database)."""

import datetime
from html import unescape

import pytest
from django import forms as django_forms
from django.apps import apps
from django.core.exceptions import ValidationError
from django.db import DataError, IntegrityError, connection, models, transaction
from django.test import override_settings
from django.urls import reverse
from django.utils import timezone

from accounts.validation import (
    SHORT_NOTE_MAX,
    PlainTextField,
    date_from_parts,
    parse_iso_date,
    validate_multiline_text,
    validate_single_line_text,
)
from leisure import forms as leisure_forms
from manage import forms as facilities_forms
from manage import forms_members as accounts_forms
from outcomes.models import Assessment
from outcomes.services import assessment_record
from referrals import forms as referrals_forms
from referrals import services
from referrals.models import Patient, Referral, ReferralEvent, Session, Status
from referrals.nhs_numbers import synthetic_nhs_numbers, validate_nhs_number
from tests.builders import new_draft, referral_in_state
from tests.factories import PatientFactory
from tests.outcomes.helpers import PHQ9_CALM

RLO = "\u202e"
ONE_MEGABYTE = "x" * 1_000_000
PATIENT_FORM = {
    "nhs_number": "",
    "given_name": "Ada",
    "family_name": "Lovelace",
    "date_of_birth_0": "10",
    "date_of_birth_1": "12",
    "date_of_birth_2": "1960",
    "sex": "F",
    "postcode": "ls6 2ab",
    "phone": "07700 900123",
    "email": "",
    "contact_methods": ["phone"],
    "interpreter_needed": "no",
    "interpreter_language": "",
    "ethnicity": "Z",
    "continue": "1",
}


def page_text(response) -> str:
    return unescape(response.content.decode())


# --- Dates ---------------------------------------------------------------------------------------


def test_a_twenty_digit_year_of_birth_is_a_message_and_writes_nothing(client, people):
    client.force_login(people.referrer_a)

    response = client.post(
        reverse("referrals:new"), {**PATIENT_FORM, "date_of_birth_2": "99999999999999999999"}
    )

    assert response.status_code == 200
    assert "Year must include 4 numbers" in page_text(response)
    assert not Patient.objects.exists()


@pytest.mark.parametrize(
    ("day", "month", "year", "message"),
    [
        ("1", "1", "99999999999999999999", "Year must include 4 numbers"),
        ("1", "1", "0", "Year must include 4 numbers"),
        ("1", "1", "0000", "Date of birth must be between 1900 and 2100"),
        ("1", "1", "1899", "Date of birth must be between 1900 and 2100"),
        ("1", "1", "9999", "Date of birth must be between 1900 and 2100"),
        ("31", "2", "1984", "Date of birth must be a real date"),
        ("1", "13", "1984", "Date of birth must be a real date"),
        ("a", "1", "1984", "Date of birth must be a real date"),
        ("1", "1", "19.4", "Date of birth must be a real date"),
        ("-1", "1", "1984", "Date of birth must be a real date"),
        ("\u0661", "1", "1984", "Date of birth must be a real date"),  # an Arabic-Indic one
    ],
)
def test_impossible_dates_get_an_nhs_style_message(day, month, year, message):
    field = referrals_forms.NHSDateField(label="Date of birth")

    with pytest.raises(ValidationError) as raised:
        field.clean([day, month, year])

    assert raised.value.messages == [message]


def test_a_real_date_with_spaces_and_full_width_digits_is_read():
    assert date_from_parts(" 15 ", "\uff13", "1984") == datetime.date(1984, 3, 15)


def test_a_blood_pressure_reading_years_old_is_refused():
    old = timezone.localdate() - datetime.timedelta(days=3 * 365)
    form = referrals_forms.ClinicalDetailsForm(
        {
            "reasons": ["obesity"],
            "bp_systolic": "140",
            "bp_diastolic": "90",
            "bp_measured_on_0": str(old.day),
            "bp_measured_on_1": str(old.month),
            "bp_measured_on_2": str(old.year),
        },
        completing=False,
    )

    assert not form.is_valid()
    assert form.errors["bp_measured_on"] == [
        "The date blood pressure was measured must be within the last 2 years"
    ]


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2026-03-01", datetime.date(2026, 3, 1)),
        ("9999-12-31", None),
        ("0001-01-01", None),
        ("2026-02-30", None),
        ("99999999999999999999-01-01", None),
        ("2026-3-1", None),
        ("", None),
        (None, None),
    ],
)
def test_query_string_dates_within_the_portal_years_only(value, expected):
    assert parse_iso_date(value) == expected


def test_a_register_url_at_the_end_of_time_is_a_404_not_an_overflow(client, people):
    client.force_login(people.instructor_x)

    url = f"/today/classes/{people.class_x.public_id}/9999-12-31/"
    assert client.get(url).status_code == 404
    assert client.get("/today/", {"day": "9999-12-31"}).status_code == 200
    assert client.get("/today/", {"day": "0001-01-01"}).status_code == 200


@pytest.mark.parametrize("day", ["0001-01-01", "9999-12-31"])
def test_dashboard_filter_dates_outside_the_portal_years_are_a_message(client, people, day):
    client.force_login(people.referrer_a)

    response = client.get(reverse("referrals:dashboard"), {"referred_to": day})

    assert response.status_code == 200
    assert "Enter a date between 1900 and 2100" in page_text(response)


# --- NHS numbers ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "value",
    [
        "4000000004",  # England, Wales, Isle of Man
        "4999999994",
        "6000000006",
        "7999999997",
        "0101000006",  # Scotland (CHI)
        "3112999991",
        "3200000015",  # Northern Ireland (H&C)
        "3999999993",
        "9990000018",  # test range, allowed outside production
    ],
)
def test_numbers_in_the_issued_ranges_pass(value):
    validate_nhs_number(value)


@pytest.mark.parametrize(
    ("value", "code"),
    [
        ("0000000000", "nhs_number_repeated"),
        ("1111111111", "nhs_number_repeated"),
        ("9999999999", "nhs_number_repeated"),
        ("5000000005", "nhs_number_range"),  # between the English ranges
        ("8000000008", "nhs_number_range"),
        ("3113000009", "nhs_number_range"),  # after CHI, before Northern Ireland
        ("3200000007", "nhs_number_range"),  # 320 000 000: just below Northern Ireland's
        ("0000000019", "nhs_number_range"),  # before CHI
        ("9434765919", "nhs_number_range"),  # the textbook checksum example, never issued
    ],
)
def test_numbers_never_issued_are_refused_with_a_code(value, code):
    with pytest.raises(ValidationError) as raised:
        validate_nhs_number(value)

    assert raised.value.code == code


@override_settings(PORTAL_ALLOW_TEST_NHS_NUMBERS=False)
def test_production_refuses_the_999_test_range():
    with pytest.raises(ValidationError) as raised:
        validate_nhs_number("9990000018")

    assert raised.value.code == "nhs_number_test_range"
    validate_nhs_number("4000000004")


def test_the_test_range_setting_follows_production(settings):
    assert settings.PORTAL_ALLOW_TEST_NHS_NUMBERS is True  # the suite runs as development


def test_demo_and_factory_nhs_numbers_are_valid_test_numbers(db):
    numbers = synthetic_nhs_numbers()
    for _ in range(200):
        number = next(numbers)
        assert number.startswith("999")
        validate_nhs_number(number)
    PatientFactory.build().full_clean(exclude=["organisation"])


@pytest.mark.parametrize("value", ["0000000000", "5000000005"])
def test_the_patient_form_refuses_never_issued_numbers_and_writes_nothing(client, people, value):
    client.force_login(people.referrer_a)

    response = client.post(reverse("referrals:new"), {**PATIENT_FORM, "nhs_number": value})

    assert response.status_code == 200
    assert "NHS number is not valid" in page_text(response)
    assert not Patient.objects.exists()


@override_settings(PORTAL_ALLOW_TEST_NHS_NUMBERS=False)
def test_the_patient_service_refuses_a_test_number_in_production(people):
    with pytest.raises(ValidationError) as raised:
        services.patient_create(
            by=people.referrer_a,
            organisation=people.practice_a,
            nhs_number="9990000018",
            given_name="Ada",
            family_name="Lovelace",
            date_of_birth=datetime.date(1960, 1, 1),
            sex="F",
            postcode="LS6 2AB",
        )

    assert "test number" in " ".join(raised.value.message_dict["nhs_number"])
    assert not Patient.objects.exists()


@pytest.mark.parametrize(
    ("url_name", "persona"),
    [("referrals:dashboard", "referrer_a"), ("triage:worklist", "coordinator_x")],
)
def test_searching_for_a_number_that_cannot_be_an_nhs_number_says_so(
    client, people, url_name, persona
):
    client.force_login(getattr(people, persona))

    response = client.post(reverse(url_name), {"q": "000 000 0000"}, follow=True)

    assert response.status_code == 200
    assert "000 000 0000 is not a valid NHS number" in page_text(response)


# --- Hidden characters ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "character",
    [
        *("\u202a", "\u202b", "\u202c", "\u202d", RLO, "\u2066", "\u2067", "\u2068", "\u2069"),
        *("\u200e", "\u200f", "\u061c", "\x00", "\x1b", "\x7f", "\x85", "\x9f"),
    ],
)
def test_hidden_characters_are_refused_in_one_line_and_multi_line_text(character):
    for validate in (validate_single_line_text, validate_multiline_text):
        with pytest.raises(ValidationError):
            validate(f"Smith{character}")


def test_multi_line_text_keeps_line_breaks_and_tabs_and_other_scripts():
    validate_multiline_text("Line one\r\nline two\tindented. Zoë, Łódź, محمد, 李雷 👍🏽")
    validate_single_line_text("Zoë O'Brien-Łódź محمد")
    with pytest.raises(ValidationError):
        validate_single_line_text("two\nlines")


def test_a_right_to_left_override_in_a_name_is_refused_and_writes_nothing(client, people):
    client.force_login(people.referrer_a)

    response = client.post(reverse("referrals:new"), {**PATIENT_FORM, "family_name": f"Ev{RLO}il"})

    assert response.status_code == 200
    assert "hidden formatting characters" in page_text(response)
    assert not Patient.objects.exists()


def test_the_model_refuses_a_right_to_left_override_in_a_name(db):
    patient = PatientFactory.build(given_name=f"Ada{RLO}")

    with pytest.raises(ValidationError) as raised:
        patient.full_clean(exclude=["organisation"])

    assert "given_name" in raised.value.message_dict


def _free_text_form_fields():
    for module in (accounts_forms, facilities_forms, referrals_forms):
        for name in dir(module):
            form = getattr(module, name)
            if (
                isinstance(form, type)
                and issubclass(form, django_forms.BaseForm)
                and form.__module__ == module.__name__
            ):
                for field_name, field in form.base_fields.items():
                    if type(field) is django_forms.CharField or isinstance(field, PlainTextField):
                        yield pytest.param(form, field_name, id=f"{name}.{field_name}")


# Text that is checked by a stricter rule of its own (digits, postcodes) or is only a search term.
NOT_FREE_TEXT = {
    ("PatientForm", "nhs_number"),
    ("FindPatientForm", "nhs_number"),
    ("PatientForm", "postcode"),
    ("FacilityForm", "postcode"),
    ("FacilityForm", "postcode_districts"),
    ("FacilityForm", "phone"),
    ("SearchForm", "q"),
}


@pytest.mark.parametrize(("form", "field_name"), list(_free_text_form_fields()))
def test_every_free_text_form_field_refuses_hidden_characters_and_has_a_limit(form, field_name):
    field = form.base_fields[field_name]
    assert field.max_length, f"{form.__name__}.{field_name} has no max_length"
    if (form.__name__, field_name) in NOT_FREE_TEXT:
        return

    with pytest.raises(ValidationError) as raised:
        field.clean(f"Ev{RLO}il")

    assert "hidden formatting characters" in raised.value.messages[0]


# --- Length limits -------------------------------------------------------------------------------


def test_a_one_megabyte_note_is_refused_by_the_form():
    form = leisure_forms.DeclineForm({"reason": "outside_area", "note": ONE_MEGABYTE})

    assert not form.is_valid()
    assert form.errors["note"] == ["Enter 2000 characters or fewer (you entered 1000000)"]


def test_a_one_megabyte_note_posted_to_triage_is_a_message_and_changes_nothing(client, people):
    referral = referral_in_state(people, Status.SUBMITTED)
    client.force_login(people.coordinator_x)

    response = client.post(
        reverse("triage:action", args=[referral.reference, "decline"]),
        {"reason": "outside_area", "note": ONE_MEGABYTE, "version": referral.version},
    )

    assert response.status_code == 200
    assert "Enter 2000 characters or fewer" in page_text(response)
    assert Referral.objects.get(pk=referral.pk).status == Status.SUBMITTED


def test_the_service_refuses_an_over_long_note_and_changes_nothing(people):
    referral = referral_in_state(people, Status.SUBMITTED)
    events = referral.events.count()

    with pytest.raises(ValidationError) as raised:
        services.referral_decline(
            referral=referral, by=people.coordinator_x, reason="outside_area", note=ONE_MEGABYTE
        )

    assert "note" in raised.value.message_dict
    assert Referral.objects.get(pk=referral.pk).status == Status.SUBMITTED
    assert referral.events.count() == events


def test_the_service_refuses_a_hidden_character_in_a_note(people):
    referral = referral_in_state(people, Status.SUBMITTED)

    with pytest.raises(ValidationError):
        services.referral_decline(
            referral=referral, by=people.coordinator_x, reason="outside_area", note=f"a{RLO}b"
        )


def test_the_database_refuses_a_one_megabyte_timeline_note(people):
    referral = new_draft(people)

    with pytest.raises((IntegrityError, DataError)), transaction.atomic():
        ReferralEvent.objects.create(referral=referral, action="note", note=ONE_MEGABYTE)


def test_the_database_refuses_one_megabyte_of_history_on_a_raw_save(people):
    referral = new_draft(people)
    referral.relevant_history = ONE_MEGABYTE

    with pytest.raises((IntegrityError, DataError)), transaction.atomic():
        referral.save()


def test_a_note_at_the_limit_is_stored(people):
    referral = new_draft(people)

    event = ReferralEvent.objects.create(referral=referral, action="note", note="é" * 2000)

    event.refresh_from_db()
    assert len(event.note) == SHORT_NOTE_MAX


def _text_fields():
    for app in ("accounts", "facilities", "referrals", "outcomes"):
        for model in apps.get_app_config(app).get_models():
            for field in model._meta.get_fields():
                if isinstance(field, models.TextField):
                    yield pytest.param(model, field, id=f"{model.__name__}.{field.name}")


def _check_constraints(table: str) -> dict[str, str]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint "
            "WHERE conrelid = %s::regclass AND contype = 'c'",
            [table],
        )
        return dict(cursor.fetchall())


def test_the_apps_have_text_fields_to_check():
    assert len(list(_text_fields())) >= 7


@pytest.mark.django_db
@pytest.mark.parametrize(("model", "field"), list(_text_fields()))
def test_every_text_field_has_a_limit_in_the_model_and_the_database(model, field):
    assert field.max_length, f"{model.__name__}.{field.name} has no max_length"
    assert any(getattr(v, "limit_value", None) == field.max_length for v in field.validators)
    assert validate_multiline_text in field.validators
    name = f"{model._meta.model_name}_{field.name}_max_length"
    constraints = _check_constraints(model._meta.db_table)
    assert name in constraints, f"no database length limit on {model.__name__}.{field.name}"
    assert f"<= {field.max_length}" in constraints[name]


def test_session_notes_from_the_register_are_limited(people):
    referral = referral_in_state(people, Status.BOOKED)
    session = referral.sessions.first()
    Session.objects.filter(pk=session.pk).update(scheduled_at=timezone.now())

    with pytest.raises(ValidationError) as raised:
        services.session_record_attendance(
            session=session, status="attended", by=people.instructor_x, note=ONE_MEGABYTE
        )

    assert "note" in raised.value.message_dict
    session.refresh_from_db()
    assert session.status == "booked"


def test_outcome_answers_of_unbounded_size_are_refused(people):
    referral = referral_in_state(people, Status.BOOKED)

    with pytest.raises(ValidationError):
        assessment_record(
            referral=referral,
            instrument="phq9",
            timepoint="baseline",
            answers={**PHQ9_CALM, "padding": ONE_MEGABYTE},
            by=people.instructor_x,
        )

    assert not Assessment.objects.exists()


def test_a_name_longer_than_the_column_is_a_form_message(client, people):
    client.force_login(people.referrer_a)

    response = client.post(reverse("referrals:new"), {**PATIENT_FORM, "given_name": "A" * 101})

    assert response.status_code == 200
    assert "Enter 100 characters or fewer" in page_text(response)
    assert not Patient.objects.exists()


def test_limited_textareas_use_the_nhs_character_count(client, people):
    referral = referral_in_state(people, Status.SUBMITTED)
    client.force_login(people.coordinator_x)

    html = page_text(client.get(reverse("triage:action", args=[referral.reference, "decline"])))

    assert 'data-module="nhsuk-character-count" data-maxlength="2000"' in html
    assert 'maxlength="2000"' in html  # holds without JavaScript
    assert "You can enter up to 2000 characters" in html


def test_report_filter_dates_outside_the_portal_years_are_a_message(client, people):
    client.force_login(people.coordinator_x)

    response = client.get(reverse("reports:report"), {"referred_from": "0001-01-01"})

    assert response.status_code == 200
    assert "Enter a date between 1900 and 2100" in page_text(response)


def test_the_migration_cuts_existing_over_long_text_before_adding_its_constraint(people):
    """Old rows over a new limit must not break the migration (PostgreSQL DDL is transactional,
    so dropping the constraint here is undone with the test)."""
    import importlib

    migration = importlib.import_module("referrals.migrations.0011_free_text_limits")
    referral = new_draft(people)
    with connection.cursor() as cursor:
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")  # no pending foreign key checks
        cursor.execute(
            "ALTER TABLE referrals_referral DROP CONSTRAINT referral_relevant_history_max_length"
        )
    Referral.objects.filter(pk=referral.pk).update(relevant_history="y" * 5000)

    migration.truncate_over_long_text(apps, None)

    referral.refresh_from_db()
    assert referral.relevant_history == "y" * 4000
