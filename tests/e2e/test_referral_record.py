"""Issue 11 in the browser: the coordinator reads the clinical record the GP gave (finding 1), the
referral page fits a 390 px phone (finding 11) and shows its whole outcomes table at 1280 px, and
the patient letter about the first session prints from the referral page (finding 7)."""

import pytest
from playwright.sync_api import expect

from outcomes.services import assessment_record
from referrals.models import Status
from tests.builders import referral_in_state
from tests.e2e.conftest import assert_accessible, screenshot, sign_in
from tests.factories import PatientFactory

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(120)]

PHONE = {"width": 390, "height": 844}


def scrolls_sideways(page) -> bool:
    return page.evaluate("() => document.documentElement.scrollWidth > window.innerWidth")


def test_finding_1_and_11_the_record_reads_on_a_phone_without_sideways_scrolling(page, people):
    patient = PatientFactory(
        organisation=people.practice_a,
        phone="07700 900789",
        interpreter_needed=True,
        interpreter_language="Tigrinya",
    )
    referral = referral_in_state(
        people,
        Status.ACTIVE,
        patient=patient,
        heart_rate_medication=True,
        relevant_history="Type 2 diabetes, diet controlled",
    )
    assessment_record(
        referral=referral,
        instrument="six_minute_walk",
        timepoint="baseline",
        answers={"distance_m": 310},
        by=people.instructor_x,
    )

    sign_in(page, people.coordinator_x)
    page.goto(f"/referrals/{referral.reference}/")
    record = page.get_by_role("region", name="Clinical and contact details")
    expect(record.get_by_text("07700 900789")).to_be_visible()
    expect(record.get_by_text("Yes: Tigrinya")).to_be_visible()
    expect(record.get_by_text("142/88 mmHg")).to_be_visible()
    expect(record.get_by_text("Type 2 diabetes, diet controlled")).to_be_visible()
    assert_accessible(page, "referral-clinical-record")

    page.set_viewport_size(PHONE)
    outcomes = page.get_by_role("table", name="Change from baseline for each outcome measure")
    expect(outcomes).to_be_visible()
    assert not scrolls_sideways(page)
    screenshot(page, "referral-clinical-record")


def test_the_outcomes_table_shows_every_column_at_1280_and_fits_a_phone(page, people):
    referral = referral_in_state(people, Status.ACTIVE)
    answers = {
        "six_minute_walk": ({"distance_m": 310}, {"distance_m": 395}),
        "physical_measures": (
            {"weight_kg": 92.4, "height_cm": 171.0, "bp_systolic": 148, "bp_diastolic": 92},
            {"weight_kg": 87.1, "height_cm": 171.0, "bp_systolic": 136, "bp_diastolic": 84},
        ),
        "gppaq": (
            dict.fromkeys(("exercise", "cycling", "walking", "housework", "gardening"), "none")
            | {"occupation": "sitting", "walking_pace": "steady"},
            dict.fromkeys(("cycling", "walking", "housework", "gardening"), "none")
            | {"occupation": "sitting", "walking_pace": "brisk", "exercise": "1to3"},
        ),
    }
    for instrument, (baseline, exit_) in answers.items():
        for timepoint, given in (("baseline", baseline), ("exit", exit_)):
            assessment_record(
                referral=referral,
                instrument=instrument,
                timepoint=timepoint,
                answers=given,
                by=people.instructor_x,
            )

    sign_in(page, people.coordinator_x)
    page.goto(f"/referrals/{referral.reference}/")
    table = page.get_by_role("table", name="Change from baseline for each outcome measure")
    table.scroll_into_view_if_needed()
    for heading in ("Measure", "Baseline", "Latest", "Change", "Meaningful change"):
        # Fully on screen: not cut off by the column or an inner scrolling box.
        header = table.get_by_role("columnheader", name=heading, exact=True)
        expect(header).to_be_in_viewport(ratio=1)
    expect(table).to_contain_text("Physical Activity Index")
    scroll_width, client_width = table.evaluate("t => [t.scrollWidth, t.clientWidth]")
    assert scroll_width == client_width
    # No box between the table and the page scrolls it (the side column's table did).
    scrolling = table.evaluate(
        """t => { const boxes = [];
            for (let el = t.parentElement; el && el !== document.body; el = el.parentElement) {
              const overflow = getComputedStyle(el).overflowX;
              if (overflow === 'auto' || overflow === 'scroll') boxes.push(el.className);
            }
            return boxes; }"""
    )
    assert scrolling == []
    assert not scrolls_sideways(page)
    assert_accessible(page, "referral-outcomes-1280")

    page.set_viewport_size(PHONE)
    expect(table).to_be_visible()
    assert not scrolls_sideways(page)
    assert_accessible(page, "referral-outcomes-390")
    screenshot(page, "referral-outcomes")


def test_finding_7_the_patient_letter_prints_from_the_referral_page(page, people):
    referral = referral_in_state(people, Status.BOOKED)

    sign_in(page, people.referrer_a)
    page.goto(f"/referrals/{referral.reference}/")
    page.get_by_role("link", name="Letter for the patient about their first session").click()

    expect(page.get_by_role("heading", level=1)).to_have_text("Your first exercise session")
    expect(page.get_by_text(referral.reference).first).to_be_visible()
    expect(page.get_by_role("button", name="Print this letter")).to_be_visible()
    assert_accessible(page, "patient-letter")
    page.set_viewport_size(PHONE)
    assert not scrolls_sideways(page)
    screenshot(page, "patient-letter")
