"""Every resource type the server serves, by name: the one list the views and the
CapabilityStatement read."""

from .types import ResourceType
from .types_directory import (
    CODE_SYSTEM,
    HEALTHCARE_SERVICE,
    LOCATION,
    ORGANIZATION,
    QUESTIONNAIRE,
)
from .types_outcomes import OBSERVATION, QUESTIONNAIRE_RESPONSE
from .types_record import COMPOSITION, PATIENT, SERVICE_REQUEST, TASK

RESOURCE_TYPES: dict[str, ResourceType] = {
    kind.name: kind
    for kind in (
        PATIENT,
        SERVICE_REQUEST,
        TASK,
        OBSERVATION,
        QUESTIONNAIRE_RESPONSE,
        COMPOSITION,
        ORGANIZATION,
        LOCATION,
        HEALTHCARE_SERVICE,
        QUESTIONNAIRE,
        CODE_SYSTEM,
    )
}
