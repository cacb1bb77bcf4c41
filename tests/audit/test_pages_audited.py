"""Every page that shows patient-identifiable data writes one access record with the viewer's
user, organisation, role, kind and the referrals shown. The list of pages is checked against
the URLconf, so a new page under referrals, triage, today or outcomes fails here until it is
audited (or listed as showing no patient data, with the reason)."""

from dataclasses import dataclass, field

import pytest
from django.urls import get_resolver, reverse
from django.utils import timezone

from accounts.models import Role
from audit.models import AccessKind, AccessRecord
from audit.services import PLATFORM_STAFF
from referrals.alerts import incident_record
from referrals.models import Session, Status
from tests.builders import referral_in_state, session_due_now
from tests.factories import UserFactory

# Pages in the namespaces below that show no patient data, and why.
NOT_PATIENT_DATA = {
    "referrals:clear_search": "forgets the search and redirects",
    "triage:clear_search": "forgets the search and redirects",
    "referrals:confirmation": "shows the reference only",
    "referrals:cancel": "shows the reference only; the cancel itself is on the timeline",
    "referrals:answer": "POST only; a re-shown form is the referral page, audited there",
    "triage:classes": "class names and counts of places, no patients",
    "referrals:new": "the empty form; 'Find patient' is audited (test_find_patient_is_audited)",
    "triage:imports": "the upload form and the imports' file names and counts",
    "triage:import_mapping": "the file's column names and the words of its status column",
    "triage:import_progress": "an import's counters",
}
AUDITED_NAMESPACES = ("referrals", "triage", "register", "outcomes")


def _imports(people):
    """A draft attendance import, one run to the end, and its unmatched row."""
    from leisure.imports.mappings import import_mapping_save
    from leisure.imports.run import import_run
    from leisure.imports.uploads import import_upload
    from leisure.models import AttendanceImport, ImportRowKind, ImportStatus
    from tests.leisure.import_files import Mess, mapping_for

    mapping = import_mapping_save(
        operator=people.operator_x,
        name="Legend",
        mapping=mapping_for(Mess()),
        by=people.coordinator_x,
    )
    data = (
        b"Date,Time,Member No,Activity,Status\r\n"
        b"2026-02-02,10:00,UNKNOWN1,Aquafit,Attended\r\n"
        b"31/02/2026,10:00,UNKNOWN1,Aquafit,Attended\r\n"
    )
    made = [
        import_upload(
            operator=people.operator_x,
            filename="visits.csv",
            data=data,
            by=people.coordinator_x,
            mapping=mapping,
        )
        for _ in range(2)
    ]
    AttendanceImport.objects.filter(pk=made[1].pk).update(
        status=ImportStatus.UPLOADED, source_name=f"{people.operator_x.pk}:{mapping.pk}"
    )
    done = import_run(made[1].pk)
    return made[0], done, done.problems.get(kind=ImportRowKind.UNMATCHED)


def _names_in(namespace: str) -> set[str]:
    resolver = get_resolver()
    _, sub = resolver.namespace_dict[namespace]
    return {f"{namespace}:{name}" for name in sub.reverse_dict if isinstance(name, str)}


@dataclass(frozen=True)
class Page:
    name: str
    user: object
    url: str
    kind: str
    role: str
    # None where the page lists whatever the viewer may see.
    referrals: list | None
    method: str = "get"
    data: dict = field(default_factory=dict)
    headers: dict = field(default_factory=dict)


@pytest.fixture
def pages(people) -> list[Page]:
    draft = referral_in_state(people, Status.DRAFT)
    submitted = referral_in_state(people, Status.SUBMITTED)
    active = referral_in_state(people, Status.ACTIVE)
    completed = referral_in_state(people, Status.COMPLETED)
    session = Session.objects.filter(referral=active, status=Session.Attendance.BOOKED).first()
    session_due_now(session)
    day = timezone.localdate(session.scheduled_at)
    alert = incident_record(
        session=session,
        by=people.instructor_x,
        incident_kind="dizziness",
        description="Dizzy on standing.",
        immediate_action="Sat down; recovered.",
    )
    staff = UserFactory(is_staff=True, is_superuser=True)
    import_draft, import_done, unmatched = _imports(people)
    ref, coord, instr = people.referrer_a, people.coordinator_x, people.instructor_x
    referrer, coordinator, instructor = Role.REFERRER, Role.COORDINATOR, Role.INSTRUCTOR
    page_, list_, admin = AccessKind.REFERRAL_PAGE, AccessKind.LIST, AccessKind.ADMIN
    detail = reverse("referrals:detail", args=[active.reference])
    return [
        # A referrer's home shows counts only (their list is the dashboard); the provider's lists.
        Page("home", coord, reverse("home"), list_, coordinator, None),
        Page("referrals:dashboard", ref, "/referrals/?clinician=all", list_, referrer, None),
        Page("referrals:detail", ref, detail, page_, referrer, [active]),
        Page("referrals:detail", coord, detail, page_, coordinator, [active]),
        Page(
            "referrals:consent",
            coord,
            reverse("referrals:consent", args=[active.reference]),
            page_,
            coordinator,
            [active],
        ),
        Page(
            "referrals:step",
            ref,
            reverse("referrals:step", args=[draft.reference, "patient"]),
            page_,
            referrer,
            [draft],
        ),
        Page(
            "referrals:check",
            ref,
            reverse("referrals:check", args=[draft.reference]),
            page_,
            referrer,
            [draft],
        ),
        Page(
            "referral_discharge_summary",
            ref,
            reverse("referral_discharge_summary", args=[completed.reference]),
            AccessKind.PRINTOUT,
            referrer,
            [completed],
        ),
        Page(
            "referrals:alert_acknowledge",
            coord,
            reverse("referrals:alert_acknowledge", args=[active.reference, alert.public_id]),
            page_,
            coordinator,
            [active],
        ),
        Page(
            "referrals:letter",
            ref,
            reverse("referrals:letter", args=[active.reference]),
            AccessKind.PRINTOUT,
            referrer,
            [active],
        ),
        Page("triage:worklist", coord, reverse("triage:worklist"), list_, coordinator, None),
        Page(
            "triage:action",
            coord,
            reverse("triage:action", args=[submitted.reference, "accept"]),
            page_,
            coordinator,
            [submitted],
        ),
        Page(
            "triage:contact_attempts",
            coord,
            reverse("triage:contact_attempts", args=[submitted.reference]),
            page_,
            coordinator,
            [submitted],
        ),
        Page(
            "triage:membership_number",
            coord,
            reverse("triage:membership_number", args=[active.reference]),
            page_,
            coordinator,
            [active],
        ),
        Page(
            "triage:class",
            coord,
            reverse("triage:class", args=[people.class_x.public_id]),
            list_,
            coordinator,
            [active],
        ),
        # The completed referral's first session was on that day too.
        Page(
            "register:today",
            instr,
            reverse("register:today") + f"?day={day}",
            list_,
            instructor,
            [active, completed],
        ),
        Page(
            "register:register",
            instr,
            reverse("register:register", args=[people.class_x.public_id, day]),
            list_,
            instructor,
            [active, completed],
        ),
        Page(
            "register:mark",
            instr,
            reverse("register:mark", args=[session.public_id]),
            list_,
            instructor,
            [active],
            method="post",
            data={"status": "attended"},
            headers={"HX-Request": "true"},
        ),
        Page(
            "triage:import",
            coord,
            reverse("triage:import", args=[import_draft.public_id]),
            list_,
            coordinator,
            None,
        ),
        Page(
            "triage:import_rejected",
            coord,
            reverse("triage:import_rejected", args=[import_done.public_id]),
            AccessKind.EXPORT,
            coordinator,
            None,
        ),
        Page("triage:unmatched", coord, reverse("triage:unmatched"), list_, coordinator, None),
        Page(
            "triage:unmatched_resolve",
            coord,
            reverse("triage:unmatched_resolve", args=[unmatched.public_id]),
            list_,
            coordinator,
            None,
        ),
        Page("register:caseload", instr, reverse("register:caseload"), list_, instructor, None),
        Page(
            "register:incident",
            instr,
            reverse("register:incident", args=[session.public_id]),
            page_,
            instructor,
            [active],
        ),
        Page(
            "outcomes:progress",
            instr,
            reverse("outcomes:progress", args=[active.reference]),
            page_,
            instructor,
            [active],
        ),
        Page(
            "outcomes:record",
            instr,
            reverse("outcomes:record", args=[active.reference, "phq9", "baseline"]),
            page_,
            instructor,
            [active],
        ),
        Page("outcomes:due", instr, reverse("outcomes:due"), list_, instructor, None),
        Page(
            "admin:referrals_patient_changelist",
            staff,
            reverse("admin:referrals_patient_changelist"),
            admin,
            PLATFORM_STAFF,
            None,
        ),
        Page(
            "admin:referrals_referral_change",
            staff,
            reverse("admin:referrals_referral_change", args=[active.pk]),
            admin,
            PLATFORM_STAFF,
            [active],
        ),
        Page(
            "admin:referrals_visit_changelist",
            staff,
            reverse("admin:referrals_visit_changelist"),
            admin,
            PLATFORM_STAFF,
            None,
        ),
        Page(
            "admin:outcomes_assessment_changelist",
            staff,
            reverse("admin:outcomes_assessment_changelist"),
            admin,
            PLATFORM_STAFF,
            None,
        ),
    ]


def test_every_page_with_patient_data_is_in_the_walk(pages):
    walked = {page.name for page in pages}
    for namespace in AUDITED_NAMESPACES:
        for name in _names_in(namespace):
            assert name in walked or name in NOT_PATIENT_DATA, f"{name} is not audited"


def test_every_page_with_patient_data_writes_one_access_record(client, people, pages):
    for page in pages:
        client.force_login(page.user)
        before = set(AccessRecord.objects.values_list("id", flat=True))
        response = getattr(client, page.method)(page.url, page.data, headers=page.headers)
        assert response.status_code == 200, (page.name, response.status_code)
        new = AccessRecord.objects.exclude(id__in=before)
        assert new.count() == 1, page.name
        record = new.get()
        assert (record.user, record.kind, record.role) == (page.user, page.kind, page.role)
        assert record.url_name == page.name
        assert "?" not in record.path
        if page.role == PLATFORM_STAFF:
            assert record.organisation is None
        else:
            membership = next(m for m in page.user.memberships.all() if m.role == page.role)
            assert record.organisation_id == membership.organisation_id, page.name
            assert record.organisation_name == membership.organisation.name
        if page.referrals is not None:
            assert set(record.referral_ids) == {r.pk for r in page.referrals}, page.name
            assert set(record.patient_ids) == {r.patient_id for r in page.referrals}, page.name


def test_find_patient_is_audited(client, people):
    existing = referral_in_state(people, Status.DRAFT)
    client.force_login(people.referrer_a)
    response = client.post(
        reverse("referrals:new"), {"nhs_number": existing.patient.nhs_number, "find": "1"}
    )
    assert response.status_code == 200
    record = AccessRecord.objects.get()
    assert record.patient_ids == [existing.patient_id]
    assert record.organisation == people.practice_a


def test_a_list_page_adds_exactly_one_query(client, people):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    referral = referral_in_state(people, Status.SUBMITTED)
    client.force_login(people.coordinator_x)
    url = reverse("triage:worklist")
    client.get(url)
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    assert response.status_code == 200
    assert f">{referral.reference}</a>" in response.content.decode()  # the row audited
    # pghistory sends its context in the same statement as a write ("SELECT set_config(...);
    # INSERT ..."), so the record is one query, and nothing else touches the audit table.
    audit = [q["sql"] for q in captured if "audit_accessrecord" in q["sql"]]
    assert len(audit) == 1
    assert 'INSERT INTO "audit_accessrecord"' in audit[0]


def test_the_request_id_is_recorded_and_echoed(client, people):
    referral = referral_in_state(people, Status.SUBMITTED)
    client.force_login(people.referrer_a)
    response = client.get(
        reverse("referrals:detail", args=[referral.reference]),
        headers={"X-Request-ID": "trace-1234abcd"},
    )
    assert response["X-Request-ID"] == "trace-1234abcd"
    assert AccessRecord.objects.get().request_id == "trace-1234abcd"


def test_an_unsafe_request_id_is_replaced_with_a_fresh_one(client, people):
    client.force_login(people.referrer_a)
    response = client.get(reverse("home"), headers={"X-Request-ID": "<script>x</script>"})
    assert response["X-Request-ID"] != "<script>x</script>"
    assert len(response["X-Request-ID"]) == 36


def test_someone_elses_referral_is_a_404_and_writes_nothing(client, people):
    referral = referral_in_state(people, Status.SUBMITTED)
    client.force_login(people.referrer_b)
    assert client.get(reverse("referrals:detail", args=[referral.reference])).status_code == 404
    assert not AccessRecord.objects.exists()
