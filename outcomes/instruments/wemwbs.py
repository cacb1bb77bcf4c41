"""WEMWBS: Warwick-Edinburgh Mental Wellbeing Scale (14 items, each 1-5).

Result::

    {"total": 48}   # 14-70, higher is better; no bands (DOMAIN.md gives none)

Meaningful change: 3 points, higher is better (the lower end of the 3-8 point minimal important
difference in Maheswaran et al., Health Qual Life Outcomes 2012;10:156).
"""

from . import base
from .base import SNOMED, Coding
from .swemwbs import RESPONSES

ITEMS = base.choice_items(
    {
        "q1": "I've been feeling optimistic about the future",
        "q2": "I've been feeling useful",
        "q3": "I've been feeling relaxed",
        "q4": "I've been feeling interested in other people",
        "q5": "I've had energy to spare",
        "q6": "I've been dealing with problems well",
        "q7": "I've been thinking clearly",
        "q8": "I've been feeling good about myself",
        "q9": "I've been feeling close to other people",
        "q10": "I've been feeling confident",
        "q11": "I've been able to make up my own mind about things",
        "q12": "I've been feeling loved",
        "q13": "I've been interested in new things",
        "q14": "I've been feeling cheerful",
    },
    RESPONSES,
)


def total(answers):
    return {"total": base.total_of(answers, ITEMS)}


INSTRUMENT = base.Instrument(
    code="wemwbs",
    name="Warwick-Edinburgh Mental Wellbeing Scale",
    short_name="WEMWBS",
    instructions=(
        "Below are some statements about feelings and thoughts. Please tick the box that best "
        "describes your experience of each over the last 2 weeks."
    ),
    items=ITEMS,
    scorer=total,
    output_labels={"total": "Total score"},
    score_ranges={"total": (14, 70)},
    higher_is_better={"total": True},
    meaningful_change={"total": 3},
    # SNOMED CT 718426000 with its preferred term as in NHS Digital's MHSDS assessment-tool
    # reference list; no LOINC code for it was found.
    codes={
        "instrument": Coding(SNOMED, "718426000", "Warwick-Edinburgh Mental Well-being Scale score")
    },
    licence=(
        "Warwick-Edinburgh Mental Wellbeing Scale (WEMWBS) © NHS Health Scotland, University of "
        "Warwick and University of Edinburgh, 2006, all rights reserved. Free to use with "
        "registration at Warwick Medical School; commercial use needs a licence."
    ),
    citation=(
        "Tennant R, Hiller L, Fishwick R, Platt S, Joseph S, Weich S, Parkinson J, Secker J, "
        "Stewart-Brown S. The Warwick-Edinburgh Mental Well-being Scale (WEMWBS): development and "
        "UK validation. Health Qual Life Outcomes 2007;5:63."
    ),
)
