"""Report durations are measured from submission to the first attended session and are never
negative (issue 11, finding 6: "median days from referral to first session: -55.0")."""

import datetime
import zoneinfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from outcomes import reports
from referrals.models import Attendance, Referral, Session, Status
from tests.builders import referral_in_state

LONDON = zoneinfo.ZoneInfo("Europe/London")
NOW = datetime.datetime(2026, 11, 25, 12, 0, tzinfo=LONDON)
SUBMITTED = datetime.datetime(2026, 11, 20, 12, 0, tzinfo=LONDON)


def attended(referral, when):
    return Session.objects.create(
        referral=referral,
        scheduled_at=when,
        status=Attendance.ATTENDED,
        logged_at=when,
    )


@pytest.fixture
def started(people, frozen_now):
    frozen_now(NOW)
    referral = referral_in_state(people, Status.ACCEPTED)
    Referral.objects.filter(pk=referral.pk).update(submitted_at=SUBMITTED)
    return referral


def test_finding_6_report_durations_are_never_negative(people, started):
    # A session dated before the referral was submitted (the old demo wrote these): 80 days
    # before. The first attended session after submission is 4 days after it.
    attended(started, SUBMITTED - datetime.timedelta(days=80))
    attended(started, SUBMITTED + datetime.timedelta(days=4))

    report = reports.programme_report(people.coordinator_x)

    assert report.median_days_to_first_session == 4.0
    rows = dict(reports.headline_rows(report, suppress=False))
    assert rows["Median days from submission to first attended session"] == "4.0"


def test_finding_6_a_first_session_on_the_day_of_submission_is_zero_days(people, started):
    attended(started, SUBMITTED + datetime.timedelta(hours=2))

    assert reports.programme_report(people.coordinator_x).median_days_to_first_session == 0.0


def test_finding_6_report_durations_are_never_negative_for_any_dates(people, started):
    @settings(max_examples=40, deadline=None)
    @given(
        offsets=st.lists(st.integers(min_value=-400, max_value=400), min_size=1, max_size=5),
        hour=st.integers(min_value=0, max_value=23),
    )
    def check(offsets, hour):
        Session.objects.filter(referral=started).delete()
        for offset in sorted(set(offsets)):
            moment = SUBMITTED.replace(hour=hour) + datetime.timedelta(days=offset)
            attended(started, moment)
        # Submitted at noon: a session at `hour` on day `offset` is on or after it when the
        # offset is positive, or on the same day from noon on.
        after = [o for o in offsets if o > 0 or (o == 0 and hour >= 12)]

        median = reports.programme_report(people.coordinator_x).median_days_to_first_session

        assert median is None or median >= 0
        assert median == (float(min(after)) if after else None)

    check()
