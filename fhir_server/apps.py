from django.apps import AppConfig


class FhirConfig(AppConfig):
    """`/fhir/`: HL7 FHIR R4 for GP and MSK systems, on the API's clients, scopes and services."""

    name = "fhir_server"
    label = "fhir_server"
