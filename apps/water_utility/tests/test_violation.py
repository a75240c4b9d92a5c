# This file is part of the water_utility module.  See README.rst.
"Violations: the pure estimate and penalty, pricing, notice, referral"
import datetime as dt
import unittest
from decimal import Decimal

from hypothesis import given, strategies as st

from trytond.exceptions import UserError
from trytond.model.exceptions import AccessError
from trytond.modules.company.tests import set_company
from trytond.pool import Pool
from trytond.transaction import Transaction

from .. import violation_rule as rule
from .database import UtilityTestCase, pinned, utility, with_transaction
from . import test_billing as billing
from . import test_module as base

FOUND = dt.date(2026, 5, 31)
dates = st.dates(dt.date(2000, 1, 1), dt.date(2040, 12, 31))
volumes = st.decimals(0, 100000, places=3)
amounts = st.decimals(0, 1000000, places=2)
percentages = st.decimals(0, 500, places=2)


class ViolationRuleTestCase(unittest.TestCase):
    "The pure rule of a violation's estimate and penalty"

    def test_example(self):
        "0.5 m³ a day for 90 days from 12 March to 10 June"
        start, end = dt.date(2026, 3, 12), dt.date(2026, 6, 10)
        self.assertEqual(rule.duration(start, end), 90)
        self.assertEqual(rule.volume(Decimal('0.5'), 90), Decimal('45.000'))
        self.assertEqual(rule.periods(start, end, Decimal(45)), [
                (start, dt.date(2026, 3, 31), Decimal('9.500')),
                (dt.date(2026, 3, 31), dt.date(2026, 4, 30),
                    Decimal('15.000')),
                (dt.date(2026, 4, 30), dt.date(2026, 5, 31),
                    Decimal('15.500')),
                (dt.date(2026, 5, 31), end, Decimal('5.000')),
                ])
        self.assertEqual(rule.penalty(Decimal(225), Decimal(100),
                Decimal(50)), Decimal('212.50'))

    def test_refused(self):
        "A violation ends after it starts; nothing is negative"
        day = dt.date(2026, 1, 1)
        for start, end in [(day, day), (day, day - dt.timedelta(1)),
                (None, day), (day, None)]:
            with self.assertRaises(ValueError):
                rule.duration(start, end)
        with self.assertRaises(ValueError):
            rule.volume(Decimal(-1), 3)
        with self.assertRaises(ValueError):
            rule.periods(day, day + dt.timedelta(3), Decimal(-1))
        with self.assertRaises(ValueError):
            rule.penalty(Decimal(10), Decimal(-1))

    @given(dates, st.integers(1, 2000), volumes)
    def test_periods_share_the_volume(self, start, days, total):
        "The months cover the days once and share the volume exactly"
        end = start + dt.timedelta(days=days)
        periods = rule.periods(start, end, total)
        self.assertEqual(sum(v for _, _, v in periods), total)
        self.assertEqual(sum((e - s).days for s, e, _ in periods), days)
        self.assertEqual(periods[0][0], start)
        self.assertEqual(periods[-1][1], end)
        for (_, until, _), (since, _, _) in zip(periods, periods[1:]):
            self.assertEqual(until, since)
        for since, until, share in periods:
            self.assertGreaterEqual(share, 0)
            first = since + dt.timedelta(days=1)
            self.assertEqual((first.year, first.month),
                (until.year, until.month))
            # in proportion to the days, within the rounding
            exact = total * (until - since).days / days
            self.assertLessEqual(abs(share - exact), Decimal('0.002'))

    @given(st.decimals(0, 100, places=3), st.integers(0, 2000),
        st.integers(0, 2000))
    def test_volume_adds_up(self, daily, a, b):
        "The volume grows with the days and adds up within the rounding"
        self.assertLessEqual(rule.volume(daily, a), rule.volume(daily, a + b))
        self.assertLessEqual(abs(rule.volume(daily, a + b)
                - rule.volume(daily, a) - rule.volume(daily, b)),
            Decimal('0.001'))
        self.assertEqual(rule.volume(daily, a), daily * a)

    @given(amounts, amounts, percentages, percentages)
    def test_penalty(self, water, fixed, low, high):
        "The penalty is at least the fixed amount and grows with the rate"
        low, high = sorted([low, high])
        self.assertEqual(rule.penalty(water, fixed), fixed)
        self.assertGreaterEqual(rule.penalty(water, fixed, low), fixed)
        self.assertLessEqual(rule.penalty(water, fixed, low),
            rule.penalty(water, fixed, high))
        self.assertEqual(rule.penalty(water, fixed, Decimal(100)),
            water + fixed)
        self.assertEqual(
            abs(rule.penalty(water, 0, low) - water * low / 100)
            <= Decimal('0.005'), True)


@pinned()
class ViolationTestCase(UtilityTestCase):
    "Violations of the Water Utility module"

    @classmethod
    def setUpDatabase(cls):
        "The tariff, the penalty product and the penalties"
        pool = Pool()
        Configuration = pool.get('water.configuration')
        Penalty = pool.get('water.violation.penalty')
        u = utility()
        tariff = billing.create_tariff(u.products)
        configuration = Configuration(1)
        configuration.tariff = tariff
        configuration.bill_payment_term = u.term
        configuration.violation_penalty_product = u.products['meter']
        configuration.save()
        Penalty.create([{
                    'type': 'illegal_connection',
                    'fixed_amount': Decimal(500),
                    'percentage': Decimal(0),
                    }, {
                    'type': 'bypass',
                    'fixed_amount': Decimal(0),
                    'percentage': Decimal(20),
                    }])

    def setup_utility(self):
        u = utility()
        self.company, self.area, self.products = u.company, u.area, u.products
        return u.company, u.area, u.route, u.domestic

    def create_violation(self, **values):
        pool = Pool()
        Violation = pool.get('water.violation')
        Party = pool.get('party.party')
        if 'party' not in values:
            values['party'], = Party.create([{
                        'name': "سعيد الحلو",
                        'addresses': [('create', [{'street': "حي الشجاعية"}])],
                        }])
        if 'subscription' not in values:
            values.setdefault(
                'category', base.model_data('category_commercial'))
        values = {
            'company': self.company.id,
            'type': 'illegal_connection',
            'area': self.area.id,
            'location': "أرض زراعية شرق المقبرة",
            'found_date': FOUND,
            **{k: getattr(v, 'id', v) for k, v in values.items()},
            }
        violation, = Violation.create([values])
        return violation

    @with_transaction()
    def test_non_subscriber_priced_month_by_month(self):
        """An illegal connection of a non-subscriber is priced month by
        month within the monthly blocks, posted on the party's account and
        referred to legal"""
        pool = Pool()
        Violation = pool.get('water.violation')
        Settlement = pool.get('water.settlement')
        Date = pool.get('ir.date')
        self.setup_utility()
        with set_company(self.company):
            violation = self.create_violation(
                start_date=dt.date(2026, 3, 31))
            self.assertTrue(violation.number.startswith('VL-'))
            self.assertIsNone(violation.subscription)
            Violation.price([violation])
            # 1 m³ a day: 30 m³ in April and 31 m³ in May, each month
            # 20 m³ at 5.5 and the rest at 7.2 (61 m³ at once would reach
            # the third block)
            self.assertEqual((violation.days, violation.volume),
                (61, Decimal('61.000')))
            self.assertEqual(violation.water_amount,
                Decimal('110.00') + Decimal('72.00')
                + Decimal('110.00') + Decimal('79.20'))
            self.assertEqual(violation.penalty_amount, Decimal('500.00'))
            self.assertEqual(violation.amount, Decimal('871.20'))

            violation.notice_date = dt.date(2026, 6, 2)
            violation.save()
            Violation.notify([violation])
            invoice = violation.invoice
            self.assertEqual(violation.state, 'notified')
            self.assertEqual(invoice.state, 'posted')
            self.assertEqual(invoice.party, violation.party)
            self.assertIsNone(invoice.water_subscription)
            self.assertEqual(invoice.total_amount, Decimal('871.20'))
            self.assertEqual({l.origin for l in invoice.lines}, {violation})

            # nothing to settle without a subscription
            Violation.settle([violation])
            self.assertEqual(Settlement.search([]), [])

            with self.assertRaises(UserError):
                Violation.refer([violation])
            violation.referral_note = "رفض الدفع والتسوية"
            violation.save()
            Violation.refer([violation])
            self.assertEqual(violation.state, 'referred')
            self.assertEqual(violation.referral_date, Date.today())

    @with_transaction()
    def test_cut_is_a_work_order(self):
        "Cutting opens an illegal_cut work order; no subscription changes"
        pool = Pool()
        Violation = pool.get('water.violation')
        Inspection = pool.get('water.inspection')
        Subscription = pool.get('water.subscription')
        company, area, route, domestic = self.setup_utility()
        with set_company(company):
            subscription = base.create_subscription(area, route, domestic)
            base.install(subscription, base.create_meter(),
                dt.date(2026, 1, 1))
            Subscription.activate([subscription])
            violation = self.create_violation(
                type='bypass', subscription=subscription,
                party=subscription.party)
            self.assertEqual(violation.category, domestic)
            self.assertEqual(violation.start_date,
                FOUND - dt.timedelta(days=90))
            Violation.cut([violation])
            order, = Inspection.search([('origin', '=', str(violation))])
            self.assertEqual((order.type, order.subscription),
                ('illegal_cut', subscription))
            self.assertEqual(violation.work_orders, (order,))
            self.assertEqual(Subscription(subscription.id).state, 'active')

    @with_transaction()
    def test_document_from_work_order(self):
        "A work order that found a violation opens it with its findings"
        pool = Pool()
        Inspection = pool.get('water.inspection')
        Party = pool.get('party.party')
        self.setup_utility()
        with set_company(self.company):
            party, = Party.create([{'name': "ساكن المكان"}])
            order, = Inspection.create([{
                        'type': 'violation', 'area': self.area.id,
                        'party': party.id, 'location': "حي الزيتون",
                        'visit_date': FOUND, 'outcome': 'violation',
                        'planned_date': FOUND,
                        'latitude': Decimal('31.5'),
                        'findings': "وصلة غير مشروعة من الخط الرئيسي",
                        'state': 'in_progress',
                        }])
            Inspection.document_violation([order])
            violation, = order.violations
            self.assertEqual(violation.type, 'illegal_connection')
            self.assertEqual(
                (violation.party, violation.location, violation.found_date,
                    violation.latitude, violation.facts),
                (party, "حي الزيتون", FOUND, Decimal('31.5'),
                    "وصلة غير مشروعة من الخط الرئيسي"))
            self.assertEqual(violation.category.code, 'domestic')

    @with_transaction()
    def test_refusals(self):
        """No price without a daily consumption or a tariff, no penalty
        without its product, no deletion unless cancelled"""
        pool = Pool()
        Violation = pool.get('water.violation')
        Category = pool.get('water.subscription.category')
        Configuration = pool.get('water.configuration')
        Party = pool.get('party.party')
        self.setup_utility()
        with set_company(self.company):
            category, = Category.create([{'code': 'x', 'name': "أخرى"}])
            violation = self.create_violation(category=category)
            with self.assertRaises(UserError):
                Violation.price([violation])
            old = self.create_violation(start_date=dt.date(2019, 12, 1))
            with self.assertRaises(UserError):
                Violation.price([old])
            with self.assertRaises(UserError):
                Violation.delete([old])
            Violation.cancel([old])
            Violation.delete([old])

            configuration = Configuration(1)
            configuration.violation_penalty_product = None
            configuration.save()
            violation = self.create_violation()
            with self.assertRaises(UserError):
                Violation.notify([violation])

            # a notice needs an address
            configuration.violation_penalty_product = self.products['meter']
            configuration.save()
            party, = Party.create([{'name': "بلا عنوان"}])
            violation = self.create_violation(party=party)
            with self.assertRaises(UserError):
                Violation.notify([violation])

    @with_transaction()
    def test_access(self):
        "Inspectors document violations; billing only reads them"
        pool = Pool()
        User = pool.get('res.user')
        Violation = pool.get('water.violation')
        self.setup_utility()
        violation = self.create_violation()

        def can(role, action):
            user, = User.create([{
                        'login': f'water_{role}_{action.__name__}',
                        'name': role,
                        'groups': [('add', [
                                    base.model_data(f'group_water_{role}')])],
                        'companies': [('add', [self.company.id])],
                        'company': self.company.id,
                        }])
            with Transaction().set_user(user.id), \
                    Transaction().set_context(
                        _check_access=True, company=self.company.id):
                try:
                    action()
                except AccessError:
                    return False
                return True

        def create():
            self.create_violation()

        def read():
            Violation.search([])

        def write():
            Violation.write([violation], {'witnesses': "جار"})

        self.assertTrue(can('inspector', create))
        self.assertTrue(can('inspector', write))
        for role in ['billing', 'complaints']:
            self.assertTrue(can(role, read))
            self.assertFalse(can(role, create))
            self.assertFalse(can(role, write))
        self.assertFalse(can('reader', read))
