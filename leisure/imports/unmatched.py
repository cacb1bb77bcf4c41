"""The coordinator's queue of unmatched rows: rows of an import nobody matched, queued once per
operator and row key, each resolved by a coordinator choosing the referral
(`unmatched_resolve`)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from referrals.models import Referral, Visit
from referrals.models import VisitSource as VisitSourceChoices
from referrals.visits import MatchedVisit, visits_record_matched

from ..models import ImportRowKind, ImportRowProblem
from .access import refuse_unless_coordinator
from .matching import not_open_because, referrals_for_matching
from .reading import CleanRow
from .reading import Status as RowStatus

if TYPE_CHECKING:
    from accounts.models import Organisation, User


def unmatched_queue(operator: Organisation) -> QuerySet[ImportRowProblem]:
    """The operator's unmatched rows nobody has resolved, oldest visit first."""
    return ImportRowProblem.objects.filter(
        operator=operator, kind=ImportRowKind.UNMATCHED, resolved_at__isnull=True
    ).order_by("occurred_at", "pk")


def unmatched_resolve(*, row: ImportRowProblem, referral: Referral, by: User) -> Visit:
    """Record the unmatched row's visit on `referral`, chosen by a coordinator of the operator:
    the operator's own, open at the visit's time. Resolving twice is refused."""
    with transaction.atomic():
        locked = ImportRowProblem.objects.select_for_update().get(pk=row.pk)
        operator = locked.operator
        refuse_unless_coordinator(by, operator)
        if locked.kind != ImportRowKind.UNMATCHED:
            raise ValidationError("Only an unmatched row is resolved by choosing a referral")
        if locked.resolved_at is not None:
            raise ValidationError("This row has been resolved already")
        if referral.operator_id != operator.pk:
            raise PermissionDenied("That referral is not one of your organisation's.")
        chosen = referrals_for_matching(operator).get(pk=referral.pk)
        if locked.occurred_at is None:  # cleared by retention: nothing left to record
            raise ValidationError("This row's details have been cleared under the retention policy")
        clean = CleanRow(
            number=locked.row_number,
            occurred_at=locked.occurred_at,
            time_known=locked.time_known,
            membership_number=locked.membership_number,
            referral_reference=locked.referral_reference,
            nhs_number=locked.nhs_number,
            date_of_birth=locked.date_of_birth,
            activity=locked.activity,
            status=RowStatus.ATTENDED,
        )
        refusal = not_open_because(chosen, clean)
        if refusal:
            raise ValidationError({"referral": [refusal]})
        visits_record_matched(
            operator=operator,
            by=by,
            visits=[
                MatchedVisit(
                    event_id=locked.row_key,
                    occurred_at=locked.occurred_at,
                    referral=chosen,
                    membership_number=locked.membership_number,
                    activity=locked.activity,
                )
            ],
        )
        locked.resolved_referral, locked.resolved_by = chosen, by
        locked.resolved_at = timezone.now()
        locked.save(update_fields=["resolved_referral", "resolved_by", "resolved_at"])
        visit = Visit.objects.get(
            operator=operator, source=VisitSourceChoices.IMPORT, source_event_id=locked.row_key
        )
    _copy_resolution(row, locked)
    return visit


def _copy_resolution(target: ImportRowProblem, source: ImportRowProblem) -> None:
    for name in ("resolved_referral_id", "resolved_by_id", "resolved_at"):
        setattr(target, name, getattr(source, name))
