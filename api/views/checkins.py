"""`/api/v1/checkins/`: self-directed visits from a leisure operator's gym platform (issue 14).

One event, or `{"events": [...]}` of up to 1,000, each recorded once through
`referrals.visits.visits_record` and matched to the operator's open referral by membership
number. The answer is one result per event, in order: `recorded` (on the referral named),
`unmatched` (kept; no open referral has the number yet), `duplicate` (that event id was recorded
before, by this request or an earlier one: nothing changed) or `refused` (with `errors`).

Input the document forbids (a missing or over-long field, a number out of range, a time without
its offset, an unknown field, more than 1,000 events) is a 400 for the whole request, naming each
field (`events[3].occurred_at`); what only the portal can judge (a facility that is not the
operator's, a time in the future) refuses that event alone. A batch costs the same queries at
any size. The results name referrals, so the response is an audited read.
"""

from typing import Any

from drf_spectacular.utils import PolymorphicProxySerializer, extend_schema
from rest_framework import exceptions, serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.permissions import Permission, organisations_granting
from audit.models import AccessKind
from audit.services import audit_read
from referrals.visits import VisitEvent, VisitResult, visits_record

from ..idempotency import idempotent
from ..serializers_data import (
    CheckinBatchSerializer,
    CheckinEventSerializer,
    CheckinResponseSerializer,
    problems,
)

DESCRIPTION = """For a leisure operator's gym platform. One event, or `{"events": [...]}` of up to
1,000 in any order; the answer has one result per event, in the order sent.

- **Once per `event_id`.** An event sent again (a retry, an overlapping batch, two posts at once)
  is a `duplicate` of the visit already recorded, which it does not change.
- **Matched by membership number** to your open referral (accepted, on the waiting list, booked
  or active) that records it, the newest if several: `recorded`, naming the referral.
  With none, the visit is kept as `unmatched`, to be matched later.
- **Late and out-of-order events are taken.** An event more than 10 minutes ahead of the
  portal's clock, or at a facility that is not one of yours, is `refused` with `errors`; the rest
  of the batch is recorded.
- Input this document forbids (a field missing, too long or out of range, a time without its
  UTC offset, an unknown field, more than 1,000 events) is a 400 for the whole request, naming
  each field: nothing is recorded."""
CHECKIN_BODY = PolymorphicProxySerializer(
    component_name="Checkin",
    serializers=[CheckinEventSerializer, CheckinBatchSerializer],
    resource_type_field_name=None,
)


def _events_from(data: Any) -> list[dict[str, Any]]:
    """The body's events, checked for shape: one event, or a batch."""
    if isinstance(data, dict) and "events" in data:
        batch = CheckinBatchSerializer(data=data)
        batch.is_valid(raise_exception=True)
        return list(batch.validated_data["events"])
    if not isinstance(data, dict):
        raise serializers.ValidationError(
            ['Send one event as an object, or {"events": [...]} with up to 1,000']
        )
    event = CheckinEventSerializer(data=data)
    event.is_valid(raise_exception=True)
    return [dict(event.validated_data)]


def _shown(result: VisitResult) -> dict[str, Any]:
    return {
        "event_id": result.event_id,
        "status": result.status,
        "visit": result.visit.public_id if result.visit is not None else None,
        "referral": result.referral.reference if result.referral is not None else None,
        "errors": result.errors,
    }


class Checkins(APIView):
    """A leisure operator's systems only: the visits are of its members, at its centres."""

    required_scope = "attendance:write"

    @extend_schema(
        tags=["Attendance"],
        operation_id="checkins_create",
        summary="Record visits from a gym platform",
        description=DESCRIPTION,
        request=CHECKIN_BODY,
        responses={200: CheckinResponseSerializer, **problems(400, 401, 403, 422)},
    )
    @idempotent
    def post(self, request: Request) -> Response:
        operators = organisations_granting(request.user, Permission.SESSION_RECORD)
        if not operators:
            raise exceptions.PermissionDenied("Only a leisure operator's systems record visits.")
        events = [VisitEvent(**fields) for fields in _events_from(request.data)]
        # A client belongs to one organisation (ADR 0006).
        results = visits_record(operator=operators[0], by=request.user, events=events)
        named = {r.referral.pk: r.referral for r in results if r.referral is not None}
        if named:
            audit_read(request, AccessKind.API, referrals=list(named.values()))
        return Response(CheckinResponseSerializer({"results": [_shown(r) for r in results]}).data)
