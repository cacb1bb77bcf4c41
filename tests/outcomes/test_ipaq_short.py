"""IPAQ short form: MET-minutes a week and the category, per the IPAQ scoring protocol (2005)."""

import pytest

from outcomes.instruments import InvalidAnswers, get, score


def ipaq(walking=(0, 0), moderate=(0, 0), vigorous=(0, 0), **others):
    return {
        "walking_days": walking[0],
        "walking_minutes": walking[1],
        "moderate_days": moderate[0],
        "moderate_minutes": moderate[1],
        "vigorous_days": vigorous[0],
        "vigorous_minutes": vigorous[1],
        **others,
    }


def test_minimum_is_no_activity_and_low():
    assert score("ipaq_short", ipaq()) == {
        "walking_met": 0.0,
        "moderate_met": 0.0,
        "vigorous_met": 0.0,
        "total_met": 0.0,
        "band": "low",
        "band_label": "Low",
        "sitting_minutes": None,
    }


def test_maximum_truncates_each_domain_to_180_minutes_a_day():
    result = score("ipaq_short", ipaq((7, 960), (7, 960), (7, 960), sitting_minutes=1440))
    assert result == {
        "walking_met": 4158.0,  # 3.3 x 7 x 180
        "moderate_met": 5040.0,  # 4.0 x 7 x 180
        "vigorous_met": 10080.0,  # 8.0 x 7 x 180
        "total_met": 19278.0,
        "band": "high",
        "band_label": "High",
        "sitting_minutes": 1440,
    }
    assert get("ipaq_short").score_ranges["total_met"] == (0, 19278)


def test_met_minutes_are_3_3_walking_4_moderate_8_vigorous():
    result = score("ipaq_short", ipaq((5, 30), (2, 45), (1, 25)))
    assert result["walking_met"] == 495.0
    assert result["moderate_met"] == 360.0
    assert result["vigorous_met"] == 200.0
    assert result["total_met"] == 1055.0


def test_walking_met_keeps_its_decimal_place():
    assert score("ipaq_short", ipaq(walking=(1, 11)))["walking_met"] == 36.3


@pytest.mark.parametrize(("minutes", "counted"), [(180, 180), (181, 180), (300, 180)])
def test_minutes_over_180_a_day_are_truncated(minutes, counted):
    assert score("ipaq_short", ipaq(moderate=(1, minutes)))["moderate_met"] == 4.0 * counted


@pytest.mark.parametrize(("minutes", "met"), [(9, 0.0), (10, 40.0)])
def test_under_10_minutes_a_day_counts_as_no_activity(minutes, met):
    assert score("ipaq_short", ipaq(moderate=(1, minutes)))["moderate_met"] == met


def test_under_10_minute_days_do_not_count_towards_day_totals():
    # 5 days of walking, but only 5 minutes a day: neither the minutes nor the days count.
    result = score("ipaq_short", ipaq(walking=(5, 5), vigorous=(1, 75)))
    assert result["total_met"] == 600.0
    assert result["band"] == "low"


def test_minutes_with_zero_days_are_ignored():
    assert score("ipaq_short", ipaq(vigorous=(0, 120)))["total_met"] == 0.0


# High: vigorous on at least 3 days reaching 1500 MET-min/week.
@pytest.mark.parametrize(
    ("answers", "total", "band"),
    [
        (ipaq(vigorous=(3, 60), moderate=(1, 14)), 1496.0, "moderate"),
        (ipaq(vigorous=(3, 60), moderate=(1, 15)), 1500.0, "high"),
    ],
)
def test_high_by_vigorous_days_boundary(answers, total, band):
    result = score("ipaq_short", answers)
    assert (result["total_met"], result["band"]) == (total, band)


def test_vigorous_on_only_two_days_is_not_high_however_much():
    result = score("ipaq_short", ipaq(vigorous=(2, 180)))
    assert result["total_met"] == 2880.0
    assert result["band"] == "low"


# High: 7 or more days of any combination reaching 3000 MET-min/week.
@pytest.mark.parametrize(
    ("answers", "total", "band"),
    [
        (ipaq(walking=(7, 129)), 2979.9, "moderate"),
        (ipaq(walking=(7, 130)), 3003.0, "high"),
        (ipaq(walking=(4, 180), moderate=(2, 120)), 3336.0, "moderate"),  # only 6 days
    ],
)
def test_high_by_seven_days_boundary(answers, total, band):
    result = score("ipaq_short", answers)
    assert (result["total_met"], result["band"]) == (total, band)


# Moderate: 3 or more days of vigorous activity of at least 20 minutes a day.
@pytest.mark.parametrize(
    ("vigorous", "band"),
    [((3, 19), "low"), ((3, 20), "moderate"), ((2, 20), "low")],
)
def test_moderate_by_vigorous_days_boundary(vigorous, band):
    assert score("ipaq_short", ipaq(vigorous=vigorous))["band"] == band


# Moderate: 5 or more days of moderate activity and/or walking of at least 30 minutes a day.
@pytest.mark.parametrize(
    ("answers", "band"),
    [
        (ipaq(moderate=(5, 29)), "low"),  # 580 MET-min: under 600 as well
        (ipaq(moderate=(5, 30)), "moderate"),
        (ipaq(moderate=(4, 30)), "low"),
        (ipaq(moderate=(3, 30), walking=(2, 30)), "moderate"),  # 558 MET-min: days add up
        (ipaq(moderate=(3, 30), walking=(2, 29)), "low"),
    ],
)
def test_moderate_by_thirty_minute_days_boundary(answers, band):
    assert score("ipaq_short", answers)["band"] == band


# Moderate: 5 or more days of any combination reaching 600 MET-min/week.
@pytest.mark.parametrize(
    ("answers", "total", "band"),
    [
        (ipaq(walking=(4, 20), vigorous=(1, 41)), 592.0, "low"),
        (ipaq(walking=(4, 20), vigorous=(1, 42)), 600.0, "moderate"),
        (ipaq(walking=(3, 20), vigorous=(1, 180)), 1638.0, "low"),  # only 4 days
    ],
)
def test_moderate_by_600_met_minutes_boundary(answers, total, band):
    result = score("ipaq_short", answers)
    assert (result["total_met"], result["band"]) == (total, band)


def test_sitting_is_reported_but_not_scored():
    with_sitting = score("ipaq_short", ipaq(walking=(5, 30), sitting_minutes=480))
    without = score("ipaq_short", ipaq(walking=(5, 30)))
    assert with_sitting["sitting_minutes"] == 480
    assert {**with_sitting, "sitting_minutes": None} == without


@pytest.mark.parametrize(
    ("code", "bad"),
    [
        ("walking_days", 8),
        ("walking_days", -1),
        ("walking_days", 2.5),
        ("vigorous_minutes", 961),
        ("vigorous_minutes", "30"),
        ("moderate_minutes", 30.5),
        ("sitting_minutes", 1441),
        ("moderate_days", True),
    ],
)
def test_days_and_minutes_outside_their_ranges_are_rejected(code, bad):
    with pytest.raises(InvalidAnswers) as raised:
        score("ipaq_short", {**ipaq(), code: bad})
    assert list(raised.value.errors) == [code]
