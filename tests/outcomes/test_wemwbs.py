"""WEMWBS: 14 items summed, 14 to 70."""

import pytest

from outcomes.instruments import InvalidAnswers, get, score
from outcomes.instruments.wemwbs import ITEMS

from .instrument_answers import summing_to


def test_minimum_is_14():
    assert score("wemwbs", summing_to(ITEMS, 14)) == {"total": 14}


def test_maximum_is_70():
    assert score("wemwbs", summing_to(ITEMS, 70)) == {"total": 70}


def test_total_is_the_plain_sum():
    answers = {item.code: (index % 5) + 1 for index, item in enumerate(ITEMS)}
    assert score("wemwbs", answers) == {"total": sum(answers.values())}


def test_has_fourteen_items_scored_1_to_5_and_no_bands():
    instrument = get("wemwbs")
    assert len(instrument.items) == 14
    assert all(set(item.choices) == {1, 2, 3, 4, 5} for item in instrument.items)
    assert instrument.bandings == ()


@pytest.mark.parametrize("bad", [0, 6, "5", 4.0, True])
def test_out_of_range_or_wrong_type_is_rejected(bad):
    with pytest.raises(InvalidAnswers) as raised:
        score("wemwbs", {**summing_to(ITEMS, 14), "q14": bad})
    assert list(raised.value.errors) == ["q14"]
