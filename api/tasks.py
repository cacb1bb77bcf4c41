"""Celery tasks of the API."""

from celery import shared_task

from . import idempotency


@shared_task(ignore_result=True)
def idempotency_keys_purge() -> int:
    """Beat, hourly: forget idempotency keys (and the responses they keep) older than a day."""
    return idempotency.keys_purge()
