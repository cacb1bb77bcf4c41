"""The instructor's pages (/today/): who gets in, marking attendance with and without htmx, the
prompts (consider discharge, ready to complete) and constant query counts for 1 and 50 rows."""

import datetime
import zoneinfo
from html import unescape

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from accounts.permissions import forget_cached_permissions
from leisure import register
from referrals import services
from referrals.models import Attendance, Referral, Session, Status
from tests.builders import new_draft, referral_in_state
from tests.factories import PatientFactory, ProgrammeClassFactory

HX = {"HTTP_HX_REQUEST": "true"}


def at_local(day: datetime.date, hour: int = 10) -> datetime.datetime:
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time(hour)))


def move_session(session: Session, when: datetime.datetime) -> Session:
    """Let time pass: put a booked session at another moment (bookings are made in the future)."""
    Session.objects.filter(pk=session.pk).update(scheduled_at=when)
    session.refresh_from_db()
    return session


def sessions_of(referral: Referral) -> list[Session]:
    return list(referral.sessions.order_by("scheduled_at"))


def booked_with_a_session_today(people, **fields) -> tuple[Referral, Session]:
    referral = referral_in_state(people, Status.BOOKED, **fields)
    session = move_session(sessions_of(referral)[0], at_local(timezone.localdate()))
    return referral, session


def booked_at_operator_y(people) -> Referral:
    referral = new_draft(people, programme=people.programme_y, preferred_facility=people.facility_y)
    services.referral_submit(referral=referral, by=people.referrer_a)
    services.referral_accept(
        referral=referral,
        by=people.coordinator_y,
        facility=people.facility_y,
        programme_class=people.class_y,
    )
    services.referral_book(referral=referral, by=people.coordinator_y)
    return referral


def register_url(programme_class, day) -> str:
    return reverse("register:register", args=[programme_class.public_id, day])


def mark_url(session) -> str:
    return reverse("register:mark", args=[session.public_id])


def page_text(response) -> str:
    return unescape(response.content.decode())


# --- Who gets in -------------------------------------------------------------------------------


def test_anonymous_visitors_are_sent_to_sign_in(client, people):
    _referral, session = booked_with_a_session_today(people)
    pages = [
        reverse("register:today"),
        reverse("register:caseload"),
        register_url(people.class_x, timezone.localdate()),
    ]
    for url in pages:
        response = client.get(url)
        assert response.status_code == 302, url
        assert response.url.startswith(reverse("account_login"))
    response = client.post(mark_url(session), {"status": Attendance.ATTENDED})
    assert response.status_code == 302
    assert response.url.startswith(reverse("account_login"))
    response = client.post(mark_url(session), {"status": Attendance.ATTENDED}, **HX)
    assert response.status_code == 204
    assert response["HX-Redirect"].startswith(reverse("account_login") + "?next=/today/")
    session.refresh_from_db()
    assert session.status == Attendance.BOOKED


@pytest.mark.parametrize(
    "persona", ["coordinator_x", "referrer_a", "commissioner", "admin_x", "admin_a"]
)
def test_people_who_do_not_record_sessions_are_refused(client, people, persona):
    _referral, session = booked_with_a_session_today(people)
    client.force_login(getattr(people, persona))
    pages = [
        reverse("register:today"),
        reverse("register:caseload"),
        register_url(people.class_x, timezone.localdate()),
    ]
    for url in pages:
        assert client.get(url).status_code == 403, url
    assert client.post(mark_url(session), {"status": Attendance.ATTENDED}).status_code == 403
    session.refresh_from_db()
    assert session.status == Attendance.BOOKED


def test_an_instructor_of_another_operator_gets_404_for_its_registers_and_sessions(client, people):
    referral, session = booked_with_a_session_today(people)
    client.force_login(people.instructor_y)
    assert client.get(register_url(people.class_x, timezone.localdate())).status_code == 404
    for extra in ({}, HX):
        response = client.post(mark_url(session), {"status": Attendance.ATTENDED}, **extra)
        assert response.status_code == 404
    session.refresh_from_db()
    referral.refresh_from_db()
    assert (session.status, referral.status) == (Attendance.BOOKED, Status.BOOKED)
    # And X's participants appear nowhere on Y's pages.
    for url in [reverse("register:today"), reverse("register:caseload")]:
        response = client.get(url)
        assert response.status_code == 200
        assert referral.patient.full_name not in page_text(response)
        assert referral.reference not in page_text(response)
    assert client.get(reverse("referrals:detail", args=[referral.reference])).status_code == 404


def test_an_instructor_gets_404_for_classes_at_centres_they_do_not_work_at(client, people):
    pool_class = ProgrammeClassFactory(programme=people.programme_x, facility=people.facility_x2)
    client.force_login(people.instructor_x)
    assert client.get(register_url(pool_class, timezone.localdate())).status_code == 404
    assert client.get(register_url(people.class_y, timezone.localdate())).status_code == 404


def test_an_instructor_who_no_longer_works_at_the_centre_loses_its_registers(client, people):
    _referral, session = booked_with_a_session_today(people)
    people.facility_x.staff.remove(people.instructor_x)
    forget_cached_permissions(people.instructor_x)
    client.force_login(people.instructor_x)
    assert client.get(register_url(people.class_x, timezone.localdate())).status_code == 404
    assert client.post(mark_url(session), {"status": Attendance.ATTENDED}).status_code == 404


def test_the_instructor_sees_todays_class_with_its_register(client, people, frozen_now):
    # A Tuesday, the day class X meets: a day lists only the classes of its weekday.
    frozen_now(datetime.datetime(2026, 11, 17, 9, 0, tzinfo=zoneinfo.ZoneInfo("Europe/London")))
    referral, session = booked_with_a_session_today(people)
    other = booked_at_operator_y(people)
    client.force_login(people.instructor_x)

    response = client.get(reverse("register:today"))

    assert response.status_code == 200
    text = page_text(response)
    assert "Today's classes" in text
    assert people.class_x.name in text
    assert people.class_y.name not in text
    assert other.patient.full_name not in text
    assert referral.patient.full_name in text
    assert f'href="{reverse("referrals:detail", args=[referral.reference])}"' in text
    assert f'aria-label="Mark {referral.patient.full_name} attended"' in text
    assert f'aria-label="Mark {referral.patient.full_name} did not attend"' in text
    assert f'aria-label="Mark {referral.patient.full_name} cancelled"' in text
    assert f'action="{mark_url(session)}"' in text
    assert "Not marked yet" in text
    assert "1 participant booked or active" in text


def test_today_lists_the_classes_in_the_days_slot_even_before_anyone_is_booked(client, people):
    day = timezone.localdate() + datetime.timedelta(days=3)
    ProgrammeClassFactory(
        programme=people.programme_x,
        facility=people.facility_x,
        weekday=day.weekday(),
        name="Aqua fit",
    )
    client.force_login(people.instructor_x)
    response = client.get(reverse("register:today"), {"day": day.isoformat()})
    assert response.status_code == 200
    assert "Aqua fit" in page_text(response)
    assert "No one is booked into this class on this day" in page_text(response)


def test_a_malformed_day_shows_today(client, people):
    client.force_login(people.instructor_x)
    response = client.get(reverse("register:today"), {"day": "next tuesday"})
    assert response.status_code == 200
    assert response.context["day"] == timezone.localdate()


def test_an_impossible_date_in_a_register_address_is_404(client, people):
    client.force_login(people.instructor_x)
    url = reverse("register:today") + f"classes/{people.class_x.public_id}/2025-02-30/"
    assert client.get(url).status_code == 404


def test_the_register_lists_the_days_participants_by_surname(client, people):
    day = timezone.localdate()
    names = ["Young", "Adams", "Morris"]
    for surname in names:
        booked_with_a_session_today(
            people, patient=PatientFactory(organisation=people.practice_a, family_name=surname)
        )
    client.force_login(people.instructor_x)

    response = client.get(register_url(people.class_x, day))

    assert response.status_code == 200
    rows = response.context["rows"]
    assert [r.patient.family_name for r in rows] == sorted(names)


# --- Marking -----------------------------------------------------------------------------------


def test_marking_attended_without_javascript_makes_the_referral_active(client, people):
    referral, session = booked_with_a_session_today(people)
    client.force_login(people.instructor_x)

    response = client.post(mark_url(session), {"status": Attendance.ATTENDED})

    expected = register_url(people.class_x, timezone.localdate()) + f"#session-{session.public_id}"
    assert response.status_code == 302
    assert response.url == expected
    session.refresh_from_db()
    referral.refresh_from_db()
    assert session.status == Attendance.ATTENDED
    assert session.logged_by == people.instructor_x
    assert referral.status == Status.ACTIVE
    page = client.get(response.url)
    assert "Attendance recorded: Attended." in page_text(page)
    assert "the referral is now active" in page_text(page)


def test_marking_with_htmx_returns_the_updated_row(client, people):
    referral, session = booked_with_a_session_today(people)
    client.force_login(people.instructor_x)

    response = client.post(mark_url(session), {"status": Attendance.ATTENDED}, **HX)

    assert response.status_code == 200
    text = page_text(response)
    assert text.lstrip().startswith("<tr")
    assert f'id="session-{session.public_id}"' in text
    assert '<strong class="nhsuk-tag nhsuk-tag--green">Attended</strong>' in text
    assert f'aria-label="Mark {referral.patient.full_name} did not attend"' in text
    # The page's live region says what happened.
    assert 'id="register-announcer" hx-swap-oob="innerHTML"' in text
    assert f"{referral.patient.full_name}: Attended" in text
    assert not list(response.wsgi_request._messages)
    session.refresh_from_db()
    referral.refresh_from_db()
    assert (session.status, referral.status) == (Attendance.ATTENDED, Status.ACTIVE)


def test_a_second_mark_corrects_the_first(client, people):
    referral, session = booked_with_a_session_today(people)
    client.force_login(people.instructor_x)
    client.post(mark_url(session), {"status": Attendance.ATTENDED}, **HX)
    response = client.post(mark_url(session), {"status": Attendance.DNA}, **HX)
    assert "Did not attend</strong>" in page_text(response)
    session.refresh_from_db()
    assert session.status == Attendance.DNA
    assert referral.events.filter(action="attendance_corrected").count() == 1


@pytest.mark.parametrize("status", ["", "booked", "present"])
@pytest.mark.parametrize("htmx", [False, True])
def test_an_invalid_mark_changes_nothing_and_says_so(client, people, status, htmx):
    referral, session = booked_with_a_session_today(people)
    client.force_login(people.instructor_x)

    response = client.post(mark_url(session), {"status": status}, **(HX if htmx else {}))

    if htmx:
        assert response.status_code == 200
        assert "nhsuk-error-message" in page_text(response)
        assert "Choose attended, did not attend or cancelled" in page_text(response)
    else:
        assert response.status_code == 302
        page = client.get(response.url)
        assert "Choose attended, did not attend or cancelled" in page_text(page)
    session.refresh_from_db()
    referral.refresh_from_db()
    assert (session.status, referral.status) == (Attendance.BOOKED, Status.BOOKED)


def test_marking_a_future_session_attended_is_refused_with_a_clear_message(client, people):
    referral = referral_in_state(people, Status.BOOKED)
    future = sessions_of(referral)[0]
    assert timezone.localdate(future.scheduled_at) > timezone.localdate()
    client.force_login(people.instructor_x)

    response = client.post(mark_url(future), {"status": Attendance.ATTENDED}, follow=True)

    assert "This session has not happened yet" in page_text(response)
    htmx = client.post(mark_url(future), {"status": Attendance.DNA}, **HX)
    assert "This session has not happened yet" in page_text(htmx)
    future.refresh_from_db()
    referral.refresh_from_db()
    assert (future.status, referral.status) == (Attendance.BOOKED, Status.BOOKED)


def test_a_future_register_offers_only_cancellation(client, people):
    referral = referral_in_state(people, Status.BOOKED)
    future = sessions_of(referral)[0]
    client.force_login(people.instructor_x)
    response = client.get(register_url(people.class_x, timezone.localdate(future.scheduled_at)))
    text = page_text(response)
    assert "This class has not happened yet" in text
    assert f'aria-label="Mark {referral.patient.full_name} cancelled"' in text
    assert f'aria-label="Mark {referral.patient.full_name} attended"' not in text

    client.post(mark_url(future), {"status": Attendance.CANCELLED_PATIENT})
    future.refresh_from_db()
    assert future.status == Attendance.CANCELLED_PATIENT


def test_a_discharged_participant_stays_on_the_register_without_buttons(client, people):
    referral, session = booked_with_a_session_today(people)
    services.referral_discharge(referral=referral, by=people.coordinator_x, reason="moved_away")
    client.force_login(people.instructor_x)

    text = page_text(client.get(register_url(people.class_x, timezone.localdate())))
    assert referral.patient.full_name in text
    assert "no marks to make" in text
    assert f'aria-label="Mark {referral.patient.full_name} attended"' not in text

    response = client.post(mark_url(session), {"status": Attendance.ATTENDED}, follow=True)
    assert "only be recorded for a booked or active referral" in page_text(response)


# --- Prompts -----------------------------------------------------------------------------------


def active_with_history(people, marks: list[str]) -> Referral:
    """An active referral whose first session was attended 30 days ago, then `marks` on the
    following days (each a session moved into the past and marked through the service)."""
    referral = referral_in_state(people, Status.ACTIVE)
    first, *later = sessions_of(referral)
    start = timezone.now() - datetime.timedelta(days=30)
    move_session(first, start)
    for offset, (session, status) in enumerate(zip(later, marks, strict=False), start=1):
        move_session(session, start + datetime.timedelta(days=offset))
        services.session_record_attendance(session=session, status=status, by=people.instructor_x)
    return referral


A, D, CP = Attendance.ATTENDED, Attendance.DNA, Attendance.CANCELLED_PATIENT


@pytest.mark.parametrize(
    ("marks", "run"),
    [
        ([], 0),
        ([D], 1),
        ([D, D, A], 0),
        ([A, D, D], 2),
        ([D, CP, D], 2),  # a cancellation is neither a missed session nor an attended one
        ([D, D, D], 3),
    ],
)
def test_the_run_of_missed_sessions_counts_dnas_since_the_last_attendance(people, marks, run):
    referral = active_with_history(people, marks)
    assert register.consecutive_missed(referral) == run
    progress = register.progress_for([referral.id])[referral.id]
    assert progress.consider_discharge is (run >= people.programme_x.dna_limit)


def test_reaching_the_dna_limit_prompts_discharge_on_the_register_and_caseload(client, people):
    referral = active_with_history(people, [D, D])
    today_session = move_session(sessions_of(referral)[3], at_local(timezone.localdate()))
    client.force_login(people.instructor_x)

    row = client.post(mark_url(today_session), {"status": D}, **HX)
    assert "Consider discharge: 3 missed in a row" in page_text(row)

    response = client.post(mark_url(today_session), {"status": D}, follow=True)
    assert "That is 3 missed in a row: consider discharge." in page_text(response)
    caseload = page_text(client.get(reverse("register:caseload")))
    assert "Consider discharge: 3 missed in a row" in caseload
    assert "Consider discharge (1)" in caseload
    flagged = client.get(reverse("register:caseload"), {"flag": "consider_discharge"})
    assert [r.referral for r in flagged.context["rows"]] == [referral]
    today = page_text(client.get(reverse("register:today")))
    assert "1 to consider for discharge" in today


def test_a_lower_dna_limit_prompts_sooner(people):
    people.programme_x.dna_limit = 1
    people.programme_x.save()
    referral = active_with_history(people, [D])
    assert register.progress_for([referral.id])[referral.id].consider_discharge


def test_attending_the_planned_sessions_prompts_completion(client, people):
    people.programme_x.planned_sessions = 2
    people.programme_x.save()
    referral = active_with_history(people, [A])
    client.force_login(people.instructor_x)

    response = client.get(reverse("register:caseload"), {"flag": "ready_to_complete"})

    assert [r.referral for r in response.context["rows"]] == [referral]
    assert "Ready to complete" in page_text(response)


def test_no_sessions_left_after_attending_prompts_completion(people):
    referral = active_with_history(people, [])
    assert not register.progress_for([referral.id])[referral.id].ready_to_complete
    for session in referral.sessions.filter(status=Attendance.BOOKED):
        services.session_record_attendance(
            session=session, status=Attendance.CANCELLED_PROVIDER, by=people.instructor_x
        )
    progress = register.progress_for([referral.id])[referral.id]
    assert (progress.attended, progress.booked_left) == (1, 0)
    assert progress.ready_to_complete


def test_a_booked_referral_is_never_ready_to_complete(people):
    referral = referral_in_state(people, Status.BOOKED)
    progress = register.progress_for([referral.id])[referral.id]
    assert not progress.ready_to_complete
    assert not progress.consider_discharge


def test_the_caseload_lists_booked_and_active_participants_only(client, people):
    booked = referral_in_state(people, Status.BOOKED)
    active = referral_in_state(people, Status.ACTIVE)
    referral_in_state(people, Status.ACCEPTED)
    referral_in_state(people, Status.COMPLETED)
    booked_at_operator_y(people)
    client.force_login(people.instructor_x)

    response = client.get(reverse("register:caseload"))

    assert response.status_code == 200
    assert {r.referral for r in response.context["rows"]} == {booked, active}
    by_id = {r.referral.id: r.progress for r in response.context["rows"]}
    # Programme X: 12 weekly sessions over 12 weeks (the factory's plan).
    assert (by_id[active.id].attended, by_id[active.id].planned) == (1, 12)
    assert by_id[booked.id].attended == 0


# --- Query counts ------------------------------------------------------------------------------


def big_class_with(people, count: int, programme_class=None):
    """Book `count` more participants into a class with room for 60, through the services."""
    programme_class = programme_class or ProgrammeClassFactory(
        programme=people.programme_x,
        facility=people.facility_x,
        capacity=60,
        weekday=(timezone.localdate() + datetime.timedelta(days=2)).weekday(),
    )
    for _ in range(count):
        referral = referral_in_state(people, Status.SUBMITTED)
        services.referral_accept(
            referral=referral,
            by=people.coordinator_x,
            facility=people.facility_x,
            programme_class=programme_class,
        )
        services.referral_book(referral=referral, by=people.coordinator_x)
    return programme_class


def count_queries(client, url, params=None) -> tuple[int, object]:
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url, params or {})
    assert response.status_code == 200
    return len(captured), response


def test_register_pages_run_the_same_queries_for_1_and_50_participants(client, people):
    big = big_class_with(people, 1)
    first = Session.objects.filter(programme_class=big).earliest("scheduled_at")
    day = timezone.localdate(first.scheduled_at)
    client.force_login(people.instructor_x)
    pages = [
        (register_url(big, day), None, "rows"),
        (reverse("register:today"), {"day": day.isoformat()}, None),
        (reverse("register:caseload"), None, "rows"),
    ]

    def counts(expected_rows):
        booked = Referral.objects.filter(sessions__programme_class=big).distinct()
        references = list(booked.values_list("reference", flat=True))
        assert len(references) == expected_rows
        result = []
        for url, params, rows in pages:
            queries, response = count_queries(client, url, params)
            if rows:
                assert len(response.context[rows]) == expected_rows
            # Every participant counted for is on the page, by reference.
            html = page_text(response)
            shown = [r for r in references if f'<span class="nhsuk-body-s">{r}' in html]
            assert shown == references, url
            result.append(queries)
        return result

    one = counts(1)
    big_class_with(people, 49, programme_class=big)
    fifty = counts(50)
    assert one == fifty
    # /today/: 10, one for the open safety alerts at its top, and its sessions read in two
    # index-served queries (the day's registers, the caseload's other sessions).
    assert max(one) <= 12


def test_marking_runs_the_same_queries_in_a_register_of_1_and_of_50(client, people):
    big = big_class_with(people, 1)
    client.force_login(people.instructor_x)

    def mark_one():
        session = (
            Session.objects.filter(programme_class=big, status=Attendance.BOOKED)
            .order_by("scheduled_at", "id")
            .first()
        )
        move_session(session, timezone.now() - datetime.timedelta(hours=1))
        with CaptureQueriesContext(connection) as captured:
            response = client.post(mark_url(session), {"status": Attendance.DNA}, **HX)
        assert response.status_code == 200
        # The response is the marked row itself.
        html = page_text(response)
        assert f'<tr class="nhsuk-table__row" role="row" id="session-{session.public_id}">' in html
        assert '<strong class="nhsuk-tag nhsuk-tag--red">Did not attend</strong>' in html
        return len(captured)

    one = mark_one()
    big_class_with(people, 49, programme_class=big)
    assert mark_one() == one


def test_finishing_the_planned_sessions_says_the_referral_is_ready_to_complete(client, people):
    people.programme_x.planned_sessions = 2
    people.programme_x.save()
    referral = active_with_history(people, [])
    session = move_session(sessions_of(referral)[1], at_local(timezone.localdate()))
    client.force_login(people.instructor_x)

    response = client.post(mark_url(session), {"status": A}, follow=True)

    assert "the referral is ready to complete" in page_text(response)
    row = client.post(mark_url(session), {"status": A}, **HX)
    assert "Ready to complete" in page_text(row)


def test_a_one_to_one_session_is_marked_from_the_referral_page(client, people):
    referral = referral_in_state(people, Status.SUBMITTED)
    services.referral_accept(referral=referral, by=people.coordinator_x, facility=people.facility_x)
    services.referral_book(
        referral=referral,
        by=people.coordinator_x,
        first_session_at=timezone.now() + datetime.timedelta(days=1),
    )
    session = move_session(referral.sessions.get(), at_local(timezone.localdate()))
    client.force_login(people.instructor_x)

    response = client.post(mark_url(session), {"status": A})

    assert response.url == reverse("referrals:detail", args=[referral.reference])
    referral.refresh_from_db()
    assert referral.status == Status.ACTIVE


def test_the_caseload_pages_by_previous_and_next_keeping_the_filter(client, people, monkeypatch):
    monkeypatch.setattr(register, "CASELOAD_PAGE_SIZE", 2)
    participants = [
        referral_in_state(
            people,
            Status.BOOKED,
            patient=PatientFactory(organisation=people.practice_a, family_name=name),
        )
        for name in ("Austen", "Brontë", "Carroll")
    ]
    client.force_login(people.instructor_x)

    first = client.get(reverse("register:caseload"))
    assert [row.referral for row in first.context["rows"]] == participants[:2]
    html = page_text(first)
    assert "Showing 1 to 2 of 3" in html
    assert 'href="?page=2" rel="next"' in html and 'rel="prev"' not in html
    second = client.get(reverse("register:caseload"), {"page": "2"})
    assert [row.referral for row in second.context["rows"]] == participants[2:]
    html = page_text(second)
    assert "Showing 3 to 3 of 3" in html
    assert 'href="?page=1" rel="prev"' in html and 'rel="next"' not in html

    people.programme_x.dna_limit = 1
    people.programme_x.save()
    for referral in participants[1:]:
        missed = move_session(sessions_of(referral)[0], timezone.now() - datetime.timedelta(days=1))
        services.session_record_attendance(
            session=missed, status=Attendance.DNA, by=people.instructor_x
        )
    flagged = client.get(reverse("register:caseload"), {"flag": "consider_discharge"})
    assert flagged.context["summary"]["consider_discharge"] == 2
    assert [row.referral for row in flagged.context["rows"]] == participants[1:]
    html = page_text(flagged)
    assert "Showing 1 to 2 of 2" in html and 'rel="next"' not in html
    monkeypatch.setattr(register, "CASELOAD_PAGE_SIZE", 1)
    flagged = page_text(client.get(reverse("register:caseload"), {"flag": "consider_discharge"}))
    assert 'href="?flag=consider_discharge&page=2" rel="next"' in flagged


def test_the_caseload_runs_the_same_queries_for_1_and_more_than_a_page(client, people, monkeypatch):
    referral_in_state(people, Status.ACTIVE)
    client.force_login(people.instructor_x)
    one, response = count_queries(client, reverse("register:caseload"))
    assert len(response.context["rows"]) == 1
    monkeypatch.setattr(register, "CASELOAD_PAGE_SIZE", 2)
    for status in (Status.BOOKED, Status.ACTIVE, Status.BOOKED):
        referral_in_state(people, status)
    for params in ({}, {"page": "2"}, {"flag": "ready_to_complete"}):
        many, response = count_queries(client, reverse("register:caseload"), params)
        assert response.context["summary"]["total"] == 4
        assert many == one, params


def test_an_unknown_caseload_filter_shows_everyone(client, people):
    referral_in_state(people, Status.BOOKED)
    client.force_login(people.instructor_x)
    response = client.get(reverse("register:caseload"), {"flag": "everything"})
    assert response.context["flag"] == ""
    assert len(response.context["rows"]) == 1
