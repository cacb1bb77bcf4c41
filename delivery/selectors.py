"""The delivery log shown on a referral page: how each update went out, and how it went."""

import datetime
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from referrals.models import Notification, Referral
from referrals.sections import Viewer

from .notifications import HEADLINES

N = Notification

STATUS_TAG_COLOURS: dict[str, str] = {
    N.DeliveryStatus.PENDING: "blue",
    N.DeliveryStatus.RETRYING: "yellow",
    N.DeliveryStatus.SENT: "green",
    N.DeliveryStatus.DEAD: "red",
    N.DeliveryStatus.WITHHELD: "grey",
}


@dataclass(frozen=True)
class DeliveryLogEntry:
    public_id: str
    update: str
    created_at: datetime.datetime
    channel: str
    recipient: str
    status: str
    status_label: str
    tag_colour: str
    attempts: int
    last_attempt_at: datetime.datetime | None
    next_attempt_at: datetime.datetime
    sent_at: datetime.datetime | None
    last_error: str
    digest: bool

    @property
    def is_waiting(self) -> bool:
        return self.status in {N.DeliveryStatus.PENDING, N.DeliveryStatus.RETRYING}


def _recipient(row: Notification) -> str:
    """Who it went to, without what could be a secret: a webhook shows its host only."""
    if row.channel == N.Channel.WEBHOOK:
        return urlsplit(row.recipient_address).hostname or "webhook"
    return row.recipient_address


def _what(row: Notification) -> str:
    if row.kind == N.Kind.UPDATE:
        return HEADLINES.get(row.event.action, row.event.action)
    return row.get_kind_display()


def delivery_log_for(
    referral: Referral, *, include_reminders: bool = False
) -> list[DeliveryLogEntry]:
    """Email and webhook deliveries for one referral, newest first, in one query.

    In-app updates are left out: they are delivered by being written. Reminders to the
    operator's staff are operator business and only listed when asked for.
    """
    rows = (
        Notification.objects.filter(referral=referral)
        .exclude(channel=N.Channel.IN_APP)
        .select_related("event")
        .order_by("-created_at", "-id")
    )
    if not include_reminders:
        rows = rows.filter(kind=N.Kind.UPDATE)
    return [
        DeliveryLogEntry(
            public_id=str(row.public_id),
            update=_what(row),
            created_at=row.created_at,
            channel=row.get_channel_display() + (" (daily digest)" if row.digest else ""),
            recipient=_recipient(row),
            status=row.status,
            status_label=row.get_status_display(),
            tag_colour=STATUS_TAG_COLOURS[row.status],
            attempts=row.attempts,
            last_attempt_at=row.last_attempt_at,
            next_attempt_at=row.next_attempt_at,
            sent_at=row.sent_at,
            last_error=row.last_error,
            digest=row.digest,
        )
        for row in rows
    ]


def delivery_log_section(viewer: Viewer, referral: Referral) -> dict[str, Any]:
    """On the referral page: what was sent about it; reminders only for the provider's side."""
    return {"delivery_log": delivery_log_for(referral, include_reminders=not viewer.is_referrer)}
