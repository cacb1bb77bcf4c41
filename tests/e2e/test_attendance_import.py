"""Issue 14 end to end: the coordinator uploads a messy export (a BOM, `;` separators, a date
that does not exist and an unknown member), maps its columns, previews it (the bad row's problem
shown), imports it with the progress polled to "Done", and resolves the unknown member's visit
by choosing the referral, which then shows it. axe-core on every page; screenshots import-1 to
import-6.

No Celery worker runs here: the import is queued to a list and the test runs it, as a worker
would, while the page polls."""

import datetime as dt

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from leisure.imports import run, uploads
from leisure.models import AttendanceImport
from referrals import services
from referrals.models import Status, Visit
from tests.builders import referral_in_state
from tests.e2e.conftest import assert_accessible, screenshot, sign_in
from tests.leisure.import_files import Mess, csv_file
from tests.leisure.import_files import Visit as FileVisit

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(180)]


def _accepted(people, membership_number=""):
    referral = referral_in_state(people, Status.ACCEPTED)
    if membership_number:
        services.referral_set_membership_number(
            referral=referral, by=people.coordinator_x, number=membership_number
        )
    return referral


def _messy_export() -> bytes:
    day = timezone.localdate() - dt.timedelta(days=2)
    rows = [
        FileVisit(day, dt.time(10, 0), "M00001", "Aquafit", "Attended"),
        FileVisit(day, dt.time(11, 30), "M77777", "Gym induction", "Attended"),
    ]
    data = csv_file(rows, Mess(bom=True, separator=";"))
    return data + b"31/02/2026;10:00;M00001;Aquafit;Attended;Riverside;\r\n"


def test_upload_map_preview_import_and_resolve_an_unmatched_row(
    page, people, monkeypatch, frozen_now
):
    queued: list[int] = []
    monkeypatch.setattr(uploads, "_queue", queued.append)
    now = timezone.now()
    # Accepted a month before the visits (a visit counts from the acceptance on).
    frozen_now(now - dt.timedelta(days=30))
    _accepted(people, "M00001")
    unknown = _accepted(people)
    frozen_now(now)

    # Upload, for a new source.
    sign_in(page, people.coordinator_x)
    page.goto("/triage/")
    page.get_by_role("link", name="Import attendance").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Import attendance")
    assert_accessible(page, "import-upload")
    screenshot(page, "import-1")
    page.get_by_label("Which system is the file from?").select_option(label="A new source")
    page.get_by_label("Name of the new source").fill("Legend")
    page.get_by_label("Upload the export").set_input_files(
        {"name": "visits.csv", "mimeType": "text/csv", "buffer": _messy_export()}
    )
    page.get_by_role("button", name="Upload", exact=True).click()

    # Map the columns: guessed from the headers; the status word is translated.
    expect(page.get_by_role("heading", level=1)).to_have_text("Choose the file's columns")
    expect(page.get_by_label("Membership number", exact=True)).to_have_value("Member No")
    page.get_by_label("\u201cAttended\u201d means").select_option("attended")
    assert_accessible(page, "import-mapping")
    screenshot(page, "import-2")
    page.get_by_role("button", name="Save and preview").click()

    # Preview: the clean rows, and the bad row's problem spelled out.
    expect(page.get_by_role("heading", level=1)).to_have_text("Check the first rows")
    expect(page.locator("main")).to_contain_text("Member M00001")
    expect(page.locator("main")).to_contain_text("Will be rejected")
    expect(page.locator("main")).to_contain_text("31/02/2026")
    assert_accessible(page, "import-preview")
    screenshot(page, "import-3")
    page.get_by_role("button", name="Import 3 rows").click()

    # Progress: waiting until the worker runs it, then done, polled in place.
    expect(page.get_by_role("heading", level=1)).to_have_text("Attendance import")
    expect(page.locator("#import-progress")).to_contain_text("Waiting to start")
    started = AttendanceImport.objects.get()
    assert queued == [started.pk]
    run.import_run(started.pk)
    expect(page.locator("#import-progress")).to_contain_text("Done", timeout=10_000)
    expect(page.locator("#import-progress")).to_contain_text("3 of 3 rows read")
    assert_accessible(page, "import-done")
    screenshot(page, "import-4")

    # The unknown member's visit waits in the queue; the coordinator chooses the referral.
    page.get_by_role("link", name="Resolve the rows with no matching referral").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Visits with no matching referral")
    expect(page.locator("main")).to_contain_text("Membership number M77777")
    assert_accessible(page, "import-unmatched")
    screenshot(page, "import-5")
    page.get_by_role("link", name="Choose the referral").click()
    page.get_by_label("Find the referral by").fill(unknown.reference)
    page.get_by_role("button", name="Search").click()
    page.get_by_label(unknown.reference, exact=False).check()
    assert_accessible(page, "import-resolve")
    page.get_by_role("button", name="Record the visit").click()
    expect(page.locator("main")).to_contain_text(f"Visit recorded on referral {unknown.reference}")
    assert Visit.objects.filter(referral=unknown).count() == 1

    # The visit is on the referral's page.
    page.goto(f"/referrals/{unknown.reference}/")
    expect(page.locator("main")).to_contain_text("Self-directed visits")
    expect(page.locator("main")).to_contain_text("Gym induction")
    screenshot(page, "import-6")
