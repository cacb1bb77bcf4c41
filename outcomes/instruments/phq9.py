"""PHQ-9: Patient Health Questionnaire, depression severity (9 items, each 0-3).

Result::

    {
        "total": 12,                  # 0-27, lower is better
        "band": "moderate",           # minimal | mild | moderate | moderately_severe | severe
        "band_label": "Moderate",
        "safety_alert": True,         # item 9 (thoughts of self-harm) answered above 0
    }

`safety_alert` is independent of the total: any answer above "Not at all" to item 9 must reach the
instructor and coordinator at once, whatever the band.

Meaningful change: 5 points, lower is better (Löwe et al., Monitoring depression treatment
outcomes with the PHQ-9, Med Care 2004;42(12):1194-201).
"""

from . import base
from .base import LOINC, SNOMED, Band, Banding, Coding

RESPONSES = {
    0: "Not at all",
    1: "Several days",
    2: "More than half the days",
    3: "Nearly every day",
}

ITEMS = base.choice_items(
    {
        "q1": "Little interest or pleasure in doing things",
        "q2": "Feeling down, depressed, or hopeless",
        "q3": "Trouble falling or staying asleep, or sleeping too much",
        "q4": "Feeling tired or having little energy",
        "q5": "Poor appetite or overeating",
        "q6": (
            "Feeling bad about yourself, or that you are a failure or have let yourself or your "
            "family down"
        ),
        "q7": (
            "Trouble concentrating on things, such as reading the newspaper or watching television"
        ),
        "q8": (
            "Moving or speaking so slowly that other people could have noticed? Or the opposite: "
            "being so fidgety or restless that you have been moving around a lot more than usual"
        ),
        "q9": "Thoughts that you would be better off dead or of hurting yourself in some way",
    },
    RESPONSES,
)

SAFETY_ITEM = "q9"

SEVERITY = Banding(
    output="band",
    score="total",
    bands=(
        Band(code="minimal", label="Minimal", low=0, high=4),
        Band(code="mild", label="Mild", low=5, high=9),
        Band(code="moderate", label="Moderate", low=10, high=14),
        Band(code="moderately_severe", label="Moderately severe", low=15, high=19),
        Band(code="severe", label="Severe", low=20, high=27),
    ),
)


def severity(answers):
    total = base.total_of(answers, ITEMS)
    return {
        "total": total,
        **base.band_fields(SEVERITY.band_for(total)),
        "safety_alert": answers[SAFETY_ITEM] > 0,
    }


INSTRUMENT = base.Instrument(
    code="phq9",
    name="Patient Health Questionnaire-9",
    short_name="PHQ-9",
    instructions=(
        "Over the last 2 weeks, how often have you been bothered by any of the following problems?"
    ),
    items=ITEMS,
    scorer=severity,
    output_labels={"total": "Total score"},
    score_ranges={"total": (0, 27)},
    bandings=(SEVERITY,),
    higher_is_better={"total": False},
    meaningful_change={"total": 5},
    # LOINC 44261-6, the total score of LOINC's PHQ-9 panel (44249-1), with its long common name;
    # SNOMED CT 720433000 with its UK preferred term as in NHS Digital's MHSDS assessment-tool
    # reference list.
    codes={
        "instrument": (
            Coding(
                LOINC,
                "44261-6",
                "Patient Health Questionnaire 9 item (PHQ-9) total score [Reported]",
            ),
            Coding(SNOMED, "720433000", "Patient health questionnaire 9 score"),
        )
    },
    licence=(
        "Developed by Drs Robert L Spitzer, Janet B W Williams, Kurt Kroenke and colleagues, with "
        "an educational grant from Pfizer Inc. No permission required to reproduce, translate, "
        "display or distribute."
    ),
    citation=(
        "Kroenke K, Spitzer RL, Williams JB. The PHQ-9: validity of a brief depression severity "
        "measure. J Gen Intern Med 2001;16(9):606-13."
    ),
)
