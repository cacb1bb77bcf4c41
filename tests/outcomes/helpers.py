"""Answer sets for the outcomes service and view tests."""

PHQ9_CALM = {f"q{n}": 0 for n in range(1, 10)}
PHQ9_ITEM9 = {**PHQ9_CALM, "q1": 2, "q9": 1}
WALK_BASELINE = {"distance_m": 300}
WALK_EXIT = {"distance_m": 380}

SCHEDULE = [
    {"instrument": "phq9", "timepoints": ["baseline", "exit", "followup_3m", "followup_6m"]},
    {"instrument": "six_minute_walk", "timepoints": ["baseline", "exit"]},
]
