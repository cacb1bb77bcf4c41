"""`/api/v1/notifications/`: the client's own in-app updates (its system user is the referring
clinician of the referrals it made), newest first, as the referrer's dashboard counts them;
`/notifications/{id}/read/` marks one read. Updates withheld when the patient withdrew consent to
share progress are left out, as on the dashboard. An update names a referral by its reference
only (no patient details), but it is about a patient, so each read is audited."""

from uuid import UUID

from django.db.models import Model, QuerySet
from django.shortcuts import get_object_or_404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from audit.models import AccessKind
from audit.services import audit_read
from referrals.models import Notification
from referrals.selectors import in_app_updates_for
from referrals.services import notification_mark_read

from ..idempotency import idempotent
from ..serializers_data import NotificationSerializer, problems
from .listing import AuditedList, NewestFirst


class NotificationFilters(serializers.Serializer):
    # No allow_null: an empty `unread=` is refused, not read as "leave out".
    unread = serializers.BooleanField(required=False, default=None)


@extend_schema(
    tags=["Notifications"],
    parameters=[OpenApiParameter("unread", OpenApiTypes.BOOL, description="Only unread ones")],
    responses={200: NotificationSerializer(many=True), **problems(400, 401, 403)},
)
class NotificationList(AuditedList):
    """The client's in-app updates, newest first."""

    serializer_class = NotificationSerializer
    pagination_class = NewestFirst
    read_scope = "referrals:read"

    def get_queryset(self) -> QuerySet[Notification]:
        filters = NotificationFilters(data=self.request.query_params.dict())
        filters.is_valid(raise_exception=True)
        updates = in_app_updates_for(self.request.user).select_related("referral")
        unread = filters.validated_data["unread"]
        if unread is not None:
            updates = updates.filter(read_at__isnull=unread)
        return updates

    def referrals_shown(self, rows: list[Notification]) -> list[Model]:
        return [notification.referral for notification in rows]


@extend_schema(
    tags=["Notifications"],
    request=None,
    responses={200: NotificationSerializer, **problems(401, 403, 404, 422)},
)
class NotificationRead(APIView):
    """Mark one update read; marking it again keeps the time it was first read. Reading is the
    client's own business, so the read scope allows it."""

    required_scope = "referrals:read"

    @idempotent
    def post(self, request: Request, id: UUID) -> Response:
        updates = in_app_updates_for(request.user).select_related("referral")
        notification = get_object_or_404(updates, public_id=id)
        notification_mark_read(user=request.user, notification=notification)
        audit_read(request, AccessKind.API, referrals=[notification.referral])
        return Response(NotificationSerializer(notification).data)
