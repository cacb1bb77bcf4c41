"""Every outcome Observation the server serves is coded LOINC or SNOMED CT (issue 13), for every
instrument in the library: recorded at baseline through the service, read back at /fhir/. A
score with no national code (the ONS4 scores: `tests/outcomes/test_instrument_codes.py`
UNCODED) is not served as an Observation, and is still in the discharge summary's text."""

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


@pytest.mark.parametrize("code", list(instruments.REGISTRY))
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
    uncoded = {output for instrument, output in UNCODED if instrument == code}
    expected = len(definition.reported_outputs) - len(uncoded)
    assert len({o["id"] for o in outcome_observations}) >= min(expected, 1), code
    for observation in outcome_observations:
        systems = [c["system"] for c in observation["code"].get("coding", [])]
        assert systems and systems[0] in (LOINC, SNOMED), observation["code"]


def test_an_uncoded_score_is_in_the_discharge_summarys_text_not_an_observation(
    people, client_of, api_as
):
    from referrals import services

    referral = referral_in_state(people, "active")
    answers = lowest_answers(instruments.get("ons4"))
    for timepoint in ("baseline", "exit"):
        assessment_record(
            referral=referral,
            instrument="ons4",
            timepoint=timepoint,
            answers=answers,
            by=people.instructor_x,
        )
    services.referral_complete(referral=referral, by=people.coordinator_x)
    api = api_as(client_of(people.practice_a))
    found = api.get("/fhir/Observation", {"based-on": f"ServiceRequest/{referral.reference}"})
    assert [e["resource"]["id"] for e in found.json()["entry"]] == [f"{referral.reference}-bp"]
    composition = api.get(f"/fhir/Composition/{referral.reference}").json()
    outcomes = next(s for s in composition["section"] if s["title"] == "Outcome measures")
    assert "Life satisfaction" in outcomes["text"]["div"]
    assert "contained" not in composition and "entry" not in outcomes
