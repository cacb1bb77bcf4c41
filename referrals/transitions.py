"""The one way a referral changes state: lock it, check the actor and the version, apply the
state table, write the event, and tell whoever listens (`events.event_recorded`), in one
transaction. `services` (each business action) and `consent` (a withdrawal that ends the
referral) both move referrals through here.
"""

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import ForeignKey
from django.utils import timezone

from accounts.models import Organisation
from accounts.permissions import ROLE_PERMISSIONS, Permission, active_memberships, has_permission
from accounts.validation import check_field_value

from .events import event_recorded
from .models import Referral, ReferralEvent, Session
from .workflow import ACTIONS, ReferralChanged, check_transition

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser
    from django.db.models import Model

    from accounts.models import User


# What every move writes besides its `changes` (`updated_at` is stamped by the save).
MOVED_FIELDS = ("status", "status_changed_at", "version", "updated_at")
# The referrer and their organisation: whom the event's updates go to
# (`delivery.notifications`), so read with the referral rather than after it.
WHO_IS_TOLD = ("referring_organisation", "referring_clinician")


def acting_organisation(
    user: "User", permission: Permission, referral: Referral
) -> Organisation | None:
    """The organisation on whose behalf `user` acts: recorded on the timeline."""
    for membership in active_memberships(user):
        if permission in ROLE_PERMISSIONS[membership.role] and membership.organisation_id in {
            referral.referring_organisation_id,
            referral.operator_id,
        }:
            return membership.organisation
    return None


def refuse_unless(user: "User | AnonymousUser", permission: Permission, obj: "Model") -> None:
    if not has_permission(user, permission, obj):
        raise PermissionDenied("You do not have permission to do that to this referral.")


def copy_state(target: "Model", source: "Model") -> None:
    """Bring the caller's copy up to date so it can be used for the next action, with the related
    rows the source holds (read with it under the lock), so nobody reads them again."""
    for field in source._meta.concrete_fields:
        setattr(target, field.attname, getattr(source, field.attname))
        if isinstance(field, ForeignKey) and field.is_cached(source):
            field.set_cached_value(target, field.get_cached_value(source))


def transition(
    referral: Referral,
    *,
    by: "User",
    action_name: str,
    reason_code: str = "",
    note: str = "",
    changes: dict[str, Any] | None = None,
    validate: Callable[[Referral], None] | None = None,
    then: Callable[[Referral], None] | None = None,
    permission: Permission | None = None,
    related: tuple[str, ...] = (),
) -> ReferralEvent:
    """`permission` replaces the action's own where another rule allows the move: a recorded
    withdrawal of consent ends a referral whoever records it (`referrals/consent.py`).

    `related`: rows `validate`, `changes` or `then` read, fetched with the locked referral."""
    action = ACTIONS[action_name]
    permission = permission or action.permission
    check_field_value(ReferralEvent, "note", note)
    with transaction.atomic():
        locked = (
            Referral.objects.select_for_update(of=("self",))  # the referral's row alone
            .select_related(*WHO_IS_TOLD, *related)
            .get(pk=referral.pk)
        )
        refuse_unless(by, permission, locked)
        if locked.version != referral.version:
            raise ReferralChanged()
        check_transition(locked.status, action)
        if validate is not None:
            validate(locked)
        from_status = locked.status
        now = timezone.now()
        for field, value in (changes or {}).items():
            setattr(locked, field, value(locked) if callable(value) else value)
        locked.status = action.target
        locked.status_changed_at = now
        locked.version += 1
        # Only what the move changes: the UPDATE names a handful of columns, not all of them.
        locked.save(update_fields=[*(changes or {}), *MOVED_FIELDS])
        event = ReferralEvent.objects.create(
            referral=locked,
            action=action.name,
            actor=by,
            actor_organisation=acting_organisation(by, permission, locked),
            from_status=from_status,
            to_status=locked.status,
            reason_code=reason_code,
            note=note,
            created_at=now,
        )
        if then is not None:
            then(locked)
        event_recorded.send(sender=ReferralEvent, event=event)
    copy_state(referral, locked)
    return event


def release_future_sessions(by: "User", attendance: str) -> Callable[[Referral], None]:
    """A referral that ends gives up its future bookings, so registers stop listing the patient."""

    def release(locked: Referral) -> None:
        now = timezone.now()
        locked.sessions.filter(status=Session.Attendance.BOOKED, scheduled_at__gte=now).update(
            status=attendance, logged_by=by, logged_at=now
        )

    return release
