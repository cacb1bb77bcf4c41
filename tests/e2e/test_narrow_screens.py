"""Pages with wide tables read on a 390 px phone without sideways scrolling, and pass axe there:
the programme report (coordinator and commissioner), the instructor's outcomes due, and the
outcome schedule editor, whose checkboxes each keep a visible label when the grid stacks."""

import datetime

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from outcomes.instruments import score
from outcomes.models import Assessment
from referrals.models import Session, Status
from tests.builders import referral_in_state
from tests.e2e.conftest import assert_accessible, screenshot, sign_in
from tests.factories import PatientFactory

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(120)]

PHONE = {"width": 390, "height": 844}
GPPAQ = {
    "occupation": "sitting",
    "exercise": "none",
    "cycling": "none",
    "walking": "none",
    "housework": "none",
    "gardening": "none",
    "walking_pace": "steady",
}
MEASURES = {"weight_kg": 90.0, "height_cm": 175.0, "bp_systolic": 140, "bp_diastolic": 85}


def page_width(page) -> int:
    return page.evaluate("() => document.documentElement.scrollWidth")


def on_a_phone(page, name: str) -> None:
    page.set_viewport_size(PHONE)
    page.evaluate("() => new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)))")
    assert page_width(page) <= PHONE["width"], f"{name} is {page_width(page)}px wide at 390px"
    assert_accessible(page, f"{name}-390")
    screenshot(page, name)


def measured(referral, instrument, timepoint, answers):
    Assessment.objects.create(
        referral=referral,
        instrument=instrument,
        timepoint=timepoint,
        answers=answers,
        scores=score(instrument, answers),
    )


@pytest.mark.parametrize("persona", ["coordinator_x", "commissioner"])
def test_the_report_fits_a_phone(page, people, persona):
    for _ in range(2):
        referral = referral_in_state(people, Status.COMPLETED)
        for timepoint, exercise, weight in (("baseline", "none", 90.0), ("exit", "1to3", 86.5)):
            measured(referral, "gppaq", timepoint, {**GPPAQ, "exercise": exercise})
            measured(referral, "physical_measures", timepoint, {**MEASURES, "weight_kg": weight})

    sign_in(page, getattr(people, persona))
    page.goto("/reports/")
    outcomes = page.get_by_role("table", name="Mean change from baseline to exit")
    expect(outcomes).to_contain_text("Physical Activity Index")
    expect(outcomes).to_contain_text("Weight (kg)")
    expect(outcomes).not_to_contain_text("Height")
    on_a_phone(page, f"report-phone-{persona}")


def test_outcomes_due_fits_a_phone(page, people, frozen_now):
    people.programme_x.outcome_schedule = [
        {"instrument": "phq9", "timepoints": ["baseline", "mid", "exit", "followup_3m"]},
        {"instrument": "six_minute_walk", "timepoints": ["baseline", "exit"]},
    ]
    people.programme_x.save()
    now = timezone.now()
    # Completed four and a half months ago: its 3-month follow-up is overdue.
    frozen_now(now - datetime.timedelta(days=137))
    long_name = PatientFactory(
        organisation=people.practice_a,
        given_name="Bartholomew-Alexander",
        family_name="Featherstonehaugh-Montgomery",
    )
    completed = referral_in_state(people, Status.COMPLETED, patient=long_name)
    # Booked two months ago: the first session's baseline and the mid-programme are overdue.
    frozen_now(now - datetime.timedelta(days=60))
    booked = referral_in_state(people, Status.BOOKED, patient=long_name)
    frozen_now(now)
    first = booked.sessions.order_by("scheduled_at").first()
    Session.objects.filter(pk=first.pk).update(scheduled_at=now - datetime.timedelta(days=55))

    sign_in(page, people.instructor_x)
    page.goto("/outcomes/due/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Outcome measures due")
    main = page.locator("main")
    expect(main).to_contain_text(booked.reference)
    expect(main).to_contain_text(completed.reference)
    expect(main).to_contain_text("3-month follow-up")
    expect(main).to_contain_text("Mid-programme")
    assert_accessible(page, "outcomes-due")
    on_a_phone(page, "outcomes-due")
    for reference in (booked.reference, completed.reference):
        status = page.get_by_role("row").filter(has_text=reference).locator("strong.nhsuk-tag")
        expect(status.first).to_have_text("Overdue")
        status.first.scroll_into_view_if_needed()
        expect(status.first).to_be_in_viewport()  # not clipped off the right-hand side


def test_the_schedule_editor_keeps_a_visible_label_on_every_checkbox_on_a_phone(page, people):
    programme = people.programme_x
    sign_in(page, people.admin_x)
    page.goto(f"/manage/{people.operator_x.public_id}/programmes/{programme.public_id}/outcomes/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Outcome measures")
    assert_accessible(page, "schedule-editor")
    on_a_phone(page, "schedule-editor")

    boxes = page.locator("input[type=checkbox][name=cells]")
    assert boxes.count() > 0
    unlabelled = page.evaluate(
        """() => [...document.querySelectorAll('input[type=checkbox][name=cells]')]
            .filter(box => {
              const label = document.querySelector(`label[for="${box.id}"]`);
              const shown = [...label.querySelectorAll('*'), label].some(el => {
                const style = getComputedStyle(el);
                const box = el.getBoundingClientRect();
                return el.textContent.trim() && style.visibility !== 'hidden'
                  && box.width > 1 && box.height > 1 && style.clipPath === 'none'
                  && el.childNodes.length && [...el.childNodes].some(
                    n => n.nodeType === 3 && n.textContent.trim());
              });
              return !shown;
            }).map(box => box.id)"""
    )
    assert unlabelled == []
    # The labels say which timepoint: the first row's read as the columns do on a computer.
    first = page.locator("label[for=id_cells_0]")
    expect(first).to_contain_text("Baseline")
    expect(first).to_be_visible()
    page.locator("label[for=id_cells_0]").click()
    expect(page.locator("#id_cells_0")).to_be_checked()
