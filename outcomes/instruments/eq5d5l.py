"""EQ-5D-5L: EuroQol five-dimension, five-level health state and visual analogue scale.

Licence-gated and off by default: scoring raises `InstrumentNotEnabled` unless the Django setting
`PORTAL_EQ5D5L_LICENSED` is True (read when scoring). Only the descriptive profile and the VAS are
kept; no value set is applied (an index needs a country value set, which is also licensed).

Result::

    {"profile": "11232", "vas": 75}
    # profile: levels 1-5 for mobility, self-care, usual activities, pain/discomfort and
    # anxiety/depression, in that order; vas: 0 (worst imaginable) to 100 (best imaginable)

The level labels here are neutral; the licensed questionnaire wording comes with the EuroQol
licence and must be used when patients fill it in themselves.

Meaningful change: none declared for the VAS (published ones vary by condition); higher is better.
"""

from . import base
from .base import SNOMED, Coding, NumberItem

LEVELS = {
    1: "No problems",
    2: "Slight problems",
    3: "Moderate problems",
    4: "Severe problems",
    5: "Extreme problems or unable to",
}

DIMENSIONS = {
    "mobility": "Mobility",
    "self_care": "Self-care",
    "usual_activities": "Usual activities",
    "pain_discomfort": "Pain or discomfort",
    "anxiety_depression": "Anxiety or depression",
}

ITEMS = (
    *base.choice_items(DIMENSIONS, LEVELS),
    NumberItem(
        code="vas",
        text="Your health today",
        help_text="0 is the worst health you can imagine and 100 the best.",
        min_value=0,
        max_value=100,
    ),
)


def profile_and_vas(answers):
    return {
        "profile": "".join(str(answers[code]) for code in DIMENSIONS),
        "vas": answers["vas"],
    }


INSTRUMENT = base.Instrument(
    code="eq5d5l",
    name="EQ-5D-5L",
    short_name="EQ-5D-5L",
    instructions="Describe your health today.",
    items=ITEMS,
    scorer=profile_and_vas,
    score_ranges={"vas": (0, 100)},
    higher_is_better={"vas": True},
    output_labels={"vas": "Health today (0 to 100)"},
    # SNOMED CT 736535009 as the German MII PRO IG codes the EQ-5D-5L VAS Observation (and HL7
    # Denmark's KL Tools EQ-5D questionnaire its VAS item); no LOINC code for it was found.
    codes={"vas": Coding(SNOMED, "736535009", "EuroQol visual analogue score (observable entity)")},
    licence=(
        "EQ-5D™ is a trade mark of the EuroQol Research Foundation. Use needs a licence from "
        "EuroQol (registration at euroqol.org); enable only once the licence is held."
    ),
    citation=(
        "Herdman M, Gudex C, Lloyd A, et al. Development and preliminary testing of the new "
        "five-level version of EQ-5D (EQ-5D-5L). Qual Life Res 2011;20(10):1727-36."
    ),
    licence_setting="PORTAL_EQ5D5L_LICENSED",
)
