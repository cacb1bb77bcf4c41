"""Each instrument documents its meaningful-change threshold (issue 11, finding 9 in part): a
minimal important difference and a direction where a source gives them, "no threshold" where none
does, and a one-line source in the module's docstring. The thresholds are written out here by
hand from the sources, not read back from the code."""

import inspect
from decimal import Decimal

import pytest

from outcomes.instruments import all_instruments, get

ALL = all_instruments(include_disabled=True)

# instrument: {score: (minimal important difference, direction)}; None = no threshold/direction.
EXPECTED = {
    "swemwbs": {"metric": ("3 points", True)},
    "wemwbs": {"total": ("3 points", True)},
    "phq9": {"total": ("5 points", False)},
    "gad7": {"total": ("4 points", False)},
    "mskhq": {"total": ("6 points", True)},
    "six_minute_walk": {"distance_m": ("50 m", True)},
    "gppaq": {"pai": ("1 point", True)},
    "sit_to_stand_30s": {"count": (None, True)},
    "ipaq_short": {"total_met": (None, True)},
    "eq5d5l": {"vas": (None, True)},
    "ons4": {
        "life_satisfaction.score": (None, True),
        "worthwhile.score": (None, True),
        "happiness.score": (None, True),
        "anxiety.score": (None, False),
    },
    "physical_measures": {
        "bmi": ("5% of baseline, 1.5 kg/m²", None),
        "weight_kg": ("5% of baseline, 4.5 kg", None),
        "waist_cm": (None, None),
        "bp_systolic": (None, False),
        "bp_diastolic": (None, False),
        "resting_hr": (None, False),
    },
}
# Baselines for the relative thresholds: BMI 30.0, weight 90.0 kg.
BASELINES = {"bmi": Decimal("30.0"), "weight_kg": Decimal("90.0")}


def test_finding_9_every_instrument_has_an_expectation():
    assert {i.code for i in ALL} == set(EXPECTED)


@pytest.mark.parametrize("code", sorted(EXPECTED))
def test_finding_9_each_instrument_states_its_meaningful_change_and_direction(code):
    instrument = get(code)
    found = {}
    for output in instrument.reported_outputs:
        _, text = instrument.minimal_important_difference(output, BASELINES.get(output))
        found[output] = (text or None, instrument.higher_is_better.get(output))

    assert found == EXPECTED[code]


@pytest.mark.parametrize("instrument", ALL, ids=lambda i: i.code)
def test_finding_9_each_module_docstring_names_its_threshold_source(instrument):
    module = inspect.getmodule(instrument.scorer)

    assert "Meaningful change:" in (module.__doc__ or "")


def test_finding_9_a_relative_threshold_needs_a_baseline():
    assert get("physical_measures").minimal_important_difference("bmi", None) == (None, "")
