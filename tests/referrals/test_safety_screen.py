"""The referral form's safety screen agrees with the blood pressure given (issue 11, finding 3):
a BP of 180/100 or more ticks its exclusion by itself, and "None of these apply" cannot be chosen
with it or with any other exclusion."""

import pytest
from django.urls import reverse

from clinical.conditions import Exclusion
from referrals.forms import NONE_APPLY, SafetyScreenForm
from referrals.models import Referral
from tests.builders import new_draft

BP = Exclusion.RESTING_BP_180_100


def screen(exclusions, bp=(185, 105)) -> SafetyScreenForm:
    return SafetyScreenForm({"exclusions": exclusions}, bp=bp)


def test_finding_3_none_apply_is_refused_after_a_bp_of_185_over_105():
    form = screen([NONE_APPLY])

    assert not form.is_valid()
    (message,) = form.errors["exclusions"]
    assert "185/105 mmHg" in message
    assert "'None of these apply' cannot be selected" in message


@pytest.mark.parametrize("bp", [(180, 90), (160, 100)])
def test_finding_3_a_bp_at_either_limit_ticks_the_bp_exclusion_itself(bp):
    form = screen([Exclusion.UNSTABLE_ANGINA], bp=bp)

    assert form.is_valid()
    assert form.exclusions_present() == [Exclusion.UNSTABLE_ANGINA, BP]


def test_finding_3_the_screen_opens_with_the_bp_exclusion_ticked():
    form = SafetyScreenForm(initial={"exclusions": [NONE_APPLY]}, bp=(185, 105))

    assert form.initial["exclusions"] == [BP]
    assert "185/105 mmHg" in form.fields["exclusions"].help_text


def test_finding_3_none_apply_with_another_exclusion_is_a_form_error():
    form = screen([NONE_APPLY, Exclusion.ACUTE_ILLNESS], bp=(130, 80))

    assert not form.is_valid()
    assert form.errors["exclusions"] == [
        "Select 'None of these apply' only when none of them apply"
    ]


@pytest.mark.parametrize("bp", [(179, 99), (None, None)])
def test_a_bp_under_the_limits_or_none_leaves_the_answers_alone(bp):
    form = screen([NONE_APPLY], bp=bp)

    assert form.is_valid()
    assert form.exclusions_present() == []


def test_finding_3_the_safety_step_refuses_none_apply_after_a_high_bp(client, people):
    draft = new_draft(people, bp_systolic=185, bp_diastolic=105)
    url = reverse("referrals:step", args=[draft.reference, "safety"])
    client.force_login(people.referrer_a)

    page = client.get(url)
    assert page.context["form"].initial["exclusions"] == [BP]

    response = client.post(
        url, {"exclusions": [NONE_APPLY], "version": draft.version, "continue": "1"}
    )

    assert response.status_code == 200
    assert "cannot be selected" in response.content.decode()
    saved = Referral.objects.get(pk=draft.pk)
    assert (saved.version, saved.exclusions_present) == (draft.version, [])


def test_the_safety_step_saves_the_bp_exclusion_with_the_others(client, people):
    draft = new_draft(people, bp_systolic=200, bp_diastolic=115, exclusions_present=[])
    client.force_login(people.referrer_a)

    response = client.post(
        reverse("referrals:step", args=[draft.reference, "safety"]),
        {"exclusions": [Exclusion.ACUTE_ILLNESS], "version": draft.version, "continue": "1"},
    )

    assert response.status_code == 302
    saved = Referral.objects.get(pk=draft.pk)
    assert saved.exclusions_present == [Exclusion.ACUTE_ILLNESS, BP]
