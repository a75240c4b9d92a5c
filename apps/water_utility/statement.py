# This file is part of the water_utility module.  See README.rst.
"""The account statement of a subscription (كشف حساب)

Read from the posted ledger: every receivable line marked with the
subscription (bills, credit notes, receipts, adjustments) in date order with
the running balance, so that what the desk shows is what the books say.  The
subscription is given in the context so that the running balance is computed
over its lines only (an index on the subscription), at once at the desk.
"""
from decimal import Decimal

from sql import Literal, Null, Window
from sql.aggregate import Sum
from sql.conditionals import Case, Coalesce

from trytond.model import ModelSQL, ModelView, fields
from trytond.modules.currency.fields import Monetary
from trytond.pool import Pool
from trytond.transaction import Transaction

from .report_html import SubscriberReport

# the journals of money received: the desks' and the banks' statements
PAYMENT_JOURNALS = ['cash', 'statement']
KINDS = [
    ('bill', "Bill"),
    ('payment', "Payment"),
    ('adjustment', "Adjustment"),
    ]


class StatementLine(ModelSQL, ModelView):
    "Water Account Statement Line"
    __name__ = 'water.statement.line'
    __string__ = "Water Account Statement Line"

    subscription = fields.Many2One(
        'water.subscription', "Subscription", readonly=True)
    date = fields.Date("Date", readonly=True)
    kind = fields.Selection(KINDS, "Kind", readonly=True, sort=False)
    kind_string = kind.translated('kind')
    description = fields.Char("Description", readonly=True)
    origin = fields.Reference("Document", selection='get_origins',
        readonly=True)
    move_line = fields.Many2One('account.move.line', "Ledger Line",
        readonly=True)
    currency = fields.Function(fields.Many2One(
            'currency.currency', "Currency"), 'get_currency')
    debit = Monetary("Debit", currency='currency', digits='currency',
        readonly=True)
    credit = Monetary("Credit", currency='currency', digits='currency',
        readonly=True)
    balance = Monetary("Balance", currency='currency', digits='currency',
        readonly=True)

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls._order = [('date', 'ASC'), ('id', 'ASC')]

    @classmethod
    def get_origins(cls):
        pool = Pool()
        Model = pool.get('ir.model')
        names = ['account.invoice', 'water.payment', 'account.move',
            'water.settlement']
        return [(None, '')] + [(n, Model.get_name(n)) for n in names]

    def get_currency(self, name):
        return self.move_line.move.company.currency.id

    @classmethod
    def table_query(cls):
        pool = Pool()
        MoveLine = pool.get('account.move.line')
        Move = pool.get('account.move')
        Account = pool.get('account.account')
        Journal = pool.get('account.journal')
        line = MoveLine.__table__()
        move = Move.__table__()
        account = Account.__table__()
        journal = Journal.__table__()
        context = Transaction().context
        where = ((line.water_subscription != Null)
            & (move.state == 'posted')
            & (account.type != Null))
        if context.get('water_subscription'):
            where &= line.water_subscription == context['water_subscription']
        window = Window([line.water_subscription],
            order_by=[move.date.asc, line.id.asc])
        amount = line.debit - line.credit
        return (line
            .join(move, condition=line.move == move.id)
            .join(account, condition=line.account == account.id)
            .join(journal, condition=move.journal == journal.id)
            .select(
                line.id.as_('id'),
                line.create_uid.as_('create_uid'),
                line.create_date.as_('create_date'),
                line.write_uid.as_('write_uid'),
                line.write_date.as_('write_date'),
                line.water_subscription.as_('subscription'),
                move.date.as_('date'),
                Case((journal.type.in_(PAYMENT_JOURNALS)
                        | move.origin.like('water.payment,%'),
                        Literal('payment')),
                    ((journal.type == 'revenue') & (line.debit > 0),
                        Literal('bill')),
                    else_=Literal('adjustment')).as_('kind'),
                Coalesce(line.description, move.description).as_(
                    'description'),
                move.origin.as_('origin'),
                line.id.as_('move_line'),
                line.debit.as_('debit'),
                line.credit.as_('credit'),
                Sum(amount, window=window).as_('balance'),
                where=where))


class StatementReport(SubscriberReport):
    "Water Account Statement"
    __name__ = 'water.statement'

    @classmethod
    def get_context(cls, records, header, data):
        pool = Pool()
        Line = pool.get('water.statement.line')
        context = super().get_context(records, header, data)
        statements = []
        for subscription in records:
            with Transaction().set_context(
                    water_subscription=subscription.id):
                lines = Line.search([('subscription', '=', subscription.id)])
            balance = lines[-1].balance if lines else Decimal(0)
            statements.append((subscription, lines, balance))
        context['statements'] = statements
        context['today'] = pool.get('ir.date').today()
        return context
