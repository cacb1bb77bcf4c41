"""Celery tasks: thin wrappers that take ids and call the delivery code, safe to run twice.

Delivery retries are not Celery retries: the next attempt is a time on the outbox row, found by the
sweep, so it survives a broker or worker outage (a retry message sitting in Redis would not).
What is declared here is how a task may behave: acknowledged only when done, requeued if the
worker dies, and time limits that end a stuck send before the row's lease runs out.
"""

from celery import shared_task
from django.conf import settings
from django.utils import timezone

from referrals.delivery import outbox, reminders

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


@shared_task(**DELIVERY_TASK_OPTIONS)
def notifications_sweep() -> dict:
    """Beat, every PORTAL_DELIVERY_SWEEP_SECONDS: queue everything due and undelivered."""
    return outbox.notifications_sweep()


@shared_task(**DELIVERY_TASK_OPTIONS)
def triage_reminders_queue() -> int:
    """Beat, daily: write today's overdue-triage reminders and escalations."""
    return reminders.triage_reminders_queue()


@shared_task(acks_late=True, ignore_result=True, soft_time_limit=3300, time_limit=3600)
def retention_run() -> dict:
    """Beat, daily: apply the retention rule. Safe to run twice: done work is not redone."""
    from referrals import retention

    return retention.retention_apply(retention.retention_plan(timezone.now())).as_dict()
