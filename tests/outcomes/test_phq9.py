"""PHQ-9: total, severity bands at every boundary, and the item 9 safety alert."""

import pytest

from outcomes.instruments import InvalidAnswers, score
from outcomes.instruments.phq9 import ITEMS

from .instrument_answers import summing_to

NOT_Q9 = ITEMS[:8]


def phq9(total, q9=0):
    return {**summing_to(NOT_Q9, total - q9), "q9": q9}


def test_minimum_scores_zero_minimal_without_alert():
    assert score("phq9", phq9(0)) == {
        "total": 0,
        "band": "minimal",
        "band_label": "Minimal",
        "safety_alert": False,
    }


def test_maximum_scores_27_severe_with_alert():
    assert score("phq9", {item.code: 3 for item in ITEMS}) == {
        "total": 27,
        "band": "severe",
        "band_label": "Severe",
        "safety_alert": True,
    }


@pytest.mark.parametrize(
    ("total", "band", "label"),
    [
        (4, "minimal", "Minimal"),
        (5, "mild", "Mild"),
        (9, "mild", "Mild"),
        (10, "moderate", "Moderate"),
        (14, "moderate", "Moderate"),
        (15, "moderately_severe", "Moderately severe"),
        (19, "moderately_severe", "Moderately severe"),
        (20, "severe", "Severe"),
    ],
)
def test_band_boundaries(total, band, label):
    result = score("phq9", phq9(total))
    assert (result["total"], result["band"], result["band_label"]) == (total, band, label)


@pytest.mark.parametrize("q9", [1, 2, 3])
def test_any_answer_above_zero_to_item_9_raises_the_safety_alert(q9):
    assert score("phq9", phq9(q9, q9=q9))["safety_alert"] is True


def test_safety_alert_does_not_depend_on_the_total():
    result = score("phq9", phq9(1, q9=1))
    assert result["band"] == "minimal"
    assert result["safety_alert"] is True


def test_high_total_without_item_9_raises_no_alert():
    result = score("phq9", phq9(24))
    assert result["band"] == "severe"
    assert result["safety_alert"] is False


@pytest.mark.parametrize("bad", [-1, 4, "3", 2.0, True, None])
def test_item_9_answers_outside_0_to_3_are_rejected(bad):
    with pytest.raises(InvalidAnswers) as raised:
        score("phq9", {**phq9(0), "q9": bad})
    assert list(raised.value.errors) == ["q9"]


def test_a_tenth_item_is_rejected_as_unknown():
    with pytest.raises(InvalidAnswers) as raised:
        score("phq9", {**phq9(0), "q10": 0})
    assert list(raised.value.errors) == ["q10"]
