"""30-second sit-to-stand (chair stand) test: full stands completed in 30 seconds.

Result::

    {"count": 12}   # 0-50, higher is better

Meaningful change: no threshold is declared (published ones vary by condition), so a summary
reports the change without judging it; higher is better.
"""

from . import base
from .base import SNOMED, Coding, NumberItem

ITEMS = (
    NumberItem(
        code="count",
        text="Number of full stands in 30 seconds",
        help_text="Count a stand more than halfway up at the 30 seconds as a full stand.",
        min_value=0,
        max_value=50,
        unit="stands",
    ),
)


def stands(answers):
    return {"count": answers["count"]}


INSTRUMENT = base.Instrument(
    code="sit_to_stand_30s",
    name="30-second sit-to-stand test",
    short_name="30s STS",
    instructions=(
        "From sitting in a chair of standard height (about 43 cm), arms folded across the chest, "
        "stand fully and sit down again as many times as possible in 30 seconds."
    ),
    items=ITEMS,
    scorer=stands,
    score_ranges={"count": (0, 50)},
    higher_is_better={"count": True},
    # SNOMED CT 450738001 as HL7 Denmark's KL Tools IG (KLToolsCareRSS) and the Belgian eHealth
    # value sets code the 30-second chair stand; no LOINC code for it was found.
    codes={
        "count": Coding(
            SNOMED, "450738001", "Thirty second chair stand test score (observable entity)"
        )
    },
    licence="Public domain test protocol; no permission required.",
    citation=(
        "Jones CJ, Rikli RE, Beam WC. A 30-s chair-stand test as a measure of lower body strength "
        "in community-residing older adults. Res Q Exerc Sport 1999;70(2):113-9."
    ),
)
