# This file is part of the water_utility module.  See README.rst.
"""Pure arithmetic of meter registers.

Nothing here knows the ORM: the models call these functions so that the
rules can be tested exhaustively (tests/test_consumption.py).
"""
from decimal import Decimal


class ReadingError(ValueError):
    "A register value that no meter of this kind can show"


def dial_capacity(digits):
    """Return the first value a register of `digits` whole digits cannot show.

    A 5-digit register counts 00000 to 99999 and then shows 00000 again.
    """
    if digits is None or digits < 1:
        raise ReadingError("digits must be at least 1")
    return Decimal(10) ** digits


def check_register(value, digits):
    "Raise ReadingError unless the register can show value"
    if value is None:
        return
    if value < 0:
        raise ReadingError("negative register value")
    if value >= dial_capacity(digits):
        raise ReadingError("register value exceeds the dial")


def register_advance(start, end, digits, rollover=False):
    """Return how far the register moved from start to end.

    Without rollover the register must not go backwards: a lower end value
    is an error, not a negative consumption.  With rollover the register
    passed through zero exactly once.
    """
    check_register(start, digits)
    check_register(end, digits)
    if rollover:
        if end >= start:
            raise ReadingError("rollover without passing zero")
        return dial_capacity(digits) - start + end
    if end < start:
        raise ReadingError("end below start without rollover")
    return end - start


def consumption(start, end, digits, multiplier=1, rollover=False):
    "Return the volume in m³ measured between two register values"
    return register_advance(start, end, digits, rollover) * Decimal(
        multiplier)
