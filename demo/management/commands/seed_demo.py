"""`manage.py seed_demo [--if-empty]`: load the Leeds demo scheme (see `demo/seed.py`)."""

import time

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from accounts.models import Organisation
from demo.data import DEMO_API_SECRET, DEMO_PASSWORD, DEMO_URL
from demo.seed import seed_demo


class Command(BaseCommand):
    help = (
        "Create demo organisations, people and programmes, and play the last nine months of "
        "referrals in every state through the services, each step dated when it happened. "
        "Safe to run again: nothing is created or changed twice."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--if-empty",
            action="store_true",
            help="Seed only when the database has no organisations yet (used by `make run`).",
        )
        parser.add_argument(
            "--allow-production",
            action="store_true",
            help="Seed even with PORTAL_ENV=production (the demo password is public).",
        )

    def handle(self, *args, if_empty=False, allow_production=False, **options):
        if getattr(settings, "PRODUCTION", False) and not allow_production:
            raise CommandError(
                "Refusing to load demo accounts with a public password into production; "
                "pass --allow-production for a demo site."
            )
        if if_empty and Organisation.objects.exists():
            self.stdout.write("Demo data not loaded: the database already has organisations.")
            return
        started = time.monotonic()
        report = seed_demo(log=self.stdout.write)
        elapsed = time.monotonic() - started
        created = ", ".join(f"{count} {name}" for name, count in report.created.items() if count)
        self.stdout.write(
            self.style.SUCCESS(
                f"Demo data ready in {elapsed:.1f} s ({created or 'nothing new: already loaded'})."
            )
        )
        self.stdout.write(self._sign_in_table(report.sign_ins))
        self.stdout.write(self._api_client_table(report.api_clients))
        self.stdout.write(f"\nSign in at {DEMO_URL}")

    @classmethod
    def _sign_in_table(cls, sign_ins) -> str:
        rows = [("Email", "Role", "Organisation", "Password")]
        rows += [
            (email, role, organisation, DEMO_PASSWORD) for email, role, organisation in sign_ins
        ]
        return cls._table("Demo sign-ins:", rows)

    @classmethod
    def _api_client_table(cls, clients) -> str:
        rows = [("Client id", "System", "Organisation", "Secret")]
        rows += [(client_id, name, org, DEMO_API_SECRET) for client_id, name, org in clients]
        return cls._table("Demo API clients (token at /oauth/token/, docs at /api/v1/docs/):", rows)

    @staticmethod
    def _table(title: str, rows: list[tuple[str, str, str, str]]) -> str:
        widths = [max(len(row[column]) for row in rows) for column in range(4)]
        lines = [
            "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True))
            for row in rows
        ]
        lines.insert(1, "  ".join("-" * width for width in widths))
        return "\n".join(["", title, *(line.rstrip() for line in lines)])
