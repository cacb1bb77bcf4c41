"""Working days skip weekends and England and Wales bank holidays (from the holidays package)."""

import datetime

import pytest
from django.utils import timezone

from referrals.models import Referral, Status
from referrals.selectors import referrals_overdue_for_triage
from referrals.working_days import add_working_days, is_working_day, working_days_between
from tests.builders import referral_in_state

D = datetime.date


@pytest.mark.parametrize(
    ("day", "working"),
    [
        (D(2026, 12, 24), True),  # Thursday
        (D(2026, 12, 25), False),  # Christmas Day
        (D(2026, 12, 26), False),  # Saturday (and Boxing Day)
        (D(2026, 12, 28), False),  # Boxing Day substitute, Monday
        (D(2026, 12, 29), True),
        (D(2026, 8, 31), False),  # Late Summer bank holiday
    ],
)
def test_working_day_skips_weekends_and_bank_holidays(day, working):
    assert is_working_day(day) is working


def test_days_waiting_across_christmas_count_only_working_days():
    # Wed 23 Dec -> Tue 29 Dec: 24th and 29th are working days; 25th to 28th are not.
    assert working_days_between(D(2026, 12, 23), D(2026, 12, 29)) == 2


def test_days_waiting_across_a_weekend_and_a_bank_holiday_monday():
    # Fri 28 Aug -> Tue 1 Sep 2026: the weekend and Monday 31 Aug are skipped.
    assert working_days_between(D(2026, 8, 28), D(2026, 9, 1)) == 1


def test_no_days_waiting_on_the_day_itself_or_before():
    assert working_days_between(D(2026, 3, 2), D(2026, 3, 2)) == 0
    assert working_days_between(D(2026, 3, 3), D(2026, 3, 2)) == 0


def test_adding_working_days_lands_after_the_holidays():
    assert add_working_days(D(2026, 12, 24), 1) == D(2026, 12, 29)
    assert add_working_days(D(2026, 12, 29), -1) == D(2026, 12, 24)
    assert add_working_days(D(2026, 3, 2), 0) == D(2026, 3, 2)


def _submitted_on(people, day: datetime.date) -> Referral:
    referral = referral_in_state(people, Status.SUBMITTED)
    moment = timezone.make_aware(datetime.datetime.combine(day, datetime.time(10)))
    Referral.objects.filter(pk=referral.pk).update(submitted_at=moment)
    return referral


def test_overdue_triage_follows_the_programmes_sla_in_working_days(people):
    people.programme_x.triage_sla_days = 5
    people.programme_x.save()
    today = D(2026, 12, 31)  # Thursday
    # 6 working days waited (24, 29, 30, 31 Dec + 22, 23 Dec): overdue.
    late = _submitted_on(people, D(2026, 12, 21))
    # 5 working days waited: due today, not yet overdue.
    due = _submitted_on(people, D(2026, 12, 22))
    queryset = Referral.objects.all()

    overdue = set(referrals_overdue_for_triage(queryset, today=today))

    assert working_days_between(D(2026, 12, 21), today) == 6
    assert working_days_between(D(2026, 12, 22), today) == 5
    assert overdue == {late}
    assert due not in overdue


def test_only_submitted_referrals_can_be_overdue(people):
    referral = referral_in_state(people, Status.ACCEPTED)
    Referral.objects.filter(pk=referral.pk).update(
        submitted_at=timezone.now() - datetime.timedelta(days=60)
    )
    assert not referrals_overdue_for_triage(Referral.objects.all()).exists()
