# This file is part of the water_utility module.  See README.rst.
"Settlements: approval, the ledger at signing, instalments paid or missed"
import datetime as dt
from decimal import Decimal

from trytond.exceptions import UserError
from trytond.model.exceptions import AccessError
from trytond.model.modelview import AccessButtonError
from trytond.modules.company.tests import set_company
from trytond.pool import Pool
from trytond.transaction import Transaction

from .database import UtilityTestCase, pinned, with_transaction
from . import test_billing as billing
from . import test_module as base
from . import test_payment
from .test_payment import (
    SEPTEMBER, TOTAL, balance, setup_desk, subscription_invoices)

DEBT = 2 * TOTAL  # September's and October's bills
SIGNED = dt.date(2026, 11, 15)


def receivable_balance(subscription):
    "The posted receivable balance of the subscription"
    pool = Pool()
    Line = pool.get('account.move.line')
    return sum((l.debit - l.credit for l in Line.search([
                    ('water_subscription', '=', subscription.id),
                    ('account.type.receivable', '=', True),
                    ('move.state', '=', 'posted'),
                    ])), Decimal(0))


@pinned()
class SettlementTestCase(UtilityTestCase):
    "Test the settlements of the Water Utility module"

    setup_bills = test_payment.PaymentTestCase.setup_bills
    take = test_payment.PaymentTestCase.take

    def configure(self, max_discount=10, min_down_payment=10,
            max_instalments=12, grace_days=5, user_limit=5):
        pool = Pool()
        Configuration = pool.get('water.configuration')
        Account = pool.get('account.account')
        Journal = pool.get('account.journal')
        User = pool.get('res.user')
        expense, = Account.search([
                ('type.expense', '=', True),
                ('company', '=', self.company.id),
                ('closed', '!=', True)], limit=1)
        journal, = Journal.search([('type', '=', 'general')], limit=1)
        config = Configuration(1)
        config.settlement_max_discount = Decimal(max_discount)
        config.settlement_min_down_payment = Decimal(min_down_payment)
        config.settlement_max_instalments = max_instalments
        config.settlement_grace_days = grace_days
        config.settlement_due_day = 15
        config.settlement_journal = journal
        config.settlement_discount_account = expense
        config.save()
        user = User(Transaction().user)
        user.water_settlement_discount_limit = Decimal(user_limit)
        user.save()
        return expense

    def create_settlement(self, subscription, discount='11.98',
            down_payment='60', count=2, first_month=dt.date(2026, 12, 1)):
        pool = Pool()
        Settlement = pool.get('water.settlement')
        settlement = Settlement(company=self.company,
            subscription=subscription, date=dt.date(2026, 11, 12),
            discount=Decimal(discount), down_payment=Decimal(down_payment),
            instalment_count=count, first_month=first_month)
        settlement.on_change_subscription()
        settlement.save()
        return settlement

    def signed(self, subscription, **values):
        pool = Pool()
        Settlement = pool.get('water.settlement')
        settlement = self.create_settlement(subscription, **values)
        Settlement.approve([settlement])
        settlement.signature_date = SIGNED
        settlement.save()
        Settlement.sign([settlement])
        return Settlement(settlement.id)

    @with_transaction()
    def test_approval_limits(self):
        """A discount over the policy or over the approver's own limit, a
        small down payment or too many instalments are refused"""
        pool = Pool()
        Settlement = pool.get('water.settlement')
        subscription, = self.setup_bills(months=(SEPTEMBER, billing.MONTH))
        with set_company(self.company):
            self.configure(max_discount=10, user_limit=5)
            for values in [
                    {'discount': '40'},  # 12.8 % > the policy's 10 %
                    {'discount': '20'},  # 6.4 % > the user's 5 %
                    {'down_payment': '10'},  # < 10 % of the rest
                    {'count': 13},
                    ]:
                settlement = self.create_settlement(subscription, **values)
                with self.assertRaises(UserError):
                    Settlement.approve([settlement])
                self.assertEqual(Settlement(settlement.id).state, 'draft')

            settlement = self.create_settlement(subscription)
            self.assertEqual(settlement.debt, DEBT)
            Settlement.approve([settlement])
            settlement = Settlement(settlement.id)
            self.assertEqual(settlement.state, 'approved')
            self.assertTrue(settlement.number)
            self.assertEqual(settlement.approved_by.id, Transaction().user)
            self.assertEqual(
                [(i.sequence, i.due_date, i.amount)
                    for i in settlement.instalments], [
                    (0, dt.date(2026, 11, 12), Decimal(60)),
                    (1, dt.date(2026, 12, 15), Decimal(120)),
                    (2, dt.date(2027, 1, 15), Decimal(120)),
                    ])

    @with_transaction()
    def test_sign(self):
        """Signing settles the bills and puts the debt less the discount on
        the instalments' ledger lines"""
        pool = Pool()
        Invoice = pool.get('account.invoice')
        subscription, = self.setup_bills(months=(SEPTEMBER, billing.MONTH))
        with set_company(self.company):
            expense = self.configure()
            self.assertEqual(receivable_balance(subscription), DEBT)
            settlement = self.signed(subscription)
            self.assertEqual(settlement.state, 'signed')
            self.assertEqual(settlement.move.state, 'posted')
            for invoice in subscription_invoices(subscription):
                invoice = Invoice(invoice.id)
                self.assertTrue(invoice.reconciled)
                self.assertEqual(invoice.amount_to_pay, 0)
            self.assertEqual(receivable_balance(subscription),
                DEBT - Decimal('11.98'))
            lines = [i.move_line for i in settlement.instalments]
            self.assertEqual(sum(l.debit for l in lines),
                DEBT - Decimal('11.98'))
            self.assertEqual(
                [(l.maturity_date, l.debit) for l in lines], [
                    (SIGNED, Decimal(60)),
                    (dt.date(2026, 12, 15), Decimal(120)),
                    (dt.date(2027, 1, 15), Decimal(120)),
                    ])
            self.assertTrue(all(
                    l.water_subscription == subscription for l in lines))
            self.assertEqual(balance(expense), Decimal('11.98'))

    @with_transaction()
    def test_sign_after_payment_refused(self):
        "A payment between approval and signature changes the debt"
        pool = Pool()
        Settlement = pool.get('water.settlement')
        Session = pool.get('water.cash.session')
        subscription, = self.setup_bills(months=(SEPTEMBER, billing.MONTH))
        with set_company(self.company):
            self.configure()
            desk, _ = setup_desk(self.company)
            settlement = self.create_settlement(subscription)
            Settlement.approve([settlement])
            session = Session(desk=desk, date=dt.date(2026, 11, 13))
            session.save()
            self.take(session, subscription, '10')
            settlement = Settlement(settlement.id)
            settlement.signature_date = SIGNED
            settlement.save()
            with self.assertRaises(UserError):
                Settlement.sign([settlement])

    @with_transaction()
    def test_pay_instalments(self):
        """A payment at the desk pays the due instalments first, then the
        next one; a paid instalment is reconciled"""
        pool = Pool()
        Session = pool.get('water.cash.session')
        Instalment = pool.get('water.settlement.instalment')
        subscription, = self.setup_bills(months=(SEPTEMBER, billing.MONTH))
        with set_company(self.company):
            self.configure()
            desk, _ = setup_desk(self.company)
            settlement = self.signed(subscription)
            down, first, second = settlement.instalments
            session = Session(desk=desk, date=dt.date(2026, 12, 20))
            session.save()
            payment = self.take(session, subscription, '200')
            self.assertEqual(
                [(l.instalment, l.amount) for l in payment.lines], [
                    (down, Decimal(60)),
                    (first, Decimal(120)),
                    (second, Decimal(20)),
                    ])
            down, first, second = Instalment.browse([down, first, second])
            self.assertEqual([i.state for i in (down, first, second)],
                ['paid', 'paid', 'pending'])
            self.assertTrue(down.move_line.reconciliation)
            self.assertTrue(first.move_line.reconciliation)
            self.assertFalse(second.move_line.reconciliation)
            self.assertEqual(second.amount_to_pay, Decimal(100))
            self.assertEqual(payment.balance, Decimal(100))
            Receipt = pool.get('water.payment.receipt', type='report')
            ext, content, _, _ = Receipt.execute([payment.id], {})
            self.assertTrue(content.startswith(b'%PDF'))

            payment = self.take(session, subscription, '130')
            self.assertEqual(
                [(l.instalment, l.amount) for l in payment.lines],
                [(second, Decimal(100)), (None, Decimal(30))])
            second = Instalment(second.id)
            self.assertEqual(second.state, 'paid')
            self.assertTrue(second.move_line.reconciliation)
            self.assertEqual(second.settlement.state, 'done')
            self.assertEqual(receivable_balance(subscription), Decimal(-30))

    @with_transaction()
    def test_missed_instalment(self):
        """An instalment unpaid past the grace days defaults the settlement
        and its line is dunned; on time, nothing is dunned"""
        pool = Pool()
        Settlement = pool.get('water.settlement')
        Procedure = pool.get('account.dunning.procedure')
        Dunning = pool.get('account.dunning')
        subscription, = self.setup_bills(months=(SEPTEMBER, billing.MONTH))
        with set_company(self.company):
            self.configure(grace_days=5, min_down_payment=0)
            procedure, = Procedure.create([{
                        'name': "Reminder",
                        'levels': [('create', [{
                                        'overdue': dt.timedelta(days=6),
                                        }])],
                        }])
            party = subscription.party
            party.dunning_procedure = procedure
            party.save()
            settlement = self.signed(subscription, down_payment='0')
            first, second = settlement.instalments

            # on time: nothing missed, nothing dunned
            Settlement.check_missed(date=dt.date(2026, 12, 20))
            Dunning.generate_dunnings(date=dt.date(2026, 12, 20))
            self.assertEqual(Settlement(settlement.id).state, 'signed')
            self.assertFalse(Dunning.search([]))

            Settlement.check_missed(date=dt.date(2026, 12, 21))
            Dunning.generate_dunnings(date=dt.date(2026, 12, 21))
            settlement = Settlement(settlement.id)
            self.assertEqual(settlement.state, 'defaulted')
            self.assertEqual([i.state for i in settlement.instalments],
                ['missed', 'pending'])
            dunning, = Dunning.search([])
            self.assertEqual(dunning.line, first.move_line)
            self.assertEqual(dunning.amount, first.amount)

    @with_transaction()
    def test_agreement_printed(self):
        pool = Pool()
        Report = pool.get('water.settlement.agreement', type='report')
        subscription, = self.setup_bills(months=(SEPTEMBER, billing.MONTH))
        with set_company(self.company):
            self.configure()
            settlement = self.signed(subscription)
            with Transaction().set_context(language='ar'):
                ext, content, _, _ = Report.execute([settlement.id], {})
            self.assertEqual(ext, 'pdf')
            self.assertTrue(content.startswith(b'%PDF'))

    @with_transaction()
    def test_bill_shows_instalment(self):
        "The bill shows the instalment falling due in its month"
        pool = Pool()
        Bill = pool.get('water.bill')
        BillReport = pool.get('water.bill', type='report')
        subscription, = self.setup_bills(months=(SEPTEMBER, billing.MONTH))
        with set_company(self.company):
            self.configure()
            bill, = Bill.search([
                    ('subscription', '=', subscription.id),
                    ('month', '=', billing.MONTH)])
            due = bill.due_date or dt.date(2026, 11, 1)
            settlement = self.signed(subscription,
                first_month=due.replace(day=1))
            _, first, second = settlement.instalments
            self.assertEqual(BillReport.instalments([bill]),
                {bill.id: [first]})
            ext, content, _, _ = BillReport.execute([bill.id], {})
            self.assertEqual(ext, 'pdf')
            import pypdfium2
            text = pypdfium2.PdfDocument(content)[0].get_textpage(
                ).get_text_range()
            self.assertIn('120.00', text)

    @with_transaction()
    def test_approver_group(self):
        """Only a settlement approver approves; a cashier reads the
        settlements and creates none"""
        pool = Pool()
        Settlement = pool.get('water.settlement')
        User = pool.get('res.user')
        subscription, = self.setup_bills(months=(SEPTEMBER, billing.MONTH))
        with set_company(self.company):
            self.configure()
            settlement = self.create_settlement(subscription)

        def user(*groups):
            user, = User.create([{
                        'login': 'water_' + '_'.join(groups),
                        'name': ' '.join(groups),
                        'groups': [('add', [base.model_data(f'group_water_{g}')
                                    for g in groups])],
                        'companies': [('add', [self.company.id])],
                        'company': self.company.id,
                        'water_settlement_discount_limit': Decimal(5),
                        }])
            return user.id

        def can(user_id, action):
            with Transaction().set_user(user_id), \
                    Transaction().set_context(
                        _check_access=True, company=self.company.id):
                try:
                    action()
                except (AccessError, AccessButtonError):
                    return False
                return True

        manager, cashier = user('admin'), user('cashier')
        approver = user('admin', 'settlement_approver')
        self.assertTrue(can(cashier, lambda: Settlement.search([])))
        self.assertFalse(can(cashier, lambda: Settlement.create([{
                            'company': self.company.id,
                            'subscription': subscription.id,
                            'instalment_count': 1,
                            'first_month': dt.date(2026, 12, 1),
                            }])))
        self.assertFalse(can(manager, lambda: Settlement.approve(
                    [settlement])))
        self.assertTrue(can(approver, lambda: Settlement.approve(
                    [settlement])))
        self.assertEqual(Settlement(settlement.id).approved_by.id, approver)
