"""SWEMWBS: raw sum and the published raw-to-metric conversion, checked for every raw score.

The expected table is typed here again from the published source (Stewart-Brown et al. 2009;
Warwick Medical School SWEMWBS scoring guidance) rather than imported, so a slip in the module's
copy fails the test.
"""

import pytest

from outcomes.instruments import InvalidAnswers, score
from outcomes.instruments.swemwbs import ITEMS

from .instrument_answers import summing_to

PUBLISHED = {
    7: 7.00,
    8: 9.51,
    9: 11.25,
    10: 12.40,
    11: 13.33,
    12: 14.08,
    13: 14.75,
    14: 15.32,
    15: 15.84,
    16: 16.36,
    17: 16.88,
    18: 17.43,
    19: 17.98,
    20: 18.59,
    21: 19.25,
    22: 19.98,
    23: 20.73,
    24: 21.54,
    25: 22.35,
    26: 23.21,
    27: 24.11,
    28: 25.03,
    29: 26.02,
    30: 27.03,
    31: 28.13,
    32: 29.31,
    33: 30.70,
    34: 32.55,
    35: 35.00,
}


def test_published_table_covers_every_raw_score():
    assert sorted(PUBLISHED) == list(range(7, 36))


@pytest.mark.parametrize(("raw", "metric"), sorted(PUBLISHED.items()))
def test_raw_score_converts_to_the_published_metric_score(raw, metric):
    assert score("swemwbs", summing_to(ITEMS, raw)) == {"raw": raw, "metric": metric}


def test_conversion_depends_only_on_the_raw_sum():
    one_way = {"q1": 5, "q2": 1, "q3": 3, "q4": 3, "q5": 3, "q6": 3, "q7": 3}
    other_way = {"q1": 1, "q2": 5, "q3": 2, "q4": 4, "q5": 3, "q6": 3, "q7": 3}
    assert score("swemwbs", one_way) == {"raw": 21, "metric": 19.25}
    assert score("swemwbs", other_way) == {"raw": 21, "metric": 19.25}


def test_minimum_and_maximum():
    assert score("swemwbs", summing_to(ITEMS, 7)) == {"raw": 7, "metric": 7.0}
    assert score("swemwbs", summing_to(ITEMS, 35)) == {"raw": 35, "metric": 35.0}


@pytest.mark.parametrize("bad", [0, 6, "3", 3.0, True])
def test_out_of_range_or_wrong_type_is_rejected(bad):
    with pytest.raises(InvalidAnswers) as raised:
        score("swemwbs", {**summing_to(ITEMS, 7), "q4": bad})
    assert list(raised.value.errors) == ["q4"]
