"""`manage.py retention [--dry-run] [--years N] [--draft-months N]`: apply the retention rule.

The same rule the daily beat task runs (`governance/retention.py`). `--dry-run` prints what would
be done, per organisation and action with the oldest date, and changes nothing.
"""

from django.core.management.base import BaseCommand, CommandError
from django.utils import formats, timezone

from governance.retention import retention_apply, retention_plan


def _non_negative(value: str) -> int:
    try:
        number = int(value)
    except ValueError:
        number = -1
    if number < 0:
        raise CommandError(f"Expected a whole number of 0 or more, got {value!r}")
    return number


class Command(BaseCommand):
    help = "Pseudonymise records past retention and delete abandoned drafts (see --dry-run)."

    def add_arguments(self, parser):
        parser.add_argument(
            "--dry-run", action="store_true", help="Report what would be done; change nothing."
        )
        parser.add_argument(
            "--years",
            type=_non_negative,
            help="Years kept after a referral ends (default PORTAL_RETENTION_YEARS).",
        )
        parser.add_argument(
            "--draft-months",
            type=_non_negative,
            help="Months an untouched draft is kept (default PORTAL_DRAFT_RETENTION_MONTHS).",
        )

    def handle(self, *args, dry_run=False, years=None, draft_months=None, **options):
        plan = retention_plan(timezone.now(), years=years, draft_months=draft_months)
        c = plan.cutoffs
        self.stdout.write(
            f"Retention {'dry run' if dry_run else 'run'}: referrals that ended before "
            f"{_date(c.ended_before)}, drafts untouched since {_date(c.drafts_untouched_since)}."
        )
        if plan.is_empty:
            self.stdout.write("Nothing is past retention.")
            return
        self.stdout.write(self._table(plan.rows))
        if dry_run:
            self.stdout.write("Dry run: nothing was changed.")
            return
        result = retention_apply(plan)
        done = ", ".join(f"{n} {action}" for action, n in result.counts.items())
        self.stdout.write(self.style.SUCCESS(f"Done: {done}."))

    @staticmethod
    def _table(rows) -> str:
        lines = [("Organisation", "Action", "Count", "Oldest")]
        lines += [(r.organisation, r.action, str(r.count), _date(r.oldest)) for r in rows]
        widths = [max(len(line[i]) for line in lines) for i in range(4)]
        text = [
            "  ".join(cell.ljust(w) for cell, w in zip(line, widths, strict=True)).rstrip()
            for line in lines
        ]
        text.insert(1, "  ".join("-" * w for w in widths))
        return "\n".join(text)


def _date(value) -> str:
    if value is None:
        return "—"
    return formats.date_format(timezone.localtime(value), "j M Y")
