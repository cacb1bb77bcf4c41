"""Six-minute walk test: distance walked in six minutes on a flat course.

Result::

    {"distance_m": 420}   # whole metres, 0-1000, higher is better; about 50 m change matters

Meaningful change: 50 metres, higher is better (Perera et al., Meaningful change and
responsiveness in common physical performance measures in older adults, J Am Geriatr Soc
2006;54(5):743-9: 50 m a substantial change).
"""

from . import base
from .base import LOINC, SNOMED, Coding, NumberItem

ITEMS = (
    NumberItem(
        code="distance_m",
        text="Distance walked in 6 minutes",
        min_value=0,
        max_value=1000,
        unit="m",
    ),
)


def distance(answers):
    return {"distance_m": answers["distance_m"]}


INSTRUMENT = base.Instrument(
    code="six_minute_walk",
    name="Six-minute walk test",
    short_name="6MWT",
    instructions=(
        "Walk as far as possible for 6 minutes along a flat, measured course, turning at each "
        "end; rests are allowed but the clock keeps running."
    ),
    items=ITEMS,
    scorer=distance,
    score_ranges={"distance_m": (0, 1000)},
    meaningful_change={"distance_m": 50},
    higher_is_better={"distance_m": True},
    # Both as HL7 Denmark's KL Tools IG codes its six-minute walk Observation (KLToolsCare6minwalk:
    # LOINC 64098-7 in earlier releases, SNOMED CT 1144649008 in later ones); the LOINC display is
    # LOINC's long common name.
    codes={
        "distance_m": (
            Coding(LOINC, "64098-7", "Six minute walk test"),
            Coding(SNOMED, "1144649008", "Six minute walk test distance (observable entity)"),
        )
    },
    licence="Public domain test protocol; no permission required.",
    citation=(
        "ATS Committee on Proficiency Standards for Clinical Pulmonary Function Laboratories. "
        "ATS statement: guidelines for the six-minute walk test. Am J Respir Crit Care Med "
        "2002;166(1):111-7."
    ),
)
