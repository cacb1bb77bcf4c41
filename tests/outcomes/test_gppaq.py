"""GPPAQ: the Physical Activity Index over the whole occupation x exercise x cycling grid.

The expected index is worked out here from the guidance's summary (occupation level plus the
combined exercise and/or cycling time, capped at "active"), independently of the lookup tables in
the module, and checked for all 80 combinations."""

import itertools

import pytest

from outcomes.instruments import InvalidAnswers, get, score

OCCUPATION_LEVEL = {
    "not_employed": 0,
    "sitting": 0,
    "standing": 1,
    "physical": 2,
    "heavy_manual": 3,
}
HOURS_LEVEL = {"none": 0, "lt1": 1, "1to3": 2, "3plus": 3}
BANDS = ["inactive", "moderately_inactive", "moderately_active", "active"]
SNOMED = ["366231000000102", "366261000000107", "366251000000109", "366241000000106"]


def gppaq(occupation="sitting", exercise="none", cycling="none", **others):
    return {
        "occupation": occupation,
        "exercise": exercise,
        "cycling": cycling,
        "walking": "none",
        "housework": "none",
        "gardening": "none",
        "walking_pace": "slow",
        **others,
    }


def expected_pai(occupation, exercise, cycling):
    combined = min(HOURS_LEVEL[exercise] + HOURS_LEVEL[cycling], 3)
    return min(OCCUPATION_LEVEL[occupation] + combined, 3)


@pytest.mark.parametrize(
    ("occupation", "exercise", "cycling"),
    list(itertools.product(OCCUPATION_LEVEL, HOURS_LEVEL, HOURS_LEVEL)),
)
def test_physical_activity_index_over_the_whole_grid(occupation, exercise, cycling):
    pai = expected_pai(occupation, exercise, cycling)
    result = score("gppaq", gppaq(occupation, exercise, cycling))
    assert result["pai"] == pai
    assert result["band"] == BANDS[pai]
    assert result["band_snomed"] == SNOMED[pai]


def test_minimum_is_inactive():
    assert score("gppaq", gppaq("not_employed")) == {
        "pai": 0,
        "band": "inactive",
        "band_label": "Inactive",
        "band_snomed": "366231000000102",
        "exercise_cycling": "none",
    }


def test_maximum_is_active():
    assert score("gppaq", gppaq("heavy_manual", "3plus", "3plus")) == {
        "pai": 3,
        "band": "active",
        "band_label": "Active",
        "band_snomed": "366241000000106",
        "exercise_cycling": "3plus",
    }


# Each band boundary, from both sides: the step that moves a sedentary worker up one band, and the
# occupations that start in each band with no exercise or cycling.
@pytest.mark.parametrize(
    ("answers", "band"),
    [
        (gppaq("sitting", "none"), "inactive"),
        (gppaq("sitting", "lt1"), "moderately_inactive"),
        (gppaq("standing", "none"), "moderately_inactive"),
        (gppaq("sitting", "1to3"), "moderately_active"),
        (gppaq("standing", "lt1"), "moderately_active"),
        (gppaq("physical", "none"), "moderately_active"),
        (gppaq("sitting", "3plus"), "active"),
        (gppaq("standing", "1to3"), "active"),
        (gppaq("physical", "lt1"), "active"),
        (gppaq("heavy_manual", "none"), "active"),
    ],
)
def test_band_boundaries(answers, band):
    assert score("gppaq", answers)["band"] == band


def test_not_in_employment_scores_as_sedentary():
    for exercise in HOURS_LEVEL:
        assert score("gppaq", gppaq("not_employed", exercise)) == score(
            "gppaq", gppaq("sitting", exercise)
        )


def test_cycling_counts_like_exercise():
    for hours in HOURS_LEVEL:
        assert score("gppaq", gppaq(cycling=hours)) == score("gppaq", gppaq(exercise=hours))


def test_exercise_and_cycling_times_add_up():
    # DOMAIN.md takes the higher of the two; the guidance combines "exercise and/or cycling".
    result = score("gppaq", gppaq("sitting", "lt1", "lt1"))
    assert result["exercise_cycling"] == "1to3"
    assert result["band"] == "moderately_active"


def test_walking_housework_gardening_and_pace_do_not_change_the_index():
    busy = gppaq(walking="3plus", housework="3plus", gardening="3plus", walking_pace="fast")
    assert score("gppaq", busy)["pai"] == 0


def test_every_hours_question_offers_the_four_bands():
    instrument = get("gppaq")
    for code in ("exercise", "cycling", "walking", "housework", "gardening"):
        assert list(instrument.item(code).choices) == ["none", "lt1", "1to3", "3plus"]
    assert list(instrument.item("occupation").choices) == list(OCCUPATION_LEVEL)
    assert list(instrument.item("walking_pace").choices) == ["slow", "steady", "brisk", "fast"]


@pytest.mark.parametrize(
    ("code", "bad"),
    [
        ("occupation", "retired"),
        ("occupation", 0),
        ("exercise", "2"),
        ("exercise", 2),
        ("cycling", "more than 3"),
        ("walking_pace", "very fast"),
        ("walking_pace", True),
    ],
)
def test_answers_outside_the_options_are_rejected(code, bad):
    with pytest.raises(InvalidAnswers) as raised:
        score("gppaq", gppaq(**{code: bad}))
    assert list(raised.value.errors) == [code]
