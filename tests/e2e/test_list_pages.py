"""The list pages' "Previous" and "Next" in a real browser (lists read without counting them):
the referrer's dashboard, paged after an htmx filter change, the worklist, the class list and the
caseload. axe-core on each, screenshots at 1280px and 390px."""

import re

import pytest
from playwright.sync_api import expect

from leisure import register
from leisure.views import triage
from referrals.models import Status
from referrals.views import dashboard
from tests.builders import new_draft, referral_in_state
from tests.e2e.conftest import assert_accessible, screenshot, sign_in
from tests.factories import ProgrammeClassFactory

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(120)]

NEXT = re.compile(r"^Next\W*Page 2$")
PREVIOUS = re.compile(r"^Previous\W*Page 1$")


def test_the_dashboard_pages_on_with_its_filters(page, people, monkeypatch):
    monkeypatch.setattr(dashboard, "PAGE_SIZE", 2)
    for _ in range(3):
        new_draft(people)
    referral_in_state(people, Status.SUBMITTED)
    sign_in(page, people.referrer_a)
    page.goto("/referrals/")
    page.get_by_text("Filter referrals").click()
    page.get_by_label("Status").select_option("draft")  # htmx swaps the results in
    expect(page).to_have_url(re.compile(r"status=draft"))
    expect(page.locator("#referral-results caption")).to_contain_text("Showing 1 to 2")

    page.get_by_role("link", name=NEXT).click()
    expect(page).to_have_url(re.compile(r"status=draft.*page=2"))
    expect(page.locator("#referral-results caption")).to_contain_text("Showing 3 to 3")
    expect(page.get_by_role("link", name=re.compile("^Next"))).to_have_count(0)
    expect(page.get_by_role("link", name=PREVIOUS)).to_be_visible()
    assert_accessible(page, "dashboard-page-2")
    screenshot(page, "dashboard-page-2")


def test_the_worklist_and_the_class_list_page_on(page, people, monkeypatch):
    monkeypatch.setattr(triage, "PAGE_SIZE", 1)
    monkeypatch.setattr(triage, "CLASSES_PAGE_SIZE", 1)
    for _ in range(2):
        referral_in_state(people, Status.SUBMITTED)
    ProgrammeClassFactory(programme=people.programme_x, facility=people.facility_x)
    sign_in(page, people.coordinator_x)

    page.goto("/triage/")
    page.get_by_role("link", name=NEXT).click()
    expect(page.get_by_role("link", name=PREVIOUS)).to_be_visible()
    assert_accessible(page, "worklist-page-2")

    page.goto("/triage/classes/")
    expect(page.get_by_role("link", name=NEXT)).to_be_visible()
    assert_accessible(page, "classes-page-1")
    screenshot(page, "classes-page-1")


def test_the_caseload_pages_on(page, people, monkeypatch):
    monkeypatch.setattr(register, "CASELOAD_PAGE_SIZE", 1)
    for status in (Status.BOOKED, Status.ACTIVE):
        referral_in_state(people, status)
    sign_in(page, people.instructor_x)
    page.goto("/today/caseload/")
    expect(page.get_by_role("table")).to_contain_text("Showing 1 to 1 of 2")
    page.get_by_role("link", name=NEXT).click()
    expect(page.get_by_role("table")).to_contain_text("Showing 2 to 2 of 2")
    expect(page.get_by_role("link", name=PREVIOUS)).to_be_visible()
    assert_accessible(page, "caseload-page-2")
    screenshot(page, "caseload-page-2")
