"""Attempts to reach a referred patient: logging one (the write), reading them (the reads), and
when "unable to contact" may be chosen as the reason to decline.

Only the operator's coordinators (`Permission.REFERRAL_TRIAGE` on the referral) log and read
attempts: they are the ones who ring patients before triage. An attempt that did not reach the
patient counts towards the programme's `contact_attempt_limit`; once that many are logged, the
decline form offers "unable to contact" (before then the reason is not offered, so a referral is
never declined for that without the calls behind it).
"""

import datetime
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone

from accounts.permissions import Permission, has_permission, organisations_granting
from referrals.models import Referral, Status

from .models import ContactAttempt, ContactOutcome

if TYPE_CHECKING:
    from collections.abc import Sequence

    from accounts.models import Organisation, User

# Before the patient is booked: the states in which the centre is trying to reach them.
LOGGABLE_STATES = (Status.SUBMITTED, Status.INFO_REQUESTED, Status.ACCEPTED, Status.WAITLISTED)
DEFAULT_LIMIT = 3
# A clock a few minutes fast on the coordinator's PC is not an attempt "in the future".
CLOCK_SKEW = datetime.timedelta(minutes=5)
OLDEST = datetime.timedelta(days=366)


@dataclass(frozen=True)
class ContactLog:
    """What the referral page, the triage pages and the decline form show and decide from."""

    attempts: list[ContactAttempt]
    limit: int
    can_log: bool

    @property
    def unsuccessful(self) -> int:
        return sum(1 for a in self.attempts if a.outcome != ContactOutcome.SPOKE)

    @property
    def limit_reached(self) -> bool:
        return self.unsuccessful >= self.limit

    @property
    def remaining(self) -> int:
        return max(self.limit - self.unsuccessful, 0)


def can_log_contact(user: "User", referral: Referral) -> bool:
    return referral.status in LOGGABLE_STATES and has_permission(
        user, Permission.REFERRAL_TRIAGE, referral
    )


def contact_limit(referral: Referral) -> int:
    programme = referral.programme
    return programme.contact_attempt_limit if programme is not None else DEFAULT_LIMIT


def contact_log(user: "User", referral: Referral) -> ContactLog | None:
    """The referral's attempts, oldest first, for a coordinator of its operator; None for anyone
    else (they see nothing of it). Two queries: the attempts with who logged them."""
    if not has_permission(user, Permission.REFERRAL_TRIAGE, referral):
        return None
    attempts = list(
        ContactAttempt.objects.filter(referral=referral)
        .select_related("recorded_by")
        .order_by("attempted_at", "id")
    )
    return ContactLog(
        attempts=attempts, limit=contact_limit(referral), can_log=can_log_contact(user, referral)
    )


def unable_to_contact_allowed(referral: Referral) -> bool:
    """Whether the programme's limit of unsuccessful attempts has been logged (one query)."""
    tried = (
        ContactAttempt.objects.filter(referral=referral)
        .exclude(outcome=ContactOutcome.SPOKE)
        .count()
    )
    return tried >= contact_limit(referral)


def unable_to_contact_refusal(referral: Referral) -> str | None:
    """Why "unable to contact" cannot be the reason to decline yet, or None once it can."""
    if unable_to_contact_allowed(referral):
        return None
    return (
        f"'Unable to contact the patient' can be chosen once {contact_limit(referral)} attempts "
        "to reach them are logged"
    )


def contact_attempt_record(
    *,
    referral: Referral,
    by: "User",
    method: str,
    outcome: str,
    attempted_at: datetime.datetime | None = None,
    note: str = "",
) -> ContactAttempt:
    """Log one attempt to reach the patient. Refused (nothing written) for anyone but the
    operator's coordinators, on a referral past booking or ended, and for a time in the future
    or more than a year back."""
    now = timezone.now()
    attempted_at = attempted_at or now
    with transaction.atomic():
        locked = (
            Referral.objects.select_for_update(of=("self",))
            .select_related("operator", "programme")
            .get(pk=referral.pk)
        )
        if not has_permission(by, Permission.REFERRAL_TRIAGE, locked):
            raise PermissionDenied("Only the provider's coordinators log contact attempts.")
        if locked.status not in LOGGABLE_STATES:
            raise ValidationError(
                f"This referral is {locked.get_status_display().lower()}: contact attempts are "
                "logged until the patient is booked."
            )
        if attempted_at > now + CLOCK_SKEW:
            raise ValidationError({"attempted_on": "The attempt cannot be in the future"})
        if attempted_at < now - OLDEST:
            raise ValidationError({"attempted_on": "The attempt must be within the last year"})
        acting_for = next(
            o
            for o in organisations_granting(by, Permission.REFERRAL_TRIAGE)
            if o.pk == locked.operator_id
        )
        attempt = ContactAttempt(
            referral=locked,
            method=method,
            outcome=outcome,
            note=(note or "").strip(),
            attempted_at=attempted_at,
            recorded_by=by,
            organisation=acting_for,
        )
        attempt.full_clean()
        attempt.save()
    return attempt


def contact_attempts_held_by(
    organisation: "Organisation", referrals: "Sequence[Referral]"
) -> dict[int, list[dict[str, Any]]]:
    """For a subject access export: the attempts `organisation` logged on these referrals, by
    referral id, oldest first (one query). A referrer holds none, so it gets none."""
    held: dict[int, list[dict[str, Any]]] = {}
    attempts = (
        ContactAttempt.objects.filter(referral__in=referrals, organisation=organisation)
        .select_related("recorded_by")
        .order_by("attempted_at", "id")
    )
    for attempt in attempts:
        held.setdefault(attempt.referral_id, []).append(
            {
                "attempted_at": timezone.localtime(attempt.attempted_at).isoformat(),
                "method": attempt.get_method_display(),
                "outcome": attempt.get_outcome_display(),
                "note": attempt.note,
                "recorded_by": attempt.recorded_by.get_full_name(),
            }
        )
    return held


def contact_notes_forget(*, referral_ids: "list[int]", **_signal: object) -> int:
    """Clear the notes of the contact log of referrals past retention (connected to
    `governance.retention.referrals_pseudonymised`, so in the same transaction). The method,
    outcome and time stay: they are coded facts, like the timeline's states. The one update
    the log allows."""
    return (
        ContactAttempt.objects.filter(referral_id__in=referral_ids).exclude(note="").update(note="")
    )
