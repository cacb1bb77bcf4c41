"""`/api/v1/programmes/`, `/facilities/`, `/classes/`: the offer as the client's organisation
sees it (`facilities.selectors.*_visible_to`): an operator's own, active or not; for a referrer,
what it can refer to, as the referral wizard offers it. No patient data, so nothing is audited."""

from django.db.models import QuerySet
from drf_spectacular.utils import extend_schema
from rest_framework import generics

from facilities.models import Facility, Programme, ProgrammeClass
from facilities.selectors import (
    classes_visible_to,
    facilities_visible_to,
    programmes_visible_to,
)

from ..serializers_data import (
    FacilitySerializer,
    ProgrammeClassSerializer,
    ProgrammeSerializer,
    problems,
)
from .listing import OldestFirst

REFUSALS = problems(400, 401, 403)


@extend_schema(tags=["Offer"], responses={200: ProgrammeSerializer(many=True), **REFUSALS})
class ProgrammeList(generics.ListAPIView):
    """Programmes: the operator's own, or those a referrer can refer to."""

    serializer_class = ProgrammeSerializer
    pagination_class = OldestFirst
    read_scope = "referrals:read"

    def get_queryset(self) -> QuerySet[Programme]:
        return programmes_visible_to(self.request.user).select_related("operator")


@extend_schema(tags=["Offer"], responses={200: FacilitySerializer(many=True), **REFUSALS})
class FacilityList(generics.ListAPIView):
    """Facilities: the operator's own, or those running a class a referrer can refer to."""

    serializer_class = FacilitySerializer
    pagination_class = OldestFirst
    read_scope = "referrals:read"

    def get_queryset(self) -> QuerySet[Facility]:
        return facilities_visible_to(self.request.user).select_related("operator")


@extend_schema(tags=["Offer"], responses={200: ProgrammeClassSerializer(many=True), **REFUSALS})
class ClassList(generics.ListAPIView):
    """Classes (a programme at a facility in a weekly slot): the operator's own, or those a
    referrer can refer to."""

    serializer_class = ProgrammeClassSerializer
    pagination_class = OldestFirst
    read_scope = "referrals:read"

    def get_queryset(self) -> QuerySet[ProgrammeClass]:
        return classes_visible_to(self.request.user)
