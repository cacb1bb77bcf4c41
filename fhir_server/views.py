"""`/fhir/` endpoints: metadata, read, search and `$process-message`.

Read and search are one pair of views for every type in the registry: the type says who may see
which rows; the views check the token's scope, page, validate each resource against the R4B
models before it leaves, and record the read of patient data (`AccessKind.FHIR`), as every page
and API endpoint does.
"""

from typing import Any

from django.conf import settings
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response

from api.permissions import ClientHasScope
from audit.models import AccessKind
from audit.services import audit_read
from referrals.models import Patient, Referral

from .capability import capability_statement
from .http import FhirView
from .outcome import NOT_FOUND, NOT_SUPPORTED, refused
from .process import process_referral_message
from .registry import RESOURCE_TYPES
from .search import filtered, page_of, searchset
from .types import ResourceType
from .validation import validated


def _kind(name: str) -> ResourceType:
    kind = RESOURCE_TYPES.get(name)
    if kind is None:
        raise refused(
            404,
            NOT_SUPPORTED,
            f"This server serves no {name!r} resources; see /fhir/metadata for those it does.",
        )
    return kind


class Metadata(FhirView):
    """The CapabilityStatement: public, as a client reads it before it has a token."""

    authentication_classes: list[Any] = []
    permission_classes = [AllowAny]

    def get(self, request: Request) -> Response:
        return Response(validated(capability_statement()))


class TypedView(FhirView):
    """A view of one resource type: the scope it needs is the type's (none for conformance
    resources)."""

    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        self.kind = _kind(kwargs["resource_type"])
        self.read_scope = self.kind.scope
        super().initial(request, *args, **kwargs)

    def get_permissions(self) -> list[Any]:
        kind = getattr(self, "kind", None)
        if kind is not None and not kind.scope:
            return [AllowAny()]
        return [ClientHasScope()]

    def audit(self, request: Request, rows: list[Any], what: str) -> None:
        if self.kind.audited is None or not rows:
            return
        referrals, patients = self.kind.audited(rows)
        audit_read(
            request,
            AccessKind.FHIR,
            referrals=referrals,
            patients=patients,
            description=f"FHIR {self.kind.name} {what}",
        )


class Read(TypedView):
    def get(self, request: Request, resource_type: str, resource_id: str) -> Response:
        found = self.kind.read(request.user, resource_id)
        if found is None:
            raise refused(
                404,
                NOT_FOUND,
                f"No {resource_type}/{resource_id} that your organisation may see.",
            )
        self.audit(request, _rows_behind(found), "read")
        return Response(validated(found))


def _rows_behind(resource: dict) -> list[Any]:
    """The record a served resource shows, by the references it carries: the patient, or the
    referral (whose patient the access record names with it)."""
    if resource["resourceType"] == "Patient":
        return list(Patient.objects.filter(public_id=resource["id"]))
    based_on = resource.get("basedOn") or []
    reference = ""
    if resource["resourceType"] in ("ServiceRequest", "Task", "Composition"):
        reference = resource["id"]
    elif based_on:
        reference = based_on[0].get("reference", "").rsplit("/", 1)[-1]
    return list(Referral.objects.filter(reference=reference)) if reference else []


class Search(TypedView):
    def get(self, request: Request, resource_type: str) -> Response:
        params = {name: request.query_params.getlist(name) for name in request.query_params}
        includes = [value for value in params.get("_include", []) for value in value.split(",")]
        known = {include.name: include for include in self.kind.includes}
        for name in includes:
            if name not in known:
                raise refused(
                    400,
                    NOT_SUPPORTED,
                    f"_include={name} is not supported here"
                    + (f"; this type supports {', '.join(known)}." if known else "."),
                    "_include",
                )
        segments = filtered(self.kind.sources(request.user, params), params, self.kind.params)
        page = page_of(segments, params)
        page.resources = [validated(resource) for resource in page.resources]
        seen: set[tuple[str, str]] = set()
        for name in includes:
            include = known[name]
            for row in include.rows(request.user, page.rows):
                for resource in include.expand(row):
                    key = (resource["resourceType"], resource["id"])
                    if key not in seen:
                        seen.add(key)
                        page.included.append(validated(resource))
        self.audit(request, page.rows, "search")
        base = f"{settings.PORTAL_BASE_URL}/fhir/{self.kind.name}"
        return Response(validated(searchset(base, params, page, with_total=self.kind.total)))


class ProcessMessage(FhirView):
    """`POST /fhir/$process-message`: a referral message in, the response message out."""

    write_scope = "referrals:write"

    def post(self, request: Request) -> Response:
        return Response(process_referral_message(request, request.data))
