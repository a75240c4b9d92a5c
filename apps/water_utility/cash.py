# This file is part of the water_utility module.  See README.rst.
"""Cash desks of the service centres and the cashier's day

Each receipt is posted when taken (payment.py) and debits the desk's
clearing account.  At closing the cashier counts the drawer per method
(cash, cheques, card slips); posting the day makes a Tryton statement per
method in the desk's statement journal: one line per receipt taking it out of
the clearing account, and a line for the difference between the count and
the receipts, to the account of cash differences.  The statement's amount is
the count, so it only validates when the lines make the count exactly.
"""
from collections import defaultdict
from decimal import Decimal

from sql.aggregate import Sum

from trytond import backend
from trytond.i18n import gettext
from trytond.model import (
    DeactivableMixin, Index, ModelSQL, ModelView, Workflow, fields)
from trytond.modules.currency.fields import Monetary
from trytond.pool import Pool, PoolMeta
from trytond.pyson import Bool, Eval, Id
from trytond.tools import grouped_slice
from trytond.transaction import Transaction, without_check_access

from .exceptions import CashSessionError
from .payment import DESK_METHODS, METHODS
from .report_html import SubscriberReport


def _statement_journal(method):
    return fields.Many2One(
        'account.statement.journal',
        {'cash': "Cash Journal", 'cheque': "Cheque Journal",
            'card': "Card Journal"}[method],
        domain=[
            ('company', '=', Eval('company', -1)),
            ('validation', '=', 'amount'),
            ],
        required=method == 'cash',
        help={
            'cash': "The statement journal of the day's cash at closing.",
            'cheque': "The statement journal of the day's cheques at "
            "closing.",
            'card': "The statement journal of the day's card slips at "
            "closing.",
            }[method])


class Desk(DeactivableMixin, ModelSQL, ModelView):
    "Water Cash Desk"
    __name__ = 'water.cash.desk'
    __string__ = "Water Cash Desk"

    name = fields.Char("Name", required=True, translate=True)
    company = fields.Many2One('company.company', "Company", required=True)
    area = fields.Many2One(
        'water.area', "Service Centre", required=True, ondelete='RESTRICT',
        domain=[('company', '=', Eval('company', -1))])
    journal = fields.Many2One(
        'account.journal', "Receipt Journal", required=True,
        domain=[('type', '=', 'cash')],
        help="The journal of the receipts' moves.")
    clearing_account = fields.Many2One(
        'account.account', "Clearing Account", required=True,
        domain=[
            ('company', '=', Eval('company', -1)),
            ('type', '!=', None),
            ('closed', '!=', True),
            ('party_required', '=', False),
            ],
        help="Holds the receipts taken until the day is closed.")
    difference_account = fields.Many2One(
        'account.account', "Difference Account", required=True,
        domain=[
            ('company', '=', Eval('company', -1)),
            ('type', '!=', None),
            ('closed', '!=', True),
            ('party_required', '=', False),
            ],
        help="Receives what the count differs from the receipts.")
    cash_journal = _statement_journal('cash')
    cheque_journal = _statement_journal('cheque')
    card_journal = _statement_journal('card')
    sequence = fields.Many2One(
        'ir.sequence.strict', "Receipt Sequence",
        domain=[
            ('company', 'in', [Eval('company', -1), None]),
            ('sequence_type', '=',
                Id('water_utility', 'sequence_type_receipt')),
            ],
        help="Numbers the desk's receipts; empty for the utility's "
        "sequence.")

    @classmethod
    def default_company(cls):
        return Transaction().context.get('company')

    def get_statement_journal(self, method):
        return getattr(self, '%s_journal' % method)


class Session(Workflow, ModelSQL, ModelView):
    "Water Cashier's Day"
    __name__ = 'water.cash.session'
    __string__ = "Water Cashier's Day"

    desk = fields.Many2One(
        'water.cash.desk', "Desk", required=True, ondelete='RESTRICT',
        states={
            'readonly': (Eval('state') != 'open') | Eval('payments', [0]),
            })
    company = fields.Function(fields.Many2One('company.company', "Company"),
        'on_change_with_company', searcher='search_company')
    currency = fields.Function(fields.Many2One(
            'currency.currency', "Currency"), 'on_change_with_currency')
    cashier = fields.Many2One(
        'res.user', "Cashier", required=True, readonly=True,
        ondelete='RESTRICT')
    date = fields.Date("Date", required=True, states={
            'readonly': (Eval('state') != 'open') | Eval('payments', [0]),
            })
    payments = fields.One2Many(
        'water.payment', 'session', "Receipts",
        add_remove=[],
        states={
            'readonly': Eval('state') != 'open',
            })
    counts = fields.One2Many(
        'water.cash.count', 'session', "Count",
        states={
            'readonly': Eval('state') != 'closed',
            'invisible': Eval('state') == 'open',
            })
    total = fields.Function(Monetary(
            "Receipts", currency='currency', digits='currency'),
        'get_totals')
    counted = fields.Function(Monetary(
            "Counted", currency='currency', digits='currency',
            states={'invisible': Eval('state') == 'open'}),
        'get_totals')
    difference = fields.Function(Monetary(
            "Difference", currency='currency', digits='currency',
            states={'invisible': Eval('state') == 'open'}),
        'get_totals')
    statements = fields.One2Many(
        'account.statement', 'water_cash_session', "Statements",
        readonly=True,
        states={
            'invisible': ~Eval('statements', []),
            })
    state = fields.Selection([
            ('open', "Open"),
            ('closed', "Counted"),
            ('posted', "Posted"),
            ], "State", readonly=True, required=True, sort=False)
    state_string = state.translated('state')

    @classmethod
    def __setup__(cls):
        super().__setup__()
        t = cls.__table__()
        cls._sql_indexes.update({
                Index(t, (t.date, Index.Range()), (t.desk, Index.Range())),
                Index(t, (t.cashier, Index.Range()),
                    where=t.state == 'open'),
                })
        cls._order = [('date', 'DESC'), ('id', 'DESC')]
        cls._transitions |= {
            ('open', 'closed'),
            ('closed', 'open'),
            ('closed', 'posted'),
            }
        cls._buttons.update({
                'close': {
                    'invisible': Eval('state') != 'open',
                    'depends': ['state'],
                    },
                'reopen': {
                    'invisible': Eval('state') != 'closed',
                    'depends': ['state'],
                    },
                'post': {
                    'invisible': Eval('state') != 'closed',
                    'depends': ['state'],
                    },
                'take_payment': {
                    'invisible': Eval('state') != 'open',
                    'depends': ['state'],
                    },
                })

    @classmethod
    def default_cashier(cls):
        return Transaction().user

    @classmethod
    def default_date(cls):
        return Pool().get('ir.date').today()

    @classmethod
    def default_state(cls):
        return 'open'

    @fields.depends('desk')
    def on_change_with_company(self, name=None):
        return self.desk.company if self.desk else None

    @classmethod
    def search_company(cls, name, clause):
        return [('desk.' + clause[0], *clause[1:])]

    @fields.depends('desk')
    def on_change_with_currency(self, name=None):
        return self.desk.company.currency if self.desk else None

    def get_rec_name(self, name):
        return '%s — %s — %s' % (
            self.desk.rec_name, self.cashier.rec_name, self.date)

    @classmethod
    def search_rec_name(cls, name, clause):
        _, operator, value = clause
        bool_op = 'AND' if operator.startswith('!') else 'OR'
        return [bool_op,
            ('desk.rec_name', *clause[1:]),
            ('cashier.rec_name', *clause[1:]),
            ]

    @classmethod
    def get_totals(cls, sessions, names):
        result = {n: {} for n in names}
        for session in sessions:
            total = sum((p.amount for p in session.payments
                    if p.state == 'posted'), Decimal(0))
            counted = sum((c.counted or 0 for c in session.counts),
                Decimal(0))
            values = {
                'total': total,
                'counted': counted,
                'difference': counted - total,
                }
            for name in names:
                result[name][session.id] = values[name]
        return result

    def expected(self):
        "Return the posted receipts' total per method"
        amounts = defaultdict(Decimal)
        for payment in self.payments:
            if payment.state == 'posted':
                amounts[payment.method] += payment.amount
        return amounts

    @classmethod
    def validate_fields(cls, sessions, field_names):
        super().validate_fields(sessions, field_names)
        if field_names & {'cashier', 'desk', 'state'}:
            cls.check_one_open(sessions)

    @classmethod
    def check_one_open(cls, sessions):
        "A cashier has one open day at a time"
        for session in sessions:
            if session.state != 'open':
                continue
            others = cls.search([
                    ('cashier', '=', session.cashier.id),
                    ('state', '=', 'open'),
                    ('id', '!=', session.id),
                    ], limit=1)
            if others:
                raise CashSessionError(gettext(
                        'water_utility.msg_cash_session_one_open',
                        cashier=session.cashier.rec_name,
                        session=others[0].rec_name))

    @classmethod
    def check_modification(cls, mode, sessions, values=None, external=False):
        super().check_modification(
            mode, sessions, values=values, external=external)
        if mode == 'delete':
            for session in sessions:
                if session.payments or session.state != 'open':
                    raise CashSessionError(gettext(
                            'water_utility.msg_cash_session_delete',
                            session=session.rec_name))

    @classmethod
    def get_open(cls):
        "Return the open day of the current user or None"
        sessions = cls.search([
                ('cashier', '=', Transaction().user),
                ('state', '=', 'open'),
                ], limit=1)
        return sessions[0] if sessions else None

    @classmethod
    @ModelView.button
    @Workflow.transition('closed')
    def close(cls, sessions):
        "Stop taking payments and prepare the count per method"
        pool = Pool()
        Count = pool.get('water.cash.count')
        Payment = pool.get('water.payment')
        drafts = Payment.search([
                ('session', 'in', [s.id for s in sessions]),
                ('state', '=', 'draft'),
                ])
        if drafts:
            raise CashSessionError(gettext(
                    'water_utility.msg_cash_session_draft_payments',
                    session=drafts[0].session.rec_name,
                    payments=', '.join(
                        p.subscription.rec_name for p in drafts[:5])))
        to_save = []
        for session in sessions:
            have = {c.method for c in session.counts}
            expected = session.expected()
            for method in DESK_METHODS:
                if method in have:
                    continue
                if (method in expected
                        or session.desk.get_statement_journal(method)):
                    to_save.append(Count(session=session, method=method))
        Count.save(to_save)

    @classmethod
    @ModelView.button
    @Workflow.transition('open')
    def reopen(cls, sessions):
        pass

    @classmethod
    @ModelView.button
    @Workflow.transition('posted')
    def post(cls, sessions):
        """Make, validate and post a statement per method: the receipts out
        of the clearing account, the difference to the difference account"""
        pool = Pool()
        Statement = pool.get('account.statement')
        StatementLine = pool.get('account.statement.line')

        statements = []
        for session in sessions:
            desk = session.desk
            expected = session.expected()
            counts = {c.method: c for c in session.counts}
            for method in DESK_METHODS:
                count = counts.get(method)
                if not count and not expected.get(method):
                    continue
                if not count or count.counted is None:
                    raise CashSessionError(gettext(
                            'water_utility.msg_cash_session_not_counted',
                            session=session.rec_name,
                            method=dict(METHODS)[method]))
                journal = desk.get_statement_journal(method)
                if not journal:
                    raise CashSessionError(gettext(
                            'water_utility.msg_cash_desk_no_journal',
                            desk=desk.rec_name, method=method))
                lines = []
                for payment in session.payments:
                    if payment.method != method or payment.state != 'posted':
                        continue
                    lines.append(StatementLine(
                            date=session.date,
                            amount=payment.amount,
                            account=desk.clearing_account,
                            description=payment.number,
                            ))
                difference = count.counted - expected.get(method, 0)
                if difference:
                    lines.append(StatementLine(
                            date=session.date,
                            amount=difference,
                            account=desk.difference_account,
                            description=gettext(
                                'water_utility.msg_cash_difference',
                                session=session.rec_name),
                            ))
                if not lines:
                    continue
                statements.append(Statement(
                        name=session.get_statement_name(method),
                        company=desk.company,
                        journal=journal,
                        date=session.date,
                        total_amount=count.counted,
                        water_cash_session=session,
                        lines=lines))
        with without_check_access():
            Statement.save(statements)
            Statement.validate_statement(statements)
            Statement.post(statements)

    def get_statement_name(self, method):
        return '%s — %s' % (self.rec_name, dict(METHODS)[method])

    @classmethod
    @ModelView.button_action('water_utility.wizard_payment_take')
    def take_payment(cls, sessions):
        pass


class CashCount(ModelSQL, ModelView):
    "Water Cash Count"
    __name__ = 'water.cash.count'
    __string__ = "Water Cash Count"

    session = fields.Many2One(
        'water.cash.session', "Cashier's Day", required=True,
        ondelete='CASCADE')
    method = fields.Selection(
        [m for m in METHODS if m[0] in DESK_METHODS], "Method",
        required=True, readonly=True)
    method_string = method.translated('method')
    currency = fields.Function(fields.Many2One(
            'currency.currency', "Currency"), 'on_change_with_currency')
    expected = fields.Function(Monetary(
            "Receipts", currency='currency', digits='currency'),
        'get_amounts')
    counted = Monetary(
        "Counted", currency='currency', digits='currency',
        domain=[
            ['OR', ('counted', '=', None), ('counted', '>=', 0)],
            ],
        help="The money found in the drawer for the method.")
    difference = fields.Function(Monetary(
            "Difference", currency='currency', digits='currency'),
        'get_amounts')
    date = fields.Function(fields.Date("Date"), 'get_session_field',
        searcher='search_session_field')
    desk = fields.Function(fields.Many2One('water.cash.desk', "Desk"),
        'get_session_field', searcher='search_session_field')
    cashier = fields.Function(fields.Many2One('res.user', "Cashier"),
        'get_session_field', searcher='search_session_field')

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls._order = [
            ('session', 'DESC'), ('method', 'ASC'), ('id', 'ASC')]

    @fields.depends('session', '_parent_session.desk')
    def on_change_with_currency(self, name=None):
        if self.session and self.session.desk:
            return self.session.desk.company.currency

    @classmethod
    def get_amounts(cls, counts, names):
        "The receipts of each count's method and day, summed in one query"
        pool = Pool()
        Payment = pool.get('water.payment')
        payment = Payment.__table__()
        cursor = Transaction().connection.cursor()
        session_ids = sorted({c.session.id for c in counts})
        totals = defaultdict(Decimal)
        for sub in grouped_slice(session_ids, backend.MAX_QUERY_PARAMS):
            cursor.execute(*payment.select(
                    payment.session, payment.method, Sum(payment.amount),
                    where=fields.SQL_OPERATORS['in'](payment.session, sub)
                    & (payment.state == 'posted'),
                    group_by=[payment.session, payment.method]))
            for session, method, amount in cursor:
                # SQLite sums as a float
                totals[session, method] = Decimal(str(amount or 0))
        result = {n: {} for n in names}
        for count in counts:
            expected = count.currency.round(
                totals[count.session.id, count.method])
            if 'expected' in result:
                result['expected'][count.id] = expected
            if 'difference' in result:
                result['difference'][count.id] = (
                    None if count.counted is None
                    else count.counted - expected)
        return result

    def get_session_field(self, name):
        value = getattr(self.session, name)
        return value.id if isinstance(value, ModelSQL) else value

    @classmethod
    def search_session_field(cls, name, clause):
        return [('session.' + clause[0], *clause[1:])]

    @classmethod
    def check_modification(cls, mode, counts, values=None, external=False):
        super().check_modification(
            mode, counts, values=values, external=external)
        if mode in {'write', 'delete'}:
            for count in counts:
                if count.session.state == 'posted':
                    raise CashSessionError(gettext(
                            'water_utility.msg_cash_count_posted',
                            session=count.session.rec_name))


class Statement(metaclass=PoolMeta):
    __name__ = 'account.statement'

    water_cash_session = fields.Many2One(
        'water.cash.session', "Cashier's Day", readonly=True,
        ondelete='RESTRICT',
        states={
            'invisible': ~Eval('water_cash_session'),
            })


class StatementJournal(metaclass=PoolMeta):
    __name__ = 'account.statement.journal'

    water_clearing_account = fields.Many2One(
        'account.account', "Payments Clearing Account",
        domain=[
            ('company', '=', Eval('company', -1)),
            ('type', '!=', None),
            ('closed', '!=', True),
            ('party_required', '=', False),
            ],
        states={
            'required': Bool(Eval('water_import')),
            },
        help="The account the imported bank and e-payments are posted to "
        "before the statement takes them out.")
    water_import = fields.Boolean("Import Water Payments",
        help="Imported files of the journal are matched to subscriptions.")


class SessionReport(SubscriberReport):
    "Water Cashier's Day Closing"
    __name__ = 'water.cash.session.report'
