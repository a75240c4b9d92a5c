# This file is part of the water_utility module.  See README.rst.
"""Pure arithmetic of meter registers.

Nothing here knows the ORM: the models call these functions so that the
rules can be tested exhaustively (tests/test_consumption.py).
"""
import datetime as dt
from dataclasses import dataclass
from decimal import (
    ROUND_CEILING, ROUND_FLOOR, ROUND_HALF_EVEN, ROUND_HALF_UP, Decimal)


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


def reading_advance(previous, current, digits, max_rollover=Decimal('0.5')):
    """Return (advance, rolled_over) from the previous to the current value.

    A lower current value is read as a rollover only when the volume it
    implies is below max_rollover of the dial (a 5-digit register going
    from 99 950 to 30 passed zero; going from 1 234 to 1 200 it did not):
    otherwise the advance is negative and the plausibility checks hold it.
    """
    check_register(previous, digits)
    check_register(current, digits)
    if current >= previous:
        return current - previous, False
    capacity = dial_capacity(digits)
    through_zero = capacity - previous + current
    if through_zero <= capacity * max_rollover:
        return through_zero, True
    return current - previous, False


@dataclass(frozen=True)
class Segment:
    """The part of a period measured by one meter.

    start is the register at the last reading (or at installation) and
    end the register at this reading (or at removal).
    """
    start: Decimal
    end: Decimal
    digits: int
    multiplier: Decimal = Decimal(1)


def period_consumption(segments):
    """Return (consumption, rolled_over) of a period over its meters.

    A meter swapped inside the period gives two segments: the old meter
    from its last reading to its final reading, and the new one from its
    initial reading to the current reading.
    """
    total, rolled = Decimal(0), False
    for segment in segments:
        advance, segment_rolled = reading_advance(
            segment.start, segment.end, segment.digits)
        total += advance * Decimal(segment.multiplier)
        rolled |= segment_rolled
    return total, rolled


QUANTUM = Decimal('0.001')


def prorate(quantity, days, target_days):
    "Return quantity measured over days scaled to target_days (pro rata)"
    if days <= 0:
        raise ValueError("days must be positive")
    return (Decimal(quantity) * target_days / days).quantize(
        QUANTUM, ROUND_HALF_EVEN)


def split_by_month(quantity, start, end):
    """Share quantity consumed from start (excluded) to end (included)
    between calendar months by days, exactly: the shares sum to quantity.

    Returns a list of ((year, month), quantity) in date order.
    """
    if end <= start:
        raise ValueError("end must be after start")
    days = (end - start).days
    months, day = [], start + dt.timedelta(days=1)
    while day <= end:
        following = (day.replace(day=1) + dt.timedelta(days=32)).replace(
            day=1)
        last = min(end, following - dt.timedelta(days=1))
        months.append(((day.year, day.month), (last - day).days + 1))
        day = last + dt.timedelta(days=1)
    # cumulative rounding: every share is >= 0 and the shares sum exactly
    shares, given, elapsed = [], Decimal(0), 0
    for key, month_days in months:
        elapsed += month_days
        upto = prorate(quantity, days, elapsed)
        shares.append((key, upto - given))
        given = upto
    return shares


def estimate(history, days, months=3, default_daily=None):
    """Return the estimated whole m³ for days without a valid reading.

    history lists (days, consumption) of the last actual readings, most
    recent first; the average daily consumption of the first `months` of
    them is used, else default_daily (the category's), else None.
    """
    history = [(d, c) for d, c in history if d and d > 0][:months]
    if history:
        daily = (sum(Decimal(c) for _, c in history)
            / sum(d for d, _ in history))
    elif default_daily is not None:
        daily = Decimal(default_daily)
    else:
        return None
    return max(Decimal(0), daily * days).quantize(Decimal(1), ROUND_HALF_UP)


def expected_range(previous, expected, factor, margin):
    """Return (low, high) register values a reading is expected between

    expected is the volume the average predicts; factor and margin are
    those of the plausibility rule on the average.
    """
    if expected is None:
        return None, None
    low = max(Decimal(0), min(expected / factor, expected - margin))
    high = max(expected * factor, expected + margin)
    return ((previous + low).quantize(Decimal(1), ROUND_FLOOR),
        (previous + high).quantize(Decimal(1), ROUND_CEILING))


def reestimate(readings, history, months=3, default_daily=None):
    """Re-estimate the consumption a faulty meter measured

    readings lists (key, days, consumption) of the counted readings since
    the fault began, in date order; an actual reading that settles
    estimates has a negative consumption and is taken together with them
    (what the meter measured over their days).  history is what estimate()
    takes: the (days, consumption) of the actual readings before the fault.

    Return [(keys, days, measured, estimated)], one per period, whose
    measured volumes add up to the readings' and whose estimates are the
    whole m³ the average predicts for the period's days.  Raise ValueError
    without an average or when the readings do not end on a measured
    (non-negative) volume.
    """
    result, keys, days, volume = [], [], 0, Decimal(0)
    for key, reading_days, reading_volume in readings:
        keys.append(key)
        days += reading_days
        volume += Decimal(reading_volume)
        if volume >= 0:
            estimated = estimate(history, days, months, default_daily)
            if estimated is None:
                raise ValueError("no average to estimate from")
            result.append((tuple(keys), days, volume, estimated))
            keys, days, volume = [], 0, Decimal(0)
    if keys:
        raise ValueError("the readings end on a negative volume")
    return result
