"""Organization, Location and HealthcareService (who runs what, where), and the conformance
resources (CodeSystem, Questionnaire), which hold no patient data.

The offer is scoped as the API's catalogue is (`facilities.selectors.*_visible_to`): an operator
sees its own programmes and facilities, a referrer what it can refer to. An organisation is
visible to its own clients and to those it has dealings with: the operators of the programmes they
can see, and the other party of each referral they can see. CodeSystems and Questionnaires are
public, like the CapabilityStatement that lists them.
"""

import uuid
from typing import Any

from django.db.models import Prefetch, Q, QuerySet

from accounts.models import Organisation
from accounts.permissions import active_memberships
from clinical.fhir_systems import ODS_ORGANISATION, portal_system
from facilities.models import Facility, Programme, ProgrammeClass
from facilities.selectors import facilities_visible_to, programmes_visible_to
from outcomes import instruments
from referrals.selectors import referral_list_for

from .resources.codesystems import CODE_SYSTEMS, code_system
from .resources.directory import healthcare_service, location, organization
from .resources.questionnaires import instrument_questionnaire, safety_screen_questionnaire
from .search import Param, Segment, nothing, reference_id, token
from .types import ResourceType


def _uuid_q(value: str, field: str = "public_id") -> Q:
    try:
        return Q(**{field: uuid.UUID(value)})
    except ValueError:
        return nothing()


def organisation_rows(user: Any) -> QuerySet[Organisation]:
    referrals = referral_list_for(user)
    return Organisation.objects.filter(
        Q(pk__in=[m.organisation_id for m in active_memberships(user)])
        | Q(pk__in=programmes_visible_to(user).values("operator_id"))
        | Q(pk__in=referrals.values("referring_organisation_id"))
        | Q(pk__in=referrals.exclude(operator=None).values("operator_id"))
    ).order_by("id")


def facility_rows(user: Any) -> QuerySet[Facility]:
    return facilities_visible_to(user).select_related("operator").order_by("id")


def programme_rows(user: Any) -> QuerySet[Programme]:
    facilities = facilities_visible_to(user)
    return (
        programmes_visible_to(user)
        .select_related("operator")
        .prefetch_related(
            Prefetch(
                "classes",
                queryset=ProgrammeClass.objects.filter(is_active=True, facility__in=facilities)
                .select_related("facility")
                .order_by("facility__name", "id"),
                to_attr="visible_classes",
            )
        )
        .order_by("id")
    )


def _service(programme: Programme) -> dict:
    facilities = list(
        {c.facility.pk: c.facility for c in getattr(programme, "visible_classes", [])}.values()
    )
    return healthcare_service(programme, facilities)


def _organisation_identifier(value: str, key: str) -> Q:
    system, code = token(value)
    if system in (None, ODS_ORGANISATION, portal_system("Id/organisation-code")) and code:
        return Q(code=code)
    return nothing()


def _identifier(system_name: str) -> Any:
    def build(value: str, key: str) -> Q:
        system, code = token(value)
        return _uuid_q(code) if system in (None, portal_system(system_name)) else nothing()

    return build


def _operator(value: str, key: str) -> Q:
    return Q(operator__code=reference_id(value, "Organization"))


def _name(value: str, key: str) -> Q:
    return Q(name__icontains=value)


ORGANIZATION = ResourceType(
    name="Organization",
    scope="referrals:read",
    documentation="GP practices and MSK services (ODS code), leisure operators and "
    "commissioners the client deals with; id = the organisation's code.",
    sources=lambda user, params: [Segment(organisation_rows(user), lambda o: [organization(o)])],
    read=lambda user, id_: next(
        (organization(o) for o in organisation_rows(user).filter(code=id_)), None
    ),
    params={
        "_id": Param("token", "The organisation's code", lambda v, k: Q(code=v)),
        "identifier": Param(
            "token", "ODS code, or a leisure operator's code", _organisation_identifier
        ),
        "name": Param("string", "Part of the name", _name),
    },
)
LOCATION = ResourceType(
    name="Location",
    scope="referrals:read",
    documentation="Leisure centres: the operator's own, or those running a class a referrer "
    "can refer to.",
    sources=lambda user, params: [Segment(facility_rows(user), lambda f: [location(f)])],
    read=lambda user, id_: next(
        (location(f) for f in facility_rows(user).filter(_uuid_q(id_))), None
    ),
    params={
        "_id": Param("token", "The logical id", lambda v, k: _uuid_q(v)),
        "identifier": Param("token", "The facility's id", _identifier("Id/facility")),
        "organization": Param("reference", "The operator (Organization/<code>)", _operator),
        "name": Param("string", "Part of the name", _name),
    },
)
HEALTHCARE_SERVICE = ResourceType(
    name="HealthcareService",
    scope="referrals:read",
    documentation="Exercise programmes, with the leisure centres that run them: the performer "
    "an inbound ServiceRequest names.",
    sources=lambda user, params: [Segment(programme_rows(user), lambda p: [_service(p)])],
    read=lambda user, id_: next(
        (_service(p) for p in programme_rows(user).filter(_uuid_q(id_))), None
    ),
    params={
        "_id": Param("token", "The logical id", lambda v, k: _uuid_q(v)),
        "identifier": Param("token", "The programme's id", _identifier("Id/programme")),
        "organization": Param("reference", "The operator (Organization/<code>)", _operator),
        "location": Param(
            "reference",
            "A leisure centre (Location/<id>)",
            lambda v, k: Q(
                pk__in=ProgrammeClass.objects.filter(
                    _uuid_q(reference_id(v, "Location"), "facility__public_id"), is_active=True
                ).values("programme_id")
            ),
        ),
        "name": Param("string", "Part of the name", _name),
    },
)


# --- Conformance resources: built from code, no rows -------------------------------------------


class Listed(list):
    """Resources built from code, paged like rows (`search.page_of` counts and slices)."""

    # A queryset's `count()`, not list's `count(value)`: paging counts the rows (`search.Rows`).
    def count(self) -> int:  # type: ignore[override]
        return len(self)

    def filter(self, *conditions: Any) -> "Listed":
        """`search.filtered` narrows rows by parameter; these were narrowed as they were built
        (`_listing`)."""
        return self


def _conformance_param(element: str) -> Param:
    """Matched in Python over the built resources (`views`), by the element's value."""
    return Param("uri" if element == "url" else "token", f"The {element}", lambda v, k: Q())


def code_systems() -> list[dict]:
    return [code_system(name) for name in CODE_SYSTEMS]


def questionnaires() -> list[dict]:
    return [
        safety_screen_questionnaire(),
        *(instrument_questionnaire(i) for i in instruments.REGISTRY.values()),
    ]


def _listing(resources: list[dict], params: dict[str, list[str]]) -> list[Segment]:
    chosen = [
        resource
        for resource in resources
        if all(
            any(resource.get(name.lstrip("_")) == v.split("|")[0] for v in value.split(","))
            for name, values in params.items()
            if name in ("_id", "url")
            for value in values
        )
    ]
    return [Segment(Listed(chosen), lambda r: [r])]


CODE_SYSTEM = ResourceType(
    name="CodeSystem",
    scope="",
    documentation="The portal's own code systems (decline, discharge and cancel reasons, "
    "referral status, Task outputs…), each at its canonical URL.",
    sources=lambda user, params: _listing(code_systems(), params),
    read=lambda user, id_: code_system(id_) if id_ in CODE_SYSTEMS else None,
    params={"_id": _conformance_param("id"), "url": _conformance_param("url")},
)
QUESTIONNAIRE = ResourceType(
    name="Questionnaire",
    scope="",
    documentation="The safety screen an inbound referral answers, and one per outcome "
    "instrument, each at its canonical URL.",
    sources=lambda user, params: _listing(questionnaires(), params),
    read=lambda user, id_: next((q for q in questionnaires() if q["id"] == id_), None),
    params={"_id": _conformance_param("id"), "url": _conformance_param("url")},
)
