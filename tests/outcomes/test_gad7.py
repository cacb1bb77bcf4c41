"""GAD-7: total and severity bands at every boundary."""

import pytest

from outcomes.instruments import InvalidAnswers, score
from outcomes.instruments.gad7 import ITEMS

from .instrument_answers import summing_to


def test_minimum_scores_zero_minimal():
    assert score("gad7", summing_to(ITEMS, 0)) == {
        "total": 0,
        "band": "minimal",
        "band_label": "Minimal",
    }


def test_maximum_scores_21_severe():
    assert score("gad7", summing_to(ITEMS, 21)) == {
        "total": 21,
        "band": "severe",
        "band_label": "Severe",
    }


@pytest.mark.parametrize(
    ("total", "band"),
    [
        (4, "minimal"),
        (5, "mild"),
        (9, "mild"),
        (10, "moderate"),
        (14, "moderate"),
        (15, "severe"),
    ],
)
def test_band_boundaries(total, band):
    result = score("gad7", summing_to(ITEMS, total))
    assert (result["total"], result["band"]) == (total, band)


def test_there_is_no_moderately_severe_band():
    assert score("gad7", summing_to(ITEMS, 17))["band"] == "severe"


@pytest.mark.parametrize("bad", [-1, 4, "0", 1.5, False])
def test_out_of_range_or_wrong_type_is_rejected(bad):
    with pytest.raises(InvalidAnswers) as raised:
        score("gad7", {**summing_to(ITEMS, 0), "q7": bad})
    assert list(raised.value.errors) == ["q7"]
