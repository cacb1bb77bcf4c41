"""ONS4: each question reported alone, with the anxiety question banded differently."""

import pytest

from outcomes.instruments import InvalidAnswers, score

POSITIVE = ("life_satisfaction", "worthwhile", "happiness")


def ons4(**scores):
    return {"life_satisfaction": 0, "worthwhile": 0, "happiness": 0, "anxiety": 0, **scores}


def test_minimum_scores():
    assert score("ons4", ons4()) == {
        "life_satisfaction": {"score": 0, "band": "low", "band_label": "Low"},
        "worthwhile": {"score": 0, "band": "low", "band_label": "Low"},
        "happiness": {"score": 0, "band": "low", "band_label": "Low"},
        "anxiety": {"score": 0, "band": "very_low", "band_label": "Very low"},
    }


def test_maximum_scores():
    top = dict.fromkeys((*POSITIVE, "anxiety"), 10)
    assert score("ons4", top) == {
        "life_satisfaction": {"score": 10, "band": "very_high", "band_label": "Very high"},
        "worthwhile": {"score": 10, "band": "very_high", "band_label": "Very high"},
        "happiness": {"score": 10, "band": "very_high", "band_label": "Very high"},
        "anxiety": {"score": 10, "band": "high", "band_label": "High"},
    }


@pytest.mark.parametrize("question", POSITIVE)
@pytest.mark.parametrize(
    ("value", "band"),
    [(4, "low"), (5, "medium"), (6, "medium"), (7, "high"), (8, "high"), (9, "very_high")],
)
def test_positive_question_band_boundaries(question, value, band):
    assert score("ons4", ons4(**{question: value}))[question]["band"] == band


@pytest.mark.parametrize(
    ("value", "band"),
    [(1, "very_low"), (2, "low"), (3, "low"), (4, "medium"), (5, "medium"), (6, "high")],
)
def test_anxiety_band_boundaries(value, band):
    assert score("ons4", ons4(anxiety=value))["anxiety"]["band"] == band


def test_each_question_is_reported_alone_not_summed():
    result = score("ons4", ons4(life_satisfaction=8, worthwhile=6, happiness=3, anxiety=7))
    assert set(result) == {"life_satisfaction", "worthwhile", "happiness", "anxiety"}
    assert [result[code]["score"] for code in result] == [8, 6, 3, 7]


def test_the_same_score_bands_differently_for_anxiety():
    result = score("ons4", ons4(happiness=6, anxiety=6))
    assert result["happiness"]["band"] == "medium"
    assert result["anxiety"]["band"] == "high"


@pytest.mark.parametrize("bad", [-1, 11, "7", 7.5, True])
def test_answers_outside_0_to_10_are_rejected(bad):
    with pytest.raises(InvalidAnswers) as raised:
        score("ons4", ons4(anxiety=bad))
    assert list(raised.value.errors) == ["anxiety"]
