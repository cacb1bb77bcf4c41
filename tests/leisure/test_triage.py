"""The coordinator's worklist and triage actions through the test client."""

import datetime
from html import unescape

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from leisure import selectors
from leisure.views import triage
from leisure.views.triage import SEARCH_SESSION_KEY
from referrals import services
from referrals.models import Referral, Status
from tests.builders import new_draft, referral_in_state
from tests.factories import PatientFactory, ProgrammeClassFactory

WORKLIST = "/triage/"


def action_url(referral, name):
    return reverse("triage:action", args=[referral.reference, name])


def html_of(response) -> str:
    return unescape(response.content.decode())


# --- Access ------------------------------------------------------------------------------------


def test_anonymous_visitors_are_sent_to_sign_in(client, people):
    referral = referral_in_state(people, Status.SUBMITTED)
    for url in [WORKLIST, action_url(referral, "accept")]:
        response = client.get(url)
        assert response.status_code == 302 and response.url.startswith("/accounts/login/")


@pytest.mark.parametrize("persona", ["referrer_a", "instructor_x", "commissioner", "admin_x"])
def test_only_coordinators_have_a_worklist(client, people, persona):
    client.force_login(getattr(people, persona))
    assert client.get(WORKLIST).status_code == 403


@pytest.mark.parametrize("name", ["accept", "decline", "request_info"])
def test_another_operators_coordinator_gets_404_on_every_action(client, people, name):
    referral = referral_in_state(people, Status.SUBMITTED)
    client.force_login(people.coordinator_y)
    assert client.get(action_url(referral, name)).status_code == 404
    assert client.post(action_url(referral, name), {"reason": "duplicate"}).status_code == 404
    assert Referral.objects.get(pk=referral.pk).status == Status.SUBMITTED


@pytest.mark.parametrize("persona", ["referrer_a", "instructor_x"])
def test_people_who_do_not_triage_get_403_on_actions(client, people, persona):
    referral = referral_in_state(people, Status.ACCEPTED)
    client.force_login(getattr(people, persona))
    for name in ["decline", "discharge", "waitlist"]:
        assert client.get(action_url(referral, name)).status_code == 403
    client.post(action_url(referral, "discharge"), {"reason": "medical"})
    assert Referral.objects.get(pk=referral.pk).status == Status.ACCEPTED


def test_an_unknown_action_is_404(client, people):
    referral = referral_in_state(people, Status.SUBMITTED)
    client.force_login(people.coordinator_x)
    assert client.get(action_url(referral, "teleport")).status_code == 404


# --- Worklist ----------------------------------------------------------------------------------


def test_worklist_shows_the_operators_referrals_oldest_first_without_drafts(client, people):
    older = referral_in_state(people, Status.SUBMITTED)
    newer = referral_in_state(people, Status.INFO_REQUESTED)
    Referral.objects.filter(pk=older.pk).update(
        submitted_at=timezone.now() - datetime.timedelta(days=3)
    )
    draft = new_draft(people)
    at_y = referral_in_state(
        people, Status.SUBMITTED, programme=people.programme_y, preferred_facility=people.facility_y
    )
    finished = referral_in_state(people, Status.COMPLETED)
    client.force_login(people.coordinator_x)
    rows = client.get(WORKLIST).context["rows"]
    references = [row.referral.reference for row in rows]
    assert references == [older.reference, newer.reference]
    assert draft.reference not in references and at_y.reference not in references
    assert finished.reference not in references


def test_worklist_counts_working_days_and_flags_overdue(client, people, frozen_now):
    frozen_now(timezone.make_aware(datetime.datetime(2026, 12, 31, 10, 0)))  # a Thursday
    referral = referral_in_state(people, Status.SUBMITTED)
    Referral.objects.filter(pk=referral.pk).update(
        submitted_at=timezone.make_aware(datetime.datetime(2026, 12, 10, 10, 0))
    )
    client.force_login(people.coordinator_x)
    response = client.get(WORKLIST)
    row = response.context["rows"][0]
    # Three weeks: 15 weekdays after Thursday 10 December, less Christmas Day and the Monday
    # standing in for Boxing Day.
    assert row.days_waiting == 13
    assert row.overdue
    assert "Overdue" in html_of(response)
    only_overdue = client.get(WORKLIST + "?overdue=on").context["rows"]
    assert [r.referral for r in only_overdue] == [referral]


def test_worklist_filters_by_facility_programme_and_status(client, people):
    submitted = referral_in_state(people, Status.SUBMITTED)
    accepted = referral_in_state(people, Status.ACCEPTED)
    client.force_login(people.coordinator_x)

    def refs(query):
        return {r.referral.reference for r in client.get(WORKLIST + query).context["rows"]}

    assert refs("?status=accepted") == {accepted.reference}
    assert refs(f"?facility={people.facility_x.pk}") == {submitted.reference, accepted.reference}
    assert refs(f"?facility={people.facility_x2.pk}") == set()
    assert refs(f"?programme={people.programme_x.pk}") == {submitted.reference, accepted.reference}


def test_worklist_search_is_posted_and_kept_out_of_the_url(client, people):
    wanted = referral_in_state(
        people,
        Status.SUBMITTED,
        patient=PatientFactory(organisation=people.practice_a, family_name="Brontë"),
    )
    other = referral_in_state(people, Status.SUBMITTED)
    client.force_login(people.coordinator_x)
    response = client.post(WORKLIST, {"q": "bront"})
    assert "bront" not in response.url
    assert client.session[SEARCH_SESSION_KEY] == "bront"
    refs = {r.referral.reference for r in client.get(response.url).context["rows"]}
    assert refs == {wanted.reference}
    assert other.reference not in refs


def test_worklist_offers_a_freed_place_to_the_waiting_list(client, people):
    small = ProgrammeClassFactory(
        programme=people.programme_x, facility=people.facility_x, capacity=1
    )
    holder = referral_in_state(people, Status.SUBMITTED)
    waiting = referral_in_state(people, Status.SUBMITTED)
    client.force_login(people.coordinator_x)
    for referral in (holder, waiting):
        client.post(
            action_url(referral, "accept"),
            {
                "facility": people.facility_x.pk,
                "programme_class": small.pk,
                "version": Referral.objects.get(pk=referral.pk).version,
            },
        )
    assert Referral.objects.get(pk=waiting.pk).status == Status.WAITLISTED
    assert not client.get(WORKLIST).context["rows"][1].place_free
    holder.refresh_from_db()
    client.post(action_url(holder, "discharge"), {"reason": "medical", "version": holder.version})
    rows = {r.referral.pk: r for r in client.get(WORKLIST).context["rows"]}
    assert rows[waiting.pk].place_free
    assert "Place free: offer it" in html_of(client.get(WORKLIST))


def _worklist_queries(client, people, count):
    referrals = [referral_in_state(people, Status.SUBMITTED) for _ in range(count)]
    client.force_login(people.coordinator_x)
    with CaptureQueriesContext(connection) as captured:
        response = client.get(WORKLIST)
    assert response.status_code == 200
    assert len(response.context["rows"]) == count
    html = html_of(response)
    assert [r.reference for r in referrals if f">{r.reference}</a>" not in html] == []
    return len(captured)


def test_worklist_runs_the_same_queries_for_1_and_50_referrals(client, people):
    one = _worklist_queries(client, people, 1)
    Referral.objects.all().delete()
    assert _worklist_queries(client, people, 50) == one


def test_worklist_pages_by_previous_and_next_keeping_the_filters(client, people, monkeypatch):
    monkeypatch.setattr(triage, "PAGE_SIZE", 2)
    first, second, third = (referral_in_state(people, Status.SUBMITTED) for _ in range(3))
    referral_in_state(people, Status.ACCEPTED)  # filtered out
    client.force_login(people.coordinator_x)
    url = f"{WORKLIST}?status=submitted"

    page_one = client.get(url)
    assert [row.referral for row in page_one.context["rows"]] == [first, second]
    html = page_one.content.decode()
    assert 'href="?status=submitted&amp;page=2" rel="next"' in html
    assert 'rel="prev"' not in html

    page_two = client.get(url + "&page=2")
    assert [row.referral for row in page_two.context["rows"]] == [third]
    html = page_two.content.decode()
    assert "Showing 3 to 3</span>" in html
    assert 'href="?status=submitted&amp;page=1" rel="prev"' in html
    assert 'rel="next"' not in html

    past = html_of(client.get(url + "&page=3"))
    assert "There is nothing on page 3" in past


def test_worklist_runs_the_same_queries_when_there_is_a_next_page(client, people, monkeypatch):
    one = _worklist_queries(client, people, 1)
    monkeypatch.setattr(triage, "PAGE_SIZE", 2)
    for _ in range(2):
        referral_in_state(people, Status.SUBMITTED)
    with CaptureQueriesContext(connection) as captured:
        response = client.get(WORKLIST + "?page=2")
    assert len(response.context["rows"]) == 1 and response.context["page_obj"].has_previous
    assert len(captured) == one


# --- Actions -----------------------------------------------------------------------------------


def test_accept_into_a_class_with_an_instructor(client, people):
    referral = referral_in_state(people, Status.SUBMITTED)
    client.force_login(people.coordinator_x)
    page = client.get(action_url(referral, "accept"))
    assert "places free" in html_of(page)
    response = client.post(
        action_url(referral, "accept"),
        {
            "facility": people.facility_x.pk,
            "programme_class": people.class_x.pk,
            "instructor": people.instructor_x.pk,
            "version": referral.version,
        },
    )
    assert response.url == reverse("referrals:detail", args=[referral.reference])
    referral.refresh_from_db()
    assert (referral.status, referral.programme_class, referral.instructor) == (
        Status.ACCEPTED,
        people.class_x,
        people.instructor_x,
    )


def test_accept_into_a_full_class_says_it_was_waitlisted(client, people):
    full = ProgrammeClassFactory(
        programme=people.programme_x, facility=people.facility_x, capacity=1
    )
    first = referral_in_state(people, Status.SUBMITTED)
    second = referral_in_state(people, Status.SUBMITTED)
    client.force_login(people.coordinator_x)
    for referral in (first, second):
        response = client.post(
            action_url(referral, "accept"),
            {
                "facility": people.facility_x.pk,
                "programme_class": full.pk,
                "version": referral.version,
            },
            follow=True,
        )
    assert "on its waiting list (number 1)" in html_of(response)
    assert Referral.objects.get(pk=second.pk).status == Status.WAITLISTED


def test_accept_refuses_another_operators_facility_and_changes_nothing(client, people):
    referral = referral_in_state(people, Status.SUBMITTED)
    client.force_login(people.coordinator_x)
    response = client.post(
        action_url(referral, "accept"),
        {"facility": people.facility_y.pk, "version": referral.version},
    )
    assert response.status_code == 200
    assert "Select a valid choice" in html_of(response)
    assert Referral.objects.get(pk=referral.pk).status == Status.SUBMITTED


def test_declining_shows_the_reason_and_message_to_the_referrer(client, people):
    referral = referral_in_state(people, Status.SUBMITTED)
    client.force_login(people.coordinator_x)
    missing = client.post(action_url(referral, "decline"), {"version": referral.version})
    assert "Select why you are declining the referral" in html_of(missing)
    client.post(
        action_url(referral, "decline"),
        {
            "reason": "outside_area",
            "note": "Please refer to Bradford Active.",
            "version": referral.version,
        },
    )
    assert Referral.objects.get(pk=referral.pk).status == Status.DECLINED
    client.force_login(people.referrer_a)
    page = html_of(client.get(reverse("referrals:detail", args=[referral.reference])))
    assert "Outside the area we serve" in page
    assert "Please refer to Bradford Active." in page


def test_requesting_information_puts_the_question_to_the_referrer(client, people):
    referral = referral_in_state(people, Status.SUBMITTED)
    client.force_login(people.coordinator_x)
    client.post(
        action_url(referral, "request_info"),
        {"question": "Any falls this year?", "version": referral.version},
    )
    assert Referral.objects.get(pk=referral.pk).status == Status.INFO_REQUESTED
    client.force_login(people.referrer_a)
    page = html_of(client.get(reverse("referrals:detail", args=[referral.reference])))
    assert "Any falls this year?" in page and "Send answer" in page


def test_booking_a_class_place_books_the_weekly_sessions(client, people, frozen_now):
    # Booked on Monday 1 November 2027: twelve Tuesdays from the next day, less 28 December (the
    # bank holiday standing in for Boxing Day).
    frozen_now(timezone.make_aware(datetime.datetime(2027, 11, 1, 9, 0)))
    referral = referral_in_state(people, Status.ACCEPTED)
    client.force_login(people.coordinator_x)
    client.post(action_url(referral, "book"), {"version": referral.version})
    referral.refresh_from_db()
    assert referral.status == Status.BOOKED
    days = [timezone.localdate(s.scheduled_at) for s in referral.sessions.order_by("scheduled_at")]
    assert len(days) == 11
    assert (days[0], days[-1]) == (datetime.date(2027, 11, 2), datetime.date(2028, 1, 18))
    assert datetime.date(2027, 12, 28) not in days


def test_booking_one_to_one_needs_a_future_date_and_time(client, people):
    referral = referral_in_state(people, Status.SUBMITTED)
    client.force_login(people.coordinator_x)
    client.post(
        action_url(referral, "accept"),
        {"facility": people.facility_x.pk, "version": referral.version},
    )
    referral.refresh_from_db()
    missing = client.post(action_url(referral, "book"), {"version": referral.version})
    assert "Enter the time of the first session" in html_of(missing)
    past = timezone.localdate() - datetime.timedelta(days=2)
    in_past = client.post(
        action_url(referral, "book"),
        {
            "first_session_on_0": past.day,
            "first_session_on_1": past.month,
            "first_session_on_2": past.year,
            "first_session_time": "10:00",
            "version": referral.version,
        },
    )
    assert "The first session must be in the future" in html_of(in_past)
    far = timezone.localdate() + datetime.timedelta(days=400)
    too_far = client.post(
        action_url(referral, "book"),
        {
            "first_session_on_0": far.day,
            "first_session_on_1": far.month,
            "first_session_on_2": far.year,
            "first_session_time": "10:00",
            "version": referral.version,
        },
    )
    assert "The first session must be within a year" in html_of(too_far)
    assert 'href="#id_first_session_on' in too_far.content.decode()  # on the date, not the top
    soon = timezone.localdate() + datetime.timedelta(days=3)
    client.post(
        action_url(referral, "book"),
        {
            "first_session_on_0": soon.day,
            "first_session_on_1": soon.month,
            "first_session_on_2": soon.year,
            "first_session_time": "14:30",
            "version": referral.version,
        },
    )
    referral.refresh_from_db()
    assert referral.status == Status.BOOKED
    session = referral.sessions.get()
    assert timezone.localtime(session.scheduled_at).time() == datetime.time(14, 30)


def test_complete_and_discharge(client, people):
    active = referral_in_state(people, Status.ACTIVE)
    booked = referral_in_state(people, Status.BOOKED)
    client.force_login(people.coordinator_x)
    client.post(action_url(active, "complete"), {"version": active.version})
    assert Referral.objects.get(pk=active.pk).status == Status.COMPLETED
    client.post(action_url(booked, "discharge"), {"reason": "dna_limit", "version": booked.version})
    assert Referral.objects.get(pk=booked.pk).status == Status.DISCHARGED


def test_an_action_not_open_in_this_state_goes_back_to_the_referral(client, people):
    referral = referral_in_state(people, Status.DECLINED)
    client.force_login(people.coordinator_x)
    response = client.get(action_url(referral, "accept"), follow=True)
    assert "This referral is declined now." in html_of(response)


def test_referral_page_lists_the_coordinators_actions(client, people):
    referral = referral_in_state(people, Status.SUBMITTED)
    client.force_login(people.coordinator_x)
    page = html_of(client.get(reverse("referrals:detail", args=[referral.reference])))
    for label in [
        "Accept the referral",
        "Decline the referral",
        "Ask the referrer for information",
    ]:
        assert label in page
    assert "Discharge the patient" not in page


# --- Classes and places ------------------------------------------------------------------------


def test_classes_show_capacity_places_taken_and_the_waiting_list(client, people):
    small = ProgrammeClassFactory(
        programme=people.programme_x, facility=people.facility_x, capacity=1, name="Small class"
    )
    holder = referral_in_state(
        people,
        Status.SUBMITTED,
        patient=PatientFactory(organisation=people.practice_a, family_name="Holder"),
    )
    waiting = referral_in_state(
        people,
        Status.SUBMITTED,
        patient=PatientFactory(organisation=people.practice_a, family_name="Waiter"),
    )
    for referral in (holder, waiting):
        services.referral_accept(
            referral=referral,
            by=people.coordinator_x,
            facility=people.facility_x,
            programme_class=small,
        )
    client.force_login(people.coordinator_x)
    listing = client.get(reverse("triage:classes"))
    row = next(c for c in listing.context["classes"] if c.pk == small.pk)
    assert (row.capacity, row.taken, row.waiting) == (1, 1, 1)
    page = client.get(reverse("triage:class", args=[small.public_id]))
    assert [r.pk for r in page.context["holding"]] == [holder.pk]
    assert [r.pk for r in page.context["waiting"]] == [waiting.pk]
    assert "Waiter" in html_of(page)


def test_classes_count_only_the_places_still_taken(client, people):
    holding = [referral_in_state(people, status) for status in (Status.BOOKED, Status.ACTIVE)]
    for status in (Status.COMPLETED, Status.DISCHARGED, Status.CANCELLED):
        referral_in_state(people, status)  # held a place in class X once
    client.force_login(people.coordinator_x)
    listing = client.get(reverse("triage:classes"))
    row = next(c for c in listing.context["classes"] if c.pk == people.class_x.pk)
    assert (row.taken, row.waiting) == (len(holding), 0)


def test_the_class_list_pages_by_previous_and_next(client, people, monkeypatch):
    monkeypatch.setattr(triage, "CLASSES_PAGE_SIZE", 2)
    ProgrammeClassFactory(programme=people.programme_x, facility=people.facility_x)
    ProgrammeClassFactory(programme=people.programme_x, facility=people.facility_x)
    client.force_login(people.coordinator_x)
    ordered = list(selectors.classes_coordinated_by(people.coordinator_x))
    assert len(ordered) == 3

    first = client.get(reverse("triage:classes"))
    assert list(first.context["classes"]) == ordered[:2]
    assert 'href="?page=2" rel="next"' in first.content.decode()
    second = client.get(reverse("triage:classes"), {"page": "2"})
    assert list(second.context["classes"]) == ordered[2:]
    html = second.content.decode()
    assert 'href="?page=1" rel="prev"' in html and 'rel="next"' not in html


def test_class_pages_are_for_the_operators_coordinators_only(client, people):
    client.force_login(people.coordinator_y)
    assert client.get(reverse("triage:class", args=[people.class_x.public_id])).status_code == 404
    client.force_login(people.instructor_x)
    assert client.get(reverse("triage:classes")).status_code == 403


def test_class_list_runs_the_same_queries_for_1_and_20_classes(client, people):
    client.force_login(people.coordinator_x)
    with CaptureQueriesContext(connection) as few:
        response = client.get(reverse("triage:classes"))
    assert response.status_code == 200
    assert f">{people.class_x.name}</a>" in html_of(response)
    added = [
        ProgrammeClassFactory(programme=people.programme_x, facility=people.facility_x)
        for _ in range(20)
    ]
    with CaptureQueriesContext(connection) as many:
        response = client.get(reverse("triage:classes"))
    assert response.status_code == 200
    html = html_of(response)
    assert [c.name for c in [people.class_x, *added] if f">{c.name}</a>" not in html] == []
    assert len(few) == len(many)


def test_class_list_runs_the_same_queries_for_1_class_and_more_than_a_page_of_them(client, people):
    client.force_login(people.coordinator_x)
    for status in (Status.BOOKED, Status.COMPLETED):
        referral_in_state(people, status)
    with CaptureQueriesContext(connection) as one:
        assert len(client.get(reverse("triage:classes")).context["classes"]) == 1
    for _ in range(triage.CLASSES_PAGE_SIZE):
        ProgrammeClassFactory(programme=people.programme_x, facility=people.facility_x)
    with CaptureQueriesContext(connection) as many:
        response = client.get(reverse("triage:classes"))
    assert len(response.context["classes"]) == triage.CLASSES_PAGE_SIZE
    assert response.context["page_obj"].has_next
    assert len(one) == len(many)
