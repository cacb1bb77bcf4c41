"""The organisation admin's pages, mounted at /manage/. Objects are named by public id only."""

from django.urls import path

from .views import api_clients as views_api_clients
from .views import facilities as views
from .views import members as views_manage
from .views import schedules as views_schedules
from .views import subject_access as views_subject_access

app_name = "manage"

urlpatterns = [
    path("", views.index, name="index"),
    # Leisure operators: facilities, programmes, classes.
    path("<uuid:operator>/facilities/", views.facility_list, name="facilities"),
    path("<uuid:operator>/facilities/new/", views.facility_create, name="facility_create"),
    path("<uuid:operator>/facilities/<uuid:facility>/", views.facility_edit, name="facility_edit"),
    path("<uuid:operator>/programmes/", views.programme_list, name="programmes"),
    path("<uuid:operator>/programmes/new/", views.programme_create, name="programme_create"),
    path(
        "<uuid:operator>/programmes/<uuid:programme>/",
        views.programme_edit,
        name="programme_edit",
    ),
    path(
        "<uuid:operator>/programmes/<uuid:programme>/outcomes/",
        views_schedules.programme_outcomes,
        name="programme_outcomes",
    ),
    path("<uuid:operator>/classes/", views.class_list, name="classes"),
    path("<uuid:operator>/classes/new/", views.class_create, name="class_create"),
    path("<uuid:operator>/classes/<uuid:programme_class>/", views.class_edit, name="class_edit"),
    # Any organisation: its members.
    path("<uuid:organisation>/members/", views_manage.member_list, name="members"),
    path("<uuid:organisation>/members/invite/", views_manage.member_invite, name="member_invite"),
    path(
        "<uuid:organisation>/members/<str:member>/deactivate/",
        views_manage.member_deactivate,
        name="member_deactivate",
    ),
    # Any organisation: the API clients its systems use (ADR 0006).
    path("<uuid:organisation>/api-clients/", views_api_clients.api_client_list, name="api_clients"),
    path(
        "<uuid:organisation>/api-clients/new/",
        views_api_clients.api_client_create_page,
        name="api_client_create",
    ),
    path(
        "<uuid:organisation>/api-clients/<uuid:client>/rotate/",
        views_api_clients.api_client_rotate_page,
        name="api_client_rotate",
    ),
    path(
        "<uuid:organisation>/api-clients/<uuid:client>/revoke/",
        views_api_clients.api_client_revoke_page,
        name="api_client_revoke",
    ),
    # Any organisation: its data protection lead's subject access export.
    path(
        "<uuid:organisation>/subject-access/",
        views_subject_access.subject_access,
        name="subject_access",
    ),
]
