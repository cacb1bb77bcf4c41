"""Issue 14: importing attendance files (`leisure/imports/`). Every mess a real export
has ends as defined; a file imported again, or overlapping files in any order, change nothing
the second time; unmatched rows are queued once and resolved by a coordinator; another
operator's referrals never match."""

import dataclasses
import datetime as dt
import random
from zoneinfo import ZoneInfo

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from governance import retention
from leisure.imports.clearing import CLEAR_IMPORTS
from leisure.imports.mappings import import_mapping_save
from leisure.imports.reading import ColumnMapping
from leisure.imports.run import NOT_A_VISIT, import_run
from leisure.imports.unmatched import unmatched_queue, unmatched_resolve
from leisure.imports.uploads import import_create, import_preview
from leisure.models import AttendanceImport, ImportRowKind, ImportRowProblem
from referrals import services
from referrals.models import Notification, Session, Status, Visit
from tests.builders import referral_in_state
from tests.leisure.import_files import (
    Mess,
    csv_file,
    export_file,
    mapping_for,
    messes_of_every_kind,
    visits,
)

LONDON = ZoneInfo("Europe/London")
# The referrals are made before the files' visits (5 January to 5 April 2026) and the files
# imported long after, so visits fall inside the referrals' time unless a test says otherwise.
BEFORE = dt.datetime(2025, 12, 1, 10, 0, tzinfo=dt.UTC)
LATER = dt.datetime(2026, 12, 1, 12, 0, tzinfo=dt.UTC)
MATCHED = ("M00000", "M00001", "M00002")  # of members M00000-M00005 in the generated files


@pytest.fixture(autouse=True)
def _small_chunks(monkeypatch):
    """Chunks of 7 rows, so every file crosses chunks (and duplicates cross them too)."""
    monkeypatch.setattr("leisure.imports.run.CHUNK_ROWS", 7)


@pytest.fixture
def scheme(people, frozen_now):
    """Three accepted referrals of operator X with members M00000-M00002, and the source's
    mapping; the clock then moves on to after the files' visits."""
    frozen_now(BEFORE)
    referrals = {}
    for number in MATCHED:
        referral = referral_in_state(people, Status.ACCEPTED)
        services.referral_set_membership_number(
            referral=referral, by=people.coordinator_x, number=number
        )
        referrals[number] = referral
    frozen_now(LATER)
    mapping = import_mapping_save(
        operator=people.operator_x,
        name="Legend",
        mapping=mapping_for(Mess()),
        by=people.coordinator_x,
    )
    return dataclasses.make_dataclass("Scheme", ["referrals", "mapping"])(referrals, mapping)


def run(people, mapping, data, filename="visits.csv", by=None):
    created = import_create(
        operator=people.operator_x,
        mapping=mapping,
        filename=filename,
        data=data,
        by=by or people.coordinator_x,
    )
    return import_run(created.pk)


def visit_set(operator):
    return set(
        Visit.objects.filter(operator=operator).values_list(
            "referral_id", "membership_number", "occurred_at", "activity", "source_event_id"
        )
    )


def assert_adds_up(done, rows_in_file):
    assert done.status == AttendanceImport.Status.DONE
    assert done.rows_read + done.skipped + 1 == rows_in_file  # + the header
    assert (
        done.recorded + done.sessions_marked + done.duplicates + done.unmatched + done.rejected
        == done.rows_read
    )
    assert done.rejected == done.problems.filter(kind=ImportRowKind.REJECTED).count()


def identity(visit):
    """A generated visit's identity as the import sees it (case and spacing aside)."""
    at = dt.datetime.combine(visit.day, visit.at, tzinfo=LONDON)
    return (visit.member, at, " ".join(visit.activity.split()))


# --- Every mess ----------------------------------------------------------------------------------


MESSES = [
    pytest.param(mess, "xlsx" if mess.wrong_dimension else file_format, id=f"{file_format}-{i}")
    for i, mess in enumerate(messes_of_every_kind())
    for file_format in ("csv", "xlsx")
    if not (
        file_format == "xlsx" and (mess.bom or mess.encoding != "utf-8" or mess.separator != ",")
    )
]


@pytest.mark.parametrize(("mess", "file_format"), MESSES)
def test_every_mess_ends_each_row_as_defined(people, scheme, mess, file_format):
    rows = visits(30, seed=7, members=6)
    data = export_file(rows, mess, file_format)
    mapping = scheme.mapping
    if mess.combined:
        mapping = import_mapping_save(
            operator=people.operator_x,
            name="Combined",
            mapping=mapping_for(mess),
            by=people.coordinator_x,
        )

    done = run(people, mapping, data, filename=f"export.{file_format}")

    attended = [row for row in rows if row.status in ("Attended", "Checked in")]
    matched = {identity(row) for row in attended if row.member in MATCHED}
    unknown = {identity(row) for row in attended if row.member not in MATCHED}
    assert done.rows_read == len(rows) + mess.duplicated_rows
    assert done.skipped == (
        mess.leading_blank_rows + mess.blank_rows + mess.trailing_blank_rows + mess.repeated_headers
    )
    assert_adds_up(done, mess.row_count(len(rows)))
    assert done.recorded == len(matched)
    assert done.unmatched == len(unknown)
    # No sessions are booked: a did-not-attend or cancelled row is not a visit.
    assert done.sessions_marked == 0
    assert done.rejected >= sum(row.status in ("No Show", "Cancelled") for row in rows)
    for problem in done.problems.filter(kind=ImportRowKind.REJECTED):
        assert problem.reasons == {"status": [NOT_A_VISIT]}
    stored = {
        (v.membership_number, v.occurred_at, v.activity)
        for v in Visit.objects.filter(operator=people.operator_x)
    }
    assert stored == matched
    for visit in Visit.objects.filter(operator=people.operator_x):
        assert visit.referral == scheme.referrals[visit.membership_number]
        assert visit.source == Visit.Source.IMPORT
    queued = {
        (p.membership_number, p.occurred_at, p.activity) for p in unmatched_queue(people.operator_x)
    }
    assert queued == unknown


def test_each_kind_of_row_ends_as_defined_and_a_second_import_changes_nothing(people, frozen_now):
    frozen_now(BEFORE)
    accepted = referral_in_state(people, Status.ACCEPTED)
    booked = referral_in_state(people, Status.ACCEPTED)
    first_session = dt.datetime(2026, 1, 10, 10, 0, tzinfo=LONDON)
    services.referral_book(referral=booked, by=people.coordinator_x, first_session_at=first_session)
    # A class booking places the sessions on the class's own slot, from that day.
    session = booked.sessions.order_by("scheduled_at").first()
    near = session.scheduled_at.astimezone(LONDON) + dt.timedelta(minutes=30)
    next_day = near + dt.timedelta(days=1)
    ended = referral_in_state(people, Status.ACTIVE)
    for referral, number in ((accepted, "M-A"), (booked, "M-B"), (ended, "M-C")):
        services.referral_set_membership_number(
            referral=referral, by=people.coordinator_x, number=number
        )
    frozen_now(dt.datetime(2026, 2, 1, 12, 0, tzinfo=dt.UTC))
    services.ACTION_SERVICES["discharge"](
        referral=ended, by=people.coordinator_x, reason="patient_choice"
    )
    frozen_now(LATER)
    mapping = import_mapping_save(
        operator=people.operator_x,
        name="Legend",
        mapping=mapping_for(Mess()),
        by=people.coordinator_x,
    )
    lines = [
        "Date,Time,Member No,Activity,Status,Site,Notes",
        "2026-01-12,09:00,M-A,Gym,Attended,,",  # recorded
        "2026-01-12,09:00,m-a ,Gym,Checked in,,",  # the same visit: duplicate
        "2025-11-20,09:00,M-A,Gym,Attended,,",  # before the referral was accepted
        f"{near:%Y-%m-%d,%H:%M},M-B,Aquafit,No Show,,",  # marks the booked session
        f"{next_day:%Y-%m-%d,%H:%M},M-B,Aquafit,No Show,,",  # no session then: not a visit
        "2026-01-20,09:00,M-C,Gym,Attended,,",  # recorded: before the discharge
        "2026-03-01,09:00,M-C,Gym,Attended,,",  # after the referral ended
        "2026-01-12,09:00,NOBODY,Gym,Attended,,",  # unmatched: queued
        "31/02/2026,09:00,M-A,Gym,Attended,,",  # not a date
        "2027-06-01,09:00,M-A,Gym,Attended,,",  # in the future
        ",,,,,,",  # skipped
        "Date,Time,Member No,Activity,Status,Site,Notes",  # skipped
    ]
    data = ("\r\n".join(lines) + "\r\n").encode()

    first = run(people, mapping, data)

    assert (first.recorded, first.duplicates, first.sessions_marked) == (2, 1, 1)
    assert (first.unmatched, first.rejected, first.skipped, first.rows_read) == (1, 5, 2, 10)
    assert_adds_up(first, len(lines))
    reasons = {p.row_number: p.reasons for p in first.problems.filter(kind=ImportRowKind.REJECTED)}
    assert "Before the referral was accepted" in reasons[4]["date"][0]
    assert reasons[6] == {"status": [NOT_A_VISIT]}
    assert "After the referral ended (discharged on 01/02/2026)" in reasons[8]["date"][0]
    assert "31/02/2026" in reasons[10]["date"][0]
    assert "in the future" in reasons[11]["date"][0]
    assert first.problems.get(row_number=10).values["Date"] == "31/02/2026"
    session.refresh_from_db()
    assert session.status == Session.Attendance.DNA
    assert booked.events.filter(action="dna").count() == 1
    visits_before = visit_set(people.operator_x)
    assert {v[0] for v in visits_before} == {accepted.pk, ended.pk}
    [queued] = unmatched_queue(people.operator_x)
    assert (queued.membership_number, queued.row_number) == ("NOBODY", 9)

    second = run(people, mapping, data)

    assert (second.recorded, second.sessions_marked, second.unmatched) == (0, 0, 0)
    assert (second.duplicates, second.rejected, second.skipped) == (5, 5, 2)
    assert_adds_up(second, len(lines))
    assert visit_set(people.operator_x) == visits_before
    assert unmatched_queue(people.operator_x).count() == 1
    assert booked.events.filter(action="dna").count() == 1
    session.refresh_from_db()
    assert session.status == Session.Attendance.DNA


def test_a_session_marked_otherwise_on_the_register_is_left_and_the_row_rejected(
    people, frozen_now
):
    frozen_now(BEFORE)
    booked = referral_in_state(people, Status.ACCEPTED)
    at = dt.datetime(2026, 1, 10, 10, 0, tzinfo=LONDON)
    services.referral_book(referral=booked, by=people.coordinator_x, first_session_at=at)
    services.referral_set_membership_number(referral=booked, by=people.coordinator_x, number="B1")
    frozen_now(LATER)
    session = booked.sessions.order_by("scheduled_at").first()
    when = session.scheduled_at.astimezone(LONDON) + dt.timedelta(minutes=5)
    services.session_record_attendance(
        session=session, status=Session.Attendance.ATTENDED, by=people.instructor_x
    )
    mapping = import_mapping_save(
        operator=people.operator_x, name="L", mapping=mapping_for(Mess()), by=people.coordinator_x
    )
    data = f"Date,Time,Member No,Activity,Status\r\n{when:%d/%m/%Y,%H:%M},B1,Gym,Cancelled\r\n"
    data = data.encode()

    done = run(people, mapping, data)

    assert done.rejected == 1
    [problem] = done.problems.all()
    assert "already marked attended" in problem.reasons["status"][0]
    session.refresh_from_db()
    assert session.status == Session.Attendance.ATTENDED


def test_an_attended_row_of_a_booked_class_marks_the_register_and_starts_the_referral_once(
    people, frozen_now
):
    """A leisure system's class check-in is the register's mark, not a second visit: the
    referral starts (the referrer hears once), and a gym visit another day is a visit."""
    frozen_now(BEFORE)
    booked = referral_in_state(people, Status.ACCEPTED)
    at = dt.datetime(2026, 1, 10, 10, 0, tzinfo=LONDON)
    services.referral_book(referral=booked, by=people.coordinator_x, first_session_at=at)
    services.referral_set_membership_number(referral=booked, by=people.coordinator_x, number="B1")
    frozen_now(LATER)
    session = booked.sessions.order_by("scheduled_at").first()
    arrived = session.scheduled_at.astimezone(LONDON) - dt.timedelta(minutes=10)
    gym = arrived + dt.timedelta(days=2)
    mapping = import_mapping_save(
        operator=people.operator_x,
        name="Legend",
        mapping=mapping_for(Mess()),
        by=people.coordinator_x,
    )
    data = (
        "Date,Time,Member No,Activity,Status,Site,Notes\r\n"
        f"{arrived:%d/%m/%Y,%H:%M},B1,Aquafit,Attended,,\r\n"
        f"{gym:%d/%m/%Y,%H:%M},B1,Gym,Attended,,\r\n"
    ).encode()

    first = run(people, mapping, data)

    assert (first.sessions_marked, first.recorded, first.rejected) == (1, 1, 0)
    session.refresh_from_db()
    assert session.status == Session.Attendance.ATTENDED
    booked.refresh_from_db()
    assert booked.status == Status.ACTIVE
    assert booked.events.filter(action="start").count() == 1
    told = Notification.objects.filter(event__referral=booked, event__action="start")
    channels = set(told.values_list("channel", flat=True))
    assert told.count() == len(channels) >= 1  # one per channel: told once
    [gym_visit] = Visit.objects.filter(referral=booked)
    assert gym_visit.activity == "Gym"

    second = run(people, mapping, data)

    assert (second.sessions_marked, second.recorded, second.duplicates) == (0, 0, 2)
    assert booked.events.filter(action="start").count() == 1
    assert told.count() == len(channels)


def test_a_class_of_an_ended_referral_is_a_visit_and_its_register_stays_closed(people, frozen_now):
    frozen_now(BEFORE)
    ended = referral_in_state(people, Status.ACCEPTED)
    at = dt.datetime(2026, 1, 10, 10, 0, tzinfo=LONDON)
    services.referral_book(referral=ended, by=people.coordinator_x, first_session_at=at)
    services.referral_set_membership_number(referral=ended, by=people.coordinator_x, number="E1")
    session = ended.sessions.order_by("scheduled_at").first()
    frozen_now(dt.datetime(2026, 2, 1, 12, 0, tzinfo=dt.UTC))
    services.ACTION_SERVICES["discharge"](
        referral=ended, by=people.coordinator_x, reason="patient_choice"
    )
    frozen_now(LATER)
    mapping = import_mapping_save(
        operator=people.operator_x,
        name="Legend",
        mapping=mapping_for(Mess()),
        by=people.coordinator_x,
    )
    when = session.scheduled_at.astimezone(LONDON)
    data = (
        "Date,Time,Member No,Activity,Status,Site,Notes\r\n"
        f"{when:%d/%m/%Y,%H:%M},E1,Aquafit,Attended,,\r\n"
    ).encode()

    done = run(people, mapping, data)

    assert (done.recorded, done.sessions_marked) == (1, 0)
    session.refresh_from_db()
    assert session.status == Session.Attendance.BOOKED


# --- Matching -----------------------------------------------------------------------------------

IDENTIFIED = ColumnMapping(
    date="Date",
    membership_number="Member",
    referral_reference="Ref",
    nhs_number="NHS",
    date_of_birth="Born",
)


def test_rows_match_by_reference_or_nhs_number_with_date_of_birth(people, frozen_now):
    frozen_now(BEFORE)
    by_reference = referral_in_state(people, Status.ACCEPTED)
    by_nhs = referral_in_state(people, Status.ACCEPTED)
    frozen_now(LATER)
    patient = by_nhs.patient
    mapping = import_mapping_save(
        operator=people.operator_x, name="Ids", mapping=IDENTIFIED, by=people.coordinator_x
    )
    born = f"{patient.date_of_birth:%d/%m/%Y}"
    data = "\n".join(
        [
            "Date,Member,Ref,NHS,Born",
            f"12/01/2026,,{by_reference.reference.lower()},,",
            f"13/01/2026,UNKNOWN,,{patient.nhs_number},{born}",
            f"14/01/2026,,,{patient.nhs_number},01/01/1930",  # the wrong date of birth
        ]
    ).encode()

    done = run(people, mapping, data)

    assert (done.recorded, done.unmatched) == (2, 1)
    stored = dict(Visit.objects.values_list("occurred_at__date", "referral_id"))
    assert stored == {dt.date(2026, 1, 12): by_reference.pk, dt.date(2026, 1, 13): by_nhs.pk}


def test_another_operators_referral_is_never_matched(people, scheme):
    theirs = scheme.referrals["M00000"]
    mapping = import_mapping_save(
        operator=people.operator_y, name="Ids", mapping=IDENTIFIED, by=people.coordinator_y
    )
    patient = theirs.patient
    data = "\n".join(
        [
            "Date,Member,Ref,NHS,Born",
            "12/01/2026,M00000,,,",
            f"13/01/2026,,{theirs.reference},,",
            f"14/01/2026,,,{patient.nhs_number},{patient.date_of_birth:%d/%m/%Y}",
        ]
    ).encode()
    created = import_create(
        operator=people.operator_y,
        mapping=mapping,
        filename="y.csv",
        data=data,
        by=people.coordinator_y,
    )

    done = import_run(created.pk)

    assert (done.recorded, done.unmatched) == (0, 3)
    assert not Visit.objects.exists()
    row = unmatched_queue(people.operator_y).first()
    with pytest.raises(PermissionDenied):
        unmatched_resolve(row=row, referral=theirs, by=people.coordinator_y)
    with pytest.raises(PermissionDenied):  # nor may X's coordinator use Y's mapping
        import_create(
            operator=people.operator_x,
            mapping=mapping,
            filename="y.csv",
            data=data,
            by=people.coordinator_x,
        )


# --- The queue ------------------------------------------------------------------------------------


def test_resolving_an_unmatched_row_records_its_visit_once(people, scheme):
    data = b"Date,Time,Member No,Activity,Status\r\n2026-01-12,09:00,NEW-1,Gym,Attended\r\n"
    run(people, scheme.mapping, data)
    [row] = unmatched_queue(people.operator_x)
    referral = scheme.referrals["M00001"]

    visit = unmatched_resolve(row=row, referral=referral, by=people.coordinator_x)

    assert visit.referral == referral and visit.source == Visit.Source.IMPORT
    assert visit.occurred_at == dt.datetime(2026, 1, 12, 9, 0, tzinfo=LONDON)
    assert not unmatched_queue(people.operator_x).exists()
    with pytest.raises(ValidationError, match="resolved already"):
        unmatched_resolve(row=row, referral=referral, by=people.coordinator_x)
    with pytest.raises(PermissionDenied):
        unmatched_resolve(row=row, referral=referral, by=people.instructor_x)

    again = run(people, scheme.mapping, data)

    assert (again.recorded, again.unmatched, again.duplicates) == (0, 0, 1)
    assert Visit.objects.count() == 1


def test_a_visit_outside_the_chosen_referral_is_refused_on_resolving(people, scheme):
    data = b"Date,Time,Member No,Activity,Status\r\n2025-06-01,09:00,NEW-1,Gym,Attended\r\n"
    run(people, scheme.mapping, data)
    [row] = unmatched_queue(people.operator_x)

    with pytest.raises(ValidationError, match="Before the referral was accepted"):
        unmatched_resolve(row=row, referral=scheme.referrals["M00000"], by=people.coordinator_x)
    assert not Visit.objects.exists()


def test_a_queued_row_matched_by_a_later_import_leaves_the_queue(people, scheme):
    data = b"Date,Time,Member No,Activity,Status\r\n2026-01-12,09:00,NEW-1,Gym,Attended\r\n"
    run(people, scheme.mapping, data)
    referral = scheme.referrals["M00002"]
    services.referral_set_membership_number(
        referral=referral, by=people.coordinator_x, number="NEW-1"
    )

    again = run(people, scheme.mapping, data)

    assert again.recorded == 1
    row = ImportRowProblem.objects.get(kind=ImportRowKind.UNMATCHED)
    assert row.resolved_referral == referral and row.resolved_at is not None
    assert not unmatched_queue(people.operator_x).exists()


# --- Upload, preview, run -------------------------------------------------------------------------


def test_a_mapping_that_does_not_fit_the_file_is_refused_with_what_to_fix(people, scheme):
    wrong = import_mapping_save(
        operator=people.operator_x,
        name="Other system",
        mapping=dataclasses.replace(mapping_for(Mess()), membership_number="Member Number"),
        by=people.coordinator_x,
    )

    with pytest.raises(ValidationError) as refused:
        run(people, wrong, csv_file(visits(3)))

    [message] = refused.value.message_dict["mapping"]
    assert (
        message == 'The membership number column "Member Number" is not in the file '
        '(did you mean "Member No"?)'
    )
    assert not AttendanceImport.objects.exists()


def test_a_file_that_is_no_spreadsheet_is_refused(people, scheme):
    with pytest.raises(ValidationError) as refused:
        run(people, scheme.mapping, b"\xd0\xcf\x11\xe0 old excel", filename="old.xls")
    assert "old-format (.xls)" in refused.value.message_dict["file"][0]


def test_only_the_operators_coordinators_import(people, scheme):
    with pytest.raises(PermissionDenied):
        run(people, scheme.mapping, csv_file(visits(3)), by=people.instructor_x)
    with pytest.raises(PermissionDenied):
        run(people, scheme.mapping, csv_file(visits(3)), by=people.coordinator_y)


def test_the_preview_spells_out_each_rows_problems_and_changes_nothing(people, scheme):
    data = (
        b"Date,Time,Member No,Activity,Status\r\n"
        b"2026-01-12,09:00,M00000,Gym,Attended\r\n"
        b"01/13/2026,9am?,M00000,Gym,Maybe\r\n"
    )
    created = import_create(
        operator=people.operator_x,
        mapping=scheme.mapping,
        filename="v.csv",
        data=data,
        by=people.coordinator_x,
    )

    preview = import_preview(created, n=20)

    first, second = preview.rows
    assert first.clean is not None and first.clean.membership_number == "M00000"
    assert second.clean is None and len(second.problems) == 3
    assert "looks like a US month/day date" in second.problems[0]
    assert not Visit.objects.exists()
    created.refresh_from_db()
    assert created.status == AttendanceImport.Status.UPLOADED


def test_uploading_queues_the_run_after_commit(
    people, scheme, django_capture_on_commit_callbacks, monkeypatch
):
    queued = []
    monkeypatch.setattr(
        "leisure.tasks.attendance_import_run.apply_async",
        lambda args, retry, connection: queued.append(args),
    )
    with django_capture_on_commit_callbacks(execute=True):
        created = import_create(
            operator=people.operator_x,
            mapping=scheme.mapping,
            filename="v.csv",
            data=csv_file(visits(3)),
            by=people.coordinator_x,
        )
    assert queued == [[created.pk]]


def test_the_task_runs_the_import_and_running_it_again_does_nothing(people, scheme):
    from leisure.tasks import attendance_import_run

    created = import_create(
        operator=people.operator_x,
        mapping=scheme.mapping,
        filename="v.csv",
        data=csv_file(visits(20, members=6)),
        by=people.coordinator_x,
    )
    attendance_import_run.apply(args=[created.pk]).get()
    done = AttendanceImport.objects.get(pk=created.pk)
    assert done.status == AttendanceImport.Status.DONE and done.rows_read == 20
    counts = (done.recorded, done.duplicates, done.unmatched, done.rejected)

    attendance_import_run.apply(args=[created.pk]).get()

    again = AttendanceImport.objects.get(pk=created.pk)
    assert (again.recorded, again.duplicates, again.unmatched, again.rejected) == counts


def test_a_run_resumes_after_its_last_committed_chunk(people, scheme):
    rows = visits(30, seed=2, members=6)
    created = import_create(
        operator=people.operator_x,
        mapping=scheme.mapping,
        filename="v.csv",
        data=csv_file(rows),
        by=people.coordinator_x,
    )
    whole = import_run(created.pk)
    expected = (whole.recorded, whole.unmatched, whole.duplicates, whole.rejected)
    visits_after = visit_set(people.operator_x)
    # As if the worker died after two chunks: undo what came after them and run again.
    with transaction.atomic():
        Visit.objects.all().delete()
        ImportRowProblem.objects.all().delete()
        AttendanceImport.objects.filter(pk=created.pk).update(
            status=AttendanceImport.Status.UPLOADED,
            rows_read=0,
            recorded=0,
            duplicates=0,
            unmatched=0,
            rejected=0,
            skipped=0,
        )
    import_run(created.pk)
    assert visit_set(people.operator_x) == visits_after
    AttendanceImport.objects.filter(pk=created.pk).update(status=AttendanceImport.Status.RUNNING)

    resumed = import_run(created.pk)  # nothing left after the last row

    assert (resumed.recorded, resumed.unmatched, resumed.duplicates, resumed.rejected) == expected


def test_an_unreadable_file_fails_the_import_with_its_message(people, scheme, monkeypatch):
    created = import_create(
        operator=people.operator_x,
        mapping=scheme.mapping,
        filename="v.csv",
        data=csv_file(visits(3)),
        by=people.coordinator_x,
    )
    AttendanceImport.objects.filter(pk=created.pk).update(data=b"\xd0\xcf\x11\xe0 broken")

    done = import_run(created.pk)

    assert done.status == AttendanceImport.Status.FAILED
    assert "old-format (.xls)" in done.failure


# --- Overlapping files ---------------------------------------------------------------------------


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    seed=st.integers(0, 10_000),
    sizes=st.tuples(st.integers(0, 12), st.integers(0, 12), st.integers(0, 12)),
    a_first=st.booleans(),
    mess=st.sampled_from(
        [Mess(), Mess(separator=";", date_style="uk", bom=True), Mess(sloppy_text=True)]
    ),
)
def test_overlapping_files_in_any_order_and_again_equal_their_union_once(
    people, scheme, seed, sizes, a_first, mess
):
    shared_n, only_a_n, only_b_n = sizes
    pool = visits(shared_n + only_a_n + only_b_n, seed=seed, members=6)
    shared, only_a, only_b = (
        pool[:shared_n],
        pool[shared_n : shared_n + only_a_n],
        pool[shared_n + only_a_n :],
    )
    rng = random.Random(seed)
    file_a, file_b = shared + only_a, shared + only_b
    rng.shuffle(file_a)
    rng.shuffle(file_b)
    if not a_first:
        file_a, file_b = file_b, file_a

    def outcome(files):
        with transaction.atomic():
            results = [run(people, scheme.mapping, csv_file(rows, mess)) for rows in files]
            state = (
                visit_set(people.operator_x),
                set(unmatched_queue(people.operator_x).values_list("row_key", flat=True)),
            )
            transaction.set_rollback(True)
        return state, results

    (in_turn, results) = outcome([file_a, file_b, file_a, file_b])
    (union_once, _) = outcome([file_a + [row for row in file_b if row not in file_a]])

    assert in_turn == union_once
    for again in results[2:]:
        assert (again.recorded, again.unmatched, again.sessions_marked) == (0, 0, 0)


# --- Retention ------------------------------------------------------------------------------------


def test_retention_clears_files_and_row_values_after_the_days_kept(people, scheme, settings):
    settings.PORTAL_IMPORT_RETENTION_DAYS = 90
    data = (
        b"Date,Time,Member No,Activity,Status\r\n"
        b"2026-01-12,09:00,M00000,Gym,Attended\r\n"
        b"2026-01-12,09:00,NEW-1,Gym,Attended\r\n"
        b"2026-01-12,09:00,M00000,Gym,Perhaps\r\n"
    )
    old = run(people, scheme.mapping, data)
    AttendanceImport.objects.filter(pk=old.pk).update(
        created_at=timezone.now() - dt.timedelta(days=91)
    )
    recent = run(people, scheme.mapping, csv_file(visits(3, members=6)))
    visits_before = visit_set(people.operator_x)

    plan = retention.retention_plan(timezone.now())
    assert dict(plan.step_ids)[CLEAR_IMPORTS] == (old.pk,)
    assert any(row.action == CLEAR_IMPORTS and row.count == 1 for row in plan.rows)
    result = retention.retention_apply(plan)

    assert result.counts[CLEAR_IMPORTS] == 1
    old.refresh_from_db()
    assert bytes(old.data) == b"" and old.data_cleared_at is not None
    assert (old.recorded, old.unmatched, old.rejected) == (1, 1, 1)  # the totals stand
    for problem in old.problems.all():
        assert problem.values == {} and problem.reasons == {}
        assert problem.membership_number == "" and problem.activity == ""
    recent.refresh_from_db()
    assert bytes(recent.data) != b""
    assert visit_set(people.operator_x) == visits_before
    # Run again: nothing to do. And the old file imported again is still recognised.
    assert dict(retention.retention_plan(timezone.now()).step_ids)[CLEAR_IMPORTS] == ()
    again = run(people, scheme.mapping, data)
    assert (again.recorded, again.unmatched, again.duplicates) == (0, 0, 2)
