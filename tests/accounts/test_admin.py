"""Platform staff's Django admin: every registered model's pages render, and only staff get in."""

import pytest
from django.contrib import admin
from django.test import RequestFactory
from django.urls import reverse

from referrals.models import ReferralEvent, Session, Status
from tests.builders import referral_in_state
from tests.factories import UserFactory

REGISTERED = sorted(admin.site._registry.items(), key=lambda item: item[0]._meta.label)
IDS = [model._meta.label for model, _ in REGISTERED]


def url(model, page, *args):
    return reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_{page}", args=args)


@pytest.fixture
def superuser(db):
    return UserFactory(is_staff=True, is_superuser=True)


@pytest.fixture
def staff_client(client, superuser):
    client.force_login(superuser)
    return client


@pytest.fixture
def booked(people):
    """Data in every referral table: a referral with events, notifications and a session."""
    return referral_in_state(people, Status.BOOKED)


@pytest.mark.parametrize(("model", "model_admin"), REGISTERED, ids=IDS)
def test_superuser_gets_every_changelist(staff_client, booked, model, model_admin):
    response = staff_client.get(url(model, "changelist"))

    assert response.status_code == 200


@pytest.mark.parametrize(("model", "model_admin"), REGISTERED, ids=IDS)
def test_superuser_gets_every_add_page_the_admin_allows(
    staff_client, superuser, booked, model, model_admin
):
    # Known answer, not the admin's own has_add_permission(): the audit trail, the timeline,
    # the deliveries, safety alerts, contact attempts and self-directed visits are written only
    # by the services,
    # django-axes's sign-in records only by axes; every other model can be added.
    read_only = {
        "audit.AccessRecord",
        "referrals.ReferralEvent",
        "referrals.Notification",
        "referrals.Alert",
        "referrals.Visit",
        "leisure.ContactAttempt",
        "axes.AccessAttempt",
        "axes.AccessFailureLog",
        "axes.AccessLog",
    }
    addable = model._meta.label not in read_only
    request = RequestFactory().get("/")
    request.user = superuser

    response = staff_client.get(url(model, "add"))

    assert response.status_code == (200 if addable else 403)
    assert model_admin.has_add_permission(request) is addable


def test_referral_events_cannot_be_added_or_changed_in_admin(staff_client, booked):
    event = ReferralEvent.objects.filter(referral=booked).first()

    assert staff_client.get(url(ReferralEvent, "add")).status_code == 403
    response = staff_client.post(url(ReferralEvent, "change", event.pk), {"note": "rewritten"})
    assert response.status_code == 403
    event.refresh_from_db()
    assert event.note != "rewritten"


@pytest.mark.parametrize("model", ["referral", "patient", "event", "session", "facility"])
def test_superuser_gets_change_pages_of_referral_data(staff_client, people, booked, model):
    obj = {
        "referral": booked,
        "patient": booked.patient,
        "event": booked.events.first(),
        "session": Session.objects.filter(referral=booked).earliest("scheduled_at"),
        "facility": people.facility_x,
    }[model]

    response = staff_client.get(url(type(obj), "change", obj.pk))

    assert response.status_code == 200


def test_referral_change_page_shows_the_timeline_and_keeps_status_read_only(staff_client, booked):
    import re

    response = staff_client.get(url(type(booked), "change", booked.pk))

    html = response.content.decode()
    assert booked.reference in html
    assert 'name="status"' not in html
    # The timeline rows themselves (action, from, to), not the column's help text, which names
    # 'accept' as an example.
    cell = r'<td class="field-{}">\s*<p>(.*?)</p>'
    rows = re.findall(
        cell.format("action")
        + r".*?"
        + cell.format("from_status")
        + r".*?"
        + cell.format("to_status"),
        html,
        re.S,
    )
    assert rows == [
        ("create", "-", "Draft"),
        ("submit", "Draft", "Submitted"),
        ("accept", "Submitted", "Accepted"),
        ("book", "Accepted", "Booked"),
    ]


@pytest.mark.parametrize("persona", ["referrer_a", "coordinator_x", "commissioner", "admin_x"])
def test_non_staff_persona_is_sent_to_the_admin_login(client, people, persona):
    client.force_login(getattr(people, persona))

    index = client.get("/admin/")
    changelist = client.get(reverse("admin:referrals_referral_changelist"))

    assert index.status_code == 302
    assert index.url.startswith(reverse("admin:login"))
    assert changelist.status_code == 302
    assert changelist.url.startswith(reverse("admin:login"))


def test_anonymous_visitor_is_sent_to_the_admin_login(client, db):
    response = client.get("/admin/")

    assert response.status_code == 302
    assert response.url.startswith(reverse("admin:login"))
