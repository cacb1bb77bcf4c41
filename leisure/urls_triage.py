"""The coordinator's pages, mounted at /triage/."""

from django.urls import path

from .views import contact as views_contact
from .views import imports as views_imports
from .views import membership as views_membership
from .views import triage as views_triage

app_name = "triage"

urlpatterns = [
    path("", views_triage.worklist, name="worklist"),
    path("search/clear/", views_triage.clear_search, name="clear_search"),
    path("classes/", views_triage.classes, name="classes"),
    path("classes/<uuid:public_id>/", views_triage.class_detail, name="class"),
    path("imports/", views_imports.imports, name="imports"),
    path("imports/unmatched/", views_imports.unmatched, name="unmatched"),
    path(
        "imports/unmatched/<uuid:row_id>/",
        views_imports.unmatched_resolve,
        name="unmatched_resolve",
    ),
    path("imports/<uuid:import_id>/", views_imports.import_detail, name="import"),
    path("imports/<uuid:import_id>/mapping/", views_imports.import_mapping, name="import_mapping"),
    path(
        "imports/<uuid:import_id>/progress/",
        views_imports.import_progress,
        name="import_progress",
    ),
    path(
        "imports/<uuid:import_id>/rejected.csv",
        views_imports.import_rejected,
        name="import_rejected",
    ),
    path(
        "<str:reference>/contact-attempts/",
        views_contact.contact_attempts,
        name="contact_attempts",
    ),
    path(
        "<str:reference>/membership-number/",
        views_membership.membership_number,
        name="membership_number",
    ),
    path("<str:reference>/<str:name>/", views_triage.action, name="action"),
]
