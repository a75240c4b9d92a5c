# This file is part of the water_utility module.  See README.rst.
"Property tests of the pure functions (no database)"
import datetime as dt
import unittest
from decimal import Decimal

from hypothesis import assume, given
from hypothesis import strategies as st

from trytond.modules.water_utility.arabic import search_key, western_digits
from trytond.modules.water_utility.consumption import (
    ReadingError, Segment, check_register, consumption, dial_capacity,
    estimate, expected_range, period_consumption, prorate, reading_advance,
    reestimate, register_advance, split_by_month)
from trytond.modules.water_utility.reading_file import (
    FileError, local, parse, parse_datetime, parse_value)
from trytond.modules.water_utility.plausibility import (
    RULES, Facts, Rules, check)
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


dates = st.dates(min_value=dt.date(2000, 1, 1), max_value=dt.date(2100, 1, 1))
volumes = st.decimals(
    min_value=0, max_value=100000, places=3, allow_nan=False)


class ReadingAdvanceTestCase(unittest.TestCase):

    @given(meter_and_readings())
    def test_advance_is_consistent_with_dial(self, case):
        "Forward, rollover or backwards: start + advance shows end"
        n, start, end = case
        advance, rolled = reading_advance(start, end, n)
        self.assertEqual((start + advance) % dial_capacity(n), end)
        if rolled:
            self.assertGreater(advance, 0)
            self.assertLessEqual(advance, dial_capacity(n) / 2)
        else:
            self.assertEqual(advance, end - start)

    def test_rollover_and_backwards(self):
        "99 950 → 30 passed zero; 1 234 → 1 200 went backwards"
        self.assertEqual(
            reading_advance(Decimal(99950), Decimal(30), 5),
            (Decimal(80), True))
        self.assertEqual(
            reading_advance(Decimal(1234), Decimal(1200), 5),
            (Decimal(-34), False))

    @given(meter_and_readings(), meter_and_readings(),
        st.sampled_from([Decimal(1), Decimal(10)]))
    def test_swap_sums_both_meters(self, old, new, multiplier):
        "A swap inside the period adds the old and the new meter's parts"
        (n1, s1, e1), (n2, s2, e2) = old, new
        assume(e1 >= s1 and e2 >= s2)
        total, rolled = period_consumption([
                Segment(s1, e1, n1), Segment(s2, e2, n2, multiplier)])
        self.assertFalse(rolled)
        self.assertEqual(total, (e1 - s1) + (e2 - s2) * multiplier)

    @given(volumes, st.integers(1, 400), st.integers(1, 400))
    def test_prorate_round_trip(self, quantity, days, target):
        "Pro rata is linear: scaling to the same days changes nothing"
        self.assertEqual(prorate(quantity, days, days), quantity)
        self.assertAlmostEqual(
            float(prorate(quantity, days, target)),
            float(quantity) * target / days, delta=0.001)

    @given(volumes, dates, st.integers(1, 400))
    def test_split_by_month_loses_nothing(self, quantity, start, days):
        "Monthly shares sum to the quantity and follow the calendar"
        end = start + dt.timedelta(days=days)
        shares = split_by_month(quantity, start, end)
        self.assertEqual(sum(q for _, q in shares), quantity)
        self.assertEqual(shares[0][0],
            ((start + dt.timedelta(days=1)).year,
                (start + dt.timedelta(days=1)).month))
        self.assertEqual(shares[-1][0], (end.year, end.month))
        self.assertTrue(all(q >= 0 for _, q in shares))

    def test_split_by_month_by_days(self):
        "10 Oct → 10 Nov: 21 days of October, 10 of November"
        shares = split_by_month(
            Decimal(31), dt.date(2026, 10, 10), dt.date(2026, 11, 10))
        self.assertEqual(shares,
            [((2026, 10), Decimal(21)), ((2026, 11), Decimal(10))])


class EstimateTestCase(unittest.TestCase):

    @given(st.lists(st.tuples(st.integers(20, 40), volumes), max_size=6),
        st.integers(1, 60), st.integers(1, 12))
    def test_estimate_is_the_daily_average(self, history, days, months):
        "The estimate is the average daily consumption times the days"
        result = estimate(history, days, months, Decimal('0.5'))
        used = history[:months]
        if used:
            daily = sum(c for _, c in used) / sum(d for d, _ in used)
        else:
            daily = Decimal('0.5')
        self.assertLessEqual(abs(result - daily * days), Decimal('0.5'))
        self.assertEqual(result, result.to_integral_value())

    def test_estimate_without_history(self):
        "The category's default, else nothing to estimate from"
        self.assertEqual(estimate([], 30, 3, Decimal('0.4')), Decimal(12))
        self.assertIsNone(estimate([], 30, 3, None))

    def test_estimate_uses_recent_months(self):
        "Only the configured number of recent months count"
        history = [(30, Decimal(30)), (30, Decimal(60)), (30, Decimal(900))]
        self.assertEqual(estimate(history, 30, 2), Decimal(45))

    @given(volumes, volumes.filter(lambda v: v > 0),
        st.decimals(min_value='1.1', max_value=10, places=1),
        st.decimals(min_value=0, max_value=50, places=0))
    def test_outside_expected_range_fails_rule(self, previous, expected,
            factor, margin):
        "A value outside the sheet's range fails the rule on the average"
        low, high = expected_range(previous, expected, factor, margin)
        rules = Rules(factor=factor, margin=margin)
        self.assertIn('high', check(Facts(high + 1 - previous, expected),
                rules))
        if low - 1 > previous:
            self.assertIn('low', check(Facts(low - 1 - previous, expected),
                    rules))


facts = st.builds(Facts,
    consumption=st.one_of(st.none(), volumes),
    expected=st.one_of(st.none(), volumes),
    backwards=st.booleans(), active=st.booleans(), in_period=st.booleans(),
    duplicate=st.booleans(), note_prevents_read=st.booleans(),
    leak=st.booleans())


reading_volumes = st.lists(
    st.tuples(st.integers(1, 62), st.integers(0, 500)), min_size=1,
    max_size=12)


class ReestimateTestCase(unittest.TestCase):
    "Re-estimating what a faulty meter measured"

    @given(reading_volumes, st.integers(0, 50))
    def test_measured_adds_up(self, readings, daily):
        "Every m³ measured is in exactly one period, each period once"
        readings = [(i, d, Decimal(v)) for i, (d, v) in enumerate(readings)]
        periods = reestimate(readings, [], default_daily=daily)
        self.assertEqual(
            sum(m for _, _, m, _ in periods), sum(v for _, _, v in readings))
        self.assertEqual(
            [k for keys, *_ in periods for k in keys],
            [k for k, _, _ in readings])
        self.assertEqual(
            sum(d for _, d, _, _ in periods), sum(d for _, d, _ in readings))

    @given(reading_volumes, st.integers(0, 50))
    def test_estimate_is_the_average(self, readings, daily):
        "Each period is estimated at the daily average for its days"
        readings = [(i, d, Decimal(v)) for i, (d, v) in enumerate(readings)]
        for _, days, _, estimated in reestimate(
                readings, [], default_daily=daily):
            self.assertEqual(estimated, days * daily)

    def test_history_before_category(self):
        "The subscriber's own average comes before the category's"
        periods = reestimate([('r', 30, Decimal(90))], [(30, 15), (31, 16)],
            months=3, default_daily=Decimal(5))
        self.assertEqual(periods, [(('r',), 30, Decimal(90), Decimal(15))])

    def test_settled_estimates_taken_together(self):
        "An actual reading settling an estimate is taken with the next one"
        periods = reestimate(
            [('e', 30, Decimal(0)), ('a', 31, Decimal(-5)),
                ('b', 30, Decimal(40))], [], default_daily=Decimal(1))
        self.assertEqual(periods, [
                (('e',), 30, Decimal(0), Decimal(30)),
                (('a', 'b'), 61, Decimal(35), Decimal(61)),
                ])
        # a window that ends on a negative volume has nothing measured
        with self.assertRaises(ValueError):
            reestimate([('e', 30, Decimal(20)), ('a', 31, Decimal(-5))], [],
                default_daily=Decimal(1))

    def test_no_average(self):
        "Without history nor category average nothing can be estimated"
        with self.assertRaises(ValueError):
            reestimate([('r', 30, Decimal(10))], [])


class PlausibilityTestCase(unittest.TestCase):

    @given(facts)
    def test_disabled_rules_never_fail(self, facts):
        "A rule switched off in the configuration holds nothing"
        everything = check(facts, Rules())
        self.assertEqual(everything, [r for r in RULES if r in everything])
        for rule in RULES:
            self.assertNotIn(rule, check(facts, Rules(**{rule: False})))

    @given(facts)
    def test_each_fact_has_its_rule(self, facts):
        "Each fact a rule watches holds the reading"
        failed = check(facts, Rules())
        self.assertEqual('leak' in failed, facts.leak)
        self.assertEqual('date' in failed, not facts.in_period)
        self.assertEqual('duplicate' in failed, facts.duplicate)
        self.assertEqual('note' in failed,
            facts.note_prevents_read or facts.consumption is None)
        if facts.consumption is not None:
            self.assertEqual('negative' in failed, facts.backwards)
            self.assertEqual('zero' in failed,
                not facts.backwards and facts.consumption == 0
                and facts.active)

    @given(volumes.filter(lambda v: v > 0), st.integers(2, 10),
        st.decimals(min_value=0, max_value=50, places=0))
    def test_more_than_factor_and_margin_is_high(self, expected, factor,
            margin):
        "Above the average by the factor and the margin is high"
        rules = Rules(factor=Decimal(factor), margin=margin)
        above = expected * factor + margin + 1
        self.assertIn('high', check(Facts(above, expected), rules))
        self.assertEqual(check(Facts(expected, expected), rules), [])

    def test_low(self):
        "Far below the average by the factor and the margin is low"
        rules = Rules(factor=Decimal(3), margin=Decimal(10))
        self.assertEqual(check(Facts(Decimal(5), Decimal(30)), rules),
            ['low'])
        # below by the factor but not by the margin: small consumers vary
        self.assertEqual(check(Facts(Decimal(1), Decimal(6)), rules), [])


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


arabic_text = st.text(
    alphabet=st.sampled_from(
        list("ابتثجحخدذرزسشصضطظعغفقكلمنهويءآأإؤئةى ٠١٢٣٤٥٦٧٨٩0123456789-")),
    min_size=1, max_size=30).map(str.strip).filter(bool)


class ReadingFileTestCase(unittest.TestCase):
    "Files of readings as they come from the field"

    @given(st.lists(arabic_text, min_size=1, max_size=5),
        st.sampled_from(['utf-8', 'utf-8-sig', 'windows-1256']))
    def test_arabic_comments_survive_every_encoding(self, comments,
            encoding):
        "Arabic text reads back the same from UTF-8, BOM or Windows-1256"
        lines = ['subscription,date,value,comment'] + [
            f'{1000001 + i},2026-11-20,{i},{c}'
            for i, c in enumerate(comments)]
        text = '\r\n'.join(lines)
        try:
            data = text.encode(encoding)
        except UnicodeEncodeError:
            # Windows-1256 has no Arabic-Indic digits: Excel cannot write them
            assume(False)
        format_, found, rows = parse(data, 'round.csv')
        self.assertEqual(format_, 'csv')
        if encoding == 'utf-8-sig' or not text.isascii():
            # plain ASCII is the same bytes in every encoding
            self.assertEqual(found, encoding)
        self.assertEqual([r.comment for r in rows], comments)

    def test_arabic_headers_and_semicolons(self):
        "Excel in Arabic writes Arabic headers and semicolons"
        data = ('رقم الاشتراك;التاريخ;القراءة;الملاحظة\n'
            '1000001;٢٠/١١/٢٠٢٦;١٢٣٫٥;\n').encode('utf-8')
        _, _, (row,) = parse(data, 'x.csv')
        self.assertEqual(
            (row.subscription, row.read_at, row.value),
            ('1000001', '٢٠/١١/٢٠٢٦', '١٢٣٫٥'))
        self.assertEqual(parse_value(row.value), Decimal('123.500'))
        moment, has_time = parse_datetime(row.read_at)
        self.assertEqual(local(moment, has_time),
            (dt.date(2026, 11, 20), None))

    def test_malformed_files(self):
        "Empty, binary and column-less files are refused with a code"
        for data, code in [
                (b'', 'empty'),
                (b'   \n', 'empty'),
                (b'PK\x03\x04\x14\x00\x06\x00\x08\x00\x00\x00!\x00',
                    'binary'),
                (b'name,phone\nx,1\n', 'columns'),
                (b'{"not": "a telegram"\n', 'json'),
                ]:
            with self.subTest(code=code):
                with self.assertRaises(FileError) as context:
                    parse(data, 'f.jsonl' if code == 'json' else 'f.csv')
                self.assertEqual(context.exception.code, code)

    def test_wmbusmeters_telegram(self):
        "A wmbusmeters telegram gives meter, register, time and leak"
        data = (b'{"_":"telegram","media":"water","meter":"multical21",'
            b'"name":"x","id":"12345678","total_m3":6.408,'
            b'"current_status":"DRY LEAK","time_dry":"22-31 days",'
            b'"timestamp":"2026-11-20T07:15:00Z"}\n'
            b'{"_":"telegram","id":"87654321","total_m3":1.5,'
            b'"status":"OK","timestamp":"2026-11-20T07:16:00Z"}\n'
            b'garbage line\n')
        format_, _, rows = parse(data)
        self.assertEqual(format_, 'wmbus')
        leak, ok, bad = rows
        self.assertEqual((leak.meter, leak.value, leak.leak, leak.status),
            ('12345678', '6.408', True, 'DRY LEAK'))
        self.assertEqual((ok.leak, ok.status), (False, ''))
        self.assertEqual(bad.comment, 'JSON')
        moment, has_time = parse_datetime(leak.read_at)
        from zoneinfo import ZoneInfo
        self.assertEqual(local(moment, has_time, ZoneInfo('Asia/Gaza')),
            (dt.date(2026, 11, 20), dt.time(9, 15)))

    @given(st.decimals(min_value=0, max_value=10 ** 9, places=3,
            allow_nan=False))
    def test_value_round_trip(self, value):
        "A register typed in Arabic-Indic digits reads as in Latin ones"
        text = f'{value:f}'
        arabic = text.translate(str.maketrans('0123456789.', '٠١٢٣٤٥٦٧٨٩٫'))
        self.assertEqual(parse_value(arabic), parse_value(text))
        self.assertEqual(parse_value(text), value)

    def test_bad_values_and_dates(self):
        for text in ['', 'abc', '12,5,6', 'NaN', 'inf']:
            with self.subTest(text=text), self.assertRaises(ValueError):
                parse_value(text)
        for text in ['', '20/13/2026', 'yesterday']:
            with self.subTest(text=text), self.assertRaises(ValueError):
                parse_datetime(text)
