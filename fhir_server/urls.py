from django.urls import path, re_path

from .http import no_such_interaction
from .views import Metadata, ProcessMessage, Read, Search

app_name = "fhir"
# FHIR ids: [A-Za-z0-9\-\.]{1,64}; type names start with a capital.
urlpatterns = [
    path("metadata", Metadata.as_view(), name="metadata"),
    path("$process-message", ProcessMessage.as_view(), name="process-message"),
    re_path(r"^(?P<resource_type>[A-Z][A-Za-z]+)$", Search.as_view(), name="search"),
    re_path(
        r"^(?P<resource_type>[A-Z][A-Za-z]+)/(?P<resource_id>[A-Za-z0-9\-\.]{1,64})$",
        Read.as_view(),
        name="read",
    ),
    re_path(r"^", no_such_interaction, name="no-such-interaction"),
]
