# This file is part of the water_utility module.  See README.rst.
"The schedule of a settlement's instalments"
import datetime as dt
import unittest
from decimal import Decimal

from hypothesis import given, strategies as st

from ..schedule import due_date, schedule

CENTS = st.integers(min_value=0, max_value=10 ** 9).map(
    lambda c: Decimal(c) / 100)


class ScheduleTestCase(unittest.TestCase):
    "Test the schedule of the settlements"

    def test_example(self):
        instalments = schedule(Decimal('1000.00'), Decimal('100'),
            Decimal('200'), 3, dt.date(2026, 12, 1), 15)
        self.assertEqual([(i.sequence, i.date, i.amount)
                for i in instalments], [
                (1, dt.date(2026, 12, 15), Decimal('233.33')),
                (2, dt.date(2027, 1, 15), Decimal('233.33')),
                (3, dt.date(2027, 2, 15), Decimal('233.34')),
                ])

    def test_short_month(self):
        "Day 31 falls on the last day of a shorter month"
        self.assertEqual(due_date(dt.date(2027, 1, 1), 1, 31),
            dt.date(2027, 2, 28))

    def test_too_much_discount(self):
        with self.assertRaises(ValueError):
            schedule(Decimal(100), Decimal(80), Decimal(30), 2,
                dt.date(2026, 12, 1), 1)

    @given(debt=CENTS, discount_share=st.fractions(0, 1),
        down_share=st.fractions(0, 1), count=st.integers(1, 60),
        month=st.dates(dt.date(2000, 1, 1), dt.date(2090, 1, 1)),
        day=st.integers(1, 31))
    def test_properties(self, debt, discount_share, down_share, count,
            month, day):
        "The parts add up to the debt, none is negative, dates are monthly"
        cent = Decimal('0.01')
        discount = (debt * discount_share.numerator
            / discount_share.denominator).quantize(cent)
        discount = min(discount, debt)
        down = ((debt - discount) * down_share.numerator
            / down_share.denominator).quantize(cent)
        down = min(down, debt - discount)
        instalments = schedule(debt, discount, down, count, month, day)
        self.assertEqual(len(instalments), count)
        self.assertEqual(
            sum(i.amount for i in instalments) + down + discount, debt)
        self.assertTrue(all(i.amount >= 0 for i in instalments))
        self.assertTrue(all(i.amount == i.amount.quantize(cent)
                for i in instalments))
        # equal but for the last, which takes the rounding
        self.assertEqual(len({i.amount for i in instalments[:-1]}),
            min(1, count - 1))
        self.assertTrue(0 <= instalments[-1].amount - instalments[0].amount
            < cent * count)
        dates = [i.date for i in instalments]
        self.assertEqual(dates, sorted(set(dates)))
        for previous, date in zip(dates, dates[1:]):
            self.assertEqual(
                (date.year * 12 + date.month)
                - (previous.year * 12 + previous.month), 1)
