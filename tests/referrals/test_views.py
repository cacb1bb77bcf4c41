"""The referrer's pages through Django's test client: access rules, validation that changes
nothing, and the journey from a new patient to a submitted referral."""

import datetime
from html import unescape

import pytest
from django.urls import reverse
from django.utils import timezone

from referrals import services
from referrals.models import Notification, Patient, Referral, Status
from referrals.views import dashboard
from referrals.views.dashboard import SEARCH_SESSION_KEY
from tests.builders import new_draft, referral_in_state, session_due_now
from tests.factories import PatientFactory

PATIENT_FORM = {
    "nhs_number": "",
    "given_name": "Ada",
    "family_name": "Lovelace",
    "date_of_birth_0": "10",
    "date_of_birth_1": "12",
    "date_of_birth_2": "1960",
    "sex": "F",
    "postcode": "ls6 2ab",
    "phone": "07700 900123",
    "email": "",
    "contact_methods": ["phone"],
    "interpreter_needed": "no",
    "interpreter_language": "",
    "ethnicity": "Z",
    "continue": "1",
}


def step_url(referral, step):
    return reverse("referrals:step", args=[referral.reference, step])


def referral_pages(referral):
    ref = referral.reference
    pages = [reverse("referrals:detail", args=[ref]), reverse("referrals:cancel", args=[ref])]
    pages += [reverse("referrals:confirmation", args=[ref]), reverse("referrals:check", args=[ref])]
    pages += [
        step_url(referral, s) for s in ["patient", "details", "safety", "programme", "consent"]
    ]
    return pages


# --- Who may see what --------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["dashboard", "new"])
def test_anonymous_visitors_are_sent_to_sign_in(client, db, name):
    response = client.get(reverse(f"referrals:{name}"))
    assert response.status_code == 302
    assert response.url.startswith(reverse("account_login"))


def test_anonymous_visitor_to_a_referral_is_sent_to_sign_in(client, people):
    referral = new_draft(people)
    for url in [*referral_pages(referral), reverse("referrals:answer", args=[referral.reference])]:
        response = client.get(url)
        assert response.status_code == 302, url
        assert response.url.startswith(reverse("account_login"))


@pytest.mark.parametrize("state", [Status.DRAFT, Status.INFO_REQUESTED])
def test_a_referrer_of_another_practice_gets_404_on_every_page(client, people, state):
    referral = referral_in_state(people, state)
    client.force_login(people.referrer_b)
    for url in referral_pages(referral):
        assert client.get(url).status_code == 404, url
        assert client.post(url, {"reason": "duplicate", "answer": "x"}).status_code == 404, url
    answer = reverse("referrals:answer", args=[referral.reference])
    assert client.post(answer, {"answer": "x"}).status_code == 404
    assert Referral.objects.get(pk=referral.pk).status == state


@pytest.mark.parametrize("persona", ["coordinator_x", "instructor_x", "commissioner", "admin_a"])
def test_people_who_do_not_refer_cannot_use_the_referrer_pages(client, people, persona):
    client.force_login(getattr(people, persona))
    assert client.get(reverse("referrals:dashboard")).status_code == 403
    assert client.get(reverse("referrals:new")).status_code == 403
    assert client.post(reverse("referrals:new"), PATIENT_FORM).status_code == 403
    assert not Patient.objects.exists()


def test_a_coordinator_sees_the_referral_but_cannot_answer_for_the_referrer(client, people):
    referral = referral_in_state(people, Status.INFO_REQUESTED)
    client.force_login(people.coordinator_x)
    page = client.get(reverse("referrals:detail", args=[referral.reference]))
    assert page.status_code == 200
    assert b"Send answer" not in page.content
    answer = reverse("referrals:answer", args=[referral.reference])
    client.post(answer, {"answer": "I am not the GP", "version": referral.version})
    assert Referral.objects.get(pk=referral.pk).status == Status.INFO_REQUESTED


def test_a_coordinator_cannot_edit_a_draft_step(client, people):
    referral = referral_in_state(people, Status.SUBMITTED)
    client.force_login(people.coordinator_y)
    assert client.get(step_url(referral, "details")).status_code == 404


# --- The journey -------------------------------------------------------------------------------


def test_new_patient_to_submitted_referral(client, people):
    client.force_login(people.referrer_a)

    response = client.post(reverse("referrals:new"), PATIENT_FORM)
    referral = Referral.objects.get()
    assert response.url == step_url(referral, "details")
    assert referral.patient.postcode == "LS6 2AB"

    response = client.post(
        step_url(referral, "details"),
        {
            "reasons": ["38341003"],
            "bp_systolic": "138",
            "bp_diastolic": "86",
            "heart_rate_medication": "no",
            "risk_tier": "low",
            "priority": "routine",
            "version": referral.version + 0,
            "continue": "1",
        },
    )
    assert response.url == step_url(referral, "safety")
    referral.refresh_from_db()
    response = client.post(
        step_url(referral, "safety"),
        {"exclusions": ["none"], "version": referral.version, "continue": "1"},
    )
    assert response.url == step_url(referral, "programme")
    page = client.get(step_url(referral, "programme"))
    option = page.context["placements"].options[0]
    assert option.programme == people.programme_x
    referral.refresh_from_db()
    response = client.post(
        step_url(referral, "programme"),
        {"placement": option.key, "version": referral.version, "continue": "1"},
    )
    assert response.url == step_url(referral, "consent")
    referral.refresh_from_db()
    response = client.post(
        step_url(referral, "consent"),
        {"consent_referral": "on", "consent_share_outcomes": "on", "version": referral.version},
    )
    assert response.url == reverse("referrals:check", args=[referral.reference])

    check = client.get(response.url)
    assert b"Check your answers" in check.content
    assert b"Ada Lovelace" in check.content
    referral.refresh_from_db()
    response = client.post(response.url, {"version": referral.version})
    assert response.url == reverse("referrals:confirmation", args=[referral.reference])

    referral.refresh_from_db()
    assert referral.status == Status.SUBMITTED
    assert referral.operator == people.operator_x
    assert referral.preferred_facility == option.facility
    confirmation = client.get(response.url)
    assert referral.reference.encode() in confirmation.content
    dashboard = client.get(reverse("referrals:dashboard"))
    assert referral.reference.encode() in dashboard.content
    assert b"Submitted" in dashboard.content


def test_save_as_draft_keeps_partial_answers_and_resumes(client, people):
    client.force_login(people.referrer_a)
    referral = new_draft(people, reasons=[], exclusions_present=[])
    response = client.post(
        step_url(referral, "details"),
        {
            "bp_systolic": "150",
            "bp_diastolic": "90",
            "version": referral.version,
            "save_draft": "1",
        },
    )
    assert response.url == reverse("referrals:detail", args=[referral.reference])
    referral.refresh_from_db()
    assert (referral.status, referral.bp_systolic, referral.reasons) == (Status.DRAFT, 150, [])
    resumed = client.get(step_url(referral, "details"))
    assert resumed.context["form"].initial["bp_systolic"] == 150


def test_continue_asks_for_the_steps_required_answers(client, people):
    client.force_login(people.referrer_a)
    referral = new_draft(people, reasons=[])
    response = client.post(
        step_url(referral, "details"), {"version": referral.version, "continue": "1"}
    )
    assert response.status_code == 200
    assert "Select at least one reason for referral" in response.content.decode()
    assert 'href="#id_reasons_0"' in response.content.decode()


def test_a_sent_referral_can_no_longer_be_edited(client, people):
    referral = referral_in_state(people, Status.SUBMITTED)
    client.force_login(people.referrer_a)
    response = client.get(step_url(referral, "details"))
    assert response.url == reverse("referrals:detail", args=[referral.reference])


def test_a_stale_form_is_refused_with_a_reload_message(client, people):
    referral = new_draft(people, consent_research=False)
    stale_version = referral.version
    services.referral_update_draft(referral=referral, by=people.referrer_a, priority="urgent")
    client.force_login(people.referrer_a)
    response = client.post(
        step_url(referral, "consent"),
        {"consent_referral": "on", "consent_research": "on", "version": stale_version},
        follow=True,
    )
    assert "changed since you opened it" in response.content.decode()
    assert Referral.objects.get(pk=referral.pk).consent_research is False


# --- Validation that changes nothing -----------------------------------------------------------


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"nhs_number": "999 000 0019"}, "NHS number is not valid"),
        ({"nhs_number": "12345"}, "NHS number must be 10 digits"),
        (
            {"date_of_birth_2": str(timezone.localdate().year + 1)},
            "Date of birth must be in the past",
        ),
        ({"date_of_birth_0": "31", "date_of_birth_1": "2"}, "Date of birth must be a real date"),
        ({"postcode": "NOT A CODE"}, "Enter a real UK postcode"),
        ({"given_name": ""}, "Enter the patient's first name"),
    ],
)
def test_bad_patient_details_are_refused_and_nothing_is_created(client, people, changes, message):
    client.force_login(people.referrer_a)
    response = client.post(reverse("referrals:new"), {**PATIENT_FORM, **changes})
    assert response.status_code == 200
    html = unescape(response.content.decode())
    assert "There is a problem" in html
    assert message in html
    # What was typed is kept, whichever field was wrong.
    assert 'name="family_name" value="Lovelace"' in html
    assert 'name="phone" value="07700 900123"' in html
    assert not Patient.objects.exists()
    assert not Referral.objects.exists()


def test_missing_consent_stops_submission(client, people):
    referral = new_draft(people, consent_referral=False)
    client.force_login(people.referrer_a)
    response = client.post(
        reverse("referrals:check", args=[referral.reference]), {"version": referral.version}
    )
    html = response.content.decode()
    assert "There is a problem" in html
    assert "must consent to the referral" in html
    assert step_url(referral, "consent") in html
    assert Referral.objects.get(pk=referral.pk).status == Status.DRAFT


def test_an_excluded_patient_is_offered_no_programme_and_told_why(client, people):
    referral = new_draft(people, bp_systolic=186, bp_diastolic=104)
    client.force_login(people.referrer_a)
    page = client.get(step_url(referral, "programme")).content.decode()
    assert "This patient cannot be referred" in page
    assert "Resting blood pressure 180/100 mmHg or higher" in page
    assert 'name="continue"' not in page


def test_choosing_a_programme_the_patient_is_excluded_from_is_refused(client, people):
    referral = new_draft(
        people, programme=None, preferred_facility=None, bp_systolic=186, bp_diastolic=104
    )
    key = f"{people.programme_x.public_id}:{people.facility_x.public_id}"
    client.force_login(people.referrer_a)
    response = client.post(
        step_url(referral, "programme"),
        {"placement": key, "version": referral.version, "continue": "1"},
    )
    assert response.status_code == 200
    assert "Select a valid choice" in response.content.decode()
    assert Referral.objects.get(pk=referral.pk).programme is None


def test_submitting_after_the_patient_became_excluded_is_refused(client, people):
    referral = new_draft(people, exclusions_present=["unstable_angina"])
    client.force_login(people.referrer_a)
    response = client.post(
        reverse("referrals:check", args=[referral.reference]), {"version": referral.version}
    )
    assert "Unstable angina excludes the patient" in response.content.decode()
    assert Referral.objects.get(pk=referral.pk).status == Status.DRAFT


# --- Finding a patient -------------------------------------------------------------------------


def test_find_patient_fills_in_a_patient_the_practice_has_referred(client, people):
    patient = PatientFactory(
        organisation=people.practice_a, given_name="Grace", family_name="Hopper"
    )
    new_draft(people, patient=patient)
    client.force_login(people.referrer_a)
    response = client.post(
        reverse("referrals:new"), {"nhs_number": patient.nhs_number, "find": "1"}
    )
    assert response.context["found"] is True
    assert response.context["form"].initial["family_name"] == "Hopper"


def test_find_patient_does_not_reveal_another_practices_patient(client, people):
    patient = PatientFactory(
        organisation=people.practice_a, given_name="Grace", family_name="Hopper"
    )
    new_draft(people, patient=patient)
    client.force_login(people.referrer_b)
    response = client.post(
        reverse("referrals:new"), {"nhs_number": patient.nhs_number, "find": "1"}
    )
    assert response.context["found"] is False
    assert b"Hopper" not in response.content


def test_a_known_nhs_number_updates_the_practices_own_record_rather_than_duplicating(
    client, people
):
    patient = PatientFactory(organisation=people.practice_a, postcode="LS6 2AB")
    client.force_login(people.referrer_a)
    client.post(
        reverse("referrals:new"),
        {**PATIENT_FORM, "nhs_number": patient.nhs_number, "postcode": "LS7 3AA"},
    )
    assert Patient.objects.count() == 1
    patient.refresh_from_db()
    assert patient.postcode == "LS7 3AA"


def test_another_practices_nhs_number_makes_a_record_of_its_own(client, people):
    """Issue 9 item 1: practice B typing A's patient's NHS number changes nothing of A's."""
    theirs = PatientFactory(organisation=people.practice_a, postcode="LS6 2AB")
    client.force_login(people.referrer_b)
    client.post(
        reverse("referrals:new"),
        {**PATIENT_FORM, "nhs_number": theirs.nhs_number, "postcode": "LS7 3AA"},
    )
    theirs.refresh_from_db()
    assert theirs.postcode == "LS6 2AB"
    ours = Patient.objects.get(organisation=people.practice_b)
    assert (ours.nhs_number, ours.postcode) == (theirs.nhs_number, "LS7 3AA")


# --- Dashboard ---------------------------------------------------------------------------------


def _dashboard_queries(client, people, count):
    referrals = [referral_in_state(people, Status.SUBMITTED) for _ in range(count)]
    client.force_login(people.referrer_a)
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as captured:
        response = client.get(reverse("referrals:dashboard") + "?clinician=all")
    assert response.status_code == 200
    assert len(response.context["rows"]) == min(count, 25)
    html = response.content.decode()
    shown = [r.reference for r in referrals if f">{r.reference}</a>" in html]
    assert len(shown) == min(count, 25)  # a page of 25 at most
    return len(captured)


def test_dashboard_runs_the_same_queries_for_1_and_50_referrals(client, people):
    one = _dashboard_queries(client, people, 1)
    Referral.objects.all().delete()
    fifty = _dashboard_queries(client, people, 50)
    assert one == fifty


def test_dashboard_defaults_to_my_referrals_and_can_show_the_practice(client, people):
    mine = new_draft(people)
    colleague = people.referrer_a.__class__.objects.create_user("colleague@example.nhs.uk")
    people.practice_a.memberships.create(user=colleague, role="referrer")
    theirs = services.referral_create_draft(
        by=colleague,
        organisation=people.practice_a,
        patient=PatientFactory(organisation=people.practice_a),
    )
    client.force_login(people.referrer_a)
    default = client.get(reverse("referrals:dashboard")).content.decode()
    everyone = client.get(reverse("referrals:dashboard") + "?clinician=all").content.decode()
    assert mine.reference in default and theirs.reference not in default
    assert mine.reference in everyone and theirs.reference in everyone


def test_dashboard_filters_by_status_and_needs_action(client, people):
    draft = new_draft(people)
    asked = referral_in_state(people, Status.INFO_REQUESTED)
    accepted = referral_in_state(people, Status.ACCEPTED)
    client.force_login(people.referrer_a)
    html = client.get(reverse("referrals:dashboard") + "?status=accepted").content.decode()
    assert accepted.reference in html and draft.reference not in html
    html = client.get(reverse("referrals:dashboard") + "?status=needs_action").content.decode()
    assert draft.reference in html and asked.reference in html
    assert accepted.reference not in html


def test_dashboard_filters_by_referral_date_and_rejects_a_reversed_range(client, people):
    old = referral_in_state(people, Status.SUBMITTED)
    Referral.objects.filter(pk=old.pk).update(referred_on=datetime.date(2026, 1, 5))
    recent = referral_in_state(people, Status.SUBMITTED)
    client.force_login(people.referrer_a)
    url = reverse("referrals:dashboard")
    html = client.get(url + "?referred_from=2026-02-01").content.decode()
    assert recent.reference in html and old.reference not in html
    html = client.get(url + "?referred_from=2026-03-01&referred_to=2026-02-01").content.decode()
    assert "The end date must be the same as or after the start date" in html


@pytest.mark.parametrize("term", ["surname", "nhs", "reference"])
def test_search_is_posted_kept_in_the_session_and_never_in_the_url(client, people, term):
    wanted = new_draft(
        people, patient=PatientFactory(organisation=people.practice_a, family_name="Nightingale")
    )
    other = new_draft(
        people, patient=PatientFactory(organisation=people.practice_a, family_name="Seacole")
    )
    value = {
        "surname": "night",
        "nhs": wanted.patient.nhs_number_display,
        "reference": wanted.reference,
    }[term]
    client.force_login(people.referrer_a)
    response = client.post(reverse("referrals:dashboard"), {"q": value})
    assert response.status_code == 302
    assert value not in response.url and "night" not in response.url
    assert client.session[SEARCH_SESSION_KEY] == value
    html = client.get(response.url).content.decode()
    assert wanted.reference in html and other.reference not in html
    client.post(reverse("referrals:clear_search"))
    assert SEARCH_SESSION_KEY not in client.session


def test_dashboard_counts_unread_updates_and_opening_the_referral_reads_them(client, people):
    referral = referral_in_state(people, Status.ACCEPTED)
    client.force_login(people.referrer_a)
    unread = Notification.objects.filter(
        recipient_user=people.referrer_a, channel="in_app", read_at__isnull=True
    ).count()
    assert unread == 2
    assert client.get(reverse("referrals:dashboard")).context["unread_count"] == 2
    client.get(reverse("referrals:detail", args=[referral.reference]))
    assert client.get(reverse("referrals:dashboard")).context["unread_count"] == 0


def test_dashboard_flags_overdue_triage(client, people):
    referral = referral_in_state(people, Status.SUBMITTED)
    Referral.objects.filter(pk=referral.pk).update(
        submitted_at=timezone.now() - datetime.timedelta(days=30)
    )
    client.force_login(people.referrer_a)
    assert "Overdue triage" in client.get(reverse("referrals:dashboard")).content.decode()


def test_dashboard_filter_requests_from_htmx_get_only_the_results(client, people):
    new_draft(people)
    client.force_login(people.referrer_a)
    response = client.get(reverse("referrals:dashboard"), headers={"HX-Request": "true"})
    assert b"<html" not in response.content
    assert b"nhsuk-table" in response.content


def test_dashboard_pages_by_previous_and_next_keeping_the_filters(client, people, monkeypatch):
    monkeypatch.setattr(dashboard, "PAGE_SIZE", 2)
    oldest, middle, newest = (new_draft(people) for _ in range(3))
    referral_in_state(people, Status.SUBMITTED)  # filtered out
    client.force_login(people.referrer_a)
    url = reverse("referrals:dashboard") + "?status=draft&clinician=all"

    first = client.get(url)
    assert [row.referral for row in first.context["rows"]] == [newest, middle]
    html = first.content.decode()
    assert "Showing 1 to 2</span>" in html
    assert 'href="?status=draft&amp;clinician=all&amp;page=2" rel="next"' in html
    assert 'rel="prev"' not in html

    last = client.get(url + "&page=2")
    assert [row.referral for row in last.context["rows"]] == [oldest]
    html = last.content.decode()
    assert "Showing 3 to 3</span>" in html
    assert 'href="?status=draft&amp;clinician=all&amp;page=1" rel="prev"' in html
    assert 'rel="next"' not in html


def test_a_dashboard_page_past_the_end_says_so_and_leads_back_to_the_first(
    client, people, monkeypatch
):
    monkeypatch.setattr(dashboard, "PAGE_SIZE", 2)
    new_draft(people)
    client.force_login(people.referrer_a)
    response = client.get(reverse("referrals:dashboard") + "?clinician=all&page=3")
    assert response.status_code == 200
    html = response.content.decode()
    assert "There is nothing on page 3" in html
    assert 'href="?clinician=all&amp;page=1"' in html


@pytest.mark.parametrize("page", ["abc", "0", "-1", "2.5", "", "1" * 40])
def test_a_malformed_page_number_shows_a_page_never_an_error(client, people, page):
    draft = new_draft(people)
    client.force_login(people.referrer_a)
    response = client.get(reverse("referrals:dashboard"), {"page": page})
    assert response.status_code == 200
    rows = [row.referral for row in response.context["rows"]]
    # Not a whole number from 1, or too long to be a page, is the first page.
    assert rows == [draft]


# --- The referral page: answering and cancelling -----------------------------------------------


def test_referral_page_shows_timeline_attendance_and_the_question(client, people):
    referral = referral_in_state(people, Status.INFO_REQUESTED)
    client.force_login(people.referrer_a)
    html = client.get(reverse("referrals:detail", args=[referral.reference])).content.decode()
    assert "Is the knee pain recent?" in html
    assert "Send answer" in html
    assert "No sessions booked" in html
    assert "Information requested" in html


def attendance_panel(client, user, referral) -> str:
    client.force_login(user)
    html = client.get(reverse("referrals:detail", args=[referral.reference])).content.decode()
    card = html.split(">Attendance</h2>", 1)[1]
    return card.split("</div>", 1)[0]


def test_a_referral_cancelled_before_booking_says_no_sessions_booked_as_its_tally_does(
    client, people
):
    from referrals.discharge import attendance_for

    referral = referral_in_state(people, Status.CANCELLED)

    panel = attendance_panel(client, people.referrer_a, referral)

    assert "No sessions booked" in panel
    assert "sessions attended" not in panel
    assert attendance_for(referral).sentence == "No sessions were booked."


def test_the_attendance_panel_counts_the_sessions_booked_as_the_discharge_tally_does(
    client, people
):
    from referrals.discharge import attendance_for
    from referrals.models import Session

    referral = referral_in_state(people, Status.ACTIVE)  # the first session attended
    second, third = referral.sessions.order_by("scheduled_at")[1:3]
    services.session_record_attendance(
        session=session_due_now(second), status=Session.Attendance.DNA, by=people.instructor_x
    )
    services.session_record_attendance(
        session=third, status=Session.Attendance.CANCELLED_PATIENT, by=people.instructor_x
    )
    tally = attendance_for(referral)
    # Booking made the programme's weekly sessions; the programme's own plan is not the count.
    people.programme_x.planned_sessions = tally.planned + 3
    people.programme_x.save()

    panel = attendance_panel(client, people.coordinator_x, referral)

    assert f"1 of {tally.planned} sessions attended, 1 missed, 1 cancelled" in " ".join(
        panel.split()
    )


def test_answering_an_information_request_returns_it_to_triage(client, people):
    referral = referral_in_state(people, Status.INFO_REQUESTED)
    client.force_login(people.referrer_a)
    url = reverse("referrals:answer", args=[referral.reference])
    blank = client.post(url, {"answer": "", "version": referral.version})
    assert "Enter your answer" in blank.content.decode()
    assert Referral.objects.get(pk=referral.pk).status == Status.INFO_REQUESTED
    response = client.post(url, {"answer": "Pain is stable", "version": referral.version})
    assert response.status_code == 302
    assert Referral.objects.get(pk=referral.pk).status == Status.SUBMITTED


def test_cancelling_needs_a_reason_and_then_cancels(client, people):
    referral = referral_in_state(people, Status.ACCEPTED)
    client.force_login(people.referrer_a)
    url = reverse("referrals:cancel", args=[referral.reference])
    refused = client.post(url, {"reason": "", "version": referral.version})
    assert "Select why you are cancelling the referral" in refused.content.decode()
    other = client.post(url, {"reason": "other", "note": "", "version": referral.version})
    assert "Say why" in other.content.decode()
    assert Referral.objects.get(pk=referral.pk).status == Status.ACCEPTED
    client.post(url, {"reason": "patient_withdrew", "version": referral.version})
    assert Referral.objects.get(pk=referral.pk).status == Status.CANCELLED


def test_a_finished_referral_offers_no_cancel(client, people):
    referral = referral_in_state(people, Status.COMPLETED)
    client.force_login(people.referrer_a)
    assert (
        b"Cancel this referral"
        not in client.get(reverse("referrals:detail", args=[referral.reference])).content
    )
    response = client.get(reverse("referrals:cancel", args=[referral.reference]))
    assert response.url == reverse("referrals:detail", args=[referral.reference])


def test_progress_is_hidden_from_the_referrer_without_consent(client, people):
    referral = referral_in_state(people, Status.ACTIVE, consent_share_outcomes=False)
    client.force_login(people.referrer_a)
    html = client.get(reverse("referrals:detail", args=[referral.reference])).content.decode()
    assert "sessions attended" not in html
    assert "did not consent to sharing progress" in html


def test_cancelling_a_referral_that_changed_meanwhile_is_refused_with_a_message(client, people):
    referral = referral_in_state(people, Status.SUBMITTED)
    seen_version = referral.version
    services.referral_accept(referral=referral, by=people.coordinator_x, facility=people.facility_x)
    client.force_login(people.referrer_a)
    response = client.post(
        reverse("referrals:cancel", args=[referral.reference]),
        {"reason": "patient_withdrew", "version": seen_version},
        follow=True,
    )
    assert "changed since you opened it" in response.content.decode()
    assert Referral.objects.get(pk=referral.pk).status == Status.ACCEPTED


def test_without_consent_the_referrer_timeline_leaves_out_sessions_and_notes(client, people):
    referral = referral_in_state(people, Status.BOOKED, consent_share_outcomes=False)
    session = session_due_now(referral.sessions.earliest("scheduled_at"))
    services.session_record_attendance(session=session, status="dna", by=people.instructor_x)
    client.force_login(people.referrer_a)
    page = client.get(reverse("referrals:detail", args=[referral.reference]))
    actions = [event.action for event in page.context["timeline"]]
    assert "dna" not in actions and "create" not in actions
    assert "book" in actions
    client.force_login(people.coordinator_x)
    page = client.get(reverse("referrals:detail", args=[referral.reference]))
    assert "dna" in [event.action for event in page.context["timeline"]]
