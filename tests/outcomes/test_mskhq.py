"""MSK-HQ: 14 items scored 0 (worst) to 4 (best), summed 0 to 56."""

import pytest

from outcomes.instruments import InvalidAnswers, get, score
from outcomes.instruments.mskhq import ITEMS

from .instrument_answers import summing_to


def test_minimum_is_0():
    assert score("mskhq", summing_to(ITEMS, 0)) == {"total": 0}


def test_maximum_is_56():
    assert score("mskhq", summing_to(ITEMS, 56)) == {"total": 56}


def test_higher_is_better_and_six_points_is_clinically_important():
    instrument = get("mskhq")
    assert instrument.higher_is_better == {"total": True}
    assert instrument.meaningful_change == {"total": 6}


def test_has_fourteen_items():
    assert len(ITEMS) == 14
    assert all(set(item.choices) == {0, 1, 2, 3, 4} for item in ITEMS)


@pytest.mark.parametrize("bad", [-1, 5, "4", 4.0, True])
def test_out_of_range_or_wrong_type_is_rejected(bad):
    with pytest.raises(InvalidAnswers) as raised:
        score("mskhq", {**summing_to(ITEMS, 0), "q1": bad})
    assert list(raised.value.errors) == ["q1"]
