"""Celery tasks and queuing them: thin wrappers that take ids and call `outbox`, safe to run twice.

Delivery retries are not Celery retries: the next attempt is a time on the outbox row, found by the
sweep, so it survives a broker or worker outage (a retry message sitting in Redis would not).
What is declared here is how a task may behave: acknowledged only when done, requeued if the
worker dies, and time limits that end a stuck send before the row's lease runs out.
"""

import logging
from collections import defaultdict
from datetime import timedelta

from celery import shared_task
from django.conf import settings
from django.db.models import Q
from django.utils import timezone

from referrals.models import Notification

from . import broker, outbox, reminders
from .outbox import unclaimed

logger = logging.getLogger(__name__)
N = Notification

DELIVERY_TASK_OPTIONS = {
    "acks_late": True,
    "reject_on_worker_lost": True,
    "soft_time_limit": settings.PORTAL_DELIVERY_SOFT_TIME_LIMIT,
    "time_limit": settings.PORTAL_DELIVERY_TIME_LIMIT,
    "ignore_result": True,
}


@shared_task(**DELIVERY_TASK_OPTIONS)
def deliver_notification(public_id: str) -> str:
    """Send one email or webhook notification if it is still due."""
    return outbox.notification_deliver(public_id)


@shared_task(**DELIVERY_TASK_OPTIONS)
def deliver_digest(public_ids: list[str]) -> str:
    """Send one email covering several due rows for one address (digests and reminders)."""
    return outbox.notifications_deliver_digest(public_ids)


@shared_task(name="delivery.tasks.notifications_sweep", **DELIVERY_TASK_OPTIONS)
def notifications_sweep_task() -> dict:
    """Beat, every PORTAL_DELIVERY_SWEEP_SECONDS: queue everything due and undelivered."""
    return notifications_sweep()


@shared_task(**DELIVERY_TASK_OPTIONS)
def triage_reminders_queue() -> int:
    """Beat, daily: write today's overdue-triage reminders and escalations."""
    return reminders.triage_reminders_queue()


@shared_task(name="delivery.tasks.safety_alerts_escalate", **DELIVERY_TASK_OPTIONS)
def safety_alerts_escalate() -> int:
    """Beat, every PORTAL_ALERT_ESCALATION_SWEEP_SECONDS: escalate unacknowledged safety alerts
    (once each) and queue their emails. Returns the rows written."""
    written = reminders.safety_alerts_escalate()
    notifications_enqueue(written)
    return len(written)


# --- Queuing -----------------------------------------------------------------------------------


def enqueue(task, argument_lists) -> int:
    """Queue `task` once per argument list; stop at the first broker error and log it.

    Never raises: this runs after commit in the user's request, and a broker outage must cost
    the request nothing (`delivery.broker`: short timeouts, and a circuit that skips publishing
    at once after a failure until the broker answers again). The rows are in the database; the
    sweep queues them once Redis is back.
    """
    queued = 0
    for arguments in argument_lists:
        try:
            broker.publish(task, arguments)
        except broker.CircuitOpen:
            logger.info(
                "Broker unavailable: %d %s left for the sweep",
                len(argument_lists) - queued,
                task.name,
            )
            break
        except Exception as error:
            logger.warning(
                "Could not queue %s (%s: %s); %d left for the sweep",
                task.name,
                type(error).__name__,
                str(error)[:200],
                len(argument_lists) - queued,
            )
            break
        queued += 1
    return queued


def notifications_enqueue(public_ids: list[str]) -> int:
    """Queue the delivery of these rows (called on commit of the transaction that wrote them)."""
    return enqueue(deliver_notification, [[public_id] for public_id in public_ids])


def notifications_sweep(now=None) -> dict:
    """Queue every row that is due and not being sent: the safety net under the after-commit queue.

    Pending rows younger than the grace period are left alone, as their after-commit task is
    most likely still on its way; retries are due only through here.
    """
    now = now or timezone.now()
    grace = timedelta(seconds=settings.PORTAL_DELIVERY_SWEEP_GRACE_SECONDS)
    batch = settings.PORTAL_DELIVERY_SWEEP_BATCH
    due = (
        Notification.objects.filter(
            Q(status=N.DeliveryStatus.PENDING, next_attempt_at__lte=now - grace)
            | Q(status=N.DeliveryStatus.RETRYING, next_attempt_at__lte=now)
        )
        .filter(unclaimed(now))
        .exclude(channel=N.Channel.IN_APP)
        .order_by("next_attempt_at", "pk")
    )
    singles = [
        [str(public_id)]
        for public_id in due.filter(digest=False).values_list("public_id", flat=True)[:batch]
    ]
    groups = defaultdict(list)
    for address, kind, public_id in due.filter(digest=True).values_list(
        "recipient_address", "kind", "public_id"
    )[:batch]:
        groups[(address, kind)].append(str(public_id))
    queued_singles = enqueue(deliver_notification, singles)
    queued_digests = enqueue(deliver_digest, [[ids] for ids in groups.values()])
    if singles or groups:
        logger.info(
            "Sweep queued %d of %d deliveries and %d of %d digests",
            queued_singles,
            len(singles),
            queued_digests,
            len(groups),
        )
    return {"deliveries": queued_singles, "digests": queued_digests}


def notification_retry_now(*, notification: Notification, by) -> bool:
    """Platform staff's "retry now": a fresh set of attempts for the row, queued on commit."""
    return outbox.notification_reset(
        notification=notification, by=by, on_commit=notifications_enqueue
    )
