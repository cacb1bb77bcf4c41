"""NHS numbers: ten digits whose last is a modulus-11 check digit, from a range actually issued.

The check digit (NHS Data Dictionary, NHS NUMBER) catches most typing errors but not a number
nobody was ever given: 000 000 0000 passes it. So a number must also fall in a range the UK's
health services issue, each a ten-digit range including the check digit:

- England, Wales and the Isle of Man: 400 000 000 0 - 499 999 999 9 and
  600 000 000 0 - 799 999 999 9 (the shared NHS number scheme; en.wikipedia.org/wiki/NHS_number,
  which cites NHS Digital).
- Scotland, Community Health Index: 010 100 000 0 - 311 299 999 9 (a CHI number starts with the
  date of birth as DDMMYY; NHS Data Dictionary, COMMUNITY HEALTH INDEX NUMBER).
- Northern Ireland, Health and Care Number: 320 000 001 0 - 399 999 999 9 ("320 000 001 to
  399 999 999 plus check digit"; NHS Data Dictionary, HEALTH AND CARE NUMBER).
- 999 000 000 0 - 999 999 999 9 is valid by the checksum but never issued: it is for test and
  demo data, so it is accepted only where `PORTAL_ALLOW_TEST_NHS_NUMBERS` is on (everywhere but
  production, by default).

Wikipedia also says some current English numbers start with 3 outside the CHI and H&C ranges; no
NHS source here confirms it, so those stay refused until one does.
"""

import re

import nhs_number
from django.conf import settings
from django.core.exceptions import ValidationError

ISSUED_RANGES = (
    (4_000_000_000, 4_999_999_999),  # England, Wales, Isle of Man
    (6_000_000_000, 7_999_999_999),  # England, Wales, Isle of Man
    (101_000_000, 3_112_999_999),  # Scotland (CHI): 010 100 000 0 - 311 299 999 9
    (3_200_000_010, 3_999_999_999),  # Northern Ireland (H&C)
)
TEST_RANGE = (9_990_000_000, 9_999_999_999)


def normalise_nhs_number(value: str) -> str:
    """Drop the spaces and dashes people type: '943 476 5919' -> '9434765919'."""
    return re.sub(r"[\s-]+", "", value or "")


def is_test_nhs_number(digits: str) -> bool:
    return TEST_RANGE[0] <= int(digits) <= TEST_RANGE[1]


def validate_nhs_number(value: str) -> None:
    digits = normalise_nhs_number(value)
    if not re.fullmatch(r"[0-9]{10}", digits):
        raise ValidationError("NHS number must be 10 digits", code="nhs_number_length")
    if len(set(digits)) == 1:
        raise ValidationError(
            "NHS number is not valid: it cannot be the same digit 10 times",
            code="nhs_number_repeated",
        )
    if not nhs_number.is_valid(digits):
        raise ValidationError(
            "NHS number is not valid: check the digits and try again", code="nhs_number_checksum"
        )
    if is_test_nhs_number(digits):
        if not settings.PORTAL_ALLOW_TEST_NHS_NUMBERS:
            raise ValidationError(
                "NHS number is a test number (starting 999): enter the patient's real NHS number",
                code="nhs_number_test_range",
            )
        return
    number = int(digits)
    if not any(low <= number <= high for low, high in ISSUED_RANGES):
        raise ValidationError(
            "NHS number is not valid: no NHS number starts with these digits, check it and "
            "try again",
            code="nhs_number_range",
        )


def is_valid_nhs_number(value: str) -> bool:
    """For search boxes: whether a term is an NHS number worth looking up."""
    try:
        validate_nhs_number(value)
    except ValidationError:
        return False
    return True


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
