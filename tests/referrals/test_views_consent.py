"""The consent decision page and the consent section of the referral page, on both sides."""

import pytest
from django.urls import reverse

from referrals.models import ConsentMethod, ConsentPurpose, Referral, Status
from tests.builders import referral_in_state


def consent_url(referral) -> str:
    return reverse("referrals:consent", args=[referral.reference])


def detail(client, referral) -> str:
    return client.get(reverse("referrals:detail", args=[referral.reference])).content.decode()


@pytest.mark.parametrize("persona", ["referrer_a", "coordinator_x", "instructor_x"])
def test_both_sides_see_the_consent_state_and_may_record_a_decision(client, people, persona):
    referral = referral_in_state(people, Status.ACTIVE, consent_research=False)
    client.force_login(getattr(people, persona))

    html = detail(client, referral)

    assert "Consent history (3 decisions)" in html
    assert "Anonymised evaluation use" in html and "Not given" in html
    assert consent_url(referral) in html
    form = client.get(consent_url(referral)).content.decode()
    assert f"withdrawn:{ConsentPurpose.SHARE_PROGRESS}" in form
    assert f"given:{ConsentPurpose.EVALUATION}" in form
    assert f"given:{ConsentPurpose.SHARE_PROGRESS}" not in form


def test_recording_a_withdrawal_shows_on_both_sides(client, people):
    referral = referral_in_state(people, Status.BOOKED)
    client.force_login(people.coordinator_x)

    response = client.post(
        consent_url(referral),
        {
            "choice": f"withdrawn:{ConsentPurpose.SHARE_PROGRESS}",
            "method": ConsentMethod.TELEPHONE,
            "note": "Rang the centre on Monday",
            "version": referral.version,
        },
        follow=True,
    )

    html = response.content.decode()
    assert "no more progress updates will be sent" in html
    client.force_login(people.referrer_a)
    html = detail(client, referral)
    assert "Withdrawn" in html and "Rang the centre on Monday" in html
    assert "Consent history (4 decisions)" in html
    assert "did not consent to sharing progress" in html


def test_withdrawing_consent_to_the_referral_from_the_page_ends_it(client, people):
    referral = referral_in_state(people, Status.SUBMITTED)
    client.force_login(people.referrer_a)

    client.post(
        consent_url(referral),
        {
            "choice": f"withdrawn:{ConsentPurpose.REFERRAL}",
            "method": ConsentMethod.IN_PERSON,
            "version": referral.version,
        },
    )

    referral.refresh_from_db()
    assert referral.status == Status.CANCELLED
    assert "Patient withdrew consent to the referral" in detail(client, referral)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"method": ConsentMethod.TELEPHONE}, "Select what the patient has decided"),
        ({"choice": "withdrawn:share_progress"}, "Select how the patient told you"),
        ({"choice": "given:share_progress", "method": "telephone"}, "Select a valid choice"),
        (
            {"choice": "withdrawn:share_progress", "method": "telephone", "note": "x" * 501},
            "Enter 500 characters or fewer",
        ),
    ],
)
def test_bad_input_is_shown_on_the_form_and_changes_nothing(client, people, data, message):
    referral = referral_in_state(people, Status.BOOKED)
    client.force_login(people.referrer_a)

    response = client.post(consent_url(referral), {**data, "version": referral.version})

    assert response.status_code == 200
    assert message in response.content.decode()
    referral.refresh_from_db()
    assert referral.consent_share_outcomes is True
    assert referral.consents.count() == 3


def test_a_decision_recorded_meanwhile_is_refused_with_a_message(client, people):
    referral = referral_in_state(people, Status.BOOKED)
    seen = referral.version
    client.force_login(people.coordinator_x)
    client.post(
        consent_url(referral),
        {"choice": "withdrawn:evaluation", "method": "telephone", "version": seen},
    )
    client.force_login(people.referrer_a)

    response = client.post(
        consent_url(referral),
        {"choice": "withdrawn:share_progress", "method": "telephone", "version": seen},
        follow=True,
    )

    assert "changed since you opened it" in response.content.decode()
    assert Referral.objects.get(pk=referral.pk).consent_share_outcomes is True


@pytest.mark.parametrize("persona", ["referrer_b", "coordinator_y", "instructor_y"])
def test_another_organisation_cannot_see_or_record(client, people, persona):
    referral = referral_in_state(people, Status.ACTIVE)
    client.force_login(getattr(people, persona))

    assert client.get(consent_url(referral)).status_code == 404
    response = client.post(
        consent_url(referral),
        {"choice": "withdrawn:share_progress", "method": "telephone", "version": referral.version},
    )
    assert response.status_code == 404
    assert Referral.objects.get(pk=referral.pk).consents.count() == 3


def test_a_role_without_the_permission_is_refused(client, people):
    referral = referral_in_state(people, Status.ACTIVE)
    client.force_login(people.commissioner)

    # The commissioner cannot see the referral at all, so is not told it exists: 404, not 403.
    assert client.get(consent_url(referral)).status_code == 404
    response = client.post(
        consent_url(referral),
        {"choice": "withdrawn:share_progress", "method": "telephone", "version": referral.version},
    )
    assert response.status_code == 404
    assert Referral.objects.get(pk=referral.pk).consents.count() == 3


def test_a_draft_offers_no_consent_decision(client, people):
    referral = referral_in_state(people, Status.DRAFT)
    client.force_login(people.referrer_a)

    response = client.get(consent_url(referral))

    assert response.url == reverse("referrals:detail", args=[referral.reference])
    assert consent_url(referral) not in detail(client, referral)
