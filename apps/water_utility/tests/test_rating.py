# This file is part of the water_utility module.  See README.rst.
"Property tests of the tariff engine (no database)"
import datetime as dt
import unittest
from decimal import ROUND_HALF_EVEN, Decimal

from hypothesis import given
from hypothesis import strategies as st

from trytond.modules.water_utility.rating import (
    DISCOUNT, FEE, FIXED, MINIMUM, SEWAGE, VOLUME, Block, Charge, Segment,
    TariffError, block_quantities, check_blocks, days_by_version, rate,
    total)

CENT = Decimal('0.01')
prices = st.decimals(min_value=0, max_value=50, places=2)
amounts = st.decimals(min_value=0, max_value=200, places=2)
percentages = st.decimals(min_value=0, max_value=1, places=2)
volumes = st.decimals(min_value=0, max_value=500, places=3)


@st.composite
def blocks(draw):
    "Increasing blocks: growing limits, prices that never decrease"
    limits = sorted(set(draw(st.lists(
                    st.integers(1, 200), min_size=0, max_size=5))))
    steps = draw(st.lists(prices, min_size=len(limits) + 1,
            max_size=len(limits) + 1))
    result, price = [], Decimal(0)
    for upper, step in zip(limits + [None], steps):
        price += step
        result.append(Block(None if upper is None else Decimal(upper), price))
    return tuple(result)


@st.composite
def tariffs(draw):
    "The charges of a version: always a volume charge, the others maybe"
    charges = [Charge(VOLUME, 'water', draw(blocks()), whole=draw(
                st.booleans()))]
    if draw(st.booleans()):
        charges.append(Charge(FIXED, 'fixed', amount=draw(amounts)))
    if draw(st.booleans()):
        charges.append(Charge(MINIMUM, 'minimum', amount=draw(amounts)))
    if draw(st.booleans()):
        charges.append(Charge(SEWAGE, 'sewage', percentage=draw(percentages)))
    if draw(st.booleans()):
        charges.append(Charge(SEWAGE, 'sewage-m3', price=draw(prices)))
    if draw(st.booleans()):
        charges.append(Charge(FEE, 'waste', amount=draw(amounts)))
    if draw(st.booleans()):
        charges.append(Charge(DISCOUNT, 'welfare',
                percentage=draw(percentages)))
    return tuple(charges)


@st.composite
def splits(draw, total_days):
    "Split total_days into 1 to 4 positive parts"
    cuts = sorted(set(draw(st.lists(
                    st.integers(1, total_days - 1), max_size=3))))
    bounds = [0] + cuts + [total_days]
    return [b - a for a, b in zip(bounds, bounds[1:])]


def volume_lines(lines):
    return [l for l in lines if l.kind == VOLUME]


class RatingTestCase(unittest.TestCase):

    def test_west_bank_domestic(self):
        "25 m³ of the 2024 unified domestic tariff cost 110 + 36 + 42"
        tariff = (
            Charge(VOLUME, 'water', (
                    Block(Decimal(20), Decimal('5.5')),
                    Block(Decimal(40), Decimal('7.2')),
                    Block(Decimal(80), Decimal('9.5')),
                    Block(Decimal(120), Decimal(12)),
                    Block(None, Decimal(13)))),
            Charge(FIXED, 'fixed', amount=Decimal(42)))
        lines = rate([Segment(tariff, 30)], Decimal(25),
            [Segment(tariff, 31)], 31)
        self.assertEqual([(l.kind, l.block, l.quantity, l.amount)
                for l in lines], [
                (VOLUME, 1, Decimal(20), Decimal('110.00')),
                (VOLUME, 2, Decimal(5), Decimal('36.00')),
                (FIXED, None, Decimal(1), Decimal('42.00')),
                ])
        self.assertEqual(total(lines), Decimal('188.00'))

    def test_whole_volume_at_reached_block(self):
        "With the whole method 25 m³ all cost the second block's price"
        charge = Charge(VOLUME, 'water', (
                Block(Decimal(20), Decimal('5.5')),
                Block(None, Decimal('7.2'))), whole=True)
        lines = rate([Segment((charge,), 30)], Decimal(25))
        self.assertEqual([(l.block, l.quantity, l.amount) for l in lines],
            [(2, Decimal(25), Decimal('180.00'))])

    def test_minimum_tops_up_the_volume(self):
        "A minimum charge adds what the volume lacks, no more"
        tariff = (Charge(VOLUME, 'water', (Block(None, Decimal(2)),)),
            Charge(MINIMUM, 'minimum', amount=Decimal(15)))
        small = rate([Segment(tariff, 30)], Decimal(5),
            [Segment(tariff, 30)], 30)
        self.assertEqual(total(small), Decimal(15))
        self.assertEqual([l.kind for l in small], [VOLUME, MINIMUM])
        large = rate([Segment(tariff, 30)], Decimal(10),
            [Segment(tariff, 30)], 30)
        self.assertEqual([l.kind for l in large], [VOLUME])

    def test_share_of_fixed_charge(self):
        "Connected 12 days of a 31-day month: 12/31 of the fixed charge"
        tariff = (Charge(VOLUME, 'water', (Block(None, Decimal(1)),)),
            Charge(FIXED, 'fixed', amount=Decimal(42)))
        lines = rate([Segment(tariff, 12)], Decimal(3),
            [Segment(tariff, 12)], 31)
        fixed, = [l for l in lines if l.kind == FIXED]
        self.assertEqual(fixed.amount, Decimal('16.26'))
        self.assertEqual(fixed.days, 12)

    def test_percentages_of_rounded_lines(self):
        "Sewage and discounts are percentages of the amounts printed"
        tariff = (Charge(VOLUME, 'water', (Block(None, Decimal('3.333')),)),
            Charge(SEWAGE, 'sewage', percentage=Decimal('0.3')),
            Charge(DISCOUNT, 'welfare', percentage=Decimal('0.3')))
        lines = rate([Segment(tariff, 30)], Decimal(7))
        water, sewage, discount = lines
        self.assertEqual(water.amount, Decimal('23.33'))
        self.assertEqual(sewage.base, Decimal('23.33'))
        self.assertEqual(sewage.amount, Decimal('7.00'))
        self.assertEqual(discount.base, Decimal('30.33'))
        self.assertEqual(discount.amount, Decimal('-9.10'))

    def test_blocks_must_increase(self):
        "Decreasing prices, shrinking limits or a closed last block fail"
        for bad in [
                (Block(Decimal(20), Decimal(6)), Block(None, Decimal(5))),
                (Block(Decimal(20), Decimal(5)), Block(Decimal(10), Decimal(6)),
                    Block(None, Decimal(7))),
                (Block(Decimal(20), Decimal(5)),),
                (Block(None, Decimal(5)), Block(None, Decimal(6))),
                (),
                ]:
            with self.assertRaises(TariffError):
                check_blocks(bad)

    def test_negative_consumption_refused(self):
        "A negative consumption is settled, never priced"
        charge = Charge(VOLUME, 'water', (Block(None, Decimal(1)),))
        with self.assertRaises(TariffError):
            rate([Segment((charge,), 30)], Decimal(-1))

    @given(tariffs(), volumes, volumes, st.integers(1, 62))
    def test_more_water_never_costs_less(self, tariff, a, b, days):
        "For any increasing tariff, more m³ never give a smaller bill"
        low, high = sorted([a, b])
        segments = [Segment(tariff, days)]
        self.assertLessEqual(
            total(rate(segments, low, segments, 31)),
            total(rate(segments, high, segments, 31)))

    @given(tariffs(), volumes)
    def test_block_parts_sum_to_consumption(self, tariff, volume):
        "The m³ of the volume lines add up to the consumption"
        lines = rate([Segment(tariff, 30)], volume)
        self.assertEqual(
            sum((l.quantity for l in volume_lines(lines)), Decimal(0)),
            volume)

    @given(tariffs(), volumes, st.integers(2, 62), st.data())
    def test_prorated_constant_tariff(self, tariff, volume, days, data):
        """A constant tariff split over versions by days bills what it
        bills unsplit, to the cent and line by line"""
        month = data.draw(st.integers(28, 31))
        fixed_days = data.draw(st.integers(2, month))
        whole = rate([Segment(tariff, days)], volume,
            [Segment(tariff, fixed_days)], month)
        split = rate(
            [Segment(tariff, d) for d in data.draw(splits(days))], volume,
            [Segment(tariff, d) for d in data.draw(splits(fixed_days))],
            month)
        self.assertEqual(split, whole)

    @given(tariffs(), volumes, st.integers(1, 62))
    def test_line_amounts_as_tryton_computes(self, tariff, volume, days):
        """Each amount is its quantity times its unit price rounded half
        even, as an invoice line computes it"""
        for line in rate([Segment(tariff, days)], volume,
                [Segment(tariff, days)], 62):
            self.assertEqual(line.amount, (line.quantity * line.unit_price
                    ).quantize(CENT, ROUND_HALF_EVEN))

    @given(tariffs(), volumes, volumes, st.integers(1, 62))
    def test_settlement_prices_the_actual(self, tariff, billed, actual, days):
        """Pricing the billed m³ and then settling with the actual ones
        gives, price by price, the m³ of pricing the actual m³ (and the
        amounts to a cent a line)"""
        segments = [Segment(tariff, days)]
        water = [Segment(tuple(c for c in tariff if c.kind == VOLUME), days)]
        settled = volume_lines(rate(water, billed))
        settlement = volume_lines(rate(water, Decimal(0),
                settlements=[(segments, billed, actual)]))
        direct = volume_lines(rate(water, actual))

        def by_price(lines):
            result = {}
            for line in lines:
                result[line.unit_price] = result.get(
                    line.unit_price, 0) + line.quantity
            return {p: q for p, q in result.items() if q}
        self.assertEqual(by_price(settled + settlement), by_price(direct))
        self.assertLessEqual(
            abs(total(settled + settlement) - total(direct)),
            CENT * len(settled + settlement + direct))
        self.assertTrue(all(l.settlement for l in settlement))
        if billed == actual:
            self.assertEqual(settlement, [])

    @given(st.lists(st.decimals(min_value=0, max_value=300, places=3),
            min_size=1, max_size=6), blocks(), st.booleans())
    def test_blocks_partition(self, quantities, blocks_, whole):
        "Block quantities are positive and, block by block, within limits"
        charge = Charge(VOLUME, 'water', blocks_, whole=whole)
        for quantity in quantities:
            parts = block_quantities(charge, quantity)
            self.assertEqual(sum(p[3] for p in parts), quantity)
            for _, lower, upper, part, _ in parts:
                self.assertGreater(part, 0)
                if not whole and upper is not None:
                    self.assertLessEqual(part, upper - lower)

    @given(st.dates(dt.date(2020, 1, 1), dt.date(2030, 1, 1)),
        st.integers(1, 90), st.lists(st.integers(-60, 120), max_size=4))
    def test_days_by_version_partition(self, start, length, offsets):
        "Versions in force share the days of the interval, none twice"
        end = start + dt.timedelta(days=length)
        since = sorted({start + dt.timedelta(days=o) for o in offsets}
            | {start - dt.timedelta(days=100)})
        versions = [(d, i) for i, d in enumerate(since)]
        shares = days_by_version(versions, start, end)
        self.assertEqual(sum(d for _, d in shares), length)
        for version, days in shares:
            self.assertGreater(days, 0)
        self.assertEqual([v for v, _ in shares],
            sorted(v for v, _ in shares))

    def test_days_before_first_version_not_covered(self):
        "A tariff that starts inside the interval covers only its days"
        versions = [(dt.date(2026, 10, 1), 'new')]
        self.assertEqual(days_by_version(
                versions, dt.date(2026, 9, 20), dt.date(2026, 10, 20)),
            [('new', 20)])

    @given(tariffs(), volumes)
    def test_amounts_are_cents(self, tariff, volume):
        "Every amount is rounded to the currency"
        for line in rate([Segment(tariff, 30)], volume,
                [Segment(tariff, 30)], 30):
            self.assertEqual(line.amount, line.amount.quantize(CENT))
