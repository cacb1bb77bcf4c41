"""Queries shared by pages, the API and exports; above all, which referrals a user may see."""

import datetime

from django.db.models import Count, Q, QuerySet
from django.utils import timezone

from accounts.models import Role
from accounts.permissions import active_memberships, staffed_facility_ids
from facilities.models import Programme

from .models import Referral, Status
from .working_days import add_working_days


def referrals_visible_to(user) -> QuerySet[Referral]:
    """Every referral `user` may see, by role and organisation; the start of every referral list.

    Referrers see their organisation's referrals (drafts included); coordinators see what was
    submitted to their operator; instructors see their operator's referrals assigned to a facility
    they work at. Commissioners and organisation admins see no individual referrals.
    """
    scope = Q(pk__in=[])
    for membership in active_memberships(user):
        if membership.role == Role.REFERRER:
            scope |= Q(referring_organisation_id=membership.organisation_id)
        elif membership.role == Role.COORDINATOR:
            scope |= Q(operator_id=membership.organisation_id) & ~Q(status=Status.DRAFT)
        elif membership.role == Role.INSTRUCTOR:
            scope |= Q(
                operator_id=membership.organisation_id, facility_id__in=staffed_facility_ids(user)
            ) & ~Q(status=Status.DRAFT)
    return Referral.objects.filter(scope)


def referral_list_for(user) -> QuerySet[Referral]:
    """The visible referrals with what a list row shows, in a constant number of queries."""
    return referrals_visible_to(user).select_related(
        "patient", "programme", "referring_organisation", "operator", "facility"
    )


def referral_for_user(user, reference: str) -> Referral:
    """One referral by public reference; Referral.DoesNotExist when the user may not see it."""
    return referral_list_for(user).get(reference=reference)


def referral_status_counts(queryset: QuerySet[Referral]) -> list[dict]:
    """How many referrals are in each state, in lifecycle order, for aggregate-only views."""
    counts = dict(queryset.order_by().values_list("status").annotate(n=Count("id")))
    return [
        {"status": status, "label": label, "count": counts.get(status, 0)}
        for status, label in Status.choices
    ]


def referrals_commissioned_by(user) -> QuerySet[Referral]:
    """Referrals to programmes the user's commissioner organisations fund: for aggregates only."""
    organisation_ids = [
        m.organisation_id for m in active_memberships(user) if m.role == Role.COMMISSIONER
    ]
    # A subquery rather than a join: a programme funded by two of the user's organisations
    # must still count each referral once. Drafts are the referrer's own business.
    programmes = Programme.objects.filter(commissioners__in=organisation_ids).values("pk")
    return Referral.objects.filter(programme__in=programmes).exclude(status=Status.DRAFT)


def referrals_overdue_for_triage(queryset: QuerySet[Referral], today=None) -> QuerySet[Referral]:
    """Submitted referrals not actioned within their programme's SLA in working days.

    One condition per distinct SLA length keeps this a single SQL query whatever the list size.
    """
    today = today or timezone.localdate()
    sla_lengths = Programme.objects.values_list("triage_sla_days", flat=True).distinct()
    overdue = Q(pk__in=[])
    for days in sla_lengths:
        # The (days+1)th working day back from today, counting today: submitted before it means
        # more than `days` working days have passed (working_days_between(submitted, today)).
        cutoff = add_working_days(today + datetime.timedelta(days=1), -(days + 1))
        overdue |= Q(programme__triage_sla_days=days, submitted_at__date__lt=cutoff)
    return queryset.filter(status=Status.SUBMITTED).filter(overdue)
