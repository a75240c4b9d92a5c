# This file is part of the water_utility module.  See README.rst.
"Collection: the ladder on dunnings, notices, tasks and legal referrals"
import datetime as dt
import re
import unittest
from decimal import Decimal
from unittest.mock import patch

import polib
from hypothesis import given, strategies as st

from trytond.model import fields
from trytond.model.exceptions import SelectionValidationError
from trytond.modules.company.tests import set_company
from trytond.pool import Pool
from trytond.transaction import Transaction

from .. import report_html
from ..collection import WATER_ACTIONS, climb, overdue_amount
from ..exceptions import CollectionError
from .database import UtilityTestCase, pinned, utility, with_transaction
# the modules, not their names: a TestCase imported here would run twice
from . import test_billing as billing
from . import test_module as base
from . import test_payment as payment

# the bills of October are issued on the 1st of November; their two
# instalments fall due on the 1st and the 31st of December
ISSUED = dt.date(2026, 11, 1)
FIRST_DUE = dt.date(2026, 12, 1)
LADDER = [
    (0, 'reminder'), (15, 'sms'), (30, 'letter'), (45, 'call'),
    (60, 'visit'), (90, 'settlement'), (180, 'legal')]
# what a collection configuration must not be able to say (charter 11)
CUT = re.compile(
    r'cut|disconnect|restrict|suspen|shut|قطع|فصل|إيقاف|ايقاف|تقييد',
    re.IGNORECASE)
REMINDER = "Please pay the overdue amount"
MODELS = [
    'account.dunning.level', 'account.dunning.procedure', 'account.dunning',
    'water.collection.notice', 'water.collection.task',
    'water.legal.referral', 'water.subscription',
    'water.subscription.category']


def setup_ladder(categories):
    "The utility's ladder, the procedure of the categories"
    pool = Pool()
    Procedure = pool.get('account.dunning.procedure')
    Category = pool.get('water.subscription.category')
    procedure, = Procedure.create([{
                'name': "سلم التحصيل",
                'levels': [('create', [{
                                'sequence': i,
                                'overdue': dt.timedelta(days=days),
                                'water_action': action,
                                } for i, (days, action) in enumerate(
                                LADDER)])],
                }])
    Category.write(categories, {'dunning_procedure': procedure.id})
    return procedure


def run(date):
    "Generate and process the dunnings at the date, as the cron does"
    pool = Pool()
    Dunning = pool.get('account.dunning')
    Date = pool.get('ir.date')
    with patch.object(Date, 'today', return_value=date):
        Dunning.water_run(date)


@pinned()
class CollectionTestCase(UtilityTestCase):
    "Test the collection ladder of the Water Utility module"
    maxDiff = None

    take = payment.PaymentTestCase.take

    def setup_bills(self, count=1):
        """Post October's bill of count subscriptions, payable in two
        instalments; return the subscriptions"""
        pool = Pool()
        Bill = pool.get('water.bill')
        Configuration = pool.get('water.configuration')
        u = utility()
        self.company = company = u.company
        with set_company(company):
            configuration = Configuration(1)
            configuration.bill_payment_term = u.term
            configuration.save()
            products = u.products
            subscriptions = [base.create_subscription(
                    u.area, u.route, u.domestic,
                    party=base.create_subscriber(f"مشترك {i}",
                        phone=f'+97059820{i:04d}'))
                for i in range(count)]
            bills = billing.create_bills(
                subscriptions, products, month=billing.MONTH)
            Bill.post(bills, invoice_date=ISSUED)
        return subscriptions

    def history(self, subscription):
        "What the ladder did for the subscription, in order"
        pool = Pool()
        Notice = pool.get('water.collection.notice')
        Task = pool.get('water.collection.task')
        Referral = pool.get('water.legal.referral')
        domain = [('subscription', '=', subscription.id)]
        return sorted(
            [(n.date, n.channel) for n in Notice.search(domain)]
            + [(t.planned_date, t.kind) for t in Task.search(domain)]
            + [(r.date, 'legal') for r in Referral.search(domain)])

    def print_bill(self, subscription):
        "The HTML of the subscription's bill as printed"
        pool = Pool()
        Bill = pool.get('water.bill')
        Report = pool.get('water.bill', type='report')
        bill, = Bill.search([('subscription', '=', subscription.id)])
        pages = []

        def keep(html):
            pages.append(html)
            return b'%PDF'
        with patch.object(report_html, 'html_to_pdf', keep):
            Report.execute([bill.id], {})
        html, = pages
        return html

    def climb_to_legal(self):
        "A subscriber who never pays, up to the legal referral"
        subscription, = self.setup_bills()
        with set_company(self.company):
            setup_ladder([subscription.category])
            for days in [0, 15, 30, 45, 60, 90, 180]:
                run(FIRST_DUE + dt.timedelta(days=days))
        return subscription

    @with_transaction()
    def test_procedure_from_category(self):
        """The receivable lines of a bill follow the procedure of the
        subscription's category, the others the party's"""
        pool = Pool()
        Line = pool.get('account.move.line')
        subscription, = self.setup_bills()
        with set_company(self.company):
            procedure = setup_ladder([subscription.category])
            lines = Line.search([
                    ('water_subscription', '=', subscription.id),
                    ('account.type.receivable', '=', True)])
            self.assertEqual(len(lines), 2)  # two instalments
            self.assertEqual(
                {l.dunning_procedure for l in lines}, {procedure})
            others = Line.search([('water_subscription', '=', None)],
                limit=1)
            self.assertEqual(
                [l.dunning_procedure for l in others], [None] * len(others))

    @with_transaction()
    def test_ladder(self):
        """An unpaid bill climbs the ladder: a reminder on the bill, an
        SMS, a letter, a call, a visit, a settlement offer and the
        referral; a lower instalment behind it repeats nothing"""
        pool = Pool()
        Dunning = pool.get('account.dunning')
        Notice = pool.get('water.collection.notice')
        Task = pool.get('water.collection.task')
        subscription, = self.setup_bills()
        def day(days):
            return FIRST_DUE + dt.timedelta(days=days)
        with set_company(self.company):
            setup_ladder([subscription.category])

            run(day(0))
            dunning, = Dunning.search([
                    ('water_subscription', '=', subscription.id)])
            self.assertEqual(
                (dunning.water_action, dunning.state), ('reminder', 'waiting'))
            self.assertEqual(self.history(subscription), [])
            self.assertEqual(
                Dunning.water_reminders([subscription.id]),
                {subscription.id})

            run(day(15))
            sms, = Notice.search([])
            # only the first instalment is overdue
            self.assertEqual(
                (sms.channel, sms.state, sms.amount, sms.party),
                ('sms', 'queued', dunning.amount, subscription.party))
            self.assertLess(sms.amount, payment.TOTAL)
            self.assertIn(subscription.number, sms.text)

            run(day(30))  # the second instalment falls due: both overdue
            letter, = Notice.search([('channel', '=', 'letter')])
            self.assertEqual(letter.amount, payment.TOTAL)

            for days in [45, 60, 90, 180]:
                run(day(days))
            self.assertEqual(self.history(subscription), [
                    (day(15), 'sms'),
                    (day(30), 'letter'),
                    (day(45), 'call'),
                    (day(60), 'visit'),
                    (day(90), 'settlement'),
                    (day(180), 'legal'),
                    ])
            tasks = Task.search([])
            self.assertEqual({t.state for t in tasks}, {'open'})
            self.assertEqual(
                {t.party for t in tasks}, {subscription.party})

            Notice.mark_sent([sms])
            self.assertEqual(
                (sms.state, sms.sent_date), ('sent', dt.date.today()))

            call, = Task.search([('kind', '=', 'call')])
            with self.assertRaises(CollectionError):
                Task.done([call])
            call.outcome = 'promised'
            call.notes = "وعد بالدفع في نهاية الشهر"
            call.save()
            Task.done([call])
            self.assertEqual(call.state, 'done')
            self.assertEqual(call.done_date, dt.date.today())

    @with_transaction()
    def test_legal_referral_needs_manager(self):
        """Only a collection manager approves a referral, even by a direct
        call; the evidence file shows the statement, notices and calls"""
        pool = Pool()
        User = pool.get('res.user')
        Referral = pool.get('water.legal.referral')
        Task = pool.get('water.collection.task')
        Notice = pool.get('water.collection.notice')
        Report = pool.get('water.legal.referral.evidence', type='report')
        subscription = self.climb_to_legal()
        with set_company(self.company):
            referral, = Referral.search([])
            self.assertEqual(
                (referral.state, referral.amount),
                ('draft', payment.TOTAL))
            clerk, = User.create([{
                        'login': 'collection_clerk', 'name': "Clerk",
                        'groups': [('add', [
                                    base.model_data('group_water_admin')])],
                        'companies': [('add', [self.company.id])],
                        'company': self.company.id,
                        }])
            with Transaction().set_user(clerk.id):
                with self.assertRaises(CollectionError):
                    Referral.approve([referral])
            self.assertEqual(Referral(referral.id).state, 'draft')

            Referral.approve([referral])  # admin is a collection manager
            referral = Referral(referral.id)
            self.assertEqual(referral.state, 'approved')
            self.assertEqual(referral.approved_by.id, Transaction().user)
            self.assertEqual(referral.approval_date, dt.date.today())

            Notice.mark_sent(Notice.search([]))
            visit, = Task.search([('kind', '=', 'visit')])
            visit.outcome = 'not_home'
            visit.save()
            Task.done([visit])

            pages = []
            convert = report_html.html_to_pdf

            def keep(html):
                pages.append(html)
                return convert(html)
            with patch.object(report_html, 'html_to_pdf', keep):
                ext, content, _, _ = Report.execute([referral.id], {})
            self.assertEqual(ext, 'pdf')
            self.assertTrue(content.startswith(b'%PDF'))
            html, = pages
            for text in [subscription.number, "Account Statement",
                    "Balance Due", "SMS", "Letter", "Phone Call",
                    "Field Visit", "Not at Home", "Settlement Offer"]:
                self.assertIn(text, html)

    @with_transaction()
    def test_letter_printed(self):
        "The letter of a notice prints, polite and without any threat"
        pool = Pool()
        Notice = pool.get('water.collection.notice')
        Report = pool.get('water.collection.letter', type='report')
        subscription, = self.setup_bills()
        with set_company(self.company):
            setup_ladder([subscription.category])
            for days in [0, 15, 30]:
                run(FIRST_DUE + dt.timedelta(days=days))
            letter, = Notice.search([('channel', '=', 'letter')])
            pages = []
            convert = report_html.html_to_pdf

            def keep(html):
                pages.append(html)
                return convert(html)
            with patch.object(report_html, 'html_to_pdf', keep):
                ext, content, _, _ = Report.execute([letter.id], {})
            self.assertTrue(content.startswith(b'%PDF'))
            html, = pages
            self.assertIn(subscription.number, html)
            self.assertIn("settlement", html)
            self.assertNotRegex(html, CUT)

    @with_transaction()
    def test_payment_ends_ladder(self):
        """Paying the bill ends the ladder: the dunnings are no longer
        active, the bill no longer reminds and nothing more is sent"""
        pool = Pool()
        Dunning = pool.get('account.dunning')
        Session = pool.get('water.cash.session')
        subscription, = self.setup_bills()
        with set_company(self.company):
            setup_ladder([subscription.category])
            for days in [0, 15]:
                run(FIRST_DUE + dt.timedelta(days=days))
            before = self.history(subscription)
            self.assertEqual(len(before), 1)
            self.assertIn(REMINDER, self.print_bill(subscription))

            desk, _ = payment.setup_desk(self.company)
            session = Session(desk=desk, date=dt.date(2026, 12, 20))
            session.save()
            self.take(session, subscription, payment.TOTAL)

            self.assertEqual(Dunning.search([
                        ('water_subscription', '=', subscription.id)]), [])
            self.assertEqual(Dunning.water_reminders([subscription.id]),
                set())
            for days in [30, 45, 60, 90, 180]:
                run(FIRST_DUE + dt.timedelta(days=days))
            self.assertEqual(self.history(subscription), before)
            self.assertNotIn(REMINDER, self.print_bill(subscription))

    @with_transaction()
    def test_collection_cannot_cut_water(self):
        """No action, selection or button of the collection configuration
        can cut, disconnect, restrict or suspend the supply"""
        pool = Pool()
        Level = pool.get('account.dunning.level')
        Button = pool.get('ir.model.button')
        self.assertEqual(
            [k for k, _ in Level.water_action.selection if k],
            ['reminder', 'sms', 'letter', 'call', 'visit', 'settlement',
                'legal'])
        for name in MODELS:
            Model = pool.get(name)
            for fname, field in Model._fields.items():
                field = getattr(field, '_field', field)
                if (isinstance(field, fields.Selection)
                        and isinstance(field.selection, list)):
                    for key, label in field.selection:
                        self.assertNotRegex(
                            f'{key} {label}', CUT, f'{name}.{fname}')
            for button in Model._buttons:
                self.assertNotRegex(button, CUT, name)
        for button in Button.search([('model', 'in', MODELS)]):
            self.assertNotRegex(
                f'{button.name} {button.string} {button.confirm or ""}',
                CUT)

        subscription, = self.setup_bills()
        with set_company(self.company):
            procedure = setup_ladder([subscription.category])
            level = procedure.levels[-1]
            for action in ['cut', 'disconnect', 'restrict', 'suspend']:
                with self.assertRaises(SelectionValidationError):
                    Level.write([level], {'water_action': action})

    def test_arabic_texts_threaten_nothing(self):
        "The Arabic of the ladder, letters and SMS never threatens a cut"
        catalog = polib.pofile(str(base.MODULE / 'locale' / 'ar.po'))
        # the help of the action states the rule itself: not an action
        entries = [e for e in catalog
            if ('collection' in e.msgctxt or 'water_action' in e.msgctxt
                or 'legal.referral' in e.msgctxt)
            and not e.msgctxt.startswith('help:')]
        self.assertGreater(len(entries), 20)
        for entry in entries:
            self.assertNotRegex(entry.msgstr, CUT, entry.msgctxt)


class LadderTestCase(unittest.TestCase):
    "The pure rules of the ladder"

    @given(st.lists(st.tuples(
                st.integers(0, 5), st.integers(0, 6), st.integers())),
        st.dictionaries(st.integers(0, 5), st.integers(-1, 6)))
    def test_climb(self, processed, reached):
        "One action per subscription, the highest, and only above reached"
        result = climb(processed, reached)
        for key, item in result.items():
            ranks = [r for k, r, _ in processed if k == key]
            rank = max(ranks)
            self.assertIn((key, rank, item), processed)
            self.assertGreater(rank, reached.get(key, -1))
        for key, rank, _ in processed:
            if key not in result:
                self.assertLessEqual(
                    max(r for k, r, _ in processed if k == key),
                    reached.get(key, -1))

    @given(st.decimals(-1000, 1000, places=2),
        st.decimals(0, 1000, places=2))
    def test_overdue_amount(self, balance, not_due):
        "Never negative, never above the balance"
        amount = overdue_amount(balance, not_due)
        self.assertGreaterEqual(amount, 0)
        self.assertLessEqual(amount, max(balance, Decimal(0)))
        if balance >= not_due:
            self.assertEqual(amount, balance - not_due)

    def test_actions_are_the_ladder(self):
        self.assertEqual([k for k, _ in WATER_ACTIONS], [
                'reminder', 'sms', 'letter', 'call', 'visit', 'settlement',
                'legal'])
