"""Declarative building blocks for outcome instruments.

An instrument module declares its items (each with its allowed answers), a pure scoring function,
the range of every scored output, its bands, codes, licence and citation, and builds one
`Instrument`. `Instrument.score(answers)` validates the answers (collecting every problem into one
`InvalidAnswers`) and hands the cleaned answers to the scoring function.

Numbers: answers with decimal places are cleaned to `Decimal` (a float is read through `str()`,
so 70.1 stays 70.1) and scoring is done in `Decimal`. Results are plain, JSON-ready dicts: whole
numbers are `int`; anything with decimals is rounded half-up to the places the instrument states
and returned as `float`. Results go straight into `Assessment.scores` (a JSONField), so no `Decimal`
ever leaves a scoring function.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

Number = int | float | Decimal

SNOMED = "http://snomed.info/sct"
LOINC = "http://loinc.org"

# Key for problems that belong to the answer set as a whole rather than to one item.
NON_ITEM_ERRORS = "__all__"


class InvalidAnswers(ValueError):
    """The answers cannot be scored. `errors` maps each item code (or `__all__`) to one message."""

    def __init__(self, errors: Mapping[str, str]):
        self.errors = dict(errors)
        super().__init__("; ".join(f"{code}: {message}" for code, message in self.errors.items()))


class UnknownInstrument(LookupError):
    """No instrument is registered under that code."""


class InstrumentNotEnabled(RuntimeError):
    """The instrument needs a licence and this installation has not switched it on."""


@dataclass(frozen=True)
class Coding:
    """A code in a terminology, shaped for a FHIR `Coding` (system URI, code, display)."""

    system: str
    code: str
    display: str = ""


# The order codings of one output are declared (and served) in: LOINC, then SNOMED CT, then any
# other system. A FHIR `CodeableConcept` may carry several codings of one meaning; receivers that
# read only the first get the most widely understood one.
CODING_SYSTEM_ORDER = (LOINC, SNOMED)

# What `Instrument.codes` maps an output (or "instrument") to: one coding, or several of the same
# meaning in different terminologies.
Codings = Coding | tuple[Coding, ...]


def as_codings(value: Codings | None) -> tuple[Coding, ...]:
    """A `codes` value (or an item's or band's `coding`) as a tuple: () for None."""
    if value is None:
        return ()
    return (value,) if isinstance(value, Coding) else tuple(value)


def _system_rank(coding: Coding) -> int:
    return (
        CODING_SYSTEM_ORDER.index(coding.system)
        if coding.system in CODING_SYSTEM_ORDER
        else len(CODING_SYSTEM_ORDER)
    )


# --- Items ---------------------------------------------------------------------------------------


class _ItemError(Exception):
    """One item's answer is unacceptable; the message says why (without the item code)."""


@dataclass(frozen=True, kw_only=True)
class Item:
    code: str
    text: str
    required: bool = True
    help_text: str = ""
    coding: Coding | None = None

    def clean(self, value: Any) -> Any:  # pragma: no cover - abstract
        raise NotImplementedError


@dataclass(frozen=True, kw_only=True)
class ChoiceItem(Item):
    """An answer picked from a fixed list. Values are all `int` (scored options) or all `str`."""

    choices: Mapping[int | str, str]

    def __post_init__(self):
        kinds = {type(value) for value in self.choices}
        if len(kinds) != 1 or kinds - {int, str}:
            raise TypeError(f"{self.code}: choices must be all int or all str")

    @property
    def value_type(self) -> type:
        return type(next(iter(self.choices)))

    def clean(self, value: Any) -> int | str:
        allowed = ", ".join(repr(choice) for choice in self.choices)
        # bool is a subclass of int, and True == 1: reject it before the membership test.
        if isinstance(value, bool):
            raise _ItemError(f"must be one of {allowed}, not true/false")
        if not isinstance(value, self.value_type):
            kind = "a whole number" if self.value_type is int else "text"
            raise _ItemError(f"must be {kind}, one of {allowed} (got {type(value).__name__})")
        if value not in self.choices:
            raise _ItemError(f"must be one of {allowed} (got {value!r})")
        return value


@dataclass(frozen=True, kw_only=True)
class NumberItem(Item):
    """A measured or counted number within an inclusive range, with at most `decimal_places`."""

    min_value: Number
    max_value: Number
    decimal_places: int = 0
    unit: str = ""

    def clean(self, value: Any) -> int | Decimal:
        if isinstance(value, bool):
            raise _ItemError("must be a number, not true/false")
        if self.decimal_places == 0:
            if not isinstance(value, int):
                raise _ItemError(f"must be a whole number (got {type(value).__name__})")
            number: int | Decimal = value
        else:
            if not isinstance(value, int | float | Decimal):
                raise _ItemError(f"must be a number (got {type(value).__name__})")
            try:
                number = Decimal(str(value)) if isinstance(value, float) else Decimal(value)
            except InvalidOperation:  # pragma: no cover - Decimal(int/float str) always parses
                raise _ItemError("must be a number") from None
            if not number.is_finite():
                raise _ItemError("must be a finite number")
        if not Decimal(self.min_value) <= number <= Decimal(self.max_value):
            unit = f" {self.unit}" if self.unit else ""
            raise _ItemError(
                f"must be between {self.min_value} and {self.max_value}{unit} (got {value})"
            )
        # Checked after the range, so the number is small enough to quantize.
        if self.decimal_places and number != round_half_up(number, self.decimal_places):
            places = "place" if self.decimal_places == 1 else "places"
            raise _ItemError(
                f"must have at most {self.decimal_places} decimal {places} (got {value})"
            )
        return number


# --- Bands ---------------------------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class Band:
    """A named band of a score: `low` to `high` inclusive, on the reported (rounded) value.

    `low`/`high` of None mean unbounded. Bands decided by rules rather than a range (IPAQ's
    categories) leave both None and are listed only so that their codes are declared.
    """

    code: str
    label: str
    low: Number | None = None
    high: Number | None = None
    coding: Coding | None = None

    def contains(self, value: Number) -> bool:
        value = Decimal(str(value)) if isinstance(value, float) else Decimal(value)
        return (self.low is None or value >= Decimal(self.low)) and (
            self.high is None or value <= Decimal(self.high)
        )


@dataclass(frozen=True, kw_only=True)
class Banding:
    """Where a band appears in the result. `output` is the dotted path of the band code (its label
    is at `output + "_label"`); `score` is the dotted path of the value it bands, or None when the
    band is decided by rules."""

    output: str
    bands: tuple[Band, ...]
    score: str | None = None

    def band_for(self, value: Number) -> Band:
        for band in self.bands:
            if band.contains(value):
                return band
        raise LookupError(f"no band of {self.output} contains {value}")  # a declaration bug

    def get(self, code: str) -> Band:
        return next(band for band in self.bands if band.code == code)


def band_fields(band: Band, prefix: str = "band") -> dict[str, str]:
    """The standard result keys for a band: `band` and `band_label` (or `<prefix>_label`)."""
    return {prefix: band.code, f"{prefix}_label": band.label}


# --- Numbers -------------------------------------------------------------------------------------


def round_half_up(value: Number, places: int) -> Decimal:
    value = Decimal(str(value)) if isinstance(value, float) else Decimal(value)
    return value.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)


def as_json_number(value: Decimal | int, places: int) -> float | int:
    """Round half-up to `places` and return a JSON-ready number (int when `places` is 0)."""
    rounded = round_half_up(value, places)
    return int(rounded) if places == 0 else float(rounded)


def lookup(result: Mapping[str, Any], path: str) -> Any:
    """The value at a dotted path of a (possibly nested) result dict."""
    value: Any = result
    for part in path.split("."):
        value = value[part]
    return value


# --- Instruments ---------------------------------------------------------------------------------

CrossCheck = Callable[[Mapping[str, Any]], Mapping[str, str]]


@dataclass(frozen=True, kw_only=True)
class Instrument:
    """One outcome measure: what is asked, how it is scored and what the scores mean.

    - `scorer` is pure: cleaned answers in (every item code present; optional items may be
      None), a JSON-ready result dict out. The module docstring documents the result shape.
    - `score_ranges` gives the inclusive (min, max) of every numeric output, by dotted path.
    - `meaningful_change` gives the minimal important difference (the smallest change that
      matters to a patient) in the score's own units, by output path, where one is published;
      `meaningful_change_relative` gives it as a fraction of the baseline value instead (5% of
      body weight). Each module's docstring names its source in one line.
    - `higher_is_better` says which way is improvement, by output path; an output left out
      claims no direction (BMI: lower is better for most referrals, not for all).
    - `summary_outputs` are the scores a discharge summary reports, in order; by default every
      output with a threshold or a direction.
    - `output_labels` names each scored output that is not simply one item's answer ("pai":
      "Physical Activity Index"), and may give an item's output a shorter name than its question;
      `output_units` gives a unit where no number item carries one. Every scored output must end
      up with a label (checked when the instrument is built), so no page shows a result key.
    - `codes` names outputs for other systems: {output path or "instrument": a `Coding`, or a
      tuple of codings of the same meaning, LOINC first, then SNOMED CT (checked when built)}.
      "instrument" stands for the one score of note; an item's `coding` names its own output.
      `output_codings` resolves them; each module cites where its codes come from.
    - `cross_checks` see the cleaned answers together and return {item code: message}.
    - `licence_setting` names a Django setting that must be True before the instrument scores
      (read when scoring, so tests and deployments can switch it).
    """

    code: str
    name: str
    items: tuple[Item, ...]
    scorer: Callable[[Mapping[str, Any]], dict[str, Any]]
    score_ranges: Mapping[str, tuple[Number, Number]]
    licence: str
    citation: str
    short_name: str = ""
    instructions: str = ""
    bandings: tuple[Banding, ...] = ()
    meaningful_change: Mapping[str, Number] = field(default_factory=dict)
    meaningful_change_relative: Mapping[str, Decimal] = field(default_factory=dict)
    higher_is_better: Mapping[str, bool] = field(default_factory=dict)
    summary_outputs: tuple[str, ...] = ()
    output_labels: Mapping[str, str] = field(default_factory=dict)
    output_units: Mapping[str, str] = field(default_factory=dict)
    codes: Mapping[str, Codings] = field(default_factory=dict)
    cross_checks: tuple[CrossCheck, ...] = ()
    licence_setting: str | None = None

    def __post_init__(self):
        codes = [item.code for item in self.items]
        if len(codes) != len(set(codes)):
            raise ValueError(f"{self.code}: duplicate item codes")
        outputs = (
            *self.score_ranges,
            *self.meaningful_change,
            *self.meaningful_change_relative,
            *self.higher_is_better,
            *self.reported_outputs,
        )
        unlabelled = [output for output in outputs if not self._declared_label(output)]
        if unlabelled:
            raise ValueError(f"{self.code}: no output_labels entry for {', '.join(unlabelled)}")
        for key, value in self.codes.items():
            codings = as_codings(value)
            if not codings or not all(isinstance(coding, Coding) for coding in codings):
                raise TypeError(
                    f"{self.code}: codes[{key!r}] must be a Coding or a tuple of Codings"
                )
            ranks = [_system_rank(coding) for coding in codings]
            if ranks != sorted(ranks):
                raise ValueError(
                    f"{self.code}: codes[{key!r}] must list LOINC first, then SNOMED CT"
                )

    @property
    def licence_required(self) -> bool:
        return self.licence_setting is not None

    @property
    def enabled(self) -> bool:
        if self.licence_setting is None:
            return True
        from django.conf import settings

        return getattr(settings, self.licence_setting, False) is True

    @property
    def reported_outputs(self) -> tuple[str, ...]:
        """The scores a summary of change reports, in order."""
        if self.summary_outputs:
            return self.summary_outputs
        declared = [
            *self.meaningful_change,
            *self.meaningful_change_relative,
            *self.higher_is_better,
        ]
        return tuple(dict.fromkeys(declared)) or tuple(self.score_ranges)[:1]

    def minimal_important_difference(
        self, output: str, baseline: Number | None = None
    ) -> tuple[Decimal | None, str]:
        """The threshold for `output` in its own units (a relative one worked out from
        `baseline`), and how to say it: (Decimal("3"), "3 points"). (None, "") when the
        instrument states none, or a relative one has no baseline."""
        unit = self.output_unit(output)
        if output in self.meaningful_change:
            value = Decimal(str(self.meaningful_change[output]))
            return value, f"{value} {unit or ('point' if value == 1 else 'points')}"
        if output in self.meaningful_change_relative and baseline is not None:
            fraction = self.meaningful_change_relative[output]
            value = abs(Decimal(str(baseline))) * fraction
            percent = (fraction * 100).normalize()
            shown = round_half_up(value, 1)
            return value, f"{percent:f}% of baseline, {shown}{f' {unit}' if unit else ''}"
        return None, ""

    def _output_item(self, output: str) -> Item | None:
        head = output.split(".")[0]
        return next((item for item in self.items if item.code == head), None)

    def _declared_label(self, output: str) -> str:
        item = self._output_item(output)
        return self.output_labels.get(output) or (item.text if item is not None else "")

    def output_unit(self, output: str) -> str:
        """The unit of a numeric output: declared in `output_units`, else its number item's."""
        if output in self.output_units:
            return self.output_units[output]
        item = self._output_item(output)
        return item.unit if isinstance(item, NumberItem) else ""

    def output_label(self, output: str) -> str:
        """A reader's name for an output ("Physical Activity Index", "Weight"), never its key.
        KeyError for an output the instrument does not declare."""
        label = self._declared_label(output)
        if not label:
            raise KeyError(f"{self.code} has no output {output!r}")
        return label

    def output_heading(self, output: str) -> str:
        """The label with its unit, for a column or row that shows bare numbers: "Weight (kg)"."""
        label, unit = self.output_label(output), self.output_unit(output)
        return f"{label} ({unit})" if unit and unit not in label.split() else label

    def output_codings(self, output: str) -> tuple[Coding, ...]:
        """Every code naming an output for another system, LOINC first, then SNOMED CT: its
        own, else its item's, else the instrument's when the instrument has one score of note.
        () when none is declared."""
        if output in self.codes:
            return as_codings(self.codes[output])
        item = self._output_item(output)
        if item is not None and item.coding is not None:
            return as_codings(item.coding)
        return as_codings(self.codes.get("instrument"))

    def output_coding(self, output: str) -> Coding | None:
        """The first of `output_codings` (LOINC where there is one), or None."""
        return next(iter(self.output_codings(output)), None)

    def item(self, code: str) -> Item:
        return next(item for item in self.items if item.code == code)

    def banding(self, output: str) -> Banding:
        return next(banding for banding in self.bandings if banding.output == output)

    def clean(self, answers: Any) -> dict[str, Any]:
        """Validate `answers` ({item code: value}); return cleaned values or raise InvalidAnswers
        listing every problem: missing item, unknown item, wrong type, out of range."""
        if not isinstance(answers, Mapping):
            raise InvalidAnswers(
                {
                    NON_ITEM_ERRORS: f"answers must be a mapping of item code to answer, "
                    f"not {type(answers).__name__}"
                }
            )
        errors: dict[str, str] = {}
        cleaned: dict[str, Any] = {}
        known = {item.code for item in self.items}
        for code in answers:
            if code not in known:
                errors[str(code)] = f"unknown item for {self.name}"
        for item in self.items:
            value = answers.get(item.code)
            if value is None:
                if item.required:
                    errors[item.code] = "missing answer"
                cleaned[item.code] = None
                continue
            try:
                cleaned[item.code] = item.clean(value)
            except _ItemError as problem:
                errors[item.code] = str(problem)
        if not errors:
            for check in self.cross_checks:
                errors.update(check(cleaned))
        if errors:
            raise InvalidAnswers(errors)
        return cleaned

    def score(self, answers: Any) -> dict[str, Any]:
        if not self.enabled:
            raise InstrumentNotEnabled(
                f"{self.name} needs a licence: set {self.licence_setting} = True once it is held"
            )
        return self.scorer(self.clean(answers))


def choice_items(
    texts: Mapping[str, str], choices: Mapping[int | str, str], **options: Any
) -> tuple[ChoiceItem, ...]:
    """Items sharing one response scale, from {item code: question text}."""
    return tuple(
        ChoiceItem(code=code, text=text, choices=choices, **options) for code, text in texts.items()
    )


def total_of(answers: Mapping[str, Any], items: tuple[Item, ...]) -> int:
    return sum(answers[item.code] for item in items)
