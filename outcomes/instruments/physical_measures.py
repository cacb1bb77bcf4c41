"""Physical measures: weight, height, waist, resting heart rate and blood pressure; BMI computed.

Result::

    {
        "weight_kg": 82.5,
        "height_cm": 175.0,
        "bmi": 26.9,                     # kg/m², rounded half-up to one decimal
        "bmi_band": "overweight",        # WHO adult classification, on the rounded BMI
        "bmi_band_label": "Overweight",
        "waist_cm": 94.0,                # None when not measured
        "resting_hr": 72,                # beats a minute; None when not measured
        "bp_systolic": 130,              # mmHg
        "bp_diastolic": 85,
        "contraindication": False,       # BP at or above 180/100: no exercise until reviewed
    }

`contraindication` is True when systolic is 180 or more, or diastolic 100 or more (the programme
exclusion "resting BP >= 180/100" in DOMAIN.md). Weight, height and blood pressure are required;
waist and resting heart rate are optional. The WHO BMI bands are used as they stand; NICE's lower
action thresholds for people of South Asian, Chinese, other Asian, Middle Eastern, Black African
or African-Caribbean family background need ethnicity, which this instrument does not ask.

Meaningful change: 5% of baseline body weight, and so of BMI at an unchanged height (NICE
CG189, obesity: a sustained 5% loss brings health benefits); no direction is claimed for weight
or BMI (lower is better only for those above a healthy weight). No threshold for waist, blood
pressure or heart rate; lower is better for blood pressure and resting heart rate.
"""

from decimal import Decimal

from . import base
from .base import LOINC, Band, Banding, Coding, NumberItem

WEIGHT = (Decimal("25.0"), Decimal("300.0"))
HEIGHT = (Decimal("90.0"), Decimal("250.0"))
CONTRAINDICATION_SYSTOLIC = 180
CONTRAINDICATION_DIASTOLIC = 100

ITEMS = (
    NumberItem(
        code="weight_kg",
        text="Weight",
        min_value=WEIGHT[0],
        max_value=WEIGHT[1],
        decimal_places=1,
        unit="kg",
        coding=Coding(LOINC, "29463-7", "Body weight"),
    ),
    NumberItem(
        code="height_cm",
        text="Height",
        min_value=HEIGHT[0],
        max_value=HEIGHT[1],
        decimal_places=1,
        unit="cm",
        coding=Coding(LOINC, "8302-2", "Body height"),
    ),
    NumberItem(
        code="waist_cm",
        text="Waist circumference",
        min_value=Decimal("40.0"),
        max_value=Decimal("250.0"),
        decimal_places=1,
        unit="cm",
        required=False,
        coding=Coding(LOINC, "8280-0", "Waist Circumference at umbilicus by Tape measure"),
    ),
    NumberItem(
        code="resting_hr",
        text="Resting heart rate",
        min_value=25,
        max_value=250,
        unit="beats/min",
        required=False,
        coding=Coding(LOINC, "8867-4", "Heart rate"),
    ),
    NumberItem(
        code="bp_systolic",
        text="Blood pressure, systolic",
        min_value=60,
        max_value=300,
        unit="mmHg",
        coding=Coding(LOINC, "8480-6", "Systolic blood pressure"),
    ),
    NumberItem(
        code="bp_diastolic",
        text="Blood pressure, diastolic",
        min_value=30,
        max_value=200,
        unit="mmHg",
        coding=Coding(LOINC, "8462-4", "Diastolic blood pressure"),
    ),
)

BMI_BANDS = Banding(
    output="bmi_band",
    score="bmi",
    bands=(
        Band(code="underweight", label="Underweight", high=Decimal("18.4")),
        Band(code="healthy", label="Healthy weight", low=Decimal("18.5"), high=Decimal("24.9")),
        Band(code="overweight", label="Overweight", low=Decimal("25.0"), high=Decimal("29.9")),
        Band(code="obese_1", label="Obesity class I", low=Decimal("30.0"), high=Decimal("34.9")),
        Band(code="obese_2", label="Obesity class II", low=Decimal("35.0"), high=Decimal("39.9")),
        Band(code="obese_3", label="Obesity class III", low=Decimal("40.0")),
    ),
)


def body_mass_index(weight_kg, height_cm) -> Decimal:
    metres = Decimal(height_cm) / 100
    return base.round_half_up(Decimal(weight_kg) / (metres * metres), 1)


def _diastolic_below_systolic(answers):
    if answers["bp_diastolic"] >= answers["bp_systolic"]:
        return {"bp_diastolic": "must be lower than the systolic pressure"}
    return {}


def _optional(value, places):
    return None if value is None else base.as_json_number(value, places)


def measures(answers):
    bmi = body_mass_index(answers["weight_kg"], answers["height_cm"])
    return {
        "weight_kg": base.as_json_number(answers["weight_kg"], 1),
        "height_cm": base.as_json_number(answers["height_cm"], 1),
        "bmi": float(bmi),
        **base.band_fields(BMI_BANDS.band_for(bmi), prefix="bmi_band"),
        "waist_cm": _optional(answers["waist_cm"], 1),
        "resting_hr": answers["resting_hr"],
        "bp_systolic": answers["bp_systolic"],
        "bp_diastolic": answers["bp_diastolic"],
        "contraindication": (
            answers["bp_systolic"] >= CONTRAINDICATION_SYSTOLIC
            or answers["bp_diastolic"] >= CONTRAINDICATION_DIASTOLIC
        ),
    }


def _range_of(code):
    item = next(item for item in ITEMS if item.code == code)
    return (item.min_value, item.max_value)


INSTRUMENT = base.Instrument(
    code="physical_measures",
    name="Physical measures",
    short_name="Physical measures",
    instructions=(
        "Measure weight without shoes in light clothing, height without shoes, and blood "
        "pressure seated after 5 minutes' rest."
    ),
    items=ITEMS,
    scorer=measures,
    score_ranges={
        # BMI rises with weight and falls with height, so its extremes are at the corners.
        "bmi": (body_mass_index(WEIGHT[0], HEIGHT[1]), body_mass_index(WEIGHT[1], HEIGHT[0])),
        **{item.code: _range_of(item.code) for item in ITEMS},
    },
    bandings=(BMI_BANDS,),
    higher_is_better={"bp_systolic": False, "bp_diastolic": False, "resting_hr": False},
    meaningful_change_relative={"bmi": Decimal("0.05"), "weight_kg": Decimal("0.05")},
    summary_outputs=("bmi", "weight_kg", "waist_cm", "bp_systolic", "bp_diastolic", "resting_hr"),
    output_labels={"bmi": "BMI"},
    output_units={"bmi": "kg/m²"},
    codes={"bmi": Coding(LOINC, "39156-5", "Body mass index (BMI) [Ratio]")},
    cross_checks=(_diastolic_below_systolic,),
    licence="Standard clinical measurements; LOINC codes © Regenstrief Institute (free licence).",
    citation=(
        "World Health Organization. Obesity: preventing and managing the global epidemic. WHO "
        "Technical Report Series 894, 2000 (BMI classification)."
    ),
)
