from django.contrib import admin
from django.urls import include, path

from referrals.views import discharge
from referrals.views.home import home

admin.site.site_header = "Referral Portal platform admin"
admin.site.site_title = "Referral Portal admin"

urlpatterns = [
    path("", home, name="home"),
    path("", include("accounts.urls")),
    path("accounts/", include("allauth.urls")),
    path(
        "referrals/<str:reference>/discharge-summary/",
        discharge.discharge_summary,
        name="referral_discharge_summary",
    ),
    path("referrals/", include("referrals.urls")),
    path("triage/", include("leisure.urls_triage")),
    path("today/", include("leisure.urls_register")),
    path("manage/", include("manage.urls")),
    path("outcomes/", include("outcomes.urls")),
    path("reports/", include("outcomes.urls_reports")),
    path("audit/", include("manage.urls_audit")),
    path("admin/", admin.site.urls),
]
