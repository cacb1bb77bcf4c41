"""Outcome measures in a real browser: an instructor records a PHQ-9 whose question 9 raises the
safety alert, then the progress page charts the measures. axe-core on each page; screenshots."""

import pytest
from playwright.sync_api import expect

from outcomes.services import assessment_record
from referrals.models import Status
from tests.builders import referral_in_state
from tests.e2e.conftest import assert_accessible, screenshot, sign_in
from tests.outcomes.helpers import SCHEDULE

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(120)]


def test_instructor_records_phq9_sees_safety_guidance_and_the_charts(page, people):
    people.programme_x.outcome_schedule = SCHEDULE
    people.programme_x.save()
    referral = referral_in_state(people, Status.ACTIVE)
    for timepoint, distance in (("baseline", 300), ("exit", 380)):
        assessment_record(
            referral=referral,
            instrument="six_minute_walk",
            timepoint=timepoint,
            answers={"distance_m": distance},
            by=people.instructor_x,
        )

    sign_in(page, people.instructor_x)
    page.goto(f"/outcomes/{referral.reference}/record/phq9/baseline/")
    expect(page.get_by_role("heading", level=1)).to_contain_text("Patient Health Questionnaire-9")
    assert_accessible(page, "outcomes-record-phq9")
    # "Several days" to questions 1 and 9, "Not at all" to the rest.
    for n in range(1, 10):
        page.locator(f"input[name=q{n}][value='{1 if n in (1, 9) else 0}']").check()
    page.get_by_role("button", name="Save answers").click()

    expect(page.locator(".nhsuk-warning-callout")).to_contain_text("Safety alert")
    assert_accessible(page, "outcomes-safety-alert")
    screenshot(page, "outcomes-safety-alert")

    page.get_by_role("link", name="Continue to progress").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Progress")
    canvases = page.locator("canvas[role='img']")
    expect(canvases).to_have_count(2)
    # Chart.js has drawn: the canvas has a rendered size.
    page.wait_for_function(
        "() => [...document.querySelectorAll('canvas[role=img]')]"
        ".every(c => window.Chart && window.Chart.getChart(c))"
    )
    expect(page.get_by_role("table").filter(has_text="6MWT by timepoint")).to_contain_text("380")
    assert_accessible(page, "outcomes-progress")
    screenshot(page, "outcomes-progress")
