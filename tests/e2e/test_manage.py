"""The operator admin's pages in a real browser (issue 4, item 5): an admin adds a class after
fixing a mistake, and invites an instructor. axe-core on every page visited; the main pages are
photographed at 1280px and 390px."""

import pytest
from django.core import mail
from playwright.sync_api import expect

from accounts.models import Membership, Role
from facilities.models import ProgrammeClass
from tests.e2e.conftest import assert_accessible, screenshot, sign_in

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.timeout(120),
]


def heading(page):
    return page.get_by_role("heading", level=1)


def test_admin_adds_a_class_after_fixing_a_mistake_and_invites_an_instructor(page, people):
    sign_in(page, people.admin_x)
    page.goto("/manage/")
    expect(heading(page)).to_have_text("Manage Operator X")
    assert_accessible(page, "manage-overview")
    screenshot(page, "manage-overview")

    page.get_by_role("link", name="Manage classes of Operator X").click()
    expect(heading(page)).to_have_text("Classes")
    expect(page.get_by_role("row").filter(has_text=people.class_x.name)).to_contain_text("12")
    assert_accessible(page, "manage-classes")
    screenshot(page, "manage-classes")

    page.get_by_role("button", name="Add a class").click()
    expect(heading(page)).to_have_text("Add a class")
    assert_accessible(page, "manage-class-new")
    page.get_by_label("Name", exact=True).fill("Thursday strength and balance")
    page.get_by_label("Programme").select_option(label=people.programme_x.name)
    page.get_by_label("Facility").select_option(label=people.facility_x2.name)
    page.get_by_label("Day of the week").select_option(label="Thursday")
    page.get_by_label("Start time").fill("half two")
    page.get_by_label("Places").fill("10")
    page.get_by_label(people.instructor_x.email, exact=False).check()
    page.get_by_role("button", name="Save class").click()

    # The mistake: the error summary takes focus and links to the field; nothing typed is lost.
    summary = page.locator(".nhsuk-error-summary")
    expect(summary).to_be_focused()
    expect(summary).to_contain_text("Enter the start time in the 24-hour clock, like 18:30")
    expect(page.get_by_label("Name", exact=True)).to_have_value("Thursday strength and balance")
    expect(page.get_by_label("Facility")).to_have_value(str(people.facility_x2.public_id))
    expect(page.get_by_label(people.instructor_x.email, exact=False)).to_be_checked()
    assert_accessible(page, "manage-class-error")
    screenshot(page, "manage-class-error")
    summary.get_by_role("link", name="Enter the start time").click()
    expect(page.get_by_label("Start time")).to_be_focused()
    assert not ProgrammeClass.objects.filter(name="Thursday strength and balance").exists()

    page.get_by_label("Start time").fill("14:30")
    page.get_by_role("button", name="Save class").click()

    expect(heading(page)).to_have_text("Classes")
    expect(page.locator(".nhsuk-notification-banner")).to_contain_text(
        "Thursday strength and balance added"
    )
    row = page.get_by_role("row").filter(has_text="Thursday strength and balance")
    expect(row).to_contain_text("Thursday 14:30")
    assert_accessible(page, "manage-classes-added")
    programme_class = ProgrammeClass.objects.get(name="Thursday strength and balance")
    assert list(programme_class.instructors.all()) == [people.instructor_x]

    row.get_by_role("link", name="Thursday strength and balance").click()
    expect(heading(page)).to_have_text("Edit Thursday strength and balance")
    assert_accessible(page, "manage-class-edit")

    # The other operator pages, each checked with axe.
    page.get_by_role("link", name="Back to classes").click()
    page.get_by_role("link", name="Facilities").click()
    expect(heading(page)).to_have_text("Facilities")
    assert_accessible(page, "manage-facilities")
    screenshot(page, "manage-facilities")
    page.get_by_role("link", name=people.facility_x.name).click()
    expect(heading(page)).to_have_text(f"Edit {people.facility_x.name}")
    assert_accessible(page, "manage-facility-edit")
    screenshot(page, "manage-facility-edit")
    page.get_by_role("link", name="Back to facilities").click()
    page.get_by_role("button", name="Add a facility").click()
    assert_accessible(page, "manage-facility-new")
    page.get_by_role("link", name="Cancel").click()

    page.get_by_role("link", name="Programmes").click()
    expect(heading(page)).to_have_text("Programmes")
    assert_accessible(page, "manage-programmes")
    page.get_by_role("link", name=people.programme_x.name).click()
    expect(heading(page)).to_have_text(f"Edit {people.programme_x.name}")
    assert_accessible(page, "manage-programme-edit")
    screenshot(page, "manage-programme-edit")
    page.get_by_role("link", name="Back to programmes").click()
    page.get_by_role("button", name="Add a programme").click()
    assert_accessible(page, "manage-programme-new")
    page.get_by_role("link", name="Cancel").click()

    # Invite an instructor.
    page.get_by_role("link", name="Members").click()
    expect(heading(page)).to_have_text("Members")
    assert_accessible(page, "manage-members")
    screenshot(page, "manage-members")
    page.get_by_role("button", name="Invite someone").click()
    expect(heading(page)).to_have_text("Invite someone")
    assert_accessible(page, "manage-invite")
    page.get_by_label("Full name").fill("Nia Instructor")
    page.get_by_label("Email address").fill("nia.instructor@example.org")
    page.get_by_label("Instructor", exact=True).check()
    screenshot(page, "manage-invite")
    page.get_by_role("button", name="Send invitation").click()

    expect(heading(page)).to_have_text("Members")
    expect(page.locator(".nhsuk-notification-banner")).to_contain_text(
        "nia.instructor@example.org is now an instructor at Operator X"
    )
    expect(page.get_by_role("row").filter(has_text="nia.instructor@example.org")).to_contain_text(
        "Active"
    )
    assert_accessible(page, "manage-members-invited")
    membership = Membership.objects.get(user__email="nia.instructor@example.org")
    assert (membership.organisation, membership.role) == (people.operator_x, Role.INSTRUCTOR)
    assert [m.to for m in mail.outbox] == [["nia.instructor@example.org"]]

    # The deactivation page asks first.
    page.get_by_role("link", name="Deactivate Nia Instructor as instructor").click()
    expect(heading(page)).to_have_text("Deactivate Nia Instructor as instructor?")
    assert_accessible(page, "manage-member-deactivate")
    screenshot(page, "manage-member-deactivate")
    page.get_by_role("button", name="Deactivate").click()
    expect(page.get_by_role("row").filter(has_text="nia.instructor@example.org")).to_contain_text(
        "Deactivated"
    )
    assert not Membership.objects.get(pk=membership.pk).is_active
