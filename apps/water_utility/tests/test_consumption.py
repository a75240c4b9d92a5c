# This file is part of the water_utility module.  See README.rst.
"Property tests of the pure functions (no database)"
import unittest
from decimal import Decimal

from hypothesis import assume, given
from hypothesis import strategies as st

from trytond.modules.water_utility.arabic import search_key, western_digits
from trytond.modules.water_utility.consumption import (
    ReadingError, check_register, consumption, dial_capacity,
    register_advance)
from trytond.modules.water_utility.subscription import phone_pattern

digits = st.integers(min_value=3, max_value=9)


@st.composite
def register(draw, digits):
    return Decimal(draw(st.integers(0, 10 ** digits - 1)))


@st.composite
def meter_and_readings(draw):
    n = draw(digits)
    return n, draw(register(n)), draw(register(n))


class ConsumptionTestCase(unittest.TestCase):

    @given(meter_and_readings())
    def test_forward_is_difference(self, case):
        "Without rollover the advance is the plain difference"
        n, start, end = case
        assume(end >= start)
        self.assertEqual(register_advance(start, end, n), end - start)

    @given(meter_and_readings())
    def test_backwards_needs_rollover(self, case):
        "A register that went backwards without rollover is an error"
        n, start, end = case
        assume(end < start)
        with self.assertRaises(ReadingError):
            register_advance(start, end, n)

    @given(meter_and_readings())
    def test_rollover_passes_zero_once(self, case):
        "With rollover the advance reaches the end through zero"
        n, start, end = case
        assume(end < start)
        advance = register_advance(start, end, n, rollover=True)
        self.assertGreater(advance, 0)
        self.assertLess(advance, dial_capacity(n))
        self.assertEqual((start + advance) % dial_capacity(n), end)

    @given(meter_and_readings())
    def test_rollover_without_passing_zero(self, case):
        "A rollover flag on a forward reading is an error"
        n, start, end = case
        assume(end >= start)
        with self.assertRaises(ReadingError):
            register_advance(start, end, n, rollover=True)

    @given(meter_and_readings(), st.integers(1, 3))
    def test_split_reading_adds_up(self, case, _):
        "Reading in between does not change the total"
        n, start, end = case
        assume(end >= start)
        middle = (start + end) // 2
        self.assertEqual(
            register_advance(start, middle, n)
            + register_advance(middle, end, n),
            register_advance(start, end, n))

    @given(meter_and_readings(),
        st.sampled_from([Decimal('0.1'), Decimal(1), Decimal(10)]))
    def test_multiplier_scales(self, case, multiplier):
        "The multiplier scales the volume"
        n, start, end = case
        assume(end >= start)
        self.assertEqual(
            consumption(start, end, n, multiplier),
            (end - start) * multiplier)

    @given(digits, st.integers())
    def test_register_bounds(self, n, value):
        "Only values from 0 to 10^digits - 1 fit on the dial"
        if 0 <= value < 10 ** n:
            check_register(Decimal(value), n)
        else:
            with self.assertRaises(ReadingError):
                check_register(Decimal(value), n)


class ArabicTestCase(unittest.TestCase):

    def test_spelling_variants(self):
        "Common spelling variants of one name share a search key"
        for a, b in [
                ("أحمد", "احمد"),
                ("إبراهيم", "ابراهيم"),
                ("فاطمة", "فاطمه"),
                ("مصطفى", "مصطفي"),
                ("مُحَمَّد", "محمد"),
                ("عـــلي", "علي"),
                ("  سعيد   الحلو ", "سعيد الحلو"),
                ]:
            self.assertEqual(search_key(a), search_key(b), (a, b))
        self.assertNotEqual(search_key("سالم"), search_key("سليم"))

    @given(st.text())
    def test_search_key_idempotent(self, text):
        "Folding twice changes nothing"
        self.assertEqual(search_key(search_key(text)), search_key(text))

    def test_digits(self):
        self.assertEqual(western_digits("٠٥٩٩١٢٣٤٥٦"), "0599123456")
        self.assertEqual(search_key("رقم ١٢٣"), "رقم 123")

    def test_phone_pattern(self):
        "The national trunk zero is dropped: +970 numbers match"
        self.assertEqual(phone_pattern('%059-912 3456%'), '%599123456%')
        self.assertEqual(phone_pattern('%+970599%'), '%+970599%')
        self.assertEqual(phone_pattern('00970599'), '00970599')
