"""30-second sit-to-stand: a count of full stands."""

import pytest

from outcomes.instruments import InvalidAnswers, score


def test_minimum_and_maximum():
    assert score("sit_to_stand_30s", {"count": 0}) == {"count": 0}
    assert score("sit_to_stand_30s", {"count": 50}) == {"count": 50}


@pytest.mark.parametrize("bad", [-1, 51, 12.5, "12", False])
def test_counts_outside_0_to_50_are_rejected(bad):
    with pytest.raises(InvalidAnswers) as raised:
        score("sit_to_stand_30s", {"count": bad})
    assert list(raised.value.errors) == ["count"]
