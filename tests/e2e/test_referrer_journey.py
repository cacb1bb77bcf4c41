"""The referrer's journey in a real browser (issue 3): every page checked with axe-core, the four
main pages photographed at 1280px and 390px."""

import pytest
from playwright.sync_api import expect

from referrals.models import Patient, Referral, Status
from tests.builders import new_draft
from tests.e2e.conftest import answer_clinical_questions, assert_accessible, screenshot, sign_in

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(120)]


def fill_patient(page, *, nhs_number="", systolic=None):
    page.get_by_label("NHS number").fill(nhs_number)
    page.get_by_label("First name").fill("Ada")
    page.get_by_label("Last name").fill("Lovelace")
    page.get_by_label("Day").fill("10")
    page.get_by_label("Month").fill("12")
    page.get_by_label("Year").fill("1960")
    page.get_by_label("Female").check()
    page.get_by_label("Postcode").fill("ls6 2ab")
    page.get_by_label("Phone number").fill("07700 900123")


def continue_(page):
    page.get_by_role("button", name="Save and continue").click()


def test_referral_with_a_fixed_mistake_is_reviewed_submitted_and_listed(page, people):
    sign_in(page, people.referrer_a)
    page.goto("/referrals/")
    assert_accessible(page, "dashboard-empty")
    page.get_by_role("button", name="Make a referral").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Patient details")
    assert_accessible(page, "new-referral")
    screenshot(page, "new-referral")

    # A mistyped NHS number: the error summary links to the field, and nothing is lost.
    fill_patient(page, nhs_number="999 000 0019")
    continue_(page)
    summary = page.locator(".nhsuk-error-summary")
    expect(summary).to_be_focused()
    expect(summary).to_contain_text("NHS number is not valid")
    expect(page.get_by_label("Last name")).to_have_value("Lovelace")
    assert_accessible(page, "new-referral-error")
    screenshot(page, "new-referral-error")
    summary.get_by_role("link", name="NHS number is not valid").click()
    expect(page.get_by_label("NHS number")).to_be_focused()
    assert not Patient.objects.exists()

    page.get_by_label("NHS number").fill("999 000 0018")
    continue_(page)

    expect(page.get_by_role("heading", level=1)).to_have_text(
        "Reason for referral and clinical details"
    )
    page.get_by_label("Filter the list of conditions").fill("hyper")
    expect(page.get_by_label("Obesity")).to_be_hidden()
    page.get_by_label("Hypertension", exact=True).check()
    page.get_by_label("Systolic (top number)").fill("142")
    page.get_by_label("Diastolic (bottom number)").fill("88")
    # Nothing clinical is chosen for the GP: continuing without these names them.
    continue_(page)
    expect(page.locator(".nhsuk-error-summary")).to_contain_text(
        "Select yes if the patient takes medication that affects heart rate"
    )
    expect(page.locator(".nhsuk-error-summary")).to_contain_text("Select the patient's risk level")
    answer_clinical_questions(page)
    assert_accessible(page, "details")
    continue_(page)

    expect(page.get_by_role("heading", level=1)).to_have_text("Safety screen")
    page.get_by_label("None of these apply").check()
    assert_accessible(page, "safety")
    continue_(page)

    expect(page.get_by_role("heading", level=1)).to_have_text("Programme and leisure centre")
    assert_accessible(page, "programme")
    page.get_by_label(f"{people.programme_x.name} at {people.facility_x.name}").check()
    continue_(page)

    expect(page.get_by_role("heading", level=1)).to_have_text("Consent")
    page.get_by_label("The patient agrees to be referred to the programme").check()
    page.get_by_label("The patient agrees that the leisure centre shares").check()
    assert_accessible(page, "consent")
    continue_(page)

    expect(page.get_by_role("heading", level=1)).to_have_text(
        "Check your answers before sending the referral"
    )
    expect(page.locator("main")).to_contain_text("999 000 0018")
    assert_accessible(page, "check-answers")
    screenshot(page, "check-answers")
    page.get_by_role("button", name="Send referral").click()

    expect(page.get_by_role("heading", level=1)).to_have_text("Referral sent")
    referral = Referral.objects.get()
    expect(page.locator(".nhsuk-panel")).to_contain_text(referral.reference)
    assert_accessible(page, "confirmation")

    page.get_by_role("link", name="Your referrals").first.click()
    row = page.get_by_role("row").filter(has_text=referral.reference)
    expect(row).to_contain_text("Submitted")
    assert_accessible(page, "dashboard")
    screenshot(page, "dashboard")

    row.get_by_role("link", name=referral.reference).click()
    expect(page.get_by_role("heading", level=1)).to_contain_text(referral.reference)
    expect(page.locator("main")).to_contain_text("Submitted")
    assert_accessible(page, "referral")
    screenshot(page, "referral")
    assert Referral.objects.get().status == Status.SUBMITTED


def test_an_excluded_patient_is_stopped_with_the_reason(page, people):
    referral = new_draft(people, programme=None, preferred_facility=None)
    sign_in(page, people.referrer_a)
    page.goto(f"/referrals/{referral.reference}/edit/safety/")
    page.get_by_label("Unstable angina").check()
    continue_(page)

    callout = page.locator(".nhsuk-warning-callout")
    expect(callout).to_contain_text("This patient cannot be referred")
    expect(callout).to_contain_text("Unstable angina excludes the patient")
    expect(page.get_by_role("button", name="Save and continue")).to_have_count(0)
    assert_accessible(page, "programme-excluded")
    screenshot(page, "programme-excluded")


def test_a_draft_is_saved_and_resumed(page, people):
    sign_in(page, people.referrer_a)
    page.goto("/referrals/new/")
    fill_patient(page)
    page.get_by_role("button", name="Save as draft").click()

    referral = Referral.objects.get()
    expect(page.locator(".nhsuk-notification-banner, .nhsuk-inset-text").first).to_contain_text(
        "saved"
    )
    assert_accessible(page, "draft-saved")

    page.goto("/referrals/?status=needs_action")
    page.get_by_role("link", name=referral.reference).click()
    page.get_by_role("link", name="Continue the referral").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(
        "Reason for referral and clinical details"
    )
    page.get_by_label("Hypertension", exact=True).check()
    page.get_by_role("button", name="Save as draft").click()
    referral.refresh_from_db()
    assert referral.status == Status.DRAFT
    assert referral.reasons == ["38341003"]
