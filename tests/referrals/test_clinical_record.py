"""Finding 1 of issue 11: the leisure provider sees the clinical and contact details the GP gave
(on the referral page and the triage action pages), with the referrer's preferred centre
preselected on accept; only the people who act on the referral see them."""

import datetime
from html import unescape

import pytest
from django.urls import reverse

from audit.models import AccessKind, AccessRecord
from referrals.models import Status
from tests.builders import new_draft, run_action
from tests.factories import PatientFactory

SCREENED_AT = datetime.datetime(2026, 11, 24, 9, 30, tzinfo=datetime.UTC)

# What the referrer gave, and how the provider reads it (written out, not derived).
EXPECTED = [
    "07700 900456",
    "halina.k@example.com",
    "Phone, email",
    "Yes, except about this referral",
    "Yes: Polish",
    "150/92 mmHg, measured on 20 November 2026",
    "Yes (for example beta blockers)",
    "Bisoprolol 5 mg daily",
    "Left knee replacement in 2019",
    "Medium",
    "Hypertension",
    "Answered by {screener} on 24 November 2026, 09:30",
]


@pytest.fixture
def referral(people, frozen_now):
    frozen_now(SCREENED_AT)
    patient = PatientFactory(
        organisation=people.practice_a,
        given_name="Halina",
        family_name="Kowalska",
        phone="07700 900456",
        email="halina.k@example.com",
        contact_by_phone=True,
        contact_by_email=True,
        do_not_contact=True,
        interpreter_needed=True,
        interpreter_language="Polish",
    )
    draft = new_draft(
        people,
        patient=patient,
        bp_systolic=150,
        bp_diastolic=92,
        bp_measured_on=datetime.date(2026, 11, 20),
        heart_rate_medication=True,
        medication_notes="Bisoprolol 5 mg daily",
        relevant_history="Left knee replacement in 2019",
        risk_tier="medium",
        preferred_facility=people.facility_x2,
    )
    run_action(people, draft, "submit")
    draft.refresh_from_db()
    return draft


def page_text(client, user, url) -> str:
    client.force_login(user)
    response = client.get(url)
    assert response.status_code == 200
    return unescape(response.content.decode())


def detail_url(referral) -> str:
    return reverse("referrals:detail", args=[referral.reference])


def accept_url(referral) -> str:
    return reverse("triage:action", args=[referral.reference, "accept"])


def expected(people) -> list[str]:
    return [text.format(screener=people.referrer_a.get_full_name()) for text in EXPECTED]


def test_finding_1_coordinator_sees_phone_bp_and_safety_screen(client, people, referral):
    html = page_text(client, people.coordinator_x, detail_url(referral))

    for text in expected(people):
        assert text in html, text
    assert "Clinical and contact details" in html
    # The safety screen: every exclusion with the referrer's answer.
    assert "Unstable angina" in html
    assert "Heart attack or stroke in the last 3 months" in html
    # The do-not-contact request is called out, not left in a row.
    assert "asked not to be contacted except about this referral" in html


def test_finding_1_the_record_is_on_the_triage_action_pages(client, people, referral):
    for action in ("accept", "decline", "request_info"):
        url = reverse("triage:action", args=[referral.reference, action])
        html = page_text(client, people.coordinator_x, url)
        for text in expected(people):
            assert text in html, (action, text)


def test_finding_1_accept_preselects_the_referrers_preferred_centre(client, people, referral):
    client.force_login(people.coordinator_x)

    response = client.get(accept_url(referral))

    assert response.context["form"]["facility"].value() == people.facility_x2.pk
    html = unescape(response.content.decode())
    assert (
        f'<option value="{people.facility_x2.pk}" selected>'
        "X Pool (the referrer's preferred centre)</option>"
    ) in html
    assert f'<option value="{people.facility_x.pk}">X Leisure Centre</option>' in html


def test_finding_1_the_instructor_at_the_referrals_facility_sees_the_record(
    client, people, referral
):
    client.force_login(people.instructor_x)
    assert client.get(detail_url(referral)).status_code == 404  # not placed at their centre yet

    run_action(people, referral, "accept")  # into X Leisure Centre, which instructor_x staffs

    html = page_text(client, people.instructor_x, detail_url(referral))
    for text in expected(people):
        assert text in html, text


def test_finding_1_the_referrer_sees_what_they_sent(client, people, referral):
    html = page_text(client, people.referrer_a, detail_url(referral))

    for text in expected(people):
        assert text in html, text


@pytest.mark.parametrize(
    "persona",
    ["coordinator_y", "instructor_y", "referrer_b", "commissioner", "admin_a", "admin_x"],
)
def test_finding_1_no_one_else_sees_the_record(client, people, referral, persona):
    run_action(people, referral, "accept")
    client.force_login(getattr(people, persona))

    for url in (detail_url(referral), reverse("triage:action", args=[referral.reference, "book"])):
        response = client.get(url)
        assert response.status_code in {403, 404}, (persona, url)
        assert b"07700 900456" not in response.content
        assert b"Bisoprolol" not in response.content


def test_finding_1_showing_the_record_is_audited(client, people, referral):
    client.force_login(people.coordinator_x)

    client.get(detail_url(referral))
    client.get(accept_url(referral))

    records = AccessRecord.objects.filter(user=people.coordinator_x).order_by("at", "id")
    assert [(r.kind, r.referral_ids, r.patient_ids) for r in records] == [
        (AccessKind.REFERRAL_PAGE, [referral.pk], [referral.patient_id]),
        (AccessKind.REFERRAL_PAGE, [referral.pk], [referral.patient_id]),
    ]


def test_finding_1_a_screen_with_an_exclusion_is_called_out(client, people, frozen_now):
    frozen_now(SCREENED_AT)
    draft = new_draft(people, exclusions_present=["unstable_angina"])
    assert draft.status == Status.DRAFT

    html = page_text(client, people.referrer_a, detail_url(draft))

    assert "The referrer said an exclusion applies." in html
    assert "Yes, applies" in html
