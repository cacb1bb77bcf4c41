"""The whole state table, parametrised: every allowed move by the right role succeeds and writes
its event; the same move by a wrong role or another organisation is refused; every disallowed move
is refused; a refused move changes nothing."""

import datetime

import pytest
from django.core.exceptions import PermissionDenied
from django.utils import timezone

from accounts.permissions import has_permission
from referrals import services
from referrals.models import Referral, ReferralEvent, Session, Status
from referrals.workflow import ACTIONS, ALLOWED_MOVES, InvalidTransition
from tests.builders import referral_in_state

# Who does each action for real, who holds the wrong role, and who is at the wrong organisation.
RIGHT_ACTOR = {
    "submit": "referrer_a",
    "answer_info": "referrer_a",
    "cancel": "referrer_a",
    "accept": "coordinator_x",
    "decline": "coordinator_x",
    "request_info": "coordinator_x",
    "waitlist": "coordinator_x",
    "book": "coordinator_x",
    "complete": "coordinator_x",
    "discharge": "coordinator_x",
    "start": "instructor_x",
}
WRONG_ROLE = {
    "submit": "coordinator_x",
    "answer_info": "coordinator_x",
    "cancel": "instructor_x",
    "accept": "referrer_a",
    "decline": "referrer_a",
    "request_info": "instructor_x",
    "waitlist": "referrer_a",
    "book": "referrer_a",
    "complete": "referrer_a",
    "discharge": "instructor_x",
    "start": "coordinator_x",
}
OTHER_ORGANISATION = {
    "submit": "referrer_b",
    "answer_info": "referrer_b",
    "cancel": "referrer_b",
    "accept": "coordinator_y",
    "decline": "coordinator_y",
    "request_info": "coordinator_y",
    "waitlist": "coordinator_y",
    "book": "coordinator_y",
    "complete": "coordinator_y",
    "discharge": "coordinator_y",
    "start": "instructor_y",
}
OUTSIDERS = ["commissioner", "admin_a", "admin_x"]


def perform(people, referral: Referral, action: str, by):
    """Call the action's service (the product's own map) with valid arguments."""
    tomorrow = timezone.now() + datetime.timedelta(days=1)
    fields = {
        "submit": {},
        "answer_info": {"answer": "BP now controlled."},
        "cancel": {"reason": "patient_withdrew"},
        "accept": {
            "facility": people.facility_x,
            "programme_class": people.class_x,
            "instructor": people.instructor_x,
        },
        "decline": {"reason": "duplicate"},
        "request_info": {"question": "Any chest pain on exertion?"},
        "waitlist": {},
        "book": {"first_session_at": tomorrow},
        "complete": {},
        "discharge": {"reason": "moved_away"},
        "start": {},
    }
    return services.ACTION_SERVICES[action](referral=referral, by=by, **fields[action])


def test_every_action_of_the_state_table_has_its_service():
    assert set(services.ACTION_SERVICES) == set(ACTIONS)


def snapshot(referral: Referral):
    referral = Referral.objects.get(pk=referral.pk)
    return (
        referral.status,
        referral.version,
        referral.facility_id,
        referral.events.count(),
        referral.notifications.count(),
        referral.sessions.count(),
    )


ALLOWED = sorted((source, a.name) for a in ACTIONS.values() for source in a.sources)
DISALLOWED = sorted(
    (state, a.name) for a in ACTIONS.values() for state in Status.values if state not in a.sources
)


def test_state_table_matches_the_domain_design():
    expected = {
        ("draft", "submitted"),
        ("submitted", "accepted"),
        ("submitted", "declined"),
        ("submitted", "info_requested"),
        ("submitted", "cancelled"),
        ("info_requested", "submitted"),
        ("info_requested", "cancelled"),
        ("accepted", "waitlisted"),
        ("accepted", "booked"),
        ("accepted", "cancelled"),
        ("accepted", "discharged"),
        ("waitlisted", "booked"),
        ("waitlisted", "cancelled"),
        ("waitlisted", "discharged"),
        ("booked", "active"),
        ("booked", "cancelled"),
        ("booked", "discharged"),
        ("active", "completed"),
        ("active", "discharged"),
    }
    assert expected == ALLOWED_MOVES


@pytest.mark.parametrize(("state", "action"), ALLOWED)
def test_allowed_move_by_the_right_role_succeeds_and_writes_one_event(people, state, action):
    referral = referral_in_state(people, state)
    actor = getattr(people, RIGHT_ACTOR[action])
    version, events_before = referral.version, referral.events.count()

    event = perform(people, referral, action, actor)

    referral.refresh_from_db()
    assert referral.status == ACTIONS[action].target
    assert referral.version == version + 1
    assert referral.events.count() == events_before + 1
    assert (event.from_status, event.to_status, event.action) == (state, referral.status, action)
    assert event.actor == actor
    assert event.actor_organisation is not None


@pytest.mark.parametrize("who", ["wrong_role", "other_organisation", *OUTSIDERS])
@pytest.mark.parametrize(("state", "action"), ALLOWED)
def test_allowed_move_by_anyone_else_is_refused_and_changes_nothing(people, state, action, who):
    referral = referral_in_state(people, state)
    name = {"wrong_role": WRONG_ROLE, "other_organisation": OTHER_ORGANISATION}.get(who, {})
    actor = getattr(people, name.get(action, who))
    before = snapshot(referral)

    with pytest.raises(PermissionDenied):
        perform(people, referral, action, actor)

    assert snapshot(referral) == before


@pytest.mark.parametrize(("state", "action"), DISALLOWED)
def test_disallowed_move_is_refused_and_changes_nothing(people, state, action):
    referral = referral_in_state(people, state)
    actor = getattr(people, RIGHT_ACTOR[action])
    before = snapshot(referral)
    # Someone who cannot act on this referral at all is told so, not what state it is in: the
    # operator's staff cannot see a draft, and an instructor sees a referral only once it has
    # been accepted into their facility (on these routes a declined or cancelled one never was).
    operator_staff_actions = "accept decline request_info waitlist book complete discharge start"
    cannot_see = {("draft", name) for name in operator_staff_actions.split()} | {
        (status, "start") for status in ["submitted", "info_requested", "declined", "cancelled"]
    }
    may_act = (state, action) not in cannot_see
    assert has_permission(actor, ACTIONS[action].permission, referral) is may_act

    with pytest.raises(InvalidTransition if may_act else PermissionDenied):
        perform(people, referral, action, actor)

    assert snapshot(referral) == before


def test_disallowed_move_message_names_the_state_and_the_action(people):
    referral = referral_in_state(people, Status.DECLINED)
    with pytest.raises(InvalidTransition, match="declined cannot be moved by 'accept'"):
        perform(people, referral, "accept", people.coordinator_x)


def test_info_request_answered_returns_the_referral_to_triage(people):
    referral = referral_in_state(people, Status.INFO_REQUESTED)
    services.referral_answer_info(referral=referral, by=people.referrer_a, answer="Yes, stable.")
    assert referral.status == Status.SUBMITTED
    notes = list(referral.events.values_list("action", "note"))
    assert ("request_info", "Is the knee pain recent?") in notes
    assert ("answer_info", "Yes, stable.") in notes


def test_timeline_of_a_completed_referral_is_a_connected_path(people):
    referral = referral_in_state(people, Status.COMPLETED)
    transitions = ReferralEvent.objects.filter(
        referral=referral, kind=ReferralEvent.Kind.TRANSITION
    ).order_by("created_at", "id")
    previous = Status.DRAFT
    for event in transitions:
        assert event.from_status == previous
        previous = event.to_status
    assert previous == Status.COMPLETED


def test_booking_into_a_class_books_every_weekly_session_in_the_same_change(people, frozen_now):
    # Booked on Monday 1 November 2027, from the next day: twelve Tuesdays, one of them
    # (28 December) the bank holiday standing in for Boxing Day, which is left out.
    frozen_now(timezone.make_aware(datetime.datetime(2027, 11, 1, 9, 0)))
    referral = referral_in_state(people, Status.BOOKED)
    sessions = list(referral.sessions.order_by("scheduled_at"))
    assert people.programme_x.duration_weeks == 12
    tuesdays = [datetime.date(2027, 11, 2) + datetime.timedelta(weeks=n) for n in range(12)]
    expected = [day for day in tuesdays if day != datetime.date(2027, 12, 28)]
    assert [timezone.localdate(s.scheduled_at) for s in sessions] == expected
    assert {s.status for s in sessions} == {Session.Attendance.BOOKED}
    assert {s.programme_class for s in sessions} == {people.class_x}
    local = [timezone.localtime(s.scheduled_at) for s in sessions]
    assert {t.weekday() for t in local} == {people.class_x.weekday}
    assert {t.time() for t in local} == {people.class_x.start_time}
