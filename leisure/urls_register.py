"""URLs of the instructor's pages, kept apart from `referrals/urls.py` so the two can be edited
at once. Included by the project URLconf as

    path("today/", include("referrals.urls_register")),

and reversed as `register:today`, `register:register`, `register:mark`, `register:incident`,
`register:caseload`.
"""

import datetime

from django.urls import path, register_converter

from accounts.validation import parse_iso_date

from .views import incident as views_incident
from .views import register as views_register


class IsoDateConverter:
    """A calendar date as YYYY-MM-DD; an impossible date (2025-02-30) is a 404."""

    regex = r"[0-9]{4}-[0-9]{2}-[0-9]{2}"

    def to_python(self, value: str) -> datetime.date:
        # Out of the portal's years is a 404 too: the page links a week either side, which
        # would overflow at year 1 or 9999.
        day = parse_iso_date(value)
        if day is None:
            raise ValueError(value)
        return day

    def to_url(self, value) -> str:
        return value.isoformat() if isinstance(value, datetime.date) else str(value)


register_converter(IsoDateConverter, "register_date")

app_name = "register"

urlpatterns = [
    path("", views_register.today, name="today"),
    path(
        "classes/<uuid:class_id>/<register_date:day>/",
        views_register.class_register,
        name="register",
    ),
    path("sessions/<uuid:session_id>/mark/", views_register.mark, name="mark"),
    path("sessions/<uuid:session_id>/incident/", views_incident.log_incident, name="incident"),
    path("caseload/", views_register.caseload, name="caseload"),
]
