"""The outcome schedule editor: measures by timepoints, as a grid of checkboxes.

Each box posts "<instrument code>:<timepoint>"; the rules of a schedule (which measures, which
timepoints, baseline first) are `outcomes.schedules.validate_schedule`, so the form and any other
writer obey the same ones.
"""

from dataclasses import dataclass
from typing import Any

from django import forms
from django.core.exceptions import ValidationError

from outcomes.models import Timepoint
from outcomes.schedules import (
    instrument_label,
    normalise_schedule,
    schedulable_instruments,
    validate_schedule,
)

SEPARATOR = ":"


def cell_value(instrument: str, timepoint: str) -> str:
    return f"{instrument}{SEPARATOR}{timepoint}"


@dataclass(frozen=True)
class Cell:
    """One checkbox of the grid."""

    id: str
    value: str
    measure: str  # heard, not seen: "Patient Health Questionnaire-9"
    timepoint: str  # seen on a phone, where the column headings are hidden: "Baseline"
    checked: bool

    @property
    def label(self) -> str:
        """What a screen reader says: "Patient Health Questionnaire-9 at baseline"."""
        return f"{self.measure} at {self.timepoint.lower()}"


@dataclass(frozen=True)
class Row:
    name: str
    cells: list[Cell]


class OutcomeScheduleForm(forms.Form):
    cells = forms.MultipleChoiceField(
        label="Outcome measures and when to take them",
        required=False,
        widget=forms.CheckboxSelectMultiple,
        error_messages={"invalid_choice": "Choose only the measures and timepoints shown"},
    )

    def __init__(self, *args: Any, schedule: object = (), **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.instruments = schedulable_instruments()
        self.fields["cells"].choices = [
            (cell_value(definition.code, timepoint), "")
            for definition in self.instruments
            for timepoint in Timepoint.values
        ]
        self.current = {
            cell_value(entry["instrument"], timepoint)
            for entry in normalise_schedule(list(schedule or []))
            for timepoint in entry["timepoints"]
        }

    @property
    def timepoints(self) -> list[str]:
        return [label for _value, label in Timepoint.choices]

    def rows(self) -> list[Row]:
        """The grid: a row per measure, a box per timepoint, ticked as saved or as posted."""
        ticked = self.current
        if self.is_bound:
            posted = self.data.getlist("cells") if hasattr(self.data, "getlist") else []
            ticked = {str(value) for value in posted}
        rows, index = [], 0
        for definition in self.instruments:
            name = instrument_label(definition)
            cells = []
            for timepoint, label in Timepoint.choices:
                value = cell_value(definition.code, timepoint)
                # The first box carries the id the error summary links to.
                cells.append(
                    Cell(f"id_cells_{index}", value, definition.name, label, value in ticked)
                )
                index += 1
            rows.append(Row(name, cells))
        return rows

    def clean_cells(self) -> list[dict[str, Any]]:
        by_instrument: dict[str, list[str]] = {}
        for value in self.cleaned_data["cells"]:
            code, _, timepoint = value.partition(SEPARATOR)
            by_instrument.setdefault(code, []).append(timepoint)
        schedule = [{"instrument": c, "timepoints": t} for c, t in by_instrument.items()]
        try:
            return validate_schedule(schedule)
        except ValidationError as refused:
            raise ValidationError(refused.messages) from refused

    def schedule(self) -> list[dict[str, Any]]:
        schedule: list[dict[str, Any]] = self.cleaned_data["cells"]
        return schedule
