"""Answer sets built from instrument definitions, shared by the instrument tests."""

from decimal import Decimal

from outcomes.instruments.base import ChoiceItem, NumberItem


def _as_answer(item, number):
    """A JSON-like answer: int for whole-number items, float for items with decimals."""
    if isinstance(item, NumberItem) and item.decimal_places:
        return float(number)
    return int(number)


def lowest(item):
    if isinstance(item, ChoiceItem):
        return min(item.choices) if item.value_type is int else next(iter(item.choices))
    return _as_answer(item, item.min_value)


def highest(item):
    if isinstance(item, ChoiceItem):
        return max(item.choices) if item.value_type is int else list(item.choices)[-1]
    return _as_answer(item, item.max_value)


def lowest_answers(instrument, **overrides):
    """Every required item at its lowest allowed answer; optional items left out."""
    answers = {item.code: lowest(item) for item in instrument.items if item.required}
    return {**answers, **overrides}


def highest_answers(instrument, **overrides):
    """Every item, optional ones included, at its highest allowed answer."""
    return {**{item.code: highest(item) for item in instrument.items}, **overrides}


def step(item):
    return Decimal(1).scaleb(-item.decimal_places)


def out_of_range(item):
    """Answers of the right type just outside what the item allows."""
    if isinstance(item, ChoiceItem):
        if item.value_type is int:
            return [min(item.choices) - 1, max(item.choices) + 1]
        return ["not-a-choice", ""]
    return [
        _as_answer(item, Decimal(item.min_value) - step(item)),
        _as_answer(item, Decimal(item.max_value) + step(item)),
    ]


def wrong_type(item):
    """Answers of the wrong type: a numeral as text, a number for a text choice, a fraction where
    a whole number is needed, a container."""
    if isinstance(item, ChoiceItem):
        if item.value_type is int:
            return [str(min(item.choices)), float(min(item.choices)), [min(item.choices)]]
        return [1, ["not", "text"]]
    values = [str(item.min_value), {"value": item.min_value}]
    if item.decimal_places == 0:
        values.append(float(item.min_value) + 0.5)
    return values


def summing_to(items, total):
    """Answers to integer-scored choice items that add up to `total`, filling items in order."""
    low = {item.code: min(item.choices) for item in items}
    remaining = total - sum(low.values())
    answers = {}
    for item in items:
        extra = min(remaining, max(item.choices) - low[item.code])
        answers[item.code] = low[item.code] + extra
        remaining -= extra
    if remaining:
        raise ValueError(f"{total} is out of reach")
    return answers
