from django.apps import AppConfig


class ApiConfig(AppConfig):
    """`/api/v1/`: organisation systems, through the same services and selectors as the pages."""

    name = "api"
    label = "api"

    def ready(self) -> None:
        from . import schema  # noqa: F401  (registers the OpenAPI security extension)
