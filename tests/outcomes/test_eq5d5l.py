"""EQ-5D-5L: off unless licensed; keeps the five-digit profile and the VAS, no value set."""

import pytest

from outcomes.instruments import InstrumentNotEnabled, InvalidAnswers, all_instruments, get, score

LEVELS = ("mobility", "self_care", "usual_activities", "pain_discomfort", "anxiety_depression")


def eq5d(*levels, vas=75):
    return {**dict(zip(LEVELS, levels, strict=True)), "vas": vas}


def test_switched_off_by_default():
    from django.conf import settings

    assert getattr(settings, "PORTAL_EQ5D5L_LICENSED", False) is False
    assert get("eq5d5l").enabled is False
    assert get("eq5d5l").licence_required is True


def test_scoring_without_the_licence_setting_raises_a_clear_error(settings):
    if hasattr(settings, "PORTAL_EQ5D5L_LICENSED"):
        del settings.PORTAL_EQ5D5L_LICENSED
    with pytest.raises(InstrumentNotEnabled, match=r"licence.*PORTAL_EQ5D5L_LICENSED = True"):
        score("eq5d5l", eq5d(1, 1, 1, 1, 1))


@pytest.mark.parametrize("value", [False, "True", 1, "yes"])
def test_only_a_true_setting_switches_it_on(settings, value):
    settings.PORTAL_EQ5D5L_LICENSED = value
    with pytest.raises(InstrumentNotEnabled):
        score("eq5d5l", eq5d(1, 1, 1, 1, 1))
    assert "eq5d5l" not in [i.code for i in all_instruments()]


def test_setting_is_read_when_scoring(settings):
    settings.PORTAL_EQ5D5L_LICENSED = True
    assert score("eq5d5l", eq5d(1, 1, 2, 3, 2)) == {"profile": "11232", "vas": 75}
    settings.PORTAL_EQ5D5L_LICENSED = False
    with pytest.raises(InstrumentNotEnabled):
        score("eq5d5l", eq5d(1, 1, 2, 3, 2))


def test_switched_off_refuses_before_looking_at_the_answers(settings):
    settings.PORTAL_EQ5D5L_LICENSED = False
    with pytest.raises(InstrumentNotEnabled):
        score("eq5d5l", {"nonsense": True})


class TestLicensed:
    @pytest.fixture(autouse=True)
    def _licensed(self, settings):
        settings.PORTAL_EQ5D5L_LICENSED = True

    def test_best_state(self):
        assert score("eq5d5l", eq5d(1, 1, 1, 1, 1, vas=100)) == {"profile": "11111", "vas": 100}

    def test_worst_state(self):
        assert score("eq5d5l", eq5d(5, 5, 5, 5, 5, vas=0)) == {"profile": "55555", "vas": 0}

    def test_profile_keeps_the_dimension_order(self):
        assert score("eq5d5l", eq5d(1, 2, 3, 4, 5))["profile"] == "12345"

    def test_no_index_value_is_computed(self):
        assert set(score("eq5d5l", eq5d(2, 2, 2, 2, 2))) == {"profile", "vas"}

    @pytest.mark.parametrize(
        ("code", "bad"),
        [
            ("mobility", 0),
            ("mobility", 6),
            ("pain_discomfort", "3"),
            ("vas", 101),
            ("vas", -1),
            ("vas", 50.5),
            ("vas", True),
        ],
    )
    def test_out_of_range_or_wrong_type_is_rejected(self, code, bad):
        with pytest.raises(InvalidAnswers) as raised:
            score("eq5d5l", {**eq5d(1, 1, 1, 1, 1), code: bad})
        assert list(raised.value.errors) == [code]
