"""`manage.py subject_access --organisation CODE --nhs-number N --format json|html --output FILE`.

The same export the data protection lead downloads from /manage/<organisation>/subject-access/
(`governance/subject_access.py`), for requests answered by the platform's operators.
"""

import json
from pathlib import Path

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.template.loader import render_to_string

from accounts.models import Organisation
from audit.models import AccessKind
from audit.services import audit_read_by
from governance.subject_access import document_context, subject_access_export
from referrals.nhs_numbers import normalise_nhs_number, validate_nhs_number


class Command(BaseCommand):
    help = "Write everything one organisation holds about one patient (by NHS number) to a file."

    def add_arguments(self, parser):
        parser.add_argument("--organisation", required=True, help="The organisation's code.")
        parser.add_argument("--nhs-number", required=True)
        parser.add_argument("--format", choices=["json", "html"], default="json")
        parser.add_argument("--output", required=True, help="The file to write.")

    def handle(self, *args, organisation, nhs_number, format, output, **options):
        try:
            holder = Organisation.objects.get(code=organisation)
        except Organisation.DoesNotExist:
            raise CommandError(f"No organisation has the code {organisation!r}") from None
        number = normalise_nhs_number(nhs_number)
        try:
            validate_nhs_number(number)
        except ValidationError:
            raise CommandError(f"{nhs_number!r} is not a valid NHS number") from None
        export = subject_access_export(holder, number)
        if export is None:
            raise CommandError(f"{holder.name} holds no record of a patient with that NHS number")
        audit_read_by(
            None,
            AccessKind.SUBJECT_ACCESS,
            organisation=holder,
            role="command",
            referrals=export.referrals,
            patients=export.patients,
            description=f"Subject access export ({format}) by manage.py subject_access",
        )
        if format == "json":
            text = json.dumps(export.data, indent=2, ensure_ascii=False)
        else:
            text = render_to_string("manage/subject_access_document.html", document_context(export))
        path = Path(output)
        try:
            path.write_text(text, encoding="utf-8")
        except OSError as error:
            raise CommandError(f"Could not write {path}: {error.strerror}") from None
        self.stdout.write(
            f"Wrote {len(export.data['referrals'])} referral(s) held by {holder.name} to {path}."
        )
