"""ONS4: the Office for National Statistics personal well-being questions (4 items, each 0-10).

Each question is reported on its own, never summed. Result::

    {
        "life_satisfaction": {"score": 7, "band": "high", "band_label": "High"},
        "worthwhile": {"score": 9, "band": "very_high", "band_label": "Very high"},
        "happiness": {"score": 4, "band": "low", "band_label": "Low"},
        "anxiety": {"score": 2, "band": "low", "band_label": "Low"},
    }

Life satisfaction, worthwhile and happiness (higher is better) band as 0-4 low, 5-6 medium,
7-8 high, 9-10 very high. Anxiety (lower is better) bands differently: 0-1 very low, 2-3 low,
4-5 medium, 6-10 high.

Meaningful change: ONS publishes no individual-level threshold, so a summary reports each
change without judging it; higher is better except for anxiety.
"""

from . import base
from .base import Band, Banding, ChoiceItem

SCALE = {value: str(value) for value in range(11)}

POSITIVE = (
    Band(code="low", label="Low", low=0, high=4),
    Band(code="medium", label="Medium", low=5, high=6),
    Band(code="high", label="High", low=7, high=8),
    Band(code="very_high", label="Very high", low=9, high=10),
)
ANXIETY = (
    Band(code="very_low", label="Very low", low=0, high=1),
    Band(code="low", label="Low", low=2, high=3),
    Band(code="medium", label="Medium", low=4, high=5),
    Band(code="high", label="High", low=6, high=10),
)

ITEMS = (
    ChoiceItem(
        code="life_satisfaction",
        text="Overall, how satisfied are you with your life nowadays?",
        help_text="0 is 'not at all satisfied' and 10 is 'completely satisfied'.",
        choices=SCALE,
    ),
    ChoiceItem(
        code="worthwhile",
        text=(
            "Overall, to what extent do you feel that the things you do in your life are "
            "worthwhile?"
        ),
        help_text="0 is 'not at all worthwhile' and 10 is 'completely worthwhile'.",
        choices=SCALE,
    ),
    ChoiceItem(
        code="happiness",
        text="Overall, how happy did you feel yesterday?",
        help_text="0 is 'not at all happy' and 10 is 'completely happy'.",
        choices=SCALE,
    ),
    ChoiceItem(
        code="anxiety",
        text="Overall, how anxious did you feel yesterday?",
        help_text="0 is 'not at all anxious' and 10 is 'completely anxious'.",
        choices=SCALE,
    ),
)

BANDINGS = tuple(
    Banding(
        output=f"{item.code}.band",
        score=f"{item.code}.score",
        bands=ANXIETY if item.code == "anxiety" else POSITIVE,
    )
    for item in ITEMS
)


def each_alone(answers):
    result = {}
    for item, banding in zip(ITEMS, BANDINGS, strict=True):
        score = answers[item.code]
        result[item.code] = {"score": score, **base.band_fields(banding.band_for(score))}
    return result


INSTRUMENT = base.Instrument(
    code="ons4",
    name="ONS personal well-being questions",
    short_name="ONS4",
    instructions="Answer each question on a scale of 0 to 10.",
    items=ITEMS,
    scorer=each_alone,
    score_ranges={f"{item.code}.score": (0, 10) for item in ITEMS},
    bandings=BANDINGS,
    higher_is_better={f"{item.code}.score": item.code != "anxiety" for item in ITEMS},
    # The ONS's own short names for the four questions.
    output_labels={
        "life_satisfaction.score": "Life satisfaction",
        "worthwhile.score": "Worthwhile",
        "happiness.score": "Happiness",
        "anxiety.score": "Anxiety",
    },
    # No codes: no LOINC or SNOMED CT (UK edition) code for the four ONS4 scores could be confirmed
    # in a reliable source, and a wrong clinical code is worse than none (UNCODED in
    # tests/outcomes/test_instrument_codes.py).
    licence="Crown copyright, Office for National Statistics; Open Government Licence v3.0.",
    citation=(
        "Office for National Statistics. Personal well-being user guidance (ONS4: life "
        "satisfaction, worthwhile, happiness, anxiety)."
    ),
)
