"""A patient or referral checked as `full_clean` checks it, without asking the database first.

`full_clean` runs one query per foreign key (does that row exist?), per unique field and per
constraint (Django evaluates each CheckConstraint and conditional UniqueConstraint with a SELECT
of its condition), before the INSERT or UPDATE that the database checks against the very same
rules anyway. On the write path that was most of the queries. So the writers here split it:

- before the write, only what Python alone decides: each field's validators, choices, lengths and
  `blank`, and the model's `clean()`; a foreign key is not looked up when its object is held (it
  was fetched, so it exists) or, on an update, when it did not change;
- the write itself, in a savepoint, where the database enforces every constraint, unique field
  and foreign key;
- only when something is refused, either way, the model's own `full_clean`, so the caller gets
  exactly the ValidationError (fields, messages and codes, all problems at once) it always got.

A refusal `full_clean` cannot explain (a race it does not see) is left as the IntegrityError.
"""

from collections.abc import Collection

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import ForeignKey, Model


def _lookups_to_skip(instance: Model, changed: Collection[str] | None) -> set[str]:
    """Foreign keys `full_clean` would look up but need not: held, or (on an update) unchanged."""
    skip = set()
    for field in instance._meta.concrete_fields:
        if not isinstance(field, ForeignKey):
            continue
        held = field.is_cached(instance) and field.get_cached_value(instance) is not None
        if held or (changed is not None and field.name not in changed):
            skip.add(field.name)
    return skip


def check_in_python(
    instance: Model, *, exclude: Collection[str] = (), changed: Collection[str] | None = None
) -> None:
    """Run the checks that need no query; on any problem raise what `full_clean` raises.

    `changed`: on an update, the fields the caller set (others were valid when stored)."""
    try:
        instance.clean_fields(exclude={*exclude, *_lookups_to_skip(instance, changed)})
        instance.clean()
    except ValidationError:
        instance.full_clean(exclude=exclude)  # every problem at once, the database's included
        raise


def explain_refusal(instance: Model, *, exclude: Collection[str] = ()) -> None:
    """After the database refused to write `instance` (and its savepoint was rolled back): raise
    the ValidationError `full_clean` gives for it. Returns when no model rule explains it."""
    instance.full_clean(exclude=exclude)


def save_checked(
    instance: Model, *, exclude: Collection[str] = (), changed: Collection[str] | None = None
) -> None:
    """Save `instance` checked as `full_clean` checks it: Python's half before, the database's
    half by the write itself (in a savepoint, so a refusal leaves the caller's transaction
    usable), explained in the model's words when it refuses."""
    check_in_python(instance, exclude=exclude, changed=changed)
    try:
        with transaction.atomic():
            instance.save()
    except IntegrityError:
        explain_refusal(instance, exclude=exclude)
        raise
