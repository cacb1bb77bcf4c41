"""`Idempotency-Key`: a POST retried with the same key gets the first response, not a second write.

An integration that lost the answer to a POST (a timeout, a dropped connection) cannot know
whether the referral was made; it sends the request again with the same key and gets the first
response (status, body, `Location` and `ETag`, and `Idempotent-Replayed: true`) without the work
being done again. Any POST view opts in with `@idempotent` on its `post` method:

    class Thing(APIView):
        @extend_schema(...)
        @idempotent
        def post(self, request, ...): ...

How it works:
- A key belongs to the client (`IdempotencyKey`, unique per client) and lasts `KEY_LIFETIME`
  (24 hours); after that the same key is a new request.
- The request's fingerprint is the method, path, `If-Match` and body (the parsed JSON, so key
  order and spacing do not matter). The same key with a different fingerprint is a 422
  problem: a key names one request.
- The key's row is inserted before the work, in the work's transaction, so a second request with
  the same key that arrives meanwhile waits on the row and then replays the first's response.
- The work runs in a savepoint: a refused request (any 4xx) writes nothing but its response is
  kept, so a retry is refused the same way. A server error (5xx, or an exception nothing
  translates) keeps nothing, so the client may retry with the same key.
- A replay shows the first response's patient data again, so it is audited as a read of the
  same referrals and patients as the first request recorded.
- The header is optional: without it a POST runs as usual.

Stored bodies may hold patient details, so `keys_purge` deletes rows past their lifetime: the
beat runs `api.tasks.idempotency_keys_purge` hourly (`config/settings.py`).
"""

import datetime
import functools
import hashlib
import json
from collections.abc import Callable
from typing import Any

from django.db import transaction
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import exceptions
from rest_framework.response import Response

from audit.models import AccessKind, AccessRecord
from audit.services import audit_read

from .models import IdempotencyKey
from .problems import PROBLEM_CONTENT_TYPE, problem

HEADER = "Idempotency-Key"
KEY_LIFETIME = datetime.timedelta(hours=24)
KEY_MAX_LENGTH = 255
# Headers of the first response that a replay carries too.
KEPT_HEADERS = ("Location", "ETag")
REPLAYED_HEADER = "Idempotent-Replayed"

IDEMPOTENCY_KEY_PARAMETER = OpenApiParameter(
    HEADER,
    OpenApiTypes.STR,
    OpenApiParameter.HEADER,
    description="A unique value per request (a UUID, say), up to 255 characters. Sent again "
    "within 24 hours with the same request, it returns the first response without doing the "
    "work again; with a different request, a 422 problem.",
)


class _Refused(Exception):
    """Carries a refused (4xx) response out of the savepoint, undoing its writes."""

    def __init__(self, response: Response):
        self.response = response


def _key_from(request: Any) -> str | None:
    if HEADER not in request.headers:
        return None
    key = str(request.headers[HEADER]).strip()
    if not key or len(key) > KEY_MAX_LENGTH or not key.isascii() or not key.isprintable():
        raise exceptions.ValidationError(
            {HEADER: f"Send up to {KEY_MAX_LENGTH} printable ASCII characters, like a UUID"}
        )
    return key


def fingerprint(request: Any) -> str:
    """What makes two requests the same: method, path, If-Match and the body's meaning (parsed,
    so key order and spacing do not matter). A body that does not parse is refused as usual."""
    body = json.dumps(request.data, sort_keys=True, separators=(",", ":"), default=str)
    digest = hashlib.sha256()
    for part in (request.method, request.path, request.headers.get("If-Match", ""), body):
        digest.update(part.encode("utf-8", "surrogatepass"))
        digest.update(b"\0")
    return digest.hexdigest()


def _replay(request: Any, record: IdempotencyKey) -> Response:
    if record.referral_ids or record.patient_ids:
        audit_read(
            request,
            AccessKind.API,
            referrals=record.referral_ids,
            patients=record.patient_ids,
            description=f"Replay of {record.method} {record.path}"[:200],
        )
    status = record.response_status or 200
    response = Response(
        record.response_body,
        status=status,
        content_type=PROBLEM_CONTENT_TYPE if status >= 400 else None,
    )
    for header, value in record.response_headers.items():
        response[header] = value
    response[REPLAYED_HEADER] = "true"
    return response


def _run(view: Any, request: Any, work: Callable[[], Response]) -> Response:
    """The work's response; a 4xx undoes its writes (the savepoint) and is returned, not raised."""
    try:
        with transaction.atomic():
            response = work()
            if response.status_code >= 400:
                raise _Refused(response)
    except _Refused as refused:
        return refused.response
    except Exception as exc:
        # The view's own handler makes the problem response; what it cannot translate is
        # raised again (a 500), which rolls back the key as well.
        response = view.handle_exception(exc)
    return response


def run_idempotently(view: Any, request: Any, work: Callable[[], Response]) -> Response:
    """Run `work` once per (client, key); see the module docstring."""
    key = _key_from(request)
    if key is None:
        return work()
    client = request.user.api_client
    now = timezone.now()
    print_ = fingerprint(request)
    with transaction.atomic():
        # Inserting first: a concurrent request with this key waits here until we commit.
        record, created = IdempotencyKey.objects.get_or_create(
            client=client,
            key=key,
            defaults={
                "fingerprint": print_,
                "method": request.method,
                "path": request.path[:300],
                "created_at": now,
            },
        )
        if not created:
            record = IdempotencyKey.objects.select_for_update().get(pk=record.pk)
            if record.created_at > now - KEY_LIFETIME:
                if record.fingerprint != print_:
                    return problem(
                        422,
                        f"This {HEADER} was used for a different request: use a new key for "
                        "each request.",
                    )
                return _replay(request, record)
            # An expired key starts again, as a new request.
            record.fingerprint, record.created_at = print_, now
            record.method, record.path = request.method, request.path[:300]
        response = _run(view, request, work)
        if response.status_code >= 500:
            transaction.set_rollback(True)
            return response
        record.response_status = response.status_code
        record.response_body = response.data
        record.response_headers = {h: response[h] for h in KEPT_HEADERS if h in response}
        record.referral_ids, record.patient_ids = _audited_for(request, now)
        record.save()
    return response


def _audited_for(request: Any, since: datetime.datetime) -> tuple[list[int], list[int]]:
    """The referrals and patients this request's audit records name. A client may send its own
    X-Request-ID, even the same one twice, so the records are also this client's and new."""
    request_id = getattr(request, "request_id", "")
    if not request_id:
        return [], []
    referrals: set[int] = set()
    patients: set[int] = set()
    for referral_ids, patient_ids in AccessRecord.objects.filter(
        request_id=request_id, user=request.user, at__gte=since
    ).values_list("referral_ids", "patient_ids"):
        referrals.update(referral_ids)
        patients.update(patient_ids)
    return sorted(referrals), sorted(patients)


def idempotent(post: Callable[..., Response]) -> Callable[..., Response]:
    """Decorate an APIView's `post` so that it honours `Idempotency-Key` (and documents it)."""

    @functools.wraps(post)
    def wrapper(view: Any, request: Any, *args: Any, **kwargs: Any) -> Response:
        return run_idempotently(view, request, lambda: post(view, request, *args, **kwargs))

    return extend_schema(parameters=[IDEMPOTENCY_KEY_PARAMETER])(wrapper)


def keys_purge(now: datetime.datetime | None = None) -> int:
    """Delete keys past their lifetime (and the responses they hold); how many went."""
    cutoff = (now or timezone.now()) - KEY_LIFETIME
    deleted, _ = IdempotencyKey.objects.filter(created_at__lte=cutoff).delete()
    return deleted
