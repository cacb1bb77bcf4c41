"""Property tests over every instrument, generated from the instruments' own declarations:

- any valid answer set scores inside every declared score range, with a declared band that
  matches its score, and a JSON-ready result;
- any otherwise valid answer set with one answer out of range is rejected, naming that item.

EQ-5D-5L is included with its licence setting switched on for the duration of each example.
"""

import json
import string
from decimal import Decimal

import pytest
from django.test import override_settings
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from outcomes.instruments import InvalidAnswers, all_instruments
from outcomes.instruments.base import ChoiceItem, NumberItem, lookup

INSTRUMENTS = all_instruments(include_disabled=True)

EXAMPLES = settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.filter_too_much],
)


def _step(item):
    return Decimal(1).scaleb(-item.decimal_places)


def valid_answer(item):
    if isinstance(item, ChoiceItem):
        return st.sampled_from(list(item.choices))
    if item.decimal_places == 0:
        return st.integers(min_value=int(item.min_value), max_value=int(item.max_value))
    decimals = st.decimals(
        min_value=Decimal(item.min_value),
        max_value=Decimal(item.max_value),
        places=item.decimal_places,
        allow_nan=False,
        allow_infinity=False,
    )
    # Answers arrive as JSON floats or as Decimals; both must work.
    return st.one_of(decimals, decimals.map(float))


def out_of_range_answer(item):
    if isinstance(item, ChoiceItem):
        if item.value_type is int:
            return st.one_of(
                st.integers(max_value=min(item.choices) - 1),
                st.integers(min_value=max(item.choices) + 1),
            )
        # Plain characters suffice: what matters is that the text is not one of the choices.
        return st.text(alphabet=string.ascii_letters + string.digits + " _-").filter(
            lambda text: text not in item.choices
        )
    if item.decimal_places == 0:
        return st.one_of(
            st.integers(max_value=int(item.min_value) - 1),
            st.integers(min_value=int(item.max_value) + 1),
        )
    below = st.decimals(
        max_value=Decimal(item.min_value) - _step(item),
        places=item.decimal_places,
        allow_nan=False,
        allow_infinity=False,
    )
    above = st.decimals(
        min_value=Decimal(item.max_value) + _step(item),
        places=item.decimal_places,
        allow_nan=False,
        allow_infinity=False,
    )
    return st.one_of(below, above, below.map(float), above.map(float))


def answer_sets(instrument):
    return st.fixed_dictionaries(
        {item.code: valid_answer(item) for item in instrument.items if item.required},
        optional={
            item.code: st.one_of(st.none(), valid_answer(item))
            for item in instrument.items
            if not item.required
        },
    )


def _passes_cross_checks(instrument, answers):
    try:
        instrument.clean(answers)
    except InvalidAnswers:
        return False
    return True


@pytest.mark.parametrize("instrument", INSTRUMENTS, ids=lambda instrument: instrument.code)
@EXAMPLES
@given(data=st.data())
def test_any_valid_answers_score_inside_the_declared_ranges(instrument, data):
    answers = data.draw(answer_sets(instrument), label="answers")
    # Cross-item rules (diastolic below systolic) narrow what "valid" means.
    assume(_passes_cross_checks(instrument, answers))
    optional_items = {item.code for item in instrument.items if not item.required}
    with override_settings(PORTAL_EQ5D5L_LICENSED=True):
        result = instrument.score(answers)

    for path, (low, high) in instrument.score_ranges.items():
        value = lookup(result, path)
        if value is None:
            assert path in optional_items and answers.get(path) is None, path
            continue
        assert not isinstance(value, bool | Decimal), path
        assert low <= value <= high, f"{path}={value} outside {low}..{high}"
    for banding in instrument.bandings:
        code = lookup(result, banding.output)
        band = banding.get(code)  # raises StopIteration for an undeclared band
        assert lookup(result, banding.output + "_label") == band.label
        if banding.score:
            assert banding.band_for(lookup(result, banding.score)) == band
    assert json.loads(json.dumps(result)) == result


@pytest.mark.parametrize("instrument", INSTRUMENTS, ids=lambda instrument: instrument.code)
@EXAMPLES
@given(data=st.data())
def test_any_answer_set_with_one_answer_out_of_range_is_rejected(instrument, data):
    answers = data.draw(answer_sets(instrument), label="answers")
    item = data.draw(st.sampled_from(instrument.items), label="item")
    answers[item.code] = data.draw(out_of_range_answer(item), label="bad answer")
    with override_settings(PORTAL_EQ5D5L_LICENSED=True), pytest.raises(InvalidAnswers) as raised:
        instrument.score(answers)
    assert item.code in raised.value.errors


@pytest.mark.parametrize("instrument", INSTRUMENTS, ids=lambda instrument: instrument.code)
def test_every_numeric_item_and_choice_can_be_generated(instrument):
    # Guards the strategies above: every item is a kind they know how to generate.
    for item in instrument.items:
        assert isinstance(item, ChoiceItem | NumberItem)
