"""`manage.py bench [--tier S|M] [--only SECTION ...] [--runs N] ...`: the issue 15 benchmark
(`demo/bench/`). `make bench` runs it on the embedded servers with DEBUG off."""

import datetime
import sys
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from demo.bench.run import SECTIONS, Options, report_text, run
from demo.bench.world import BenchError
from demo.scale import TIERS


def _positive(kind: type) -> Any:
    def parse(value: str) -> Any:
        try:
            number = kind(value)
        except ValueError as error:
            raise ValueError(f"not a number: {value!r}") from error
        if number <= 0:
            raise ValueError("must be more than 0")
        return number

    parse.__name__ = kind.__name__  # argparse names the type in its message
    return parse


class Command(BaseCommand):
    help = (
        "Benchmark the list pages, referral page, reports and CSV in-process, create-and-submit "
        "throughput, the outbox drain and the list pages over HTTP at a scale tier (loaded if "
        "absent), against the targets of issue 15. Prints tables and writes a JSON file."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--tier",
            choices=sorted(TIERS),
            default="M",
            help="The data set (default M); loaded with generate_scale_data "
            "unless the database already holds it.",
        )
        parser.add_argument(
            "--only",
            nargs="+",
            choices=SECTIONS,
            default=list(SECTIONS),
            metavar="SECTION",
            help=f"Sections to run (default all): {', '.join(SECTIONS)}.",
        )
        parser.add_argument(
            "--runs",
            type=_positive(int),
            default=20,
            help="Timed runs per page after a warm-up, and rounds of the list "
            "pages per HTTP client (default 20).",
        )
        parser.add_argument(
            "--budget",
            type=_positive(float),
            default=60.0,
            help="Seconds of timed runs per page before it stops early (at "
            "least one run; default 60).",
        )
        parser.add_argument(
            "--create-seconds",
            type=_positive(float),
            default=10.0,
            help="How long each create-and-submit run lasts (default 10).",
        )
        parser.add_argument(
            "--outbox",
            type=_positive(int),
            default=100_000,
            help="Pending updates to drain (default 100000).",
        )
        parser.add_argument(
            "--outbox-timeout",
            type=_positive(float),
            default=900.0,
            help="Stop waiting for the drain after this many seconds "
            "(default 900) and report the rate so far.",
        )
        parser.add_argument(
            "--output-dir",
            type=Path,
            default=Path(settings.BASE_DIR) / ".data" / "bench",
            help="Where the JSON file and server logs go (default .data/bench).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        sections = tuple(s for s in SECTIONS if s in options["only"])
        bench = Options(
            tier=options["tier"],
            runs=options["runs"],
            sections=sections,
            budget=options["budget"],
            create_seconds=options["create_seconds"],
            outbox_rows=options["outbox"],
            outbox_timeout=options["outbox_timeout"],
            output_dir=options["output_dir"],
            command="manage.py bench " + " ".join(sys.argv[2:]),
        )
        try:
            results = run(bench, log=self.stdout.write)
        except BenchError as error:
            raise CommandError(str(error)) from error
        self.stdout.write("")
        self.stdout.write(report_text(results))
        stamp = datetime.datetime.now(datetime.UTC).strftime("%Y%m%dT%H%M%SZ")
        path = bench.output_dir / f"{bench.tier}-{stamp}.json"
        results.write_json(path)
        self.stdout.write(f"\nWritten: {path}")
