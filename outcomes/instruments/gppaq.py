"""GPPAQ: General Practice Physical Activity Questionnaire, scored to the Physical Activity Index.

Result::

    {
        "pai": 2,                          # 0 inactive ... 3 active
        "band": "moderately_active",       # inactive | moderately_inactive | moderately_active
                                           #   | active
        "band_label": "Moderately active",
        "band_snomed": "366251000000109",  # the SNOMED CT code to file for the band
        "exercise_cycling": "1to3",        # the combined exercise and cycling row used (see below)
    }

How the index is derived (DH 2009 guidance, Annex 1): the PAI is a lookup of the occupation
(question 1) against the time spent on physical exercise and/or cycling last week (questions 2a and
2b); walking, housework, gardening and walking pace are recorded but do not enter the index.
"Not in employment" counts as sedentary. The two tables below are that lookup, written out so that
each cell can be checked against the published guidance and corrected in one place:

- `PAI_MATRIX`, combined exercise/cycling time x occupation. Its cells equal DOMAIN.md's rule
  (occupation level 0/1/2/3 plus time level 0/1/2/3, capped at 3), which is also how the EPIC
  "Cambridge index" that GPPAQ was derived from (Wareham et al. 2003) reads.
- `EXERCISE_CYCLING`, how answers 2a and 2b combine into one time row. The guidance scores
  "physical exercise and/or cycling" together, so time on both adds up: here the two bands'
  levels are added and capped at 3, as the open-source Digital Health Check does
  (github.com/nicholasudell/DigitalHealthCheck, `CalculateGPPAQScore`). DOMAIN.md instead takes
  the *higher* of the two. They differ only where both are answered above "none", e.g. "<1 h"
  exercise and "<1 h" cycling reads as 1-<3 h here, <1 h under DOMAIN.md. Two banded answers
  cannot give the exact total (two "<1 h" answers could total 0.1 h or 1.9 h), so the published
  Annex 1(c) table is the authority for those cells; it could not be read when this was written.

Meaningful change: one Physical Activity Index category (1 point), higher is better: the index
is ordinal, so a move of a whole category is the smallest change (DH 2009 guidance, Annex 1).
"""

from . import base
from .base import SNOMED, Band, Banding, ChoiceItem, Coding

OCCUPATIONS = {
    "not_employed": (
        "I am not in employment (e.g. retired, retired for health reasons, unemployed, "
        "full-time carer etc.)"
    ),
    "sitting": "I spend most of my time at work sitting (such as in an office)",
    "standing": (
        "I spend most of my time at work standing or walking. However, my work does not require "
        "much intense physical effort (e.g. shop assistant, hairdresser, security guard, "
        "childminder, etc.)"
    ),
    "physical": (
        "My work involves definite physical effort including handling of heavy objects and use of "
        "tools (e.g. plumber, electrician, carpenter, cleaner, hospital nurse, gardener, postal "
        "delivery workers etc.)"
    ),
    "heavy_manual": (
        "My work involves vigorous physical activity including handling of very heavy objects "
        "(e.g. scaffolder, construction worker, refuse collector, etc.)"
    ),
}

HOURS = {
    "none": "None",
    "lt1": "Some but less than 1 hour",
    "1to3": "1 hour but less than 3 hours",
    "3plus": "3 hours or more",
}

WALKING_PACE = {
    "slow": "Slow pace (i.e. less than 3 mph)",
    "steady": "Steady average pace",
    "brisk": "Brisk pace",
    "fast": "Fast pace (i.e. over 4 mph)",
}

HOURS_QUESTION = "During the last week, how many hours did you spend on each of the following?"

ITEMS = (
    ChoiceItem(
        code="occupation",
        text=(
            "Please tell us the type and amount of physical activity involved in your work. "
            "Please tick one box that is closest to your present work."
        ),
        choices=OCCUPATIONS,
    ),
    *base.choice_items(
        {
            "exercise": (
                "Physical exercise such as swimming, jogging, aerobics, football, tennis, gym "
                "workout etc."
            ),
            "cycling": "Cycling, including cycling to work and during leisure time",
            "walking": "Walking, including walking to work, shopping, for pleasure etc.",
            "housework": "Housework/childcare",
            "gardening": "Gardening/DIY",
        },
        HOURS,
        help_text=HOURS_QUESTION,
    ),
    ChoiceItem(
        code="walking_pace",
        text="How would you describe your usual walking pace?",
        choices=WALKING_PACE,
    ),
)

# Occupation column of the PAI table; "not in employment" is scored as sedentary.
OCCUPATION_COLUMN = {
    "not_employed": "sedentary",
    "sitting": "sedentary",
    "standing": "standing",
    "physical": "physical",
    "heavy_manual": "heavy_manual",
}

# Combined physical exercise and/or cycling time: EXERCISE_CYCLING[exercise][cycling].
EXERCISE_CYCLING = {
    "none": {"none": "none", "lt1": "lt1", "1to3": "1to3", "3plus": "3plus"},
    "lt1": {"none": "lt1", "lt1": "1to3", "1to3": "3plus", "3plus": "3plus"},
    "1to3": {"none": "1to3", "lt1": "3plus", "1to3": "3plus", "3plus": "3plus"},
    "3plus": {"none": "3plus", "lt1": "3plus", "1to3": "3plus", "3plus": "3plus"},
}

# PAI_MATRIX[combined exercise/cycling time][occupation column] -> index 0-3.
PAI_MATRIX = {
    "none": {"sedentary": 0, "standing": 1, "physical": 2, "heavy_manual": 3},
    "lt1": {"sedentary": 1, "standing": 2, "physical": 3, "heavy_manual": 3},
    "1to3": {"sedentary": 2, "standing": 3, "physical": 3, "heavy_manual": 3},
    "3plus": {"sedentary": 3, "standing": 3, "physical": 3, "heavy_manual": 3},
}


def _pai_band(code, label, index, snomed):
    display = f"General practice physical activity questionnaire physical activity index: {label}"
    return Band(
        code=code,
        label=label.capitalize(),
        low=index,
        high=index,
        coding=Coding(SNOMED, snomed, display),
    )


PAI = Banding(
    output="band",
    score="pai",
    bands=(
        _pai_band("inactive", "inactive", 0, "366231000000102"),
        _pai_band("moderately_inactive", "moderately inactive", 1, "366261000000107"),
        _pai_band("moderately_active", "moderately active", 2, "366251000000109"),
        _pai_band("active", "active", 3, "366241000000106"),
    ),
)


def physical_activity_index(answers):
    combined = EXERCISE_CYCLING[answers["exercise"]][answers["cycling"]]
    pai = PAI_MATRIX[combined][OCCUPATION_COLUMN[answers["occupation"]]]
    band = PAI.band_for(pai)
    return {
        "pai": pai,
        **base.band_fields(band),
        "band_snomed": band.coding.code,
        "exercise_cycling": combined,
    }


INSTRUMENT = base.Instrument(
    code="gppaq",
    name="General Practice Physical Activity Questionnaire",
    short_name="GPPAQ",
    instructions="Think about the last week.",
    items=ITEMS,
    scorer=physical_activity_index,
    score_ranges={"pai": (0, 3)},
    bandings=(PAI,),
    higher_is_better={"pai": True},
    meaningful_change={"pai": 1},
    output_labels={"pai": "Physical Activity Index"},
    codes={
        "instrument": Coding(
            SNOMED,
            "1086511000000107",
            "General Practice Physical Activity Questionnaire Physical Activity Index",
        )
    },
    licence=(
        "Crown copyright. Published by the Department of Health for use in primary care; "
        "re-usable under the Open Government Licence."
    ),
    citation=(
        "Department of Health (2009). The General Practice Physical Activity Questionnaire "
        "(GPPAQ): a screening tool to assess adult physical activity levels, within primary "
        "care. Gateway reference 11854."
    ),
)
