from django.urls import path

from . import views

app_name = "outcomes"

urlpatterns = [
    path("due/", views.due, name="due"),
    path("<str:reference>/", views.progress, name="progress"),
    path(
        "<str:reference>/record/<slug:instrument>/<slug:timepoint>/",
        views.record,
        name="record",
    ),
]
