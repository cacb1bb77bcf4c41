"""Organization, Location (a facility) and HealthcareService (a programme): who and where."""

from accounts.models import Organisation, OrganisationKind
from clinical.conditions import Condition
from clinical.fhir_systems import ODS_ORGANISATION, SNOMED, portal_system
from facilities.models import Facility, Programme

from .common import telecom

ORGANISATION_TYPE = "http://terminology.hl7.org/CodeSystem/organization-type"
# What kind of organisation each is, in FHIR's organization-type codes.
KIND_TYPE: dict[str, tuple[str, str]] = {
    OrganisationKind.GP_PRACTICE: ("prov", "Healthcare Provider"),
    OrganisationKind.MSK_SERVICE: ("prov", "Healthcare Provider"),
    OrganisationKind.LEISURE_OPERATOR: ("other", "Other"),
    OrganisationKind.COMMISSIONER: ("pay", "Payer"),
}


def organisation_identifier(organisation: Organisation) -> dict:
    """An NHS organisation by its ODS code; a leisure operator by the portal's own code."""
    system = (
        portal_system("Id/organisation-code")
        if organisation.kind == OrganisationKind.LEISURE_OPERATOR
        else ODS_ORGANISATION
    )
    return {"system": system, "value": organisation.code}


def organization(organisation: Organisation) -> dict:
    code, display = KIND_TYPE[organisation.kind]
    resource: dict = {
        "resourceType": "Organization",
        "id": organisation.code,
        "identifier": [organisation_identifier(organisation)],
        "active": organisation.is_active,
        "type": [
            {
                "coding": [{"system": ORGANISATION_TYPE, "code": code, "display": display}],
                "text": organisation.get_kind_display(),
            }
        ],
        "name": organisation.name,
    }
    if organisation.shared_mailbox:
        resource["telecom"] = [{"system": "email", "value": organisation.shared_mailbox}]
    return resource


def location(facility: Facility) -> dict:
    lines = [line.strip() for line in facility.address.splitlines() if line.strip()]
    resource: dict = {
        "resourceType": "Location",
        "id": str(facility.public_id),
        "identifier": [{"system": portal_system("Id/facility"), "value": str(facility.public_id)}],
        "status": "active" if facility.is_active else "inactive",
        "name": facility.name,
        "mode": "instance",
        "address": {
            "use": "work",
            "line": lines or [facility.name],
            "postalCode": facility.postcode,
        },
        "managingOrganization": {
            "reference": f"Organization/{facility.operator.code}",
            "display": facility.operator.name,
        },
    }
    if contacts := telecom(phone=facility.phone, email=facility.email, use="work"):
        resource["telecom"] = contacts
    if facility.accessibility_notes:
        resource["description"] = facility.accessibility_notes
    return resource


def healthcare_service(programme: Programme, facilities: list[Facility]) -> dict:
    """A programme, at the facilities that run a class of it; `eligibility` says who it is for."""
    resource: dict = {
        "resourceType": "HealthcareService",
        "id": str(programme.public_id),
        "identifier": [
            {"system": portal_system("Id/programme"), "value": str(programme.public_id)}
        ],
        "active": programme.is_active,
        "providedBy": {
            "reference": f"Organization/{programme.operator.code}",
            "display": programme.operator.name,
        },
        "name": programme.name,
        "referralMethod": [
            {
                "coding": [
                    {
                        "system": "http://terminology.hl7.org/CodeSystem/service-referral-method",
                        "code": "elec",
                        "display": "Secure Messaging",
                    }
                ]
            }
        ],
        "appointmentRequired": True,
    }
    if programme.description:
        resource["comment"] = programme.description
    if facilities:
        resource["location"] = [
            {"reference": f"Location/{facility.public_id}", "display": facility.name}
            for facility in facilities
        ]
    ages = f"aged {programme.min_age}" + (
        f" to {programme.max_age}" if programme.max_age else " or over"
    )
    resource["eligibility"] = [
        {
            "comment": f"Adults {ages}; {programme.planned_sessions} sessions over "
            f"{programme.duration_weeks} weeks."
        }
    ]
    # What the programme is designed for, as the reasons for referral are coded.
    conditions = [code for code in programme.conditions if code in Condition.values]
    if conditions:
        resource["characteristic"] = [
            {
                "coding": [{"system": SNOMED, "code": code, "display": Condition(code).label}],
                "text": Condition(code).label,
            }
            for code in conditions
        ]
    return resource
