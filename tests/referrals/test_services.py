"""Business rules inside the workflow services: what each refuses, and what it writes with the
change (events, outbox rows, sessions)."""

import datetime

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from accounts.api_clients import api_client_create
from accounts.models import Membership
from clinical.conditions import Exclusion
from referrals import services
from referrals.consent import consent_record_decision
from referrals.models import (
    ConsentMethod,
    ConsentPurpose,
    Notification,
    Referral,
    ReferralEvent,
    Session,
    Status,
)
from referrals.workflow import ReferralChanged, WorkflowError
from tests.builders import new_draft, referral_in_state, session_due_now
from tests.factories import PatientFactory, ProgrammeClassFactory


def assert_unchanged(referral: Referral, version: int, status: str, events: int):
    fresh = Referral.objects.get(pk=referral.pk)
    assert (fresh.version, fresh.status, fresh.events.count()) == (version, status, events)


def test_draft_records_the_clinician_and_a_creation_event(people):
    referral = new_draft(people)
    assert referral.reference.startswith("ER-") and len(referral.reference) == 9
    assert referral.clinician_registration == "GMC 7012345"
    assert referral.consent_recorded_by == people.referrer_a
    assert list(referral.events.values_list("action", "to_status")) == [("create", "draft")]


def test_draft_for_another_organisation_is_refused(people):
    with pytest.raises(PermissionDenied):
        services.referral_create_draft(
            by=people.referrer_a,
            organisation=people.practice_b,
            patient=PatientFactory(organisation=people.practice_b),
        )
    assert not Referral.objects.exists()


def test_draft_refuses_fields_that_only_the_workflow_sets(people):
    with pytest.raises(ValueError, match="status"):
        new_draft(people, status=Status.ACCEPTED)


@pytest.mark.parametrize(
    ("fields", "error_field"),
    [
        ({"consent_referral": False}, "consent_referral"),
        ({"programme": None}, "programme"),
        ({"bp_systolic": 185, "bp_diastolic": 95}, "programme"),
        ({"bp_systolic": 150, "bp_diastolic": 104}, "programme"),
        ({"exclusions_present": [Exclusion.UNSTABLE_ANGINA]}, "programme"),
    ],
)
def test_submit_refuses_an_incomplete_or_unsafe_referral(people, fields, error_field):
    referral = new_draft(people, **fields)
    with pytest.raises(ValidationError) as caught:
        services.referral_submit(referral=referral, by=people.referrer_a)
    assert error_field in caught.value.message_dict
    assert_unchanged(referral, 1, Status.DRAFT, 1)


def test_submit_refuses_a_patient_outside_the_age_range(people, frozen_now):
    frozen_now(timezone.make_aware(datetime.datetime(2026, 6, 15, 10, 0)))
    too_young = PatientFactory(  # 17 today, 18 tomorrow
        organisation=people.practice_a, date_of_birth=datetime.date(2008, 6, 16)
    )
    referral = new_draft(people, patient=too_young)
    with pytest.raises(ValidationError, match="aged 18 to 90"):
        services.referral_submit(referral=referral, by=people.referrer_a)
    assert_unchanged(referral, 1, Status.DRAFT, 1)


def test_submit_refuses_a_preferred_facility_of_another_operator(people):
    referral = new_draft(people, preferred_facility=people.facility_y)
    with pytest.raises(ValidationError) as caught:
        services.referral_submit(referral=referral, by=people.referrer_a)
    assert "preferred_facility" in caught.value.message_dict


def test_submit_routes_the_referral_to_the_programmes_operator(people):
    referral = new_draft(people)
    services.referral_submit(referral=referral, by=people.referrer_a)
    assert referral.operator == people.operator_x
    assert referral.submitted_at is not None


def test_an_exclusion_the_programme_does_not_list_does_not_block(people):
    people.programme_x.exclusions = [Exclusion.UNSTABLE_ANGINA]
    people.programme_x.save()
    referral = new_draft(people, exclusions_present=[Exclusion.ACUTE_ILLNESS])
    services.referral_submit(referral=referral, by=people.referrer_a)
    assert referral.status == Status.SUBMITTED


def test_a_stale_copy_loses_with_a_clear_conflict(people):
    referral = referral_in_state(people, Status.SUBMITTED)
    stale = Referral.objects.get(pk=referral.pk)
    services.referral_request_info(referral=referral, by=people.coordinator_x, question="Why?")
    with pytest.raises(ReferralChanged, match="changed since you opened it"):
        services.referral_decline(referral=stale, by=people.coordinator_x, reason="duplicate")
    assert Referral.objects.get(pk=referral.pk).status == Status.INFO_REQUESTED


@pytest.mark.parametrize(
    ("placement", "error_field"),
    [
        ({"facility": "facility_y"}, "facility"),
        ({"programme_class": "class_y"}, "programme_class"),
        ({"facility": "facility_x2"}, "programme_class"),
        ({"instructor": "instructor_y"}, "instructor"),
        ({"instructor": "referrer_a"}, "instructor"),
    ],
)
def test_accept_refuses_a_placement_outside_the_operator_or_programme(
    people, placement, error_field
):
    referral = referral_in_state(people, Status.SUBMITTED)
    arguments = {
        "facility": people.facility_x,
        "programme_class": people.class_x,
        "instructor": people.instructor_x,
    }
    arguments.update({key: getattr(people, value) for key, value in placement.items()})
    with pytest.raises(ValidationError) as caught:
        services.referral_accept(referral=referral, by=people.coordinator_x, **arguments)
    assert error_field in caught.value.message_dict
    assert_unchanged(referral, referral.version, Status.SUBMITTED, referral.events.count())


def test_accept_refuses_an_inactive_class(people):
    inactive = ProgrammeClassFactory(
        programme=people.programme_x, facility=people.facility_x, is_active=False
    )
    referral = referral_in_state(people, Status.SUBMITTED)
    with pytest.raises(ValidationError):
        services.referral_accept(
            referral=referral,
            by=people.coordinator_x,
            facility=people.facility_x,
            programme_class=inactive,
        )


@pytest.mark.parametrize(
    ("service", "arguments", "error_field"),
    [
        (services.referral_decline, {"reason": "not_a_reason"}, "reason"),
        (services.referral_decline, {"reason": "other"}, "note"),
        (services.referral_request_info, {"question": "   "}, "question"),
        (services.referral_cancel, {"reason": ""}, "reason"),
    ],
)
def test_coded_reasons_and_questions_are_required(people, service, arguments, error_field):
    referral = referral_in_state(people, Status.SUBMITTED)
    by = people.referrer_a if service is services.referral_cancel else people.coordinator_x
    with pytest.raises(ValidationError) as caught:
        service(referral=referral, by=by, **arguments)
    assert error_field in caught.value.message_dict
    assert_unchanged(referral, referral.version, Status.SUBMITTED, referral.events.count())


def test_decline_with_other_keeps_the_note_for_the_referrer(people):
    referral = referral_in_state(people, Status.SUBMITTED)
    event = services.referral_decline(
        referral=referral, by=people.coordinator_x, reason="other", note="Programme paused"
    )
    assert (event.reason_code, event.note) == ("other", "Programme paused")


def test_book_refuses_a_first_session_in_the_past(people):
    referral = referral_in_state(people, Status.ACCEPTED)
    with pytest.raises(ValidationError):
        services.referral_book(
            referral=referral,
            by=people.coordinator_x,
            first_session_at=timezone.now() - datetime.timedelta(hours=1),
        )
    assert not referral.sessions.exists()


def test_submit_notifies_the_referrer_in_app_and_by_email(people):
    referral = referral_in_state(people, Status.SUBMITTED)
    rows = Notification.objects.filter(event__action="submit", referral=referral)
    assert sorted(rows.values_list("channel", "recipient_address")) == [
        ("email", "gp.a@example.nhs.uk"),
        ("in_app", ""),
    ]
    # In-app updates are delivered by being written; email waits for a worker.
    assert {(n.channel, n.status) for n in rows} == {("email", "pending"), ("in_app", "sent")}


def test_email_falls_back_to_the_shared_mailbox_without_an_active_clinician(people):
    people.practice_a.shared_mailbox = "practice.a@nhs.net"
    people.practice_a.save()
    referral = referral_in_state(people, Status.SUBMITTED)
    people.referrer_a.is_active = False
    people.referrer_a.save()
    referral.refresh_from_db()

    event = services.referral_decline(
        referral=referral, by=people.coordinator_x, reason="duplicate"
    )

    rows = event.notifications.values_list("channel", "recipient_address")
    assert list(rows) == [("email", "practice.a@nhs.net")]


def test_a_clinician_who_no_longer_refers_there_gets_no_email_the_mailbox_does(people):
    people.practice_a.shared_mailbox = "practice.a@nhs.net"
    people.practice_a.save()
    referral = referral_in_state(people, Status.SUBMITTED)
    Membership.objects.filter(user=people.referrer_a, organisation=people.practice_a).update(
        is_active=False
    )

    event = services.referral_decline(
        referral=referral, by=people.coordinator_x, reason="duplicate"
    )

    emails = event.notifications.filter(channel=Notification.Channel.EMAIL)
    assert list(emails.values_list("recipient_address", flat=True)) == ["practice.a@nhs.net"]


def test_a_referral_made_by_the_practices_system_is_emailed_to_its_shared_mailbox(people):
    """The system reads its in-app updates over the API; people read the practice's mailbox,
    never a reserved `.invalid` address that no one reads."""
    people.practice_a.shared_mailbox = "practice.a@nhs.net"
    people.practice_a.save()
    system = api_client_create(
        organisation=people.practice_a, name="GP system", scopes=["referrals:write"], by=None
    ).client.user
    referral = referral_in_state(people, Status.SUBMITTED)
    Referral.objects.filter(pk=referral.pk).update(referring_clinician=system)
    referral.refresh_from_db()

    event = services.referral_decline(
        referral=referral, by=people.coordinator_x, reason="duplicate"
    )

    rows = set(event.notifications.values_list("channel", "recipient_user", "recipient_address"))
    assert rows == {
        (Notification.Channel.IN_APP, system.pk, ""),
        (Notification.Channel.EMAIL, None, "practice.a@nhs.net"),
    }


def test_progress_is_not_shared_without_consent(people):
    referral = referral_in_state(people, Status.ACTIVE, consent_share_outcomes=False)
    actions = set(referral.notifications.values_list("event__action", flat=True))
    assert actions == {"submit", "accept"}


def test_withdrawn_consent_stops_progress_updates(people):
    referral = referral_in_state(people, Status.BOOKED)
    consent_record_decision(
        referral=referral,
        by=people.referrer_a,
        purpose=ConsentPurpose.SHARE_PROGRESS,
        method=ConsentMethod.TELEPHONE,
    )
    session = session_due_now(referral.sessions.earliest("scheduled_at"))
    services.session_record_attendance(
        session=session, status=Session.Attendance.ATTENDED, by=people.instructor_x
    )
    assert not referral.notifications.filter(event__action="start").exists()


def test_first_attendance_makes_the_referral_active_once(people):
    referral = referral_in_state(people, Status.BOOKED)
    first = session_due_now(referral.sessions.earliest("scheduled_at"))
    second = Session.objects.create(
        referral=referral, scheduled_at=first.scheduled_at + datetime.timedelta(minutes=30)
    )
    services.session_record_attendance(session=first, status="attended", by=people.instructor_x)
    services.session_record_attendance(session=second, status="attended", by=people.instructor_x)
    referral.refresh_from_db()
    assert referral.status == Status.ACTIVE
    assert referral.events.filter(action="start").count() == 1
    first.refresh_from_db()
    assert first.logged_by == people.instructor_x and first.logged_at is not None


def test_a_missed_session_goes_on_the_timeline_and_to_the_referrer(people):
    referral = referral_in_state(people, Status.BOOKED)
    session = session_due_now(referral.sessions.earliest("scheduled_at"))
    services.session_record_attendance(session=session, status="dna", by=people.instructor_x)
    event = referral.events.get(action="dna")
    assert event.kind == ReferralEvent.Kind.SESSION
    assert referral.notifications.filter(event=event).count() == 2
    referral.refresh_from_db()
    assert referral.status == Status.BOOKED


def test_every_first_mark_goes_on_the_timeline_but_only_a_missed_one_is_news(people):
    """So an integration following the events feed learns of each session's attendance."""
    referral = referral_in_state(people, Status.ACTIVE)  # its first session was attended
    marks = ["attended", "cancelled_patient", "cancelled_provider"]
    sessions = referral.sessions.filter(status="booked").order_by("scheduled_at")[: len(marks)]
    events_before = set(referral.events.values_list("pk", flat=True))
    for session, mark in zip(sessions, marks, strict=True):
        session = session_due_now(session)
        services.session_record_attendance(session=session, status=mark, by=people.instructor_x)
    new = referral.events.exclude(pk__in=events_before).order_by("id")
    assert [(e.kind, e.action) for e in new] == [
        (ReferralEvent.Kind.SESSION, "attended"),
        (ReferralEvent.Kind.SESSION, "session_cancelled"),
        (ReferralEvent.Kind.SESSION, "session_cancelled"),
    ]
    assert new[1].note.startswith("Cancelled by the patient")
    assert new[2].note.startswith("Cancelled by the centre")
    assert not Notification.objects.filter(event__in=new).exists()


@pytest.mark.parametrize("status", ["booked", "nonsense"])
def test_attendance_must_be_an_outcome(people, status):
    referral = referral_in_state(people, Status.BOOKED)
    with pytest.raises(ValidationError):
        services.session_record_attendance(
            session=session_due_now(referral.sessions.earliest("scheduled_at")),
            status=status,
            by=people.instructor_x,
        )


def test_attendance_by_another_operators_instructor_is_refused(people):
    referral = referral_in_state(people, Status.BOOKED)
    session = session_due_now(referral.sessions.earliest("scheduled_at"))
    with pytest.raises(PermissionDenied):
        services.session_record_attendance(
            session=session, status="attended", by=people.instructor_y
        )
    session.refresh_from_db()
    assert session.status == Session.Attendance.BOOKED


def test_attendance_after_discharge_is_refused(people):
    referral = referral_in_state(people, Status.DISCHARGED)
    session = referral.sessions.first()
    with pytest.raises(WorkflowError):
        services.session_record_attendance(session=session, status="dna", by=people.instructor_x)


def test_draft_edit_updates_fields_and_version(people):
    referral = new_draft(people, consent_referral=False)
    services.referral_update_draft(
        referral=referral, by=people.referrer_a, consent_referral=True, relevant_history="Asthma"
    )
    fresh = Referral.objects.get(pk=referral.pk)
    assert fresh.version == 2 and fresh.relevant_history == "Asthma"
    assert fresh.consent_recorded_at is not None


def test_draft_edit_after_submission_or_by_another_practice_is_refused(people):
    referral = referral_in_state(people, Status.SUBMITTED)
    with pytest.raises(WorkflowError):
        services.referral_update_draft(referral=referral, by=people.referrer_a, priority="urgent")
    draft = new_draft(people)
    with pytest.raises(PermissionDenied):
        services.referral_update_draft(referral=draft, by=people.referrer_b, priority="urgent")
    with pytest.raises(ValueError):
        services.referral_update_draft(referral=draft, by=people.referrer_a, status="active")


def _past_session(referral, days_ago=1):
    return Session.objects.create(
        referral=referral,
        scheduled_at=timezone.now() - datetime.timedelta(days=days_ago),
    )


def test_marking_the_same_outcome_twice_changes_nothing(people):
    referral = referral_in_state(people, Status.ACTIVE)
    session = _past_session(referral)
    services.session_record_attendance(session=session, status="dna", by=people.instructor_x)
    events = referral.events.count()
    services.session_record_attendance(session=session, status="dna", by=people.instructor_x)
    assert referral.events.count() == events
    assert referral.events.filter(action="dna").count() == 1


def test_changing_a_logged_outcome_is_a_correction_on_the_timeline(people):
    referral = referral_in_state(people, Status.ACTIVE)
    session = _past_session(referral)
    services.session_record_attendance(session=session, status="dna", by=people.instructor_x)
    services.session_record_attendance(session=session, status="attended", by=people.instructor_x)
    correction = referral.events.get(action="attendance_corrected")
    assert correction.kind == ReferralEvent.Kind.CORRECTION
    assert "from 'Did not attend' to 'Attended'" in correction.note
    session.refresh_from_db()
    assert session.status == Session.Attendance.ATTENDED


def test_attendance_cannot_be_recorded_before_the_session_day(people):
    referral = referral_in_state(people, Status.ACTIVE)
    later = Session.objects.create(
        referral=referral, scheduled_at=timezone.now() + datetime.timedelta(days=3)
    )
    with pytest.raises(ValidationError, match="not happened yet"):
        services.session_record_attendance(session=later, status="attended", by=people.instructor_x)
    # A cancellation ahead of time is fine.
    services.session_record_attendance(
        session=later, status="cancelled_patient", by=people.instructor_x
    )


@pytest.mark.parametrize(
    ("state", "action", "expected"),
    [
        (Status.ACTIVE, "complete", Session.Attendance.CANCELLED_PROVIDER),
        (Status.BOOKED, "discharge", Session.Attendance.CANCELLED_PROVIDER),
        (Status.BOOKED, "cancel", Session.Attendance.CANCELLED_PATIENT),
    ],
)
def test_an_ending_referral_releases_its_future_sessions(people, state, action, expected):
    referral = referral_in_state(people, state)
    future = Session.objects.create(
        referral=referral, scheduled_at=timezone.now() + datetime.timedelta(days=14)
    )
    past = _past_session(referral, days_ago=3)
    if action == "complete":
        services.referral_complete(referral=referral, by=people.coordinator_x)
    elif action == "discharge":
        services.referral_discharge(referral=referral, by=people.coordinator_x, reason="medical")
    else:
        services.referral_cancel(referral=referral, by=people.referrer_a, reason="patient_withdrew")
    future.refresh_from_db()
    past.refresh_from_db()
    assert future.status == expected and future.logged_at is not None
    assert past.status == Session.Attendance.BOOKED
