"""The attendance import's forms: the upload, the column mapping, resolving an unmatched row."""

import re
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, cast

from django import forms

from .imports.reading import FIELD_LABELS, ColumnMapping, Status
from .imports.uploads import IMPORT_MAX_BYTES
from .models import IMPORT_MAPPING_NAME_MAX, ImportMapping

if TYPE_CHECKING:
    from accounts.models import Organisation

NEW_SOURCE = ""

STATUS_CHOICES = [
    ("", "Not a visit: ignore"),
    (Status.ATTENDED.value, "Attended"),
    (Status.DNA.value, "Did not attend"),
    (Status.CANCELLED.value, "Cancelled"),
]
MAPPING_HINTS = {
    "date": "The day of the visit (a column with the date and time together is fine).",
    "time": "Leave it out if the date column holds the time as well.",
    "membership_number": "The patient's leisure membership number.",
    "referral_reference": "The portal's referral reference, such as ER-23456789.",
    "nhs_number": "Used only together with the date of birth.",
    "date_of_birth": "",
    "activity": "",
    "status": "Without one, every row is an attendance (an export of check-ins).",
}


class UploadForm(forms.Form):
    """Choose the source's saved mapping, or name a new source, and the file; a coordinator of
    more than one operator first chooses whose members the file is about."""

    operator = forms.ChoiceField(
        label="Whose members are in the file?",
        widget=forms.RadioSelect,
        required=False,
        error_messages={"invalid_choice": "Choose one of your organisations"},
    )
    mapping = forms.ChoiceField(label="Which system is the file from?", required=False)
    name = forms.CharField(
        label="Name of the new source",
        help_text="Such as the system's name: the column choices are saved under it.",
        max_length=IMPORT_MAPPING_NAME_MAX,
        required=False,
    )
    file = forms.FileField(
        label="Upload the export",
        help_text="A CSV or Excel (XLSX) file of up to 50 MB.",
        error_messages={"required": "Choose the file to upload", "empty": "The file is empty"},
    )

    def __init__(
        self,
        *args: Any,
        mappings: Sequence[ImportMapping],
        operators: Sequence["Organisation"],
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.operators = {str(o.public_id): o for o in operators}
        self.mappings = {str(m.pk): m for m in mappings}
        several = len(operators) > 1
        names = {o.pk: o.name for o in operators}
        cast("forms.ChoiceField", self.fields["mapping"]).choices = [
            *(
                (str(m.pk), f"{m.name} ({names[m.operator_id]})" if several else m.name)
                for m in mappings
            ),
            (NEW_SOURCE, "A new source"),
        ]
        if several:
            operator = cast("forms.ChoiceField", self.fields["operator"])
            operator.required = True
            operator.error_messages["required"] = "Choose whose members are in the file"
            operator.choices = [(key, o.name) for key, o in self.operators.items()]
        else:
            del self.fields["operator"]

    def clean_file(self) -> Any:
        upload = self.cleaned_data["file"]
        if upload.size > IMPORT_MAX_BYTES:
            raise forms.ValidationError(
                "The file is larger than 50 MB: export a shorter period and upload that"
            )
        return upload

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if len(self.operators) == 1:
            operator = next(iter(self.operators.values()))
        else:
            operator = self.operators.get(data.get("operator") or "")
        data["operator"] = operator
        chosen = self.mappings.get(data.get("mapping") or "")
        if chosen is not None and operator is not None and chosen.operator_id != operator.pk:
            self.add_error(
                "mapping",
                f"{chosen.name} is saved for another organisation: choose one of "
                f"{operator.name}'s, or a new source",
            )
        data["saved_mapping"] = chosen
        name = " ".join((data.get("name") or "").split())
        theirs = [m for m in self.mappings.values() if operator and m.operator_id == operator.pk]
        if chosen is None:
            if not name:
                self.add_error("name", "Give the new source a name, such as the system's")
            elif any(m.name.casefold() == name.casefold() for m in theirs):
                self.add_error("name", f"{name} is saved already: choose it above")
        data["name"] = name
        return data


def _where(message: str) -> str | None:
    """The mapping field a `ColumnMapping.validate` message is about, to show it there."""
    quoted = re.match(r"The (.+?) column \"", message)
    if quoted:
        for name, label in FIELD_LABELS.items():
            if label == quoted.group(1):
                return name
    if "date of the visit" in message:
        return "date"
    if "says who visited" in message:
        return "membership_number"
    if "NHS number is used only" in message:
        return "nhs_number"
    if "status" in message.casefold():
        return "status"
    return None


class MappingForm(forms.Form):
    """Which of the file's columns feeds each field, and what its status words mean."""

    name = forms.CharField(
        label="Name of the source",
        help_text="Such as the system's name: the choices are saved under it and reused.",
        max_length=IMPORT_MAPPING_NAME_MAX,
        error_messages={"required": "Give the source a name, such as the system's"},
    )
    # Which column the status words below were read from: changing the status column shows the
    # new column's words to translate.
    status_words_for = forms.CharField(widget=forms.HiddenInput, required=False)

    def __init__(
        self,
        *args: Any,
        headers: Sequence[str],
        status_words: Sequence[str],
        status_column: str,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.headers = tuple(headers)
        self.status_words = tuple(status_words)
        self.status_column = status_column
        choices = [("", "Not in the file"), *((h, h) for h in headers)]
        for name, label in FIELD_LABELS.items():
            self.fields[name] = forms.ChoiceField(
                label=label[0].upper() + label[1:],
                choices=choices,
                required=False,
                help_text=MAPPING_HINTS[name],
            )
        for index, word in enumerate(self.status_words):
            self.fields[f"status_word_{index}"] = forms.ChoiceField(
                label=f"\u201c{word}\u201d means", choices=STATUS_CHOICES, required=False
            )
        self.fields["status_words_for"].initial = status_column

    def status_word_fields(self) -> list[forms.BoundField]:
        return [self[f"status_word_{i}"] for i in range(len(self.status_words))]

    def mapping_fields(self) -> list[forms.BoundField]:
        return [self[name] for name in FIELD_LABELS]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        status = data.get("status") or ""
        if status and status != (data.get("status_words_for") or ""):
            self.add_error("status", "Now say what each of this column's statuses means, below")
            return data
        values = {
            word: data[f"status_word_{i}"]
            for i, word in enumerate(self.status_words)
            if status and data.get(f"status_word_{i}")
        }
        mapping = ColumnMapping(
            **{name: data.get(name) or None for name in FIELD_LABELS},
            status_values=values,
        )
        for message in mapping.validate(self.headers):
            self.add_error(_where(message), message)
        data["column_mapping"] = mapping
        return data

    @staticmethod
    def initial_for(mapping: ColumnMapping | None, headers: Sequence[str]) -> dict[str, Any]:
        """The saved choices, or a guess from the headers' names for a new source."""
        if mapping is not None:
            return {name: column for name, column in mapping.columns().items() if column in headers}
        guesses = {
            "date": ("date", "visit", "visit date", "date of visit"),
            "time": ("time", "visit time"),
            "membership_number": ("member no", "membership number", "member number", "member"),
            "referral_reference": ("referral reference", "reference"),
            "nhs_number": ("nhs number", "nhs no"),
            "date_of_birth": ("date of birth", "dob"),
            "activity": ("activity", "class"),
            "status": ("status", "attendance"),
        }
        initial: dict[str, Any] = {}
        for name, words in guesses.items():
            for header in headers:
                if header.casefold() in words:
                    initial[name] = header
                    break
        return initial


class ResolveForm(forms.Form):
    """The referral an unmatched row's visit belongs to."""

    referral = forms.ChoiceField(
        label="Which referral is this visit?",
        widget=forms.RadioSelect,
        error_messages={
            "required": "Choose the referral the visit belongs to",
            "invalid_choice": "Choose one of the referrals listed",
        },
    )

    def __init__(self, *args: Any, choices: Sequence[tuple[str, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        cast("forms.ChoiceField", self.fields["referral"]).choices = list(choices)
