"""Reads of the audit trail: who viewed a referral, and the audit search."""

import datetime
from dataclasses import dataclass
from typing import TYPE_CHECKING

from django.contrib.auth import get_user_model
from django.db.models import Count, Max, Min, QuerySet
from django.utils import timezone

from accounts.models import Role
from accounts.permissions import organisations_with_role

from .models import AccessRecord

if TYPE_CHECKING:
    from django.db.models import Model

    from accounts.models import Organisation, User

WHO_VIEWED_LIMIT = 20


@dataclass(frozen=True)
class Viewer:
    """One person, acting for one organisation in one role, and when they viewed the record."""

    user: object
    organisation_name: str
    role: str
    first_at: datetime.datetime
    last_at: datetime.datetime
    views: int

    @property
    def role_label(self) -> str:
        return AccessRecord(role=self.role).role_label


def who_viewed(referral: "Model", *, limit: int = WHO_VIEWED_LIMIT) -> tuple[list[Viewer], int]:
    """The people (not the system) who viewed this referral, most recent first, one row per
    person, organisation and role (a draft's six steps are one viewer, not six), and how many
    such viewers there are. Three queries whatever the number of views."""
    grouped = (
        AccessRecord.objects.filter(referral_ids__contains=[referral.pk], user__isnull=False)
        .values("user_id", "organisation_name", "role")
        .annotate(first_at=Min("at"), last_at=Max("at"), views=Count("id"))
        .order_by("-last_at", "user_id")
    )
    rows = list(grouped[:limit])
    total = len(rows) if len(rows) < limit else grouped.count()
    users = get_user_model().objects.in_bulk({row["user_id"] for row in rows})
    viewers = [
        Viewer(
            user=users[row["user_id"]],
            organisation_name=row["organisation_name"],
            role=row["role"],
            first_at=row["first_at"],
            last_at=row["last_at"],
            views=row["views"],
        )
        for row in rows
    ]
    return viewers, total


def audit_organisations_for(user: "User") -> "list[Organisation]":
    """Organisations whose staff's reads this user may search (admins: their own)."""
    return organisations_with_role(user, Role.ORG_ADMIN)


def access_records_visible_to(user: "User") -> QuerySet[AccessRecord]:
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
    user: "User",
    *,
    person: str = "",
    referral: "Model | None" = None,
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
