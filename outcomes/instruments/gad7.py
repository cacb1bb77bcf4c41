"""GAD-7: Generalised Anxiety Disorder assessment (7 items, each 0-3).

Result::

    {"total": 8, "band": "mild", "band_label": "Mild"}
    # total 0-21, lower is better; band minimal | mild | moderate | severe

Meaningful change: 4 points, lower is better (Toussaint et al., Sensitivity to change and minimal
clinically important difference of the GAD-7, J Affect Disord 2020;265:395-401).
"""

from . import base
from .base import LOINC, SNOMED, Band, Banding, Coding
from .phq9 import RESPONSES

ITEMS = base.choice_items(
    {
        "q1": "Feeling nervous, anxious or on edge",
        "q2": "Not being able to stop or control worrying",
        "q3": "Worrying too much about different things",
        "q4": "Trouble relaxing",
        "q5": "Being so restless that it is hard to sit still",
        "q6": "Becoming easily annoyed or irritable",
        "q7": "Feeling afraid as if something awful might happen",
    },
    RESPONSES,
)

SEVERITY = Banding(
    output="band",
    score="total",
    bands=(
        Band(code="minimal", label="Minimal", low=0, high=4),
        Band(code="mild", label="Mild", low=5, high=9),
        Band(code="moderate", label="Moderate", low=10, high=14),
        Band(code="severe", label="Severe", low=15, high=21),
    ),
)


def severity(answers):
    total = base.total_of(answers, ITEMS)
    return {"total": total, **base.band_fields(SEVERITY.band_for(total))}


INSTRUMENT = base.Instrument(
    code="gad7",
    name="Generalised Anxiety Disorder Assessment-7",
    short_name="GAD-7",
    instructions=(
        "Over the last 2 weeks, how often have you been bothered by the following problems?"
    ),
    items=ITEMS,
    scorer=severity,
    output_labels={"total": "Total score"},
    score_ranges={"total": (0, 21)},
    bandings=(SEVERITY,),
    higher_is_better={"total": False},
    meaningful_change={"total": 4},
    # LOINC 70274-6 as in LOINC's GAD-7 panel (69737-5) and the HL7 Personal Health Records IG;
    # SNOMED CT 445455005 with its preferred term as in NHS Digital's MHSDS assessment-tool list.
    codes={
        "instrument": (
            Coding(
                LOINC,
                "70274-6",
                "Generalized anxiety disorder 7 item (GAD-7) total score [Reported.PHQ]",
            ),
            Coding(SNOMED, "445455005", "Generalized anxiety disorder 7 item score"),
        )
    },
    licence=(
        "Developed by Drs Robert L Spitzer, Janet B W Williams, Kurt Kroenke and colleagues, with "
        "an educational grant from Pfizer Inc. No permission required to reproduce, translate, "
        "display or distribute."
    ),
    citation=(
        "Spitzer RL, Kroenke K, Williams JBW, Löwe B. A brief measure for assessing generalized "
        "anxiety disorder: the GAD-7. Arch Intern Med 2006;166(10):1092-7."
    ),
)
