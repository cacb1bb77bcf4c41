"""The instrument library as a whole: registry, the shared validation rules every instrument
obeys, declarations (codes, licences, bands) and JSON-ready results. Instrument-specific scoring
lives in tests/outcomes/test_<instrument>.py."""

import json
from decimal import Decimal

import pytest

from outcomes import instruments
from outcomes.instruments import (
    Instrument,
    InstrumentNotEnabled,
    InvalidAnswers,
    UnknownInstrument,
    all_instruments,
    get,
    score,
)
from outcomes.instruments.base import SNOMED, ChoiceItem, NumberItem, as_codings, lookup

from .instrument_answers import highest_answers, lowest_answers, out_of_range, wrong_type

ALL = all_instruments(include_disabled=True)
ITEMS = [(instrument, item) for instrument in ALL for item in instrument.items]
REQUIRED_ITEMS = [(instrument, item) for instrument, item in ITEMS if item.required]
OPTIONAL_ITEMS = [(instrument, item) for instrument, item in ITEMS if not item.required]


def _id(value):
    return value.code if hasattr(value, "code") else None


@pytest.fixture(autouse=True)
def _eq5d5l_licensed(settings):
    # The shared rules apply to the licence-gated instrument too; its gating is tested below
    # and in test_eq5d5l.py.
    settings.PORTAL_EQ5D5L_LICENSED = True


# --- Registry ------------------------------------------------------------------------------------


def test_registry_has_every_instrument_in_domain_md():
    assert set(instruments.REGISTRY) == {
        "gppaq",
        "swemwbs",
        "wemwbs",
        "phq9",
        "gad7",
        "mskhq",
        "ons4",
        "ipaq_short",
        "physical_measures",
        "six_minute_walk",
        "sit_to_stand_30s",
        "eq5d5l",
    }


def test_instrument_codes_fit_the_assessment_column():
    for code, instrument in instruments.REGISTRY.items():
        assert instrument.code == code
        assert len(code) <= 30


def test_get_returns_the_instrument():
    assert get("phq9").short_name == "PHQ-9"


@pytest.mark.parametrize("code", ["nope", "", "PHQ9", None, ["phq9"]])
def test_get_unknown_code_raises_unknown_instrument(code):
    with pytest.raises(UnknownInstrument):
        get(code)


def test_score_unknown_code_raises_unknown_instrument():
    with pytest.raises(UnknownInstrument, match="nope"):
        score("nope", {})


def test_all_instruments_leaves_out_licence_gated_ones_when_switched_off(settings):
    settings.PORTAL_EQ5D5L_LICENSED = False
    codes = [instrument.code for instrument in all_instruments()]
    assert "eq5d5l" not in codes
    assert len(codes) == 11
    assert "eq5d5l" in [i.code for i in all_instruments(include_disabled=True)]


def test_all_instruments_includes_licence_gated_ones_when_switched_on():
    assert "eq5d5l" in [instrument.code for instrument in all_instruments()]


def test_only_eq5d5l_needs_a_licence_setting():
    assert [i.code for i in ALL if i.licence_required] == ["eq5d5l"]


def test_score_refuses_a_licence_gated_instrument_that_is_switched_off(settings):
    settings.PORTAL_EQ5D5L_LICENSED = False
    with pytest.raises(InstrumentNotEnabled, match="PORTAL_EQ5D5L_LICENSED"):
        score("eq5d5l", lowest_answers(get("eq5d5l")))


# --- Declarations --------------------------------------------------------------------------------


@pytest.mark.parametrize("instrument", ALL, ids=_id)
def test_every_instrument_carries_licence_and_citation(instrument):
    assert len(instrument.licence) > 20
    assert len(instrument.citation) > 20
    assert instrument.name
    assert instrument.short_name


@pytest.mark.parametrize(("instrument", "item"), ITEMS, ids=_id)
def test_every_item_has_text_and_allowed_answers(instrument, item):
    assert item.text
    if isinstance(item, ChoiceItem):
        assert item.choices and all(item.choices.values())
    else:
        assert isinstance(item, NumberItem)
        assert item.min_value < item.max_value


@pytest.mark.parametrize("instrument", ALL, ids=_id)
def test_declared_paths_exist_in_results(instrument):
    result = instrument.score(highest_answers(instrument))
    for path in (
        *instrument.score_ranges,
        *instrument.meaningful_change,
        *instrument.meaningful_change_relative,
        *instrument.higher_is_better,
        *instrument.summary_outputs,
        *(banding.output for banding in instrument.bandings),
        *(banding.output + "_label" for banding in instrument.bandings),
        *(banding.score for banding in instrument.bandings if banding.score),
    ):
        lookup(result, path)  # raises KeyError if the declaration names a missing output


@pytest.mark.parametrize(
    "instrument", [i for i in ALL if any(b.score for b in i.bandings)], ids=_id
)
def test_bands_cover_the_score_range_once_and_without_gaps(instrument):
    for banding in instrument.bandings:
        low, high = instrument.score_ranges[banding.score]
        places = max(-Decimal(str(low)).as_tuple().exponent, 0)
        unit = Decimal(1).scaleb(-places)
        value = Decimal(str(low))
        while value <= Decimal(str(high)):
            holders = [band.code for band in banding.bands if band.contains(value)]
            assert len(holders) == 1, f"{banding.output} at {value}: {holders}"
            value += unit


def _looks_like_a_key(label: str, output: str) -> bool:
    key = output.removesuffix(".score")
    return label.lower() in {key.lower(), key.replace("_", " ").lower()}


@pytest.mark.parametrize("instrument", ALL, ids=_id)
def test_every_output_has_a_readers_label_not_its_key(instrument):
    outputs = (*instrument.score_ranges, *instrument.reported_outputs)
    for output in outputs:
        label = instrument.output_label(output)
        assert label[:1].isupper() and not {"_", "."} & set(label), (output, label)
        # A label equal to its key ("Happiness") is one somebody chose to declare.
        assert output in instrument.output_labels or not _looks_like_a_key(label, output)


def test_output_labels_read_as_people_say_them():
    assert get("gppaq").output_label("pai") == "Physical Activity Index"
    assert get("swemwbs").output_label("raw") == "Raw score"
    assert get("ons4").output_label("anxiety.score") == "Anxiety"
    assert get("physical_measures").output_heading("bmi") == "BMI (kg/m²)"
    assert get("physical_measures").output_heading("weight_kg") == "Weight (kg)"
    assert get("ipaq_short").output_heading("walking_met") == "Walking (MET-min/week)"
    # The unit is not repeated where the label already says it.
    assert get("sit_to_stand_30s").output_heading("count") == "Number of full stands in 30 seconds"
    assert get("six_minute_walk").output_heading("distance_m") == "Distance walked in 6 minutes (m)"


def test_an_instrument_with_an_unlabelled_output_is_refused_when_declared():
    gppaq = get("gppaq")
    with pytest.raises(ValueError, match="no output_labels entry for pai"):
        Instrument(
            code="unlabelled",
            name="Unlabelled",
            items=gppaq.items,
            scorer=gppaq.scorer,
            score_ranges=gppaq.score_ranges,
            licence="test",
            citation="test",
        )
    with pytest.raises(KeyError):
        gppaq.output_label("no_such_output")


def test_meaningful_change_where_a_source_gives_one():
    declared = {i.code: dict(i.meaningful_change) for i in ALL if i.meaningful_change}
    assert declared == {
        "gad7": {"total": 4},
        "gppaq": {"pai": 1},
        "mskhq": {"total": 6},
        "phq9": {"total": 5},
        "six_minute_walk": {"distance_m": 50},
        "swemwbs": {"metric": 3},
        "wemwbs": {"total": 3},
    }


def test_codes_match_domain_md():
    def code(instrument, key="instrument"):
        """The SNOMED CT code DOMAIN.md names (LOINC, where there is one, comes first)."""
        codings = as_codings(get(instrument).codes[key])
        return next(coding.code for coding in codings if coding.system == SNOMED)

    assert code("gppaq") == "1086511000000107"
    assert [band.coding.code for band in get("gppaq").banding("band").bands] == [
        "366231000000102",
        "366261000000107",
        "366251000000109",
        "366241000000106",
    ]
    assert code("swemwbs") == "718466001"
    assert code("wemwbs") == "718426000"
    assert code("phq9") == "720433000"
    assert code("gad7") == "445455005"
    measures = get("physical_measures")
    loinc = {item.code: item.coding.code for item in measures.items}
    assert loinc == {
        "weight_kg": "29463-7",
        "height_cm": "8302-2",
        "waist_cm": "8280-0",
        "resting_hr": "8867-4",
        "bp_systolic": "8480-6",
        "bp_diastolic": "8462-4",
    }
    assert measures.codes["bmi"].code == "39156-5"


# --- Shared validation rules ---------------------------------------------------------------------


@pytest.mark.parametrize("instrument", ALL, ids=_id)
@pytest.mark.parametrize("answers_for", [lowest_answers, highest_answers])
def test_lowest_and_highest_answers_score_to_json_ready_results(instrument, answers_for):
    result = score(instrument.code, answers_for(instrument))
    assert json.loads(json.dumps(result)) == result


@pytest.mark.parametrize(("instrument", "item"), REQUIRED_ITEMS, ids=_id)
@pytest.mark.parametrize("how", ["absent", "none"])
def test_missing_required_answer_is_rejected(instrument, item, how):
    answers = lowest_answers(instrument)
    if how == "absent":
        del answers[item.code]
    else:
        answers[item.code] = None
    with pytest.raises(InvalidAnswers) as raised:
        score(instrument.code, answers)
    assert raised.value.errors == {item.code: "missing answer"}


@pytest.mark.parametrize(("instrument", "item"), OPTIONAL_ITEMS, ids=_id)
def test_optional_answer_may_be_left_out_or_none(instrument, item):
    answers = lowest_answers(instrument)
    assert item.code not in answers
    assert score(instrument.code, answers) == score(instrument.code, {**answers, item.code: None})


@pytest.mark.parametrize("instrument", ALL, ids=_id)
def test_unknown_item_is_rejected(instrument):
    answers = lowest_answers(instrument, q99=1)
    with pytest.raises(InvalidAnswers) as raised:
        score(instrument.code, answers)
    assert raised.value.errors == {"q99": f"unknown item for {instrument.name}"}


@pytest.mark.parametrize(("instrument", "item"), ITEMS, ids=_id)
def test_out_of_range_answer_is_rejected(instrument, item):
    for bad in out_of_range(item):
        with pytest.raises(InvalidAnswers) as raised:
            score(instrument.code, lowest_answers(instrument, **{item.code: bad}))
        assert list(raised.value.errors) == [item.code], bad
        assert "must be" in raised.value.errors[item.code]


@pytest.mark.parametrize(("instrument", "item"), ITEMS, ids=_id)
def test_wrong_type_answer_is_rejected(instrument, item):
    for bad in wrong_type(item):
        with pytest.raises(InvalidAnswers) as raised:
            score(instrument.code, lowest_answers(instrument, **{item.code: bad}))
        assert list(raised.value.errors) == [item.code], bad


@pytest.mark.parametrize(("instrument", "item"), ITEMS, ids=_id)
@pytest.mark.parametrize("flag", [True, False])
def test_bool_is_not_accepted_as_a_number(instrument, item, flag):
    # True == 1 and False == 0 in Python, so a tick-box value could slip through as a score.
    with pytest.raises(InvalidAnswers) as raised:
        score(instrument.code, lowest_answers(instrument, **{item.code: flag}))
    assert "true/false" in raised.value.errors[item.code]


@pytest.mark.parametrize("answers", [None, [], "q1=1", 3, [("q1", 1)]])
def test_answers_that_are_not_a_mapping_are_rejected(answers):
    with pytest.raises(InvalidAnswers) as raised:
        score("gad7", answers)
    assert list(raised.value.errors) == ["__all__"]


def test_invalid_answers_reports_every_problem_at_once():
    answers = {"q1": 4, "q2": "1", "q3": True, "q5": 0, "q6": 0, "q7": 0, "extra": 1}
    with pytest.raises(InvalidAnswers) as raised:
        score("gad7", answers)
    errors = raised.value.errors
    assert errors == {
        "extra": "unknown item for Generalised Anxiety Disorder Assessment-7",
        "q1": "must be one of 0, 1, 2, 3 (got 4)",
        "q2": "must be a whole number, one of 0, 1, 2, 3 (got str)",
        "q3": "must be one of 0, 1, 2, 3, not true/false",
        "q4": "missing answer",
    }
    message = str(raised.value)
    assert "q1: must be one of 0, 1, 2, 3 (got 4)" in message
    assert "q4: missing answer" in message


def test_invalid_answers_is_a_value_error():
    assert issubclass(InvalidAnswers, ValueError)


def test_score_does_not_change_the_answers_passed_in():
    answers = {"q1": 1, "q2": 1, "q3": 1, "q4": 1, "q5": 1, "q6": 1, "q7": 1}
    snapshot = dict(answers)
    score("gad7", answers)
    assert answers == snapshot


# --- Building blocks -----------------------------------------------------------------------------


def test_choice_item_refuses_mixed_value_types():
    with pytest.raises(TypeError, match="all int or all str"):
        ChoiceItem(code="q", text="Q", choices={0: "No", "yes": "Yes"})


def test_choice_item_refuses_float_values():
    with pytest.raises(TypeError):
        ChoiceItem(code="q", text="Q", choices={0.5: "Half"})


def test_instrument_refuses_duplicate_item_codes():
    item = NumberItem(code="count", text="Count", min_value=0, max_value=1)
    with pytest.raises(ValueError, match="duplicate item codes"):
        Instrument(
            code="dup",
            name="Duplicate",
            items=(item, item),
            scorer=dict,
            score_ranges={},
            licence="none",
            citation="none",
        )


def test_band_for_a_value_outside_every_band_is_a_declaration_error():
    banding = get("phq9").banding("band")
    with pytest.raises(LookupError, match="no band of band contains 28"):
        banding.band_for(28)
