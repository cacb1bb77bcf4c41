"""The booking facts both ends need: when and where the patient's first (or next) session is.

The "booked" status update carries them to the referrer (`delivery/notifications.py`, the FHIR
message), the referral page shows them, and the patient letter prints them. They are the centre and
the time only, never who the patient is, so they may travel in an email.
"""

import datetime
from dataclasses import dataclass

from django.utils import formats, timezone

from facilities.models import Facility

from .models import Attendance, Referral, Session, Status

# States in which a referral has sessions still to come that a patient letter can name.
LETTER_STATES = frozenset({Status.BOOKED, Status.ACTIVE})


@dataclass(frozen=True)
class BookedSession:
    """One booked session, with the centre it meets at."""

    at: datetime.datetime
    duration_minutes: int | None
    class_name: str
    kind_label: str
    centre: Facility | None

    @property
    def centre_name(self) -> str:
        return self.centre.name if self.centre else ""

    @property
    def when_and_where(self) -> str:
        """For people: "Tuesday 8 December 2026, 10:00, X Leisure Centre"."""
        when = formats.date_format(timezone.localtime(self.at), "l j F Y, H:i")
        return f"{when}, {self.centre_name}" if self.centre_name else when

    def as_payload(self) -> dict[str, str]:
        """What a status update may say about it: the time and the centre, nothing more."""
        return {"first_session_at": self.at.isoformat(), "centre": self.centre_name}


def next_booked_session(
    referral: Referral, *, after: datetime.datetime | None = None
) -> BookedSession | None:
    """The earliest session still booked after `after` (now): at booking, the first session."""
    return _earliest(referral, after or timezone.now(), Attendance.BOOKED)


def first_session_booked_at(referral: Referral, moment: datetime.datetime) -> BookedSession | None:
    """The first session of a booking made at `moment`, whatever became of it since: what the
    booking said, for the timeline."""
    return _earliest(referral, moment)


def _earliest(
    referral: Referral, after: datetime.datetime, status: str | None = None
) -> BookedSession | None:
    sessions = Session.objects.filter(referral=referral, scheduled_at__gt=after)
    if status is not None:
        sessions = sessions.filter(status=status)
    session = (
        sessions.select_related("programme_class__facility").order_by("scheduled_at", "id").first()
    )
    if session is None:
        return None
    programme_class = session.programme_class
    centre = programme_class.facility if programme_class else referral.facility
    return BookedSession(
        at=session.scheduled_at,
        duration_minutes=programme_class.duration_minutes if programme_class else None,
        class_name=programme_class.name if programme_class else "",
        kind_label=session.get_kind_display(),
        centre=centre,
    )
