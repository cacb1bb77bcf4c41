"""IPAQ short form (last 7 days): MET-minutes per week and the low/moderate/high category.

Result::

    {
        "walking_met": 495.0,     # MET-min/week, one decimal
        "moderate_met": 480.0,
        "vigorous_met": 0.0,
        "total_met": 975.0,       # 0-19278.0
        "band": "moderate",       # low | moderate | high
        "band_label": "Moderate",
        "sitting_minutes": 420,   # minutes a weekday, as reported (None if not asked)
    }

Scored per the IPAQ Research Committee's protocol (2005):

- MET-min/week = 3.3 x walking + 4.0 x moderate + 8.0 x vigorous, each days x minutes a day.
- Minutes a day under 10 count as no activity, and their days with them (rule 7.2).
- Minutes a day over 180 are truncated to 180 (rule 7.3), so each domain is at most 1260 min/week.
- High: vigorous on 3 or more days and at least 1500 MET-min/week; or 7 or more days of any
  combination reaching 3000 MET-min/week.
- Moderate: 3 or more days of vigorous activity of at least 20 minutes a day; or 5 or more days of
  moderate activity and/or walking of at least 30 minutes a day; or 5 or more days of any
  combination reaching 600 MET-min/week.
- Low: anything else.

Days are summed across domains for the "any combination" rules, as the protocol does. Minutes a
day are required even when days are 0 (the form fills 0 where the questionnaire skips); they are
then ignored. The protocol's analysis-time exclusion of people reporting more than 16 hours a day
in total is left to reporting; each domain here accepts up to 960 minutes a day.

Meaningful change: no agreed threshold for MET-minutes a week, so a summary reports the change
without judging it; higher is better.
"""

from decimal import Decimal

from . import base
from .base import LOINC, Band, Banding, Coding, NumberItem

MET = {"walking": Decimal("3.3"), "moderate": Decimal("4.0"), "vigorous": Decimal("8.0")}
MIN_MINUTES = 10
TRUNCATE_MINUTES = 180
MAX_MINUTES = 960

QUESTIONS = {
    "vigorous": (
        "During the last 7 days, on how many days did you do vigorous physical activities like "
        "heavy lifting, digging, aerobics, or fast bicycling?",
        "How much time did you usually spend doing vigorous physical activities on one of those "
        "days?",
    ),
    "moderate": (
        "During the last 7 days, on how many days did you do moderate physical activities like "
        "carrying light loads, bicycling at a regular pace, or doubles tennis? Do not include "
        "walking.",
        "How much time did you usually spend doing moderate physical activities on one of those "
        "days?",
    ),
    "walking": (
        "During the last 7 days, on how many days did you walk for at least 10 minutes at a time?",
        "How much time did you usually spend walking on one of those days?",
    ),
}

ITEMS = (
    *(
        item
        for domain, (days_text, minutes_text) in QUESTIONS.items()
        for item in (
            NumberItem(
                code=f"{domain}_days",
                text=days_text,
                min_value=0,
                max_value=7,
                unit="days",
            ),
            NumberItem(
                code=f"{domain}_minutes",
                text=minutes_text,
                help_text="Minutes a day; enter 0 if there were no such days.",
                min_value=0,
                max_value=MAX_MINUTES,
                unit="minutes",
            ),
        )
    ),
    NumberItem(
        code="sitting_minutes",
        text="During the last 7 days, how much time did you spend sitting on a week day?",
        help_text="Minutes a day. Not part of the MET score.",
        min_value=0,
        max_value=1440,
        unit="minutes",
        required=False,
    ),
)

CATEGORY = Banding(
    output="band",
    bands=(
        Band(code="low", label="Low"),
        Band(code="moderate", label="Moderate"),
        Band(code="high", label="High"),
    ),
)


def _counted(days, minutes):
    """(days, minutes a day) after the protocol's 10-minute minimum and 180-minute truncation."""
    if minutes < MIN_MINUTES or days == 0:
        return 0, 0
    return days, min(minutes, TRUNCATE_MINUTES)


def met_minutes_and_category(answers):
    counted = {
        domain: _counted(answers[f"{domain}_days"], answers[f"{domain}_minutes"]) for domain in MET
    }
    met = {domain: MET[domain] * days * minutes for domain, (days, minutes) in counted.items()}
    total = sum(met.values())
    vigorous_days, vigorous_minutes = counted["vigorous"]
    all_days = sum(days for days, _ in counted.values())
    days_of_30_minutes = sum(
        days for days, minutes in (counted["moderate"], counted["walking"]) if minutes >= 30
    )
    if (vigorous_days >= 3 and total >= 1500) or (all_days >= 7 and total >= 3000):
        category = "high"
    elif (
        (vigorous_days >= 3 and vigorous_minutes >= 20)
        or days_of_30_minutes >= 5
        or (all_days >= 5 and total >= 600)
    ):
        category = "moderate"
    else:
        category = "low"
    return {
        "walking_met": base.as_json_number(met["walking"], 1),
        "moderate_met": base.as_json_number(met["moderate"], 1),
        "vigorous_met": base.as_json_number(met["vigorous"], 1),
        "total_met": base.as_json_number(total, 1),
        **base.band_fields(CATEGORY.get(category)),
        "sitting_minutes": answers["sitting_minutes"],
    }


def _domain_max(domain):
    return MET[domain] * 7 * TRUNCATE_MINUTES


INSTRUMENT = base.Instrument(
    code="ipaq_short",
    name="International Physical Activity Questionnaire (short form)",
    short_name="IPAQ-short",
    instructions=(
        "Think about all the activities you did in the last 7 days, at work, at home, getting "
        "about and in your spare time. Count only activities lasting at least 10 minutes at a time."
    ),
    items=ITEMS,
    scorer=met_minutes_and_category,
    score_ranges={
        "walking_met": (0, _domain_max("walking")),
        "moderate_met": (0, _domain_max("moderate")),
        "vigorous_met": (0, _domain_max("vigorous")),
        "total_met": (0, sum(_domain_max(domain) for domain in MET)),
        "sitting_minutes": (0, 1440),
    },
    bandings=(CATEGORY,),
    higher_is_better={"total_met": True},
    output_labels={
        "walking_met": "Walking",
        "moderate_met": "Moderate activity",
        "vigorous_met": "Vigorous activity",
        "total_met": "Total physical activity",
        "sitting_minutes": "Time sitting on a weekday",
    },
    output_units={f"{domain}_met": "MET-min/week" for domain in (*MET, "total")},
    # LOINC's IPAQ terms (class SURVEY.IPAQ) report walking (77591-6), moderate (77592-4) and
    # vigorous (77593-2) physical activity in MET-minutes a week, by the short-form formulas used
    # here (loinc.org/77591-6, loinc.org/77592-4); 77594-0 "Total physical activity [IPAQ]" is their
    # total. Name and active status as verified against tx.fhir.org (LOINC 2.82) and an Athena
    # LOINC snapshot in the terminology ledger of the RicardoLSantos/shorthand FHIR IG
    # (input/data/terminology-verification-ledger.csv), whose IPAQ short-form score example codes
    # walking + moderate + vigorous MET-min/wk with it. No SNOMED CT code more specific than
    # 68130003 |Physical activity| was found, so none is added.
    codes={"total_met": Coding(LOINC, "77594-0", "Total physical activity [IPAQ]")},
    licence="Public domain: the IPAQ may be used without permission or charge.",
    citation=(
        "Craig CL, Marshall AL, Sjöström M, et al. International physical activity questionnaire: "
        "12-country reliability and validity. Med Sci Sports Exerc 2003;35(8):1381-95. IPAQ "
        "Research Committee. Guidelines for data processing and analysis of the International "
        "Physical Activity Questionnaire (IPAQ) - short and long forms, November 2005."
    ),
)
