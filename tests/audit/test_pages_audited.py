"""Every page that shows patient-identifiable data writes one access record with the viewer's
user, organisation, role, kind and the referrals shown. The list of pages is checked against
the URLconf, so a new page under referrals, triage, today or outcomes fails here until it is
audited (or listed as showing no patient data, with the reason)."""


import pytest
from django.urls import get_resolver, reverse
from django.utils import timezone

from accounts.models import Role
from audit.models import AccessKind, AccessRecord
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
}
AUDITED_NAMESPACES = ("referrals", "triage", "register", "outcomes")


def _names_in(namespace: str) -> set[str]:
    resolver = get_resolver()
    _, sub = resolver.namespace_dict[namespace]
    return {f"{namespace}:{name}" for name in sub.reverse_dict if isinstance(name, str)}


@pytest.fixture
def pages(people):
    """(url name, user, method, url, data, headers, kind, referrals shown, role).

    `None` for the referrals shown where the page lists whatever the viewer may see."""
    draft = referral_in_state(people, Status.DRAFT)
    submitted = referral_in_state(people, Status.SUBMITTED)
    active = referral_in_state(people, Status.ACTIVE)
    completed = referral_in_state(people, Status.COMPLETED)
    session = Session.objects.filter(referral=active, status=Session.Attendance.BOOKED).first()
    session_due_now(session)
    day = timezone.localdate(session.scheduled_at)
    admin = UserFactory(is_staff=True, is_superuser=True)
    ref, coord, instr = people.referrer_a, people.coordinator_x, people.instructor_x
    detail = reverse("referrals:detail", args=[active.reference])
    return [
        ("home", ref, "get", reverse("home"), None, {}, AccessKind.LIST, None, Role.REFERRER),
        ("referrals:dashboard", ref, "get", reverse("referrals:dashboard") + "?clinician=all",
         None, {}, AccessKind.LIST, None, Role.REFERRER),
        ("referrals:detail", ref, "get", detail, None, {}, AccessKind.REFERRAL_PAGE, [active],
         Role.REFERRER),
        ("referrals:detail", coord, "get", detail, None, {}, AccessKind.REFERRAL_PAGE, [active],
         Role.COORDINATOR),
        ("referrals:step", ref, "get", reverse("referrals:step", args=[draft.reference, "patient"]),
         None, {}, AccessKind.REFERRAL_PAGE, [draft], Role.REFERRER),
        ("referrals:check", ref, "get", reverse("referrals:check", args=[draft.reference]),
         None, {}, AccessKind.REFERRAL_PAGE, [draft], Role.REFERRER),
        ("referral_discharge_summary", ref, "get",
         reverse("referral_discharge_summary", args=[completed.reference]), None, {},
         AccessKind.PRINTOUT, [completed], Role.REFERRER),
        ("triage:worklist", coord, "get", reverse("triage:worklist"), None, {}, AccessKind.LIST,
         None, Role.COORDINATOR),
        ("triage:action", coord, "get", reverse("triage:action", args=[submitted.reference,
         "accept"]), None, {}, AccessKind.REFERRAL_PAGE, [submitted], Role.COORDINATOR),
        ("triage:class", coord, "get", reverse("triage:class", args=[people.class_x.public_id]),
         None, {}, AccessKind.LIST, [active], Role.COORDINATOR),
        # The completed referral's first session was that day too.
        ("register:today", instr, "get", reverse("register:today") + f"?day={day}", None, {},
         AccessKind.LIST, [active, completed], Role.INSTRUCTOR),
        ("register:register", instr, "get",
         reverse("register:register", args=[people.class_x.public_id, day]), None, {},
         AccessKind.LIST, [active, completed], Role.INSTRUCTOR),
        ("register:mark", instr, "post", reverse("register:mark", args=[session.public_id]),
         {"status": "attended"}, {"HX-Request": "true"}, AccessKind.LIST, [active],
         Role.INSTRUCTOR),
        ("register:caseload", instr, "get", reverse("register:caseload"), None, {},
         AccessKind.LIST, None, Role.INSTRUCTOR),
        ("outcomes:progress", instr, "get", reverse("outcomes:progress", args=[active.reference]),
         None, {}, AccessKind.REFERRAL_PAGE, [active], Role.INSTRUCTOR),
        ("outcomes:record", instr, "get",
         reverse("outcomes:record", args=[active.reference, "phq9", "baseline"]), None, {},
         AccessKind.REFERRAL_PAGE, [active], Role.INSTRUCTOR),
        ("outcomes:due", instr, "get", reverse("outcomes:due"), None, {}, AccessKind.LIST, None,
         Role.INSTRUCTOR),
        ("admin:referrals_patient_changelist", admin, "get",
         reverse("admin:referrals_patient_changelist"), None, {}, AccessKind.ADMIN, None,
         "platform_staff"),
        ("admin:referrals_referral_change", admin, "get",
         reverse("admin:referrals_referral_change", args=[active.pk]), None, {},
         AccessKind.ADMIN, [active], "platform_staff"),
        ("admin:outcomes_assessment_changelist", admin, "get",
         reverse("admin:outcomes_assessment_changelist"), None, {}, AccessKind.ADMIN, None,
         "platform_staff"),
    ]


def test_every_page_with_patient_data_is_in_the_walk(pages):
    walked = {page[0] for page in pages}
    for namespace in AUDITED_NAMESPACES:
        for name in _names_in(namespace):
            assert name in walked or name in NOT_PATIENT_DATA, f"{name} is not audited"


def test_every_page_with_patient_data_writes_one_access_record(client, people, pages):
    for name, user, method, url, data, headers, kind, referrals, role in pages:
        client.force_login(user)
        before = set(AccessRecord.objects.values_list("id", flat=True))
        response = getattr(client, method)(url, data or {}, headers=headers)
        assert response.status_code == 200, (name, response.status_code)
        new = AccessRecord.objects.exclude(id__in=before)
        assert new.count() == 1, name
        record = new.get()
        assert record.user == user, name
        assert record.kind == kind, name
        assert record.role == role, name
        assert record.url_name == name, name
        assert "?" not in record.path
        if role == "platform_staff":
            assert record.organisation is None
        else:
            membership = next(m for m in user.memberships.all() if m.role == role)
            assert record.organisation_id == membership.organisation_id, name
            assert record.organisation_name == membership.organisation.name
        if referrals is not None:
            assert set(record.referral_ids) == {r.pk for r in referrals}, name
            assert set(record.patient_ids) == {r.patient_id for r in referrals}, name


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

    referral_in_state(people, Status.SUBMITTED)
    client.force_login(people.coordinator_x)
    url = reverse("triage:worklist")
    client.get(url)
    with CaptureQueriesContext(connection) as captured:
        client.get(url)
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


