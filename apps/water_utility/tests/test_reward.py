# This file is part of the water_utility module.  See README.rst.
"Rewards for on-time payers: the rules, the grant and the next bill"
import datetime as dt
import unittest
from decimal import Decimal
from unittest.mock import patch

from hypothesis import given
from hypothesis import strategies as st

from trytond.modules.company.tests import set_company
from trytond.pool import Pool
from trytond.transaction import Transaction

from ..punctuality import (
    FIXED, PERCENTAGE, add_months, eligible, paid_on_time, reward_amount,
    window, window_months)
from .database import UtilityTestCase, pinned, utility, with_transaction
from . import test_billing as billing
from . import test_module as base

JULY, AUGUST, SEPTEMBER = (dt.date(2026, m, 1) for m in [7, 8, 9])
CENT = Decimal('0.01')

months_ = st.builds(lambda y, m: dt.date(y, m, 1),
    st.integers(2000, 2100), st.integers(1, 12))
days = st.integers(-60, 60)
charges = st.decimals(min_value=0, max_value=10000, places=2)


@st.composite
def on_time_bills(draw, months=None):
    "A window and a bill per month paid on or before its due date"
    if months is None:
        months = window_months(draw(months_), draw(st.integers(1, 24)))
    bills = []
    for month in months:
        due = add_months(month, 1) + dt.timedelta(days=draw(
                st.integers(0, 40)))
        paid = due - dt.timedelta(days=draw(st.integers(0, 60)))
        bills.append((month, due, paid))
    return months, bills


class PunctualityTestCase(unittest.TestCase):
    "The rules of the reward, without database"

    @given(months_, st.integers(1, 36))
    def test_window(self, month, count):
        "The window ends with the month and holds count months"
        start, end = window(month, count)
        months = window_months(month, count)
        self.assertEqual(len(months), count)
        self.assertEqual(months[0], start)
        self.assertEqual(months[-1], month)
        self.assertEqual(end.month, month.month)
        self.assertEqual((end + dt.timedelta(days=1)).day, 1)
        self.assertEqual(len(set(months)), count)

    @given(on_time_bills())
    def test_all_on_time_eligible(self, value):
        "Every month billed and every bill paid by its due date: eligible"
        months, bills = value
        self.assertTrue(eligible(bills, months))
        self.assertTrue(eligible(list(reversed(bills)), months))

    @given(on_time_bills(), st.data())
    def test_one_late_bill_not_eligible(self, value, data):
        "A single bill paid a day after its due date, or not paid: not"
        months, bills = value
        i = data.draw(st.integers(0, len(bills) - 1))
        month, due, _ = bills[i]
        late = data.draw(st.one_of(st.none(), st.integers(1, 90).map(
                    lambda d: due + dt.timedelta(days=d))))
        bills[i] = (month, due, late)
        self.assertFalse(eligible(bills, months))

    @given(on_time_bills(), st.data())
    def test_missing_month_not_eligible(self, value, data):
        "A month of the window without a bill (too young): not eligible"
        months, bills = value
        i = data.draw(st.integers(0, len(bills) - 1))
        del bills[i]
        self.assertFalse(eligible(bills, months))

    @given(st.dates(), days)
    def test_paid_on_time(self, due, delta):
        paid = due + dt.timedelta(days=delta)
        self.assertEqual(paid_on_time(due, paid), delta <= 0)
        self.assertFalse(paid_on_time(due, None))
        self.assertFalse(paid_on_time(None, paid))

    @given(st.sampled_from([PERCENTAGE, FIXED]),
        st.decimals(min_value=0, max_value=1000, places=4), charges)
    def test_amount_bounded(self, kind, value, charge):
        "A reward is never negative nor above the bill's charges"
        amount = reward_amount(kind, value, charge, CENT)
        self.assertGreaterEqual(amount, 0)
        self.assertLessEqual(amount, charge)
        self.assertEqual(amount, amount.quantize(CENT))

    @given(st.decimals(min_value=0, max_value=1, places=4), charges)
    def test_percentage(self, value, charge):
        amount = reward_amount(PERCENTAGE, value, charge, CENT)
        self.assertLessEqual(abs(amount - charge * value), CENT / 2)

    @given(st.decimals(min_value=0, max_value=1000, places=2), charges)
    def test_fixed_capped(self, value, charge):
        self.assertEqual(
            reward_amount(FIXED, value, charge, CENT), min(value, charge))


def pay(invoice, date):
    """Pay what is left of invoice on date through the cash journal and
    reconcile it: the reconciliation takes the date of the payment"""
    pool = Pool()
    Account = pool.get('account.account')
    Journal = pool.get('account.journal')
    Move = pool.get('account.move')
    Line = pool.get('account.move.line')
    Period = pool.get('account.period')
    company = invoice.company
    cash, = Account.search([
            ('company', '=', company.id), ('code', '=', '1.1.1')])
    journal, = Journal.search([('type', '=', 'cash')], limit=1)
    amount = invoice.amount_to_pay
    move = Move(company=company, journal=journal, date=date,
        period=Period.find(company, date=date), lines=[
            Line(account=cash, debit=amount, credit=0),
            Line(account=invoice.account, party=invoice.party, debit=0,
                credit=amount,
                water_subscription=invoice.water_subscription),
            ])
    move.save()
    Move.post([move])
    payment, = [l for l in move.lines if l.account == invoice.account]
    Line.reconcile(list(invoice.lines_to_pay) + [payment])


@pinned()
class RewardTestCase(UtilityTestCase):
    "Rewards granted to on-time payers and shown on the next bill"
    maxDiff = None
    arabic = True

    @classmethod
    def setUpDatabase(cls):
        """Subscriptions billed July to September: three paid every bill
        on time, one left September unpaid, one paid July late, one was
        connected in August; rewards of 10 % over 3 months"""
        pool = Pool()
        Bill = pool.get('water.bill')
        Configuration = pool.get('water.configuration')
        Template = pool.get('product.template')
        Category = pool.get('product.category')
        Uom = pool.get('product.uom')
        u = utility()
        area, route, domestic = u.area, u.route, u.domestic
        revenue, term, products = u.revenue, u.term, u.products
        tariff = billing.create_tariff(products)
        unit, = Uom.search([('symbol', '=', 'u')])
        category, = Category.create([{
                    'name': "rewards", 'accounting': True,
                    'account_revenue': revenue.id,
                    }])
        template, = Template.create([{
                    'name': "On-time reward", 'type': 'service',
                    'default_uom': unit.id,
                    'account_category': category.id,
                    'products': [('create', [{}])],
                    }])
        product, = template.products
        configuration = Configuration(1)
        configuration.tariff = tariff
        configuration.bill_payment_term = term
        configuration.billing_start = billing.MONTH
        configuration.reward_enabled = True
        configuration.reward_months = 3
        configuration.reward_kind = PERCENTAGE
        configuration.reward_percentage = Decimal('0.1')
        configuration.reward_product = product
        configuration.save()
        on_time = billing.connect(area, route, domestic, 3)
        unpaid, = billing.connect(area, route, domestic, 1, start=5)
        late, = billing.connect(area, route, domestic, 1, start=10)
        young, = billing.connect(area, route, domestic, 1, start=20,
            date=dt.date(2026, 8, 1))
        for month in [JULY, AUGUST, SEPTEMBER]:
            subscriptions = on_time + [unpaid, late] + (
                [young] if month >= AUGUST else [])
            bills = billing.create_bills(
                subscriptions, products, month=month)
            Bill.post(bills, invoice_date=add_months(month, 1))
            for bill in Bill.browse(bills):
                if bill.subscription == unpaid and month == SEPTEMBER:
                    continue
                # due a month after the bill; July of 'late' paid
                # five days after
                paid = bill.due_date - dt.timedelta(days=3)
                if bill.subscription == late and month == JULY:
                    paid = bill.due_date + dt.timedelta(days=5)
                pay(bill.invoice, paid)
        cls.product_id = product.id
        cls.subscription_ids = [
            s.id for s in on_time + [late, young, unpaid]]

    def setup_rewards(self):
        "The subscriptions of setUpDatabase: on time, late, young, unpaid"
        pool = Pool()
        Subscription = pool.get('water.subscription')
        Product = pool.get('product.product')
        self.company = utility().company
        # the product's accounts are the company's
        with Transaction().set_context(company=self.company.id):
            self.product = Product(self.product_id)
        *on_time, late, young, unpaid = Subscription.browse(
            self.subscription_ids)
        return on_time, late, young, unpaid

    @with_transaction()
    def test_grant_once_to_on_time_payers(self):
        """Only the subscriptions that paid every bill of the window on
        time earn a reward; the cron run twice grants it once"""
        pool = Pool()
        Reward = pool.get('water.reward')
        Date = pool.get('ir.date')
        Configuration = pool.get('water.configuration')
        on_time, late, young, unpaid = self.setup_rewards()
        with set_company(self.company):
            # September's bills fall due on 31 October
            self.assertEqual(Reward.last_due_month(
                    self.company.id, dt.date(2026, 10, 31)), AUGUST)
            self.assertEqual(Reward.last_due_month(
                    self.company.id, dt.date(2026, 11, 5)), SEPTEMBER)
            # a programme for commercial subscriptions only rewards none
            configuration = Configuration(1)
            configuration.reward_categories = [
                base.model_data('category_commercial')]
            configuration.save()
            self.assertEqual(Reward.grant(SEPTEMBER, self.company.id), [])
            configuration.reward_categories = []
            configuration.save()
            with patch.object(Date, 'today',
                    return_value=dt.date(2026, 11, 5)):
                Reward.grant_cron()
                Reward.grant_cron()
            rewards = Reward.search([])
            self.assertEqual(
                sorted(r.subscription.id for r in rewards),
                sorted(s.id for s in on_time))
            for reward in rewards:
                self.assertEqual(reward.state, 'pending')
                self.assertEqual(reward.bills, 3)
                self.assertEqual(
                    (reward.window_start, reward.window_end, reward.month),
                    (JULY, dt.date(2026, 9, 30), SEPTEMBER))
                self.assertEqual(reward.value, Decimal('0.1'))
                self.assertEqual(reward.party, reward.subscription.party)
            # the next window overlaps: nothing more in August nor October
            self.assertEqual(Reward.grant(AUGUST, self.company.id), [])

    @with_transaction()
    def test_reward_on_next_bill(self):
        """The next bill carries the reward as a negative line posted on
        its invoice by either path; the reward is billed with its amount;
        a held bill leaves it pending; a credited bill gives it back to
        the bill that replaces it"""
        pool = Pool()
        Reward = pool.get('water.reward')
        Bill = pool.get('water.bill')
        on_time, late, young, unpaid = self.setup_rewards()
        with set_company(self.company):
            Reward.grant(SEPTEMBER, self.company.id)
            bulk, standard, held = on_time
            billing.read([bulk, standard, late], billing.MONTH,
                [25, 25, 25])
            bills = Bill.calculate(billing.MONTH, self.company,
                [bulk.id, standard.id, held.id, late.id])
            by_subscription = {b.subscription: b for b in bills}
            self.assertEqual(by_subscription[held].state, 'held')
            self.assertEqual(by_subscription[held].lines, ())
            for subscription in [bulk, standard]:
                bill = by_subscription[subscription]
                line = bill.lines[-1]
                self.assertEqual((line.kind, line.product, line.amount),
                    ('reward', self.product, Decimal('-18.80')))
                self.assertEqual(line.description,
                    "On-Time Payment Reward (10% of 188.00)")
                # 188.00 of charges less 10 %
                self.assertEqual(bill.amount, Decimal('169.20'))
            self.assertNotIn('reward',
                [l.kind for l in by_subscription[late].lines])
            self.assertEqual(by_subscription[late].amount, Decimal('188.00'))

            Bill.post([by_subscription[bulk]], invoice_date=billing.ISSUED)
            Bill.post([by_subscription[standard]],
                invoice_date=billing.ISSUED, bulk_posting=False)
            for subscription in [bulk, standard]:
                bill = Bill(by_subscription[subscription].id)
                self.assertEqual(bill.total_amount, Decimal('169.20'))
                self.assertEqual(bill.total_due, Decimal('169.20'))
                self.assertEqual(bill.invoice.total_amount,
                    Decimal('169.20'))
                line = bill.invoice.lines[-1]
                self.assertEqual(
                    (line.product, line.quantity, line.amount,
                        line.description),
                    (self.product, 1, Decimal('-18.80'),
                        "On-Time Payment Reward (10% of 188.00)"))
                self.assertEqual(
                    line.account, self.product.account_revenue_used)
                reward, = Reward.search(
                    [('subscription', '=', subscription.id)])
                self.assertEqual((reward.state, reward.bill, reward.amount),
                    ('billed', bill, Decimal('18.80')))
            reward, = Reward.search([('subscription', '=', held.id)])
            self.assertEqual((reward.state, reward.bill), ('pending', None))

            # the bill is corrected: the reward goes to its replacement
            bill = Bill(by_subscription[bulk].id)
            corrected = dt.date(2026, 11, 10)
            Bill.credit([bill], "wrong category", corrected)
            reward, = Reward.search([('subscription', '=', bulk.id)])
            self.assertEqual((reward.state, reward.bill, reward.amount),
                ('pending', None, None))
            new, = Bill.rebill([Bill(bill.id)], invoice_date=corrected)
            self.assertEqual(new.amount, Decimal('169.20'))
            reward = Reward(reward.id)
            self.assertEqual((reward.state, reward.bill, reward.amount),
                ('billed', new, Decimal('18.80')))

    @with_transaction()
    def test_fixed_reward_capped(self):
        """A fixed credit above the bill's charges takes only the charges;
        the line reads in Arabic"""
        pool = Pool()
        Line = pool.get('water.bill.line')
        Reward = pool.get('water.reward')
        Bill = pool.get('water.bill')
        Configuration = pool.get('water.configuration')
        on_time, _, _, _ = self.setup_rewards()
        with set_company(self.company):
            configuration = Configuration(1)
            configuration.reward_kind = FIXED
            configuration.reward_amount = Decimal(500)
            configuration.save()
            Reward.grant(SEPTEMBER, self.company.id)
            subscription = on_time[0]
            billing.read([subscription], billing.MONTH, [25])
            bill, = Bill.calculate(
                billing.MONTH, self.company, [subscription.id])
            self.assertEqual(bill.lines[-1].amount, Decimal('-188.00'))
            self.assertEqual(bill.amount, Decimal(0))
            # the class's database holds the Arabic translation
            with Transaction().set_context(language='ar'):
                line = Line(bill.lines[-1].id)
                self.assertEqual(line.description, "مكافأة الالتزام بالسداد")
