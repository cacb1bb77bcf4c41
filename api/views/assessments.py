"""`/api/v1/referrals/{reference}/assessments/`: a referral's outcome measures, read as the
progress page shows them (the referrer only with consent to share progress) and recorded through
`assessment_record`, which validates and scores the answers with the instrument library and
raises a safety alert, as the recording page does, when PHQ-9 question 9 is answered above 0."""

from typing import Any

from django.core.exceptions import PermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import Model, QuerySet
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import status
from rest_framework.request import Request
from rest_framework.response import Response

from accounts.permissions import Permission, has_permission
from audit.models import AccessKind
from audit.services import audit_read
from outcomes.models import Assessment
from outcomes.selectors import assessments_of
from outcomes.services import assessment_record
from referrals.consent import can_see_progress
from referrals.models import Referral
from referrals.selectors import referral_list_for

from ..idempotency import idempotent
from ..serializers_data import AssessmentInputSerializer, AssessmentSerializer, problems
from .listing import AuditedList

# The body's own fields; every other key of the service's refusal is an item of the answers.
BODY_FIELDS = frozenset({"instrument", "timepoint", "method", "__all__"})


def _keyed_by_body(refused: DjangoValidationError) -> DjangoValidationError:
    """The service's refusals named as the body names them: `answers.q9`, not `q9`, and
    answers too long to store as `answers`."""
    if not hasattr(refused, "error_dict"):
        if getattr(refused, "code", None) == "answers_too_large":
            return DjangoValidationError({"answers": refused.messages})
        return refused
    return DjangoValidationError(
        {
            key if key in BODY_FIELDS else f"answers.{key}": errors
            for key, errors in refused.error_dict.items()
        }
    )


@extend_schema_view(
    get=extend_schema(
        tags=["Outcomes"],
        summary="A referral's recorded assessments",
        responses={200: AssessmentSerializer(many=True), **problems(400, 401, 403, 404)},
    ),
    post=extend_schema(
        tags=["Outcomes"],
        summary="Record an assessment",
        request=AssessmentInputSerializer,
        responses={201: AssessmentSerializer, **problems(400, 401, 403, 404, 422)},
    ),
)
class ReferralAssessments(AuditedList):
    """Recording an instrument again at the same timepoint replaces its answers and scores, and
    the timeline says so. A request sent again with its Idempotency-Key gets the first answer
    instead: a retried POST is not a second recording."""

    serializer_class = AssessmentSerializer
    read_scope = "outcomes:read"
    write_scope = "outcomes:write"

    def referral(self) -> Referral:
        """The referral by reference; a 404 for one the organisation may not see."""
        if not hasattr(self, "_referral"):
            self._referral = get_object_or_404(
                referral_list_for(self.request.user), reference=self.kwargs["reference"]
            )
        return self._referral

    def get_queryset(self) -> QuerySet[Assessment]:
        referral = self.referral()
        if not can_see_progress(self.request.user, referral):
            raise PermissionDenied("The patient has not agreed to share their progress.")
        return assessments_of(referral)

    def get_serializer_context(self) -> dict[str, Any]:
        context: dict[str, Any] = super().get_serializer_context()
        if getattr(self, "swagger_fake_view", False):  # the schema, drawn without a request
            return context
        context["shows_answers"] = has_permission(
            self.request.user, Permission.ASSESSMENT_RECORD, self.referral()
        )
        return context

    def referrals_shown(self, rows: list[Assessment]) -> list[Model]:
        return [self.referral()]

    @idempotent
    def post(self, request: Request, reference: str) -> Response:
        referral = self.referral()
        body = AssessmentInputSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        try:
            assessment = assessment_record(
                referral=referral, by=request.user, **body.validated_data
            )
        except DjangoValidationError as refused:
            raise _keyed_by_body(refused) from refused
        audit_read(request, AccessKind.API, referrals=[referral])
        shown = AssessmentSerializer(assessment, context=self.get_serializer_context())
        return Response(shown.data, status=status.HTTP_201_CREATED)
