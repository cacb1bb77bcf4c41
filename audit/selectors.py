"""Reads of the audit trail: who viewed a referral, and the audit search."""

import datetime

from django.db.models import QuerySet
from django.utils import timezone

from accounts.models import Role
from accounts.permissions import active_memberships

from .models import AccessRecord

WHO_VIEWED_LIMIT = 20


def who_viewed(referral, *, limit: int = WHO_VIEWED_LIMIT) -> tuple[list[AccessRecord], int]:
    """The newest views of this referral by people (not the system), and how many there are."""
    views = AccessRecord.objects.filter(
        referral_ids__contains=[referral.pk], user__isnull=False
    ).select_related("user")
    rows = list(views[:limit])
    total = len(rows) if len(rows) < limit else views.count()
    return rows, total


def audit_organisations_for(user) -> list:
    """Organisations whose staff's reads this user may search (admins: their own)."""
    return [m.organisation for m in active_memberships(user) if m.role == Role.ORG_ADMIN]


def access_records_visible_to(user) -> QuerySet[AccessRecord]:
    """Platform staff see every record; an organisation admin the records of their own
    organisation's staff acting for it; anyone else nothing."""
    records = AccessRecord.objects.select_related("user")
    if user.is_staff:
        return records
    organisations = audit_organisations_for(user)
    if not organisations:
        return records.none()
    return records.filter(organisation__in=organisations)


def access_records_search(
    user,
    *,
    person: str = "",
    referral=None,
    date_from: datetime.date | None = None,
    date_to: datetime.date | None = None,
    kind: str = "",
) -> QuerySet[AccessRecord]:
    records = access_records_visible_to(user)
    if person:
        records = records.filter(user__email__iexact=person) | records.filter(
            user__full_name__icontains=person
        )
    if referral is not None:
        records = records.filter(referral_ids__contains=[referral.pk])
    if date_from:
        start = timezone.make_aware(datetime.datetime.combine(date_from, datetime.time.min))
        records = records.filter(at__gte=start)
    if date_to:
        end = timezone.make_aware(
            datetime.datetime.combine(date_to + datetime.timedelta(days=1), datetime.time.min)
        )
        records = records.filter(at__lt=end)
    if kind:
        records = records.filter(kind=kind)
    return records.order_by("-at", "-id")
