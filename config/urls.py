from django.contrib import admin
from django.urls import include, path
from oauth2_provider.views import TokenView

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
    path("api/v1/", include("api.urls")),
    # FHIR R4 for GP and MSK systems, on the same clients and scopes (docs/fhir.md).
    path("fhir/", include("fhir_server.urls")),
    # OAuth2 client credentials: the one way an organisation's system gets a token (docs/api.md).
    path("oauth/token/", TokenView.as_view(), name="oauth2-token"),
    path("admin/", admin.site.urls),
]
