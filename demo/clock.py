"""The demo's story clock: Django's `timezone.now` turned to the moment each step happens.

The services stamp events, sessions, assessments, consent records and outbox rows with
`timezone.now()` (or a field default that calls it), and the timeline and consent history cannot
be back-dated afterwards (they are append-only). So the demo does not rewrite dates: it plays
every referral's journey with the clock at the time that step happens in the story, moving
forward only, and the services write what they would have written then.

`play` interleaves the journeys in time order, so what one journey sees (a class filling up, a
waiting list) is what the others had done by then. Neither `time_machine` nor `freezegun` is a
dependency of the project, and only Django's clock matters here, so the patch is the two
functions Django's code calls (`timezone.now` and `timezone.localdate`, including as field
defaults) rather than the whole interpreter's clock.
"""

from __future__ import annotations

import contextlib
import datetime
import heapq
from collections.abc import Callable, Iterator
from unittest import mock

from django.apps import apps
from django.utils import timezone

# A journey is a generator: it yields the moment its next step happens, and when resumed (with
# the clock at that moment) does the step and yields the moment of the one after.
Steps = Iterator[datetime.datetime]


class StoryClock:
    """A clock that starts at `start` and only moves forward, to the moments it is given."""

    def __init__(self, start: datetime.datetime):
        self.now = start

    def advance_to(self, moment: datetime.datetime) -> None:
        if moment < self.now:
            raise ValueError(f"The story clock cannot go back from {self.now} to {moment}")
        self.now = moment

    @contextlib.contextmanager
    def running(self) -> Iterator[StoryClock]:
        """Turn Django's clock to this one inside the block (and back afterwards)."""
        real_now, real_localdate = timezone.now, timezone.localdate

        def now() -> datetime.datetime:
            return self.now

        def localdate(value=None, timezone=None):  # Django's own signature
            return real_localdate(value or self.now, timezone)

        replacements: dict[Callable, Callable] = {real_now: now, real_localdate: localdate}
        with contextlib.ExitStack() as stack:
            stack.enter_context(mock.patch("django.utils.timezone.now", now))
            stack.enter_context(mock.patch("django.utils.timezone.localdate", localdate))
            # Field defaults hold the clock function itself (`default=timezone.now`), and Django
            # caches it as the field's `_get_default`: turn those too.
            for model in apps.get_models():
                for model_field in model._meta.concrete_fields:
                    default = getattr(model_field, "default", None)
                    if callable(default) and default in replacements:
                        stack.enter_context(
                            mock.patch.object(model_field, "_get_default", replacements[default])
                        )
            yield self


def play(clock: StoryClock, journeys: list[Steps], *, until: datetime.datetime) -> int:
    """Run the journeys' steps in time order on `clock`; returns how many steps ran.

    Every moment must fall before `until` (the start of the day the seed runs): nothing in the
    story is dated in the future, and a register for today is still to be taken.
    """
    queue: list[tuple[datetime.datetime, int, Steps]] = []

    def schedule(index: int, steps: Steps) -> None:
        moment = next(steps, None)
        if moment is None:
            return
        if moment >= until:
            raise ValueError(f"A demo step at {moment} is not in the past (before {until})")
        heapq.heappush(queue, (moment, index, steps))

    for index, steps in enumerate(journeys):
        schedule(index, steps)
    played = 0
    while queue:
        moment, index, steps = heapq.heappop(queue)
        clock.advance_to(moment)
        schedule(index, steps)  # does the step, and queues the journey's next one
        played += 1
    return played
