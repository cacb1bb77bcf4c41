"""A source's column mapping: the operator's saved `ImportMapping` (which columns of its leisure
management system's export hold what), saved by a coordinator and read as the reader's
`ColumnMapping`."""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING

from django.core.exceptions import ValidationError
from django.utils import timezone

from ..models import IMPORT_MAPPING_NAME_MAX, ImportMapping
from .access import refuse_unless_coordinator
from .reading import CellError, ColumnMapping, clean_text

if TYPE_CHECKING:
    from accounts.models import Organisation, User


def import_mapping_save(
    *, operator: Organisation, name: str, mapping: ColumnMapping, by: User
) -> ImportMapping:
    """Save the operator's mapping under `name` (a new one, or the one of that name changed)."""
    refuse_unless_coordinator(by, operator)
    try:
        name = clean_text(name, max_length=IMPORT_MAPPING_NAME_MAX)
    except CellError as error:
        raise ValidationError({"name": [str(error)]}) from None
    if not name:
        raise ValidationError({"name": ["Give the mapping a name, such as the system's"]})
    # Checked against its own columns here (every file it reads is checked on upload).
    errors = mapping.validate(list(mapping.columns().values()))
    if errors:
        raise ValidationError({"mapping": errors})
    now = timezone.now()
    saved, _ = ImportMapping.objects.update_or_create(
        operator=operator,
        name=name,
        defaults={"mapping": dataclasses.asdict(mapping), "updated_at": now},
        create_defaults={
            "mapping": dataclasses.asdict(mapping),
            "created_by": by,
            "created_at": now,
            "updated_at": now,
        },
    )
    return saved


def column_mapping(saved: ImportMapping) -> ColumnMapping:
    return ColumnMapping(**saved.mapping)
