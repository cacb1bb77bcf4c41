"""Patient: the record the organisation that referred keeps (each organisation its own)."""

from clinical.fhir_systems import NHS_NUMBER, ODS_ORGANISATION, portal_system
from referrals.models import Patient, Sex

from .common import meta, telecom

GENDER = {
    Sex.FEMALE: "female",
    Sex.MALE: "male",
    Sex.INDETERMINATE: "other",
    Sex.NOT_KNOWN: "unknown",
}
INTERPRETER_REQUIRED = "http://hl7.org/fhir/StructureDefinition/patient-interpreterRequired"


def patient_resource(patient: Patient) -> dict:
    identifiers = []
    if patient.nhs_number:
        identifiers.append({"system": NHS_NUMBER, "value": patient.nhs_number})
    identifiers.append({"system": portal_system("Id/patient"), "value": str(patient.public_id)})
    resource: dict = {
        "resourceType": "Patient",
        "id": str(patient.public_id),
        **meta(patient.updated_at),
        "identifier": identifiers,
        "name": [{"use": "official", "family": patient.family_name, "given": [patient.given_name]}],
        "gender": GENDER[Sex(patient.sex)],
        "birthDate": patient.date_of_birth.isoformat(),
        "address": [{"use": "home", "postalCode": patient.postcode}],
        "managingOrganization": {
            "reference": f"Organization/{patient.organisation.code}",
            "display": patient.organisation.name,
        },
    }
    if contacts := telecom(phone=patient.phone, email=patient.email, use="home"):
        resource["telecom"] = contacts
    if patient.interpreter_needed:
        resource["extension"] = [{"url": INTERPRETER_REQUIRED, "valueBoolean": True}]
        resource["communication"] = [
            {"language": {"text": patient.interpreter_language}, "preferred": True}
        ]
    if patient.registered_gp_ods:
        resource["generalPractitioner"] = [
            {
                "type": "Organization",
                "identifier": {"system": ODS_ORGANISATION, "value": patient.registered_gp_ods},
            }
        ]
    return resource
