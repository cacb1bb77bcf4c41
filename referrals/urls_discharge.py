"""URLs for the discharge summary, kept apart from `referrals/urls.py` so the two can be edited
at once. Include under the same prefix as the referral pages, without a namespace:

    path("referrals/", include("referrals.urls_discharge")),

and reverse as `reverse("referral_discharge_summary", args=[reference])`.
"""

from django.urls import path

from . import views_discharge

urlpatterns = [
    path(
        "<str:reference>/discharge-summary/",
        views_discharge.discharge_summary,
        name="referral_discharge_summary",
    ),
]
