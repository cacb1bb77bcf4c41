"""A form for any instrument, built from its definition: radios for choice items, number inputs
for measured ones. The form only converts types; the instrument itself validates and scores
(its messages are put back on the fields by the view)."""

from typing import Any

from django import forms

from .instruments.base import ChoiceItem, Item, NumberItem
from .models import Method

RECORDING_METHODS = [
    (Method.INSTRUCTOR, "I asked the questions or took the measurements"),
    (Method.PAPER, "Copied from a paper form the patient filled in"),
]


def question_label(number: int, item: Item) -> str:
    """How a message names a question: by its number and words, as the patient saw it."""
    return f"question {number}: {item.text}"


def _item_field(item: Item, number: int) -> forms.Field:
    label = item.text
    common: dict[str, Any] = {
        "label": label,
        "required": item.required,
        "help_text": item.help_text,
    }
    if isinstance(item, ChoiceItem):
        # Each message names the question, so a summary of nine errors says which nine.
        common["error_messages"] = {
            "required": f"Answer {question_label(number, item)}",
            "invalid_choice": f"Choose one of the answers to {question_label(number, item)}",
        }
        choices = [(value, text) for value, text in item.choices.items()]
        if item.value_type is int:
            return forms.TypedChoiceField(
                choices=choices, coerce=int, widget=forms.RadioSelect, empty_value=None, **common
            )
        return forms.ChoiceField(choices=choices, widget=forms.RadioSelect, **common)
    if isinstance(item, NumberItem):
        if item.unit:
            common["label"] = f"{label} ({item.unit})"
        kind = "a whole number" if item.decimal_places == 0 else "a number"
        common["error_messages"] = {
            "required": f"Enter {common['label'][:1].lower()}{common['label'][1:]}",
            "invalid": f"Enter {common['label'][:1].lower()}{common['label'][1:]} as {kind}",
        }
        if not item.required:
            common["label"] += " (optional)"
        attrs = {"inputmode": "numeric" if item.decimal_places == 0 else "decimal"}
        if item.decimal_places == 0:
            return forms.IntegerField(widget=forms.TextInput(attrs=attrs), **common)
        return forms.DecimalField(widget=forms.TextInput(attrs=attrs), **common)
    raise TypeError(f"no form field for {type(item).__name__}")  # pragma: no cover


class InstrumentForm(forms.Form):
    method = forms.ChoiceField(
        label="How were these answers collected?",
        choices=RECORDING_METHODS,
        widget=forms.RadioSelect,
        initial=Method.INSTRUCTOR,
        error_messages={
            "required": "Select how these answers were collected",
            "invalid_choice": "Select how these answers were collected",
        },
    )

    def __init__(self, *args, instrument, **kwargs):
        super().__init__(*args, **kwargs)
        self.instrument = instrument
        self.numbers = {item.code: n for n, item in enumerate(instrument.items, start=1)}
        for item in instrument.items:
            self.fields[item.code] = _item_field(item, self.numbers[item.code])
        # The method question goes last, after the instrument's own items.
        self.fields["method"] = self.fields.pop("method")

    def item_message(self, code: str, message: str) -> str:
        """A message from the instrument's own checks, naming the question it is about."""
        number = self.numbers.get(code)
        if number is None:
            return message[:1].upper() + message[1:]
        item = self.instrument.item(code)
        if isinstance(item, ChoiceItem):
            return f"Answer {question_label(number, item)} ({message})"
        return f"{item.text} {message}"

    @property
    def item_fields(self):
        return [self[item.code] for item in self.instrument.items]

    def answers(self) -> dict:
        """The cleaned answers as the instrument expects them: {item code: value}, with None for
        an optional item left blank (the instrument skips it)."""
        return {
            item.code: self.cleaned_data.get(item.code)
            for item in self.instrument.items
            if self.cleaned_data.get(item.code) not in (None, "")
        }
