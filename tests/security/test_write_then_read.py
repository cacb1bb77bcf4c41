"""One organisation writes, another reads (issue 9, item 6): after each write by world "own"
(practice A, operator X), every page world "other" (practice B, operator Y) sees is as it was,
and none of its rows changed.

The first scenario is the item-1 reproduction: a referrer of practice A enters the NHS number of
a patient practice B referred, with forged details.
"""

import datetime
import re

import pytest
from django.test import Client

from accounts import services as account_services
from accounts.models import Membership, Role
from facilities import services as facility_services
from outcomes.services import assessment_record
from referrals import services
from referrals.models import Session, Status
from tests.builders import referral_in_state, session_due_now

from .helpers import Fingerprint, build_worlds, client_for, mirrored, rendered, text_of

CSRF = re.compile(r'name="csrfmiddlewaretoken" value="[^"]*"')


# "Who has viewed this record" lists the readers' own earlier reads (the snapshot taken before the
# write is one of them): that is the audit working, not another organisation's write showing.
WHO_VIEWED = re.compile(r'<section class="portal-who-viewed".*?</section>', re.S)


def _page(client: Client, url: str) -> str:
    return text_of(WHO_VIEWED.sub("", CSRF.sub("", rendered(client, url))))


@pytest.fixture
def worlds(people):
    own, other = build_worlds(people)
    return own, other


def other_world_readers(other) -> dict:
    """A signed-in client for each reader, made once (signing in stamps last_login)."""
    users = [
        other.referrer,
        other.coordinator,
        other.instructor,
        other.practice_admin,
        other.operator_admin,
    ]
    return {user.email: client_for(user) for user in users}


def other_world_pages(other, clients) -> dict[tuple[str, str], str]:
    """What each kind of person in world "other" sees on the pages that show its data."""
    active = other.referral(Status.ACTIVE)
    detail = [f"/referrals/{r.reference}/" for r in other.referrals.values()]
    operator, practice = other.operator.public_id, other.practice.public_id
    readers = {
        other.referrer: ["/referrals/", *detail],
        other.coordinator: [
            "/triage/",
            "/triage/classes/",
            f"/triage/classes/{other.programme_class.public_id}/",
            f"/triage/{other.referral(Status.SUBMITTED).reference}/accept/",
            "/reports/",
            *detail[1:],
        ],
        other.instructor: [
            "/today/",
            "/today/caseload/",
            "/outcomes/due/",
            f"/outcomes/{active.reference}/",
        ],
        other.practice_admin: [f"/manage/{practice}/members/"],
        other.operator_admin: [
            f"/manage/{operator}/members/",
            f"/manage/{operator}/facilities/",
            f"/manage/{operator}/programmes/",
            f"/manage/{operator}/programmes/{other.programme.public_id}/",
            f"/manage/{operator}/classes/",
        ],
    }
    pages = {}
    for user, urls in readers.items():
        for url in urls:
            pages[(user.email, url)] = _page(clients[user.email], url)
    return pages


class OtherWorldWatch:
    """The other world's pages and rows, taken once to settle (reading a referral marks its
    updates read) and once as the baseline; `assert_unchanged` compares after a write."""

    def __init__(self, other):
        self.other = other
        self.clients = other_world_readers(other)
        self.fingerprint = Fingerprint(other.organisations)
        other_world_pages(other, self.clients)
        self.pages = other_world_pages(other, self.clients)
        self.rows = self.fingerprint.take()
        self.row_detail = self.fingerprint.rows()

    def assert_unchanged(self):
        after = other_world_pages(self.other, self.clients)
        changed = [key for key, text in after.items() if text != self.pages[key]]
        assert not changed, f"pages of the other world changed: {changed}"
        assert self.fingerprint.take() == self.rows, self.fingerprint.changes(self.row_detail)


# --- Item 1: a referrer cannot rewrite another practice's patient -----------------------------

FORGED = {
    "given_name": "Forgedgiven",
    "family_name": "Forgedfamily",
    "date_of_birth_0": "1",
    "date_of_birth_1": "1",
    "date_of_birth_2": "1999",
    "sex": "M",
    "postcode": "LS1 1AA",
    "phone": "07700 900666",
    "email": "forged@attacker.example",
    "contact_methods": ["email"],
    "interpreter_needed": "no",
    "interpreter_language": "",
    "ethnicity": "Z",
    "continue": "1",
}


def _find(client: Client, nhs_number: str) -> str:
    """The Find patient page's HTML: the details found are in the inputs' values."""
    return rendered(client, "/referrals/new/", "post", {"find": "", "nhs_number": nhs_number})


def test_a_referrer_cannot_overwrite_another_practices_patient(people, worlds):
    own, other = worlds
    b_referral = other.referral(Status.SUBMITTED)
    patient = b_referral.patient
    original = (patient.family_name, patient.given_name, patient.phone, patient.email)
    referrer_a = client_for(own.referrer)

    response = referrer_a.post("/referrals/new/", {**FORGED, "nhs_number": patient.nhs_number})
    assert response.status_code == 302  # A's draft is made: A may refer the same person

    referrer_b, coordinator_y = client_for(other.referrer), client_for(other.coordinator)
    b_views = {
        "B's referral page": _page(referrer_b, f"/referrals/{b_referral.reference}/"),
        "B's dashboard": _page(referrer_b, "/referrals/"),
        "Y's referral page": _page(coordinator_y, f"/referrals/{b_referral.reference}/"),
        "Y's triage page": _page(coordinator_y, f"/triage/{b_referral.reference}/accept/"),
        "B's Find patient": _find(referrer_b, patient.nhs_number),
    }
    for where, text in b_views.items():
        assert "Forged" not in text and "forged@attacker" not in text, f"{where} shows A's forgery"
        assert patient.family_name in text, f"{where} lost B's patient"
    patient.refresh_from_db()
    assert (patient.family_name, patient.given_name, patient.phone, patient.email) == original

    # B brings its own record up to date; A's Find must not show B's new details.
    b_draft = referral_in_state(mirrored(people), Status.DRAFT, patient=patient)
    response = referrer_b.post(
        f"/referrals/{b_draft.reference}/edit/patient/",
        {
            **FORGED,
            "nhs_number": patient.nhs_number,
            "given_name": "Bupdatedgiven",
            "family_name": "Bupdatedfamily",
            "phone": "07700 900777",
            "email": "b.updated@patients.example",
        },
    )
    assert response.status_code == 302
    a_find = _find(referrer_a, patient.nhs_number)
    assert "Bupdated" not in a_find and "b.updated@patients.example" not in a_find


# --- Operator X works on its referrals ---------------------------------------------------------


def test_operator_x_accepting_recording_attendance_and_outcomes_leaves_b_and_y_unchanged(
    people, worlds
):
    own, other = worlds
    watch = OtherWorldWatch(other)

    services.referral_accept(
        referral=own.referral(Status.SUBMITTED),
        by=own.coordinator,
        facility=own.facility,
        programme_class=own.programme_class,
        instructor=own.instructor,
    )
    booked = own.referral(Status.BOOKED)
    session = session_due_now(booked.sessions.order_by("scheduled_at").first())
    services.session_record_attendance(
        session=session, status=Session.Attendance.ATTENDED, by=own.instructor
    )
    assessment_record(
        referral=own.referral(Status.ACTIVE),
        instrument="phq9",
        timepoint="exit",
        answers={f"q{i}": 1 for i in range(1, 10)},
        by=own.instructor,
    )
    services.referral_complete(referral=own.referral(Status.ACTIVE), by=own.coordinator)
    services.referral_decline(
        referral=own.referral("answered"), by=own.coordinator, reason="outside_area"
    )

    watch.assert_unchanged()


def test_operator_x_by_http_books_and_marks_its_register_and_y_sees_nothing_new(people, worlds):
    own, other = worlds
    watch = OtherWorldWatch(other)
    coordinator = client_for(own.coordinator)
    accepted = own.referral(Status.ACCEPTED)
    first = (datetime.date.today() + datetime.timedelta(days=8)).isoformat()
    response = coordinator.post(
        f"/triage/{accepted.reference}/book/",
        {"first_session_at": f"{first}T10:00", "note": "", "version": accepted.version},
    )
    assert response.status_code == 302
    assert response.url == f"/referrals/{accepted.reference}/"
    accepted.refresh_from_db()
    assert accepted.status == Status.BOOKED
    instructor = client_for(own.instructor)
    booked = own.referral(Status.BOOKED)
    session = session_due_now(booked.sessions.order_by("scheduled_at").first())
    response = instructor.post(f"/today/sessions/{session.public_id}/mark/", {"status": "dna"})
    assert response.status_code == 302
    session.refresh_from_db()
    assert session.status == Session.Attendance.DNA

    watch.assert_unchanged()


# --- Referrer A works on its referrals ---------------------------------------------------------


def test_referrer_a_drafting_submitting_answering_and_cancelling_leaves_b_and_y_unchanged(
    people, worlds
):
    own, other = worlds
    watch = OtherWorldWatch(other)

    referral_in_state(people, Status.SUBMITTED)
    services.referral_answer_info(
        referral=own.referral(Status.INFO_REQUESTED), by=own.referrer, answer="Stable."
    )
    services.referral_cancel(
        referral=own.referral(Status.SUBMITTED), by=own.referrer, reason="patient_withdrew"
    )
    client = client_for(own.referrer)
    client.post("/referrals/", {"q": other.referral(Status.ACTIVE).patient.nhs_number})
    page = _page(client, "/referrals/")
    assert other.referral(Status.ACTIVE).patient.family_name not in page

    watch.assert_unchanged()


# --- Organisation admins -----------------------------------------------------------------------


def test_admin_a_inviting_and_deactivating_members_leaves_b_members_unchanged(people, worlds):
    own, other = worlds
    watch = OtherWorldWatch(other)

    account_services.member_invite(
        by=own.practice_admin,
        organisation=own.practice,
        email="new.gp.a@example.nhs.uk",
        full_name="New Referrer",
        role=Role.REFERRER,
    )
    # Someone who works for both practices: A's invitation must not touch the B membership.
    account_services.member_invite(
        by=own.practice_admin,
        organisation=own.practice,
        email=other.referrer.email,
        full_name=other.referrer.full_name,
        role=Role.REFERRER,
    )
    membership = Membership.objects.get(user=other.referrer, organisation=own.practice)
    account_services.member_deactivate(by=own.practice_admin, membership=membership)
    assert Membership.objects.get(user=other.referrer, organisation=other.practice).is_active

    watch.pages = {k: v for k, v in watch.pages.items() if k[0] != other.referrer.email}
    after = {
        k: v
        for k, v in other_world_pages(other, watch.clients).items()
        if k[0] != other.referrer.email
    }
    assert after == watch.pages
    # The deactivation ended the shared person's sessions, but left their B rows alone.
    assert watch.fingerprint.take() == watch.rows, watch.fingerprint.changes(watch.row_detail)


def test_admin_x_changing_programme_facility_and_class_settings_leaves_y_unchanged(people, worlds):
    own, other = worlds
    watch = OtherWorldWatch(other)

    facility_services.programme_update(
        by=own.operator_admin,
        programme=own.programme,
        name="X programme renamed",
        min_age=30,
        max_age=70,
        duration_weeks=10,
        planned_sessions=20,
    )
    facility_services.facility_update(
        by=own.operator_admin, facility=own.facility, name="X centre renamed"
    )
    facility_services.class_update(
        by=own.operator_admin, programme_class=own.programme_class, capacity=1
    )

    watch.assert_unchanged()
