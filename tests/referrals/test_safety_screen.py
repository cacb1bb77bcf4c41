"""The referral form's safety screen agrees with the blood pressure given (issue 11, finding 3):
a BP of 180/100 or more ticks its exclusion by itself, and "None of these apply" cannot be chosen
with it or with any other exclusion. The draft service keeps an answered screen true to a BP
changed afterwards: raised to the limit, it ticks the exclusion; lowered below, the answer is set
aside to be given again."""

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from clinical.conditions import Exclusion
from referrals import services
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
    assert (saved.version, saved.exclusions_present) == (draft.version, [BP])


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


# --- A BP changed after the screen was answered (issue 11, finding 3) ---------------------------


def change_bp(people, draft, systolic, diastolic) -> Referral:
    return services.referral_update_draft(
        referral=draft, by=people.referrer_a, bp_systolic=systolic, bp_diastolic=diastolic
    )


@pytest.mark.parametrize(
    ("answered", "expected"),
    [([], [BP]), ([Exclusion.UNSTABLE_ANGINA], [Exclusion.UNSTABLE_ANGINA, BP])],
)
def test_finding_3_raising_the_bp_to_185_over_105_ticks_the_bp_exclusion_itself(
    people, answered, expected
):
    draft = new_draft(people, bp_systolic=150, bp_diastolic=90, exclusions_present=answered)
    screened = (draft.safety_screened_at, draft.safety_screened_by)

    change_bp(people, draft, 185, 105)

    saved = Referral.objects.get(pk=draft.pk)
    assert saved.exclusions_present == expected
    # The other answers still stand, and so does who gave them and when.
    assert (saved.safety_screened_at, saved.safety_screened_by) == screened


@pytest.mark.parametrize("bp", [(179, 99), (None, None)])
def test_finding_3_lowering_the_bp_sets_the_answered_screen_aside_without_unticking(people, bp):
    draft = new_draft(people, bp_systolic=185, bp_diastolic=105, exclusions_present=[])
    assert draft.exclusions_present == [BP]

    change_bp(people, draft, *bp)

    saved = Referral.objects.get(pk=draft.pk)
    assert (saved.safety_screened_at, saved.safety_screened_by) == (None, None)
    assert saved.exclusions_present == [BP]
    with pytest.raises(ValidationError) as refused:
        services.referral_submit(referral=saved, by=people.referrer_a)
    assert refused.value.message_dict["exclusions_present"] == [
        "Answer the safety screen again: the blood pressure changed after it was answered"
    ]


@pytest.mark.parametrize(("before", "after"), [((150, 90), (170, 95)), ((185, 105), (200, 110))])
def test_a_bp_change_on_one_side_of_the_limit_leaves_the_answered_screen(people, before, after):
    draft = new_draft(people, bp_systolic=before[0], bp_diastolic=before[1])
    answer = (draft.exclusions_present, draft.safety_screened_at)

    change_bp(people, draft, *after)

    saved = Referral.objects.get(pk=draft.pk)
    assert (saved.exclusions_present, saved.safety_screened_at) == answer


def test_a_high_bp_does_not_answer_a_screen_nobody_answered(people):
    draft = new_draft(people, bp_systolic=150, bp_diastolic=90)
    Referral.objects.filter(pk=draft.pk).update(safety_screened_at=None, safety_screened_by=None)
    draft.refresh_from_db()

    change_bp(people, draft, 185, 105)

    saved = Referral.objects.get(pk=draft.pk)
    assert (saved.exclusions_present, saved.safety_screened_at) == ([], None)


def test_answering_the_screen_with_the_lower_bp_in_one_change_stands(people):
    draft = new_draft(people, bp_systolic=185, bp_diastolic=105)

    services.referral_update_draft(
        referral=draft,
        by=people.referrer_a,
        bp_systolic=150,
        bp_diastolic=90,
        exclusions_present=[],
    )

    saved = Referral.objects.get(pk=draft.pk)
    assert saved.exclusions_present == []
    assert saved.safety_screened_at is not None


def test_finding_3_a_draft_started_with_a_high_bp_and_none_apply_has_the_bp_exclusion(people):
    draft = new_draft(people, bp_systolic=190, bp_diastolic=95, exclusions_present=[])

    assert Referral.objects.get(pk=draft.pk).exclusions_present == [BP]


def details(draft, systolic, diastolic, **extra) -> dict:
    return {
        "reasons": draft.reasons,
        "bp_systolic": str(systolic),
        "bp_diastolic": str(diastolic),
        "heart_rate_medication": "no",
        "risk_tier": "low",
        "priority": "routine",
        "version": draft.version,
        **extra,
    }


def test_finding_3_saving_a_bp_of_185_over_105_as_a_draft_shows_the_bp_exclusion(client, people):
    draft = new_draft(people, bp_systolic=150, bp_diastolic=90, exclusions_present=[])
    client.force_login(people.referrer_a)

    client.post(
        reverse("referrals:step", args=[draft.reference, "details"]),
        details(draft, 185, 105, save_draft="1"),
    )

    record = client.get(reverse("referrals:detail", args=[draft.reference]))
    safety = next(s for s in record.context["clinical_record"] if s.title == "Safety screen")
    assert (BP.label, "Yes, applies") in safety.rows
    check = client.get(reverse("referrals:check", args=[draft.reference]))
    html = check.content.decode()
    assert "185/105 mmHg" in html
    assert BP.label in html
    assert "None of these apply" not in html


def test_finding_3_lowering_the_bp_sends_the_gp_back_to_the_safety_screen(client, people):
    draft = new_draft(people, bp_systolic=185, bp_diastolic=105, exclusions_present=[])
    client.force_login(people.referrer_a)
    check = reverse("referrals:check", args=[draft.reference])
    safety = reverse("referrals:step", args=[draft.reference, "safety"])

    response = client.post(
        reverse("referrals:step", args=[draft.reference, "details"]),
        details(draft, 179, 99, **{"continue": "1", "return": "check"}),
    )
    assert response.url == check

    response = client.get(check, follow=True)
    assert response.redirect_chain == [(safety + "?return=check", 302)]
    html = response.content.decode()
    assert "Answer the safety screen again before sending the referral." in html
    assert "changed to 179/99 mmHg after this screen was answered" in html
    # The earlier answer is shown for review, not unticked for the GP.
    assert response.context["form"].initial["exclusions"] == [BP]
    record = client.get(reverse("referrals:detail", args=[draft.reference])).content.decode()
    assert "the referrer must answer it again" in record

    saved = Referral.objects.get(pk=draft.pk)
    response = client.post(
        safety + "?return=check",
        {"exclusions": [NONE_APPLY], "version": saved.version, "return": "check", "continue": "1"},
    )
    assert response.url == check
    html = client.get(check).content.decode()
    assert "None of these apply" in html
    assert "179/99 mmHg" in html


def test_check_answers_shows_the_bp_exclusion_on_a_draft_saved_before_the_fix(client, people):
    draft = new_draft(people, bp_systolic=150, bp_diastolic=90, exclusions_present=[])
    Referral.objects.filter(pk=draft.pk).update(bp_systolic=185, bp_diastolic=105)
    client.force_login(people.referrer_a)

    html = client.get(reverse("referrals:check", args=[draft.reference])).content.decode()

    assert BP.label in html
    assert "None of these apply" not in html


def test_check_answers_shows_a_screen_never_answered_without_sending_the_gp_away(client, people):
    draft = new_draft(people)
    Referral.objects.filter(pk=draft.pk).update(safety_screened_at=None, safety_screened_by=None)
    client.force_login(people.referrer_a)

    response = client.get(reverse("referrals:check", args=[draft.reference]))

    assert response.status_code == 200
    rows = dict(
        next(s for s in response.context["sections"] if s["title"] == "Safety screen")["rows"]
    )
    assert rows["Exclusions"] == "Not answered"
