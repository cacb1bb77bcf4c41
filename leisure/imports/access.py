"""Who may import attendance: the operator's coordinators (`Permission.ATTENDANCE_IMPORT`),
checked by every service that changes an import, a mapping or the unmatched queue."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.core.exceptions import PermissionDenied

from accounts.permissions import Permission, has_permission

if TYPE_CHECKING:
    from accounts.models import Organisation, User


def refuse_unless_coordinator(by: User, operator: Organisation) -> None:
    if not has_permission(by, Permission.ATTENDANCE_IMPORT, operator):
        raise PermissionDenied("Only the operator's coordinators import attendance.")
