"""Outcome instruments: definitions and scoring, one module per instrument.

The one public entry point is `score(code, answers)`: it validates the answers ({item code:
value}) and returns the instrument's scores as a plain, JSON-ready dict (each module's docstring
documents its result shape). Bad answers raise `InvalidAnswers`, whose `errors` maps each item
code to what is wrong with it (missing, unknown, wrong type, out of range). An unknown code raises
`UnknownInstrument`; a licence-gated instrument that is switched off raises `InstrumentNotEnabled`.

    >>> score("gad7", {"q1": 1, "q2": 2, "q3": 1, "q4": 0, "q5": 0, "q6": 1, "q7": 0})
    {'total': 5, 'band': 'mild', 'band_label': 'Mild'}
"""

from . import (
    eq5d5l,
    gad7,
    gppaq,
    ipaq_short,
    mskhq,
    ons4,
    phq9,
    physical_measures,
    sit_to_stand_30s,
    six_minute_walk,
    swemwbs,
    wemwbs,
)
from .base import Instrument, InstrumentNotEnabled, InvalidAnswers, UnknownInstrument

__all__ = [
    "REGISTRY",
    "Instrument",
    "InstrumentNotEnabled",
    "InvalidAnswers",
    "UnknownInstrument",
    "all_instruments",
    "get",
    "score",
]

REGISTRY: dict[str, Instrument] = {
    module.INSTRUMENT.code: module.INSTRUMENT
    for module in (
        gppaq,
        swemwbs,
        wemwbs,
        phq9,
        gad7,
        mskhq,
        ons4,
        ipaq_short,
        physical_measures,
        six_minute_walk,
        sit_to_stand_30s,
        eq5d5l,
    )
}


def get(code: str) -> Instrument:
    try:
        return REGISTRY[code]
    except (KeyError, TypeError):
        raise UnknownInstrument(f"no outcome instrument has the code {code!r}") from None


def all_instruments(*, include_disabled: bool = False) -> tuple[Instrument, ...]:
    """Every instrument, in a stable order; licence-gated ones only when switched on."""
    return tuple(
        instrument for instrument in REGISTRY.values() if include_disabled or instrument.enabled
    )


def score(code: str, answers) -> dict:
    """Validate `answers` for instrument `code` and return its scores (and band or bands)."""
    return get(code).score(answers)
