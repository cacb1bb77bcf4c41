from django.contrib import admin
from django.urls import include, path

admin.site.site_header = "Referral Portal platform admin"
admin.site.site_title = "Referral Portal admin"

urlpatterns = [
    path("", include("accounts.urls")),
    path("accounts/", include("allauth.urls")),
    path("referrals/", include("referrals.urls_discharge")),
    path("referrals/", include("referrals.urls")),
    path("triage/", include("referrals.urls_triage")),
    path("today/", include("referrals.urls_register")),
    path("manage/", include("facilities.urls")),
    path("outcomes/", include("outcomes.urls")),
    path("reports/", include("outcomes.urls_reports")),
    path("audit/", include("audit.urls")),
    path("admin/", admin.site.urls),
]
