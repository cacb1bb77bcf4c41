"""Six-minute walk test: distance in whole metres; about 50 m change is meaningful."""

import pytest

from outcomes.instruments import InvalidAnswers, get, score


def test_minimum_and_maximum():
    assert score("six_minute_walk", {"distance_m": 0}) == {"distance_m": 0}
    assert score("six_minute_walk", {"distance_m": 1000}) == {"distance_m": 1000}


def test_typical_distance():
    assert score("six_minute_walk", {"distance_m": 420}) == {"distance_m": 420}


def test_fifty_metres_is_the_meaningful_change():
    instrument = get("six_minute_walk")
    assert instrument.meaningful_change == {"distance_m": 50}
    assert instrument.higher_is_better == {"distance_m": True}


@pytest.mark.parametrize("bad", [-1, 1001, 420.5, "420", True])
def test_distances_outside_0_to_1000_whole_metres_are_rejected(bad):
    with pytest.raises(InvalidAnswers) as raised:
        score("six_minute_walk", {"distance_m": bad})
    assert list(raised.value.errors) == ["distance_m"]
