"""Status-update emails: one per update, a daily digest, and overdue-triage reminders.

Every email carries only what the row's payload holds (the opaque referral reference, the new
status, what happened and when) and a link to sign in and read the rest. Never the patient's name,
NHS number, date of birth or any clinical detail: email leaves the portal's control, lands on
shared mailboxes and phones, and is kept for years.

Each message has a Message-ID made from the notification's public id, so a rare second send of
the same notification (a worker dying after the mail server accepted it but before the portal
recorded it) reaches the mailbox as a duplicate that mail systems can recognise.
"""

import uuid
from urllib.parse import urlsplit

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime

from referrals.models import Notification

from .webhook import DeliveryFailed

MESSAGE_ID_NAMESPACE = uuid.UUID("8b0f5a52-3b8e-4b8f-9a1e-0f3d7e3c2a61")


def _absolute(path: str) -> str:
    return f"{settings.PORTAL_BASE_URL}{path}"


def referral_link(reference: str) -> str:
    """Where the email's sign-in link goes: the referral page, which asks the reader to sign in."""
    try:
        return _absolute(reverse("referrals:detail", args=[reference]))
    except NoReverseMatch:
        return _absolute(reverse("account_login"))


def discharge_summary_link(reference: str) -> str:
    try:
        return _absolute(reverse("referral_discharge_summary", args=[reference]))
    except NoReverseMatch:
        return referral_link(reference)


def _message_id(key: str) -> str:
    domain = urlsplit(settings.PORTAL_BASE_URL).hostname or "localhost"
    return f"<{key}@{domain}>"


def _item(notification: Notification) -> dict:
    payload = notification.payload
    reference = payload.get("reference", notification.referral.reference)
    item = {
        "reference": reference,
        "headline": payload.get("headline", ""),
        "status_label": payload.get("status_label", ""),
        "link": referral_link(reference),
    }
    if payload.get("occurred_at"):
        item["occurred_at"] = parse_datetime(payload["occurred_at"])
    if payload.get("submitted_on"):
        item["submitted_on"] = parse_date(payload["submitted_on"])
    if payload.get("summary"):
        item["summary_link"] = discharge_summary_link(reference)
    if payload.get("first_session_at"):
        # A booking: when and where the first session is (the centre and the time only).
        item["first_session_at"] = parse_datetime(payload["first_session_at"])
        item["centre"] = payload.get("centre", "")
    return item


def _send(*, subject: str, template: str, context: dict, to: str, message_key: str) -> None:
    context = {**context, "portal_url": settings.PORTAL_BASE_URL}
    message = EmailMultiAlternatives(
        subject=subject,
        body=render_to_string(f"emails/{template}.txt", context),
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[to],
        headers={"Message-ID": _message_id(message_key)},
    )
    message.attach_alternative(render_to_string(f"emails/{template}.html", context), "text/html")
    try:
        message.send()
    except Exception as error:
        # SMTP errors can quote the conversation; keep the kind of failure only.
        raise DeliveryFailed(f"Email not accepted ({type(error).__name__})") from error


SAFETY_KINDS = frozenset({Notification.Kind.SAFETY_ALERT, Notification.Kind.SAFETY_ESCALATION})


def render_safety_alert(notification: Notification) -> dict:
    """A safety alert to the provider's staff: the reference, the kind of alert and a sign-in
    link. What was found stays in the portal, like every other detail."""
    item = _item(notification)
    escalation = notification.kind == Notification.Kind.SAFETY_ESCALATION
    item["kind_label"] = notification.payload.get("kind_label", "")
    item["severity_label"] = notification.payload.get("severity_label", "")
    if notification.payload.get("raised_at"):
        item["raised_at"] = parse_datetime(notification.payload["raised_at"])
    prefix = "Not yet acknowledged: safety alert" if escalation else "Safety alert"
    return {
        "subject": f"{prefix} for referral {item['reference']}",
        "template": "safety_alert",
        "context": {"item": item, "escalation": escalation},
    }


def render_update(notification: Notification) -> dict:
    if notification.kind in SAFETY_KINDS:
        return render_safety_alert(notification)
    item = _item(notification)
    return {
        "subject": f"Referral {item['reference']}: {item['headline'] or item['status_label']}",
        "template": "status_update",
        "context": {"item": item},
    }


def render_digest(notifications: list[Notification]) -> dict:
    """One email for several due rows to one address; all rows share a kind."""
    items = [_item(n) for n in sorted(notifications, key=lambda n: (n.created_at, n.pk))]
    kind = notifications[0].kind
    count = len(items)
    if kind == Notification.Kind.UPDATE:
        subject = f"Referral Portal: {count} referral update{'s' if count != 1 else ''}"
        template = "status_digest"
    else:
        escalation = kind == Notification.Kind.TRIAGE_ESCALATION
        noun = f"referral{'s' if count != 1 else ''}"
        subject = (
            f"Escalation: {count} {noun} overdue for triage by twice the agreed time"
            if escalation
            else f"Reminder: {count} {noun} overdue for triage"
        )
        template = "triage_reminder"
    organisation = notifications[0].recipient_organisation
    return {
        "subject": subject,
        "template": template,
        "context": {
            "items": items,
            "escalation": kind == Notification.Kind.TRIAGE_ESCALATION,
            "organisation_name": organisation.name,
            "today": timezone.localdate(),
        },
    }


def send_update_email(notification: Notification) -> None:
    rendered = render_update(notification)
    _send(**rendered, to=notification.recipient_address, message_key=str(notification.public_id))


def send_digest_email(notifications: list[Notification]) -> None:
    rendered = render_digest(notifications)
    key = uuid.uuid5(
        MESSAGE_ID_NAMESPACE, ",".join(sorted(str(n.public_id) for n in notifications))
    )
    _send(**rendered, to=notifications[0].recipient_address, message_key=f"digest-{key}")
