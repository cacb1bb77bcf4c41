"""Reads for the operator admin's pages: facilities, programmes and classes of one operator.

Views first fetch the operator through `operator_managed_by(user, ...)`, then the object through
the `*_of(operator, ...)` lookups here, so another operator's facility, programme or class is not
found (a 404) whatever its id. List selectors load everything a row shows in a fixed number of
queries.
"""

from typing import TYPE_CHECKING

from django.db.models import Count, OuterRef, Prefetch, Q, QuerySet, Subquery
from django.db.models.functions import Coalesce

from accounts.models import ApiClient, Membership, Organisation, OrganisationKind, Role, User
from accounts.permissions import (
    OPERATOR_ROLES,
    Permission,
    has_permission,
    organisation_ids_with_role,
)
from accounts.selectors import organisations_managed_by

from .models import Facility, Programme, ProgrammeClass

if TYPE_CHECKING:
    from uuid import UUID

    from django.db.models import Model


def operators_managed_by(user: User) -> list[Organisation]:
    """The leisure operators whose facilities, programmes and classes `user` administers."""
    return [
        organisation
        for organisation in organisations_managed_by(user)
        if organisation.kind == OrganisationKind.LEISURE_OPERATOR
    ]


def operator_managed_by(user: User, public_id: "UUID | str") -> Organisation:
    """One leisure operator `user` administers; Organisation.DoesNotExist for anything else."""
    for operator in operators_managed_by(user):
        if str(operator.public_id) == str(public_id):
            return operator
    raise Organisation.DoesNotExist("No operator you manage has that id")


def _count(queryset: "QuerySet[Model]", field: str, counting: str = "pk") -> Coalesce:
    """A correlated COUNT subquery: several counts on one row without multiplying joins."""
    counted = (
        queryset.filter(**{field: OuterRef("pk")})
        .order_by()
        .values(field)
        .annotate(n=Count(counting, distinct=True))
        .values("n")
    )
    return Coalesce(Subquery(counted), 0)


def organisation_summaries(organisations: list[Organisation]) -> list[Organisation]:
    """The organisations with counts of active facilities, programmes, classes and members."""
    if not organisations:
        return []
    counted = Organisation.objects.filter(pk__in=[o.pk for o in organisations]).annotate(
        facility_count=_count(Facility.objects.filter(is_active=True), "operator"),
        programme_count=_count(Programme.objects.filter(is_active=True), "operator"),
        class_count=_count(ProgrammeClass.objects.filter(is_active=True), "programme__operator"),
        # People, not roles: someone who is both coordinator and admin counts once; its
        # systems (API clients) are not people.
        member_count=_count(
            Membership.objects.filter(is_active=True, user__is_active=True).exclude(
                role=Role.SYSTEM
            ),
            "organisation",
            counting="user",
        ),
        api_client_count=_count(ApiClient.objects.filter(revoked_at__isnull=True), "organisation"),
    )
    by_id = {o.pk: o for o in counted}
    return [by_id[o.pk] for o in organisations]


def _instructors() -> Prefetch:
    return Prefetch("instructors", queryset=User.objects.order_by("full_name", "email"))


def facilities_of(operator: Organisation) -> QuerySet[Facility]:
    return (
        Facility.objects.filter(operator=operator)
        .annotate(active_class_count=Count("classes", filter=Q(classes__is_active=True)))
        .prefetch_related(Prefetch("staff", queryset=User.objects.order_by("full_name", "email")))
        .order_by("-is_active", "name")
    )


def facility_of(operator: Organisation, public_id: "UUID | str") -> Facility:
    return Facility.objects.prefetch_related("staff").get(operator=operator, public_id=public_id)


def programmes_of(operator: Organisation) -> QuerySet[Programme]:
    return (
        Programme.objects.filter(operator=operator)
        .annotate(active_class_count=Count("classes", filter=Q(classes__is_active=True)))
        .order_by("-is_active", "name")
    )


def programme_of(operator: Organisation, public_id: "UUID | str") -> Programme:
    return Programme.objects.get(operator=operator, public_id=public_id)


def classes_of(operator: Organisation) -> QuerySet[ProgrammeClass]:
    return (
        ProgrammeClass.objects.filter(programme__operator=operator)
        .select_related("programme", "facility")
        .prefetch_related(_instructors())
        .order_by("-is_active", "facility__name", "weekday", "start_time", "name")
    )


def class_of(operator: Organisation, public_id: "UUID | str") -> ProgrammeClass:
    return (
        ProgrammeClass.objects.select_related("programme", "facility")
        .prefetch_related("instructors")
        .get(programme__operator=operator, public_id=public_id)
    )


def class_choices_for(
    operator: Organisation, *, keep: ProgrammeClass | None = None
) -> tuple[QuerySet[Programme], QuerySet[Facility]]:
    """Programmes and facilities a class may use: the active ones, plus the class's own."""
    programmes = Programme.objects.filter(operator=operator)
    facilities = Facility.objects.filter(operator=operator)
    keep_programme = Q(pk=keep.programme_id) if keep else Q(pk__in=[])
    keep_facility = Q(pk=keep.facility_id) if keep else Q(pk__in=[])
    return (
        programmes.filter(Q(is_active=True) | keep_programme).order_by("name"),
        facilities.filter(Q(is_active=True) | keep_facility).order_by("name"),
    )


def programmes_commissioned_by(user: User) -> QuerySet[Programme]:
    """Programmes funded by the user's commissioner organisations: the one commissioner scope."""
    return Programme.objects.filter(
        commissioners__in=organisation_ids_with_role(user, Role.COMMISSIONER)
    )


# --- What an organisation's people (and systems) can see of the offer ------------------------


def offered_classes() -> QuerySet[ProgrammeClass]:
    """The classes a referrer can refer to: active, of an active programme, at an active
    facility. The referral wizard offers these (`referrals.placements`), less the programmes the
    patient is not eligible for."""
    return ProgrammeClass.objects.filter(
        is_active=True, programme__is_active=True, facility__is_active=True
    )


def _catalogue_scope(user: User, operator_field: str, offered_field: str) -> Q:
    """The operator's own (active or not) for its staff; what is offered for a referrer."""
    scope = Q(**{f"{operator_field}__in": organisation_ids_with_role(user, *OPERATOR_ROLES)})
    if has_permission(user, Permission.REFERRAL_CREATE):
        scope |= Q(pk__in=offered_classes().values(offered_field))
    return scope


def programmes_visible_to(user: User) -> QuerySet[Programme]:
    return Programme.objects.filter(_catalogue_scope(user, "operator_id", "programme_id"))


def facilities_visible_to(user: User) -> QuerySet[Facility]:
    return Facility.objects.filter(_catalogue_scope(user, "operator_id", "facility_id"))


def classes_visible_to(user: User) -> QuerySet[ProgrammeClass]:
    return ProgrammeClass.objects.filter(
        _catalogue_scope(user, "programme__operator_id", "pk")
    ).select_related("programme", "facility")
