"""Consent that can be withdrawn (DOMAIN.md, "Consent"): one home for what each purpose stops.

The referral's three flags hold the current state, for queries; every decision is also an
append-only `ConsentRecord` (who recorded it, for which organisation, when and how the patient
said so), written in the same transaction as the flag. Withdrawing:

- *share progress* withholds, in that transaction, every progress update not yet delivered on any
  channel (unread in-app updates included), and no later one is written; delivery checks the flag
  again just before it sends (`delivery/outbox.py`);
- *evaluation use* takes the referral out of the outcome figures (`outcomes/reports.py`) and out of
  any record-level extract (`evaluation_referrals`);
- *the referral itself* ends the referral with a coded reason: cancelled before the first session,
  discharged once it is under way, with future sessions released. An ended referral just records it.
"""

from typing import TYPE_CHECKING, Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils import timezone

from accounts.permissions import (
    OPERATOR_ROLES,
    Permission,
    has_permission,
    organisation_ids_with_role,
    roles_in,
)
from accounts.validation import check_field_value
from clinical.reasons import CancelReason, DischargeReason

from .models import (
    ConsentDecision,
    ConsentMethod,
    ConsentPurpose,
    ConsentRecord,
    Notification,
    Referral,
    ReferralEvent,
    Session,
    Status,
)
from .transitions import acting_organisation, release_future_sessions, transition
from .workflow import ACTIONS, PROGRESS_EVENTS, ReferralChanged, WorkflowError

if TYPE_CHECKING:
    from collections.abc import Callable

    from accounts.models import User

# The referral flag that holds each purpose's current state.
PURPOSE_FLAGS: dict[str, str] = {
    ConsentPurpose.REFERRAL: "consent_referral",
    ConsentPurpose.SHARE_PROGRESS: "consent_share_outcomes",
    ConsentPurpose.EVALUATION: "consent_research",
}
WITHHELD_ON_WITHDRAWAL = "Withheld: consent to share progress with the referrer was withdrawn"
# Methods a person can choose; "with the referral" is only written by the submission itself.
RECORDABLE_METHODS = [c for c in ConsentMethod.choices if c[0] != ConsentMethod.WITH_REFERRAL]


def consent_holds(referral: Referral, purpose: str) -> bool:
    return bool(getattr(referral, PURPOSE_FLAGS[purpose]))


def evaluation_referrals(referrals: QuerySet[Referral]) -> QuerySet[Referral]:
    """The referrals whose data may be used for evaluation: consent given and not withdrawn.

    Every outcome figure and any record-level extract for evaluation reads through this."""
    return referrals.filter(consent_research=True)


def record_consent_at_submission(referral: Referral) -> None:
    """The decisions the referrer recorded on the draft become the first entries of the history.

    Runs inside the submission's transaction (a `then` of `transition`)."""
    ConsentRecord.objects.bulk_create(
        ConsentRecord(
            referral=referral,
            purpose=purpose,
            decision=ConsentDecision.GIVEN
            if consent_holds(referral, purpose)
            else ConsentDecision.NOT_GIVEN,
            method=ConsentMethod.WITH_REFERRAL,
            # By id: the rows themselves are not needed, so not read.
            recorded_by_id=referral.consent_recorded_by_id or referral.referring_clinician_id,
            recorded_by_organisation_id=referral.referring_organisation_id,
            recorded_at=referral.consent_recorded_at or timezone.now(),
        )
        for purpose in PURPOSE_FLAGS
    )


def _check_decision(referral: Referral, purpose: str, decision: str, method: str) -> None:
    errors = {}
    if purpose not in PURPOSE_FLAGS:
        errors["purpose"] = "Choose what the patient's decision is about"
    if method not in dict(RECORDABLE_METHODS):
        errors["method"] = "Choose how the patient told you"
    if decision not in (ConsentDecision.WITHDRAWN, ConsentDecision.GIVEN):
        errors["decision"] = "Choose whether the patient withdrew or gave consent"
    if errors:
        raise ValidationError(errors)
    if referral.status == Status.DRAFT:
        raise WorkflowError("This referral is a draft: change the consent on its consent step.")
    holds = consent_holds(referral, purpose)
    label = ConsentPurpose(purpose).label.lower()
    if decision == ConsentDecision.WITHDRAWN and not holds:
        raise WorkflowError(f"The patient has not consented to {label}: nothing to withdraw.")
    if decision == ConsentDecision.GIVEN:
        if purpose == ConsentPurpose.REFERRAL:
            raise WorkflowError(
                "Consent to the referral cannot be given again: make a new referral."
            )
        if holds:
            raise WorkflowError(f"The patient already consents to {label}.")


def _withhold_progress_not_yet_delivered(referral: Referral) -> int:
    """Every progress update still waiting, on every channel, is withheld in this transaction."""
    N = Notification
    due = N.objects.filter(referral=referral, kind=N.Kind.UPDATE, event__action__in=PROGRESS_EVENTS)
    waiting = due.filter(status__in=(N.DeliveryStatus.PENDING, N.DeliveryStatus.RETRYING))
    unread = due.filter(channel=N.Channel.IN_APP, read_at__isnull=True)
    return (waiting | unread).update(
        status=N.DeliveryStatus.WITHHELD, last_error=WITHHELD_ON_WITHDRAWAL, claimed_until=None
    )


def _end_referral(locked: Referral, *, by: "User", record: "Callable[[Referral], None]") -> None:
    """Withdrawn consent to the referral: cancel it, or discharge it once it is under way."""
    reason: str
    if locked.status in ACTIONS["cancel"].sources:
        action, reason = "cancel", CancelReason.CONSENT_WITHDRAWN
    else:
        action, reason = "discharge", DischargeReason.CONSENT_WITHDRAWN
    release = release_future_sessions(by, Session.Attendance.CANCELLED_PATIENT)

    def then(ended: Referral) -> None:
        release(ended)
        record(ended)

    transition(
        locked,
        by=by,
        action_name=action,
        reason_code=reason,
        permission=Permission.CONSENT_RECORD,
        changes={"consent_referral": False},
        then=then,
    )


def consent_record_decision(
    *,
    referral: Referral,
    by: "User",
    purpose: str,
    decision: str = ConsentDecision.WITHDRAWN,
    method: str,
    note: str = "",
) -> ConsentRecord:
    """Record the patient's decision about one purpose and apply what it stops (module docstring).

    Raises PermissionDenied for someone who may not record consent on this referral,
    ValidationError for bad input and WorkflowError when the decision changes nothing; nothing
    is written then.
    """
    note = (note or "").strip()
    check_field_value(ConsentRecord, "note", note)
    created: list[ConsentRecord] = []

    def record(locked: Referral) -> None:
        created.append(
            ConsentRecord.objects.create(
                referral=locked,
                purpose=purpose,
                decision=decision,
                method=method,
                note=note,
                recorded_by=by,
                recorded_by_organisation=acting_organisation(by, Permission.CONSENT_RECORD, locked),
            )
        )

    with transaction.atomic():
        locked = Referral.objects.select_for_update().get(pk=referral.pk)
        if not has_permission(by, Permission.CONSENT_RECORD, locked):
            raise PermissionDenied("You cannot record consent decisions for this referral.")
        if locked.version != referral.version:
            raise ReferralChanged()
        _check_decision(locked, purpose, decision, method)
        ends_referral = purpose == ConsentPurpose.REFERRAL and not locked.is_final
        if ends_referral:
            _end_referral(locked, by=by, record=record)
        else:
            setattr(locked, PURPOSE_FLAGS[purpose], decision == ConsentDecision.GIVEN)
            locked.version += 1
            locked.save(update_fields=[PURPOSE_FLAGS[purpose], "version", "updated_at"])
            record(locked)
        if purpose == ConsentPurpose.SHARE_PROGRESS and decision == ConsentDecision.WITHDRAWN:
            _withhold_progress_not_yet_delivered(locked)
        locked.refresh_from_db()
    for field in locked._meta.concrete_fields:
        setattr(referral, field.attname, getattr(locked, field.attname))
    return created[0]


def open_decisions(referral: Referral) -> list[tuple[str, str]]:
    """The decisions that would change something now, as ("<decision>:<purpose>", label)."""
    W, G = ConsentDecision.WITHDRAWN, ConsentDecision.GIVEN
    ends = (
        "The referral has ended; this records the decision."
        if referral.is_final
        else "This ends the referral: it is cancelled, or discharged once sessions have started."
    )
    labels = {
        (W, ConsentPurpose.REFERRAL): f"Withdraw consent to the referral. {ends}",
        (W, ConsentPurpose.SHARE_PROGRESS): (
            "Withdraw consent to share progress with the referrer. "
            "Updates not yet sent are stopped, and no more are sent."
        ),
        (W, ConsentPurpose.EVALUATION): (
            "Withdraw consent to evaluation use. The referral leaves the outcome figures."
        ),
        (G, ConsentPurpose.SHARE_PROGRESS): (
            "Give consent to share progress with the referrer, from now on"
        ),
        (G, ConsentPurpose.EVALUATION): "Give consent to evaluation use",
    }
    if referral.status == Status.DRAFT:
        return []
    return [
        (f"{decision}:{purpose}", label)
        for (decision, purpose), label in labels.items()
        if consent_holds(referral, purpose) == (decision == W)
    ]


def consent_history(referral: Referral) -> list[ConsentRecord]:
    """Every decision on the referral, oldest first, with who recorded it (one query)."""
    return list(
        referral.consents.select_related("recorded_by", "recorded_by_organisation").order_by(
            "recorded_at", "id"
        )
    )


def consent_state(
    referral: Referral, history: list[ConsentRecord] | None = None
) -> list[dict[str, Any]]:
    """The current decision per purpose, for the summary both sides see."""
    latest: dict[str, ConsentRecord] = {}
    for entry in consent_history(referral) if history is None else history:
        latest[entry.purpose] = entry
    return [
        {
            "purpose": purpose,
            "label": ConsentPurpose(purpose).label,
            "holds": consent_holds(referral, purpose),
            "latest": latest.get(purpose),
        }
        for purpose in PURPOSE_FLAGS
    ]


def can_see_progress(user: "User", referral: Referral) -> bool:
    """For a referral the user can already see: the operator's staff always; the referrer only
    while the patient's consent to share progress stands."""
    if referral.operator is not None and roles_in(user, referral.operator) & OPERATOR_ROLES:
        return True
    return referral.shares_progress


def progress_visible_to(user: "User", relation: str = "") -> Q:
    """`can_see_progress` for many referrals at once, as a filter on `Referral` (or through
    `relation`, e.g. "referral__"): the operator's staff always, the referrer with consent."""
    operators = organisation_ids_with_role(user, *OPERATOR_ROLES)
    return Q(**{f"{relation}operator_id__in": operators}) | Q(
        **{f"{relation}consent_share_outcomes": True}
    )


def timeline_visible_to(user: "User") -> Q:
    """The timeline entries `user` sees of a referral they can see, as a filter on
    `ReferralEvent`: the referral's moves always; the sessions, assessments, alerts and
    corrections behind them only with `can_see_progress`. The referral page and the API's
    events feed both read it."""
    return Q(kind=ReferralEvent.Kind.TRANSITION) | progress_visible_to(user, "referral__")


def may_tell_referrer(action: str, shares_progress: bool) -> bool:
    """The progress-consent rule, for every channel: an event about the patient's progress
    (`PROGRESS_EVENTS`) reaches the referrer only while consent to share progress stands."""
    return action not in PROGRESS_EVENTS or shares_progress
