# This file is part of the water_utility module.  See README.rst.
"Payments: receipts, their allocation, the cashier's day and the statement"
import datetime as dt
import threading
from uuid import uuid4
from decimal import Decimal

from trytond import backend
from trytond.exceptions import UserError
from trytond.modules.company.tests import set_company
from trytond.pool import Pool
from trytond.tests.test_tryton import DB_NAME
from trytond.transaction import Transaction

from ..bill_report import add_months
from ..payment import subscription_balances
from .database import (
    UtilityTestCase, committed, pinned, utility, with_transaction)
from . import test_billing as billing
from . import test_module as base

SEPTEMBER = dt.date(2026, 9, 1)
TOTAL = Decimal('155.99')  # the amount of each test bill


def setup_desk(company):
    """A cash desk of the utility's area with its clearing, difference and
    statement accounts; return the desk and the accounts"""
    pool = Pool()
    Account = pool.get('account.account')
    Journal = pool.get('account.journal')
    StatementJournal = pool.get('account.statement.journal')
    Desk = pool.get('water.cash.desk')
    Area = pool.get('water.area')
    cash, = Account.search([
            ('company', '=', company.id), ('code', '=', '1.1.1')])
    clearing, difference, cheques = Account.copy([cash] * 3)
    clearing.name, difference.name, cheques.name = (
        "Desk Clearing", "Cash Differences", "Cheques to Deposit")
    Account.save([clearing, difference, cheques])
    journal, = Journal.search([('type', '=', 'cash')], limit=1)
    statement, = Journal.search([('type', '=', 'statement')], limit=1)
    cash_journal, cheque_journal = StatementJournal.create([{
                'name': "Gaza desk cash", 'journal': statement.id,
                'account': cash.id, 'validation': 'amount',
                'currency': company.currency.id, 'company': company.id,
                }, {
                'name': "Gaza desk cheques", 'journal': statement.id,
                'account': cheques.id, 'validation': 'amount',
                'currency': company.currency.id, 'company': company.id,
                }])
    area, = Area.search([('company', '=', company.id)], limit=1)
    desk, = Desk.create([{
                'name': "Gaza desk 1", 'company': company.id,
                'area': area.id, 'journal': journal.id,
                'clearing_account': clearing.id,
                'difference_account': difference.id,
                'cash_journal': cash_journal.id,
                'cheque_journal': cheque_journal.id,
                }])
    return desk, {'cash': cash, 'clearing': clearing,
        'difference': difference, 'cheques': cheques}


def balance(account):
    "The posted balance of an account (debit - credit)"
    pool = Pool()
    Line = pool.get('account.move.line')
    return sum((l.debit - l.credit for l in Line.search([
                    ('account', '=', account.id),
                    ('move.state', '=', 'posted')])), Decimal(0))


@pinned(dt.datetime(2026, 11, 10, 8, 0))
class PaymentTestCase(UtilityTestCase):
    "Test the payments of the Water Utility module"
    maxDiff = None

    def setup_bills(self, months=(billing.MONTH,), count=1):
        "Post a bill per month for count subscriptions; return them"
        pool = Pool()
        Bill = pool.get('water.bill')
        u = utility()
        self.company = company = u.company
        with set_company(company):
            self.products = products = u.products
            subscriptions = [base.create_subscription(
                    u.area, u.route, u.domestic,
                    party=base.create_subscriber(f"مشترك {i}",
                        phone=f'+97059810{i:04d}'))
                for i in range(count)]
            for month in months:
                bills = billing.create_bills(
                    subscriptions, products, month=month)
                Bill.post(bills, invoice_date=add_months(month, 1))
        return subscriptions

    def take(self, session, subscription, amount, method='cash', **values):
        pool = Pool()
        Payment = pool.get('water.payment')
        payment = Payment(session=session, company=self.company,
            date=session.date, subscription=subscription,
            amount=Decimal(amount), method=method, **values)
        payment.save()
        Payment.post([payment])
        return payment

    @with_transaction()
    def test_cashier_day(self):
        """Partial payments settle a bill in two receipts, the second
        leaves a credit; the day closes with a shortage posted"""
        pool = Pool()
        Session = pool.get('water.cash.session')
        Count = pool.get('water.cash.count')
        Invoice = pool.get('account.invoice')
        subscription, = self.setup_bills()
        with set_company(self.company):
            desk, accounts = setup_desk(self.company)
            session = Session(desk=desk, date=dt.date(2026, 11, 10))
            session.save()
            invoice = subscription_invoices(subscription)[0]

            first = self.take(session, subscription, '100')
            self.assertTrue(first.number)
            self.assertEqual([(l.invoice, l.amount) for l in first.lines],
                [(invoice, Decimal(100))])
            self.assertEqual(first.balance, TOTAL - 100)
            self.assertEqual(Invoice(invoice.id).amount_to_pay, TOTAL - 100)

            second = self.take(session, subscription, '80', method='cheque',
                reference='CHQ 4711')
            self.assertEqual([(l.invoice, l.amount) for l in second.lines],
                [(invoice, TOTAL - 100), (None, Decimal('24.01'))])
            self.assertEqual(second.credit, Decimal('24.01'))
            self.assertEqual(second.balance, Decimal('-24.01'))
            self.assertTrue(Invoice(invoice.id).reconciled)
            self.assertNotEqual(first.number, second.number)

            Session.close([session])
            session = Session(session.id)
            self.assertEqual(
                {c.method: c.expected for c in session.counts},
                {'cash': Decimal(100), 'cheque': Decimal(80)})
            # 5 missing from the drawer
            for count in session.counts:
                count.counted = {
                    'cash': Decimal(95), 'cheque': Decimal(80)}[count.method]
            Count.save(session.counts)
            Session.post([session])
            session = Session(session.id)
            self.assertEqual(session.state, 'posted')
            self.assertEqual(session.difference, Decimal(-5))
            self.assertEqual({s.state for s in session.statements},
                {'posted'})
            self.assertEqual(balance(accounts['clearing']), 0)
            self.assertEqual(balance(accounts['cash']), Decimal(95))
            self.assertEqual(balance(accounts['cheques']), Decimal(80))
            self.assertEqual(balance(accounts['difference']), Decimal(5))

            # the closing sheet the cashier signs lists the receipts
            Report = pool.get('water.cash.session.report', type='report')
            with Transaction().set_context(language='ar'):
                ext, content, _, _ = Report.execute([session.id], {})
            self.assertEqual(ext, 'pdf')
            text = pdf_text(content)
            for payment in [first, second]:
                self.assertIn(payment.number, text)
            self.assertIn('CHQ 4711', text)

    @with_transaction()
    def test_oldest_bill_first(self):
        "A payment settles September's bill before October's"
        pool = Pool()
        Session = pool.get('water.cash.session')
        subscription, = self.setup_bills(months=(SEPTEMBER, billing.MONTH))
        with set_company(self.company):
            desk, _ = setup_desk(self.company)
            session = Session(desk=desk, date=dt.date(2026, 11, 10))
            session.save()
            september, october = subscription_invoices(subscription)
            payment = self.take(session, subscription, '200')
            self.assertEqual([(l.invoice, l.amount) for l in payment.lines],
                [(september, TOTAL), (october, 200 - TOTAL)])
            self.assertTrue(september.__class__(september.id).reconciled)
            self.assertEqual(payment.balance, 2 * TOTAL - 200)

    @with_transaction()
    def test_credit_settles_next_bills(self):
        """What a subscriber paid ahead settles the next bills in the
        ledger: a small credit becomes a payment of the next bill, a large
        one pays it and the rest stays a credit"""
        pool = Pool()
        Session = pool.get('water.cash.session')
        Bill = pool.get('water.bill')
        Invoice = pool.get('account.invoice')
        small, large = self.setup_bills(months=(SEPTEMBER,), count=2)
        with set_company(self.company):
            desk, _ = setup_desk(self.company)
            session = Session(desk=desk, date=dt.date(2026, 10, 10))
            session.save()
            self.take(session, small, TOTAL + 24)
            self.take(session, large, 2 * TOTAL + 10)

            bills = billing.create_bills(
                [small, large], self.products, month=billing.MONTH)
            Bill.post(bills, invoice_date=add_months(billing.MONTH, 1))

            _, small_october = subscription_invoices(small)
            self.assertEqual(Invoice(small_october.id).amount_to_pay,
                TOTAL - 24)
            _, large_october = subscription_invoices(large)
            self.assertTrue(Invoice(large_october.id).reconciled)
            balances = subscription_balances([small.id, large.id])
            self.assertEqual(balances[small.id], TOTAL - 24)
            # the rest of the credit goes on to November
            self.assertEqual(balances[large.id], Decimal(-10))

    @with_transaction()
    def test_cancel_receipt(self):
        """A receipt taken for the wrong subscription is cancelled the same
        day: the bill is open again, the day does not count it, the
        number stays used; after the count it can no longer be"""
        pool = Pool()
        Session = pool.get('water.cash.session')
        Payment = pool.get('water.payment')
        Invoice = pool.get('account.invoice')
        subscription, other = self.setup_bills(count=2)
        with set_company(self.company):
            desk, accounts = setup_desk(self.company)
            session = Session(desk=desk, date=dt.date(2026, 11, 10))
            session.save()
            good = self.take(session, other, '50')
            wrong = self.take(session, subscription, TOTAL + 10)
            invoice, = subscription_invoices(subscription)
            self.assertTrue(Invoice(invoice.id).reconciled)

            with self.assertRaises(UserError):
                Payment.cancel([wrong])  # no reason given
            wrong.cancel_reason = "اشتراك خاطئ"
            wrong.save()
            Payment.cancel([wrong])
            wrong = Payment(wrong.id)
            self.assertEqual(wrong.state, 'cancelled')
            self.assertTrue(wrong.number)
            invoice = Invoice(invoice.id)
            self.assertFalse(invoice.reconciled)
            self.assertEqual(invoice.amount_to_pay, TOTAL)
            self.assertEqual(
                subscription_balances([subscription.id])[subscription.id],
                TOTAL)
            self.assertEqual(balance(accounts['clearing']), Decimal(50))

            Session.close([session])
            session = Session(session.id)
            expected = {c.method: c.expected for c in session.counts}
            self.assertEqual(expected['cash'], Decimal(50))
            good.cancel_reason = "خطأ"
            good.save()
            with self.assertRaises(UserError):
                Payment.cancel([good])

    @with_transaction()
    def test_scanned_bill_first(self):
        "The bill the subscriber brings is settled first"
        pool = Pool()
        Session = pool.get('water.cash.session')
        Bill = pool.get('water.bill')
        subscription, = self.setup_bills(months=(SEPTEMBER, billing.MONTH))
        with set_company(self.company):
            desk, _ = setup_desk(self.company)
            session = Session(desk=desk, date=dt.date(2026, 11, 10))
            session.save()
            _, october = subscription_invoices(subscription)
            bill, = Bill.search([('invoice', '=', october.id)])
            payment = self.take(session, subscription, '50', bill=bill)
            self.assertEqual([(l.invoice, l.amount) for l in payment.lines],
                [(october, Decimal(50))])

    @with_transaction()
    def test_one_open_day_per_cashier(self):
        pool = Pool()
        Session = pool.get('water.cash.session')
        self.setup_bills()
        with set_company(self.company):
            desk, _ = setup_desk(self.company)
            Session(desk=desk).save()
            with self.assertRaises(UserError):
                Session(desk=desk).save()

    @with_transaction()
    def test_no_payment_after_close(self):
        "A counted day takes no more receipts"
        pool = Pool()
        Session = pool.get('water.cash.session')
        subscription, = self.setup_bills()
        with set_company(self.company):
            desk, _ = setup_desk(self.company)
            session = Session(desk=desk, date=dt.date(2026, 11, 10))
            session.save()
            Session.close([session])
            with self.assertRaises(UserError):
                self.take(Session(session.id), subscription, '10')

    @with_transaction()
    def test_account_statement(self):
        """The statement lists bill and payments with the running balance
        the ledger gives"""
        pool = Pool()
        Session = pool.get('water.cash.session')
        Line = pool.get('water.statement.line')
        Report = pool.get('water.statement', type='report')
        subscription, other = self.setup_bills(
            months=(SEPTEMBER, billing.MONTH), count=2)
        with set_company(self.company):
            desk, _ = setup_desk(self.company)
            session = Session(desk=desk, date=dt.date(2026, 11, 10))
            session.save()
            self.take(session, subscription, '100')
            self.take(session, other, '30')
            with Transaction().set_context(
                    water_subscription=subscription.id):
                lines = Line.search([('subscription', '=', subscription.id)])
            self.assertEqual([(l.kind, l.debit - l.credit, l.balance)
                    for l in lines], [
                    ('bill', TOTAL, TOTAL),
                    ('bill', TOTAL, 2 * TOTAL),
                    ('payment', Decimal(-100), 2 * TOTAL - 100),
                    ])
            # without the context: the same lines among the others'
            lines = Line.search([('subscription', '=', other.id)])
            self.assertEqual(lines[-1].balance, 2 * TOTAL - 30)
            with Transaction().set_context(language='ar'):
                ext, content, _, name = Report.execute(
                    [subscription.id], {})
            self.assertEqual(ext, 'pdf')
            self.assertTrue(content.startswith(b'%PDF'))

    @with_transaction()
    def test_receipt_printed(self):
        pool = Pool()
        Session = pool.get('water.cash.session')
        Report = pool.get('water.payment.receipt', type='report')
        subscription, = self.setup_bills()
        with set_company(self.company):
            desk, _ = setup_desk(self.company)
            session = Session(desk=desk, date=dt.date(2026, 11, 10))
            session.save()
            payment = self.take(session, subscription, '200')
            ext, content, _, _ = Report.execute([payment.id], {})
            self.assertEqual(ext, 'pdf')
            self.assertTrue(content.startswith(b'%PDF'))


@pinned(dt.datetime(2026, 11, 10, 8, 0))
class ConcurrentPaymentTestCase(UtilityTestCase):
    """Payments committed side by side, in a database of their own: what
    they commit stays out of the other tests"""
    setup_bills = PaymentTestCase.setup_bills

    def test_concurrent_payments(self):
        """Two cashiers taking the whole balance of a subscription at the
        same moment: the bill is settled once, the other payment is a
        credit"""
        if backend.name != 'postgresql':
            self.skipTest("SQLite runs one writer at a time")
        pool = Pool(DB_NAME)

        def setup():
            subscription, = self.setup_bills()
            with set_company(self.company):
                Session = pool.get('water.cash.session')
                User = pool.get('res.user')
                desk, _ = setup_desk(self.company)
                # committed: logins that another run does not meet
                cashiers = User.create([{'login': f'cashier-{uuid4().hex}',
                            'name': f'Cashier {i}'} for i in range(2)])
                sessions = Session.create([{'desk': desk.id,
                            'cashier': c.id, 'date': dt.date(2026, 11, 10)}
                        for c in cashiers])
            return ([s.id for s in sessions], subscription.id,
                self.company.id)
        ids = committed(setup)
        session_ids, subscription_id, company_id = ids
        barrier = threading.Barrier(2)
        outcomes = []

        def pay(session_id):
            Payment = pool.get('water.payment')

            def post():
                payment, = Payment.create([{
                            'session': session_id,
                            'company': company_id,
                            'date': dt.date(2026, 11, 10),
                            'subscription': subscription_id,
                            'amount': TOTAL,
                            'method': 'cash',
                            }])
                Payment.post([payment])
            barrier.wait(timeout=30)
            try:
                committed(post, context={'company': company_id})
                outcomes.append('paid')
            except Exception as exception:
                outcomes.append(repr(exception))

        threads = [threading.Thread(target=pay, args=(i,))
            for i in session_ids]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
        self.assertEqual(outcomes, ['paid', 'paid'])
        with Transaction().start(DB_NAME, 1):
            Payment = pool.get('water.payment')
            Subscription = pool.get('water.subscription')
            payments = Payment.search([
                    ('subscription', '=', subscription_id)])
            invoice, = subscription_invoices(
                Subscription(subscription_id))
            self.assertTrue(invoice.reconciled)
            self.assertEqual(
                sum(l.credit - l.debit for l in invoice.payment_lines),
                TOTAL)
            self.assertEqual(sorted(p.credit for p in payments),
                [Decimal(0), TOTAL])
            self.assertEqual(sorted(p.balance for p in payments),
                [-TOTAL, Decimal(0)])


def pdf_text(content):
    "The text of every page of a PDF"
    import pypdfium2
    document = pypdfium2.PdfDocument(content)
    return '\n'.join(
        page.get_textpage().get_text_range() for page in document)


def subscription_invoices(subscription):
    pool = Pool()
    Invoice = pool.get('account.invoice')
    return Invoice.search([
            ('water_subscription', '=', subscription.id),
            ('type', '=', 'out')],
        order=[('invoice_date', 'ASC'), ('id', 'ASC')])
