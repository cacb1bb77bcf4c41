"""Finding 8 (issue 11): **Find patient** on /referrals/new/ answers every input with a message on
the NHS number box, never an HTTP 500 (it was `AttributeError: 'PatientForm' object has no
attribute 'cleaned_data'` for an empty box or a wrong check digit), and writes nothing."""

from html import unescape

import pytest
from django.test import Client
from django.urls import reverse

from audit.models import AccessRecord
from referrals.models import Patient, Referral

FIND = reverse("referrals:new")


@pytest.fixture
def referrer(people) -> Client:
    client = Client(raise_request_exception=False)
    client.force_login(people.referrer_a)
    return client


def find(client: Client, nhs_number: str):
    return client.post(FIND, {"nhs_number": nhs_number, "find": "1"})


def text(response) -> str:
    return unescape(response.content.decode())


def test_finding_8_find_patient_with_an_empty_box_is_a_message_not_a_500(referrer):
    response = find(referrer, "")

    assert response.status_code == 200
    assert "Enter the patient&#x27;s NHS number to find them" in response.content.decode()
    assert response.context["found"] is None
    # The message is on the NHS number box and in the error summary, linked to the box.
    assert response.context["form"].errors == {
        "nhs_number": ["Enter the patient's NHS number to find them"]
    }
    assert 'href="#id_nhs_number"' in response.content.decode()


def test_finding_8_find_patient_with_a_wrong_check_digit_is_a_message_not_a_500(referrer):
    response = find(referrer, "9990001007")

    assert response.status_code == 200
    assert "NHS number is not valid: check the digits and try again" in text(response)
    # The number typed stays in the box, to be corrected.
    assert 'value="9990001007"' in response.content.decode()


@pytest.mark.parametrize(
    ("typed", "message"),
    [
        ("   ", "Enter the patient's NHS number to find them"),
        ("999 000 0018 999", "NHS number must be 10 digits"),
        ("x" * 10_000, "NHS number must be 10 digits"),
        ("nine nine", "NHS number must be 10 digits"),
        ("-1", "NHS number must be 10 digits"),
        ("99999999999999999999", "NHS number must be 10 digits"),
        ("0000000000", "NHS number is not valid: it cannot be the same digit 10 times"),
        ("5000000005", "NHS number is not valid: no NHS number starts with these digits"),
        ("999000\u202e0018", "NHS number must be 10 digits"),
        ("999000001\U0001f3c3", "NHS number must be 10 digits"),
        ("99900\x0000018", "Null characters are not allowed."),
        ("\u0669\u0669\u0669\u0660\u0660\u0660\u0660\u0660\u0661\u0668", "NHS number must be"),
    ],
    ids=[
        "spaces",
        "too-long-number",
        "ten-thousand-chars",
        "words",
        "negative",
        "huge-integer",
        "repeated-digit",
        "never-issued",
        "rtl-override",
        "emoji",
        "nul-byte",
        "arabic-indic-digits",
    ],
)
def test_finding_8_find_patient_answers_any_input_with_a_message(referrer, typed, message):
    response = find(referrer, typed)

    assert response.status_code == 200
    assert message in text(response)
    assert not Patient.objects.exists()
    assert not Referral.objects.exists()
    # A paste longer than any NHS number is not echoed back into the page.
    assert "x" * 100 not in response.content.decode()


def test_finding_8_a_valid_number_nobody_referred_asks_for_the_details(referrer):
    response = find(referrer, "999 000 0018")

    assert response.status_code == 200
    assert response.context["found"] is False
    assert "has not referred a patient with this NHS number before" in text(response)
    assert response.context["form"].initial == {"nhs_number": "9990000018"}
    assert not response.context["form"].errors
    assert not AccessRecord.objects.exists()  # nobody's data was shown
