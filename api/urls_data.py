"""The offer, sessions and attendance, check-ins, assessments, the events feed and in-app updates
(included from `api.urls` in the `api` namespace)."""

from django.urls import path

from .views import assessments, catalogue, checkins, events, notifications, sessions

urlpatterns = [
    path("programmes/", catalogue.ProgrammeList.as_view(), name="programme-list"),
    path("facilities/", catalogue.FacilityList.as_view(), name="facility-list"),
    path("classes/", catalogue.ClassList.as_view(), name="class-list"),
    path("sessions/", sessions.SessionList.as_view(), name="session-list"),
    path(
        "sessions/<uuid:id>/attendance/",
        sessions.SessionAttendance.as_view(),
        name="session-attendance",
    ),
    path(
        "referrals/<str:reference>/assessments/",
        assessments.ReferralAssessments.as_view(),
        name="referral-assessments",
    ),
    path("checkins/", checkins.Checkins.as_view(), name="checkins"),
    path("events/", events.EventsFeed.as_view(), name="event-feed"),
    path("notifications/", notifications.NotificationList.as_view(), name="notification-list"),
    path(
        "notifications/<uuid:id>/read/",
        notifications.NotificationRead.as_view(),
        name="notification-read",
    ),
]
