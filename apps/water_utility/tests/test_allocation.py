# This file is part of the water_utility module.  See README.rst.
"Property tests of the allocation of payments to open bills (no database)"
import datetime as dt
import unittest
from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from trytond.modules.water_utility.allocation import (
    Item, allocate, order_items)

money = st.decimals(min_value=0, max_value=5000, places=2)


@st.composite
def open_items(draw):
    count = draw(st.integers(0, 8))
    dates = draw(st.lists(
            st.dates(dt.date(2024, 1, 1), dt.date(2027, 12, 31)),
            min_size=count, max_size=count))
    amounts = draw(st.lists(money, min_size=count, max_size=count))
    return [Item(i, d, a) for i, (d, a) in enumerate(zip(dates, amounts))]


class AllocationTestCase(unittest.TestCase):

    @given(money, open_items(), st.sampled_from(['oldest', 'newest']))
    def test_nothing_lost(self, amount, items, order):
        "What is allocated and the remainder make the payment exactly"
        allocations, remainder = allocate(amount, items, order=order)
        self.assertEqual(sum(a for _, a in allocations) + remainder, amount)
        self.assertGreaterEqual(remainder, 0)

    @given(money, open_items())
    def test_never_more_than_open(self, amount, items):
        "No bill receives more than it leaves to pay, nor nothing"
        allocations, _ = allocate(amount, items)
        open_ = {i.key: i.amount for i in items}
        self.assertEqual(len({k for k, _ in allocations}), len(allocations))
        for key, part in allocations:
            self.assertGreater(part, 0)
            self.assertLessEqual(part, open_[key])

    @given(money, open_items())
    def test_oldest_first(self, amount, items):
        """A younger bill is paid only once every older one is settled, and a
        credit remains only once every bill is settled"""
        allocations, remainder = allocate(amount, items)
        paid = dict(allocations)
        ordered = [i for i in order_items(items) if i.amount > 0]
        for older, younger in zip(ordered, ordered[1:]):
            if paid.get(younger.key):
                self.assertEqual(paid.get(older.key), older.amount)
        if remainder:
            self.assertEqual(
                sum(paid.values()), sum(i.amount for i in ordered))

    @given(money, open_items())
    def test_scanned_bill_first(self, amount, items):
        "A bill asked for first is paid before any other"
        if not items:
            return
        first = items[-1]
        allocations, _ = allocate(amount, items, first=first.key)
        if amount and first.amount:
            self.assertEqual(allocations[0][0], first.key)
            self.assertEqual(
                allocations[0][1], min(amount, first.amount))

    def test_example(self):
        "150 on bills of 100 (March), 80 (January) and 60 (February)"
        items = [Item('march', dt.date(2026, 3, 1), Decimal(100)),
            Item('january', dt.date(2026, 1, 1), Decimal(80)),
            Item('february', dt.date(2026, 2, 1), Decimal(60))]
        self.assertEqual(allocate(Decimal(150), items),
            ([('january', Decimal(80)), ('february', Decimal(60)),
                    ('march', Decimal(10))], Decimal(0)))
        self.assertEqual(allocate(Decimal(300), items)[1], Decimal(60))

    def test_negative_refused(self):
        with self.assertRaises(ValueError):
            allocate(Decimal(-1), [])


class PayloadTestCase(unittest.TestCase):
    "The bill's QR code read back at the desk"

    @given(st.from_regex(r'[0-9]{1,10}', fullmatch=True), money,
        st.one_of(st.none(), st.from_regex(r'[A-Z0-9/-]{1,12}',
                fullmatch=True)),
        st.one_of(st.none(), st.dates(dt.date(2000, 1, 1))))
    def test_round_trip(self, subscription, amount, reference, due):
        from trytond.modules.water_utility.bill_report import (
            parse_payload, payment_payload)
        self.assertEqual(
            parse_payload(payment_payload(subscription, amount, reference,
                    due)),
            (subscription, amount, reference, due))

    def test_not_a_payload(self):
        from trytond.modules.water_utility.bill_report import parse_payload
        for text in ['', '1000123', 'http://x?amount=1',
                'water:1?amount=abc', 'water:1?due=2026-13-01']:
            with self.subTest(text=text):
                self.assertIsNone(parse_payload(text))
