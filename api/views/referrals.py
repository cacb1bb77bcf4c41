"""`/api/v1/referrals/`: the referrals the client's organisation may see, as its people see them
(`referrals.selectors.referral_list_for`), newest first, a page at a time; and one by reference.
Every read of patient data is audited, as on the pages. Making a draft (POST on the list) and
changing one (PATCH on a referral) share these URLs: `api/views/referral_writes.py`."""

from typing import Any

from django.db.models import QuerySet
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import generics, serializers
from rest_framework.response import Response

from audit.models import AccessKind
from audit.services import audit_read
from referrals.models import Referral, Status
from referrals.selectors import referral_list_for

from ..serializers import ReferralSerializer
from ..serializers_data import problems
from .listing import NewestFirst
from .referral_writes import DraftCreate, DraftUpdate


class ReferralFilters(serializers.Serializer):
    status = serializers.MultipleChoiceField(choices=Status.choices, required=False)
    updated_after = serializers.DateTimeField(required=False)


@extend_schema_view(
    get=extend_schema(
        parameters=[
            OpenApiParameter("status", str, many=True, enum=Status.values, explode=True),
            OpenApiParameter("updated_after", OpenApiTypes.DATETIME),
        ],
        responses={200: ReferralSerializer(many=True), **problems(400, 401, 403)},
    )
)
@extend_schema(tags=["Referrals"])
class ReferralList(DraftCreate, generics.ListAPIView):
    """Referrals the client's organisation may see: the referrer's own (drafts too), or those
    sent to the operator."""

    serializer_class = ReferralSerializer
    pagination_class = NewestFirst
    read_scope = "referrals:read"

    def get_queryset(self) -> QuerySet[Referral]:
        filters = ReferralFilters(
            data={
                "status": self.request.query_params.getlist("status"),
                **(
                    {"updated_after": self.request.query_params["updated_after"]}
                    if "updated_after" in self.request.query_params
                    else {}
                ),
            }
        )
        filters.is_valid(raise_exception=True)
        referrals = referral_list_for(self.request.user)
        if statuses := filters.validated_data.get("status"):
            referrals = referrals.filter(status__in=statuses)
        if after := filters.validated_data.get("updated_after"):
            referrals = referrals.filter(updated_at__gt=after)
        return referrals

    def list(self, request: Any, *args: Any, **kwargs: Any) -> Any:
        response = super().list(request, *args, **kwargs)
        shown = self._shown
        audit_read(request, AccessKind.API, referrals=shown, patients=[r.patient_id for r in shown])
        return response

    def paginate_queryset(self, queryset: Any) -> Any:
        page = super().paginate_queryset(queryset)
        self._shown = list(page) if page is not None else []
        return page


@extend_schema_view(
    get=extend_schema(responses={200: ReferralSerializer, **problems(401, 403, 404)})
)
@extend_schema(tags=["Referrals"])
class ReferralDetail(DraftUpdate, generics.RetrieveAPIView):
    """One referral by its reference (a 404 for one the organisation may not see)."""

    serializer_class = ReferralSerializer
    lookup_field = "reference"
    read_scope = "referrals:read"

    def get_queryset(self) -> QuerySet[Referral]:
        return referral_list_for(self.request.user)

    def retrieve(self, request: Any, *args: Any, **kwargs: Any) -> Any:
        referral = self.get_object()
        audit_read(request, AccessKind.API, referrals=[referral], patients=[referral.patient_id])
        response = Response(self.get_serializer(referral).data)
        response["ETag"] = f'"{referral.version}"'  # for If-Match on the actions
        return response
