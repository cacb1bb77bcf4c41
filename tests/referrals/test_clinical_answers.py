"""Clinical answers are the GP's own (issue 11, finding 1): medication affecting heart rate and
the risk level start unanswered, a draft may leave them so, and a referral is not sent without
them. Priority keeps Routine as its default, and the page says so."""

import re
from html import unescape

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from referrals import services
from referrals.models import Referral, Status
from tests.builders import new_draft

MEDICATION_REQUIRED = "Select yes if the patient takes medication that affects heart rate"
RISK_REQUIRED = "Select the patient's risk level"


def unanswered_draft(people) -> Referral:
    draft = new_draft(people)
    Referral.objects.filter(pk=draft.pk).update(heart_rate_medication=None, risk_tier="")
    draft.refresh_from_db()
    return draft


def details_url(referral) -> str:
    return reverse("referrals:step", args=[referral.reference, "details"])


def checked(html: str, name: str) -> list[str]:
    """The values of the radios called `name` that are checked."""
    return re.findall(rf'name="{name}" value="(\w+)"[^>]* checked\b', html)


def test_finding_1_a_new_draft_has_no_clinical_answers_chosen(people):
    draft = services.referral_create_draft(
        by=people.referrer_a,
        organisation=people.practice_a,
        patient=new_draft(people).patient,
    )

    assert (draft.heart_rate_medication, draft.risk_tier) == (None, "")


def test_finding_1_the_details_step_preselects_no_medication_or_risk_answer(client, people):
    draft = unanswered_draft(people)
    client.force_login(people.referrer_a)

    html = unescape(client.get(details_url(draft)).content.decode())

    assert checked(html, "heart_rate_medication") == []
    assert checked(html, "risk_tier") == []
    # Priority may keep its default, as the page says it is one.
    assert checked(html, "priority") == ["routine"]
    assert "Routine is selected unless you change it" in html


def test_finding_1_continue_names_the_unanswered_questions(client, people):
    draft = unanswered_draft(people)
    client.force_login(people.referrer_a)

    response = client.post(
        details_url(draft),
        {
            "reasons": draft.reasons,
            "priority": "routine",
            "version": draft.version,
            "continue": "1",
        },
    )

    assert response.status_code == 200
    html = unescape(response.content.decode())
    assert "There is a problem" in html
    assert f'<a href="#id_heart_rate_medication_0">{MEDICATION_REQUIRED}</a>' in html
    assert f'<a href="#id_risk_tier_0">{RISK_REQUIRED}</a>' in html
    assert Referral.objects.get(pk=draft.pk).version == draft.version


def test_finding_1_save_as_draft_may_leave_them_unanswered(client, people):
    draft = new_draft(people)
    client.force_login(people.referrer_a)

    response = client.post(
        details_url(draft),
        {"reasons": draft.reasons, "version": draft.version, "save_draft": "1"},
    )

    assert response.status_code == 302
    saved = Referral.objects.get(pk=draft.pk)
    assert (saved.heart_rate_medication, saved.risk_tier, saved.priority) == (None, "", "routine")


def test_finding_1_the_answers_given_are_saved_and_shown_again(client, people):
    draft = unanswered_draft(people)
    client.force_login(people.referrer_a)

    client.post(
        details_url(draft),
        {
            "reasons": draft.reasons,
            "heart_rate_medication": "yes",
            "risk_tier": "high",
            "priority": "urgent",
            "version": draft.version,
            "continue": "1",
        },
    )

    saved = Referral.objects.get(pk=draft.pk)
    assert (saved.heart_rate_medication, saved.risk_tier, saved.priority) == (
        True,
        "high",
        "urgent",
    )
    html = unescape(client.get(details_url(saved)).content.decode())
    assert checked(html, "heart_rate_medication") == ["yes"]
    assert checked(html, "risk_tier") == ["high"]


def test_finding_1_the_submission_check_refuses_a_referral_without_them(people):
    draft = unanswered_draft(people)

    with pytest.raises(ValidationError) as refused:
        services.referral_submit(referral=draft, by=people.referrer_a)

    errors = refused.value.message_dict
    assert errors["heart_rate_medication"] == [MEDICATION_REQUIRED]
    assert errors["risk_tier"] == [RISK_REQUIRED]
    assert Referral.objects.get(pk=draft.pk).status == Status.DRAFT


@pytest.mark.parametrize("answer", [True, False])
def test_either_medication_answer_may_be_sent(people, answer):
    draft = new_draft(people, heart_rate_medication=answer)

    services.referral_submit(referral=draft, by=people.referrer_a)

    assert Referral.objects.get(pk=draft.pk).status == Status.SUBMITTED


def test_finding_1_check_answers_shows_them_unanswered_and_sends_the_gp_to_them(client, people):
    draft = unanswered_draft(people)
    client.force_login(people.referrer_a)
    check = reverse("referrals:check", args=[draft.reference])

    page = client.get(check)
    rows = dict(
        next(s for s in page.context["sections"] if s["title"].startswith("Reason"))["rows"]
    )
    assert (rows["Heart rate medication"], rows["Risk level"]) == ("Not answered", "Not answered")

    response = client.post(check, {"version": draft.version})

    html = unescape(response.content.decode())
    back = f'<a href="{details_url(draft)}?return=check">'
    assert back + MEDICATION_REQUIRED in html
    assert back + RISK_REQUIRED in html
    assert Referral.objects.get(pk=draft.pk).status == Status.DRAFT


def test_finding_1_the_referral_page_says_they_are_not_answered(client, people):
    draft = unanswered_draft(people)
    client.force_login(people.referrer_a)

    record = client.get(reverse("referrals:detail", args=[draft.reference]))

    clinical = next(s for s in record.context["clinical_record"] if s.title == "Clinical details")
    rows = dict(clinical.rows)
    assert rows["Medication affecting heart rate"] == "Not answered"
    assert rows["Risk level"] == "Not answered"
