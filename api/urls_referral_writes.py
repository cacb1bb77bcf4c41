"""Writes to referrals and the patient lookup (`api/views/referral_writes.py`).

Creating a draft (POST) and changing one (PATCH) share the URLs of the list and of one referral
with the reads, so their views are mixed into those (`api/views/referrals.py`); the rest are here.
"""

from django.urls import path

from .views import referral_writes

urlpatterns = [
    path(
        "referrals/<str:reference>/submit/",
        referral_writes.ReferralSubmit.as_view(),
        name="referral-submit",
    ),
    *(
        path(
            f"referrals/<str:reference>/actions/{name}/",
            view.as_view(),
            name=f"referral-{name.replace('_', '-')}",
        )
        for name, view in referral_writes.ACTION_VIEWS.items()
    ),
    path("patients/lookup/", referral_writes.PatientLookup.as_view(), name="patient-lookup"),
]
