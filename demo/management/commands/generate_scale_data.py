"""`manage.py generate_scale_data --tier S|M|XS [--seed N] [--replace]`: national-scale data for
performance work, written with COPY (see `demo/scale.py`)."""

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from demo.scale import TABLES, TIERS, ScaleDataError, generate_scale_data


class Command(BaseCommand):
    help = (
        "Generate a national-scale data set (XS about 2,000 referrals, S 100,000, M 1,000,000) "
        "with valid timelines, sessions and outcome measures. Refused in production; refused "
        "when generated data is present unless --replace."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--tier", required=True, choices=sorted(TIERS), help="How much.")
        parser.add_argument(
            "--seed", type=int, default=15, help="The same seed gives the same data (default 15)."
        )
        parser.add_argument(
            "--replace",
            action="store_true",
            help="Delete the previously generated data (organisations coded SCALE-) first.",
        )

    def handle(self, *args: Any, tier: str, seed: int, replace: bool, **options: Any) -> None:
        self.stdout.write(f"Generating tier {tier} with seed {seed}...")
        try:
            report = generate_scale_data(tier, seed=seed, replace=replace, log=self.stdout.write)
        except ScaleDataError as error:
            raise CommandError(str(error)) from error
        width = max(len(table) for table in TABLES)
        lines = [f"  {table.ljust(width)}  {report.counts[table]:>12,}" for table in TABLES]
        total = sum(report.counts.values())
        self.stdout.write("\n".join(["Rows written:", *lines]))
        self.stdout.write(
            self.style.SUCCESS(
                f"Tier {tier} generated in {report.seconds:.1f} s ({total:,} rows). "
                f"A coordinator to sign in as (force_login or a password you set): "
                f"{report.coordinator_emails[0]}"
            )
        )
