# This file is part of the water_utility module.  See README.rst.
"Bank and e-payment files imported into statements and matched"
import datetime as dt
import unittest
from decimal import Decimal

from hypothesis import given, strategies as st

from trytond.exceptions import UserError
from trytond.modules.company.tests import set_company
from trytond.pool import Pool

from .. import bank_file
from .database import UtilityTestCase, pinned, with_transaction
from . import test_billing as billing
from .test_payment import (
    SEPTEMBER, TOTAL, PaymentTestCase, balance, setup_desk,
    subscription_invoices)


class BankFileTestCase(unittest.TestCase):
    "The bank file, without the database"

    def test_columns_in_arabic_and_digits(self):
        data = ('رقم العملية;المرجع;المبلغ;التاريخ;اسم الدافع\n'
            'T1;10001;١٥٠٫٥٠;٠٥/١١/٢٠٢٦;أحمد\n').encode('utf-8-sig')
        _, (row,) = bank_file.parse(data)
        self.assertEqual((row.transaction, row.reference, row.amount,
                row.date, row.payer),
            ('T1', '10001', Decimal('150.50'), dt.date(2026, 11, 5), 'أحمد'))

    def test_amount_formats(self):
        for text, amount in [('1,234.50', '1234.50'), ('12,50', '12.50'),
                ('1,234', '1234'), ('٢٠٠', '200'), ('-15.00', '-15.00')]:
            self.assertEqual(bank_file.parse_amount(text), Decimal(amount))
        for text in ['', 'abc', 'NaN']:
            with self.assertRaises(ValueError):
                bank_file.parse_amount(text)

    def test_unreadable_rows_flagged(self):
        data = (b'reference,amount,date\n'
            b'10001,abc,2026-11-05\n10002,20,32/13/2026\n10003,5,2026-11-05\n')
        _, rows = bank_file.parse(data)
        self.assertEqual([(r.line, r.error) for r in rows],
            [(2, 'amount'), (3, 'date'), (4, '')])
        self.assertEqual([bool(r.key) for r in rows], [False, False, True])

    def test_missing_columns(self):
        with self.assertRaises(bank_file.FileError) as context:
            bank_file.parse(b'reference,value\n1,2\n')
        self.assertEqual(context.exception.code, 'columns')

    def test_reference(self):
        self.assertEqual(bank_file.reference(
                'water:10001?amount=155.99&bill=INV-7&due=2026-11-30'),
            ('10001', 'INV-7'))
        self.assertEqual(bank_file.reference(' ١٠٠٠١ '), ('10001', '10001'))
        self.assertEqual(bank_file.reference(''), (None, None))

    @given(st.lists(st.tuples(
                st.sampled_from(['10001', '10002', 'INV-3']),
                st.integers(min_value=1, max_value=3),
                st.booleans()), min_size=1, max_size=12))
    def test_keys(self, payments):
        """Equal payments of a file get distinct keys; the same file gives
        the same keys; a longer file keeps the keys of its first rows"""
        def rows(payments):
            text = 'reference,amount,date\n' + ''.join(
                f'{r},{a}.00,2026-11-0{1 + d}\n' for r, a, d in payments)
            return bank_file.parse(text.encode())[1]
        keys = [r.key for r in rows(payments)]
        self.assertEqual(len(set(keys)), len(keys))
        self.assertEqual([r.key for r in rows(payments)], keys)
        longer = [r.key for r in rows(payments + payments[:1])]
        self.assertEqual(longer[:len(keys)], keys)


def setup_bank_journal(company, accounts):
    "A statement journal of the bank whose files are water payments"
    pool = Pool()
    Account = pool.get('account.account')
    Journal = pool.get('account.journal')
    StatementJournal = pool.get('account.statement.journal')
    bank, clearing = Account.copy([accounts['cash']] * 2)
    bank.name, clearing.name = "Bank of Palestine", "Bank Payments Clearing"
    Account.save([bank, clearing])
    statement, = Journal.search([('type', '=', 'statement')], limit=1)
    journal, = StatementJournal.create([{
                'name': "Bank of Palestine", 'journal': statement.id,
                'account': bank.id, 'validation': 'amount',
                'currency': company.currency.id, 'company': company.id,
                'water_import': True, 'water_clearing_account': clearing.id,
                'water_method': 'bank',
                }])
    return journal, bank, clearing


@pinned(dt.datetime(2026, 11, 10, 8, 0))
class BankImportTestCase(UtilityTestCase):
    "Test bank files in the Water Utility module"
    setup_bills = PaymentTestCase.setup_bills

    def import_(self, journal, text, name='bank.csv'):
        pool = Pool()
        Statement = pool.get('account.statement')
        from ..bank import import_file
        statement = import_file(journal, text.encode('utf-8'), name)
        Statement.water_match([statement])
        return Statement(statement.id)

    @with_transaction()
    def test_bank_file(self):
        """A file of three payments: one by subscription number, one by the
        bill's number, one the clerk matches; validated, the receipts are
        posted and the clearing account is empty; the same file again adds
        nothing"""
        pool = Pool()
        Statement = pool.get('account.statement')
        Origin = pool.get('account.statement.origin')
        Payment = pool.get('water.payment')
        first, second, third = self.setup_bills(count=3)
        with set_company(self.company):
            _, accounts = setup_desk(self.company)
            journal, bank, clearing = setup_bank_journal(
                self.company, accounts)
            invoice, = subscription_invoices(second)
            text = ('transaction,reference,amount,date,payer\n'
                f'B-1,{first.number},{TOTAL},2026-11-05,\n'
                f'B-2,{invoice.number},100.00,2026-11-05,\n'
                'B-3,wrong 99,40.00,2026-11-06,سامي\n')
            statement = self.import_(journal, text)
            self.assertEqual(statement.state, 'draft')
            self.assertEqual(statement.total_amount, TOTAL + 140)
            matched = {o.number: o.water_subscription
                for o in statement.origins}
            self.assertEqual(matched,
                {'B-1': first, 'B-2': second, 'B-3': None})
            self.assertEqual(len(statement.lines), 2)

            # the unmatched payment waits for a clerk
            waiting, = Origin.search([('pending_amount', '!=', 0)])
            self.assertEqual(waiting.number, 'B-3')
            with self.assertRaises(UserError):
                Statement.validate_statement([statement])

            # the same file again adds nothing
            with self.assertRaises(UserError):
                self.import_(journal, text)
            # a later file repeating a payment adds only the new one
            later = self.import_(journal, text + (
                    f'B-4,{third.number},10.00,2026-11-07,\n'))
            self.assertEqual([o.number for o in later.origins], ['B-4'])

            waiting.water_subscription = third
            waiting.save()
            Statement.water_match([statement])
            statement = Statement(statement.id)
            Statement.validate_statement([statement])
            Statement.post([statement])

            payments = Payment.search([
                    ('statement_origin.statement', '=', statement.id)])
            self.assertEqual(len(payments), 3)
            self.assertEqual({p.state for p in payments}, {'posted'})
            self.assertEqual({p.method for p in payments}, {'bank'})
            by_subscription = {p.subscription: p for p in payments}
            self.assertEqual(by_subscription[first].balance, 0)
            self.assertEqual(by_subscription[second].balance, TOTAL - 100)
            self.assertEqual(by_subscription[third].balance, TOTAL - 40)
            self.assertEqual(by_subscription[second].reference, 'B-2')
            self.assertTrue(subscription_invoices(first)[0].reconciled)
            self.assertEqual(balance(clearing), 0)
            self.assertEqual(balance(bank), TOTAL + 140)

            # a statement whose receipts are posted cannot be cancelled
            with self.assertRaises(UserError):
                Statement.cancel([statement])

    @with_transaction()
    def test_unreadable_file_imports_nothing(self):
        "A file with an unreadable row is refused whole, each row named"
        pool = Pool()
        Statement = pool.get('account.statement')
        subscription, = self.setup_bills()
        with set_company(self.company):
            _, accounts = setup_desk(self.company)
            journal, _, _ = setup_bank_journal(self.company, accounts)
            text = ('reference,amount,date\n'
                f'{subscription.number},abc,2026-11-05\n'
                f'{subscription.number},10,2026-11-40\n'
                f'{subscription.number},10,2026-11-05\n')
            with self.assertRaises(UserError) as context:
                self.import_(journal, text)
            message = str(context.exception)
            self.assertIn('2', message)
            self.assertIn('2026-11-40', message)
            self.assertEqual(Statement.search([], count=True), 0)

    @with_transaction()
    def test_bank_payment_settles_oldest(self):
        "A bank payment settles the oldest bill first, like the desk"
        subscription, = self.setup_bills(months=(SEPTEMBER, billing.MONTH))
        pool = Pool()
        Statement = pool.get('account.statement')
        with set_company(self.company):
            _, accounts = setup_desk(self.company)
            journal, _, _ = setup_bank_journal(self.company, accounts)
            statement = self.import_(journal, 'reference,amount,date\n'
                f'{subscription.number},200,2026-11-05\n')
            Statement.validate_statement([statement])
            september, october = subscription_invoices(subscription)
            line, = Statement(statement.id).lines
            self.assertEqual(
                [(l.invoice, l.amount) for l in line.water_payment.lines],
                [(september, TOTAL), (october, 200 - TOTAL)])


del PaymentTestCase
