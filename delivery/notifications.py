"""Which timeline events reach the referrer, and the outbox rows that carry them.

Rows are written inside the transaction of the change that caused them (a transactional outbox),
so an update is never lost between the change and its delivery. When that transaction commits, a
Celery task is queued for each email and webhook row; if Redis is down the rows simply wait for
the beat sweep (`delivery/tasks.py`). Delivery only ever reads these rows.

Per event: an in-app row for the referring clinician (delivered by being written); an email to the
clinician, or the organisation's shared mailbox when the clinician has left, once per update or in
the daily digest as the clinician or else the organisation chose; and a webhook row carrying a FHIR
message when the organisation has a webhook. Progress events need the patient's consent to share
progress with the referrer, for every channel alike.
"""

from datetime import datetime, timedelta
from functools import partial
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from accounts.models import EmailUpdates, Membership, Role
from referrals.booking import next_booked_session
from referrals.consent import may_tell_referrer
from referrals.discharge import ENDING_ACTIONS
from referrals.models import Notification, ReferralEvent, Status
from referrals.workflow import PROGRESS_EVENTS, REFERRAL_EVENTS

from . import fhir_messages, tasks

if TYPE_CHECKING:
    from accounts.models import Organisation, User

# What each update says, in every channel: no names, no clinical detail.
HEADLINES: dict[str, str] = {
    "submit": "Referral received",
    "accept": "Referral accepted",
    "decline": "Referral declined",
    "request_info": "Information requested: please answer",
    "waitlist": "Added to the waiting list",
    "book": "First session booked",
    "start": "First session attended",
    "dna": "A session was missed",
    "complete": "Programme completed",
    "discharge": "Discharged from the programme",
    "cancel": "Referral cancelled",
    # What the alert was stays in the portal: the referrer signs in to read it.
    "safety_alert": "Safety alert raised by the leisure provider",
}


def update_content(event: ReferralEvent) -> dict[str, Any]:
    """The payload of in-app and email rows: the opaque reference, the status and what happened.

    A booking also says when and where the first session is (the centre's name and the time: no
    patient data), so the referrer can tell the patient without signing in.
    """
    referral = event.referral
    status = event.to_status or referral.status
    content = {
        "reference": referral.reference,
        "action": event.action,
        "headline": HEADLINES[event.action],
        "status": status,
        "status_label": Status(status).label,
        "occurred_at": event.created_at.isoformat(),
        "summary": event.action in ENDING_ACTIONS,
    }
    if event.action == "book":
        first = next_booked_session(referral, after=event.created_at)
        if first is not None:
            content.update(first.as_payload())
    return content


def next_digest_at(now: datetime) -> datetime:
    """The next daily digest time (PORTAL_EMAIL_DIGEST_HOUR, local time) after `now`."""
    local = timezone.localtime(now)
    at = local.replace(hour=settings.PORTAL_EMAIL_DIGEST_HOUR, minute=0, second=0, microsecond=0)
    return at if at > local else at + timedelta(days=1)


def _email_choice(
    organisation: "Organisation", clinician: "User | None"
) -> tuple[str, str, "User | None"]:
    """(how, address, whose): the clinician's own choice here, else the organisation's.

    Only someone who refers for the organisation gets it at their own address. A clinician who
    no longer does, or an organisation's system that made the referral over the API (whose
    address is a reserved `.invalid` one, ADR 0006), leaves it to the shared mailbox."""
    if clinician is None:
        return organisation.email_updates, organisation.shared_mailbox, None
    own = list(
        Membership.objects.filter(
            user=clinician, organisation=organisation, role=Role.REFERRER, is_active=True
        ).values_list("email_updates", flat=True)[:1]
    )
    if not own:
        return organisation.email_updates, organisation.shared_mailbox, None
    return own[0] or organisation.email_updates, clinician.email, clinician


def notifications_queue_for_event(event: ReferralEvent, **_signal: Any) -> list[Notification]:
    """Write one outbox row per channel and recipient for an event that matters to the referrer.

    Connected to `referrals.events.event_recorded`, so it runs inside the transaction that wrote
    the event; delivery is queued when it commits.
    """
    referral = event.referral
    if not may_tell_referrer(event.action, referral.shares_progress):
        return []
    if event.action not in REFERRAL_EVENTS | PROGRESS_EVENTS:
        return []
    now = timezone.now()
    organisation = referral.referring_organisation
    clinician = referral.referring_clinician
    if clinician is not None and not clinician.is_active:
        clinician = None
    content = update_content(event)
    common = {"referral": referral, "event": event, "recipient_organisation": organisation}
    rows = []
    if clinician is not None:
        rows.append(
            Notification(
                **common,
                channel=Notification.Channel.IN_APP,
                recipient_user=clinician,
                payload=content,
                status=Notification.DeliveryStatus.SENT,
                sent_at=now,
            )
        )
    how, address, reader = _email_choice(organisation, clinician)
    if address and how != EmailUpdates.NONE:
        digest = how == EmailUpdates.DAILY_DIGEST
        rows.append(
            Notification(
                **common,
                channel=Notification.Channel.EMAIL,
                recipient_user=reader,
                recipient_address=address,
                payload=content,
                digest=digest,
                next_attempt_at=next_digest_at(now) if digest else now,
            )
        )
    if organisation.webhook_enabled and organisation.webhook_url:
        row = Notification(
            **common,
            channel=Notification.Channel.WEBHOOK,
            recipient_address=organisation.webhook_url,
            next_attempt_at=now,
        )
        row.payload = fhir_messages.bundle_for_update(
            message_id=row.public_id,
            event=event,
            referral=referral,
            destination=organisation.webhook_url,
        )
        rows.append(row)
    created = Notification.objects.bulk_create(rows)
    to_queue = [
        str(row.public_id)
        for row in created
        if row.channel != Notification.Channel.IN_APP and not row.digest
    ]
    if to_queue:
        transaction.on_commit(partial(tasks.notifications_enqueue, to_queue), robust=True)
    return created
