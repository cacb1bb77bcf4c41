"""SWEMWBS: Short Warwick-Edinburgh Mental Wellbeing Scale (7 items, each 1-5).

Result::

    {"raw": 21, "metric": 19.25}   # raw 7-35; metric 7.00-35.00, higher is better

The raw sum is not interval-scaled; it is converted to a metric score with the published Rasch
conversion table (Stewart-Brown et al. 2009; Warwick Medical School SWEMWBS scoring guidance).
Compare and average the metric score, not the raw sum.

Meaningful change: 3 points on the metric score, higher is better (the upper end of the 1-3
point minimal important difference in Shah et al., Health Qual Life Outcomes 2018;16:239).
"""

from decimal import Decimal

from . import base
from .base import SNOMED, Coding

RESPONSES = {
    1: "None of the time",
    2: "Rarely",
    3: "Some of the time",
    4: "Often",
    5: "All of the time",
}

ITEMS = base.choice_items(
    {
        "q1": "I've been feeling optimistic about the future",
        "q2": "I've been feeling useful",
        "q3": "I've been feeling relaxed",
        "q4": "I've been dealing with problems well",
        "q5": "I've been thinking clearly",
        "q6": "I've been feeling close to other people",
        "q7": "I've been able to make up my own mind about things",
    },
    RESPONSES,
)

# Raw score -> metric score (Stewart-Brown et al. 2009, Warwick Medical School).
METRIC = {
    7: Decimal("7.00"),
    8: Decimal("9.51"),
    9: Decimal("11.25"),
    10: Decimal("12.40"),
    11: Decimal("13.33"),
    12: Decimal("14.08"),
    13: Decimal("14.75"),
    14: Decimal("15.32"),
    15: Decimal("15.84"),
    16: Decimal("16.36"),
    17: Decimal("16.88"),
    18: Decimal("17.43"),
    19: Decimal("17.98"),
    20: Decimal("18.59"),
    21: Decimal("19.25"),
    22: Decimal("19.98"),
    23: Decimal("20.73"),
    24: Decimal("21.54"),
    25: Decimal("22.35"),
    26: Decimal("23.21"),
    27: Decimal("24.11"),
    28: Decimal("25.03"),
    29: Decimal("26.02"),
    30: Decimal("27.03"),
    31: Decimal("28.13"),
    32: Decimal("29.31"),
    33: Decimal("30.70"),
    34: Decimal("32.55"),
    35: Decimal("35.00"),
}


def raw_and_metric(answers):
    raw = base.total_of(answers, ITEMS)
    return {"raw": raw, "metric": base.as_json_number(METRIC[raw], 2)}


INSTRUMENT = base.Instrument(
    code="swemwbs",
    name="Short Warwick-Edinburgh Mental Wellbeing Scale",
    short_name="SWEMWBS",
    instructions=(
        "Below are some statements about feelings and thoughts. Please tick the box that best "
        "describes your experience of each over the last 2 weeks."
    ),
    items=ITEMS,
    scorer=raw_and_metric,
    score_ranges={"raw": (7, 35), "metric": (Decimal("7.00"), Decimal("35.00"))},
    higher_is_better={"raw": True, "metric": True},
    meaningful_change={"metric": 3},
    summary_outputs=("metric",),
    output_labels={"raw": "Raw score", "metric": "Metric score"},
    # SNOMED CT 718466001 with its preferred term as in NHS Digital's MHSDS assessment-tool
    # reference list; no LOINC code for it was found.
    codes={
        "instrument": Coding(
            SNOMED, "718466001", "Short Warwick-Edinburgh Mental Well-being Scale score"
        )
    },
    licence=(
        "Short Warwick-Edinburgh Mental Wellbeing Scale (SWEMWBS) © NHS Health Scotland, "
        "University of Warwick and University of Edinburgh, 2008, all rights reserved. Free to "
        "use with registration at Warwick Medical School; commercial use needs a licence."
    ),
    citation=(
        "Stewart-Brown S, Tennant A, Tennant R, Platt S, Parkinson J, Weich S. Internal construct "
        "validity of the Warwick-Edinburgh Mental Well-being Scale (WEMWBS): a Rasch analysis "
        "using data from the Scottish Health Education Population Survey. Health Qual Life "
        "Outcomes 2009;7:15."
    ),
)
