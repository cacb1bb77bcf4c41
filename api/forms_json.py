"""JSON through the pages' forms: the API validates what the web wizard validates, with its forms.

A referrer's answers have one set of rules, written once in `referrals/forms.py` (which fields a
step needs, blood pressure in pairs, a real date of birth, a valid NHS number...) and once in the
services. The API does not restate them: it turns a JSON object into the data a browser would
post (`form_data`), binds the form, and returns its cleaned data or its errors keyed by field
(`clean_with`).
"""

import datetime
from collections.abc import Mapping
from typing import Any

from django import forms
from django.core.exceptions import NON_FIELD_ERRORS
from django.utils.datastructures import MultiValueDict


def form_data(form_class: type[forms.Form], values: Mapping[str, Any]) -> MultiValueDict:
    """`values` (JSON types, or the model's own) as a browser would post them to `form_class`:
    a date as the three boxes of the NHS date input, a list as repeated values, `true` as a
    ticked box, `true`/`false` as "yes"/"no" where the form asks yes or no. Fields the form does
    not have are left out; None is an empty answer."""
    data: MultiValueDict[str, str] = MultiValueDict()
    fields = form_class.base_fields
    for name, value in values.items():
        field = fields.get(name)
        if field is None or value is None:
            continue
        if isinstance(field, forms.MultiValueField):
            if isinstance(value, datetime.date):
                day, month, year = value.day, value.month, value.year
                data.update(
                    {f"{name}_0": str(day), f"{name}_1": str(month), f"{name}_2": str(year)}
                )
        elif isinstance(field, forms.MultipleChoiceField):
            data.setlist(name, [str(item) for item in value])
        elif isinstance(field, forms.BooleanField):
            if value:
                data[name] = "on"
        elif isinstance(value, bool) and isinstance(field, forms.ChoiceField):
            data[name] = "yes" if value else "no"
        elif isinstance(value, datetime.time):
            data[name] = value.strftime("%H:%M")
        else:
            data[name] = str(value)
    return data


def errors_of(form: forms.Form, renamed: Mapping[str, str] | None = None) -> dict[str, list[str]]:
    """The form's messages by field (`renamed` maps a form field to the API's name for it)."""
    renamed = renamed or {}
    return {
        renamed.get(field, "" if field == NON_FIELD_ERRORS else field): [
            str(message) for message in messages
        ]
        for field, messages in form.errors.items()
    }


def clean_with(
    form: forms.Form, errors: dict[str, Any], renamed: Mapping[str, str] | None = None
) -> dict[str, Any] | None:
    """The form's cleaned data when it is valid; else None, its messages added to `errors`."""
    if form.is_valid():
        return form.cleaned_data
    for field, messages in errors_of(form, renamed).items():
        errors.setdefault(field, []).extend(messages)
    return None
