"""Overdue-triage reminders to coordinators, and escalation to the operator's admins.

Once a day (Celery beat) every referral waiting on triage past its programme's service level gets
a reminder row for each coordinator at its operator; past twice the service level, also an
escalation row for each of the operator's organisation admins. The rows are outbox rows like any
other, marked for the digest so each person gets one email listing all their overdue references,
and keyed by the day, so a second run on the same day (beat restarted, a task redelivered) adds
nothing: nobody is reminded twice a day.

Follow-up reminders for outcome measures belong to the outcomes issue, which knows what is due.
"""

import datetime

from django.db.models import OuterRef, Q, QuerySet, Subquery
from django.utils import timezone

from accounts.models import Membership, Role
from facilities.models import Programme
from referrals.models import Notification, Referral, ReferralEvent, Status
from referrals.selectors import referrals_overdue_for_triage
from referrals.working_days import add_working_days

N = Notification


def referrals_overdue_twice_the_sla(queryset: QuerySet[Referral], today) -> QuerySet[Referral]:
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


def _people(operator_ids, role) -> dict[int, list]:
    people = {}
    memberships = Membership.objects.filter(
        organisation_id__in=operator_ids, role=role, is_active=True, user__is_active=True
    ).select_related("user")
    for membership in memberships:
        people.setdefault(membership.organisation_id, []).append(membership.user)
    return people


def _rows(referrals, role, kind, today, now) -> list[Notification]:
    referrals = [r for r in referrals if r.waiting_since_event_id is not None]
    recipients = _people({r.operator_id for r in referrals}, role)
    rows = []
    for referral in referrals:
        for person in recipients.get(referral.operator_id, []):
            rows.append(
                Notification(
                    referral=referral,
                    event_id=referral.waiting_since_event_id,
                    kind=kind,
                    channel=N.Channel.EMAIL,
                    digest=True,
                    dedup_key=today.isoformat(),
                    recipient_organisation_id=referral.operator_id,
                    recipient_user=person,
                    recipient_address=person.email,
                    payload={
                        "reference": referral.reference,
                        "submitted_on": timezone.localdate(referral.submitted_at).isoformat(),
                    },
                    next_attempt_at=now,
                )
            )
    return rows


def triage_reminders_queue(today=None) -> int:
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
