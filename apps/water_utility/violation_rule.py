# This file is part of the water_utility module.  See README.rst.
"""Pure rules of a violation's estimate: volume, periods and penalty.

A violation (violation.py) is charged the water it probably took: the
average daily consumption of its category over the days from the start of
the violation (excluded) to the day it was found (included).  The volume
is priced month by month, each month's share at the tariff of its days and
within the monthly limits of its blocks, then the utility's penalty is
added: a fixed amount and a percentage of the water.

Nothing here knows the ORM: tests/test_violation.py proves the rules for
any input.
"""
import datetime as dt
from decimal import Decimal
from fractions import Fraction

QUANTUM = Decimal('0.001')


def _round(value, quantum):
    "Round an exact value half even, as Tryton rounds amounts"
    quantum = Decimal(quantum)
    whole = round(Fraction(value) / Fraction(quantum))
    return (Decimal(whole) * quantum).quantize(quantum)


def duration(start, end):
    """Return the days from start (excluded) to end (included); a
    violation lasts at least one day"""
    if start is None or end is None or end <= start:
        raise ValueError("a violation ends after it starts")
    return (end - start).days


def volume(daily, days, quantum=QUANTUM):
    "Return the m³ of days at daily m³ a day, rounded to quantum"
    if daily is None or daily < 0 or days < 0:
        raise ValueError("daily consumption and days must not be negative")
    return _round(Fraction(Decimal(daily)) * days, quantum)


def months(start, end):
    """Return [(start, end)] of the calendar months from start (excluded)
    to end (included): each piece's days lie in one month"""
    duration(start, end)
    pieces, current = [], start
    while current < end:
        first = current + dt.timedelta(days=1)
        last = (first.replace(day=1) + dt.timedelta(days=32)).replace(
            day=1) - dt.timedelta(days=1)
        until = min(end, last)
        pieces.append((current, until))
        current = until
    return pieces


def periods(start, end, total, quantum=QUANTUM):
    """Share total m³ between the months from start (excluded) to end in
    proportion to their days: [(start, end, m³)]

    The shares are rounded cumulatively: they add up to total rounded to
    quantum, no litre is lost or added."""
    if total < 0:
        raise ValueError("volume must not be negative")
    days = duration(start, end)
    result, done, elapsed = [], Decimal(0), 0
    for since, until in months(start, end):
        elapsed += (until - since).days
        upto = _round(Fraction(Decimal(total)) * elapsed / days, quantum)
        result.append((since, until, upto - done))
        done = upto
    return result


def penalty(water, fixed=Decimal(0), percentage=Decimal(0),
        rounding=Decimal('0.01')):
    """Return the penalty of a violation: fixed plus percentage % of the
    water's amount, rounded to the currency"""
    fixed = fixed or Decimal(0)
    percentage = percentage or Decimal(0)
    if water < 0 or fixed < 0 or percentage < 0:
        raise ValueError("penalty terms must not be negative")
    return _round(Fraction(Decimal(fixed))
        + Fraction(Decimal(water)) * Fraction(Decimal(percentage)) / 100,
        rounding)
