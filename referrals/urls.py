from django.urls import path

from . import views, views_consent

app_name = "referrals"

urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("search/clear/", views.clear_search, name="clear_search"),
    path("new/", views.new_referral, name="new"),
    path("<str:reference>/", views.referral_detail, name="detail"),
    path("<str:reference>/edit/<str:step>/", views.edit_step, name="step"),
    path("<str:reference>/check/", views.check_answers, name="check"),
    path("<str:reference>/confirmation/", views.confirmation, name="confirmation"),
    path("<str:reference>/answer/", views.answer_information, name="answer"),
    path("<str:reference>/cancel/", views.cancel_referral, name="cancel"),
    path("<str:reference>/consent/", views_consent.record_consent, name="consent"),
]
