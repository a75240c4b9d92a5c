# This file is part of the water_utility module.  See README.rst.
"The service charter's clock: calendar and working hours"
import datetime as dt
import unittest
from zoneinfo import ZoneInfo

from hypothesis import assume, given
from hypothesis import strategies as st

from ..sla import (
    CALENDAR, WORKING, NoWorkingHours, add, elapsed, percentile, spans,
    status)

GAZA = ZoneInfo('Asia/Gaza')
T = dt.time
# A centre open Saturday to Thursday 08:00-15:00, closed on Friday
CENTRE = {d: [(T(8), T(15))] for d in [5, 6, 0, 1, 2, 3]}
# Thursday 3 December 2026 (local = UTC + 2 in winter)
THURSDAY = dt.datetime(2026, 12, 3)

starts = st.datetimes(
    min_value=dt.datetime(2020, 1, 1), max_value=dt.datetime(2035, 1, 1))
durations = st.timedeltas(
    min_value=dt.timedelta(0), max_value=dt.timedelta(days=10)).map(
        lambda d: dt.timedelta(minutes=d // dt.timedelta(minutes=1)))
clocks = st.sampled_from([CALENDAR, WORKING])


@st.composite
def week_hours(draw):
    "One or two spans on some days of the week, at least one span in all"
    hours = {}
    for day in range(7):
        cuts = sorted(draw(st.sets(
                    st.integers(0, 24 * 4 - 1), max_size=4)))
        cuts = cuts[:len(cuts) // 2 * 2]
        times = [T(c // 4, c % 4 * 15) for c in cuts]
        hours[day] = [
            (times[i], times[i + 1]) for i in range(0, len(times), 2)]
    assume(any(hours.values()))
    return hours


holidays_ = st.sets(
    st.dates(min_value=dt.date(2019, 12, 1), max_value=dt.date(2035, 6, 1)),
    max_size=20)
zones = st.sampled_from([None, GAZA, ZoneInfo('UTC')])


def in_working_span(value, hours, holidays, tz):
    local = value if tz is None else value.replace(
        tzinfo=ZoneInfo('UTC')).astimezone(tz).replace(tzinfo=None)
    return any(begin <= local <= end
        for begin, end in spans(local.date(), hours, holidays))


class SLAClockTestCase(unittest.TestCase):
    "The response-time clock"

    def test_account_45_minutes_within_hours(self):
        "45 minutes asked at 10:00 local are due at 10:45 local"
        start = THURSDAY.replace(hour=8)  # 10:00 in Gaza
        deadline = add(start, dt.timedelta(minutes=45), WORKING,
            CENTRE, tz=GAZA)
        self.assertEqual(deadline, THURSDAY.replace(hour=8, minute=45))

    def test_account_request_before_closing(self):
        "45 minutes asked 10 minutes before closing run on Saturday"
        start = THURSDAY.replace(hour=12, minute=50)  # 14:50 in Gaza
        deadline = add(start, dt.timedelta(minutes=45), WORKING,
            CENTRE, tz=GAZA)
        # Saturday 08:35 in Gaza: Friday is closed
        self.assertEqual(deadline, dt.datetime(2026, 12, 5, 6, 35))
        self.assertEqual(
            elapsed(start, deadline, WORKING, CENTRE, tz=GAZA),
            dt.timedelta(minutes=45))

    def test_technical_over_weekend(self):
        "24 hours asked on Thursday afternoon: calendar and working"
        start = THURSDAY.replace(hour=12)  # 14:00 in Gaza
        self.assertEqual(
            add(start, dt.timedelta(hours=24), CALENDAR),
            dt.datetime(2026, 12, 4, 12))  # Friday 14:00
        # 1 h on Thursday, 7 h on Saturday, Sunday and Monday, 2 h Tuesday
        self.assertEqual(
            add(start, dt.timedelta(hours=24), WORKING, CENTRE, tz=GAZA),
            dt.datetime(2026, 12, 8, 8))  # Tuesday 10:00

    def test_holiday_skipped(self):
        "A holiday counts no working time"
        start = THURSDAY.replace(hour=12, minute=50)
        deadline = add(start, dt.timedelta(minutes=45), WORKING,
            CENTRE, holidays={dt.date(2026, 12, 5)}, tz=GAZA)
        self.assertEqual(deadline, dt.datetime(2026, 12, 6, 6, 35))

    def test_no_working_hours(self):
        "A centre without working hours cannot count"
        with self.assertRaises(NoWorkingHours):
            add(THURSDAY, dt.timedelta(hours=1), WORKING, {})
        every_day = {d: [(T(8), T(9))] for d in range(7)}
        year = {dt.date(2027, 1, 1) + dt.timedelta(days=i)
            for i in range(400)}
        with self.assertRaises(NoWorkingHours):
            add(dt.datetime(2027, 1, 1), dt.timedelta(hours=1), WORKING,
                every_day, holidays=year)

    def test_status(self):
        "Met, breached, due soon and running"
        deadline = THURSDAY
        warning = deadline - dt.timedelta(minutes=10)
        before = deadline - dt.timedelta(minutes=1)
        after = deadline + dt.timedelta(minutes=1)
        self.assertEqual(status(deadline, before, after), 'met')
        self.assertEqual(status(deadline, deadline, after), 'met')
        self.assertEqual(status(deadline, after, before), 'breached')
        self.assertEqual(status(deadline, None, after), 'breached')
        self.assertEqual(status(deadline, None, before, warning), 'due')
        self.assertEqual(
            status(deadline, None, warning - dt.timedelta(seconds=1),
                warning), 'running')

    def test_percentile(self):
        "Nearest rank"
        self.assertIsNone(percentile([], 90))
        self.assertEqual(percentile([5], 90), 5)
        self.assertEqual(percentile(range(1, 101), 90), 90)
        self.assertEqual(percentile(range(1, 11), 90), 9)
        self.assertEqual(percentile([3, 1, 2], 50), 2)

    @given(starts, durations, clocks, week_hours(), holidays_, zones)
    def test_never_before_start(
            self, start, duration, clock, hours, holidays, tz):
        "The deadline is never before the start"
        self.assertGreaterEqual(
            add(start, duration, clock, hours, holidays, tz), start)

    @given(starts, durations, durations, clocks, week_hours(), holidays_,
        zones)
    def test_monotonic(
            self, start, first, second, clock, hours, holidays, tz):
        "More time never gives an earlier deadline"
        first, second = sorted([first, second])
        self.assertLessEqual(
            add(start, first, clock, hours, holidays, tz),
            add(start, second, clock, hours, holidays, tz))

    @given(starts, starts, durations, clocks, week_hours(), holidays_,
        st.sampled_from([None, ZoneInfo('UTC')]))
    def test_later_start(
            self, start, other, duration, clock, hours, holidays, tz):
        """A later request is never due earlier (in a zone without summer
        time: when clocks go back an hour is lived twice)"""
        start, other = sorted([start, other])
        self.assertLessEqual(
            add(start, duration, clock, hours, holidays, tz),
            add(other, duration, clock, hours, holidays, tz))

    @given(starts, durations, week_hours(), holidays_)
    def test_working_skips_closed_hours(
            self, start, duration, hours, holidays):
        """A working-hours deadline falls in opening hours and counts
        exactly the duration of open time"""
        assume(duration)
        deadline = add(start, duration, WORKING, hours, holidays)
        self.assertTrue(in_working_span(deadline, hours, holidays, None))
        self.assertEqual(
            elapsed(start, deadline, WORKING, hours, holidays), duration)

    @given(starts, durations, week_hours(), holidays_)
    def test_working_not_shorter_than_calendar(
            self, start, duration, hours, holidays):
        "Closed hours only push a deadline later"
        self.assertGreaterEqual(
            add(start, duration, WORKING, hours, holidays),
            add(start, duration, CALENDAR))

    @given(starts, durations, week_hours(), holidays_)
    def test_timezone_shifts(self, start, duration, hours, holidays):
        "In a zone with a fixed offset the clock shifts by that offset"
        tz = dt.timezone(dt.timedelta(hours=3))
        offset = dt.timedelta(hours=3)
        self.assertEqual(
            add(start, duration, WORKING, hours, holidays, tz),
            add(start + offset, duration, WORKING, hours, holidays)
            - offset)

    @given(starts, starts, week_hours(), holidays_)
    def test_elapsed_bounds(self, start, end, hours, holidays):
        "Open time between two instants is at most the calendar time"
        start, end = sorted([start, end])
        self.assertLessEqual(
            elapsed(start, end, WORKING, hours, holidays),
            elapsed(start, end, CALENDAR))
