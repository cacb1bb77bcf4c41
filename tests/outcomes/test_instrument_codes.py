"""Every reported output of every outcome instrument is named in a clinical terminology, so that it
can be served as a FHIR Observation whose `code` another system understands: LOINC first where
LOINC has a code, then SNOMED CT. Check digits are verified here, so a mistyped code fails a test
instead of reaching a receiver."""

import re

import pytest

from outcomes.instruments import all_instruments, get
from outcomes.instruments.base import LOINC, SNOMED, Coding, Instrument, NumberItem, as_codings

ALL = all_instruments(include_disabled=True)
REPORTED = [(instrument, output) for instrument in ALL for output in instrument.reported_outputs]

# Reported outputs for which no LOINC or SNOMED CT code could be confirmed in a reliable source
# (terminology files, HL7 or NHS implementation guides, NHS Digital reference data). A wrong
# clinical code is worse than none, so these carry none for now. Strict xfail: once a module
# declares a code the case passes, and the test fails until the output leaves this list.
UNCODED = {
    ("ons4", "life_satisfaction.score"): "no ONS4 code found in LOINC or SNOMED CT (UK edition)",
    ("ons4", "worthwhile.score"): "no ONS4 code found in LOINC or SNOMED CT (UK edition)",
    ("ons4", "happiness.score"): "no ONS4 code found in LOINC or SNOMED CT (UK edition)",
    ("ons4", "anxiety.score"): "no ONS4 code found in LOINC or SNOMED CT (UK edition)",
}

LOINC_SHAPE = re.compile(r"\d{1,7}-\d")
SCTID_SHAPE = re.compile(r"[1-9]\d{5,17}")
# The partition identifier (the two digits before the check digit) of a concept id: 00 in the
# International Edition, 10 in an extension (the UK's, for example), after a 7-digit namespace.
CONCEPT_PARTITIONS = {"00", "10"}


def _id(value):
    return value.code if isinstance(value, Instrument) else value


def _reported_params():
    for instrument, output in REPORTED:
        reason = UNCODED.get((instrument.code, output))
        marks = [pytest.mark.xfail(strict=True, reason=reason)] if reason else []
        yield pytest.param(instrument, output, marks=marks, id=f"{instrument.code}-{output}")


def _declared_codings(instrument: Instrument) -> list[tuple[str, Coding]]:
    """Every coding an instrument declares, wherever: its `codes`, its items and its bands."""
    found = [
        (key, coding) for key, value in instrument.codes.items() for coding in as_codings(value)
    ]
    found += [(item.code, item.coding) for item in instrument.items if item.coding is not None]
    found += [
        (f"{banding.output}={band.code}", band.coding)
        for banding in instrument.bandings
        for band in banding.bands
        if band.coding is not None
    ]
    return found


DECLARED = [
    (instrument, where, coding)
    for instrument in ALL
    for where, coding in _declared_codings(instrument)
]


def _codings(system=None):
    return [
        pytest.param(coding, id=f"{instrument.code}-{where}-{coding.code}")
        for instrument, where, coding in DECLARED
        if system is None or coding.system == system
    ]


# --- Check digits --------------------------------------------------------------------------------


def loinc_check_digit_ok(code: str) -> bool:
    """LOINC's mod 10 check: from the right, double every other digit of the part before the
    hyphen starting with the last, add up all digits of the results; the check digit brings the
    sum to a multiple of 10."""
    body, check = code.split("-")
    total = 0
    for position, digit in enumerate(int(d) for d in reversed(body)):
        if position % 2 == 0:
            digit *= 2
        total += digit // 10 + digit % 10
    return (10 - total % 10) % 10 == int(check)


_VERHOEFF_D = (
    (0, 1, 2, 3, 4, 5, 6, 7, 8, 9),
    (1, 2, 3, 4, 0, 6, 7, 8, 9, 5),
    (2, 3, 4, 0, 1, 7, 8, 9, 5, 6),
    (3, 4, 0, 1, 2, 8, 9, 5, 6, 7),
    (4, 0, 1, 2, 3, 9, 5, 6, 7, 8),
    (5, 9, 8, 7, 6, 0, 4, 3, 2, 1),
    (6, 5, 9, 8, 7, 1, 0, 4, 3, 2),
    (7, 6, 5, 9, 8, 2, 1, 0, 4, 3),
    (8, 7, 6, 5, 9, 3, 2, 1, 0, 4),
    (9, 8, 7, 6, 5, 4, 3, 2, 1, 0),
)
_VERHOEFF_P = (
    (0, 1, 2, 3, 4, 5, 6, 7, 8, 9),
    (1, 5, 7, 6, 2, 8, 3, 0, 9, 4),
    (5, 8, 0, 3, 7, 9, 6, 1, 4, 2),
    (8, 9, 1, 6, 0, 4, 3, 5, 2, 7),
    (9, 4, 5, 3, 1, 2, 6, 8, 7, 0),
    (4, 2, 8, 6, 5, 7, 3, 9, 0, 1),
    (2, 7, 9, 3, 8, 0, 6, 4, 1, 5),
    (7, 0, 4, 6, 9, 1, 3, 2, 5, 8),
)


def verhoeff_ok(number: str) -> bool:
    """The Verhoeff check SNOMED CT ids carry in their last digit."""
    check = 0
    for position, digit in enumerate(int(d) for d in reversed(number)):
        check = _VERHOEFF_D[check][_VERHOEFF_P[position % 8][digit]]
    return check == 0


def snomed_concept_id_ok(sctid: str) -> bool:
    if not SCTID_SHAPE.fullmatch(sctid) or not verhoeff_ok(sctid):
        return False
    partition = sctid[-3:-1]
    # An extension id holds a 7-digit namespace between its item id and its partition.
    return partition in CONCEPT_PARTITIONS and (partition == "00" or len(sctid) >= 11)


@pytest.mark.parametrize("code", ["44261-6", "70274-6", "39156-5", "29463-7", "8302-2", "8280-0"])
def test_loinc_check_digit_accepts_real_codes(code):
    assert loinc_check_digit_ok(code)


@pytest.mark.parametrize("code", ["44261-5", "70274-7", "39165-5", "8280-1"])
def test_loinc_check_digit_refuses_a_wrong_or_transposed_code(code):
    assert not loinc_check_digit_ok(code)


@pytest.mark.parametrize("sctid", ["720433000", "445455005", "1086511000000107", "366231000000102"])
def test_snomed_check_accepts_real_concept_ids(sctid):
    assert snomed_concept_id_ok(sctid)


@pytest.mark.parametrize(
    "sctid",
    [
        "720433001",  # wrong check digit
        "724033000",  # digits transposed
        "0720433000",  # leading zero
        "12345",  # too short
        "2474017",  # a valid Verhoeff number in partition 01: a description id, not a concept
    ],
)
def test_snomed_check_refuses_a_bad_concept_id(sctid):
    assert not snomed_concept_id_ok(sctid)


# --- Every reported output is coded --------------------------------------------------------------


@pytest.mark.parametrize(("instrument", "output"), _reported_params())
def test_every_reported_output_has_a_loinc_or_snomed_coding(instrument, output):
    systems = {coding.system for coding in instrument.output_codings(output)}
    assert systems & {LOINC, SNOMED}


def test_uncoded_list_names_only_reported_outputs():
    reported = {(instrument.code, output) for instrument, output in REPORTED}
    assert set(UNCODED) <= reported


@pytest.mark.parametrize(("instrument", "output"), REPORTED, ids=_id)
def test_loinc_codings_come_before_snomed(instrument, output):
    systems = [coding.system for coding in instrument.output_codings(output)]
    assert systems == sorted(systems, key=lambda system: (LOINC, SNOMED).index(system))


@pytest.mark.parametrize(("instrument", "output"), REPORTED, ids=_id)
def test_the_first_coding_is_the_single_output_coding(instrument, output):
    codings = instrument.output_codings(output)
    assert instrument.output_coding(output) == (codings[0] if codings else None)


@pytest.mark.parametrize("coding", _codings())
def test_every_declared_coding_is_loinc_or_snomed_with_a_display(coding):
    assert coding.system in {LOINC, SNOMED}
    assert coding.display.strip() == coding.display != ""


@pytest.mark.parametrize("coding", _codings(LOINC))
def test_loinc_codes_have_the_loinc_shape_and_check_digit(coding):
    assert LOINC_SHAPE.fullmatch(coding.code)
    assert loinc_check_digit_ok(coding.code)


@pytest.mark.parametrize("coding", _codings(SNOMED))
def test_snomed_codes_are_concept_ids_with_a_valid_check_digit(coding):
    assert snomed_concept_id_ok(coding.code)


# --- Specific codes ------------------------------------------------------------------------------


def _codes(instrument: str, output: str) -> list[tuple[str, str]]:
    return [(coding.system, coding.code) for coding in get(instrument).output_codings(output)]


def test_phq9_total_is_loinc_44261_6_then_snomed_720433000():
    assert _codes("phq9", "total") == [(LOINC, "44261-6"), (SNOMED, "720433000")]
    assert get("phq9").output_coding("total").display == (
        "Patient Health Questionnaire 9 item (PHQ-9) total score [Reported]"
    )


def test_gad7_total_is_loinc_70274_6_then_snomed_445455005():
    assert _codes("gad7", "total") == [(LOINC, "70274-6"), (SNOMED, "445455005")]
    assert get("gad7").output_coding("total").display == (
        "Generalized anxiety disorder 7 item (GAD-7) total score [Reported.PHQ]"
    )


def test_bmi_and_weight_keep_their_loinc_codes():
    assert _codes("physical_measures", "bmi") == [(LOINC, "39156-5")]
    assert _codes("physical_measures", "weight_kg") == [(LOINC, "29463-7")]


def test_ipaq_total_met_is_loinc_77594_0():
    assert _codes("ipaq_short", "total_met") == [(LOINC, "77594-0")]
    assert get("ipaq_short").output_coding("total_met").display == "Total physical activity [IPAQ]"


def test_mskhq_total_is_uk_snomed_1036651000000102():
    assert _codes("mskhq", "total") == [(SNOMED, "1036651000000102")]


def test_an_output_without_a_code_has_no_codings():
    assert get("ons4").output_codings("life_satisfaction.score") == ()
    assert get("ons4").output_coding("life_satisfaction.score") is None


# --- Declarations are checked when an instrument is built ----------------------------------------


def _instrument(codes):
    return Instrument(
        code="coded",
        name="Coded",
        items=(NumberItem(code="count", text="Count", min_value=0, max_value=1),),
        scorer=dict,
        score_ranges={"count": (0, 1)},
        codes=codes,
        licence="none",
        citation="none",
    )


def test_instrument_accepts_one_coding_or_several_loinc_first():
    loinc, snomed = (
        Coding(LOINC, "29463-7", "Body weight"),
        Coding(SNOMED, "27113001", "Body weight"),
    )
    assert _instrument({"count": loinc}).output_codings("count") == (loinc,)
    assert _instrument({"count": (loinc, snomed)}).output_codings("count") == (loinc, snomed)


def test_instrument_refuses_snomed_before_loinc():
    loinc, snomed = (
        Coding(LOINC, "29463-7", "Body weight"),
        Coding(SNOMED, "27113001", "Body weight"),
    )
    with pytest.raises(ValueError, match="LOINC first"):
        _instrument({"count": (snomed, loinc)})


@pytest.mark.parametrize("value", [(), "29463-7", ("29463-7",)])
def test_instrument_refuses_codes_that_are_not_codings(value):
    with pytest.raises(TypeError, match="Coding"):
        _instrument({"count": value})
