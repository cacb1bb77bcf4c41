"""`manage.py import_benchmark --rows 100000`: how fast an attendance file imports.

Writes a realistic export (UTF-8 with a byte order mark, `;` separated, day-first dates, about
one row in ten for a member the portal does not know, some did-not-attend rows, duplicated,
blank and unreadable rows) for an operator's open referrals, imports it through the real
services (`import_create`, then `import_run` synchronously, in chunks as the Celery task runs it)
and prints the rate. Everything happens inside a transaction that is rolled back: the database
is left as it was (the membership numbers it sets, the visits, the import). Needs an operator
with a coordinator and open referrals (`manage.py seed_demo` makes some).
"""

import datetime as dt
import io
import random
import time
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction
from django.utils import timezone

from accounts.models import Membership, Role
from referrals import services as referral_services
from referrals.models import Referral
from referrals.visits import OPEN_FOR_VISITS

from ...imports.mappings import import_mapping_save
from ...imports.matching import referrals_for_matching
from ...imports.reading import LONDON, ColumnMapping
from ...imports.run import import_run
from ...imports.uploads import import_create

HEADERS = ("Date", "Time", "Member No", "Activity", "Status", "Site", "Notes")
ACTIVITIES = ("Aquafit", "Gym induction", "Circuits \u2013 seated", "Caf\u00e9 walk", "Swim")
STATUSES = {"Attended": "attended", "Checked in": "attended", "No Show": "dna"}
MAPPING = ColumnMapping(
    date="Date",
    time="Time",
    membership_number="Member No",
    activity="Activity",
    status="Status",
    status_values={**STATUSES, "Cancelled": "cancelled"},
)


class _RolledBack(Exception):
    pass


class Command(BaseCommand):
    help = "Import a generated attendance file of --rows rows and print the rate (rolled back)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--rows", type=int, default=100_000)
        parser.add_argument("--members", type=int, default=300, help="referrals to spread over")
        parser.add_argument("--operator", help="the operator's ODS code (default: the first)")
        parser.add_argument("--seed", type=int, default=14)

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            with transaction.atomic():
                self._benchmark(options)
                raise _RolledBack
        except _RolledBack:
            self.stdout.write("Rolled back: the database is as it was.")

    def _benchmark(self, options: dict[str, Any]) -> None:
        coordinator = self._coordinator(options["operator"])
        operator = coordinator.organisation
        referrals = list(
            Referral.objects.filter(operator=operator, status__in=OPEN_FOR_VISITS).order_by("pk")[
                : options["members"]
            ]
        )
        if not referrals:
            raise CommandError(f"{operator} has no open referrals: run manage.py seed_demo first")
        for index, referral in enumerate(referrals):
            referral_services.referral_set_membership_number(
                referral=referral, by=coordinator.user, number=f"BENCH-{index:05}"
            )
        accepted = {
            r.membership_number: r.accepted_at  # type: ignore[attr-defined]
            for r in referrals_for_matching(operator).filter(pk__in=[r.pk for r in referrals])
        }
        started = time.monotonic()
        rng = random.Random(options["seed"])  # noqa: S311  # made-up rows, not secrets
        data = _export(options["rows"], accepted, rng)
        self.stdout.write(
            f"Wrote {options['rows']:,} rows ({len(data) / 1e6:.1f} MB) for {len(accepted)} "
            f"referrals of {operator} in {time.monotonic() - started:.1f} s"
        )
        mapping = import_mapping_save(
            operator=operator, name="Benchmark", mapping=MAPPING, by=coordinator.user
        )
        started = time.monotonic()
        created = import_create(
            operator=operator,
            mapping=mapping,
            filename="benchmark.csv",
            data=data,
            by=coordinator.user,
        )
        run_started = time.monotonic()
        done = import_run(created.pk)
        finished = time.monotonic()
        total, run = finished - started, finished - run_started
        self.stdout.write(
            f"{done.get_status_display()}: {done.rows_read:,} rows read, {done.recorded:,} "
            f"recorded, {done.duplicates:,} duplicates, {done.unmatched:,} unmatched, "
            f"{done.rejected:,} rejected, {done.sessions_marked:,} sessions marked, "
            f"{done.skipped:,} skipped"
        )
        self.stdout.write(
            self.style.SUCCESS(
                f"{done.rows_read / run:,.0f} rows/s; import {run:.1f} s, "
                f"with the upload's checks {total:.1f} s"
            )
        )

    def _coordinator(self, code: str | None) -> Membership:
        memberships = Membership.objects.filter(role=Role.COORDINATOR).select_related(
            "organisation", "user"
        )
        if code:
            memberships = memberships.filter(organisation__code=code)
        membership = memberships.order_by("organisation__code", "pk").first()
        if membership is None:
            raise CommandError("No operator with a coordinator: run manage.py seed_demo first")
        return membership


def _export(rows: int, accepted: dict[str, dt.datetime | None], rng: random.Random) -> bytes:
    """A leisure management system's export: each known member's visits fall between their
    referral's acceptance and now."""
    now = timezone.now()
    members = [(number, at or now - dt.timedelta(days=90)) for number, at in accepted.items()]
    out = io.StringIO()
    out.write(";".join(HEADERS) + "\r\n")
    previous = ""
    for index in range(rows):
        roll = rng.random()
        if roll < 0.002:
            out.write(";;;;;;\r\n")  # a blank row (read, skipped)
            continue
        if roll < 0.03 and previous:
            out.write(previous)  # the same visit twice
            continue
        number, since = rng.choice(members)
        if roll < 0.13:
            number = f"GUEST-{rng.randrange(2000):04}"  # not referred
        span = max(1, int((now - since).total_seconds() // 60) - 60)
        at = (since + dt.timedelta(minutes=rng.randrange(span) + 1)).astimezone(LONDON)
        date = f"{at:%d/%m/%Y}" if roll > 0.015 else f"{at:%m}/{at.day + 31}/{at:%Y}"  # unreadable
        status = "No Show" if roll > 0.95 else rng.choice(("Attended", "Checked in"))
        line = f"{date};{at:%H:%M};{number};{rng.choice(ACTIVITIES)};{status};Riverside;#{index}"
        previous = line + "\r\n"
        out.write(previous)
    return b"\xef\xbb\xbf" + out.getvalue().encode()
