"""NHS numbers: ten digits whose last is a modulus-11 check digit."""

import re

import nhs_number
from django.core.exceptions import ValidationError


def normalise_nhs_number(value: str) -> str:
    """Drop the spaces and dashes people type: '943 476 5919' -> '9434765919'."""
    return re.sub(r"[\s-]+", "", value or "")


def validate_nhs_number(value: str) -> None:
    digits = normalise_nhs_number(value)
    if not re.fullmatch(r"\d{10}", digits):
        raise ValidationError("NHS number must be 10 digits", code="nhs_number_length")
    if not nhs_number.is_valid(digits):
        raise ValidationError(
            "NHS number is not valid: check the digits and try again", code="nhs_number_checksum"
        )


def format_nhs_number(value: str) -> str:
    """The 3-3-4 grouping the NHS uses on screen: '943 476 5919'."""
    digits = normalise_nhs_number(value)
    return f"{digits[:3]} {digits[3:6]} {digits[6:]}" if len(digits) == 10 else digits


def synthetic_nhs_numbers():
    """Valid numbers from the 999 range, never issued to real people (for demo and tests)."""
    for stem in range(999_000_000, 1_000_000_000):
        candidate = str(stem)
        total = sum(int(d) * (10 - i) for i, d in enumerate(candidate))
        check = 11 - total % 11
        if check == 11:
            check = 0
        if check == 10:
            continue
        yield candidate + str(check)
