"""What any text, date or structured answer typed into the portal must be, whichever app keeps it.

It lives in `accounts` because every other app already depends on it (the others import
`accounts.models`), so models, forms and services of any app can share one definition without an
import cycle, and migrations can name the validators by a stable path.

- Text: hidden bidirectional controls (a right-to-left override makes "Smith" display as "htimS"
  and can disguise a name or a note) and control characters are refused; every free-text field
  has a length limit, the same in the form, the model and a database constraint.
- Dates typed as numbers: absurd years (20 digits, year 0, before 1900) are a message, never an
  `OverflowError` and a 500.
"""

import datetime
import json
import re
import unicodedata

from django import forms
from django.core.exceptions import ValidationError
from django.core.validators import MaxLengthValidator
from django.db import models
from django.db.models.functions import Length
from django.db.models.lookups import LessThanOrEqual

# --- Length limits (characters) --------------------------------------------------------------
# Generous for what each field is for, small enough that nobody can store a megabyte.
SHORT_NOTE_MAX = 2000  # timeline notes, session notes, accessibility, descriptions
CLINICAL_TEXT_MAX = 4000  # relevant medical history, medication
ADDRESS_MAX = 500
CONSENT_NOTE_MAX = 500  # how the patient said so, in a sentence or two
# Answers to one outcome instrument, as stored JSON: the largest instrument has under 50 items.
ANSWERS_JSON_MAX = 10_000

# --- Hidden characters ------------------------------------------------------------------------
# Bidirectional embeddings/overrides (U+202A-U+202E), isolates (U+2066-U+2069), the left-to-right
# and right-to-left marks (U+200E, U+200F) and the Arabic letter mark (U+061C): invisible, and
# they reorder what is displayed. C0 (U+0000-U+001F, U+007F) and C1 (U+0080-U+009F) controls.
BIDI_CONTROLS = frozenset(
    [
        *map(chr, range(0x202A, 0x202F)),
        *map(chr, range(0x2066, 0x206A)),
        "\u200e",
        "\u200f",
        "\u061c",
    ]
)
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")
_CONTROL_EXCEPT_LINES = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")

HIDDEN_CHARACTERS_MESSAGE = (
    "Remove the hidden formatting characters (such as a right-to-left override) from this text"
)


def _has_bidi_control(value: str) -> bool:
    return any(character in BIDI_CONTROLS for character in value)


def validate_single_line_text(value) -> None:
    """For names and other one-line text: no bidi controls, no control characters at all."""
    if not isinstance(value, str):
        return
    if _has_bidi_control(value) or _CONTROL.search(value):
        raise ValidationError(HIDDEN_CHARACTERS_MESSAGE, code="hidden_characters")


def validate_multiline_text(value) -> None:
    """For notes and other multi-line text: line breaks and tabs are fine, other controls not."""
    if not isinstance(value, str):
        return
    if _has_bidi_control(value) or _CONTROL_EXCEPT_LINES.search(value):
        raise ValidationError(HIDDEN_CHARACTERS_MESSAGE, code="hidden_characters")


class PlainTextField(forms.CharField):
    """A form CharField that refuses hidden characters: line breaks only in a textarea."""

    def __init__(self, *, max_length: int, **kwargs):
        super().__init__(max_length=max_length, **kwargs)
        multiline = isinstance(self.widget, forms.Textarea)
        self.validators.append(validate_multiline_text if multiline else validate_single_line_text)
        self.error_messages.setdefault(
            "max_length",
            "Enter %(limit_value)s characters or fewer (you entered %(show_value)s)",
        )


# --- Structured answers -----------------------------------------------------------------------


_PHONE = re.compile(r"\+?[0-9][0-9 ()-]*")
PHONE_MESSAGE = "Enter a phone number, like 0113 496 0123 or +44 113 496 0123"


def validate_phone_number(value: str) -> None:
    """A UK or international number as people write it: digits, spaces, brackets, hyphens and a
    leading +, with 10 to 15 digits (a UK number has 10 or 11)."""
    if not value:
        return
    digits = sum(ch.isdigit() for ch in value)
    if not _PHONE.fullmatch(value) or not 10 <= digits <= 15:
        raise ValidationError(PHONE_MESSAGE, code="phone")


def validate_answers_size(answers) -> None:
    """Bound what an API or a crafted POST can put in a JSON column."""
    size = len(json.dumps(answers, default=str))
    if size > ANSWERS_JSON_MAX:
        raise ValidationError(
            f"These answers are too long to store ({size} characters; the limit is "
            f"{ANSWERS_JSON_MAX})",
            code="answers_too_large",
        )


# --- Dates ------------------------------------------------------------------------------------
EARLIEST_YEAR = 1900
LATEST_YEAR = 2100


def date_from_parts(day, month, year, *, label: str = "Date") -> datetime.date:
    """A date from the three boxes of the NHS date input, with the design system's messages.

    Only ASCII digits count (int() would also take "١٢" or "1_000"), and the year must have four,
    so a 20-digit year is a message rather than an OverflowError.
    """
    parts = [unicodedata.normalize("NFKC", str(part or "")).strip() for part in (day, month, year)]
    if not all(re.fullmatch(r"[0-9]+", part) for part in parts):
        raise ValidationError(f"{label} must be a real date", code="invalid")
    if len(parts[2]) != 4:
        raise ValidationError("Year must include 4 numbers", code="year_digits")
    if len(parts[0]) > 2 or len(parts[1]) > 2:
        raise ValidationError(f"{label} must be a real date", code="invalid")
    day_number, month_number, year_number = (int(part) for part in parts)
    if not EARLIEST_YEAR <= year_number <= LATEST_YEAR:
        raise ValidationError(
            f"{label} must be between {EARLIEST_YEAR} and {LATEST_YEAR}", code="year_range"
        )
    try:
        return datetime.date(year_number, month_number, day_number)
    except ValueError as impossible:  # 31 2 1984, month 13
        raise ValidationError(f"{label} must be a real date", code="invalid") from impossible


def parse_iso_date(value: str | None) -> datetime.date | None:
    """A YYYY-MM-DD date from a query string or JSON within the years the portal deals in, or
    None for anything else (the caller treats it as absent or a 404)."""
    if not value or not re.fullmatch(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", value):
        return None
    try:
        day = datetime.date.fromisoformat(value)
    except ValueError:
        return None
    return day if EARLIEST_YEAR <= day.year <= LATEST_YEAR else None


def validate_portal_year(value: datetime.date) -> None:
    if value is not None and not EARLIEST_YEAR <= value.year <= LATEST_YEAR:
        raise ValidationError(
            f"Enter a date between {EARLIEST_YEAR} and {LATEST_YEAR}", code="year_range"
        )


class PortalDateField(forms.DateField):
    """A YYYY-MM-DD filter date (the browser's date picker) limited to the portal's years, so a
    date near year 1 or 9999 cannot overflow date arithmetic further on."""

    default_validators = [validate_portal_year]


# --- The database's copy of the limits ----------------------------------------------------------


def text_length_constraint(model_name: str, field: str, limit: int) -> models.CheckConstraint:
    """The database refuses text longer than `limit` characters in `field`, whatever wrote it
    (a raw ORM save, a bulk update, SQL): the last line behind the model and form limits."""
    return models.CheckConstraint(
        condition=LessThanOrEqual(Length(field), limit),
        name=f"{model_name}_{field}_max_length",
    )


def bounded_text_field(limit: int, **kwargs) -> models.TextField:
    """A multi-line free-text column with its limit in the model (validator), the generated form
    field (max_length) and, with `text_length_constraint` in Meta, the database."""
    return models.TextField(
        max_length=limit,
        validators=[MaxLengthValidator(limit), validate_multiline_text],
        **kwargs,
    )


def check_field_value(model: type[models.Model], field: str, value, *, key: str = "") -> None:
    """Run a model field's validators on a value a service writes without `full_clean` (an
    append-only timeline row, a note on a session), as a ValidationError keyed by field."""
    try:
        model._meta.get_field(field).run_validators(value)
    except ValidationError as error:
        raise ValidationError({key or field: error.messages}) from error
