"""Issue 9 item 1: patient details belong to the organisation that gave them.

The reproduction from the issue: a referrer at one practice posts "Make a referral" with the NHS
number of another practice's patient and a forged identity. On the old shared patient row this
rewrote what the other practice and its provider saw; now each organisation holds its own record.
"""

import pytest
from django.core.exceptions import PermissionDenied
from django.urls import reverse

from referrals import services
from referrals.models import Patient, Status
from tests.builders import referral_in_state
from tests.factories import PatientFactory

FORGED = {
    "given_name": "Forged",
    "family_name": "Identity",
    "date_of_birth_0": "1",
    "date_of_birth_1": "1",
    "date_of_birth_2": "1990",
    "sex": "M",
    "postcode": "LS1 1AA",
    "phone": "07700 900999",
    "email": "forged@example.com",
    "contact_methods": ["phone", "email"],
    "interpreter_needed": "no",
    "interpreter_language": "",
    "ethnicity": "Z",
    "continue": "1",
}


@pytest.fixture
def b_referral(people):
    """Practice B's submitted referral to operator X, for a patient with B's details."""
    patient = PatientFactory(
        organisation=people.practice_b,
        given_name="Beatrix",
        family_name="Original",
        phone="07700 900111",
        postcode="LS6 2AB",
    )
    referral = services.referral_create_draft(
        by=people.referrer_b,
        organisation=people.practice_b,
        patient=patient,
        reasons=["38341003"],
        heart_rate_medication=False,
        risk_tier="low",
        programme=people.programme_x,
        preferred_facility=people.facility_x,
        consent_referral=True,
        consent_share_outcomes=True,
        exclusions_present=[],
    )
    services.referral_submit(referral=referral, by=people.referrer_b)
    return referral


def page(client, user, url) -> str:
    client.force_login(user)
    response = client.get(url)
    assert response.status_code == 200
    return response.content.decode()


def find_patient(client, user, nhs_number: str) -> str:
    client.force_login(user)
    response = client.post(reverse("referrals:new"), {"nhs_number": nhs_number, "find": "1"})
    assert response.status_code == 200
    return response.content.decode()


def test_another_practice_cannot_overwrite_the_patient(client, people, b_referral):
    nhs_number = b_referral.patient.nhs_number
    client.force_login(people.referrer_a)
    response = client.post(reverse("referrals:new"), {**FORGED, "nhs_number": nhs_number})
    assert response.status_code == 302

    detail = reverse("referrals:detail", args=[b_referral.reference])
    for user in (people.referrer_b, people.coordinator_x):
        html = page(client, user, detail)
        assert "Beatrix" in html
        assert "Original" in html
        assert "Forged" not in html
        assert "07700 900999" not in html
    assert "Forged" not in page(client, people.referrer_b, reverse("referrals:dashboard"))
    assert "Forged" not in page(client, people.coordinator_x, reverse("triage:worklist"))
    found = find_patient(client, people.referrer_b, nhs_number)
    assert "Beatrix" in found
    assert "Forged" not in found

    b_referral.patient.refresh_from_db()
    assert (b_referral.patient.given_name, b_referral.patient.phone) == ("Beatrix", "07700 900111")
    forged = Patient.objects.get(organisation=people.practice_a, nhs_number=nhs_number)
    assert forged.referrals.get().referring_organisation == people.practice_a


def test_a_practices_update_never_reaches_another_practices_find(client, people, b_referral):
    nhs_number = b_referral.patient.nhs_number
    client.force_login(people.referrer_a)
    client.post(reverse("referrals:new"), {**FORGED, "nhs_number": nhs_number})

    # Beech Grove (B) brings its record up to date on a new referral.
    client.force_login(people.referrer_b)
    client.post(
        reverse("referrals:new"),
        {**FORGED, "given_name": "Beatrix", "family_name": "Renamed", "nhs_number": nhs_number},
    )

    found = find_patient(client, people.referrer_a, nhs_number)
    assert "Forged" in found
    assert "Renamed" not in found


def test_find_patient_shows_nothing_from_another_organisation(client, people, b_referral):
    found = find_patient(client, people.referrer_a, b_referral.patient.nhs_number)
    assert "Beatrix" not in found
    assert "Original" not in found


def test_services_refuse_another_organisations_patient_record(people, b_referral):
    theirs = b_referral.patient
    with pytest.raises(PermissionDenied):
        services.referral_create_draft(
            by=people.referrer_a, organisation=people.practice_a, patient=theirs
        )
    with pytest.raises(PermissionDenied):
        services.patient_record_for_referral(
            by=people.referrer_a,
            organisation=people.practice_a,
            fields={"given_name": "Forged"},
            patient=theirs,
        )
    theirs.refresh_from_db()
    assert theirs.given_name == "Beatrix"


def test_nhs_number_links_one_person_across_organisations_for_counting(people, b_referral):
    nhs_number = b_referral.patient.nhs_number
    a_patient = PatientFactory(organisation=people.practice_a, nhs_number=nhs_number)
    referral_in_state(people, Status.SUBMITTED, patient=a_patient)

    referrals = b_referral.operator.referrals_received.all()
    assert referrals.count() == 2
    assert referrals.values("patient__nhs_number").distinct().count() == 1
