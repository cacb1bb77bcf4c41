from django.urls import path

from .views import alerts, consent, dashboard, letter, record, wizard

app_name = "referrals"
urlpatterns = [
    path("", dashboard.dashboard, name="dashboard"),
    path("search/clear/", dashboard.clear_search, name="clear_search"),
    path("new/", wizard.new_referral, name="new"),
    path("<str:reference>/", record.referral_detail, name="detail"),
    path("<str:reference>/edit/<str:step>/", wizard.edit_step, name="step"),
    path("<str:reference>/check/", wizard.check_answers, name="check"),
    path("<str:reference>/confirmation/", wizard.confirmation, name="confirmation"),
    path("<str:reference>/answer/", record.answer_information, name="answer"),
    path("<str:reference>/cancel/", record.cancel_referral, name="cancel"),
    path("<str:reference>/consent/", consent.record_consent, name="consent"),
    path(
        "<str:reference>/alerts/<uuid:alert_id>/acknowledge/",
        alerts.acknowledge_alert,
        name="alert_acknowledge",
    ),
    path("<str:reference>/letter/", letter.patient_letter, name="letter"),
]
