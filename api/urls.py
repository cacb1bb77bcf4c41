from django.urls import include, path, re_path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView
from rest_framework.permissions import AllowAny

from .problems import no_such_endpoint
from .views import referrals

# The schema and its Swagger UI are public (no patient data) and served from this host only:
# Swagger UI from drf-spectacular-sidecar's files, its settings script from a URL (not inline).
# No Redoc: its page loads fonts from Google.
PUBLIC = {"authentication_classes": [], "permission_classes": [AllowAny]}

app_name = "api"
urlpatterns = [
    path("referrals/", referrals.ReferralList.as_view(), name="referral-list"),
    path("referrals/<str:reference>/", referrals.ReferralDetail.as_view(), name="referral-detail"),
    # Writes to referrals (drafts, submission, workflow actions) and patient lookup.
    path("", include("api.urls_referral_writes")),
    # Catalogue, sessions and attendance, assessments, the events feed, notifications.
    path("", include("api.urls_data")),
    path("schema/", SpectacularAPIView.as_view(**PUBLIC), name="schema"),
    path(
        "docs/",
        SpectacularSwaggerSplitView.as_view(url_name="api:schema", **PUBLIC),
        name="docs",
    ),
    # Last: whatever matched nothing above is a 404 problem document.
    re_path(r"^", no_such_endpoint, name="no-such-endpoint"),
]
