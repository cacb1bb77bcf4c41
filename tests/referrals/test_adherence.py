"""Issue 14: adherence that counts self-directed visits where the programme says so
(`referrals/adherence.py`), a booked referral started by its first counted visit (the referrer
hears once), and the register, caseload, referral page and discharge summary showing class
attendance and visits apart and together."""

import datetime as dt
import itertools
from html import unescape

import pytest
from django.urls import reverse
from django.utils import timezone

from leisure.register import Caseload, progress_for
from referrals import services
from referrals.adherence import Adherence, adherence_for
from referrals.discharge import attendance_for
from referrals.models import Notification, Referral, Session, Status, Visit
from referrals.visits import VisitEvent, visits_record
from tests.builders import referral_in_state, session_due_now

LONDON = timezone.get_default_timezone()
_ids = itertools.count(1)


def counting(people, counts=True):
    people.programme_x.self_directed_visits_count = counts
    people.programme_x.save(update_fields=["self_directed_visits_count"])


def visit(people, referral, at):
    """A visit on `referral` at `at`, as a file import stores it."""
    return Visit.objects.create(
        operator=people.operator_x,
        referral=referral,
        occurred_at=at,
        source=Visit.Source.IMPORT,
        source_event_id=f"row-{next(_ids)}",
        recorded_by=people.coordinator_x,
        created_at=timezone.now(),
    )


def attended_on(referral, at):
    """The referral's first session moved to `at` and marked attended (as the register does)."""
    session = referral.sessions.order_by("scheduled_at").first()
    Session.objects.filter(pk=session.pk).update(
        scheduled_at=at, status=Session.Attendance.ATTENDED
    )
    return session


def checkin(people, number, at, event_id=None):
    return visits_record(
        operator=people.operator_x,
        by=people.instructor_x,
        events=[
            VisitEvent(
                event_id=event_id or f"c-{next(_ids)}",
                facility=people.facility_x.public_id,
                membership_number=number,
                occurred_at=at,
            )
        ],
    )


def booked_with_number(people, number="M-1"):
    referral = referral_in_state(people, Status.BOOKED)
    services.referral_set_membership_number(
        referral=referral, by=people.coordinator_x, number=number
    )
    # Booked yesterday, so the visits of the last hours are after the booking.
    Referral.objects.filter(pk=referral.pk).update(
        status_changed_at=timezone.now() - dt.timedelta(days=1)
    )
    referral.refresh_from_db()
    return referral


# --- The rule ------------------------------------------------------------------------------------


def test_a_day_counts_once_whether_a_class_or_visits_or_both(people):
    counting(people)
    referral = referral_in_state(people, Status.ACTIVE)  # one class attended, an hour ago
    class_day = timezone.localtime(
        referral.sessions.get(status=Session.Attendance.ATTENDED).scheduled_at
    )
    other_day = class_day - dt.timedelta(days=2)
    visit(people, referral, class_day + dt.timedelta(minutes=5))  # the door scan for the class
    visit(people, referral, other_day.replace(hour=8))
    visit(people, referral, other_day.replace(hour=18))  # twice in one day: one day
    visit(people, referral, class_day - dt.timedelta(days=3))

    adherence = adherence_for(referral)

    assert (adherence.attended, adherence.visits, adherence.visit_days) == (1, 4, 2)
    assert adherence.counted == 3
    assert adherence.summary == (
        f"3 of {people.programme_x.planned_sessions} planned "
        "(1 class session and 2 days of self-directed visits)"
    )


def test_a_programme_that_does_not_count_visits_counts_classes_only(people):
    counting(people, False)
    referral = referral_in_state(people, Status.ACTIVE)
    visit(people, referral, timezone.now() - dt.timedelta(days=3))

    adherence = adherence_for(referral)

    assert (adherence.attended, adherence.visits, adherence.visit_days) == (1, 1, 1)
    assert adherence.counted == 1
    assert "(not counted by this programme)" in adherence.summary


def test_visit_days_are_days_in_the_uk_not_utc(people):
    """23:30 and 00:30 UK time in summer are one UTC day but two UK days."""
    counting(people)
    referral = referral_in_state(people, Status.ACTIVE)
    Session.objects.filter(referral=referral).update(status=Session.Attendance.BOOKED)
    late = dt.datetime(2026, 7, 1, 23, 30, tzinfo=LONDON)
    visit(people, referral, late)
    visit(people, referral, late + dt.timedelta(hours=1))

    assert adherence_for(referral).visit_days == 2


@pytest.mark.parametrize(("counted", "adherent"), [(17, False), (18, True)])
def test_adherent_at_three_quarters_of_the_planned_sessions(counted, adherent):
    assert Adherence(counted, 0, 0, True, 24).adherent is adherent
    assert Adherence(counted - 5, 9, 5, True, 24).adherent is adherent
    assert Adherence(counted - 5, 9, 5, False, 24).adherent is False


# --- Starting on a visit ---------------------------------------------------------------------


def test_the_first_counted_visit_starts_a_booked_referral_and_the_referrer_hears_once(people):
    counting(people)
    referral = booked_with_number(people)
    now = timezone.now()

    [first] = checkin(people, "M-1", now - dt.timedelta(minutes=5))
    checkin(people, "M-1", now - dt.timedelta(minutes=1))

    referral.refresh_from_db()
    assert first.referral == referral
    assert referral.status == Status.ACTIVE
    start = referral.events.get(action="start")
    assert start.note.startswith("First self-directed visit on ")
    assert Notification.objects.filter(event__referral=referral, event__action="start").exists()
    assert referral.events.filter(action="start").count() == 1


def test_a_visit_does_not_start_a_referral_whose_programme_does_not_count_it(people):
    counting(people, False)
    referral = booked_with_number(people)

    checkin(people, "M-1", timezone.now() - dt.timedelta(minutes=5))

    referral.refresh_from_db()
    assert referral.status == Status.BOOKED
    assert referral.visits.count() == 1


def test_a_late_event_from_before_the_booking_does_not_start_it(people):
    counting(people)
    referral = booked_with_number(people)

    checkin(people, "M-1", referral.status_changed_at - dt.timedelta(hours=2))

    referral.refresh_from_db()
    assert referral.status == Status.BOOKED


def test_a_batch_starts_each_referral_once_with_its_earliest_visit(people):
    counting(people)
    one = booked_with_number(people, "M-1")
    two = booked_with_number(people, "M-2")
    now = timezone.now()
    events = [
        VisitEvent(
            event_id=f"b-{n}",
            facility=people.facility_x.public_id,
            membership_number=number,
            occurred_at=now - dt.timedelta(minutes=minutes),
        )
        for n, (number, minutes) in enumerate([("M-1", 5), ("M-1", 30), ("M-2", 10)])
    ]

    visits_record(operator=people.operator_x, by=people.instructor_x, events=events)

    for referral in (one, two):
        referral.refresh_from_db()
        assert referral.status == Status.ACTIVE
        assert referral.events.filter(action="start").count() == 1
    on = f"{timezone.localtime(now - dt.timedelta(minutes=30)):%d %B %Y}"
    assert one.events.get(action="start").note == f"First self-directed visit on {on}"


# --- Where it is shown ---------------------------------------------------------------------------


def test_progress_on_the_register_and_caseload_counts_both_in_one_query(
    people, django_assert_num_queries
):
    counting(people)
    referrals = [referral_in_state(people, Status.ACTIVE) for _ in range(3)]
    for referral in referrals:
        visit(people, referral, timezone.now() - dt.timedelta(days=4))

    with django_assert_num_queries(1):
        progress = progress_for([r.id for r in referrals])

    for referral in referrals:
        adherence = progress[referral.id].adherence
        assert (adherence.attended, adherence.visit_days, adherence.counted) == (1, 1, 2)
    rows = {row.referral.id: row.progress for row in Caseload(people.instructor_x).page().rows}
    assert rows[referrals[0].id].adherence.counted == 2


def test_a_programme_done_by_visits_is_ready_to_complete(people):
    counting(people)
    people.programme_x.planned_sessions = 3
    people.programme_x.save(update_fields=["planned_sessions"])
    referral = referral_in_state(people, Status.ACTIVE)
    for days in (2, 3):
        visit(people, referral, timezone.now() - dt.timedelta(days=days))

    assert progress_for([referral.id])[referral.id].ready_to_complete


def test_the_caseload_page_shows_classes_and_visit_days(client, people):
    counting(people)
    referral = referral_in_state(people, Status.ACTIVE)
    visit(people, referral, timezone.now() - dt.timedelta(days=4))
    client.force_login(people.instructor_x)

    text = unescape(client.get(reverse("register:caseload")).content.decode())

    planned = people.programme_x.planned_sessions
    assert f"2 of {planned} done: 1 class, 1 self-directed day" in " ".join(text.split())


def test_the_referral_page_and_discharge_summary_show_them_apart_and_together(client, people):
    counting(people)
    referral = referral_in_state(people, Status.ACTIVE)
    # Two visits on one UK day (noon and one o'clock), whatever the time the test runs.
    noon = timezone.localtime().replace(hour=12, minute=0, second=0, microsecond=0)
    visit(people, referral, noon - dt.timedelta(days=4))
    visit(people, referral, noon - dt.timedelta(days=4) + dt.timedelta(hours=1))
    client.force_login(people.coordinator_x)

    text = " ".join(unescape(client.get(referral_url(referral)).content.decode()).split())

    planned = people.programme_x.planned_sessions
    summary = f"2 of {planned} planned (1 class session and 1 day of self-directed visits)"
    assert f"Counted toward adherence: {summary}" in text
    tally = attendance_for(referral)
    assert dict(tally.rows)["Self-directed visits"] == "2 on 1 day without a class"
    assert dict(tally.rows)["Counted toward adherence"] == summary
    assert tally.visits_sentence == (
        "2 self-directed visits recorded by the centre's systems, on 1 day without a class; "
        f"counted toward adherence: {summary}."
    )


def test_the_discharge_summary_of_a_programme_not_counting_visits_says_so(people):
    counting(people, False)
    referral = referral_in_state(people, Status.ACTIVE)
    visit(people, referral, timezone.now() - dt.timedelta(days=4))

    tally = attendance_for(referral)

    assert dict(tally.rows)["Self-directed visits"] == (
        "1 on 1 day without a class (not counted by the programme)"
    )
    assert tally.visits_sentence == (
        "1 self-directed visit recorded by the centre's systems (the programme does not count "
        "them)."
    )


def referral_url(referral: Referral) -> str:
    return reverse("referrals:detail", args=[referral.reference])


def test_the_programme_form_sets_whether_visits_count(client, people):
    client.force_login(people.admin_x)
    url = reverse(
        "manage:programme_edit", args=[people.operator_x.public_id, people.programme_x.public_id]
    )
    form = client.get(url)
    assert "Self-directed visits count toward adherence" in form.content.decode()

    data = {
        key: value
        for key, value in form.context["form"].initial.items()
        if value is not None and key != "self_directed_visits_count"
    }
    data["self_directed_visits_count"] = "on"
    client.post(url, data)

    people.programme_x.refresh_from_db()
    assert people.programme_x.self_directed_visits_count is True


def test_marking_the_first_class_after_visits_started_it_changes_no_status(people):
    """Started by a visit, the referral is active: the first class attended is a mark only."""
    counting(people)
    referral = booked_with_number(people)
    checkin(people, "M-1", timezone.now() - dt.timedelta(minutes=5))
    session = session_due_now(referral.sessions.order_by("scheduled_at").first())

    services.session_record_attendance(
        session=session, status=Session.Attendance.ATTENDED, by=people.instructor_x
    )

    referral.refresh_from_db()
    assert referral.status == Status.ACTIVE
    assert referral.events.filter(action="start").count() == 1


# --- Matched later --------------------------------------------------------------------------------


def test_unmatched_check_ins_join_the_referral_when_its_number_is_recorded(people, frozen_now):
    """A member checks in before the coordinator records their number: the visits are kept
    unmatched, then matched when the number is recorded, and a booked referral whose programme
    counts them starts (once)."""
    counting(people)
    now = timezone.now()
    frozen_now(now - dt.timedelta(days=2))  # accepted and booked two days ago
    referral = referral_in_state(people, Status.BOOKED)
    frozen_now(now)
    [early] = checkin(people, "M-9", now - dt.timedelta(hours=2))
    checkin(people, "M-9", now - dt.timedelta(hours=1))
    [other] = checkin(people, "M-10", now - dt.timedelta(hours=1))
    assert early.status == "unmatched"

    services.referral_set_membership_number(
        referral=referral, by=people.coordinator_x, number="m-9"
    )

    assert set(referral.visits.values_list("membership_number", flat=True)) == {"M-9"}
    assert referral.visits.count() == 2
    other.visit.refresh_from_db()
    assert other.visit.referral is None
    assert referral.status == Status.ACTIVE  # the caller's copy is current
    assert referral.events.filter(action="start").count() == 1
    services.referral_set_membership_number(  # a later change still works on that copy
        referral=referral, by=people.coordinator_x, number="M-9B"
    )


def test_visits_from_before_the_referral_was_accepted_stay_unmatched(people):
    """An old member's earlier visits with the same number are not this programme's."""
    counting(people)
    referral = referral_in_state(people, Status.ACCEPTED)
    accepted_at = referral.events.get(to_status=Status.ACCEPTED).created_at
    checkin(people, "M-7", accepted_at - dt.timedelta(days=30))

    services.referral_set_membership_number(
        referral=referral, by=people.coordinator_x, number="M-7"
    )

    assert referral.visits.count() == 0
    assert Visit.objects.get(membership_number="M-7").referral is None


def test_another_operators_unmatched_visits_are_never_attached(people):
    referral = referral_in_state(people, Status.ACCEPTED)
    visits_record(
        operator=people.operator_y,
        by=people.instructor_y,
        events=[
            VisitEvent(
                event_id="y-1",
                facility=people.facility_y.public_id,
                membership_number="SAME-1",
                occurred_at=timezone.now() - dt.timedelta(minutes=1),
            )
        ],
    )

    services.referral_set_membership_number(
        referral=referral, by=people.coordinator_x, number="SAME-1"
    )

    assert referral.visits.count() == 0


# --- Retention ------------------------------------------------------------------------------------


def test_unmatched_visits_are_deleted_after_the_days_kept_and_matched_ones_stay(people, settings):
    from governance import retention
    from referrals.visits import FORGET_UNMATCHED

    settings.PORTAL_IMPORT_RETENTION_DAYS = 90
    referral = booked_with_number(people, "M-1")
    checkin(people, "NOBODY", timezone.now() - dt.timedelta(hours=1), event_id="old-unmatched")
    checkin(people, "M-1", timezone.now() - dt.timedelta(hours=1), event_id="old-matched")
    checkin(people, "NOBODY", timezone.now() - dt.timedelta(hours=1), event_id="new-unmatched")
    Visit.objects.filter(source_event_id__startswith="old-").update(
        created_at=timezone.now() - dt.timedelta(days=91)
    )

    plan = retention.retention_plan(timezone.now())
    [old] = dict(plan.step_ids)[FORGET_UNMATCHED]
    result = retention.retention_apply(plan)

    assert result.counts[FORGET_UNMATCHED] == 1
    assert not Visit.objects.filter(pk=old).exists()
    kept = set(Visit.objects.values_list("source_event_id", flat=True))
    assert kept == {"old-matched", "new-unmatched"}
    assert referral.visits.count() == 1
