"""Two people acting on one referral at once, on separate PostgreSQL connections: one wins."""

import threading

import pytest
from django.db import connection

from referrals import services
from referrals.models import Referral, Status
from referrals.workflow import ReferralChanged
from tests.builders import referral_in_state


def run_concurrently(functions):
    """Start every function at the same moment, each on its own thread and DB connection."""
    barrier = threading.Barrier(len(functions))
    outcomes = [None] * len(functions)

    def runner(index, function):
        try:
            barrier.wait(timeout=10)
            outcomes[index] = ("ok", function())
        except Exception as error:  # the outcome is what the test inspects
            outcomes[index] = ("error", error)
        finally:
            connection.close()

    threads = [threading.Thread(target=runner, args=(i, f)) for i, f in enumerate(functions)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    return outcomes


@pytest.mark.concurrency
@pytest.mark.django_db(transaction=True)
def test_accept_twice_concurrently_only_one_wins(people):
    referral = referral_in_state(people, Status.SUBMITTED)
    # Both coordinators opened the referral before either pressed "accept".
    first, second = (Referral.objects.get(pk=referral.pk) for _ in range(2))

    def accept(copy):
        return lambda: services.referral_accept(
            referral=copy, by=people.coordinator_x, facility=people.facility_x
        )

    outcomes = run_concurrently([accept(first), accept(second)])

    kinds = sorted(kind for kind, _ in outcomes)
    assert kinds == ["error", "ok"]
    error = next(value for kind, value in outcomes if kind == "error")
    assert isinstance(error, ReferralChanged)
    referral.refresh_from_db()
    assert referral.status == Status.ACCEPTED
    assert referral.events.filter(action="accept").count() == 1


@pytest.mark.concurrency
@pytest.mark.django_db(transaction=True)
def test_accept_and_decline_at_once_leave_one_consistent_outcome(people):
    referral = referral_in_state(people, Status.SUBMITTED)
    version = referral.version
    first, second = (Referral.objects.get(pk=referral.pk) for _ in range(2))

    def accept():
        return services.referral_accept(
            referral=first, by=people.coordinator_x, facility=people.facility_x
        )

    def decline():
        return services.referral_decline(
            referral=second, by=people.coordinator_x, reason="duplicate"
        )

    outcomes = run_concurrently([accept, decline])

    assert sorted(kind for kind, _ in outcomes) == ["error", "ok"]
    # The loser acted on the version both had opened, which the winner had just replaced.
    loser = next(value for kind, value in outcomes if kind == "error")
    assert isinstance(loser, ReferralChanged), repr(loser)
    winner = "accept" if outcomes[0][0] == "ok" else "decline"
    referral.refresh_from_db()
    assert referral.version == version + 1
    # Only the winner's move happened: its event and its state, nothing of the loser's.
    moves = referral.events.exclude(action__in=["create", "submit"])
    if winner == "accept":
        assert list(moves.values_list("action", "reason_code")) == [("accept", "")]
        assert (referral.status, referral.facility) == (Status.ACCEPTED, people.facility_x)
    else:
        assert list(moves.values_list("action", "reason_code")) == [("decline", "duplicate")]
        assert (referral.status, referral.facility) == (Status.DECLINED, None)
