from django.urls import path

from . import views_triage

app_name = "triage"

urlpatterns = [
    path("", views_triage.worklist, name="worklist"),
    path("search/clear/", views_triage.clear_search, name="clear_search"),
    path("<str:reference>/<str:name>/", views_triage.action, name="action"),
]
