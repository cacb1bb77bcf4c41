"""A class's occupancy: the one definition of who holds a place, who waits, and what is free.

Lists annotate many classes in one query (`classes_with_places`); the booking services count the
same referrals under a row lock (`holding_places`), so a list and a booking never disagree.
"""

from typing import TYPE_CHECKING, TypedDict

from django.db.models import Count, IntegerField, OuterRef, Q, QuerySet, Subquery, Value
from django.db.models.functions import Coalesce

from facilities.models import ProgrammeClass

from .models import Referral, Status
from .workflow import PLACE_HOLDERS

if TYPE_CHECKING:
    from collections.abc import Iterable

    from django_stubs_ext import WithAnnotations

    class Places(TypedDict):
        """What `classes_with_places` adds to each class."""

        taken: int
        waiting: int


def holding_places(programme_class_id: int) -> QuerySet[Referral]:
    """The referrals holding a place in the class (accepted, booked or under way)."""
    return Referral.objects.filter(programme_class_id=programme_class_id, status__in=PLACE_HOLDERS)


def places_free(capacity: int, taken: int) -> int:
    return max(capacity - taken, 0)


def _referrals_in_class(*statuses: str) -> Coalesce:
    """How many of the outer class's referrals are in `statuses`, as a correlated subquery."""
    counted = (
        Referral.objects.filter(programme_class=OuterRef("pk"), status__in=statuses)
        .order_by()
        .values("programme_class")
        .annotate(n=Count("pk"))
        .values("n")
    )
    return Coalesce(Subquery(counted, output_field=IntegerField()), Value(0))


def classes_with_places(
    queryset: QuerySet[ProgrammeClass],
) -> "QuerySet[WithAnnotations[ProgrammeClass, Places]]":
    """Annotate classes with `taken` (referrals holding a place) and `waiting` (waiting list).

    Counted per class by subqueries that read only the referrals still in a class
    (`referral_in_class_idx`), never joined to every referral a class ever had: a class keeps
    its history for years, and a list of a page of classes then costs that page alone.
    """
    return queryset.annotate(
        taken=_referrals_in_class(*PLACE_HOLDERS),
        waiting=_referrals_in_class(Status.WAITLISTED),
    )


def free_places_by_class(class_ids: "Iterable[int]") -> dict[int, int]:
    """Places free in each class (capacity minus referrals holding a place), in one query."""
    classes = (
        ProgrammeClass.objects.filter(id__in=list(class_ids))
        .order_by()
        .annotate(taken=_referrals_in_class(*PLACE_HOLDERS))
    )
    return {c.id: places_free(c.capacity, c.taken) for c in classes}


def class_participants(programme_class: ProgrammeClass) -> tuple[list[Referral], list[Referral]]:
    """Who holds a place in the class, and the waiting list in queue order."""
    referrals = (
        Referral.objects.filter(
            programme_class=programme_class,
            status__in=[*PLACE_HOLDERS, Status.WAITLISTED],
        )
        .select_related("patient")
        .order_by("status_changed_at", "id")
    )
    holding = [r for r in referrals if r.status != Status.WAITLISTED]
    waiting = [r for r in referrals if r.status == Status.WAITLISTED]
    holding.sort(key=lambda r: (r.patient.family_name, r.patient.given_name))
    return holding, waiting


def waitlist_queue_length(programme_class: ProgrammeClass) -> int:
    return Referral.objects.filter(
        programme_class=programme_class, status=Status.WAITLISTED
    ).count()


def waitlist_position(referral: Referral) -> int | None:
    """1 for the next in line for the class, or None when the referral is not waiting."""
    if referral.status != Status.WAITLISTED or referral.programme_class_id is None:
        return None
    ahead = Referral.objects.filter(
        programme_class_id=referral.programme_class_id,
        status=Status.WAITLISTED,
    ).filter(
        Q(status_changed_at__lt=referral.status_changed_at)
        | Q(status_changed_at=referral.status_changed_at, id__lt=referral.id)
    )
    return ahead.count() + 1
