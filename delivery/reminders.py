"""Reminders and escalations to the operator's staff: overdue triage, and safety alerts.

**Overdue triage.** Once a day (Celery beat) every referral waiting on triage past its
programme's service level gets a reminder row for each coordinator at its operator; past twice
the service level, also an escalation row for each of the operator's organisation admins. The
rows are outbox rows like any other, marked for the digest so each person gets one email listing
all their overdue references, and keyed by the day, so a second run on the same day (beat
restarted, a task redelivered) adds nothing: nobody is reminded twice a day.

**Safety alerts** (`referrals/alerts.py`). When one is raised, an email row for each of the
operator's coordinators and for its safety mailbox, written in the alert's transaction (connected
to `referrals.events.event_recorded`) and sent at once. An alert still open
`PORTAL_ALERT_ESCALATE_HOURS` after it was raised goes to the operator's organisation admins and
the safety mailbox, once: the beat job marks it `escalated_at` in the transaction that writes the
rows. Each email carries the reference, the kind of alert and a sign-in link, never who the
patient is or what was found.

Follow-up reminders for outcome measures belong to the outcomes issue, which knows what is due.
"""

import datetime
from collections.abc import Iterable
from functools import partial
from typing import TYPE_CHECKING, Any, cast

from django.conf import settings
from django.db import transaction
from django.db.models import OuterRef, Q, QuerySet, Subquery
from django.utils import timezone

from accounts.models import Membership, Role
from facilities.models import Programme
from referrals.alerts import RAISED
from referrals.models import Alert, Notification, Referral, ReferralEvent, Status
from referrals.selectors import referrals_overdue_for_triage
from referrals.working_days import add_working_days

if TYPE_CHECKING:
    from accounts.models import User

N = Notification
# Alerts escalated per run: a backlog is worked through a batch at a time, oldest first.
ESCALATION_BATCH = 500


def referrals_overdue_twice_the_sla(
    queryset: QuerySet[Referral], today: datetime.date
) -> QuerySet[Referral]:
    """Submitted referrals not actioned within twice their programme's triage SLA.

    The same rule as `referrals_overdue_for_triage`, with the number of working days doubled.
    """
    overdue = Q(pk__in=[])
    for days in Programme.objects.values_list("triage_sla_days", flat=True).distinct():
        cutoff = add_working_days(today + datetime.timedelta(days=1), -(2 * days + 1))
        overdue |= Q(programme__triage_sla_days=days, submitted_at__date__lt=cutoff)
    return queryset.filter(status=Status.SUBMITTED).filter(overdue)


def _with_submission_event(queryset: QuerySet[Referral]) -> QuerySet[Referral]:
    """Each referral with the event that started its wait (the latest move into submitted)."""
    latest = (
        ReferralEvent.objects.filter(referral=OuterRef("pk"), to_status=Status.SUBMITTED)
        .order_by("-created_at", "-id")
        .values("pk")[:1]
    )
    return queryset.annotate(waiting_since_event_id=Subquery(latest)).select_related("operator")


def _people(operator_ids: Iterable[int | None], role: str) -> dict[int, list["User"]]:
    people: dict[int, list[User]] = {}
    memberships = Membership.objects.filter(
        organisation_id__in=[o for o in operator_ids if o is not None],
        role=role,
        is_active=True,
        user__is_active=True,
    ).select_related("user")
    for membership in memberships:
        people.setdefault(membership.organisation_id, []).append(membership.user)
    return people


def _rows(
    referrals: Iterable[Referral],
    role: str,
    kind: str,
    today: datetime.date,
    now: datetime.datetime,
) -> list[Notification]:
    # `waiting_since_event_id` is annotated by `_with_submission_event`.
    referrals = [r for r in referrals if r.waiting_since_event_id is not None]  # type: ignore[attr-defined]
    recipients = _people({r.operator_id for r in referrals}, role)
    rows = []
    for referral in referrals:
        operator_id = referral.operator_id
        if operator_id is None:  # submitted referrals have one; nobody to remind otherwise
            continue
        for person in recipients.get(operator_id, []):
            rows.append(
                Notification(
                    referral=referral,
                    event_id=referral.waiting_since_event_id,  # type: ignore[attr-defined]
                    kind=kind,
                    channel=N.Channel.EMAIL,
                    digest=True,
                    dedup_key=today.isoformat(),
                    recipient_organisation_id=operator_id,
                    recipient_user=person,
                    recipient_address=person.email,
                    payload={
                        "reference": referral.reference,
                        # cast: a submitted referral has its submission time.
                        "submitted_on": timezone.localdate(
                            cast(datetime.datetime, referral.submitted_at)
                        ).isoformat(),
                    },
                    next_attempt_at=now,
                )
            )
    return rows


def triage_reminders_queue(today: datetime.date | None = None) -> int:
    """Write today's reminder and escalation rows; the sweep sends them. Returns rows written."""
    now = timezone.now()
    today = today or timezone.localdate(now)
    submitted = Referral.objects.all()
    overdue = _with_submission_event(referrals_overdue_for_triage(submitted, today=today))
    very_overdue = _with_submission_event(referrals_overdue_twice_the_sla(submitted, today))
    rows = _rows(overdue, Role.COORDINATOR, N.Kind.TRIAGE_REMINDER, today, now)
    rows += _rows(very_overdue, Role.ORG_ADMIN, N.Kind.TRIAGE_ESCALATION, today, now)
    before = Notification.objects.filter(dedup_key=today.isoformat()).count()
    Notification.objects.bulk_create(rows, ignore_conflicts=True)
    return Notification.objects.filter(dedup_key=today.isoformat()).count() - before


# --- Safety alerts -----------------------------------------------------------------------------


def _alert_payload(alert: Alert) -> dict[str, Any]:
    """What an alert email says: no name, no NHS number, not what was found."""
    return {
        "reference": alert.referral.reference,
        "alert": str(alert.public_id),
        "kind": alert.kind,
        "kind_label": alert.get_kind_display(),
        "severity": alert.severity,
        "severity_label": alert.get_severity_display(),
        "raised_at": alert.raised_at.isoformat(),
    }


def _alert_rows(
    alert: Alert, people: list["User"], kind: str, now: datetime.datetime
) -> list[Notification]:
    """One email row for each person and for the operator's safety mailbox (once per address)."""
    operator = alert.referral.operator
    if operator is None:
        return []
    recipients: dict[str, User | None] = {}
    for person in people:
        if person.email:
            recipients.setdefault(person.email.lower(), person)
    if operator.safety_mailbox:
        recipients.setdefault(operator.safety_mailbox.lower(), None)
    payload = _alert_payload(alert)
    return [
        Notification(
            referral=alert.referral,
            event_id=alert.event_id,
            kind=kind,
            channel=N.Channel.EMAIL,
            recipient_organisation=operator,
            recipient_user=person,
            recipient_address=person.email if person else operator.safety_mailbox,
            payload=payload,
            next_attempt_at=now,
        )
        for person in recipients.values()
    ]


def _queue_at_commit(public_ids: list[str]) -> None:
    # `tasks` imports this module, so it is imported when needed rather than at the top.
    from .tasks import notifications_enqueue

    notifications_enqueue(public_ids)


def safety_alert_notifications_for_event(
    event: ReferralEvent, alert: Alert | None = None, **_signal: Any
) -> list[Notification]:
    """Email a newly raised alert to the operator's coordinators and safety mailbox, at once.

    Connected to `referrals.events.event_recorded`, so it runs in the alert's transaction; the
    rows are queued for delivery when it commits (and the sweep picks up any the broker missed).
    """
    if event.action != RAISED or alert is None or alert.referral.operator_id is None:
        return []
    operator_id = alert.referral.operator_id
    coordinators = _people([operator_id], Role.COORDINATOR).get(operator_id, [])
    created = Notification.objects.bulk_create(
        _alert_rows(alert, coordinators, N.Kind.SAFETY_ALERT, timezone.now())
    )
    if created:
        transaction.on_commit(
            partial(_queue_at_commit, [str(row.public_id) for row in created]), robust=True
        )
    return created


def alerts_due_for_escalation(now: datetime.datetime) -> QuerySet[Alert]:
    """Open alerts raised at least PORTAL_ALERT_ESCALATE_HOURS ago and not yet escalated."""
    cutoff = now - datetime.timedelta(hours=settings.PORTAL_ALERT_ESCALATE_HOURS)
    return Alert.objects.filter(
        acknowledged_at__isnull=True, escalated_at__isnull=True, raised_at__lte=cutoff
    )


def safety_alerts_escalate(now: datetime.datetime | None = None) -> list[str]:
    """Escalate each alert nobody acknowledged in time to the operator's organisation admins and
    safety mailbox, once. Returns the public ids of the rows written, for the task to queue.

    The alerts are locked (skipping any another run holds) and marked escalated in the
    transaction that writes their rows, so two runs at once or one run twice escalate each alert
    exactly once.
    """
    now = now or timezone.now()
    with transaction.atomic():
        due = list(
            alerts_due_for_escalation(now)
            .select_for_update(skip_locked=True, of=("self",))
            .select_related("referral__operator")
            .order_by("raised_at", "id")[:ESCALATION_BATCH]
        )
        if not due:
            return []
        admins = _people({alert.referral.operator_id for alert in due}, Role.ORG_ADMIN)
        rows: list[Notification] = []
        for alert in due:
            people = admins.get(alert.referral.operator_id or 0, [])
            rows += _alert_rows(alert, people, N.Kind.SAFETY_ESCALATION, now)
        created = Notification.objects.bulk_create(rows)
        Alert.objects.filter(pk__in=[alert.pk for alert in due]).update(escalated_at=now)
    return [str(row.public_id) for row in created]
