"""`python manage.py create_api_client --organisation <code> --name <name> --scopes "<scopes>"`

Prints one JSON object with `client_id` and `client_secret` (the secret is shown only here) for
the platform's operators to hand to the organisation; admins also create clients in `/manage/`.
"""

import json

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from accounts.api_clients import api_client_create
from accounts.models import ApiScope, Organisation


class Command(BaseCommand):
    help = "Create an OAuth2 client-credentials API client for an organisation; prints JSON."

    def add_arguments(self, parser):
        parser.add_argument(
            "--organisation", required=True, help="The organisation's ODS or portal code"
        )
        parser.add_argument("--name", required=True, help="What the client is, e.g. its system")
        parser.add_argument(
            "--scopes",
            required=True,
            help=f"Space-separated, from: {' '.join(ApiScope.values)}",
        )

    def handle(self, *args, organisation: str, name: str, scopes: str, **options):
        found = Organisation.objects.filter(code__iexact=organisation.strip()).first()
        if found is None:
            raise CommandError(f"No organisation has the code {organisation!r}")
        try:
            issued = api_client_create(
                organisation=found, name=name, scopes=scopes.split(), by=None
            )
        except ValidationError as error:
            messages = (
                [f"{field}: {m}" for field, ms in error.message_dict.items() for m in ms]
                if hasattr(error, "error_dict")
                else error.messages
            )
            raise CommandError("; ".join(messages)) from None
        self.stdout.write(json.dumps(issued.as_json()))
