"""UK postcodes: validation, normalisation and the district used to route referrals."""

import re

from django.core.exceptions import ValidationError

# The formats in BS 7666 plus GIR 0AA; inward code letters exclude C, I, K, M, O and V.
_POSTCODE = re.compile(
    r"^(GIR ?0AA|[A-PR-UWYZ](?:[0-9][0-9A-HJKPS-UW]?|[A-HK-Y][0-9][0-9ABEHMNPRV-Y]?)"
    r" ?[0-9][ABD-HJLNP-UW-Z]{2})$"
)


def normalise_postcode(value: str) -> str:
    """Upper case with one space before the inward code: ' sw1a1aa ' -> 'SW1A 1AA'."""
    compact = re.sub(r"\s+", "", value or "").upper()
    if len(compact) < 5:
        return compact
    return f"{compact[:-3]} {compact[-3:]}"


def validate_postcode(value: str) -> None:
    if not _POSTCODE.match(normalise_postcode(value)):
        raise ValidationError(
            "Enter a real UK postcode, like SW1A 1AA", code="invalid_postcode", params={}
        )


def postcode_district(value: str) -> str:
    """The outward code ('LS6 2AB' -> 'LS6'), which is how facilities say what area they serve."""
    return normalise_postcode(value).split(" ")[0]
