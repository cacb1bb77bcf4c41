"""MSK-HQ: Versus Arthritis Musculoskeletal Health Questionnaire (14 items, each 0-4, 4 best).

Result::

    {"total": 38}   # 0-56, higher is better; a change of 6 or more points is clinically important

Item texts here are the 14 domain headings of Hill et al. (2016), and the response labels are a
neutral 4 (best) to 0 (worst) scale. The licensed form words each question and its five answers
differently; load that wording from the licence pack before patients fill this in themselves.

Meaningful change: 6 points, higher is better (Price et al., Determining responsiveness and
meaningful changes for the MSK-HQ, BMJ Open 2019;9:e025357; DOMAIN.md).
"""

from . import base
from .base import SNOMED, Coding

RESPONSES = {
    4: "4 (best: no problem)",
    3: "3",
    2: "2",
    1: "1",
    0: "0 (worst: extreme problem)",
}

ITEMS = base.choice_items(
    {
        "q1": "Pain or stiffness during the day",
        "q2": "Pain or stiffness during the night",
        "q3": "Walking",
        "q4": "Washing and dressing",
        "q5": "Physical activity levels",
        "q6": "Work and daily routine",
        "q7": "Social activities and hobbies",
        "q8": "Needing help",
        "q9": "Sleep",
        "q10": "Fatigue or low energy",
        "q11": "Emotional well-being",
        "q12": "Understanding of your condition and any current treatment",
        "q13": "Confidence in managing your symptoms",
        "q14": "Overall impact",
    },
    RESPONSES,
)


def total(answers):
    return {"total": base.total_of(answers, ITEMS)}


INSTRUMENT = base.Instrument(
    code="mskhq",
    name="Musculoskeletal Health Questionnaire",
    short_name="MSK-HQ",
    instructions="Think about your joint or muscle symptoms over the last 2 weeks.",
    items=ITEMS,
    scorer=total,
    output_labels={"total": "Total score"},
    score_ranges={"total": (0, 56)},
    meaningful_change={"total": 6},
    higher_is_better={"total": True},
    # SNOMED CT UK edition 1036651000000102: Apperta UK's published openEHR archetype for the
    # MSK-HQ (openEHR-EHR-OBSERVATION.mskhq.v1, lifecycle "published", in
    # AppertaFoundation/apperta-uk-ckm-mirror) binds its "Total score" element (sum of items 1-14,
    # 0-56) to it, and the questionnaire itself to 1036661000000104. No stored source gave the UK
    # edition's preferred term for 1036651000000102, so the display is the archetype's own wording:
    # check it against the UK edition (NHS SNOMED CT browser) before relying on the display text.
    # No LOINC code was found.
    codes={
        "total": Coding(
            SNOMED, "1036651000000102", "Musculoskeletal Health Questionnaire (MSK-HQ) total score"
        )
    },
    licence=(
        "Versus Arthritis Musculoskeletal Health Questionnaire (MSK-HQ), developed by the "
        "Arthritis Research UK Primary Care Centre, Keele University, and the University of "
        "Oxford. Licensed through Oxford University Innovation: free of charge to publicly "
        "funded healthcare providers and non-commercial users under a licence agreement; "
        "commercial use needs a paid licence."
    ),
    citation=(
        "Hill JC, Kang S, Benedetto E, et al. Development and initial cohort validation of the "
        "Arthritis Research UK Musculoskeletal Health Questionnaire (MSK-HQ) for use across "
        "musculoskeletal care pathways. BMJ Open 2016;6:e012331."
    ),
)
