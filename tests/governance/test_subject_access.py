"""Subject access: an organisation's data protection lead downloads everything that organisation
holds about one patient (JSON and a readable document), and nothing of anyone else's."""

import io
import json

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from accounts.models import Role
from governance.subject_access import subject_access_export
from outcomes.instruments import score
from outcomes.models import Assessment, Timepoint
from referrals.consent import consent_record_decision
from referrals.models import ConsentMethod, ConsentPurpose, ReferralEvent, Session, Status
from tests.builders import referral_in_state
from tests.factories import MembershipFactory, PatientFactory, UserFactory

GPPAQ = {
    "occupation": "sitting",
    "exercise": "lt1",
    "cycling": "none",
    "walking": "none",
    "housework": "none",
    "gardening": "none",
    "walking_pace": "steady",
}


def _url(organisation):
    return reverse("manage:subject_access", args=[organisation.public_id])


@pytest.fixture
def record(people):
    """A completed referral from practice A to operator X, with notes, sessions, an assessment."""
    patient = PatientFactory(
        organisation=people.practice_a, given_name="Olwen", family_name="Featherstone"
    )
    referral = referral_in_state(people, Status.COMPLETED, patient=patient)
    ReferralEvent.objects.create(
        referral=referral, kind="note", action="note", note="Prefers mornings"
    )
    Session.objects.filter(referral=referral).update(notes="Brought her own mat")
    consent_record_decision(
        referral=referral,
        by=people.coordinator_x,
        purpose=ConsentPurpose.EVALUATION,
        method=ConsentMethod.WRITTEN,
        note="Letter dated 3 May",
    )
    Assessment.objects.create(
        referral=referral,
        instrument="gppaq",
        timepoint=Timepoint.BASELINE,
        answers=GPPAQ,
        scores=score("gppaq", GPPAQ),
    )
    other_patient = PatientFactory(
        organisation=people.practice_a, given_name="Bartholomew", family_name="Quist"
    )
    other = referral_in_state(people, Status.SUBMITTED, patient=other_patient)
    return referral, other


def _post(client, user, organisation, nhs_number, fmt="json"):
    client.force_login(user)
    return client.post(_url(organisation), {"nhs_number": nhs_number, "format": fmt})


def test_anonymous_is_sent_to_sign_in(client, people):
    response = client.get(_url(people.practice_a))
    assert response.status_code == 302
    assert "/accounts/login/" in response["Location"]


@pytest.mark.parametrize("persona", ["referrer_a", "coordinator_x", "instructor_x", "commissioner"])
def test_other_roles_are_refused(client, people, record, persona):
    referral, _ = record
    response = _post(
        client, getattr(people, persona), people.practice_a, referral.patient.nhs_number
    )
    assert response.status_code == 403


def test_another_organisations_admin_gets_not_found_for_the_page(client, people):
    client.force_login(people.admin_x)
    assert client.get(_url(people.practice_a)).status_code == 404


def test_the_form_page_is_not_stored(client, people):
    client.force_login(people.admin_a)
    response = client.get(_url(people.practice_a))
    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]


def test_referrer_admin_downloads_json_of_everything_held(client, people, record):
    referral, other = record

    response = _post(client, people.admin_a, people.practice_a, referral.patient.nhs_number)

    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
    assert response["Content-Disposition"].startswith("attachment;")
    data = json.loads(response.content)
    assert data["patients"][0]["family_name"] == "Featherstone"
    assert [r["reference"] for r in data["referrals"]] == [referral.reference]
    exported = data["referrals"][0]
    assert exported["consent"]["consent_referral"] is True
    assert exported["consent"]["consent_research"] is False
    withdrawal = exported["consent_history"][-1]
    assert (withdrawal["decision"], withdrawal["purpose"]) == (
        "Withdrawn",
        "Anonymised evaluation use",
    )
    assert (withdrawal["method"], withdrawal["note"]) == (
        "In writing (letter or email)",
        "Letter dated 3 May",
    )
    assert withdrawal["organisation"] == str(people.operator_x)
    assert "Prefers mornings" in [e["note"] for e in exported["timeline"]]
    assert {e["action"] for e in exported["timeline"]} >= {"create", "submit", "complete"}
    assert exported["sessions"][0]["notes"] == "Brought her own mat"
    assert exported["assessments"][0]["answers"] == GPPAQ
    # A sitting job and under an hour of exercise a week: "moderately inactive", index 1.
    assert exported["assessments"][0]["scores"]["pai"] == 1
    assert exported["notifications"], "updates sent to the practice are included"
    text = response.content.decode()
    assert other.reference not in text
    assert "Quist" not in text
    assert other.patient.nhs_number not in text


def test_provider_admin_gets_the_referrals_it_received(client, people, record):
    referral, _ = record

    response = _post(client, people.admin_x, people.operator_x, referral.patient.nhs_number)

    data = json.loads(response.content)
    assert [r["reference"] for r in data["referrals"]] == [referral.reference]
    recipients = {n["recipient"] for r in data["referrals"] for n in r["notifications"]}
    assert people.referrer_a.email not in recipients


def test_a_patient_of_another_organisation_is_not_found(client, people, record):
    referral, _ = record
    unreferred = PatientFactory.build()  # a valid NHS number no organisation has referred
    admin_b = UserFactory()
    MembershipFactory(user=admin_b, organisation=people.practice_b, role=Role.ORG_ADMIN)

    theirs = _post(client, admin_b, people.practice_b, referral.patient.nhs_number, "html")
    nobody = _post(client, admin_b, people.practice_b, unreferred.nhs_number, "html")

    assert theirs.status_code == nobody.status_code == 200
    for response in (theirs, nobody):
        html = response.content.decode()
        assert "holds no record of a patient with this NHS number" in html
        assert "Featherstone" not in html
        assert referral.reference not in html
    # The operator that never received it does not hold it either.
    assert subject_access_export(people.operator_y, referral.patient.nhs_number) is None
    assert subject_access_export(people.commissioner_org, referral.patient.nhs_number) is None


@pytest.mark.parametrize(
    ("nhs_number", "message"),
    [
        ("12345", "NHS number must be 10 digits"),
        ("401 023 2138", "check the digits and try again"),
        ("943 476 5919", "no NHS number starts with these digits"),
    ],
)
def test_an_invalid_nhs_number_gets_a_clear_message(client, people, nhs_number, message):
    response = _post(client, people.admin_a, people.practice_a, nhs_number)
    assert response.status_code == 200
    assert message in response.content.decode()


def test_the_example_nhs_number_in_the_hint_is_one_the_form_accepts(client, people):
    from manage.views.subject_access import EXAMPLE_NHS_NUMBER, SubjectAccessForm

    form = SubjectAccessForm({"nhs_number": EXAMPLE_NHS_NUMBER, "format": "json"})
    assert form.is_valid(), form.errors
    assert f"for example {EXAMPLE_NHS_NUMBER}" in str(form["nhs_number"].help_text)


def test_the_html_document_is_readable_and_not_stored(client, people, record):
    referral, other = record

    response = _post(client, people.admin_a, people.practice_a, referral.patient.nhs_number, "html")

    html = response.content.decode()
    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
    assert "nhsuk-summary-list" in html
    assert "Featherstone" in html
    assert f"Referral {referral.reference}" in html
    assert "Prefers mornings" in html
    assert "Consent decisions" in html and "Letter dated 3 May" in html
    assert "Brought her own mat" in html
    assert other.reference not in html
    assert " style=" not in html


def test_the_export_runs_a_fixed_number_of_queries(people, record):
    referral, _ = record
    with CaptureQueriesContext(connection) as one:
        export = subject_access_export(people.practice_a, referral.patient.nhs_number)
    assert [r["reference"] for r in export.data["referrals"]] == [referral.reference]
    declined = [
        referral_in_state(people, Status.DECLINED, patient=referral.patient) for _ in range(3)
    ]
    with CaptureQueriesContext(connection) as four:
        export = subject_access_export(people.practice_a, referral.patient.nhs_number)
    assert len(export.data["referrals"]) == 4
    # Every referral comes with the rows the fixed queries fetch: its timeline and sessions.
    by_reference = {r["reference"]: r for r in export.data["referrals"]}
    assert set(by_reference) == {r.reference for r in [referral, *declined]}
    for other in declined:
        timeline = by_reference[other.reference]["timeline"]
        assert [e["action"] for e in timeline] == ["create", "submit", "decline"]
        assert by_reference[other.reference]["sessions"] == []
    sessions = by_reference[referral.reference]["sessions"]
    assert sessions and {s["notes"] for s in sessions} == {"Brought her own mat"}
    assert len(four) <= len(one)


def test_the_command_writes_json_and_html(people, record, tmp_path):
    referral, other = record
    for fmt in ("json", "html"):
        target = tmp_path / f"sar.{fmt}"
        out = io.StringIO()
        call_command(
            "subject_access",
            "--organisation",
            people.practice_a.code,
            "--nhs-number",
            referral.patient.nhs_number,
            "--format",
            fmt,
            "--output",
            str(target),
            stdout=out,
        )
        text = target.read_text()
        assert referral.reference in text
        assert other.reference not in text
        assert "Wrote 1 referral(s)" in out.getvalue()
    assert json.loads((tmp_path / "sar.json").read_text())["nhs_number"]


@pytest.mark.parametrize(
    ("organisation", "nhs_number", "message"),
    [("NOPE", None, "No organisation"), ("B82002", None, "holds no record"), (None, "1", "valid")],
)
def test_the_command_refuses_bad_input(people, record, tmp_path, organisation, nhs_number, message):
    referral, _ = record
    with pytest.raises(CommandError, match=message):
        call_command(
            "subject_access",
            "--organisation",
            organisation or people.practice_a.code,
            "--nhs-number",
            nhs_number or referral.patient.nhs_number,
            "--output",
            str(tmp_path / "x.json"),
        )
    assert not (tmp_path / "x.json").exists()


def test_the_export_includes_the_referrals_safety_alerts(client, people, record):
    from referrals.alerts import incident_record

    referral, _ = record
    incident_record(
        session=referral.sessions.order_by("scheduled_at").first(),
        by=people.instructor_x,
        incident_kind="dizziness",
        description="Light-headed after the treadmill",
        immediate_action="Sat her down with water",
    )

    response = _post(client, people.admin_x, people.operator_x, referral.patient.nhs_number)

    (alert,) = json.loads(response.content)["referrals"][0]["alerts"]
    assert alert["kind"] == "Incident in a session: dizziness or fainting"
    assert alert["description"] == "Light-headed after the treadmill"
    assert alert["done_at_the_time"] == "Sat her down with water"
    assert alert["acknowledged_at"] is None


def test_the_providers_export_includes_its_contact_attempts_and_the_referrers_does_not(
    client, people, record
):
    from leisure.contact import contact_attempt_record

    _, submitted = record
    contact_attempt_record(
        referral=submitted,
        by=people.coordinator_x,
        method="phone",
        outcome="left_message",
        note="Asked her to ring back about a Tuesday class",
    )
    number = submitted.patient.nhs_number

    provider = json.loads(_post(client, people.admin_x, people.operator_x, number).content)
    (attempt,) = provider["referrals"][0]["contact_attempts"]
    assert (attempt["method"], attempt["outcome"]) == ("Phone call", "Left a message")
    assert attempt["note"] == "Asked her to ring back about a Tuesday class"
    assert attempt["recorded_by"] == people.coordinator_x.get_full_name()
    document = _post(client, people.admin_x, people.operator_x, number, "html").content.decode()
    assert "Contact attempts" in document and "ring back about a Tuesday class" in document

    referrer = json.loads(_post(client, people.admin_a, people.practice_a, number).content)
    assert referrer["referrals"][0]["contact_attempts"] == []


def test_the_providers_export_includes_the_membership_number_and_visits_and_the_referrers_does_not(
    client, people
):
    """Issue 14: the operator's identifier for the patient and its systems' visits are the
    operator's records of the patient: in its export, never in the referrer's."""
    import datetime as dt

    from django.utils import timezone

    from referrals import services
    from referrals.visits import VisitEvent, visits_record

    referral = referral_in_state(people, Status.ACTIVE)
    services.referral_set_membership_number(
        referral=referral, by=people.coordinator_x, number="AL-100042"
    )
    visits_record(
        operator=people.operator_x,
        by=people.instructor_x,
        events=[
            VisitEvent(
                event_id="egym-1",
                facility=people.facility_x.public_id,
                membership_number="AL-100042",
                occurred_at=timezone.now() - dt.timedelta(minutes=30),
                activity="Strength circuit",
                duration_minutes=42,
            )
        ],
    )
    number = referral.patient.nhs_number

    provider = json.loads(_post(client, people.admin_x, people.operator_x, number).content)
    held = provider["referrals"][0]
    assert held["membership_number"] == [{"membership_number": "AL-100042"}]
    (visit,) = held["self_directed_visits"]
    assert (visit["activity"], visit["duration_minutes"]) == ("Strength circuit", 42)
    assert visit["facility"] == people.facility_x.name
    document = _post(client, people.admin_x, people.operator_x, number, "html").content.decode()
    assert "Self-directed visits" in document and "Strength circuit" in document

    referrer = json.loads(_post(client, people.admin_a, people.practice_a, number).content)
    assert referrer["referrals"][0]["membership_number"] == []
    assert referrer["referrals"][0]["self_directed_visits"] == []
    assert "AL-100042" not in json.dumps(referrer)
