# This file is part of the water_utility module.  See README.rst.
"""The service charter's clock (charter points 6 and 7)

A response-time target counts either calendar time or the service centre's
working hours.  On the working clock time stops outside the centre's
opening spans and on its holidays: 45 minutes asked at 14:50 of a centre
closing at 15:00 fall due 35 minutes after it opens the next working day.

Datetimes given and returned are naive UTC, as Tryton stores them; the
working spans are in the centre's local time (tz, a tzinfo), and the clock
converts.  Nothing here knows the ORM: tests/test_sla.py proves the rules
for any input.
"""
import datetime as dt
from zoneinfo import ZoneInfo

CALENDAR = 'calendar'
WORKING = 'working'

UTC = ZoneInfo('UTC')
DAY = dt.timedelta(days=1)
# A centre that is closed this many days in a row (holidays included) has
# no working hours to count: the clock refuses rather than loop forever.
MAX_CLOSED_DAYS = 366


class NoWorkingHours(ValueError):
    "The centre has no working hour to count a response time in"


def _local(value, tz):
    if tz is None:
        return value
    return value.replace(tzinfo=UTC).astimezone(tz).replace(tzinfo=None)


def _utc(value, tz):
    if tz is None:
        return value
    return value.replace(tzinfo=tz).astimezone(UTC).replace(tzinfo=None)


def spans(day, hours, holidays=()):
    """The working spans (start, end) of the local day, in order

    hours maps a weekday (0 is Monday) to (start time, end time) pairs."""
    if day in holidays:
        return []
    return sorted(
        (dt.datetime.combine(day, s), dt.datetime.combine(day, e))
        for s, e in hours.get(day.weekday(), ()) if s < e)


def add(start, duration, clock=CALENDAR, hours=None, holidays=(), tz=None):
    """The instant duration after start on the clock

    Never before start, and later for a longer duration.  On the working
    clock the result falls inside (or at the end of) a working span."""
    if duration <= dt.timedelta(0):
        return start
    if clock == CALENDAR:
        return start + duration
    hours = hours or {}
    if not any(s < e for v in hours.values() for s, e in v):
        raise NoWorkingHours()
    local = _local(start, tz)
    remaining = duration
    day = local.date()
    closed = 0
    while True:
        day_spans = spans(day, hours, holidays)
        for begin, end in day_spans:
            begin = max(begin, local)
            if begin >= end:
                continue
            if end - begin >= remaining:
                return max(_utc(begin + remaining, tz), start)
            remaining -= end - begin
        closed = 0 if day_spans else closed + 1
        if closed > MAX_CLOSED_DAYS:
            raise NoWorkingHours()
        day += DAY


def elapsed(start, end, clock=CALENDAR, hours=None, holidays=(), tz=None):
    """The time counted on the clock between start and end (zero when end
    is not after start)"""
    if end <= start:
        return dt.timedelta(0)
    if clock == CALENDAR:
        return end - start
    hours = hours or {}
    local_start, local_end = _local(start, tz), _local(end, tz)
    total = dt.timedelta(0)
    day = local_start.date()
    while day <= local_end.date():
        for begin, stop in spans(day, hours, holidays):
            begin, stop = max(begin, local_start), min(stop, local_end)
            if begin < stop:
                total += stop - begin
        day += DAY
    return total


def status(deadline, done, now, warning=None):
    """Where a request stands against its deadline

    'met' or 'breached' once done (the instant it was answered), otherwise
    'breached' past the deadline, 'due' from the warning instant on, and
    'running' before."""
    if done is not None:
        return 'met' if done <= deadline else 'breached'
    if now > deadline:
        return 'breached'
    if warning is not None and now >= warning:
        return 'due'
    return 'running'


def percentile(values, percent):
    """The nearest-rank percentile of values (0 < percent <= 100): the
    smallest value that percent of them do not exceed; None when empty"""
    values = sorted(values)
    if not values:
        return None
    # Integer arithmetic: 0.9 * 100 is not 90 in floating point.
    rank = max(1, -(-len(values) * percent // 100))
    return values[min(rank, len(values)) - 1]
