"""Every outcome Observation the server serves is coded LOINC or SNOMED CT (issue 13), for every
instrument in the library: recorded at baseline through the service, read back at /fhir/. The
ONS4 scores are the known gap (`tests/outcomes/test_instrument_codes.py` UNCODED: no code for
them exists in LOINC or SNOMED CT that could be confirmed), held as strict expected failures so
that a code, once added, makes this test say so."""

import pytest

from clinical.fhir_systems import LOINC, SNOMED
from outcomes import instruments
from outcomes.instruments.base import ChoiceItem, NumberItem
from outcomes.services import assessment_record
from tests.builders import referral_in_state
from tests.outcomes.test_instrument_codes import UNCODED


def lowest_answers(instrument: instruments.Instrument) -> dict:
    """A valid answer set: each item's first choice, or the middle of its range."""
    answers = {}
    for item in instrument.items:
        if isinstance(item, ChoiceItem):
            answers[item.code] = next(iter(item.choices))
        elif isinstance(item, NumberItem):
            middle = (item.min_value + item.max_value) / 2
            answers[item.code] = int(middle) if item.decimal_places == 0 else round(middle, 1)
    return answers


def _params():
    for code in instruments.REGISTRY:
        marks = ([pytest.mark.xfail(strict=True, reason=UNCODED[(code, o)])] for o in ())
        del marks
        reason = next((why for (c, _o), why in UNCODED.items() if c == code), None)
        yield pytest.param(
            code,
            marks=[pytest.mark.xfail(strict=True, reason=reason)] if reason else [],
            id=code,
        )


@pytest.mark.parametrize("code", list(_params()))
def test_every_observation_of_every_instrument_is_coded(code, people, client_of, api_as, settings):
    settings.PORTAL_EQ5D5L_LICENSED = True
    referral = referral_in_state(people, "active")
    definition = instruments.get(code)
    answers = lowest_answers(definition)
    assessment_record(
        referral=referral,
        instrument=code,
        timepoint="baseline",
        answers=answers,
        by=people.instructor_x,
    )
    api = api_as(client_of(people.operator_x))
    response = api.get("/fhir/Observation", {"based-on": f"ServiceRequest/{referral.reference}"})
    assert response.status_code == 200, response.content
    outcome_observations = [
        e["resource"]
        for e in response.json()["entry"]
        if e["resource"]["id"] != f"{referral.reference}-bp"  # the referrer's own reading
    ]
    assert outcome_observations, code
    for observation in outcome_observations:
        systems = [c["system"] for c in observation["code"].get("coding", [])]
        assert systems and systems[0] in (LOINC, SNOMED), observation["code"]
