"""Finding 7 of issue 11: the patient letter about the first session (reference, the centre's name
and address, when, what to bring, how to change it), for the coordinator, the referral's
instructors and the referrer; and the referral page says when and where the first session is."""

import datetime
from html import unescape

import pytest
from django.urls import reverse

from audit.models import AccessKind, AccessRecord
from referrals import services
from referrals.models import Referral, Status
from tests.builders import new_draft, run_action

# Tuesday 1 December 2026, 09:00 GMT; class X meets on Tuesdays at 10:00 at X Leisure Centre,
# whose address (the factory's) is "1 High Street", "Leeds", LS6 2AB.
NOW = datetime.datetime(2026, 12, 1, 9, 0, tzinfo=datetime.UTC)


@pytest.fixture
def booked(people, frozen_now):
    frozen_now(NOW)
    referral = new_draft(people)
    for action in ("submit", "accept"):
        run_action(people, referral, action)
    services.referral_book(referral=referral, by=people.coordinator_x)
    return referral


def letter_url(referral: Referral) -> str:
    return reverse("referrals:letter", args=[referral.reference])


@pytest.mark.parametrize("persona", ["coordinator_x", "instructor_x", "referrer_a"])
def test_finding_7_patient_letter_shows_the_centre_and_first_session(
    client, people, booked, persona
):
    client.force_login(getattr(people, persona))

    response = client.get(letter_url(booked))

    assert response.status_code == 200
    html = unescape(response.content.decode())
    assert "Your first exercise session" in html
    assert booked.reference in html
    assert "Tuesday 8 December 2026" in html
    assert "10:00 (60 minutes)" in html
    assert "X Leisure Centre<br>1 High Street<br>Leeds<br>LS6 2AB" in html
    assert "What to bring" in html
    assert "If you need to change or cancel it" in html
    assert f"Dear {booked.patient.full_name}," in html
    assert "css/printout.css" in html
    assert "data-portal-print" in html


def test_finding_7_the_letter_says_how_to_reach_the_centre(client, people, booked):
    client.force_login(people.coordinator_x)
    without = unescape(client.get(letter_url(booked)).content.decode())
    assert "ask at the centre's reception" in without

    type(people.facility_x).objects.filter(pk=people.facility_x.pk).update(
        phone="0113 496 0123", email="desk@x.example"
    )
    html = unescape(client.get(letter_url(booked)).content.decode())
    assert 'Phone: <strong class="nhsuk-u-nowrap">0113 496 0123</strong>' in html
    assert "Email: <strong>desk@x.example</strong>" in html


def test_finding_7_the_letter_is_audited_as_a_printout(client, people, booked):
    client.force_login(people.coordinator_x)

    client.get(letter_url(booked))

    record = AccessRecord.objects.get()
    assert (record.kind, record.url_name) == (AccessKind.PRINTOUT, "referrals:letter")
    assert record.referral_ids == [booked.pk]
    assert record.patient_ids == [booked.patient_id]


@pytest.mark.parametrize(
    "persona",
    ["referrer_b", "coordinator_y", "instructor_y", "commissioner", "admin_a", "admin_x"],
)
def test_finding_7_the_letter_is_not_shown_to_anyone_else(client, people, booked, persona):
    client.force_login(getattr(people, persona))

    response = client.get(letter_url(booked))

    assert response.status_code == 404
    assert not AccessRecord.objects.exists()


def test_finding_7_the_letter_asks_anonymous_visitors_to_sign_in(client, people, booked):
    response = client.get(letter_url(booked))

    assert response.status_code == 302
    assert response.url.startswith(reverse("account_login"))


def test_finding_7_no_letter_before_a_session_is_booked(client, people, frozen_now):
    frozen_now(NOW)
    accepted = new_draft(people)
    for action in ("submit", "accept"):
        run_action(people, accepted, action)
    client.force_login(people.coordinator_x)

    response = client.get(letter_url(accepted), follow=True)

    assert response.redirect_chain[0] == (
        reverse("referrals:detail", args=[accepted.reference]),
        302,
    )
    assert "There is no session booked to write to the patient about." in unescape(
        response.content.decode()
    )
    assert not AccessRecord.objects.filter(kind=AccessKind.PRINTOUT).exists()


def test_finding_7_no_letter_for_a_referrer_without_consent_to_share_progress(
    client, people, frozen_now
):
    frozen_now(NOW)
    referral = new_draft(people, consent_share_outcomes=False)
    for action in ("submit", "accept", "book"):
        run_action(people, referral, action)
    client.force_login(people.referrer_a)

    response = client.get(letter_url(referral))

    assert response.status_code == 302
    assert not AccessRecord.objects.filter(kind=AccessKind.PRINTOUT).exists()


def test_finding_7_the_referral_page_says_when_and_where_the_first_session_is(
    client, people, booked
):
    client.force_login(people.referrer_a)

    response = client.get(reverse("referrals:detail", args=[booked.reference]))

    html = unescape(response.content.decode())
    assert "First session" in html
    assert "Tuesday 8 December 2026, 10:00, X Leisure Centre" in html
    assert letter_url(booked) in html
    booked_entry = next(e for e in response.context["timeline"] if e.action == "book")
    assert booked_entry.detail == "First session: Tuesday 8 December 2026, 10:00, X Leisure Centre"
    assert booked.status == Status.BOOKED
