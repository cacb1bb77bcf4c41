"""`/api/v1/events/`: every change to the referrals the client's organisation may see, for a
system that polls. It shows what the referral page's timeline shows its people: a referrer sees
the sessions, assessments and alerts behind a referral's moves only with the patient's consent
to share progress.

The cursor is opaque. Each response's `next` is where the following call starts, whether or not
the response held events, so a poller keeps only the last `next` it got. Reading from `next` each
time returns every event exactly once, even one whose transaction committed after a later-numbered
event's. No event is handed out while a transaction that began before it could still commit
(ADR 0007, `referrals.selectors.events_feed_for`). The cost is delay, never loss: an event waits
until every transaction that began writing before it has ended. Events come in the order their
transactions began, one transaction's together. That is not always the order of `occurred_at`.
"""

import base64
import binascii

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from audit.models import AccessKind
from audit.services import audit_read
from referrals.selectors import FeedPosition, events_feed_for

from ..serializers_data import EventSerializer, EventsPageSerializer, problems

CURSOR_VERSION = "e1"


def encode_cursor(position: FeedPosition) -> str:
    raw = f"{CURSOR_VERSION}.{position.txid}.{position.id}".encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str) -> FeedPosition:
    """The position a cursor from `next` names; ValueError for anything else."""
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        raw = base64.b64decode(padded, altchars=b"-_", validate=True).decode()
    except (binascii.Error, UnicodeDecodeError, ValueError) as bad:
        raise ValueError("not a cursor") from bad
    version, _, rest = raw.partition(".")
    txid, _, event_id = rest.partition(".")
    if version != CURSOR_VERSION or not (txid.isdigit() and event_id.isdigit()):
        raise ValueError("not a cursor")
    return FeedPosition(int(txid), int(event_id))


class CursorField(serializers.Field):
    default_error_messages = {"invalid": "Pass the `next` value of an earlier response."}

    def to_internal_value(self, data: object) -> FeedPosition:
        if isinstance(data, str) and len(data) <= 100:
            try:
                return decode_cursor(data)
            except ValueError:
                pass
        raise serializers.ValidationError(self.error_messages["invalid"], code="invalid")

    def to_representation(self, value: FeedPosition) -> str:
        return encode_cursor(value)


class FeedQuery(serializers.Serializer):
    after = CursorField(required=False)
    limit = serializers.IntegerField(required=False, min_value=1, max_value=500, default=100)


@extend_schema(
    tags=["Events"],
    description=(
        "Every change (a referral's timeline entry) the organisation may see, oldest first. "
        "Keep the `next` of each response and pass it as `after`: reading so returns each "
        "event exactly once, including one committed late by a slow transaction, which waits "
        "until every transaction that began before it has ended."
    ),
    parameters=[
        OpenApiParameter(
            "after",
            OpenApiTypes.STR,
            description="The `next` of the previous response; leave out to start from the first",
        ),
        OpenApiParameter("limit", OpenApiTypes.INT, description="At most this many (1-500)"),
    ],
    responses={200: EventsPageSerializer, **problems(400, 401, 403)},
)
class EventsFeed(APIView):
    """Changes since `after`, oldest first: poll with the `next` you were given."""

    read_scope = "referrals:read"

    def get(self, request: Request) -> Response:
        query = FeedQuery(data=request.query_params.dict())
        query.is_valid(raise_exception=True)
        after = query.validated_data.get("after", FeedPosition())
        page = events_feed_for(request.user, after, query.validated_data["limit"])
        audit_read(request, AccessKind.API, referrals=[event.referral for event in page.events])
        return Response(
            {
                "events": EventSerializer(page.events, many=True).data,
                "next": encode_cursor(page.next),
            }
        )
