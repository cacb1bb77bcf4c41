"""Celery tasks of information governance."""

from celery import shared_task
from django.utils import timezone

from . import retention


@shared_task(acks_late=True, ignore_result=True, soft_time_limit=3300, time_limit=3600)
def retention_run() -> dict:
    """Beat, daily: apply the retention rule. Safe to run twice: done work is not redone."""
    return retention.retention_apply(retention.retention_plan(timezone.now())).as_dict()
