# This file is part of the water_utility module.  See README.rst.
"""Payments: receipts at the cash desks and their allocation to bills

A receipt is posted the moment the cashier takes the money: its move debits
the clearing account of the channel (the cash desk, or the bank statement it
came from) and credits the subscription's receivable, one line per bill it
settles, the oldest first (allocation.py), and one line of credit for what is
left.  The subscriber's balance is thus right at once, at any desk and on
the next bill.  The clearing account is emptied by the Tryton statement of
the cashier's day at closing (cash.py), where the money counted in the drawer
goes to the cash account and a difference to the account of differences.

Two cashiers taking money for the same subscription at the same moment: the
subscription's row is locked before its open bills are read, so the second
waits for the first and then sees its payment (a bill is never settled
twice).
"""
from collections import defaultdict
from decimal import Decimal

from sql import Null
from sql.aggregate import Sum

from trytond import backend
from trytond.i18n import gettext
from trytond.model import Index, ModelSQL, ModelView, Workflow, fields
from trytond.modules.currency.fields import Monetary
from trytond.pool import Pool, PoolMeta
from trytond.pyson import Eval, If
from trytond.tools import grouped_slice
from trytond.transaction import Transaction, without_check_access
from trytond.wizard import (
    Button, StateReport, StateTransition, StateView, Wizard)

from . import allocation
from .exceptions import PaymentError
from .report_html import SubscriberReport

METHODS = [
    ('cash', "Cash"),
    ('cheque', "Cheque"),
    ('card', "Card"),
    ('bank', "Bank Transfer"),
    ('epayment', "E-Payment"),
    ]
# the methods of a cash desk: each has its statement journal at closing
DESK_METHODS = ['cash', 'cheque', 'card']


def subscription_balances(subscription_ids):
    """Return the balance of the receivable of each subscription: what the
    posted ledger says it owes (negative: a credit)"""
    pool = Pool()
    MoveLine = pool.get('account.move.line')
    Move = pool.get('account.move')
    Account = pool.get('account.account')
    line = MoveLine.__table__()
    move = Move.__table__()
    account = Account.__table__()
    cursor = Transaction().connection.cursor()
    balances = defaultdict(Decimal)
    for sub_ids in grouped_slice(subscription_ids, backend.MAX_QUERY_PARAMS):
        sub_ids = list(sub_ids)
        cursor.execute(*line
            .join(move, condition=line.move == move.id)
            .join(account, condition=line.account == account.id)
            .select(line.water_subscription,
                Sum(line.debit - line.credit),
                where=fields.SQL_OPERATORS['in'](
                    line.water_subscription, sub_ids)
                & (move.state == 'posted')
                & (account.type != Null),
                group_by=[line.water_subscription]))
        for subscription, balance in cursor:
            # SQLite sums as a float
            balances[subscription] = Decimal(str(balance or 0))
    return balances


class Payment(Workflow, ModelSQL, ModelView):
    "Water Payment"
    __name__ = 'water.payment'
    __string__ = "Water Payment"
    _rec_name = 'number'

    _states = {'readonly': Eval('state') != 'draft'}

    number = fields.Char("Receipt Number", readonly=True)
    company = fields.Many2One(
        'company.company', "Company", required=True, states=_states)
    session = fields.Many2One(
        'water.cash.session', "Cashier's Day", ondelete='RESTRICT',
        domain=[
            ('company', '=', Eval('company', -1)),
            If(Eval('state') == 'draft',
                ('state', '=', 'open'),
                ()),
            ],
        states={
            'readonly': Eval('state') != 'draft',
            'required': Eval('method').in_(DESK_METHODS),
            },
        help="The cashier's day the money was taken in.")
    statement_origin = fields.Many2One(
        'account.statement.origin', "Bank Statement Line", readonly=True,
        ondelete='RESTRICT',
        states={
            'invisible': ~Eval('statement_origin'),
            })
    date = fields.Date("Date", required=True, states=_states)
    subscription = fields.Many2One(
        'water.subscription', "Subscription", required=True,
        ondelete='RESTRICT', states=_states,
        domain=[
            ('company', '=', Eval('company', -1)),
            ])
    party = fields.Function(fields.Many2One('party.party', "Subscriber",
            context={'company': Eval('company', -1)},
            depends={'company'}),
        'on_change_with_party', searcher='search_party')
    bill = fields.Many2One(
        'water.bill', "Bill", ondelete='RESTRICT', states=_states,
        domain=[
            ('subscription', '=', Eval('subscription', -1)),
            ('state', '=', 'posted'),
            ],
        help="The bill the subscriber brought: settled before the others.")
    currency = fields.Function(fields.Many2One(
            'currency.currency', "Currency"), 'on_change_with_currency')
    amount = Monetary(
        "Amount", currency='currency', digits='currency', required=True,
        states=_states,
        domain=[('amount', '>', 0)])
    method = fields.Selection(METHODS, "Method", required=True,
        states=_states)
    method_string = method.translated('method')
    reference = fields.Char("Reference", states={
            'readonly': Eval('state') != 'draft',
            'required': Eval('method').in_(['cheque', 'card']),
            },
        help="The cheque number, the card authorisation or the bank "
        "reference.")
    payer = fields.Char("Paid By", states=_states,
        help="Who brought the money, when not the subscriber.")
    lines = fields.One2Many(
        'water.payment.line', 'payment', "Allocation", readonly=True)
    credit = Monetary(
        "Credit Left", currency='currency', digits='currency', readonly=True,
        help="What is left after every open bill: a credit the next bill "
        "uses.")
    balance = Monetary(
        "Balance After", currency='currency', digits='currency',
        readonly=True,
        help="What the subscription owes once this payment is posted "
        "(negative: a credit).")
    move = fields.Many2One('account.move', "Move", readonly=True,
        ondelete='RESTRICT')
    state = fields.Selection([
            ('draft', "Draft"),
            ('posted', "Posted"),
            ('cancelled', "Cancelled"),
            ], "State", readonly=True, sort=False)
    state_string = state.translated('state')
    cancel_reason = fields.Char("Cancellation Reason",
        states={
            'invisible': Eval('state') == 'draft',
            'readonly': Eval('state') != 'posted',
            },
        help="Why the receipt was cancelled (a wrong subscription or "
        "amount): required to cancel.")

    del _states

    @classmethod
    def __setup__(cls):
        super().__setup__()
        t = cls.__table__()
        cls._sql_indexes.update({
                Index(t, (t.subscription, Index.Range())),
                Index(t, (t.number, Index.Similarity())),
                Index(t, (t.state, Index.Equality(cardinality='low')),
                    where=t.state == 'draft'),
                })
        cls._order = [('date', 'DESC'), ('id', 'DESC')]
        cls._transitions |= {('draft', 'posted'), ('posted', 'cancelled')}
        cls._buttons.update({
                'post': {
                    'invisible': Eval('state') != 'draft',
                    'depends': ['state'],
                    },
                'cancel': {
                    'invisible': Eval('state') != 'posted',
                    'readonly': ~Eval('cancel_reason'),
                    'depends': ['state', 'cancel_reason'],
                    },
                })

    @classmethod
    def default_company(cls):
        return Transaction().context.get('company')

    @classmethod
    def default_state(cls):
        return 'draft'

    @classmethod
    def default_method(cls):
        return 'cash'

    @classmethod
    def default_date(cls):
        return Pool().get('ir.date').today()

    @fields.depends('subscription')
    def on_change_with_party(self, name=None):
        return self.subscription.party if self.subscription else None

    @classmethod
    def search_party(cls, name, clause):
        return [('subscription.party' + clause[0][len(name):],
                *clause[1:])]

    @fields.depends('company')
    def on_change_with_currency(self, name=None):
        return self.company.currency if self.company else None

    @fields.depends('session', '_parent_session.date')
    def on_change_session(self):
        if self.session:
            self.date = self.session.date

    @classmethod
    def check_modification(cls, mode, payments, values=None, external=False):
        super().check_modification(
            mode, payments, values=values, external=external)
        if mode == 'delete':
            for payment in payments:
                if payment.state != 'draft':
                    raise PaymentError(gettext(
                            'water_utility.msg_payment_delete_posted',
                            payment=payment.rec_name))

    @classmethod
    def validate_fields(cls, payments, field_names):
        super().validate_fields(payments, field_names)
        if field_names & {'session', 'method', 'date', 'state'}:
            for payment in payments:
                if payment.state != 'draft':
                    continue
                session = payment.session
                if session and payment.method not in DESK_METHODS:
                    raise PaymentError(gettext(
                            'water_utility.msg_payment_method_desk',
                            payment=payment.rec_name))
                if session and payment.date != session.date:
                    raise PaymentError(gettext(
                            'water_utility.msg_payment_session_date',
                            payment=payment.rec_name,
                            session=session.rec_name))

    @classmethod
    @ModelView.button
    @Workflow.transition('posted')
    def post(cls, payments):
        cls._post(payments)

    @classmethod
    def _post(cls, payments):
        """Post the payments of a batch: the queries are made per batch, not
        per payment"""
        pool = Pool()
        Subscription = pool.get('water.subscription')
        Invoice = pool.get('account.invoice')
        Move = pool.get('account.move')
        MoveLine = pool.get('account.move.line')
        Line = pool.get('water.payment.line')
        Period = pool.get('account.period')
        Configuration = pool.get('water.configuration')
        Instalment = pool.get('water.settlement.instalment')

        if not payments:
            return
        config = Configuration(1)
        order = config.payment_allocation or 'oldest'
        subscription_ids = sorted({p.subscription.id for p in payments})
        # wait for any other payment of these subscriptions to commit
        Subscription.lock(Subscription.browse(subscription_ids))
        cls._touch(payments)

        with without_check_access():
            invoices = Invoice.search([
                    ('water_subscription', 'in', subscription_ids),
                    ('type', '=', 'out'),
                    ('state', '=', 'posted'),
                    ])
            to_pay = Invoice.get_amount_to_pay(invoices, 'amount_to_pay')
        open_items = defaultdict(dict)
        invoice_of = {}
        for invoice in invoices:
            invoice_of[invoice.id] = invoice
            key = ('invoice', invoice.id)
            open_items[invoice.water_subscription.id][key] = (
                allocation.Item(key, invoice.invoice_date,
                    to_pay.get(invoice.id, Decimal(0))))
        # the instalments of the settlements (settlement.py)
        instalment_of = {}
        for sub_id, pairs in Instalment.open_items(subscription_ids).items():
            for instalment, amount in pairs:
                key = ('instalment', instalment.id)
                instalment_of[key] = instalment
                open_items[sub_id][key] = allocation.Item(
                    key, instalment.due_date, amount)

        cls.set_number(payments)
        bill_invoice = {}
        for payment in payments:
            if payment.bill and payment.bill.invoice:
                bill_invoice[payment.id] = ('invoice', payment.bill.invoice.id)

        lines, plans = [], []
        for payment in payments:
            items = open_items[payment.subscription.id]
            # the instalments not yet due come after every due item
            due = [i for i in items.values()
                if i.key not in instalment_of or i.date <= payment.date]
            later = [i for i in items.values()
                if i.key in instalment_of and i.date > payment.date]
            allocated, left = allocation.allocate(
                payment.amount, due, order=order,
                first=bill_invoice.get(payment.id))
            allocated_later, left = allocation.allocate(left, later)
            payment_lines = []
            for key, part in allocated + allocated_later:
                item = items[key]
                # a second payment of the batch sees what this one paid
                items[key] = item._replace(amount=item.amount - part)
                if key in instalment_of:
                    payment_lines.append(Line(payment=payment,
                            instalment=instalment_of[key], amount=part))
                    continue
                payment_lines.append(Line(
                        payment=payment, invoice=key[1], amount=part))
            if left:
                payment_lines.append(Line(
                        payment=payment, invoice=None, amount=left))
            lines.extend(payment_lines)
            plans.append((payment, payment_lines, left))
        Line.save(lines)

        moves = []
        for payment, payment_lines, left in plans:
            company = payment.company
            journal, account = payment.get_debit()
            party = payment.subscription.party
            description = payment.get_move_description()
            receivable = party.account_receivable_used
            if not receivable:
                raise PaymentError(gettext(
                        'water_utility.msg_payment_no_receivable',
                        party=party.rec_name))
            move_lines = [MoveLine(
                    account=account,
                    debit=payment.amount, credit=Decimal(0),
                    description=payment.number)]
            for line in payment_lines:
                invoice = invoice_of.get(line.invoice.id if line.invoice
                    else None)
                if line.instalment:
                    credited = line.instalment.move_line.account
                else:
                    credited = invoice.account if invoice else receivable
                move_lines.append(MoveLine(
                        account=credited,
                        party=party,
                        debit=Decimal(0), credit=line.amount,
                        water_subscription=payment.subscription,
                        origin=line,
                        # what the account statement and the bill show
                        description=description))
            with without_check_access():
                period = Period.find(company, date=payment.date)
            moves.append(Move(
                    company=company, journal=journal, period=period,
                    date=payment.date, origin=payment,
                    description=description,
                    lines=move_lines))
        with without_check_access():
            Move.save(moves)
            Move.post(moves)
            for payment, move, (_, _, left) in zip(payments, moves, plans):
                payment.move = move
                payment.credit = left
            cls.save(payments)

            by_invoice = defaultdict(list)
            for move_line in MoveLine.search([
                        ('move', 'in', [m.id for m in moves]),
                        ('origin', 'like', 'water.payment.line,%'),
                        ]):
                if move_line.origin.invoice:
                    by_invoice[move_line.origin.invoice].append(move_line.id)
            Invoice.add_payment_lines(by_invoice)
            cls._reconcile_paid(list(by_invoice))
            Instalment.reconcile_paid(list({l.instalment
                        for _, lines, _ in plans for l in lines
                        if l.instalment}))

        balances = subscription_balances(subscription_ids)
        # a batch may hold several payments of a subscription: each shows
        # the balance it left, before the next ones
        for payment in reversed(payments):
            subscription = payment.subscription.id
            payment.balance = payment.currency.round(balances[subscription])
            balances[subscription] += payment.amount
        cls.save(payments)

    @classmethod
    @ModelView.button
    @Workflow.transition('cancelled')
    def cancel(cls, payments):
        """Cancel wrong receipts of a day still open: their moves are
        reversed and the bills they settled are open again

        The receipt keeps its number (the sequence has no gap) and shows as
        cancelled on the day; the subscriber's statement shows the payment
        and its reversal.
        """
        pool = Pool()
        Subscription = pool.get('water.subscription')
        Invoice = pool.get('account.invoice')
        Move = pool.get('account.move')
        MoveLine = pool.get('account.move.line')
        Reconciliation = pool.get('account.move.reconciliation')
        Line = pool.get('water.payment.line')
        Instalment = pool.get('water.settlement.instalment')
        for payment in payments:
            if not payment.cancel_reason:
                raise PaymentError(gettext(
                        'water_utility.msg_payment_cancel_reason',
                        payment=payment.rec_name))
            if not payment.session or payment.session.state != 'open':
                raise PaymentError(gettext(
                        'water_utility.msg_payment_cancel_closed',
                        payment=payment.rec_name))
        Subscription.lock(Subscription.browse(
                sorted({p.subscription.id for p in payments})))
        lines = [l for p in payments for l in p.move.lines]
        for line in lines:
            # a credit the next bills already took cannot come back
            if (line.reconciliation and isinstance(line.origin, Line)
                    and not line.origin.invoice
                    and not line.origin.instalment):
                raise PaymentError(gettext(
                        'water_utility.msg_payment_cancel_credit_used',
                        payment=line.move.origin.rec_name))
        with without_check_access():
            reconciliations = list({l.reconciliation for l in lines
                    if l.reconciliation})
            others = [l for r in reconciliations for l in r.lines
                if l not in lines]
            Reconciliation.delete(reconciliations)
            Invoice.remove_payment_lines(
                [l for l in lines if l.invoice_payment])
            cancels = []
            for payment in payments:
                cancels.append(payment.move.cancel(reversal=True, default={
                            'description': gettext(
                                'water_utility.msg_payment_cancel_description',
                                number=payment.number,
                                reason=payment.cancel_reason),
                            }))
            Move.post(cancels)
            groups = []
            for payment, cancel in zip(payments, cancels):
                by_key = defaultdict(list)
                for line in payment.move.lines + cancel.lines:
                    if line.account.reconcile:
                        by_key[line.account, line.party].append(line)
                groups.extend(by_key.values())
            MoveLine.reconcile(*groups)
            Instalment.reopen([l.instalment for p in payments
                    for l in p.lines if l.instalment])
            # the other receipts of the bills may still settle some fully
            invoices = {l.move.origin for l in others
                if l.move.origin and l.move.origin.__name__
                == 'account.invoice'}
            cls._reconcile_paid(list(invoices))

    @classmethod
    def _touch(cls, payments):
        """Record the last payment date on the subscriptions

        The update also makes a payment of the same subscription waiting on
        the lock fail to serialize on PostgreSQL and start again: it then
        reads the bills as this payment left them.
        """
        pool = Pool()
        Subscription = pool.get('water.subscription')
        table = Subscription.__table__()
        cursor = Transaction().connection.cursor()
        by_date = defaultdict(set)
        for payment in payments:
            by_date[payment.date].add(payment.subscription.id)
        for date, sub_ids in sorted(by_date.items()):
            for sub in grouped_slice(sorted(sub_ids),
                    backend.MAX_QUERY_PARAMS):
                cursor.execute(*table.update(
                        [table.last_payment_date], [date],
                        where=fields.SQL_OPERATORS['in'](
                            table.id, list(sub))))

    @classmethod
    def _reconcile_paid(cls, invoices):
        "Reconcile the invoices that nothing is left to pay on"
        pool = Pool()
        Invoice = pool.get('account.invoice')
        MoveLine = pool.get('account.move.line')
        invoices = Invoice.browse([i.id for i in invoices])
        to_pay = Invoice.get_amount_to_pay(invoices, 'amount_to_pay')
        groups = []
        for invoice in invoices:
            if to_pay.get(invoice.id):
                continue
            group = [l for l in invoice.lines_to_pay + invoice.payment_lines
                if not l.reconciliation]
            if group:
                groups.append(group)
        if groups:
            MoveLine.reconcile(*groups)

    @classmethod
    def apply_credits(cls, invoice_ids):
        """Settle newly posted bills with the credits their subscriptions
        hold (an overpayment, a credit note left over), the oldest first

        A receipt's credit that a bill takes whole becomes one of its
        payment lines.  Otherwise (or for a credit note) a move in the
        credit's journal carries it: its debit cancels the credit, its
        credits pay the bills and keep the rest as a new credit.  The subscription's balance does not change; its
        bills stop being overdue for money it already paid.
        """
        pool = Pool()
        Invoice = pool.get('account.invoice')
        Move = pool.get('account.move')
        MoveLine = pool.get('account.move.line')
        Period = pool.get('account.period')
        PaymentLine = pool.get('water.payment.line')
        if not invoice_ids:
            return
        with without_check_access():
            new = Invoice.browse(invoice_ids)
            subscription_ids = sorted({i.water_subscription.id for i in new
                    if i.water_subscription})
            credits = MoveLine.search([
                    ('water_subscription', 'in', subscription_ids),
                    ('account.type.receivable', '=', True),
                    ('reconciliation', '=', None),
                    ('move.state', '=', 'posted'),
                    ('credit', '>', 0),
                    ('invoice_payment', '=', None),
                    ], order=[('date', 'ASC'), ('id', 'ASC')])
            # a part of an instalment waits for the rest of it
            credits = [c for c in credits
                if not (isinstance(c.origin, PaymentLine)
                    and c.origin.instalment)]
            if not credits:
                return
            subscription_ids = sorted({
                    c.water_subscription.id for c in credits})
            invoices = Invoice.search([
                    ('water_subscription', 'in', subscription_ids),
                    ('type', '=', 'out'),
                    ('state', '=', 'posted'),
                    ])
            to_pay = Invoice.get_amount_to_pay(invoices, 'amount_to_pay')
        items = defaultdict(dict)
        invoice_of = {}
        for invoice in invoices:
            if to_pay.get(invoice.id, 0) > 0:
                invoice_of[invoice.id] = invoice
                items[invoice.water_subscription.id][invoice.id] = (
                    allocation.Item(invoice.id, invoice.invoice_date,
                        to_pay[invoice.id]))

        by_invoice = defaultdict(list)
        moves, pairs = [], []
        for credit in credits:
            subscription = credit.water_subscription
            open_ = items[subscription.id]
            allocated, left = allocation.allocate(
                credit.credit - credit.debit, list(open_.values()))
            if not allocated:
                continue
            for invoice_id, part in allocated:
                item = open_[invoice_id]
                open_[invoice_id] = item._replace(amount=item.amount - part)
            # a credit note's own line stays its own: a payment line of
            # another bill would leave the note open in Tryton's eyes
            if (len(allocated) == 1 and not left
                    and not isinstance(credit.move.origin, Invoice)):
                by_invoice[invoice_of[allocated[0][0]]].append(credit)
                continue
            date = max(invoice_of[i].invoice_date for i, _ in allocated)
            description = gettext('water_utility.msg_payment_credit_applied',
                subscription=subscription.number)
            lines = [MoveLine(
                    account=credit.account, party=credit.party,
                    debit=credit.credit - credit.debit, credit=Decimal(0),
                    water_subscription=subscription,
                    description=description)]
            for invoice_id, part in allocated:
                lines.append(MoveLine(
                        account=invoice_of[invoice_id].account,
                        party=credit.party, debit=Decimal(0), credit=part,
                        water_subscription=subscription,
                        description=description))
            if left:
                lines.append(MoveLine(
                        account=credit.account, party=credit.party,
                        debit=Decimal(0), credit=left,
                        water_subscription=subscription,
                        description=description))
            company = credit.move.company
            with without_check_access():
                period = Period.find(company, date=date)
            moves.append(Move(
                    company=company, journal=credit.move.journal,
                    period=period, date=date, origin=credit.move.origin,
                    description=description, lines=lines))
            pairs.append((credit, allocated))
        with without_check_access():
            if moves:
                Move.save(moves)
                Move.post(moves)
                to_reconcile = []
                for move, (credit, allocated) in zip(
                        Move.browse(moves), pairs):
                    lines = sorted(move.lines, key=lambda l: l.id)
                    to_reconcile.append(
                        [credit] + [l for l in lines if l.debit])
                    paid = [l for l in lines if l.credit]
                    for invoice_id, part in allocated:
                        line = next(l for l in paid if l.credit == part)
                        paid.remove(line)
                        by_invoice[invoice_of[invoice_id]].append(line)
                MoveLine.reconcile(*to_reconcile)
            if by_invoice:
                Invoice.add_payment_lines(
                    {i: [l.id for l in ls] for i, ls in by_invoice.items()})
                cls._reconcile_paid(list(by_invoice))

    def get_debit(self):
        "Return the journal and the account the money goes to"
        if self.session:
            desk = self.session.desk
            return desk.journal, desk.clearing_account
        if self.statement_origin:
            journal = self.statement_origin.statement.journal
            return journal.journal, journal.water_clearing_account
        raise PaymentError(gettext(
                'water_utility.msg_payment_no_channel',
                payment=self.rec_name))

    def get_move_description(self):
        return gettext('water_utility.msg_payment_move_description',
            number=self.number, subscription=self.subscription.number)

    @classmethod
    def set_number(cls, payments):
        pool = Pool()
        ModelData = pool.get('ir.model.data')
        Sequence = pool.get('ir.sequence.strict')
        default = Sequence(ModelData.get_id('water_utility', 'sequence_receipt'))
        for payment in payments:
            if payment.number:
                continue
            sequence = default
            if payment.session and payment.session.desk.sequence:
                sequence = payment.session.desk.sequence
            with without_check_access():
                payment.number = sequence.get()
        cls.save(payments)

    @classmethod
    def copy(cls, payments, default=None):
        default = default.copy() if default is not None else {}
        for name in ['number', 'move', 'credit', 'balance',
                'statement_origin']:
            default.setdefault(name, None)
        default.setdefault('lines', [])
        return super().copy(payments, default=default)


class PaymentLine(ModelSQL, ModelView):
    "Water Payment Allocation"
    __name__ = 'water.payment.line'
    __string__ = "Water Payment Allocation"

    payment = fields.Many2One(
        'water.payment', "Payment", required=True, ondelete='CASCADE')
    invoice = fields.Many2One(
        'account.invoice', "Invoice", readonly=True, ondelete='RESTRICT',
        help="The bill's invoice the amount settles; empty for a credit.")
    instalment = fields.Many2One(
        'water.settlement.instalment', "Settlement Instalment",
        readonly=True, ondelete='RESTRICT',
        help="The instalment of a settlement the amount pays.")
    bill = fields.Function(fields.Many2One('water.bill', "Bill"),
        'get_bill')
    currency = fields.Function(fields.Many2One(
            'currency.currency', "Currency"), 'on_change_with_currency')
    amount = Monetary(
        "Amount", currency='currency', digits='currency', readonly=True,
        required=True)

    @classmethod
    def __setup__(cls):
        super().__setup__()
        t = cls.__table__()
        cls._sql_indexes.add(Index(t, (t.invoice, Index.Range()),
                where=t.invoice != Null))

    @fields.depends('payment', '_parent_payment.company')
    def on_change_with_currency(self, name=None):
        if self.payment and self.payment.company:
            return self.payment.company.currency

    @classmethod
    def get_bill(cls, lines, name):
        pool = Pool()
        Bill = pool.get('water.bill')
        invoice_ids = [l.invoice.id for l in lines if l.invoice]
        bill_of = {}
        for bill in Bill.search([('invoice', 'in', invoice_ids)]):
            bill_of[bill.invoice.id] = bill.id
        return {l.id: bill_of.get(l.invoice.id) if l.invoice else None
            for l in lines}

    def get_rec_name(self, name):
        if self.invoice:
            return self.invoice.rec_name
        if self.instalment:
            return self.instalment.rec_name
        return gettext('water_utility.msg_payment_credit')


class TakeStart(ModelView):
    "Take a Water Payment"
    __name__ = 'water.payment.take.start'
    __string__ = "Take a Water Payment"

    session = fields.Many2One(
        'water.cash.session', "Cashier's Day", readonly=True, required=True)
    company = fields.Many2One('company.company', "Company", readonly=True)
    currency = fields.Many2One('currency.currency', "Currency", readonly=True)
    code = fields.Char("Bill Code",
        help="Scan the QR code of the bill here, or type the subscription "
        "number below.")
    subscription = fields.Many2One(
        'water.subscription', "Subscription", required=True,
        domain=[('company', '=', Eval('company', -1))])
    party = fields.Many2One('party.party', "Subscriber", readonly=True,
        context={'company': Eval('company', -1)}, depends={'company'})
    balance = Monetary(
        "Balance", currency='currency', digits='currency', readonly=True,
        help="What the subscription owes now (negative: a credit).")
    open_bills = fields.Text("Open Bills", readonly=True)
    bill = fields.Many2One(
        'water.bill', "Bill",
        domain=[
            ('subscription', '=', Eval('subscription', -1)),
            ('state', '=', 'posted'),
            ])
    amount = Monetary(
        "Amount", currency='currency', digits='currency', required=True,
        domain=[('amount', '>', 0)])
    method = fields.Selection(
        [m for m in METHODS if m[0] in DESK_METHODS], "Method",
        required=True)
    reference = fields.Char("Reference", states={
            'required': Eval('method').in_(['cheque', 'card']),
            'invisible': Eval('method') == 'cash',
            })
    payer = fields.Char("Paid By")

    @fields.depends('code', 'subscription', 'bill', 'amount',
        methods=['on_change_subscription'])
    def on_change_code(self):
        from .bill_report import parse_payload
        pool = Pool()
        Subscription = pool.get('water.subscription')
        Bill = pool.get('water.bill')
        payload = parse_payload(self.code)
        if not payload:
            return
        number, amount, reference, _ = payload
        subscriptions = Subscription.search(
            [('number', '=', number)], limit=1)
        if not subscriptions:
            return
        self.subscription = subscriptions[0]
        self.on_change_subscription()
        if reference:
            bills = Bill.search([
                    ('subscription', '=', self.subscription.id),
                    ('invoice.number', '=', reference),
                    ('state', '=', 'posted'),
                    ], limit=1)
            self.bill = bills[0] if bills else None
        if amount and amount > 0:
            self.amount = amount

    @fields.depends('subscription', 'currency')
    def on_change_subscription(self):
        pool = Pool()
        Invoice = pool.get('account.invoice')
        Lang = pool.get('ir.lang')
        self.party = self.subscription.party if self.subscription else None
        self.balance = None
        self.open_bills = None
        if not self.subscription:
            return
        balance = subscription_balances([self.subscription.id])[
            self.subscription.id]
        self.balance = balance
        if balance > 0:
            self.amount = balance
        with without_check_access():
            invoices = Invoice.search([
                    ('water_subscription', '=', self.subscription.id),
                    ('type', '=', 'out'),
                    ('state', '=', 'posted'),
                    ], order=[('invoice_date', 'ASC'), ('id', 'ASC')])
            to_pay = Invoice.get_amount_to_pay(invoices, 'amount_to_pay')
        lang = Lang.get()
        self.open_bills = '\n'.join(
            '%s  %s  %s' % (i.number, lang.strftime(i.invoice_date),
                lang.currency(to_pay[i.id], i.currency))
            for i in invoices if to_pay.get(i.id))


class Take(Wizard):
    "Take a Water Payment"
    __name__ = 'water.payment.take'

    start = StateView('water.payment.take.start',
        'water_utility.payment_take_start_view_form', [
            Button("Cancel", 'end', 'tryton-cancel'),
            Button("Take and Print Receipt", 'take', 'tryton-ok',
                default=True),
            ])
    take = StateTransition()
    print_ = StateReport('water.payment.receipt')

    def _session(self):
        pool = Pool()
        Session = pool.get('water.cash.session')
        if (self.model and self.model.__name__ == 'water.cash.session'
                and self.record):
            return self.record
        return Session.get_open()

    def default_start(self, fields):
        session = self._session()
        if not session or session.state != 'open':
            raise PaymentError(gettext(
                    'water_utility.msg_payment_no_open_session'))
        return {
            'session': session.id,
            'company': session.desk.company.id,
            'currency': session.desk.company.currency.id,
            'method': 'cash',
            }

    def transition_take(self):
        pool = Pool()
        Payment = pool.get('water.payment')
        start = self.start
        payment = Payment(
            session=start.session,
            company=start.session.desk.company,
            date=start.session.date,
            subscription=start.subscription,
            bill=start.bill,
            amount=start.amount,
            method=start.method,
            reference=start.reference,
            payer=start.payer)
        payment.save()
        Payment.post([payment])
        self._payment = payment.id
        return 'print_'

    def do_print_(self, action):
        return action, {'ids': [self._payment], 'id': self._payment}


class ReceiptReport(SubscriberReport):
    "Water Payment Receipt"
    __name__ = 'water.payment.receipt'


class Move(metaclass=PoolMeta):
    __name__ = 'account.move'

    @classmethod
    def _get_origin(cls):
        return super()._get_origin() + ['water.payment']


class MoveLine(metaclass=PoolMeta):
    __name__ = 'account.move.line'

    @classmethod
    def _get_origin(cls):
        return super()._get_origin() + ['water.payment.line']
