"""Consent that can be withdrawn (issue 9, item 3): the history, and what each withdrawal stops."""

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction

from accounts.models import Organisation
from delivery.outbox import notification_deliver
from outcomes import reports
from referrals import services
from referrals.consent import consent_record_decision, open_decisions
from referrals.models import (
    ConsentDecision,
    ConsentMethod,
    ConsentPurpose,
    ConsentRecord,
    Notification,
    Referral,
    Session,
    Status,
)
from referrals.selectors import unread_updates_for
from referrals.workflow import ReferralChanged, WorkflowError
from tests.builders import referral_in_state, session_due_now
from tests.integration.harness import Receiver

N = Notification
P = ConsentPurpose
PROGRESS = ("book", "start", "dna", "complete", "discharge")


def withdraw(referral, by, purpose, **kwargs):
    kwargs.setdefault("method", ConsentMethod.TELEPHONE)
    return consent_record_decision(referral=referral, by=by, purpose=purpose, **kwargs)


@pytest.fixture
def webhook(people, settings):
    settings.PORTAL_WEBHOOK_ALLOW_HTTP = True
    settings.PORTAL_WEBHOOK_ALLOW_PRIVATE = True
    receiver = Receiver(secret=people.practice_a.webhook_secret)
    Organisation.objects.filter(pk=people.practice_a.pk).update(
        webhook_enabled=True, webhook_url=receiver.url()
    )
    people.practice_a.refresh_from_db()
    yield receiver
    receiver.stop()


# --- The history -------------------------------------------------------------------------------


def test_submission_starts_the_history_with_each_decision_the_referrer_recorded(people):
    referral = referral_in_state(people, Status.SUBMITTED, consent_research=False)

    history = list(referral.consents.values_list("purpose", "decision", "method", "recorded_by"))
    assert history == [
        (P.REFERRAL, ConsentDecision.GIVEN, ConsentMethod.WITH_REFERRAL, people.referrer_a.pk),
        (
            P.SHARE_PROGRESS,
            ConsentDecision.GIVEN,
            ConsentMethod.WITH_REFERRAL,
            people.referrer_a.pk,
        ),
        (
            P.EVALUATION,
            ConsentDecision.NOT_GIVEN,
            ConsentMethod.WITH_REFERRAL,
            people.referrer_a.pk,
        ),
    ]
    assert all(r.recorded_at == referral.consent_recorded_at for r in referral.consents.all())


def test_a_withdrawal_records_who_for_which_organisation_when_and_how(people):
    referral = referral_in_state(people, Status.ACCEPTED)

    record = withdraw(
        referral,
        people.coordinator_x,
        P.EVALUATION,
        method=ConsentMethod.IN_PERSON,
        note="Told the front desk at the first visit",
    )

    assert (record.recorded_by, record.recorded_by_organisation) == (
        people.coordinator_x,
        people.operator_x,
    )
    assert (record.decision, record.method) == (ConsentDecision.WITHDRAWN, "in_person")
    assert record.note == "Told the front desk at the first visit"
    referral.refresh_from_db()
    assert referral.consent_research is False
    assert referral.consents.count() == 4


def test_the_history_is_append_only_in_the_database(people):
    referral = referral_in_state(people, Status.SUBMITTED)
    record = withdraw(referral, people.referrer_a, P.EVALUATION, note="By letter")

    with pytest.raises(IntegrityError), transaction.atomic():
        ConsentRecord.objects.filter(pk=record.pk).update(decision=ConsentDecision.GIVEN)
    with pytest.raises(ValueError, match="append-only"):
        record.save()
    # The one update allowed: the retention rule clearing the note.
    ConsentRecord.objects.filter(pk=record.pk).update(note="")
    record.refresh_from_db()
    assert (record.note, record.decision) == ("", ConsentDecision.WITHDRAWN)


# --- Share progress ----------------------------------------------------------------------------


def test_withdrawing_share_progress_withholds_every_update_not_yet_delivered(people, webhook):
    referral = referral_in_state(people, Status.ACTIVE)
    waiting = referral.notifications.filter(event__action__in=PROGRESS).exclude(
        channel=N.Channel.IN_APP
    )
    assert {r.channel for r in waiting} == {N.Channel.EMAIL, N.Channel.WEBHOOK}
    assert unread_updates_for(people.referrer_a).filter(event__action__in=PROGRESS).exists()

    withdraw(referral, people.instructor_x, P.SHARE_PROGRESS)

    assert set(waiting.values_list("status", flat=True)) == {N.DeliveryStatus.WITHHELD}
    assert not unread_updates_for(people.referrer_a).filter(event__action__in=PROGRESS).exists()
    # Updates about the referral itself are not progress: they still go.
    submit = referral.notifications.get(channel=N.Channel.WEBHOOK, event__action="submit")
    assert submit.status == N.DeliveryStatus.PENDING
    for row in waiting:
        assert notification_deliver(str(row.public_id)) == "skipped"
    assert webhook.snapshot() == []


def test_after_withdrawal_no_later_progress_update_is_written(people):
    referral = referral_in_state(people, Status.BOOKED)
    withdraw(referral, people.referrer_a, P.SHARE_PROGRESS)
    before = referral.notifications.count()

    session = session_due_now(referral.sessions.earliest("scheduled_at"))
    services.session_record_attendance(
        session=session, status=Session.Attendance.ATTENDED, by=people.instructor_x
    )
    referral.refresh_from_db()
    services.referral_complete(referral=referral, by=people.coordinator_x)

    assert referral.notifications.count() == before


def test_delivery_reads_consent_again_after_claiming(people, webhook, monkeypatch):
    """A withdrawal that commits between the claim and the send still stops the send."""
    from delivery import outbox

    referral = referral_in_state(people, Status.BOOKED)
    row = referral.notifications.get(channel=N.Channel.WEBHOOK, event__action="book")
    claim = outbox.notifications_claim

    def claim_then_withdraw(public_ids):
        claimed = claim(public_ids)
        Referral.objects.filter(pk=referral.pk).update(consent_share_outcomes=False)
        return claimed

    monkeypatch.setattr(outbox, "notifications_claim", claim_then_withdraw)

    assert notification_deliver(str(row.public_id)) == "withheld"
    assert webhook.snapshot() == []


def test_consent_given_again_shares_progress_from_then_on(people):
    referral = referral_in_state(people, Status.BOOKED)
    withdraw(referral, people.referrer_a, P.SHARE_PROGRESS)
    withheld = set(referral.notifications.filter(status=N.DeliveryStatus.WITHHELD))

    withdraw(referral, people.coordinator_x, P.SHARE_PROGRESS, decision=ConsentDecision.GIVEN)
    session = session_due_now(referral.sessions.earliest("scheduled_at"))
    services.session_record_attendance(
        session=session, status=Session.Attendance.ATTENDED, by=people.instructor_x
    )

    assert referral.notifications.filter(event__action="start").exists()
    assert set(referral.notifications.filter(status=N.DeliveryStatus.WITHHELD)) == withheld


# --- Evaluation use ----------------------------------------------------------------------------


def test_withdrawing_evaluation_use_takes_the_referral_out_of_the_outcome_figures(people):
    from tests.outcomes.test_reports import STARTED, start_participant

    referrals = [start_participant(people, plan) for plan in STARTED[:3]]
    before = reports.programme_report(people.coordinator_x)
    assert before.gppaq_pairs == 3

    referrals[0].refresh_from_db()
    withdraw(referrals[0], people.referrer_a, P.EVALUATION)
    after = reports.programme_report(people.coordinator_x)

    assert after.gppaq_pairs == 2
    sts = next(o for o in after.outcomes if o.instrument == "sit_to_stand_30s")
    assert sts.n == 2
    # Service activity still counts every referral.
    assert after.counts.started == before.counts.started == 3


# --- The referral itself -----------------------------------------------------------------------


@pytest.mark.parametrize("state", [Status.SUBMITTED, Status.WAITLISTED, Status.BOOKED])
def test_withdrawing_consent_to_the_referral_cancels_it_before_it_starts(people, state):
    referral = referral_in_state(people, state)

    withdraw(referral, people.referrer_a, P.REFERRAL)

    referral.refresh_from_db()
    assert referral.status == Status.CANCELLED
    assert referral.consent_referral is False
    event = referral.events.latest("created_at")
    assert (event.action, event.reason_code) == ("cancel", "consent_withdrawn")
    assert not referral.sessions.filter(status=Session.Attendance.BOOKED).exists()
    assert referral.notifications.filter(event=event, channel=N.Channel.EMAIL).exists()


def test_withdrawing_consent_to_the_referral_discharges_it_once_under_way(people):
    referral = referral_in_state(people, Status.ACTIVE)
    future = referral.sessions.filter(status=Session.Attendance.BOOKED)
    assert future.exists()

    # The instructor hears it, and may record it, though discharging is not their job.
    withdraw(referral, people.instructor_x, P.REFERRAL, method=ConsentMethod.IN_PERSON)

    referral.refresh_from_db()
    event = referral.events.latest("created_at")
    assert (referral.status, event.reason_code) == (Status.DISCHARGED, "consent_withdrawn")
    assert (event.actor, event.actor_organisation) == (people.instructor_x, people.operator_x)
    assert not future.exists()
    assert referral.sessions.filter(status=Session.Attendance.CANCELLED_PATIENT).exists()


def test_withdrawing_consent_to_an_ended_referral_records_it_only(people):
    referral = referral_in_state(people, Status.COMPLETED)
    events = referral.events.count()

    withdraw(referral, people.coordinator_x, P.REFERRAL)

    referral.refresh_from_db()
    assert (referral.status, referral.consent_referral) == (Status.COMPLETED, False)
    assert referral.events.count() == events
    assert [value for value, _label in open_decisions(referral)] == [
        f"withdrawn:{P.SHARE_PROGRESS}",
        f"withdrawn:{P.EVALUATION}",
    ]


# --- Refusals: nothing is written --------------------------------------------------------------


@pytest.mark.parametrize(
    "persona", ["referrer_b", "coordinator_y", "instructor_y", "commissioner", "admin_x"]
)
def test_someone_outside_the_referral_cannot_record_consent(people, persona):
    referral = referral_in_state(people, Status.ACTIVE)
    user = getattr(people, persona)

    with pytest.raises(PermissionDenied):
        withdraw(referral, user, P.SHARE_PROGRESS)

    referral.refresh_from_db()
    assert referral.consent_share_outcomes is True
    assert referral.consents.count() == 3


@pytest.mark.parametrize(
    ("fields", "purpose", "decision", "message"),
    [
        ({"consent_research": False}, P.EVALUATION, "withdrawn", "nothing to withdraw"),
        ({}, P.SHARE_PROGRESS, "given", "already consents"),
        ({}, P.REFERRAL, "given", "make a new referral"),
    ],
)
def test_a_decision_that_changes_nothing_is_refused(people, fields, purpose, decision, message):
    referral = referral_in_state(people, Status.SUBMITTED, **fields)

    with pytest.raises(WorkflowError, match=message):
        withdraw(referral, people.referrer_a, purpose, decision=decision)
    assert referral.consents.count() == 3


def test_a_draft_is_changed_on_its_consent_step(people):
    referral = referral_in_state(people, Status.DRAFT)

    with pytest.raises(WorkflowError, match="draft"):
        withdraw(referral, people.referrer_a, P.SHARE_PROGRESS)
    assert open_decisions(referral) == []


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"method": "carrier_pigeon"}, "method"),
        ({"method": ConsentMethod.WITH_REFERRAL}, "method"),
        ({"decision": "maybe"}, "decision"),
        ({"note": "Said \u202eno"}, "note"),
        ({"note": "x" * 501}, "note"),
    ],
)
def test_bad_input_is_refused_with_a_message(people, kwargs, field):
    referral = referral_in_state(people, Status.SUBMITTED)

    with pytest.raises(ValidationError) as refused:
        withdraw(referral, people.referrer_a, P.SHARE_PROGRESS, **kwargs)
    assert field in refused.value.message_dict
    assert referral.consents.count() == 3


def test_a_stale_copy_is_refused(people):
    referral = referral_in_state(people, Status.SUBMITTED)
    stale = Referral.objects.get(pk=referral.pk)
    withdraw(referral, people.referrer_a, P.EVALUATION)

    with pytest.raises(ReferralChanged):
        withdraw(stale, people.coordinator_x, P.SHARE_PROGRESS)
    referral.refresh_from_db()
    assert referral.consent_share_outcomes is True
