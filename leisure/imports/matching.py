"""Matching an import's rows to the operator's referrals.

A row is matched to the operator's submitted referrals by membership number, else referral
reference, else NHS number with date of birth (the patient of one of them); among several, the
one open at the visit's time. Another operator's referral never matches: every lookup is
filtered by the importing operator.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from django.db.models import Min, OuterRef, QuerySet, Subquery
from django.utils import timezone

from referrals.models import FINAL_STATES, Referral, ReferralEvent, Status

from .reading import CleanRow

if TYPE_CHECKING:
    from accounts.models import Organisation


@dataclass
class Candidates:
    """The operator's submitted referrals each identifier of a chunk names, newest first, each
    with `accepted_at` (its accept event) annotated: one query per identifier kind."""

    by_number: dict[str, list[Referral]]
    by_reference: dict[str, list[Referral]]
    by_nhs: dict[tuple[str, dt.date], list[Referral]]

    @classmethod
    def find(cls, operator: Organisation, rows: Sequence[CleanRow]) -> Candidates:
        numbers = {row.membership_number for row in rows} - {""}
        references = {row.referral_reference for row in rows} - {""}
        nhs_numbers = {row.nhs_number for row in rows} - {""}
        by_number: dict[str, list[Referral]] = defaultdict(list)
        by_reference: dict[str, list[Referral]] = defaultdict(list)
        by_nhs: dict[tuple[str, dt.date], list[Referral]] = defaultdict(list)
        if numbers:
            for referral in referrals_for_matching(operator).filter(membership_number__in=numbers):
                by_number[referral.membership_number].append(referral)
        if references:
            for referral in referrals_for_matching(operator).filter(reference__in=references):
                by_reference[referral.reference].append(referral)
        if nhs_numbers:
            for referral in referrals_for_matching(operator).filter(
                patient__nhs_number__in=nhs_numbers
            ):
                patient = referral.patient
                by_nhs[(patient.nhs_number or "", patient.date_of_birth)].append(referral)
        return cls(by_number, by_reference, by_nhs)

    def of(self, row: CleanRow) -> list[Referral]:
        if row.membership_number and (found := self.by_number.get(row.membership_number)):
            return found
        if row.referral_reference and (found := self.by_reference.get(row.referral_reference)):
            return found
        if row.nhs_number and row.date_of_birth:
            return self.by_nhs.get((row.nhs_number, row.date_of_birth), [])
        return []


def referrals_for_matching(operator: Organisation) -> QuerySet[Referral]:
    accepted = (
        ReferralEvent.objects.filter(referral=OuterRef("pk"), action="accept")
        .order_by()
        .values("referral")
        .annotate(first=Min("created_at"))
        .values("first")
    )
    return (
        Referral.objects.filter(operator=operator, submitted_at__isnull=False)
        .exclude(status=Status.DRAFT)
        .select_related("patient")
        .only(
            "pk",
            "reference",
            "operator_id",
            "membership_number",
            "status",
            "status_changed_at",
            "submitted_at",
            "patient__nhs_number",
            "patient__date_of_birth",
        )
        .annotate(accepted_at=Subquery(accepted))
        .order_by("-submitted_at", "-pk")
    )


def open_at(found: list[Referral], clean: CleanRow) -> tuple[Referral, str]:
    """The referral (of those found, newest first) that was open when the visit happened, or
    the newest and why it was not."""
    refusals = [(referral, not_open_because(referral, clean)) for referral in found]
    for referral, refusal in refusals:
        if not refusal:
            return referral, ""
    return refusals[0]


def not_open_because(referral: Referral, clean: CleanRow) -> str:
    accepted: dt.datetime | None = getattr(referral, "accepted_at", None)
    ended = referral.status_changed_at if referral.status in FINAL_STATES else None
    if accepted is None:
        if ended is not None:
            return "The referral ended without being accepted: there is no programme to count it"
        return "Before the referral was accepted: a visit counts from the day it is accepted"
    if clean.time_known:
        before = clean.occurred_at < accepted
        after = ended is not None and clean.occurred_at > ended
    else:
        day = clean.occurred_at.date()
        before = day < timezone.localdate(accepted)
        after = ended is not None and day > timezone.localdate(ended)
    if before:
        return (
            f"Before the referral was accepted (on {timezone.localtime(accepted):%d/%m/%Y}): "
            "a visit counts from then"
        )
    if after and ended is not None:
        label = Status(referral.status).label.lower()
        return f"After the referral ended ({label} on {timezone.localtime(ended):%d/%m/%Y})"
    return ""
