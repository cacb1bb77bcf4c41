"""Claiming, sending and recording outbox rows (queuing them and the sweep are in `tasks.py`).

A delivery runs in three short steps, never holding a database transaction open over the network:

1. **claim**: `SELECT ... FOR UPDATE SKIP LOCKED` the row if it is due and nobody holds it, count
   the attempt and take a lease (`claimed_until`) longer than the task's hard time limit; commit.
   Two workers given the same row (the after-commit task and a sweep, a task redelivered by the
   broker) cannot both get it: one skips the locked row, or finds the lease taken.
2. **send** the email or webhook.
3. **record** sent, or the failure with its next attempt (exponential backoff with jitter), or
   dead after the last attempt, but only while still holding the lease.

A worker that dies between 1 and 3 leaves the lease to run out; the sweep then queues the row
again. If it died after the receiver accepted the message, the receiver gets it a second time
under the same webhook-id (or the same email Message-ID): at-least-once delivery, made safe by the
receiver dropping ids it has seen. The other order (record sent before sending) would turn that
rare duplicate into a rare silent loss, which is worse for a referrer waiting on an update.
"""

import logging
import random
from collections import defaultdict
from collections.abc import Callable
from datetime import datetime, timedelta
from functools import partial
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from referrals.consent import may_tell_referrer
from referrals.models import Alert, Notification, Referral

from . import email, webhook
from .fhir_messages import bundle_body
from .webhook import DeliveryFailed

if TYPE_CHECKING:
    from collections.abc import Iterable

    from accounts.models import User

logger = logging.getLogger(__name__)

N = Notification
DUE_STATUSES = (N.DeliveryStatus.PENDING, N.DeliveryStatus.RETRYING)
# Reminders that lapse once the referral is triaged (a safety alert's emails never do).
TRIAGE_KINDS = frozenset({N.Kind.TRIAGE_REMINDER, N.Kind.TRIAGE_ESCALATION})


def retry_delay(attempts: int) -> timedelta:
    """How long to wait after the `attempts`-th failed attempt: doubling, capped, ±20% jitter."""
    base = settings.PORTAL_DELIVERY_RETRY_BASE_SECONDS
    cap = settings.PORTAL_DELIVERY_RETRY_CAP_SECONDS
    delay = min(cap, base * 2 ** max(attempts - 1, 0))
    # Jitter spreads out the retries of many rows that failed together (a receiver outage).
    return timedelta(seconds=delay * random.uniform(0.8, 1.2))  # noqa: S311


def unclaimed(now: datetime) -> Q:
    return Q(claimed_until__isnull=True) | Q(claimed_until__lt=now)


# --- Delivering --------------------------------------------------------------------------------


def notifications_claim(public_ids: "Iterable[str]") -> list[Notification]:
    """Take the lease on whichever of these rows are due and free; the rest are someone else's."""
    now = timezone.now()
    lease_until = now + timedelta(seconds=settings.PORTAL_DELIVERY_LEASE_SECONDS)
    with transaction.atomic():
        rows = list(
            Notification.objects.select_for_update(skip_locked=True, of=("self",))
            .select_related("referral", "event", "recipient_organisation")
            .filter(public_id__in=public_ids, status__in=DUE_STATUSES, next_attempt_at__lte=now)
            .filter(unclaimed(now))
            .exclude(channel=N.Channel.IN_APP)
            .order_by("pk")
        )
        if rows:
            Notification.objects.filter(pk__in=[row.pk for row in rows]).update(
                claimed_until=lease_until, attempts=F("attempts") + 1, last_attempt_at=now
            )
            for row in rows:
                row.claimed_until = lease_until
                row.attempts += 1
                row.last_attempt_at = now
    return rows


def _record(rows: list[Notification], **fields: Any) -> int:
    """Update rows we still hold the lease on; a row whose lease was lost is left alone."""
    updated = 0
    for row in rows:
        updated += Notification.objects.filter(
            pk=row.pk, claimed_until=row.claimed_until, status__in=DUE_STATUSES
        ).update(claimed_until=None, **fields)
        for name, value in fields.items():
            setattr(row, name, value)
        row.claimed_until = None
    return updated


def _record_sent(rows: list[Notification]) -> None:
    _record(rows, status=N.DeliveryStatus.SENT, sent_at=timezone.now(), last_error="")


def _record_failure(rows: list[Notification], message: str, *, permanent: bool = False) -> str:
    now = timezone.now()
    outcome = "retrying"
    for row in rows:
        if permanent or row.attempts >= settings.PORTAL_DELIVERY_MAX_ATTEMPTS:
            _record([row], status=N.DeliveryStatus.DEAD, last_error=message[:500])
            outcome = "dead"
            logger.warning(
                "Notification %s is dead after %d attempts: %s",
                row.public_id,
                row.attempts,
                message,
            )
        else:
            _record(
                [row],
                status=N.DeliveryStatus.RETRYING,
                last_error=message[:500],
                next_attempt_at=now + retry_delay(row.attempts),
            )
    return outcome


def _withheld_because(row: Notification, sharing: set[int]) -> str:
    """Why a due row must no longer be sent, or "" to send it. Progress is shared only while
    consent stands at send time: `sharing` holds the referrals whose consent does, read now."""
    referral = row.referral
    if row.kind == N.Kind.UPDATE:
        if not may_tell_referrer(row.event.action, referral.pk in sharing):
            return "Withheld: consent to share progress with the referrer was withdrawn"
        if row.channel == N.Channel.WEBHOOK and not row.recipient_organisation.webhook_enabled:
            return "Withheld: the organisation's webhook was switched off"
    elif row.kind in TRIAGE_KINDS and referral.status != "submitted":
        return "Withheld: the referral was triaged before the reminder went"
    elif (
        row.kind == N.Kind.SAFETY_ESCALATION
        and Alert.objects.filter(event_id=row.event_id, acknowledged_at__isnull=False).exists()
    ):
        return "Withheld: the alert was acknowledged before the escalation went"
    return ""


def _withhold(rows: list[Notification]) -> list[Notification]:
    """Record the rows that must not go as withheld; return the ones to send."""
    # Read consent again, after the claim: a withdrawal that committed since must stop the send.
    sharing = set(
        Referral.objects.filter(
            pk__in={row.referral_id for row in rows}, consent_share_outcomes=True
        ).values_list("pk", flat=True)
    )
    to_send = []
    for row in rows:
        reason = _withheld_because(row, sharing)
        if reason:
            _record([row], status=N.DeliveryStatus.WITHHELD, last_error=reason)
        else:
            to_send.append(row)
    return to_send


def _send_one(row: Notification) -> None:
    if row.channel == N.Channel.WEBHOOK:
        organisation = row.recipient_organisation
        # The organisation's current address and secret: an admin who fixes either and presses
        # "retry now" expects the fix to be used.
        row.recipient_address = organisation.webhook_url
        Notification.objects.filter(pk=row.pk).update(recipient_address=organisation.webhook_url)
        webhook.webhook_post(
            url=organisation.webhook_url,
            secret=organisation.webhook_secret,
            msg_id=str(row.public_id),
            body=bundle_body(row.payload),
        )
    else:
        email.send_update_email(row)


def _attempt(rows: list[Notification], send: Callable[..., None]) -> str:
    try:
        send()
    except DeliveryFailed as error:
        return _record_failure(rows, error.message, permanent=error.permanent)
    except Exception as error:
        # Includes the soft time limit. The message and traceback may quote the payload, which
        # holds no patient data, but the URL's query string could hold a token: log the kind only.
        logger.error(
            "Delivery of %s failed unexpectedly: %s",
            ",".join(str(row.public_id) for row in rows),
            type(error).__name__,
        )
        return _record_failure(rows, f"Unexpected error ({type(error).__name__})")
    _record_sent(rows)
    return "sent"


def notification_deliver(public_id: str) -> str:
    """Deliver one email or webhook row if it is due and free; safe to call any number of times."""
    claimed = notifications_claim([public_id])
    if not claimed:
        return "skipped"
    rows = _withhold(claimed)
    if not rows:
        return "withheld"
    return _attempt(rows, lambda: _send_one(rows[0]))


def notifications_deliver_digest(public_ids: list[str]) -> str:
    """Send one email covering whichever of these rows are due and free, per address and kind."""
    claimed = notifications_claim(public_ids)
    if not claimed:
        return "skipped"
    rows = _withhold(claimed)
    if not rows:
        return "withheld"
    groups = defaultdict(list)
    for row in rows:
        groups[(row.recipient_address, row.kind)].append(row)
    outcomes = {
        _attempt(group, lambda group=group: email.send_digest_email(group))
        for group in groups.values()
    }
    return ",".join(sorted(outcomes))


# --- People ------------------------------------------------------------------------------------


def notification_reset(
    *,
    notification: Notification,
    by: "User",
    on_commit: Callable[[list[str]], object] | None = None,
) -> bool:
    """Give a dead or retrying row a fresh set of attempts, starting now. False if not eligible.

    Used by platform staff from the admin after fixing whatever killed it (a webhook address,
    a mailbox). A row a worker is sending at this moment is left to that worker. `on_commit`
    gets the row's id once the reset commits (`tasks.notification_retry_now` queues it).
    """
    now = timezone.now()
    with transaction.atomic():
        locked = Notification.objects.select_for_update().get(pk=notification.pk)
        if locked.channel == N.Channel.IN_APP or locked.status not in {
            N.DeliveryStatus.DEAD,
            N.DeliveryStatus.RETRYING,
            N.DeliveryStatus.PENDING,
        }:
            return False
        if locked.claimed_until is not None and locked.claimed_until > now:
            return False
        locked.status = N.DeliveryStatus.PENDING
        locked.attempts = 0
        locked.next_attempt_at = now
        locked.save(update_fields=["status", "attempts", "next_attempt_at"])
        if not locked.digest and on_commit is not None:
            transaction.on_commit(partial(on_commit, [str(locked.public_id)]), robust=True)
    logger.info("Notification %s queued again by user %s", locked.public_id, by.pk)
    notification.refresh_from_db()
    return True
