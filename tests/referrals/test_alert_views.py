"""Safety alerts on the pages (issue 11, finding 2): the banner and its Acknowledge form on the
referral page, the count and list at the top of the coordinator's and instructor's home,
worklist and today pages, in a constant number of queries, and for nobody else."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from outcomes.services import assessment_record
from referrals.alerts import alert_acknowledge
from referrals.models import Alert, Status
from tests.builders import referral_in_state
from tests.outcomes.helpers import PHQ9_ITEM9

OPEN_ALERTS = 'id="open-alerts"'
BANNER = 'id="alerts"'


def raise_phq9_alert(people, referral) -> Alert:
    assessment_record(
        referral=referral,
        instrument="phq9",
        timepoint="baseline",
        answers=PHQ9_ITEM9,
        by=people.instructor_x,
    )
    return Alert.objects.filter(referral=referral).latest("raised_at")


@pytest.fixture
def active(people):
    return referral_in_state(people, Status.ACTIVE)


@pytest.fixture
def alert(people, active):
    return raise_phq9_alert(people, active)


def detail_url(referral) -> str:
    return reverse("referrals:detail", args=[referral.reference])


def ack_url(alert) -> str:
    return reverse("referrals:alert_acknowledge", args=[alert.referral.reference, alert.public_id])


def html(response) -> str:
    return response.content.decode()


# --- The banner on the referral page -----------------------------------------------------------


@pytest.mark.parametrize("persona", ["coordinator_x", "instructor_x"])
def test_finding_2_the_referral_page_shows_the_alert_with_an_acknowledge_form(
    client, people, alert, persona
):
    client.force_login(getattr(people, persona))
    page = html(client.get(detail_url(alert.referral)))

    assert BANNER in page
    assert "1 open safety alert" in page
    assert "PHQ-9 at baseline: question 9 answered above &#x27;Not at all&#x27;" in page
    assert f'action="{ack_url(alert)}"' in page


def test_the_referrer_sees_the_alert_but_cannot_acknowledge_it(client, people, alert):
    client.force_login(people.referrer_a)
    page = html(client.get(detail_url(alert.referral)))

    assert BANNER in page
    assert ack_url(alert) not in page


def test_without_consent_to_share_progress_the_referrer_sees_no_alert(client, people):
    active = referral_in_state(people, Status.ACTIVE, consent_share_outcomes=False)
    raise_phq9_alert(people, active)
    client.force_login(people.referrer_a)
    page = html(client.get(detail_url(active)))

    assert BANNER not in page
    assert "Safety alerts and incidents" not in page


def test_after_acknowledgement_both_sides_see_who_did_what(client, people, alert):
    alert_acknowledge(alert=alert, by=people.coordinator_x, action_taken="Rang the patient.")
    for persona in ("coordinator_x", "referrer_a"):
        client.force_login(getattr(people, persona))
        page = html(client.get(detail_url(alert.referral)))
        assert BANNER not in page, persona
        assert "Safety alerts and incidents (1)" in page, persona
        assert "Rang the patient." in page, persona


# --- Acknowledging from the page ---------------------------------------------------------------


def test_the_coordinator_acknowledges_from_the_banner(client, people, alert):
    client.force_login(people.coordinator_x)
    response = client.post(ack_url(alert), {"action_taken": "Called her; GP informed."})

    assert response.status_code == 302
    assert response.url == detail_url(alert.referral)
    alert.refresh_from_db()
    assert alert.acknowledged_by == people.coordinator_x
    assert alert.action_taken == "Called her; GP informed."


def test_acknowledging_without_the_action_taken_is_a_form_error(client, people, alert):
    client.force_login(people.instructor_x)
    response = client.post(ack_url(alert), {"action_taken": ""})

    assert response.status_code == 400
    assert "Enter the action you took" in html(response)
    alert.refresh_from_db()
    assert alert.is_open


def test_a_second_acknowledgement_from_the_page_changes_nothing(client, people, alert):
    alert_acknowledge(alert=alert, by=people.instructor_x, action_taken="First.")
    client.force_login(people.coordinator_x)
    response = client.post(ack_url(alert), {"action_taken": "Second."}, follow=True)

    assert "already been acknowledged" in html(response)
    alert.refresh_from_db()
    assert (alert.acknowledged_by, alert.action_taken) == (people.instructor_x, "First.")


@pytest.mark.parametrize(
    ("persona", "status"),
    [
        ("referrer_a", 403),
        ("coordinator_y", 404),
        ("instructor_y", 404),
        ("commissioner", 404),
        ("admin_x", 404),
        ("referrer_b", 404),
    ],
)
def test_the_wrong_role_or_organisation_cannot_acknowledge(client, people, alert, persona, status):
    client.force_login(getattr(people, persona))
    assert client.get(ack_url(alert)).status_code == status
    assert client.post(ack_url(alert), {"action_taken": "x"}).status_code == status
    alert.refresh_from_db()
    assert alert.is_open


def test_anonymous_visitors_are_sent_to_sign_in(client, alert):
    response = client.post(ack_url(alert), {"action_taken": "x"})
    assert response.status_code == 302
    assert response.url.startswith(reverse("account_login"))


def test_an_alert_of_another_referral_is_a_404(client, people, alert):
    other = referral_in_state(people, Status.ACTIVE)
    client.force_login(people.coordinator_x)
    url = reverse("referrals:alert_acknowledge", args=[other.reference, alert.public_id])
    assert client.get(url).status_code == 404


# --- The count and list on the staff pages -----------------------------------------------------

STAFF_PAGES = [
    ("coordinator_x", "/"),
    ("coordinator_x", "/triage/"),
    ("instructor_x", "/"),
    ("instructor_x", "/today/"),
]


@pytest.mark.parametrize(("persona", "url"), STAFF_PAGES)
def test_finding_2_the_alert_is_counted_and_listed_until_acknowledged(
    client, people, alert, persona, url
):
    client.force_login(getattr(people, persona))
    page = html(client.get(url))

    assert OPEN_ALERTS in page
    assert "1 open safety alert" in page
    assert f'href="{detail_url(alert.referral)}#alerts">{alert.referral.reference}</a>' in page
    # Reference and kind only, as in the email: the patient is on the (audited) referral page.
    assert alert.referral.patient.family_name not in page.split(OPEN_ALERTS)[1].split("</ul>")[0]

    alert_acknowledge(alert=alert, by=people.coordinator_x, action_taken="Done.")
    assert OPEN_ALERTS not in html(client.get(url))


@pytest.mark.parametrize(
    ("persona", "url"),
    [
        ("coordinator_y", "/"),
        ("coordinator_y", "/triage/"),
        ("instructor_y", "/today/"),
        ("commissioner", "/"),
        ("admin_x", "/"),
        ("referrer_a", "/"),
    ],
)
def test_nobody_else_sees_the_alert_on_their_pages(client, people, alert, persona, url):
    client.force_login(getattr(people, persona))
    response = client.get(url)
    assert response.status_code == 200
    assert OPEN_ALERTS not in html(response)


def page_queries(client, url) -> int:
    client.get(url)  # warm the session and content types before counting
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    assert response.status_code == 200
    return len(captured)


@pytest.mark.parametrize(("persona", "url"), STAFF_PAGES)
def test_the_alert_list_runs_the_same_queries_for_1_and_12_alerts(client, people, persona, url):
    referrals = [referral_in_state(people, Status.ACTIVE) for _ in range(3)]
    raise_phq9_alert(people, referrals[0])
    client.force_login(getattr(people, persona))
    one = page_queries(client, url)
    assert "1 open safety alert" in html(client.get(url))

    for referral in referrals:
        for timepoint in ("mid", "exit"):
            assessment_record(
                referral=referral,
                instrument="physical_measures",
                timepoint=timepoint,
                answers={
                    "weight_kg": 80,
                    "height_cm": 170,
                    "bp_systolic": 200,
                    "bp_diastolic": 115,
                    "resting_hr": 130,
                },
                by=people.instructor_x,
            )
    raise_phq9_alert(people, referrals[1])
    assert Alert.objects.filter(acknowledged_at__isnull=True).count() == 14
    many = page_queries(client, url)

    assert "14 open safety alerts" in html(client.get(url))
    assert many == one
