"""`/api/v1/sessions/`: the sessions of the referrals the client's organisation may see, and
whose progress it may see (`referrals.selectors.sessions_visible_to`): a register by class and
day, or one referral's sessions. `/sessions/{id}/attendance/` records whether the patient came,
through `session_record_attendance`, exactly as the instructor's register does (honouring
`Idempotency-Key`, `api/idempotency.py`)."""

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
from referrals.models import Session
from referrals.selectors import sessions_visible_to
from referrals.services import session_record_attendance

from ..idempotency import idempotent
from ..serializers_data import AttendanceSerializer, SessionSerializer, problems
from .listing import AuditedList


class SessionFilters(serializers.Serializer):
    referral = serializers.CharField(required=False)
    date = serializers.DateField(required=False)

    def get_fields(self) -> dict[str, serializers.Field]:
        fields: dict[str, serializers.Field] = super().get_fields()
        fields["class"] = serializers.UUIDField(required=False)  # a Python keyword
        return fields


@extend_schema(
    tags=["Sessions"],
    parameters=[
        OpenApiParameter("referral", str, description="A referral's reference"),
        OpenApiParameter("class", OpenApiTypes.UUID, description="A class's id: its register"),
        OpenApiParameter("date", OpenApiTypes.DATE, description="Sessions on this local day"),
    ],
    responses={200: SessionSerializer(many=True), **problems(400, 401, 403)},
)
class SessionList(AuditedList):
    """Sessions, oldest booked first; filters combine (a class on a day is its register)."""

    serializer_class = SessionSerializer
    read_scope = "referrals:read"

    def get_queryset(self) -> QuerySet[Session]:
        params = self.request.query_params
        filters = SessionFilters(
            data={k: params[k] for k in ("referral", "class", "date") if k in params}
        )
        filters.is_valid(raise_exception=True)
        chosen = filters.validated_data
        sessions = sessions_visible_to(self.request.user)
        if "referral" in chosen:
            sessions = sessions.filter(referral__reference=chosen["referral"])
        if "class" in chosen:
            sessions = sessions.filter(programme_class__public_id=chosen["class"])
        if "date" in chosen:
            sessions = sessions.filter(scheduled_at__date=chosen["date"])
        return sessions

    def referrals_shown(self, rows: list[Session]) -> list[Model]:
        return [session.referral for session in rows]


@extend_schema(
    tags=["Sessions"],
    request=AttendanceSerializer,
    responses={200: SessionSerializer, **problems(400, 401, 403, 404, 409, 422)},
)
class SessionAttendance(APIView):
    """Record attendance: attended, did not attend, or cancelled by the patient or the provider.
    The first attended session starts the referral; the same mark twice changes nothing; a
    different mark corrects the earlier one on the timeline. A request sent again with its
    Idempotency-Key gets the first answer, so a retry cannot undo a correction made since."""

    required_scope = "attendance:write"

    @idempotent
    def post(self, request: Request, id: UUID) -> Response:
        session = get_object_or_404(sessions_visible_to(request.user), public_id=id)
        body = AttendanceSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        session_record_attendance(session=session, by=request.user, **body.validated_data)
        audit_read(request, AccessKind.API, referrals=[session.referral])
        return Response(SessionSerializer(session).data)
