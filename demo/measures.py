"""Plausible answers to each outcome instrument the demo programmes schedule.

Each participant has a starting point per instrument and a `response` to the programme: about 1
for most, higher for some, below 0 for a few (who end a little worse), so the report's outcome
changes improve on average without every patient improving. A timepoint's answers sit
`PROGRESS[timepoint]` of the way from baseline to where the programme takes them (follow-ups fall
back a little). Only answers are made here: `outcomes.services.assessment_record` scores them
through the instrument library, as it does for an instructor's form.
"""

# Seeded, repeatable randomness is the point here; none of it protects anything.
# ruff: noqa: S311

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Any

from outcomes.models import Timepoint

PROGRESS = {
    Timepoint.BASELINE: 0.0,
    Timepoint.MID: 0.55,
    Timepoint.EXIT: 1.0,
    Timepoint.FOLLOWUP_3M: 0.9,
    Timepoint.FOLLOWUP_6M: 0.8,
    Timepoint.FOLLOWUP_12M: 0.7,
}


@dataclass(frozen=True)
class Participant:
    seed: int
    age: int
    female: bool
    bp_systolic: int  # the referral's blood pressure: where the centre's own reading starts
    bp_diastolic: int
    weight_programme: bool  # referred to lose weight: a higher starting BMI
    response: float  # 1: a typical benefit from the whole programme; below 0: ends worse

    @classmethod
    def draw(cls, rng: random.Random, **facts: Any) -> Participant:
        return cls(seed=rng.randrange(1 << 30), response=rng.gauss(0.95, 0.6), **facts)


def answers_for(instrument: str, timepoint: str, who: Participant) -> dict[str, Any]:
    """The participant's answers to `instrument` at `timepoint` (always the same for the same
    participant, so a baseline recorded in one run is the one the next run would make)."""
    start = random.Random(f"{who.seed}-{instrument}")  # where they start: same at every timepoint
    noise = random.Random(f"{who.seed}-{instrument}-{timepoint}")
    gain = PROGRESS[timepoint] * who.response
    return MAKERS[instrument](start, noise, gain, who)


def _clamp(value: float, low: float, high: float) -> float:
    return max(low, min(high, value))


def _spread(total: int, items: int, low: int, high: int, rng: random.Random) -> list[int]:
    """`items` answers between low and high adding up to `total` (clamped to what is possible)."""
    total = int(_clamp(total, low * items, high * items))
    values = [total // items] * items
    for index in range(total % items):
        values[index] += 1
    rng.shuffle(values)
    return values


def _jitter(noise: random.Random, gain: float, scale: float) -> float:
    return noise.gauss(0, scale) if gain else 0.0


HOURS = ["none", "lt1", "1to3", "3plus"]
PACES = ["slow", "steady", "brisk", "fast"]


def _gppaq(start: random.Random, noise: random.Random, gain: float, who: Participant) -> dict:
    if who.age >= 66:
        occupation = "not_employed"
    else:
        occupation = start.choices(
            ["not_employed", "sitting", "standing", "physical"], weights=[30, 40, 20, 10]
        )[0]
    exercise = start.choices([0, 1], weights=[60, 40])[0]
    walking = start.randint(0, 2)
    pace = start.choices([0, 1], weights=[45, 55])[0]
    cycling = "lt1" if start.random() < 0.1 else "none"
    housework, gardening = start.choice(HOURS[:3]), start.choice(HOURS[:3])
    exercise = round(_clamp(exercise + gain * 1.6 + _jitter(noise, gain, 0.4), 0, 3))
    walking = round(_clamp(walking + gain + _jitter(noise, gain, 0.4), 0, 3))
    pace = round(_clamp(pace + gain * 0.8, 0, 3))
    return {
        "occupation": occupation,
        "exercise": HOURS[exercise],
        "cycling": cycling,
        "walking": HOURS[walking],
        "housework": housework,
        "gardening": gardening,
        "walking_pace": PACES[pace],
    }


def _swemwbs(start: random.Random, noise: random.Random, gain: float, who: Participant) -> dict:
    raw = start.randint(15, 24) + round(gain * 4 + _jitter(noise, gain, 1.0))
    values = _spread(raw, 7, 1, 5, noise)
    return {f"q{number}": value for number, value in enumerate(values, start=1)}


def _mskhq(start: random.Random, noise: random.Random, gain: float, who: Participant) -> dict:
    total = start.randint(20, 34) + round(gain * 8 + _jitter(noise, gain, 2.0))
    values = _spread(total, 14, 0, 4, noise)
    return {f"q{number}": value for number, value in enumerate(values, start=1)}


def _physical_measures(
    start: random.Random, noise: random.Random, gain: float, who: Participant
) -> dict:
    height = start.gauss(163 if who.female else 176, 6)
    bmi = start.uniform(30, 39) if who.weight_programme else start.uniform(24, 33)
    weight = bmi * (height / 100) ** 2 * (1 - 0.035 * gain) + _jitter(noise, gain, 0.6)
    waist = (bmi * 2.9 + start.uniform(-4, 4)) * (1 - 0.03 * gain)
    heart_rate = start.randint(64, 88) - 5 * gain + _jitter(noise, gain, 2)
    systolic = who.bp_systolic + start.randint(-6, 6) - 7 * gain + _jitter(noise, gain, 3)
    diastolic = who.bp_diastolic + start.randint(-4, 4) - 3 * gain + _jitter(noise, gain, 2)
    return {
        "weight_kg": round(_clamp(weight, 40, 250), 1),
        "height_cm": round(height, 1),
        "waist_cm": round(_clamp(waist, 60, 160), 1),
        "resting_hr": round(_clamp(heart_rate, 48, 100)),
        "bp_systolic": round(_clamp(systolic, 100, 172)),
        "bp_diastolic": round(_clamp(diastolic, 60, 96)),
    }


def _six_minute_walk(
    start: random.Random, noise: random.Random, gain: float, who: Participant
) -> dict:
    distance = start.randint(220, 460) + 45 * gain + _jitter(noise, gain, 12)
    return {"distance_m": round(_clamp(distance, 50, 700))}


def _sit_to_stand(
    start: random.Random, noise: random.Random, gain: float, who: Participant
) -> dict:
    count = start.randint(5, 13) + 3.5 * gain + _jitter(noise, gain, 0.8)
    return {"count": round(_clamp(count, 0, 30))}


MAKERS = {
    "gppaq": _gppaq,
    "swemwbs": _swemwbs,
    "mskhq": _mskhq,
    "physical_measures": _physical_measures,
    "six_minute_walk": _six_minute_walk,
    "sit_to_stand_30s": _sit_to_stand,
}
