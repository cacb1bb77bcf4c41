"""Contact attempts (issue 11): coordinators log each attempt to reach the patient; the log shows
on the referral page and the triage pages; "unable to contact" is offered as a reason to decline
only after the programme's limit of unsuccessful attempts. Coordinators of the operator only."""

import datetime
from html import unescape

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from audit.models import AccessKind, AccessRecord
from facilities.models import Programme
from governance import retention
from leisure.contact import contact_attempt_record, unable_to_contact_allowed
from leisure.models import ContactAttempt
from referrals import services
from referrals.models import Referral, Status
from tests.builders import referral_in_state

NOW = timezone.make_aware(datetime.datetime(2026, 11, 4, 10, 30))  # a Wednesday


@pytest.fixture
def submitted(people, frozen_now):
    frozen_now(NOW)
    return referral_in_state(people, Status.SUBMITTED)


def contact_url(referral) -> str:
    return reverse("triage:contact_attempts", args=[referral.reference])


def decline_url(referral) -> str:
    return reverse("triage:action", args=[referral.reference, "decline"])


def html_of(response) -> str:
    return unescape(response.content.decode())


def attempt(people, referral, outcome="no_answer", method="phone", **fields):
    return contact_attempt_record(
        referral=referral, by=people.coordinator_x, method=method, outcome=outcome, **fields
    )


def test_a_coordinator_logs_an_attempt_and_sees_it_on_the_referral_page(client, people, submitted):
    client.force_login(people.coordinator_x)

    response = client.post(
        contact_url(submitted),
        {
            "method": "phone",
            "outcome": "left_message",
            "attempted_on_0": "4",
            "attempted_on_1": "11",
            "attempted_on_2": "2026",
            "attempted_time": "09:15",
            "note": "Asked them to ring the centre after 2pm.",
        },
    )

    assert response.status_code == 302
    logged = ContactAttempt.objects.get(referral=submitted)
    assert (logged.method, logged.outcome) == ("phone", "left_message")
    assert logged.attempted_at == timezone.make_aware(datetime.datetime(2026, 11, 4, 9, 15))
    assert (logged.recorded_by, logged.organisation) == (people.coordinator_x, people.operator_x)
    page = html_of(client.get(reverse("referrals:detail", args=[submitted.reference])))
    assert "Contact attempts" in page
    assert "Phone call: Left a message" in page
    assert "Asked them to ring the centre after 2pm." in page
    assert "1 of 3 attempts without reaching the patient" in page
    assert contact_url(submitted) in page


def test_a_blank_date_and_time_mean_now(client, people, submitted):
    client.force_login(people.coordinator_x)

    client.post(contact_url(submitted), {"method": "sms", "outcome": "sent"})

    assert ContactAttempt.objects.get(referral=submitted).attempted_at == NOW


def test_the_log_shows_on_the_decline_page(client, people, submitted):
    attempt(people, submitted, note="Voicemail full")
    client.force_login(people.coordinator_x)

    page = html_of(client.get(decline_url(submitted)))

    assert "Phone call: No answer" in page
    assert "Voicemail full" in page


def test_unable_to_contact_is_offered_only_after_the_programmes_limit(client, people, submitted):
    client.force_login(people.coordinator_x)
    attempt(people, submitted)
    attempt(people, submitted, method="sms", outcome="sent")
    attempt(people, submitted, outcome="spoke")  # they were reached: this one does not count

    page = html_of(client.get(decline_url(submitted)))
    assert 'value="unable_to_contact"' not in page
    assert "offered once 3 attempts to reach the patient are logged" in page
    refused = client.post(
        decline_url(submitted), {"reason": "unable_to_contact", "version": submitted.version}
    )
    assert refused.status_code == 200
    assert "Select a valid choice" in html_of(refused)
    assert Referral.objects.get(pk=submitted.pk).status == Status.SUBMITTED

    attempt(people, submitted, method="letter", outcome="returned")

    assert 'value="unable_to_contact"' in html_of(client.get(decline_url(submitted)))
    declined = client.post(
        decline_url(submitted), {"reason": "unable_to_contact", "version": submitted.version}
    )
    assert declined.status_code == 302
    declined_referral = Referral.objects.get(pk=submitted.pk)
    assert declined_referral.status == Status.DECLINED
    assert declined_referral.events.latest("created_at").reason_code == "unable_to_contact"


def test_the_decline_service_holds_every_caller_to_the_limit(people, submitted):
    """Not only the form: the service refuses "unable to contact" before the attempts, so an
    interface to another system cannot skip them."""
    attempt(people, submitted)
    attempt(people, submitted, outcome="spoke")

    with pytest.raises(ValidationError, match="once 3 attempts to reach them are logged"):
        services.referral_decline(
            referral=submitted, by=people.coordinator_x, reason="unable_to_contact"
        )
    assert Referral.objects.get(pk=submitted.pk).status == Status.SUBMITTED
    assert not submitted.events.filter(action="decline").exists()

    attempt(people, submitted, outcome="left_message")
    attempt(people, submitted, method="letter", outcome="sent")
    services.referral_decline(
        referral=submitted, by=people.coordinator_x, reason="unable_to_contact"
    )
    assert Referral.objects.get(pk=submitted.pk).status == Status.DECLINED


def test_the_admin_sets_the_programmes_limit(client, people, submitted):
    client.force_login(people.admin_x)
    page = reverse(
        "manage:programme_edit", args=[people.operator_x.public_id, people.programme_x.public_id]
    )
    programme = people.programme_x
    form = {
        "name": programme.name,
        "description": programme.description,
        "conditions": programme.conditions or ["38341003"],
        "min_age": programme.min_age,
        "max_age": programme.max_age or "",
        "exclusions": programme.exclusions,
        "duration_weeks": programme.duration_weeks,
        "planned_sessions": programme.planned_sessions,
        "dna_limit": programme.dna_limit,
        "triage_sla_days": programme.triage_sla_days,
        "contact_attempt_limit": "1",
        "is_active": "on",
    }

    assert client.post(page, form).status_code == 302
    assert Programme.objects.get(pk=programme.pk).contact_attempt_limit == 1
    submitted.refresh_from_db()
    assert not unable_to_contact_allowed(submitted)
    attempt(people, submitted)
    assert unable_to_contact_allowed(submitted)


@pytest.mark.parametrize("value", ["0", "21", "three", "1" * 30])
def test_a_limit_out_of_range_is_a_message(client, people, value):
    client.force_login(people.admin_x)
    programme = people.programme_x
    page = reverse("manage:programme_edit", args=[people.operator_x.public_id, programme.public_id])

    response = client.post(page, {"name": programme.name, "contact_attempt_limit": value})

    assert response.status_code == 200
    assert "contact_attempt_limit" in response.context["form"].errors
    assert Programme.objects.get(pk=programme.pk).contact_attempt_limit == 3


@pytest.mark.parametrize(
    ("persona", "expected"),
    [
        ("coordinator_x", 200),
        ("instructor_x", 403),  # sees the referral once assigned, but does not triage
        ("referrer_a", 403),
        ("coordinator_y", 404),
        ("instructor_y", 404),
        ("referrer_b", 404),
        ("commissioner", 404),
        ("admin_x", 404),
    ],
)
def test_the_contact_log_is_for_the_operators_coordinators_only(
    client, people, frozen_now, persona, expected
):
    frozen_now(NOW)
    # Accepted into facility X, so its instructor can see the referral (but not its log).
    accepted = referral_in_state(people, Status.ACCEPTED)
    client.force_login(getattr(people, persona))

    assert client.get(contact_url(accepted)).status_code == expected
    posted = client.post(contact_url(accepted), {"method": "phone", "outcome": "no_answer"})
    assert posted.status_code == (302 if expected == 200 else expected)
    if expected != 200:
        assert not ContactAttempt.objects.exists()
        detail = client.get(reverse("referrals:detail", args=[accepted.reference]))
        assert "Contact attempts" not in html_of(detail)


def test_anonymous_visitors_are_sent_to_sign_in(client, submitted):
    response = client.get(contact_url(submitted))

    assert response.status_code == 302
    assert "/accounts/login/" in response.url


def test_the_contact_log_page_is_audited(client, people, submitted):
    client.force_login(people.coordinator_x)

    client.get(contact_url(submitted))

    record = AccessRecord.objects.get(url_name="triage:contact_attempts")
    assert record.kind == AccessKind.REFERRAL_PAGE
    assert record.referral_ids == [submitted.pk]
    assert record.patient_ids == [submitted.patient_id]


@pytest.mark.parametrize(
    ("fields", "field", "message"),
    [
        ({}, "method", "Select how you tried to contact the patient"),
        ({"method": "pigeon", "outcome": "sent"}, "method", "Select a valid choice"),
        (
            {"method": "phone", "outcome": "sent", "attempted_time": "25:99"},
            "attempted_time",
            "Enter the time as hours and minutes",
        ),
        (
            {
                "method": "phone",
                "outcome": "sent",
                "attempted_on_0": "5",
                "attempted_on_1": "11",
                "attempted_on_2": "2026",
            },
            "attempted_on",
            "The attempt cannot be in the future",
        ),
        (
            {
                "method": "phone",
                "outcome": "sent",
                "attempted_on_0": "1",
                "attempted_on_1": "1",
                "attempted_on_2": "2020",
            },
            "attempted_on",
            "The attempt must be within the last year",
        ),
        ({"method": "phone", "outcome": "sent", "note": "x" * 10_000}, "note", "2000 characters"),
        ({"method": "phone", "outcome": "sent", "note": "a\u202eb"}, "note", "hidden"),
    ],
)
def test_bad_input_is_a_message_and_logs_nothing(client, people, submitted, fields, field, message):
    client.force_login(people.coordinator_x)

    response = client.post(contact_url(submitted), fields)

    assert response.status_code == 400
    assert message in " ".join(response.context["form"].errors[field])
    assert not ContactAttempt.objects.exists()


def test_attempts_are_logged_until_the_patient_is_booked(client, people, frozen_now):
    frozen_now(NOW)
    booked = referral_in_state(people, Status.BOOKED)
    client.force_login(people.coordinator_x)

    response = client.post(contact_url(booked), {"method": "phone", "outcome": "no_answer"})

    assert response.status_code == 400
    assert "contact attempts are logged until the patient is booked" in html_of(response)
    assert not ContactAttempt.objects.exists()
    with pytest.raises(ValidationError):
        attempt(people, booked)


def test_the_service_refuses_anyone_but_the_operators_coordinators(people, submitted):
    for persona in ["instructor_x", "coordinator_y", "referrer_a", "admin_x"]:
        with pytest.raises(PermissionDenied):
            contact_attempt_record(
                referral=submitted,
                by=getattr(people, persona),
                method="phone",
                outcome="no_answer",
            )
    assert not ContactAttempt.objects.exists()


def test_a_logged_attempt_cannot_be_changed(people, submitted):
    logged = attempt(people, submitted)
    logged.outcome = "spoke"

    with pytest.raises(ValueError, match="a log"):
        logged.save()


def _queries(client, url: str) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert client.get(url).status_code == 200
    return len(queries)


@pytest.mark.parametrize("page", ["contact", "detail", "decline"])
def test_the_contact_log_runs_the_same_queries_for_1_and_20_attempts(
    client, people, frozen_now, page
):
    frozen_now(NOW)
    one, many = (referral_in_state(people, Status.SUBMITTED) for _ in range(2))
    attempt(people, one)
    for _ in range(20):
        attempt(people, many)
    client.force_login(people.coordinator_x)
    url = {
        "contact": contact_url,
        "detail": lambda r: reverse("referrals:detail", args=[r.reference]),
        "decline": decline_url,
    }[page]
    _queries(client, url(one))  # once first, so that session and caches are warm

    assert _queries(client, url(one)) == _queries(client, url(many))


def test_retention_clears_the_notes_of_a_referral_past_retention_and_keeps_the_facts(
    people, submitted
):
    attempt(people, submitted, note="Ring after 2pm, ask for her daughter")
    other = referral_in_state(people, Status.SUBMITTED)
    attempt(people, other, note="Within retention: kept")
    services.referral_decline(referral=submitted, by=people.coordinator_x, reason="outside_area")
    Referral.objects.filter(pk=submitted.pk).update(
        status_changed_at=NOW - datetime.timedelta(days=9 * 366)
    )

    retention.retention_apply(retention.retention_plan(timezone.now()))

    cleared = ContactAttempt.objects.get(referral=submitted)
    assert (cleared.method, cleared.outcome, cleared.note) == ("phone", "no_answer", "")
    assert ContactAttempt.objects.get(referral=other).note == "Within retention: kept"
