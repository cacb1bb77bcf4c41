"""The code systems and identifier namespaces every FHIR resource the portal sends or serves uses.

National ones are fixed URIs. The portal's own (referral references, facility ids, the coded
decline, discharge and cancel reasons, the referral status) live under `PORTAL_FHIR_NAMESPACE`,
one configured URI that never follows the host the portal runs on: a receiver matches on these
strings, so they must not change when the portal moves. The server publishes each of its code
systems as a CodeSystem resource whose `url` is the system below (`/fhir/CodeSystem/<name>`).
"""

from django.conf import settings

SNOMED = "http://snomed.info/sct"
LOINC = "http://loinc.org"
UCUM = "http://unitsofmeasure.org"
NHS_NUMBER = "https://fhir.nhs.uk/Id/nhs-number"
ODS_ORGANISATION = "https://fhir.nhs.uk/Id/ods-organization-code"
UBRN = "https://fhir.nhs.uk/Id/UBRN"
BARS_MESSAGE_EVENTS = "https://fhir.nhs.uk/CodeSystem/message-events-bars"
OBSERVATION_CATEGORY = "http://terminology.hl7.org/CodeSystem/observation-category"

# The instruments' units in UCUM (what a receiver computes with), where UCUM has them.
UCUM_UNITS = {
    "kg": "kg",
    "cm": "cm",
    "m": "m",
    "kg/m²": "kg/m2",
    "mmHg": "mm[Hg]",
    "beats/min": "/min",
}


def quantity(value: int | float, unit: str) -> dict:
    """A FHIR Quantity: the unit as shown, and its UCUM code where there is one."""
    found: dict = {"value": value}
    if unit:
        found["unit"] = unit
        if unit in UCUM_UNITS:
            found.update(system=UCUM, code=UCUM_UNITS[unit])
    return found


def portal_system(name: str) -> str:
    """A code system or identifier namespace of this portal, e.g. its referral references:
    under PORTAL_FHIR_NAMESPACE, which does not change with the host."""
    return f"{settings.PORTAL_FHIR_NAMESPACE}/{name}"


def portal_canonical(resource_type: str, name: str) -> str:
    """The canonical URL of a conformance resource the portal publishes (a CodeSystem, a
    Questionnaire): the same string as the system it defines."""
    return portal_system(f"{resource_type}/{name}")
