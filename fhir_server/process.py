"""`$process-message`: a GP or MSK system's referral message becomes a submitted referral.

The message is read into the API's draft body (`inbound.read_message`), which the API's own
serializer and the wizard's forms check (`api.drafts.draft_changes`); then, in one transaction,
the services the browser uses make the patient record, the draft and the submission, so the same
eligibility, exclusion and consent rules refuse the same referrals. A refusal at any step rolls
everything back and is answered with an OperationOutcome whose issues name the elements at
fault. An accepted message is kept by its Bundle identifier: sent again, it gets the same
response and makes no second referral.
"""

import hashlib
import json
import uuid
from typing import Any, cast

from django.conf import settings
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from rest_framework import serializers

from accounts.permissions import Permission, organisations_granting
from api.drafts import draft_changes
from api.serializers_writes import DraftCreateSerializer
from audit.models import AccessKind
from audit.services import audit_read
from clinical.conditions import Exclusion
from clinical.fhir_systems import BARS_MESSAGE_EVENTS
from delivery.fhir_messages import organisation_reference
from referrals import services
from referrals.models import Referral

from .http import _flat
from .inbound import InboundReferral, read_message
from .models import InboundMessage
from .outcome import BUSINESS_RULE, DUPLICATE, FORBIDDEN, INVALID, FhirError, Issue, refused
from .resources.referral import task
from .validation import validated


def _fingerprint(body: Any) -> str:
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()


def _issues(message: InboundReferral, detail: Any, code: str) -> list[Issue]:
    """One issue per message, at the element its field came from (and, for a refusal because
    of an exclusion, at the screen's answer that ticked it too)."""
    issues = []
    for key, text in _flat(detail):
        if not text:
            continue
        where = [message.path_of(key)]
        where += [
            path
            for exclusion, path in message.exclusion_items.items()
            if Exclusion(exclusion).label.lower() in text.lower()
        ]
        issues.append(Issue(code, text, tuple(where)))
    return issues


def _refusal(message: InboundReferral, error: Exception, prefix: str = "") -> FhirError:
    if isinstance(error, serializers.ValidationError):
        return FhirError(422, _issues(message, error.detail, INVALID))
    if not isinstance(error, DjangoValidationError):  # pragma: no cover - callers pass one
        raise error
    detail: dict[str, Any] | list[str] = (
        error.message_dict if hasattr(error, "error_dict") else error.messages
    )
    if prefix:
        detail = {prefix: detail}
    return FhirError(422, _issues(message, detail, BUSINESS_RULE))


def response_message(referral: Referral, message: InboundReferral) -> dict:
    """The reply: a message whose header answers the request's and focuses on the Task."""
    base = f"{settings.PORTAL_BASE_URL}/fhir"
    header_id = str(uuid.uuid4())
    the_task = task(referral)
    header: dict = {
        "resourceType": "MessageHeader",
        "id": header_id,
        "eventCoding": {
            "system": BARS_MESSAGE_EVENTS,
            "code": "servicerequest-response",
            "display": "ServiceRequest Response",
        },
        "source": {"name": "Referral Portal", "software": "Referral Portal", "endpoint": base},
        "response": {"identifier": message.header_id, "code": "ok"},
        "focus": [{"reference": f"{base}/Task/{referral.reference}", "type": "Task"}],
    }
    if referral.operator is not None:
        header["sender"] = organisation_reference(referral.operator)
    return validated(
        {
            "resourceType": "Bundle",
            "id": str(uuid.uuid4()),
            "type": "message",
            "timestamp": timezone.now().isoformat(),
            "entry": [
                {"fullUrl": f"urn:uuid:{header_id}", "resource": header},
                # The Task alone: it names the referral by its reference, and the reply is
                # kept for a resend (`InboundMessage`), so it carries no clinical detail.
                {"fullUrl": f"{base}/Task/{referral.reference}", "resource": the_task},
            ],
        }
    )


def _replay(request: Any, kept: InboundMessage, fingerprint: str) -> dict:
    if kept.fingerprint != fingerprint:
        raise refused(
            422,
            DUPLICATE,
            "A different message was already accepted with this Bundle identifier: give each "
            "message its own identifier.",
            "Bundle.identifier",
        )
    audit_read(
        request, AccessKind.FHIR, referrals=[kept.referral], description="FHIR message replay"
    )
    return cast(dict[str, Any], kept.response)  # a JSONField: the response message stored


def process_referral_message(request: Any, body: Any) -> dict:
    """The response message for an accepted referral message (or a FhirError)."""
    user = request.user
    organisations = organisations_granting(user, Permission.REFERRAL_CREATE)
    if not organisations:
        raise refused(403, FORBIDDEN, "Your organisation does not make referrals.")
    organisation = organisations[0]
    message = read_message(body)
    system, value = message.bundle_identifier
    if len(value) > 200 or len(system) > 500:
        raise refused(422, INVALID, "The Bundle identifier is too long.", "Bundle.identifier")
    fingerprint = _fingerprint(body)
    keyed = {"organisation": organisation, "bundle_system": system, "bundle_value": value}
    kept = InboundMessage.objects.filter(**keyed).select_related("referral").first()
    if kept is not None:
        return _replay(request, kept, fingerprint)

    if (
        message.requester_ods is not None
        and message.requester_ods[0].upper() != organisation.code.upper()
    ):
        code, where = message.requester_ods
        raise refused(
            422,
            BUSINESS_RULE,
            f"The requester is {code}, but this client belongs to {organisation.code}: a "
            "system refers for its own organisation only.",
            where,
        )
    answers = DraftCreateSerializer(data=message.draft)
    if not answers.is_valid():
        raise _refusal(message, serializers.ValidationError(answers.errors))
    given = answers.validated_data
    try:
        changes = draft_changes(
            given, draft=Referral(referring_organisation=organisation), patient=None
        )
    except serializers.ValidationError as error:
        raise _refusal(message, error) from error
    try:
        with transaction.atomic():
            try:
                patient = services.patient_record_for_referral(
                    by=user, organisation=organisation, fields=changes.patient or {}
                )
            except DjangoValidationError as error:
                raise _refusal(message, error, "patient") from error
            try:
                referral = services.referral_create_draft(
                    by=user,
                    organisation=organisation,
                    patient=patient,
                    clinician_name=message.clinician_name,
                    clinician_registration=message.clinician_registration,
                    **changes.referral,
                    **({"ubrn": message.ubrn} if message.ubrn else {}),
                )
                services.referral_submit(referral=referral, by=user)
            except DjangoValidationError as error:
                raise _refusal(message, error) from error
            referral.refresh_from_db()
            response = response_message(referral, message)
            InboundMessage.objects.create(
                **keyed, fingerprint=fingerprint, referral=referral, response=response
            )
    except IntegrityError:
        # The same message, sent twice at once: the other request made the referral.
        kept = InboundMessage.objects.filter(**keyed).select_related("referral").first()
        if kept is None:
            raise
        return _replay(request, kept, fingerprint)
    audit_read(request, AccessKind.FHIR, referrals=[referral], description="FHIR referral message")
    return response
