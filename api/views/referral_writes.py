"""Writes to referrals over `/api/v1/`: drafts, submission, the workflow actions, patient lookup.

Each view does what the matching page does, through the same code: it finds the referral through
the client's own scope (`referral_or_404`: one it may not see is a 404), asks `has_permission`
for the action (one it may see but not change is a 403), checks the answers with the wizard's
forms (`api/drafts.py`) or the action's fields, and calls the one service. The services check the
version under the row lock, apply the state table, and write the timeline with the client's
system user as the actor, exactly as for a person. Every response that shows the referral is an
audited read, like the GET. POSTs honour `Idempotency-Key` (`api/idempotency.py`).
"""

from typing import Any, cast

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import transaction
from django.urls import reverse
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import exceptions, serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.permissions import Permission, has_permission, organisations_granting
from audit.models import AccessKind
from audit.services import audit_read
from referrals import services
from referrals.forms import FindPatientForm
from referrals.models import Patient, Referral
from referrals.selectors import patient_of, referral_list_for
from referrals.web import referral_or_404
from referrals.workflow import ACTIONS

from ..concurrency import IF_MATCH_PARAMETER, at_requested_version, with_etag
from ..drafts import draft_changes
from ..forms_json import clean_with, form_data
from ..idempotency import idempotent
from ..serializers import ProblemSerializer, ReferralSerializer
from ..serializers_writes import (
    ACTION_BODIES,
    ActionSerializer,
    DraftCreateSerializer,
    DraftUpdateSerializer,
    PatientLookupResultSerializer,
    PatientLookupSerializer,
    SubmitAction,
)

WRITE_SCOPE = "referrals:write"
PROBLEM = "application/problem+json"


def _problems(*codes: int) -> dict[Any, Any]:
    described = {
        400: "The request is not valid: `errors` names each field and what is wrong with it.",
        401: "No token, or it expired or its client was revoked: get a new token.",
        403: "The token lacks the scope, or the organisation's role may not do this.",
        404: "No referral with that reference that the organisation may see.",
        409: "The referral changed since it was read, or its state does not allow this.",
        422: "The Idempotency-Key was used for a different request.",
        428: "The referral's version is missing (If-Match or version).",
    }
    return {
        (code, PROBLEM): OpenApiResponse(ProblemSerializer, description=described[code])
        for code in codes
    }


def _nested(prefix: str, error: DjangoValidationError) -> serializers.ValidationError:
    detail = error.message_dict if hasattr(error, "error_dict") else {"": error.messages}
    return serializers.ValidationError({prefix: detail})


def _renamed(error: DjangoValidationError, names: dict[str, str]) -> DjangoValidationError:
    if not names or not hasattr(error, "error_dict"):
        return error
    return DjangoValidationError({names.get(k, k): v for k, v in error.message_dict.items()})


# Actions whose service changes nothing after its transition, so the referral it leaves is
# the one to show (`book` may attach visits afterwards, which a reading of the row catches).
SHOWN_AS_WRITTEN = frozenset({"submit"})


class ReferralWrite:
    """What every referral write shares: the client's scope of referrals, the permission check
    and the audited response with the new version as its ETag."""

    write_scope = WRITE_SCOPE

    def referral_for(self, request: Any, reference: str, permission: Permission) -> Referral:
        referral = referral_or_404(request.user, reference)
        if not has_permission(request.user, permission, referral):
            raise exceptions.PermissionDenied(
                "Your organisation's role may not do this to this referral."
            )
        return referral

    def referral_response(
        self,
        request: Any,
        referral: Referral,
        code: int = status.HTTP_200_OK,
        *,
        as_written: bool = False,
    ) -> Response:
        """`as_written`: the service left `referral` as it wrote it (nothing changed it after),
        so it is shown without reading it again; a related row it does not hold yet (the operator
        a submission routed it to) is read on its own."""
        if as_written:
            shown = referral
        else:
            shown = referral_list_for(request.user).filter(pk=referral.pk).first() or referral
        audit_read(request, AccessKind.API, referrals=[shown], patients=[shown.patient_id])
        return with_etag(Response(ReferralSerializer(shown).data, status=code), shown)


class DraftCreate(ReferralWrite):
    """POST on the referral list (`api/views/referrals.py`): a new draft."""

    @extend_schema(
        operation_id="referral_create_draft",
        summary="Start a referral as a draft",
        description="For GP practices and MSK services. The patient by their details (an NHS "
        "number your organisation already holds means that record, brought up to date) or by "
        "patient_id; any of the wizard's other steps may be sent now or later with PATCH.",
        request=DraftCreateSerializer,
        responses={201: ReferralSerializer, **_problems(400, 401, 403, 422)},
    )
    @idempotent
    def post(self, request: Any, *args: Any, **kwargs: Any) -> Response:
        user = request.user
        organisations = organisations_granting(user, Permission.REFERRAL_CREATE)
        if not organisations:
            raise exceptions.PermissionDenied("Your organisation does not make referrals.")
        organisation = organisations[0]
        body = DraftCreateSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        given = body.validated_data
        patient = None
        if "patient_id" in given:
            patient = patient_of(organisation, given["patient_id"])
            if patient is None:
                raise serializers.ValidationError(
                    {"patient_id": "Your organisation has no patient with this id"}
                )
        changes = draft_changes(
            given, draft=Referral(referring_organisation=organisation), patient=patient
        )
        with transaction.atomic():
            if changes.patient is not None:
                try:
                    patient = services.patient_record_for_referral(
                        by=user, organisation=organisation, fields=changes.patient
                    )
                except DjangoValidationError as error:
                    raise _nested("patient", error) from error
            referral = services.referral_create_draft(
                by=user,
                organisation=organisation,
                patient=cast(Patient, patient),  # by id or by details: the body gave one
                **changes.referral,
            )
        response = self.referral_response(
            request, referral, status.HTTP_201_CREATED, as_written=True
        )
        response["Location"] = reverse("api:referral-detail", args=[referral.reference])
        return response


class DraftUpdate(ReferralWrite):
    """PATCH on one referral (`api/views/referrals.py`): change a draft's answers."""

    @extend_schema(
        operation_id="referral_update_draft",
        summary="Change a draft",
        description="Only the steps sent change; each is checked with the draft's other "
        "answers to it, as the wizard checks it. Needs the version read (If-Match or version).",
        parameters=[IF_MATCH_PARAMETER],
        request=DraftUpdateSerializer,
        responses={200: ReferralSerializer, **_problems(400, 401, 403, 404, 409, 428)},
    )
    def patch(self, request: Any, reference: str, *args: Any, **kwargs: Any) -> Response:
        user = request.user
        referral = self.referral_for(request, reference, Permission.REFERRAL_EDIT_DRAFT)
        at_requested_version(request, referral)
        body = DraftUpdateSerializer(data=request.data, partial=True)
        body.is_valid(raise_exception=True)
        changes = draft_changes(body.validated_data, draft=referral, patient=referral.patient)
        with transaction.atomic():
            if changes.patient is not None:
                try:
                    services.patient_record_for_referral(
                        by=user,
                        organisation=referral.referring_organisation,
                        fields=changes.patient,
                        patient=referral.patient,
                    )
                except DjangoValidationError as error:
                    raise _nested("patient", error) from error
            services.referral_update_draft(referral=referral, by=user, **changes.referral)
        return self.referral_response(request, referral)


class ReferralActionView(ReferralWrite, APIView):
    """One workflow action on one referral; subclasses name it (`action_view`)."""

    action_name = ""
    body_class: type[ActionSerializer] = SubmitAction

    def act(self, request: Any, reference: str) -> Response:
        action = ACTIONS[self.action_name]
        referral = self.referral_for(request, reference, action.permission)
        at_requested_version(request, referral)
        body = self.body_class(data=request.data)
        body.is_valid(raise_exception=True)
        arguments = body.service_arguments(referral)
        try:
            services.ACTION_SERVICES[action.name](referral=referral, by=request.user, **arguments)
        except DjangoValidationError as error:
            raise _renamed(error, self.body_class.renamed_errors) from error
        return self.referral_response(request, referral, as_written=action.name in SHOWN_AS_WRITTEN)


def action_view(name: str, body_class: type[ActionSerializer], path_name: str) -> type[APIView]:
    """The view of one action: its own class, so the document shows each action's fields."""
    action = ACTIONS[name]

    @extend_schema(
        operation_id=f"referral_{name}",
        summary=action.label,
        description=f"Moves the referral from {', '.join(sorted(action.sources))} to "
        f"{action.target}. Needs the version read (If-Match or version).",
        tags=["Referral actions"],
        parameters=[IF_MATCH_PARAMETER],
        request=body_class,
        responses={200: ReferralSerializer, **_problems(400, 401, 403, 404, 409, 422, 428)},
    )
    @idempotent
    def post(self: ReferralActionView, request: Any, reference: str) -> Response:
        return self.act(request, reference)

    title = "".join(part.title() for part in name.split("_"))
    return type(
        f"Referral{title}",
        (ReferralActionView,),
        {
            "action_name": name,
            "body_class": body_class,
            "post": post,
            "__doc__": f"{action.label}: `{path_name}`.",
            "__module__": __name__,
        },
    )


ReferralSubmit = action_view("submit", SubmitAction, "submit/")
ACTION_VIEWS = {
    name: action_view(name, body, f"actions/{name}/") for name, body in ACTION_BODIES.items()
}


@extend_schema(tags=["Patients"])
class PatientLookup(APIView):
    """Find a patient by NHS number among the referrals the organisation may see. POSTed, so the
    number is never in a URL or a log."""

    required_scope = "referrals:read"

    @extend_schema(
        operation_id="patient_lookup",
        summary="Find a patient by NHS number",
        request=PatientLookupSerializer,
        responses={
            200: PatientLookupResultSerializer,
            **_problems(400, 401, 403, 422),
            (404, PROBLEM): OpenApiResponse(
                ProblemSerializer,
                description="No referral the organisation may see is about this NHS number.",
            ),
        },
    )
    @idempotent
    def post(self, request: Any) -> Response:
        body = PatientLookupSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        errors: dict[str, Any] = {}
        found = clean_with(FindPatientForm(form_data(FindPatientForm, body.validated_data)), errors)
        if found is None:
            raise serializers.ValidationError(errors)
        referrals = list(
            referral_list_for(request.user)
            .filter(patient__nhs_number=found["nhs_number"])
            .order_by("-created_at", "-id")
        )
        if not referrals:
            raise exceptions.NotFound(
                "No referral your organisation can see is about a patient with this NHS number."
            )
        patient = referrals[0].patient
        audit_read(
            request,
            AccessKind.API,
            referrals=referrals,
            patients={r.patient_id for r in referrals},
            description="Patient lookup",
        )
        result = PatientLookupResultSerializer({"patient": patient, "referrals": referrals})
        return Response(result.data)
