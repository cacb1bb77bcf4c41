"""Request bodies: JSON whose text PostgreSQL can store.

JSON allows a NUL character (`\\u0000`) and an unpaired surrogate (`\\ud800`) in any string, keys
included, but PostgreSQL stores neither (in text or jsonb), so a body holding one could fail
wherever it, or a message naming one of its keys, reaches the database (the idempotency record
keeps the response). DRF's fields refuse them in the values they know; this refuses them
everywhere, before any view sees the body, as a 400 naming the field.
"""

from typing import Any

from rest_framework.exceptions import ValidationError
from rest_framework.parsers import JSONParser

MESSAGE = "Text may not hold a NUL character (\\u0000) or an unpaired surrogate (\\ud800-\\udfff)"


def _unstorable(text: str) -> bool:
    return "\x00" in text or any("\ud800" <= character <= "\udfff" for character in text)


def _first_unstorable(value: Any, path: str) -> str | None:
    """The dotted path of the first string in `value` that cannot be stored, else None. A key
    that cannot be stored is reported at its parent (its own name cannot be shown)."""
    if isinstance(value, str):
        return path if _unstorable(value) else None
    if isinstance(value, dict):
        for key, item in value.items():
            if _unstorable(key):
                return path
            found = _first_unstorable(item, f"{path}.{key}" if path else key)
            if found is not None:
                return found
    if isinstance(value, list):
        for index, item in enumerate(value):
            found = _first_unstorable(item, f"{path}[{index}]")
            if found is not None:
                return found
    return None


class StorableJSONParser(JSONParser):
    """DRF's JSON parser, refusing text PostgreSQL cannot store (the module docstring)."""

    def parse(self, stream: Any, media_type: str | None = None, parser_context: Any = None) -> Any:
        data = super().parse(stream, media_type, parser_context)
        path = _first_unstorable(data, "")
        if path is not None:
            raise ValidationError({path: MESSAGE} if path else [MESSAGE])
        return data
