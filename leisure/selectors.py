"""What the coordinator works from: the triage worklist and their operators' classes."""

import datetime
from typing import TYPE_CHECKING

from django.db.models import Q, QuerySet

from accounts.models import User
from accounts.permissions import Permission, organisations_granting
from facilities.models import Facility, Programme, ProgrammeClass
from referrals.models import Referral, Status
from referrals.places import classes_with_places
from referrals.selectors import referral_list_for, referrals_matching, referrals_overdue_for_triage

if TYPE_CHECKING:
    from django_stubs_ext import WithAnnotations

    from referrals.places import Places

TRIAGE_STATUSES = (Status.SUBMITTED, Status.INFO_REQUESTED, Status.ACCEPTED, Status.WAITLISTED)


def operators_coordinated_by(user: User) -> list[int]:
    """The operators in which the user may triage (coordinators)."""
    return [o.id for o in organisations_granting(user, Permission.REFERRAL_TRIAGE)]


def triage_worklist(
    user: User,
    *,
    facility: Facility | None = None,
    programme: Programme | None = None,
    status: str = "",
    overdue: bool = False,
    search: str = "",
    today: datetime.date | None = None,
) -> QuerySet[Referral]:
    """Referrals routed to the coordinator's operators that still need them, oldest first."""
    queryset = referral_list_for(user).filter(operator_id__in=operators_coordinated_by(user))
    queryset = (
        queryset.filter(status=status) if status else queryset.filter(status__in=TRIAGE_STATUSES)
    )
    if facility is not None:
        queryset = queryset.filter(
            Q(facility=facility) | Q(facility__isnull=True, preferred_facility=facility)
        )
    if programme is not None:
        queryset = queryset.filter(programme=programme)
    if overdue:
        queryset = referrals_overdue_for_triage(queryset, today=today)
    # Only what a row shows. The order is `referral_worklist_idx`'s (the waiting states, by
    # operator) or `referral_triage_idx`'s (one state), so a page is read off an index.
    return (
        referrals_matching(queryset, search)
        .select_related(None)
        .select_related("patient", "programme", "facility", "preferred_facility")
        .order_by("submitted_at", "id")
    )


def classes_coordinated_by(
    user: User,
) -> "QuerySet[WithAnnotations[ProgrammeClass, Places]]":
    """The coordinator's operators' classes with places taken and the waiting list, one query
    (a page of it counts the places of that page's classes only)."""
    classes = ProgrammeClass.objects.filter(
        programme__operator_id__in=operators_coordinated_by(user)
    ).select_related("programme", "facility")
    return classes_with_places(classes).order_by("facility__name", "weekday", "start_time", "id")
