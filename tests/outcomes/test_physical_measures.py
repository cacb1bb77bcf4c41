"""Physical measures: BMI to one decimal (half-up, in Decimal), WHO bands, BP contraindication."""

import pytest

from outcomes.instruments import InvalidAnswers, get, score


def measures(**overrides):
    return {
        "weight_kg": 82.5,
        "height_cm": 175.0,
        "bp_systolic": 130,
        "bp_diastolic": 85,
        **overrides,
    }


def test_typical_measures():
    assert score("physical_measures", measures(waist_cm=94, resting_hr=72)) == {
        "weight_kg": 82.5,
        "height_cm": 175.0,
        "bmi": 26.9,
        "bmi_band": "overweight",
        "bmi_band_label": "Overweight",
        "waist_cm": 94.0,
        "resting_hr": 72,
        "bp_systolic": 130,
        "bp_diastolic": 85,
        "contraindication": False,
    }


def test_minimum_bmi():
    result = score("physical_measures", measures(weight_kg=25, height_cm=250))
    assert (result["bmi"], result["bmi_band"]) == (4.0, "underweight")


def test_maximum_bmi():
    result = score("physical_measures", measures(weight_kg=300, height_cm=90))
    assert (result["bmi"], result["bmi_band"]) == (370.4, "obese_3")


def test_bmi_rounds_half_up_in_decimal():
    # 99.4 / 2.0² is exactly 24.85: half-up gives 24.9 (binary floats give 24.849999...).
    result = score("physical_measures", measures(weight_kg=99.4, height_cm=200))
    assert result["bmi"] == 24.9


# Height 200 cm makes BMI = weight / 4, so each boundary is hit exactly from both sides.
@pytest.mark.parametrize(
    ("weight", "bmi", "band", "label"),
    [
        (73.6, 18.4, "underweight", "Underweight"),
        (74.0, 18.5, "healthy", "Healthy weight"),
        (99.6, 24.9, "healthy", "Healthy weight"),
        (100.0, 25.0, "overweight", "Overweight"),
        (119.6, 29.9, "overweight", "Overweight"),
        (120.0, 30.0, "obese_1", "Obesity class I"),
        (139.6, 34.9, "obese_1", "Obesity class I"),
        (140.0, 35.0, "obese_2", "Obesity class II"),
        (159.6, 39.9, "obese_2", "Obesity class II"),
        (160.0, 40.0, "obese_3", "Obesity class III"),
    ],
)
def test_bmi_band_boundaries(weight, bmi, band, label):
    result = score("physical_measures", measures(weight_kg=weight, height_cm=200))
    assert (result["bmi"], result["bmi_band"], result["bmi_band_label"]) == (bmi, band, label)


@pytest.mark.parametrize(
    ("systolic", "diastolic", "contraindicated"),
    [
        (179, 99, False),
        (180, 90, True),
        (150, 100, True),
        (180, 100, True),
        (179, 80, False),
        (140, 99, False),
    ],
)
def test_blood_pressure_at_or_above_180_over_100_is_a_contraindication(
    systolic, diastolic, contraindicated
):
    result = score("physical_measures", measures(bp_systolic=systolic, bp_diastolic=diastolic))
    assert result["contraindication"] is contraindicated


def test_waist_and_resting_heart_rate_are_optional():
    result = score("physical_measures", measures())
    assert result["waist_cm"] is None
    assert result["resting_hr"] is None


@pytest.mark.parametrize("code", ["weight_kg", "height_cm", "bp_systolic", "bp_diastolic"])
def test_weight_height_and_blood_pressure_are_required(code):
    answers = measures()
    del answers[code]
    with pytest.raises(InvalidAnswers) as raised:
        score("physical_measures", answers)
    assert raised.value.errors == {code: "missing answer"}


@pytest.mark.parametrize(("systolic", "diastolic"), [(120, 120), (80, 120)])
def test_diastolic_at_or_above_systolic_is_rejected(systolic, diastolic):
    with pytest.raises(InvalidAnswers) as raised:
        score("physical_measures", measures(bp_systolic=systolic, bp_diastolic=diastolic))
    assert raised.value.errors == {"bp_diastolic": "must be lower than the systolic pressure"}


@pytest.mark.parametrize(
    ("code", "bad", "message"),
    [
        ("weight_kg", 70.25, "must have at most 1 decimal place (got 70.25)"),
        ("height_cm", "175", "must be a number (got str)"),
        ("height_cm", float("nan"), "must be a finite number"),
        ("weight_kg", float("inf"), "must be a finite number"),
        ("weight_kg", 24.9, "must be between 25.0 and 300.0 kg (got 24.9)"),
        ("height_cm", 250.1, "must be between 90.0 and 250.0 cm (got 250.1)"),
        ("resting_hr", 72.5, "must be a whole number (got float)"),
        ("bp_systolic", 301, "must be between 60 and 300 mmHg (got 301)"),
        ("waist_cm", True, "must be a number, not true/false"),
    ],
)
def test_rejected_measures_say_why(code, bad, message):
    with pytest.raises(InvalidAnswers) as raised:
        score("physical_measures", measures(**{code: bad}))
    assert raised.value.errors == {code: message}


def test_decimal_answers_are_accepted():
    from decimal import Decimal

    result = score("physical_measures", measures(weight_kg=Decimal("82.5"), height_cm=175))
    assert result["bmi"] == 26.9


def test_bmi_range_is_declared_from_the_extremes_of_weight_and_height():
    low, high = get("physical_measures").score_ranges["bmi"]
    assert (float(low), float(high)) == (4.0, 370.4)
