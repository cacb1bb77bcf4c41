"""Optimistic concurrency over HTTP: every change to a referral names the version it was based on.

A referral's `version` goes up with every change (`referrals.transitions`); a read returns it in
the body and as the ETag `"<version>"`. A write sends it back, as `If-Match: "<version>"` or as
`version` in the body, and the service refuses it when the referral has moved on since
(`ReferralChanged`, a 409 problem with `code` `referral_changed`, see `api/problems.py`). This
module only reads the version from the request: the comparison is the services' own, under the
row lock, as for the pages.
"""

import re
from typing import Any

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter
from rest_framework import exceptions, status
from rest_framework.response import Response

from referrals.models import Referral

# One strong or weak entity tag whose value is the version, as the reads send it.
ETAG = re.compile(r'(?:W/)?"([1-9][0-9]{0,8})"')

IF_MATCH_PARAMETER = OpenApiParameter(
    "If-Match",
    OpenApiTypes.STR,
    OpenApiParameter.HEADER,
    description='The referral\'s ETag as read, like "3"; or send `version` in the body.',
)


class PreconditionRequired(exceptions.APIException):
    status_code = status.HTTP_428_PRECONDITION_REQUIRED
    default_detail = (
        "Send the version of the referral this change is based on: the ETag of your last read "
        'as an If-Match header (like "3"), or "version" in the body.'
    )
    default_code = "precondition_required"


def _body_version(request: Any) -> int | None:
    data = request.data
    value = data.get("version") if isinstance(data, dict) else None
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | str) or not str(value).isdigit():
        raise exceptions.ValidationError({"version": "Send the version as a whole number"})
    if int(value) < 1:
        raise exceptions.ValidationError({"version": "Send the version as a whole number"})
    return int(value)


def requested_version(request: Any) -> int:
    """The version the client based its change on: If-Match or `version` (the same if both)."""
    header = request.headers.get("If-Match")
    from_header = None
    if header is not None:
        match = ETAG.fullmatch(header.strip())
        if match is None:
            raise exceptions.ValidationError(
                {"If-Match": 'Send the referral\'s ETag as you read it, like "3"'}
            )
        from_header = int(match[1])
    from_body = _body_version(request)
    if from_header is not None and from_body is not None and from_header != from_body:
        raise exceptions.ValidationError(
            {"version": "The version in the body and the If-Match header differ"}
        )
    version = from_header if from_header is not None else from_body
    if version is None:
        raise PreconditionRequired()
    return version


def at_requested_version(request: Any, referral: Referral) -> Referral:
    """The referral as the client saw it, for a service to compare with the row it locks."""
    referral.version = requested_version(request)
    return referral


def with_etag(response: Response, referral: Referral) -> Response:
    response["ETag"] = f'"{referral.version}"'
    return response
