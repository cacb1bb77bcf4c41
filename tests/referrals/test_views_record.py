"""Issue 11, finding 11 (the referral page's parts): "Continue the referral" reopens the step the
draft was left at; a draft's page does not say it was referred or that consent was refused; the
GP's answer reads as an answer on the timeline; "Referred by" names the clinician; the outcomes
table scrolls in its own box rather than the page sideways."""

from html import unescape

import pytest
from django.urls import reverse

from referrals.models import Referral, Status
from tests.builders import new_draft, referral_in_state, run_action
from tests.factories import PatientFactory


def step_url(referral: Referral, step: str) -> str:
    return reverse("referrals:step", args=[referral.reference, step])


def detail_url(referral: Referral) -> str:
    return reverse("referrals:detail", args=[referral.reference])


def continue_link(client, referral: Referral) -> str:
    response = client.get(detail_url(referral))
    assert response.status_code == 200
    return response.context["resume_url"]


# --- "Continue the referral" -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("step", "data"),
    [
        ("details", {"bp_systolic": "150", "bp_diastolic": "90"}),
        ("safety", {}),
        ("programme", {}),
        ("consent", {"consent_referral": "on"}),
    ],
)
def test_finding_11_continue_the_referral_reopens_the_saved_step(client, people, step, data):
    client.force_login(people.referrer_a)
    referral = new_draft(people, reasons=[])
    response = client.post(
        step_url(referral, step), {**data, "version": referral.version, "save_draft": "1"}
    )
    assert response.url == detail_url(referral)

    assert continue_link(client, referral) == step_url(referral, step)
    html = unescape(client.get(detail_url(referral)).content.decode())
    assert f'<a href="{step_url(referral, step)}">Continue the referral</a>' in html


def test_finding_11_continue_the_referral_reopens_the_step_the_referrer_was_sent_on_to(
    client, people
):
    client.force_login(people.referrer_a)
    referral = new_draft(people)
    client.post(
        step_url(referral, "safety"),
        {"exclusions": ["none"], "version": referral.version, "continue": "1"},
    )
    assert continue_link(client, referral) == step_url(referral, "programme")

    referral.refresh_from_db()
    client.post(
        step_url(referral, "consent"),
        {"consent_referral": "on", "version": referral.version, "continue": "1"},
    )
    assert continue_link(client, referral) == reverse("referrals:check", args=[referral.reference])


def test_finding_11_a_draft_saved_at_the_patient_step_continues_at_the_next_step(client, people):
    """The patient step is only ever saved complete, so there is nothing left to do on it."""
    client.force_login(people.referrer_a)
    referral = new_draft(people, patient=PatientFactory(organisation=people.practice_a))
    form = {
        "given_name": "Ada",
        "family_name": "Lovelace",
        "date_of_birth_0": "10",
        "date_of_birth_1": "12",
        "date_of_birth_2": "1960",
        "sex": "F",
        "postcode": "LS6 2AB",
        "phone": "07700 900123",
        "contact_methods": ["phone"],
        "interpreter_needed": "no",
        "ethnicity": "Z",
        "version": referral.version,
        "save_draft": "1",
    }

    response = client.post(step_url(referral, "patient"), form)

    assert response.url == detail_url(referral)
    assert continue_link(client, referral) == step_url(referral, "details")


def test_finding_11_a_draft_from_before_continues_at_its_first_unfinished_step(client, people):
    client.force_login(people.referrer_a)
    no_reasons = new_draft(people, reasons=[])
    no_programme = new_draft(people, programme=None, preferred_facility=None)
    complete = new_draft(people)
    for draft in (no_reasons, no_programme, complete):
        assert draft.draft_step == ""

    assert continue_link(client, no_reasons) == step_url(no_reasons, "details")
    assert continue_link(client, no_programme) == step_url(no_programme, "programme")
    assert continue_link(client, complete) == reverse("referrals:check", args=[complete.reference])


# --- A draft's page ----------------------------------------------------------------------------


def test_finding_11_a_drafts_page_does_not_say_referred_on_or_that_consent_was_refused(
    client, people
):
    draft = new_draft(
        people, consent_referral=False, consent_share_outcomes=False, consent_research=False
    )
    client.force_login(people.referrer_a)

    html = unescape(client.get(detail_url(draft)).content.decode())

    assert "Referred on" not in html
    assert "Started on" in html
    assert "not sent yet" in html
    assert "Progress shared with you" not in html
    assert "did not consent" not in html
    consent = html[html.index('id="consent"') : html.index(">Timeline<")]
    assert "Not given" not in consent
    assert consent.count("Not recorded yet") == 3


def test_finding_11_a_drafts_consent_already_given_says_so(client, people):
    draft = new_draft(people)  # the referrer recorded all three on the draft
    client.force_login(people.referrer_a)

    html = unescape(client.get(detail_url(draft)).content.decode())

    assert html.count("(sent with the referral)") == 3
    assert "Not recorded yet" not in html


def test_finding_11_a_sent_referrals_page_says_when_it_was_referred(client, people):
    referral = referral_in_state(people, Status.SUBMITTED)
    client.force_login(people.referrer_a)

    html = unescape(client.get(detail_url(referral)).content.decode())

    assert "Referred on" in html
    assert "Progress shared with you" in html
    assert "Started on" not in html


# --- The timeline ------------------------------------------------------------------------------


def test_finding_11_the_gps_answer_shows_as_the_answer_not_a_second_submitted(client, people):
    referral = referral_in_state(people, Status.INFO_REQUESTED)
    run_action(people, referral, "answer_info")
    client.force_login(people.coordinator_x)

    response = client.get(detail_url(referral))

    headings = [event.heading for event in response.context["timeline"]]
    assert headings == [
        "Draft started",
        "Submitted",
        "Information requested",
        "Referrer answered the question",
    ]
    html = unescape(response.content.decode())
    assert "Six months, stable." in html


# --- Referred by -------------------------------------------------------------------------------


def test_finding_11_referred_by_shows_the_clinician(client, people):
    referral = referral_in_state(people, Status.SUBMITTED)
    clinician = people.referrer_a.get_full_name()
    client.force_login(people.coordinator_x)

    detail = unescape(client.get(detail_url(referral)).content.decode())
    home = unescape(client.get(reverse("home")).content.decode())

    assert f"{clinician} (GMC 7012345)<br>" in detail
    assert f"Referred by </span><span>{clinician}<span" in home


# --- At 390 px ---------------------------------------------------------------------------------


def test_the_outcomes_table_is_in_the_main_column_and_stacks_on_a_phone(client, people):
    from outcomes.services import assessment_record

    referral = referral_in_state(people, Status.ACTIVE)
    assessment_record(
        referral=referral,
        by=people.instructor_x,
        instrument="six_minute_walk",
        timepoint="baseline",
        answers={"distance_m": 300},
    )
    client.force_login(people.instructor_x)

    html = client.get(detail_url(referral)).content.decode()

    # Five columns do not fit the side column: the table sits in the main one, as an NHS
    # responsive table (one block per measure on a phone) rather than in a scrolling box.
    main, side = (
        html.index("nhsuk-grid-column-two-thirds"),
        html.index("nhsuk-grid-column-one-third"),
    )
    section = html.index('id="outcome-summary"')
    assert main < section < side
    table = html.index('<table class="nhsuk-table-responsive">', section)
    assert html.index("Change from baseline for each outcome measure") > table
    assert "portal-table-scroll" not in html[section : html.index("</section>", section)]
    assert '<span class="nhsuk-table-responsive__heading" aria-hidden="true">Change </span>' in html
