"""Finding 7 of issue 11: the "booked" update tells the GP when and where the first session is
(the time and the centre's name, nothing about the patient), in-app, by email and in the FHIR
message."""

import datetime

import pytest
from django.core import mail

from accounts.models import Organisation
from delivery.tasks import deliver_notification
from referrals import services
from referrals.models import Notification, Status
from tests.builders import new_draft, run_action
from tests.factories import PatientFactory

N = Notification
# Tuesday 1 December 2026, 09:00 GMT. Class X meets on Tuesdays at 10:00; a class booking starts
# at the class's first session after tomorrow: Tuesday 8 December 2026, 10:00.
NOW = datetime.datetime(2026, 12, 1, 9, 0, tzinfo=datetime.UTC)
FIRST_SESSION = "2026-12-08T10:00:00+00:00"


@pytest.fixture
def patient(people):
    return PatientFactory(
        organisation=people.practice_a,
        given_name="Perpetua",
        family_name="Oyelaran-Smythe",
        date_of_birth=datetime.date(1951, 3, 14),
    )


@pytest.fixture
def booked(people, patient, frozen_now):
    frozen_now(NOW)
    Organisation.objects.filter(pk=people.practice_a.pk).update(
        webhook_enabled=True, webhook_url="https://gp-system.example.nhs.uk/hooks"
    )
    referral = new_draft(people, patient=patient)
    for action in ("submit", "accept"):
        run_action(people, referral, action)
    services.referral_book(referral=referral, by=people.coordinator_x)
    assert referral.status == Status.BOOKED
    return referral


def book_rows(referral, channel):
    return N.objects.filter(referral=referral, event__action="book", channel=channel)


def test_finding_7_booked_update_carries_first_session_time_and_centre(people, booked):
    for channel in (N.Channel.IN_APP, N.Channel.EMAIL):
        (row,) = book_rows(booked, channel)
        assert row.payload["headline"] == "First session booked"
        assert row.payload["first_session_at"] == FIRST_SESSION
        assert row.payload["centre"] == "X Leisure Centre"


def test_finding_7_the_booked_email_says_when_and_where(people, booked, patient):
    (row,) = book_rows(booked, N.Channel.EMAIL)

    deliver_notification.run(str(row.public_id))

    (message,) = mail.outbox
    html = "".join(content for content, _ in message.alternatives)
    assert "First session: Tuesday 8 December 2026, 10:00, X Leisure Centre" in message.body
    assert "Tuesday 8 December 2026, 10:00" in html
    assert "X Leisure Centre" in html
    for value in (patient.given_name, patient.family_name, patient.nhs_number, "14 March 1951"):
        assert value not in message.body
        assert value not in html


def test_finding_7_the_fhir_message_carries_the_first_session(people, booked, patient):
    (row,) = book_rows(booked, N.Channel.WEBHOOK)

    task = next(
        entry["resource"]
        for entry in row.payload["entry"]
        if entry["resource"]["resourceType"] == "Task"
    )
    outputs = {output["type"]["coding"][0]["code"]: output for output in task["output"]}
    assert outputs["first-session"]["valueDateTime"] == "2026-12-08T10:00:00Z"  # FHIR's form
    location = outputs["first-session-location"]["valueReference"]
    assert location["display"] == "X Leisure Centre"
    assert location["identifier"]["value"] == str(people.facility_x.public_id)
    body = str(row.payload)
    for value in (patient.given_name, patient.family_name, patient.nhs_number, "1951-03-14"):
        assert value not in body


def test_finding_7_other_updates_say_nothing_about_sessions(people, booked):
    accepted = N.objects.get(referral=booked, event__action="accept", channel=N.Channel.IN_APP)

    assert "first_session_at" not in accepted.payload
    assert "centre" not in accepted.payload
