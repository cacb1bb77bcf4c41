"""Issue 14: the coordinator's attendance import pages (`leisure/views/imports.py`): upload,
mapping, preview, start, progress, the rejected rows' report and the unmatched queue. Each page
is the operator's coordinators' (403 for other roles) and their own operator's (404 otherwise)."""

import csv
import datetime as dt
import io
import threading

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.urls import reverse
from django.utils.html import escape

from audit.models import AccessKind, AccessRecord
from leisure import forms_import
from leisure.imports import run, uploads
from leisure.imports.mappings import import_mapping_save
from leisure.imports.run import import_run
from leisure.imports.uploads import import_upload
from leisure.models import AttendanceImport, ImportMapping, ImportRowKind, ImportRowProblem
from referrals import services
from referrals.models import Status, Visit
from tests.builders import referral_in_state
from tests.leisure.import_files import Mess, csv_file, mapping_for
from tests.leisure.import_files import Visit as FileVisit

BEFORE = dt.datetime(2025, 12, 1, 10, 0, tzinfo=dt.UTC)
LATER = dt.datetime(2026, 12, 1, 12, 0, tzinfo=dt.UTC)


@pytest.fixture
def queued(monkeypatch):
    """The imports queued after commit, run by the test instead of a worker."""
    ids: list[int] = []
    monkeypatch.setattr(uploads, "_queue", ids.append)
    return ids


@pytest.fixture
def scheme(people, frozen_now):
    frozen_now(BEFORE)
    referral = referral_in_state(people, Status.ACCEPTED)
    services.referral_set_membership_number(
        referral=referral, by=people.coordinator_x, number="M00001"
    )
    frozen_now(LATER)
    return referral


def _broken_file() -> bytes:
    """Three rows: one clean, one with an unreadable date, one for an unknown member."""
    return (
        b"Date,Time,Member No,Activity,Status\r\n"
        b"2026-02-02,10:00,M00001,Aquafit,Attended\r\n"
        b"31/02/2026,10:00,M00001,Aquafit,Attended\r\n"
        b"2026-02-03,11:00,M09999,Gym,Attended\r\n"
    )


def _mapping(people, name="Legend"):
    return import_mapping_save(
        operator=people.operator_x, name=name, mapping=mapping_for(Mess()), by=people.coordinator_x
    )


def _draft(people, data=None, mapping=None):
    return import_upload(
        operator=people.operator_x,
        filename="visits.csv",
        data=data or _broken_file(),
        by=people.coordinator_x,
        mapping=mapping,
    )


def _started(people, queued, data=None):
    draft = _draft(people, data, _mapping(people))
    return uploads.import_start(attendance_import=draft, by=people.coordinator_x)


def _mapping_post(**overrides):
    data = {
        "name": "Legend",
        "date": "Date",
        "time": "Time",
        "membership_number": "Member No",
        "referral_reference": "",
        "nhs_number": "",
        "date_of_birth": "",
        "activity": "Activity",
        "status": "Status",
        "status_words_for": "Status",
        "status_word_0": "attended",
    }
    data.update(overrides)
    return data


# --- Upload --------------------------------------------------------------------------------------


def test_the_triage_page_links_to_the_import(client, people):
    client.force_login(people.coordinator_x)
    assert reverse("triage:imports") in client.get(reverse("triage:worklist")).content.decode()


def test_a_new_source_is_uploaded_then_mapped(client, people, scheme):
    client.force_login(people.coordinator_x)
    upload = SimpleUploadedFile("visits.csv", _broken_file(), content_type="text/csv")
    response = client.post(
        reverse("triage:imports"), {"mapping": "", "name": "Legend", "file": upload}
    )
    draft = AttendanceImport.objects.get()
    assert draft.status == AttendanceImport.Status.DRAFT
    assert draft.mapping is None
    assert draft.total_rows == 3
    assert response.status_code == 302
    assert response.url == reverse("triage:import_mapping", args=[draft.public_id]) + "?name=Legend"


def test_a_saved_source_whose_columns_fit_goes_to_the_preview(client, people, scheme):
    mapping = _mapping(people)
    client.force_login(people.coordinator_x)
    upload = SimpleUploadedFile("visits.csv", _broken_file())
    response = client.post(reverse("triage:imports"), {"mapping": mapping.pk, "file": upload})
    draft = AttendanceImport.objects.get()
    assert draft.mapping == mapping
    assert response.url == reverse("triage:import", args=[draft.public_id])


def test_a_saved_source_whose_columns_changed_goes_to_the_mapping(client, people):
    mapping = _mapping(people)
    client.force_login(people.coordinator_x)
    upload = SimpleUploadedFile("visits.csv", b"When,Who\r\n2026-02-02,M1\r\n")
    response = client.post(reverse("triage:imports"), {"mapping": mapping.pk, "file": upload})
    draft = AttendanceImport.objects.get()
    assert response.url == reverse("triage:import_mapping", args=[draft.public_id])


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"mapping": "", "name": "Legend"}, "Choose the file to upload"),
        ({"mapping": "", "name": "", "file": b"a,b\r\n1,2\r\n"}, "Give the new source a name"),
        ({"mapping": "", "name": "Legend", "file": b"\x00\x01\x02\xff" * 50}, "is not a CSV"),
        ({"mapping": "", "name": "Legend", "file": b""}, "The file is empty"),
    ],
)
def test_an_upload_that_cannot_be_used_is_explained(client, people, data, message):
    client.force_login(people.coordinator_x)
    if "file" in data:
        data = {**data, "file": SimpleUploadedFile("x.csv", data["file"])}
    response = client.post(reverse("triage:imports"), data)
    assert response.status_code == 200
    page = response.content.decode()
    assert "There is a problem" in page
    assert message.lower() in page.lower()
    assert not AttendanceImport.objects.exists()


def test_a_coordinator_of_two_operators_chooses_whose_members_the_file_is_about(client, people):
    from accounts.models import Role
    from tests.factories import MembershipFactory

    MembershipFactory(
        user=people.coordinator_x, organisation=people.operator_y, role=Role.COORDINATOR
    )
    x_legend = _mapping(people, "Legend")
    client.force_login(people.coordinator_x)
    page = client.get(reverse("triage:imports")).content.decode()
    assert "Whose members are in the file?" in page
    assert escape(f"Legend ({people.operator_x.name})") in page

    def post(**data):
        upload = SimpleUploadedFile("visits.csv", _broken_file())
        return client.post(reverse("triage:imports"), {"file": upload, **data})

    missing = post(mapping="", name="Gladstone")
    assert "Choose whose members are in the file" in missing.content.decode()
    crossed = post(operator=str(people.operator_y.public_id), mapping=x_legend.pk)
    assert "Legend is saved for another organisation" in crossed.content.decode()
    assert not AttendanceImport.objects.exists()

    post(operator=str(people.operator_y.public_id), mapping="", name="Legend")

    draft = AttendanceImport.objects.get()
    assert draft.operator == people.operator_y


def test_a_coordinator_of_one_operator_is_not_asked_whose_file_it_is(client, people):
    client.force_login(people.coordinator_x)
    page = client.get(reverse("triage:imports")).content.decode()
    assert "Whose members are in the file?" not in page


def test_a_file_over_the_size_limit_is_refused(client, people, monkeypatch):
    monkeypatch.setattr(forms_import, "IMPORT_MAX_BYTES", 10)
    client.force_login(people.coordinator_x)
    upload = SimpleUploadedFile("big.csv", _broken_file())
    response = client.post(reverse("triage:imports"), {"mapping": "", "name": "L", "file": upload})
    assert response.status_code == 200
    assert "larger than 50 MB" in response.content.decode()
    assert not AttendanceImport.objects.exists()


def test_a_new_source_named_like_a_saved_one_is_refused(client, people):
    _mapping(people, "Legend")
    client.force_login(people.coordinator_x)
    upload = SimpleUploadedFile("visits.csv", _broken_file())
    response = client.post(
        reverse("triage:imports"), {"mapping": "", "name": "legend", "file": upload}
    )
    assert "is saved already" in response.content.decode()


# --- Mapping -------------------------------------------------------------------------------------


def test_the_mapping_form_lists_the_headers_and_status_words(client, people):
    draft = _draft(people)
    client.force_login(people.coordinator_x)
    page = client.get(reverse("triage:import_mapping", args=[draft.public_id]) + "?name=Legend")
    text = page.content.decode()
    assert page.status_code == 200
    assert '<option value="Member No" selected>' in text  # guessed from the header's name
    assert "\u201cAttended\u201d means" in text
    assert 'value="Legend"' in text


def test_saving_the_mapping_saves_it_by_name_and_goes_to_the_preview(client, people):
    draft = _draft(people)
    client.force_login(people.coordinator_x)
    url = reverse("triage:import_mapping", args=[draft.public_id])
    response = client.post(url, _mapping_post())
    assert response.status_code == 302
    assert response.url == reverse("triage:import", args=[draft.public_id])
    saved = ImportMapping.objects.get(operator=people.operator_x, name="Legend")
    assert saved.mapping["membership_number"] == "Member No"
    assert saved.mapping["status_values"] == {"Attended": "attended"}
    draft.refresh_from_db()
    assert draft.mapping == saved


def test_mapping_errors_are_shown_beside_their_fields(client, people):
    draft = _draft(people)
    client.force_login(people.coordinator_x)
    url = reverse("triage:import_mapping", args=[draft.public_id])
    response = client.post(url, _mapping_post(date="", membership_number="", date_of_birth="Date"))
    text = response.content.decode()
    assert response.status_code == 200
    assert "There is a problem" in text
    assert 'href="#id_date"' in text
    assert 'href="#id_membership_number"' in text
    assert 'href="#id_nhs_number"' in text
    assert not ImportMapping.objects.exists()


def test_changing_the_status_column_asks_for_its_words(client, people):
    draft = _draft(people)
    client.force_login(people.coordinator_x)
    url = reverse("triage:import_mapping", args=[draft.public_id])
    response = client.post(url, _mapping_post(status="Activity", status_words_for="Status"))
    text = response.content.decode()
    assert "Now say what each of this column" in text
    assert "\u201cAquafit\u201d means" in text
    assert not ImportMapping.objects.exists()


def test_a_started_import_is_not_mapped_again(client, people, queued):
    started = _started(people, queued)
    client.force_login(people.coordinator_x)
    response = client.get(reverse("triage:import_mapping", args=[started.public_id]))
    assert response.url == reverse("triage:import", args=[started.public_id])


# --- Preview, start and progress -----------------------------------------------------------------


def test_the_preview_shows_clean_rows_and_each_rows_problems(client, people):
    draft = _draft(people, mapping=_mapping(people))
    client.force_login(people.coordinator_x)
    response = client.get(reverse("triage:import", args=[draft.public_id]))
    text = response.content.decode()
    assert "Member M00001" in text
    assert "Will be rejected" in text
    assert "31/02/2026" in text
    assert "Import 3 rows" in text
    record = AccessRecord.objects.get()
    assert record.kind == AccessKind.LIST


def test_starting_queues_the_import_once(
    client, people, queued, django_capture_on_commit_callbacks
):
    draft = _draft(people, mapping=_mapping(people))
    client.force_login(people.coordinator_x)
    url = reverse("triage:import", args=[draft.public_id])
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(url)
        again = client.post(url)
    assert response.url == url
    assert again.status_code == 200  # the started import's progress page, not a second run
    assert queued == [draft.pk]
    draft.refresh_from_db()
    assert draft.status == AttendanceImport.Status.UPLOADED


def test_progress_polls_until_done_then_sums_up(client, people, scheme, queued):
    started = _started(people, queued)
    client.force_login(people.coordinator_x)
    page = client.get(reverse("triage:import", args=[started.public_id])).content.decode()
    assert 'hx-trigger="every 1s"' in page
    assert "0 of 3 rows read" in page
    import_run(started.pk)
    partial = client.get(reverse("triage:import_progress", args=[started.public_id]))
    text = partial.content.decode()
    assert "hx-trigger" not in text
    assert "3 of 3 rows read" in text
    assert reverse("triage:import_rejected", args=[started.public_id]) in text
    assert reverse("triage:unmatched") in text


def test_the_progress_partial_is_one_cheap_read(
    client, people, queued, django_assert_max_num_queries
):
    started = _started(people, queued)
    client.force_login(people.coordinator_x)
    client.get(reverse("triage:import_progress", args=[started.public_id]))
    with django_assert_max_num_queries(6):
        response = client.get(reverse("triage:import_progress", args=[started.public_id]))
    assert response.status_code == 200


@pytest.mark.django_db(transaction=True)
def test_the_progress_page_answers_while_a_chunk_is_being_written(
    client, people, scheme, queued, monkeypatch
):
    """The page stays responsive while an import runs: a chunk's transaction holds the import's
    row until it commits, and the poll reads the counters last committed without waiting for
    it (a lock timeout makes a wait fail here instead of hang)."""
    monkeypatch.setattr(run, "CHUNK_ROWS", 2)  # three rows: two chunks
    started = _started(people, queued)
    writing, release = threading.Event(), threading.Event()
    real_chunk = run._process_chunk
    chunks: list[int] = []

    def held_open(*args):
        counts = real_chunk(*args)
        chunks.append(1)
        if len(chunks) == 2:  # the second chunk, its row lock held, its counters not committed
            writing.set()
            assert release.wait(30)
        return counts

    monkeypatch.setattr(run, "_process_chunk", held_open)

    def work():
        try:
            import_run(started.pk)
        finally:
            connection.close()

    worker = threading.Thread(target=work)
    worker.start()
    try:
        assert writing.wait(30)
        with connection.cursor() as cursor:
            cursor.execute("SET lock_timeout = '2s'")
        client.force_login(people.coordinator_x)
        partial = client.get(reverse("triage:import_progress", args=[started.public_id]))
        page = client.get(reverse("triage:import", args=[started.public_id]))
    finally:
        release.set()
        worker.join(30)
    assert partial.status_code == page.status_code == 200
    assert "2 of 3 rows read" in partial.content.decode()
    assert 'hx-trigger="every 1s"' in partial.content.decode()
    done = client.get(reverse("triage:import_progress", args=[started.public_id]))
    assert "3 of 3 rows read" in done.content.decode()


# --- Rejected rows -------------------------------------------------------------------------------


def test_the_rejected_rows_report_is_a_csv_with_reasons_and_values(client, people, scheme, queued):
    started = _started(people, queued)
    import_run(started.pk)
    client.force_login(people.coordinator_x)
    response = client.get(reverse("triage:import_rejected", args=[started.public_id]))
    assert response["Content-Type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(response.content.decode())))
    assert rows[0][:2] == ["Row", "Reasons"]
    assert rows[1][0] == "3"
    assert "31/02/2026" in rows[1][1]
    assert "31/02/2026" in rows[1]
    assert AccessRecord.objects.filter(kind=AccessKind.EXPORT).count() == 1


# --- Unmatched queue -----------------------------------------------------------------------------


def _unmatched_rows(people, queued, count):
    rows = [
        FileVisit(dt.date(2026, 2, 2), dt.time(10, 0), f"U{n:05}", "Aquafit", "Attended")
        for n in range(count)
    ]
    started = _started(people, queued, csv_file(rows))
    import_run(started.pk)
    return started


@pytest.mark.parametrize("count", [1, 30])
def test_the_unmatched_queue_runs_a_constant_number_of_queries(
    client, people, queued, count, django_assert_max_num_queries
):
    _unmatched_rows(people, queued, count)
    client.force_login(people.coordinator_x)
    client.get(reverse("triage:unmatched"))
    with django_assert_max_num_queries(12):
        response = client.get(reverse("triage:unmatched"))
    assert response.content.decode().count("Choose the referral<") == count


def test_resolving_an_unmatched_row_records_the_visit(client, people, scheme, queued):
    _unmatched_rows(people, queued, 1)
    row = ImportRowProblem.objects.get(kind=ImportRowKind.UNMATCHED)
    client.force_login(people.coordinator_x)
    url = reverse("triage:unmatched_resolve", args=[row.public_id])
    page = client.get(url, {"q": scheme.reference}).content.decode()
    assert escape(scheme.patient.full_name) in page
    response = client.post(url, {"q": scheme.reference, "referral": scheme.reference})
    assert response.url == reverse("triage:unmatched")
    assert Visit.objects.get().referral == scheme
    row.refresh_from_db()
    assert row.resolved_referral == scheme
    assert client.get(url).status_code == 302  # resolved already


def test_resolving_with_a_referral_not_offered_is_refused(client, people, scheme, queued):
    _unmatched_rows(people, queued, 1)
    row = ImportRowProblem.objects.get(kind=ImportRowKind.UNMATCHED)
    client.force_login(people.coordinator_x)
    url = reverse("triage:unmatched_resolve", args=[row.public_id])
    response = client.post(url, {"q": scheme.reference, "referral": "ER-00000000"})
    assert response.status_code == 200
    assert "Choose one of the referrals listed" in response.content.decode()
    assert not Visit.objects.exists()


# --- Who may ------------------------------------------------------------------------------------


def _urls(started, row):
    return [
        ("get", reverse("triage:import", args=[started.public_id])),
        ("post", reverse("triage:import", args=[started.public_id])),
        ("get", reverse("triage:import_mapping", args=[started.public_id])),
        ("post", reverse("triage:import_mapping", args=[started.public_id])),
        ("get", reverse("triage:import_progress", args=[started.public_id])),
        ("get", reverse("triage:import_rejected", args=[started.public_id])),
        ("get", reverse("triage:unmatched_resolve", args=[row.public_id])),
        ("post", reverse("triage:unmatched_resolve", args=[row.public_id])),
    ]


@pytest.fixture
def x_import(people, queued):
    started = _unmatched_rows(people, queued, 1)
    row = ImportRowProblem.objects.get(kind=ImportRowKind.UNMATCHED)
    return started, row


def test_another_operators_coordinator_gets_404(client, people, x_import):
    started, row = x_import
    client.force_login(people.coordinator_y)
    for method, url in _urls(started, row):
        response = getattr(client, method)(url, {"referral": "x", "name": "n"})
        assert response.status_code == 404, (method, url)
    assert "U00000" not in client.get(reverse("triage:unmatched")).content.decode()
    assert row.__class__.objects.get(pk=row.pk).resolved_at is None


@pytest.mark.parametrize("persona", ["instructor_x", "referrer_a", "commissioner"])
def test_other_roles_are_refused(client, people, x_import, persona):
    started, row = x_import
    user = getattr(people, persona, None)
    if user is None:
        pytest.skip(f"no {persona} persona")
    client.force_login(user)
    pages = [
        *_urls(started, row),
        ("get", reverse("triage:imports")),
        ("post", reverse("triage:imports")),
        ("get", reverse("triage:unmatched")),
    ]
    for method, url in pages:
        response = getattr(client, method)(url)
        assert response.status_code in (403, 404), (persona, method, url)


def test_anonymous_is_sent_to_sign_in(client, people, x_import):
    started, row = x_import
    for _, url in [*_urls(started, row), ("get", reverse("triage:imports"))]:
        response = client.get(url)
        assert response.status_code == 302
        assert "login" in response.url


def test_the_import_pages_show_no_other_operators_imports(client, people, x_import):
    client.force_login(people.coordinator_y)
    assert "visits.csv" not in client.get(reverse("triage:imports")).content.decode()


def test_a_mapping_of_another_operator_cannot_be_chosen(client, people):
    mapping = _mapping(people)
    client.force_login(people.coordinator_y)
    upload = SimpleUploadedFile("visits.csv", _broken_file())
    response = client.post(reverse("triage:imports"), {"mapping": mapping.pk, "file": upload})
    assert response.status_code == 200
    assert not AttendanceImport.objects.exists()


# --- Bad input -----------------------------------------------------------------------------------

BAD_VALUES = ["", "x" * 10_000, "not-a-column", "9" * 40, "-1", "Ev\u202eil", "a\x00b"]


@pytest.mark.parametrize("value", BAD_VALUES)
def test_no_bad_value_in_any_field_breaks_the_pages(client, people, queued, value):
    draft = _draft(people)
    _unmatched_rows(people, queued, 1)
    row = ImportRowProblem.objects.get(kind=ImportRowKind.UNMATCHED)
    client.force_login(people.coordinator_x)
    mapping_url = reverse("triage:import_mapping", args=[draft.public_id])
    for name in [*_mapping_post(), "status_word_7"]:
        response = client.post(mapping_url, _mapping_post(**{name: value}))
        assert response.status_code < 500, name
    resolve_url = reverse("triage:unmatched_resolve", args=[row.public_id])
    for data in ({"q": value, "referral": "x"}, {"q": "", "referral": value}):
        assert client.post(resolve_url, data).status_code == 200
        assert client.get(resolve_url, {"q": value}).status_code == 200
    upload = SimpleUploadedFile("visits.csv", _broken_file())
    response = client.post(
        reverse("triage:imports"), {"mapping": value, "name": value, "file": upload}
    )
    assert response.status_code < 500
    assert not Visit.objects.exists()
    assert client.get(reverse("triage:unmatched"), {"page": value}).status_code == 200


# --- A broker outage at the start -----------------------------------------------------------------


def test_an_import_started_while_the_broker_is_down_is_queued_again_by_the_sweep(
    people, monkeypatch, settings, django_capture_on_commit_callbacks
):
    """Starting never fails on the broker; the import waits as uploaded, and the beat's sweep
    queues it again once it has waited `IMPORT_REQUEUE_AFTER` (once a period, not every minute
    while a worker is busy with it)."""
    from django.utils import timezone

    from delivery import broker
    from leisure import tasks as leisure_tasks

    published: list[list] = []

    def down(task, arguments):
        raise ConnectionError("broker down")

    monkeypatch.setattr(uploads, "publish", down)
    draft = _draft(people, mapping=_mapping(people))
    with django_capture_on_commit_callbacks(execute=True):
        started = uploads.import_start(attendance_import=draft, by=people.coordinator_x)
    started.refresh_from_db()
    assert started.status == AttendanceImport.Status.UPLOADED
    assert uploads.imports_waiting(timezone.now()) == []  # just queued: not yet

    monkeypatch.setattr(uploads, "publish", lambda task, arguments: published.append(arguments))
    later = started.queued_at + uploads.IMPORT_REQUEUE_AFTER + dt.timedelta(seconds=1)
    monkeypatch.setattr(leisure_tasks.timezone, "now", lambda: later)

    assert leisure_tasks.attendance_imports_sweep() == 1
    assert published == [[started.pk]]
    assert leisure_tasks.attendance_imports_sweep() == 0  # queued again just now
    assert broker.circuit.is_open is False
