from django.urls import path

from . import views_reports

app_name = "reports"

urlpatterns = [
    path("", views_reports.report, name="report"),
    path("export.csv", views_reports.export_csv, name="export_csv"),
]
