"""Issue 14, first slice: the leisure membership number on a referral, and self-directed visits
recorded once and matched to the operator's open referral by it (`referrals/visits.py`); the
referral page shows them."""

import datetime
import uuid
from html import unescape

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse
from django.utils import timezone

from referrals import services
from referrals.models import ReferralEvent, Status, Visit
from referrals.selectors import visits_summary
from referrals.visits import CLOCK_SKEW, Outcome, VisitEvent, visits_record
from referrals.workflow import ReferralChanged, WorkflowError
from tests.builders import referral_in_state

RLO = "\u202e"


def with_number(people, status, number):
    """A referral of operator X in `status` whose coordinator recorded `number`."""
    referral = referral_in_state(people, status)
    services.referral_set_membership_number(
        referral=referral, by=people.coordinator_x, number=number
    )
    return referral


def event(people, event_id="e-1", number="M-100", facility=None, **fields):
    return VisitEvent(
        event_id=event_id,
        facility=(facility or people.facility_x).public_id,
        membership_number=number,
        occurred_at=fields.pop("occurred_at", timezone.now() - datetime.timedelta(hours=1)),
        **fields,
    )


def record(people, *events, by=None):
    return visits_record(
        operator=people.operator_x, by=by or people.instructor_x, events=list(events)
    )


# --- The membership number ---------------------------------------------------------------------


def test_a_membership_number_given_at_accept_is_kept_normalised(people):
    referral = referral_in_state(people, Status.SUBMITTED)

    services.referral_accept(
        referral=referral,
        by=people.coordinator_x,
        facility=people.facility_x,
        membership_number="  ab-1234 ",
    )

    referral.refresh_from_db()
    assert referral.membership_number == "AB-1234"


def test_a_membership_number_given_at_booking_replaces_it_and_blank_keeps_it(people):
    referral = referral_in_state(people, Status.ACCEPTED)
    services.referral_set_membership_number(
        referral=referral, by=people.coordinator_x, number="old-1"
    )
    tomorrow = timezone.now() + datetime.timedelta(days=1)

    services.referral_book(
        referral=referral,
        by=people.coordinator_x,
        first_session_at=tomorrow,
        membership_number="new-2",
    )
    referral.refresh_from_db()
    assert referral.membership_number == "NEW-2"

    other = referral_in_state(people, Status.SUBMITTED)
    services.referral_set_membership_number(referral=other, by=people.coordinator_x, number="k-9")
    services.referral_accept(
        referral=other, by=people.coordinator_x, facility=people.facility_x, membership_number=""
    )
    other.refresh_from_db()
    assert other.membership_number == "K-9"


def test_a_membership_number_with_a_hidden_character_or_too_long_is_refused_at_accept(people):
    referral = referral_in_state(people, Status.SUBMITTED)
    for bad in (f"AB{RLO}12", "X" * 41):
        with pytest.raises(ValidationError) as refused:
            services.referral_accept(
                referral=referral,
                by=people.coordinator_x,
                facility=people.facility_x,
                membership_number=bad,
            )
        assert "membership_number" in refused.value.message_dict
    referral.refresh_from_db()
    assert referral.status == Status.SUBMITTED


def test_setting_the_number_is_on_the_timeline_without_the_number(people):
    referral = referral_in_state(people, Status.BOOKED)
    version = referral.version

    for number, said in [
        ("m-1", "Leisure membership number recorded"),
        ("m-2", "Leisure membership number changed"),
        ("", "Leisure membership number removed"),
    ]:
        services.referral_set_membership_number(
            referral=referral, by=people.coordinator_x, number=number
        )
        note = referral.events.filter(action="membership_number").latest("id")
        assert note.kind == ReferralEvent.Kind.NOTE and note.note == said
        assert "M-" not in note.note
        assert note.actor == people.coordinator_x
        assert note.actor_organisation == people.operator_x
    referral.refresh_from_db()
    assert referral.membership_number == "" and referral.version == version + 3


def test_the_same_number_again_changes_nothing(people):
    referral = with_number(people, Status.ACCEPTED, "m-1")
    version, events = referral.version, referral.events.count()

    services.referral_set_membership_number(
        referral=referral, by=people.coordinator_x, number=" M-1 "
    )

    referral.refresh_from_db()
    assert (referral.version, referral.events.count()) == (version, events)


@pytest.mark.parametrize("persona", ["instructor_x", "referrer_a", "coordinator_y"])
def test_only_the_operators_coordinators_set_the_number(people, persona):
    referral = referral_in_state(people, Status.BOOKED)

    with pytest.raises(PermissionDenied):
        services.referral_set_membership_number(
            referral=referral, by=getattr(people, persona), number="m-1"
        )
    referral.refresh_from_db()
    assert referral.membership_number == ""


def test_a_stale_copy_cannot_set_the_number(people):
    referral = referral_in_state(people, Status.BOOKED)
    stale = type(referral).objects.get(pk=referral.pk)
    services.referral_set_membership_number(
        referral=referral, by=people.coordinator_x, number="m-1"
    )

    with pytest.raises(ReferralChanged):
        services.referral_set_membership_number(
            referral=stale, by=people.coordinator_x, number="m-2"
        )


def test_an_ended_referral_keeps_its_number(people):
    referral = referral_in_state(people, Status.COMPLETED)

    with pytest.raises(WorkflowError):
        services.referral_set_membership_number(
            referral=referral, by=people.coordinator_x, number="m-1"
        )


# --- Recording and matching visits -------------------------------------------------------------


def test_a_visit_is_matched_to_the_open_referral_with_the_number(people):
    referral = with_number(people, Status.BOOKED, "m-100")

    [result] = record(
        people,
        event(people, number=" m-100", activity="Gym", duration_minutes=45, met_minutes=300),
    )

    assert result.status == Outcome.RECORDED and result.referral == referral
    visit = Visit.objects.get()
    assert (visit.referral, visit.operator, visit.facility) == (
        referral,
        people.operator_x,
        people.facility_x,
    )
    assert (visit.membership_number, visit.activity, visit.duration_minutes) == (
        "M-100",
        "Gym",
        45,
    )
    assert visit.source == Visit.Source.CHECKIN and visit.recorded_by == people.instructor_x


@pytest.mark.parametrize(
    "status", [Status.ACCEPTED, Status.WAITLISTED, Status.BOOKED, Status.ACTIVE]
)
def test_every_open_state_takes_visits(people, status):
    referral = with_number(people, status, "m-100")

    [result] = record(people, event(people))

    assert result.referral == referral


def test_the_newest_open_referral_wins_and_an_ended_one_never_matches(people):
    older = with_number(people, Status.ACTIVE, "m-100")
    newer = with_number(people, Status.ACCEPTED, "m-100")
    ended = referral_in_state(people, Status.ACTIVE)
    services.referral_set_membership_number(referral=ended, by=people.coordinator_x, number="m-200")
    ended.refresh_from_db()
    services.referral_complete(referral=ended, by=people.coordinator_x)

    first, second = record(people, event(people, "e-1", "m-100"), event(people, "e-2", "m-200"))

    assert first.referral == newer != older
    assert second.status == Outcome.UNMATCHED and second.referral is None


def test_another_operators_referral_with_the_number_is_never_matched(people):
    referral = with_number(people, Status.BOOKED, "m-100")
    assert referral.operator == people.operator_x

    [result] = visits_record(
        operator=people.operator_y,
        by=people.instructor_y,
        events=[event(people, facility=people.facility_y)],
    )

    assert result.status == Outcome.UNMATCHED


def test_an_unmatched_visit_is_kept_for_later(people):
    [result] = record(people, event(people, number="nobody-yet"))

    assert result.status == Outcome.UNMATCHED and result.visit is not None
    assert Visit.objects.get(referral__isnull=True).membership_number == "NOBODY-YET"


def test_the_same_event_is_recorded_once_in_a_batch_and_across_batches(people):
    with_number(people, Status.BOOKED, "m-100")

    first = record(people, event(people, "e-1"), event(people, "e-1", activity="Again"))
    again = record(people, event(people, "e-1", activity="Changed"))

    assert [r.status for r in first] == [Outcome.RECORDED, Outcome.DUPLICATE]
    assert [r.status for r in again] == [Outcome.DUPLICATE]
    assert first[0].visit == first[1].visit == again[0].visit
    assert Visit.objects.get().activity == ""  # the first kept, never changed


def test_the_same_event_id_at_another_operator_is_its_own_visit(people):
    record(people, event(people, "e-1"))

    [result] = visits_record(
        operator=people.operator_y,
        by=people.instructor_y,
        events=[event(people, "e-1", facility=people.facility_y)],
    )

    assert result.status == Outcome.UNMATCHED
    assert Visit.objects.count() == 2


def test_a_facility_of_another_operator_or_unknown_is_refused(people):
    with_number(people, Status.BOOKED, "m-100")
    theirs = event(people, "e-1", facility=people.facility_y)
    unknown = VisitEvent(
        event_id="e-2",
        facility=uuid.uuid4(),
        membership_number="m-100",
        occurred_at=timezone.now(),
    )

    results = record(people, theirs, unknown, event(people, "e-3"))

    assert [r.status for r in results] == [Outcome.REFUSED, Outcome.REFUSED, Outcome.RECORDED]
    assert set(results[0].errors) == {"facility"} and results[0].visit is None
    assert Visit.objects.count() == 1


def test_late_and_out_of_order_events_are_taken_and_the_future_is_refused(people):
    referral = with_number(people, Status.ACTIVE, "m-100")
    now = timezone.now()
    moments = [
        now - datetime.timedelta(days=1),
        now - datetime.timedelta(days=90),  # late, and before the one above
        now - datetime.timedelta(days=3),
        now + CLOCK_SKEW - datetime.timedelta(seconds=30),  # a fast clock, within the skew
        now + CLOCK_SKEW + datetime.timedelta(minutes=5),
        datetime.datetime(1970, 1, 1, tzinfo=datetime.UTC),  # an unset clock
    ]
    events = [event(people, f"e-{i}", occurred_at=at) for i, at in enumerate(moments)]

    results = record(people, *events)

    assert [r.status for r in results] == [Outcome.RECORDED] * 4 + [Outcome.REFUSED] * 2
    assert set(results[4].errors) == set(results[5].errors) == {"occurred_at"}
    assert list(
        referral.visits.order_by("occurred_at").values_list("source_event_id", flat=True)
    ) == [
        "e-1",
        "e-2",
        "e-0",
        "e-3",
    ]


def test_only_the_operators_staff_and_systems_record_its_visits(people):
    for someone in (people.referrer_a, people.coordinator_y, people.instructor_y):
        with pytest.raises(PermissionDenied):
            record(people, event(people), by=someone)
    assert not Visit.objects.exists()


def test_a_visit_moves_no_referral_and_writes_no_timeline(people):
    referral = with_number(people, Status.BOOKED, "m-100")
    events, version = referral.events.count(), referral.version

    record(people, event(people))

    referral.refresh_from_db()
    assert referral.status == Status.BOOKED
    assert (referral.events.count(), referral.version) == (events, version)


# --- The referral page -------------------------------------------------------------------------


def detail(client, user, referral) -> str:
    client.force_login(user)
    response = client.get(reverse("referrals:detail", args=[referral.reference]))
    assert response.status_code == 200
    return unescape(response.content.decode())


def test_the_page_shows_the_visit_count_and_the_latest_few(client, people):
    referral = with_number(people, Status.ACTIVE, "m-100")
    base = timezone.now() - datetime.timedelta(days=10)
    record(
        people,
        *(
            event(
                people,
                f"e-{i}",
                occurred_at=base + datetime.timedelta(days=i),
                activity=f"Circuit number {i}",
            )
            for i in range(7)
        ),
    )

    summary = visits_summary(referral)
    assert summary.count == 7
    assert [v.activity for v in summary.recent] == [f"Circuit number {i}" for i in (6, 5, 4, 3, 2)]
    for user in (people.coordinator_x, people.instructor_x, people.referrer_a):
        html = detail(client, user, referral)
        assert "Self-directed visits" in html and "7 visits recorded" in html
        assert "Circuit number 6" in html and "Circuit number 1" not in html


def test_the_referrer_sees_no_visits_without_consent_to_share_progress(client, people):
    referral = referral_in_state(people, Status.ACTIVE, consent_share_outcomes=False)
    services.referral_set_membership_number(
        referral=referral, by=people.coordinator_x, number="m-100"
    )
    record(people, event(people, activity="Swim"))

    assert "Swim" not in detail(client, people.referrer_a, referral)
    assert "Swim" in detail(client, people.coordinator_x, referral)


def test_the_number_is_shown_to_the_provider_and_not_the_referrer(client, people):
    referral = with_number(people, Status.BOOKED, "mx-4821")

    assert "MX-4821" in detail(client, people.coordinator_x, referral)
    assert "MX-4821" in detail(client, people.instructor_x, referral)
    html = detail(client, people.referrer_a, referral)
    assert "Leisure membership number</dt>" not in html
    assert "MX-4821" not in html


def test_the_coordinator_changes_the_number_from_the_referral_page(client, people):
    referral = referral_in_state(people, Status.BOOKED)
    html = detail(client, people.coordinator_x, referral)
    url = reverse("triage:membership_number", args=[referral.reference])
    assert f'action="{url}"' in html
    assert 'action="' + url not in detail(client, people.instructor_x, referral)

    client.force_login(people.coordinator_x)
    response = client.post(url, {"membership_number": "ab 77", "version": referral.version})

    assert response.status_code == 302
    referral.refresh_from_db()
    assert referral.membership_number == "AB 77"


def test_a_refused_number_is_shown_on_its_page_with_the_error(client, people):
    referral = referral_in_state(people, Status.BOOKED)
    client.force_login(people.coordinator_x)
    url = reverse("triage:membership_number", args=[referral.reference])

    response = client.post(url, {"membership_number": "X" * 41, "version": referral.version})

    assert response.status_code == 200
    assert "There is a problem" in response.content.decode()
    referral.refresh_from_db()
    assert referral.membership_number == ""


def test_a_stale_form_does_not_overwrite_a_newer_number(client, people):
    referral = referral_in_state(people, Status.BOOKED)
    seen = referral.version
    services.referral_set_membership_number(
        referral=referral, by=people.coordinator_x, number="new"
    )
    client.force_login(people.coordinator_x)

    client.post(
        reverse("triage:membership_number", args=[referral.reference]),
        {"membership_number": "old", "version": seen},
    )

    referral.refresh_from_db()
    assert referral.membership_number == "NEW"


@pytest.mark.parametrize(("persona", "status"), [("instructor_x", 403), ("coordinator_y", 404)])
def test_the_number_page_is_the_operators_coordinators_only(client, people, persona, status):
    referral = referral_in_state(people, Status.BOOKED)
    client.force_login(getattr(people, persona))
    url = reverse("triage:membership_number", args=[referral.reference])

    assert client.get(url).status_code == status
    assert client.post(url, {"membership_number": "m", "version": 9}).status_code == status


def test_the_accept_form_takes_the_number(client, people):
    referral = referral_in_state(people, Status.SUBMITTED)
    client.force_login(people.coordinator_x)

    response = client.post(
        reverse("triage:action", args=[referral.reference, "accept"]),
        {
            "facility": people.facility_x.pk,
            "membership_number": "lm-555",
            "version": referral.version,
        },
    )

    assert response.status_code == 302
    referral.refresh_from_db()
    assert (referral.status, referral.membership_number) == (Status.ACCEPTED, "LM-555")


# --- Retention ---------------------------------------------------------------------------------


def test_retention_clears_the_membership_number_on_the_referral_and_its_visits(people):
    from governance import retention

    referral = with_number(people, Status.ACTIVE, "m-100")
    record(people, event(people, activity="Gym", duration_minutes=30))
    referral.refresh_from_db()
    services.referral_complete(referral=referral, by=people.coordinator_x)
    type(referral).objects.filter(pk=referral.pk).update(
        status_changed_at=timezone.now() - datetime.timedelta(days=9 * 366)
    )

    retention.retention_apply(retention.retention_plan(timezone.now()))

    referral.refresh_from_db()
    visit = Visit.objects.get()
    assert referral.membership_number == "" and visit.membership_number == ""
    assert (visit.referral, visit.activity, visit.duration_minutes) == (referral, "Gym", 30)


@pytest.mark.concurrency
@pytest.mark.django_db(transaction=True)
def test_one_batch_posted_twice_at_once_is_recorded_once(people):
    from tests.referrals.test_concurrency import run_concurrently

    with_number(people, Status.BOOKED, "m-100")
    events = [event(people, f"e-{n}") for n in range(200)]

    outcomes = run_concurrently([lambda: record(people, *events), lambda: record(people, *events)])

    assert [kind for kind, _ in outcomes] == ["ok", "ok"]
    assert Visit.objects.count() == 200
    statuses = [[r.status for r in results] for _, results in outcomes]
    # Each event was recorded by exactly one of the two and is a duplicate for the other.
    for first, second in zip(*statuses, strict=True):
        assert sorted([first, second]) == [Outcome.DUPLICATE, Outcome.RECORDED]


@pytest.mark.concurrency
@pytest.mark.django_db(transaction=True)
def test_overlapping_batches_in_opposite_orders_at_once_neither_fails(people):
    from tests.referrals.test_concurrency import run_concurrently

    events = [event(people, f"e-{n:03d}") for n in range(300)]

    outcomes = run_concurrently(
        [lambda: record(people, *events), lambda: record(people, *reversed(events))]
    )

    assert [kind for kind, _ in outcomes] == ["ok", "ok"], outcomes
    assert Visit.objects.count() == 300


def test_the_service_holds_every_sender_to_the_models_rules(people):
    """The API checks the shape first; a file import (or any caller) gets the same rules, per
    event, from the service."""
    bad = [
        event(people, "x" * 101),
        event(people, "e-2", activity=f"Gym{RLO}"),
        event(people, "e-3", duration_minutes=5000),
        event(people, "e-4", average_heart_rate=400),
        event(people, "e-5", number="M" * 41),
        event(people, ""),
    ]

    results = record(people, *bad, event(people, "ok"))

    assert [next(iter(r.errors), None) for r in results] == [
        "event_id",
        "activity",
        "duration_minutes",
        "average_heart_rate",
        "membership_number",
        "event_id",
        None,
    ]
    assert list(Visit.objects.values_list("source_event_id", flat=True)) == ["ok"]
