# This file is part of the water_utility module.  See README.rst.
"""Settlements (تسوية): an agreement with a subscriber over a debt

The subscriber's open bills are settled by an agreement: a discount within
the utility's policy and the approver's own limit, a down payment and a
schedule of monthly instalments (schedule.py).  Water is never cut: an
agreement only changes when the debt falls due.

Signing posts one move in the settlement journal: it credits the receivable
of each bill for what is left to pay on it (the bills show paid), debits the
discount account for the discount and debits the receivable once per
instalment, due on the instalment's date.  The receivable thus still equals
the open bills plus the open instalments, and every part of the settled debt
is traceable to its instalment.  The instalments are paid at the desk like
bills (payment.py); an instalment unpaid past its due date and the grace
days is missed, the settlement is defaulted, and the overdue instalment
lines are ordinary overdue receivable lines that the dunning picks up.
"""
import datetime as dt
from collections import defaultdict
from decimal import Decimal

from trytond.i18n import gettext
from trytond.model import Index, ModelSQL, ModelView, Workflow, fields
from trytond.modules.currency.fields import Monetary
from trytond.pool import Pool, PoolMeta
from trytond.pyson import Eval, If
from trytond.transaction import Transaction, without_check_access

from . import schedule
from .exceptions import SettlementError
from .report_html import SubscriberReport


class Settlement(Workflow, ModelSQL, ModelView):
    "Water Settlement"
    __name__ = 'water.settlement'
    __string__ = "Water Settlement"
    _rec_name = 'number'

    _states = {'readonly': Eval('state') != 'draft'}

    company = fields.Many2One(
        'company.company', "Company", required=True, states=_states)
    number = fields.Char("Number", readonly=True)
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
    date = fields.Date("Date", required=True, states=_states)
    invoices = fields.Many2Many(
        'water.settlement-account.invoice', 'settlement', 'invoice',
        "Bills", states=_states,
        domain=[
            ('water_subscription', '=', Eval('subscription', -1)),
            ('type', '=', 'out'),
            If(Eval('state') == 'draft',
                ('state', '=', 'posted'),
                ()),
            ],
        help="The open bills the settlement covers.")
    currency = fields.Function(fields.Many2One(
            'currency.currency', "Currency"), 'on_change_with_currency')
    # stored: once signed, the bills are paid and nothing is left on them
    debt = Monetary(
        "Debt", currency='currency', digits='currency', readonly=True,
        help="What was left to pay on the bills when the settlement was "
        "made.")
    discount = Monetary(
        "Discount", currency='currency', digits='currency', required=True,
        states=_states, domain=[('discount', '>=', 0)])
    discount_rate = fields.Function(fields.Numeric(
            "Discount (%)", digits=(16, 2)), 'on_change_with_discount_rate')
    down_payment = Monetary(
        "Down Payment", currency='currency', digits='currency',
        required=True, states=_states, domain=[('down_payment', '>=', 0)],
        help="Due when the agreement is signed.")
    instalment_count = fields.Integer(
        "Number of Instalments", required=True, states=_states,
        domain=[('instalment_count', '>=', 1)])
    first_month = fields.Date(
        "First Instalment Month", required=True, states=_states,
        help="The month of the first instalment; it falls due on the day "
        "of the month of the configuration.")
    instalments = fields.One2Many(
        'water.settlement.instalment', 'settlement', "Instalments",
        readonly=True, order=[('sequence', 'ASC')])
    approved_by = fields.Many2One('res.user', "Approved By", readonly=True)
    approval_date = fields.Date("Approval Date", readonly=True)
    signature_date = fields.Date(
        "Signature Date",
        states={
            'readonly': ~Eval('state').in_(['draft', 'approved']),
            'required': Eval('state').in_(['signed', 'done', 'defaulted']),
            })
    move = fields.Many2One('account.move', "Move", readonly=True,
        ondelete='RESTRICT')
    state = fields.Selection([
            ('draft', "Draft"),
            ('approved', "Approved"),
            ('signed', "Signed"),
            ('done', "Done"),
            ('defaulted', "Defaulted"),
            ('cancelled', "Cancelled"),
            ], "State", readonly=True, sort=False)

    del _states

    @classmethod
    def __setup__(cls):
        super().__setup__()
        t = cls.__table__()
        cls._sql_indexes.update({
                Index(t, (t.subscription, Index.Range())),
                Index(t, (t.state, Index.Equality(cardinality='low')),
                    where=t.state.in_(['draft', 'approved', 'signed'])),
                })
        cls._order = [('date', 'DESC'), ('id', 'DESC')]
        cls._transitions |= {
            ('draft', 'approved'),
            ('approved', 'draft'),
            ('approved', 'signed'),
            ('draft', 'cancelled'),
            ('approved', 'cancelled'),
            ('cancelled', 'draft'),
            ('signed', 'done'),
            ('signed', 'defaulted'),
            ('defaulted', 'done'),
            }
        cls._buttons.update({
                'compute_schedule': {
                    'invisible': Eval('state') != 'draft',
                    'depends': ['state'],
                    },
                'approve': {
                    'invisible': Eval('state') != 'draft',
                    'depends': ['state'],
                    },
                'draft': {
                    'invisible': ~Eval('state').in_(
                        ['approved', 'cancelled']),
                    'icon': If(Eval('state') == 'cancelled',
                        'tryton-undo', 'tryton-back'),
                    'depends': ['state'],
                    },
                'sign': {
                    'invisible': Eval('state') != 'approved',
                    'readonly': ~Eval('signature_date'),
                    'depends': ['state', 'signature_date'],
                    },
                'cancel': {
                    'invisible': ~Eval('state').in_(['draft', 'approved']),
                    'depends': ['state'],
                    },
                })

    @classmethod
    def default_company(cls):
        return Transaction().context.get('company')

    @classmethod
    def default_state(cls):
        return 'draft'

    @classmethod
    def default_date(cls):
        return Pool().get('ir.date').today()

    @classmethod
    def default_discount(cls):
        return Decimal(0)

    @classmethod
    def default_down_payment(cls):
        return Decimal(0)

    @classmethod
    def default_first_month(cls):
        today = Pool().get('ir.date').today()
        return (today.replace(day=1) + dt.timedelta(days=32)).replace(day=1)

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

    @fields.depends('debt', 'discount')
    def on_change_with_discount_rate(self, name=None):
        if self.debt and self.discount is not None:
            return (self.discount * 100 / self.debt).quantize(
                Decimal('0.01'))

    @fields.depends('subscription', 'invoices',
        methods=['on_change_invoices'])
    def on_change_subscription(self):
        pool = Pool()
        Invoice = pool.get('account.invoice')
        if not self.subscription:
            self.invoices = []
            self.debt = None
            return
        with without_check_access():
            invoices = Invoice.search([
                    ('water_subscription', '=', self.subscription.id),
                    ('type', '=', 'out'),
                    ('state', '=', 'posted'),
                    ], order=[('invoice_date', 'ASC'), ('id', 'ASC')])
        self.invoices = invoices
        self.on_change_invoices()

    @fields.depends('invoices', 'company',
        methods=['on_change_with_discount_rate'])
    def on_change_invoices(self):
        self.debt = self.get_debt(self.invoices,
            self.company.currency if self.company else None)
        self.discount_rate = self.on_change_with_discount_rate()

    @staticmethod
    def get_debt(invoices, currency=None):
        "What is left to pay on the invoices"
        pool = Pool()
        Invoice = pool.get('account.invoice')
        invoices = Invoice.browse([i.id for i in invoices if i.id >= 0])
        with without_check_access():
            to_pay = Invoice.get_amount_to_pay(invoices, 'amount_to_pay')
        debt = sum(to_pay.values(), Decimal(0))
        return currency.round(debt) if currency else debt

    def get_rec_name(self, name):
        if self.number:
            return self.number
        return f'({self.id})'

    @classmethod
    def search_rec_name(cls, name, clause):
        return [('number',) + tuple(clause[1:])]

    @classmethod
    def check_modification(cls, mode, settlements, values=None,
            external=False):
        super().check_modification(
            mode, settlements, values=values, external=external)
        if mode == 'delete':
            for settlement in settlements:
                if settlement.state not in {'draft', 'cancelled'}:
                    raise SettlementError(gettext(
                            'water_utility.msg_settlement_delete',
                            settlement=settlement.rec_name))

    @classmethod
    def copy(cls, settlements, default=None):
        default = default.copy() if default is not None else {}
        for name in ['number', 'move', 'approved_by', 'approval_date',
                'signature_date']:
            default.setdefault(name, None)
        default.setdefault('instalments', [])
        return super().copy(settlements, default=default)

    def get_schedule(self):
        "Return the schedule.Instalment list of the settlement"
        pool = Pool()
        Configuration = pool.get('water.configuration')
        config = Configuration(1)
        currency = self.company.currency
        try:
            return schedule.schedule(
                self.debt or 0, self.discount, self.down_payment,
                self.instalment_count, self.first_month,
                config.get_settlement_due_day(),
                quantum=Decimal(str(currency.rounding)))
        except ValueError:
            raise SettlementError(gettext(
                    'water_utility.msg_settlement_exceeds_debt',
                    settlement=self.rec_name))

    @classmethod
    @ModelView.button
    def compute_schedule(cls, settlements):
        "Read the debt of the bills again and make the instalments"
        pool = Pool()
        Instalment = pool.get('water.settlement.instalment')
        Instalment.delete([i for s in settlements for i in s.instalments])
        instalments = []
        for settlement in settlements:
            settlement.debt = cls.get_debt(
                settlement.invoices, settlement.company.currency)
            if settlement.down_payment:
                # the down payment is the instalment 0, due at signature
                instalments.append(Instalment(
                        settlement=settlement, sequence=0,
                        due_date=settlement.signature_date or settlement.date,
                        amount=settlement.company.currency.round(
                            settlement.down_payment)))
            for item in settlement.get_schedule():
                instalments.append(Instalment(
                        settlement=settlement, sequence=item.sequence,
                        due_date=item.date, amount=item.amount))
        cls.save(settlements)
        Instalment.save(instalments)

    @classmethod
    def check_policy(cls, settlements):
        """Refuse a settlement outside the utility's policy or the limit of
        the user who approves it"""
        pool = Pool()
        Configuration = pool.get('water.configuration')
        User = pool.get('res.user')
        config = Configuration(1)
        user = User(Transaction().user)
        for settlement in settlements:
            debt = settlement.debt or Decimal(0)
            if not settlement.invoices or debt <= 0:
                raise SettlementError(gettext(
                        'water_utility.msg_settlement_no_debt',
                        settlement=settlement.rec_name))
            rate = settlement.discount * 100 / debt
            policy = config.settlement_max_discount or Decimal(0)
            if rate > policy:
                raise SettlementError(gettext(
                        'water_utility.msg_settlement_discount_policy',
                        settlement=settlement.rec_name,
                        rate=round(rate, 2), limit=policy))
            limit = user.water_settlement_discount_limit or Decimal(0)
            # the root user of the crons and the scripts has no limit
            if Transaction().user and rate > limit:
                raise SettlementError(gettext(
                        'water_utility.msg_settlement_discount_limit',
                        settlement=settlement.rec_name,
                        rate=round(rate, 2), limit=limit,
                        user=user.rec_name))
            minimum = config.settlement_min_down_payment or Decimal(0)
            if settlement.down_payment * 100 < minimum * (debt
                    - settlement.discount):
                raise SettlementError(gettext(
                        'water_utility.msg_settlement_down_payment',
                        settlement=settlement.rec_name, minimum=minimum))
            maximum = config.settlement_max_instalments
            if maximum and settlement.instalment_count > maximum:
                raise SettlementError(gettext(
                        'water_utility.msg_settlement_instalments',
                        settlement=settlement.rec_name, maximum=maximum))

    @classmethod
    @ModelView.button
    @Workflow.transition('approved')
    def approve(cls, settlements):
        pool = Pool()
        Date = pool.get('ir.date')
        cls.compute_schedule(settlements)
        settlements = cls.browse(settlements)
        cls.check_policy(settlements)
        cls.set_number(settlements)
        today = Date.today()
        for settlement in settlements:
            settlement.approved_by = Transaction().user
            settlement.approval_date = today
        cls.save(settlements)

    @classmethod
    @ModelView.button
    @Workflow.transition('draft')
    def draft(cls, settlements):
        cls.write(settlements, {
                'approved_by': None,
                'approval_date': None,
                })

    @classmethod
    @ModelView.button
    @Workflow.transition('cancelled')
    def cancel(cls, settlements):
        pass

    @classmethod
    @ModelView.button
    @Workflow.transition('signed')
    def sign(cls, settlements):
        cls._sign(settlements)

    @classmethod
    def _sign(cls, settlements):
        """Post the move that turns the bills into the instalments

        The bills are read again under the subscriptions' lock: a payment
        taken since the approval changes the debt and the settlement must be
        made again.
        """
        pool = Pool()
        Subscription = pool.get('water.subscription')
        Invoice = pool.get('account.invoice')
        Move = pool.get('account.move')
        MoveLine = pool.get('account.move.line')
        Period = pool.get('account.period')
        Instalment = pool.get('water.settlement.instalment')
        Payment = pool.get('water.payment')
        Configuration = pool.get('water.configuration')
        config = Configuration(1)
        if not settlements:
            return
        journal = config.settlement_journal
        discount_account = config.settlement_discount_account
        if not journal or (not discount_account
                and any(s.discount for s in settlements)):
            raise SettlementError(gettext(
                    'water_utility.msg_settlement_no_configuration'))
        Subscription.lock(Subscription.browse(
                sorted({s.subscription.id for s in settlements})))
        invoices = Invoice.browse(
            [i.id for s in settlements for i in s.invoices])
        with without_check_access():
            to_pay = Invoice.get_amount_to_pay(invoices, 'amount_to_pay')

        moves, move_lines, instalments, by_invoice = [], [], [], {}
        for settlement in settlements:
            if not settlement.signature_date:
                raise SettlementError(gettext(
                        'water_utility.msg_settlement_no_signature_date',
                        settlement=settlement.rec_name))
            debt = sum((to_pay.get(i.id, Decimal(0))
                    for i in settlement.invoices), Decimal(0))
            if (debt != settlement.debt
                    or any(i.state != 'posted' for i in settlement.invoices)):
                raise SettlementError(gettext(
                        'water_utility.msg_settlement_debt_changed',
                        settlement=settlement.rec_name))
            party = settlement.subscription.party
            receivable = party.account_receivable_used
            description = gettext(
                'water_utility.msg_settlement_move_description',
                number=settlement.number,
                subscription=settlement.subscription.number)
            with without_check_access():
                period = Period.find(
                    settlement.company, date=settlement.signature_date)
            move = Move(
                company=settlement.company, journal=journal,
                period=period, date=settlement.signature_date,
                origin=settlement, description=description)
            moves.append(move)
            for invoice in settlement.invoices:
                amount = to_pay.get(invoice.id, Decimal(0))
                if not amount:
                    continue
                line = MoveLine(move=move,
                    account=invoice.account, party=party,
                    debit=Decimal(0), credit=amount,
                    water_subscription=settlement.subscription,
                    origin=settlement, description=description)
                by_invoice[invoice] = [line]
                move_lines.append(line)
            if settlement.discount:
                move_lines.append(MoveLine(move=move,
                        account=discount_account,
                        debit=settlement.discount, credit=Decimal(0),
                        origin=settlement, description=description))
            for instalment in settlement.instalments:
                if instalment.sequence == 0:
                    instalment.due_date = settlement.signature_date
                instalment.move_line = MoveLine(move=move,
                    account=receivable, party=party,
                    debit=instalment.amount, credit=Decimal(0),
                    maturity_date=instalment.due_date,
                    water_subscription=settlement.subscription,
                    origin=instalment,
                    description=instalment.get_move_description())
                move_lines.append(instalment.move_line)
                instalments.append(instalment)
        with without_check_access():
            Move.save(moves)
            MoveLine.save(move_lines)
            Move.post(moves)
            Instalment.save(instalments)
            for settlement, move in zip(settlements, moves):
                settlement.move = move
            cls.save(settlements)
            Invoice.add_payment_lines(
                {i: [l.id for l in ls] for i, ls in by_invoice.items()})
            Payment._reconcile_paid(list(by_invoice))

    @classmethod
    @Workflow.transition('done')
    def do(cls, settlements):
        pass

    @classmethod
    @Workflow.transition('defaulted')
    def default(cls, settlements):
        pass

    @classmethod
    def set_number(cls, settlements):
        pool = Pool()
        ModelData = pool.get('ir.model.data')
        Sequence = pool.get('ir.sequence')
        sequence = Sequence(
            ModelData.get_id('water_utility', 'sequence_settlement'))
        for settlement in settlements:
            if not settlement.number:
                with without_check_access():
                    settlement.number = sequence.get()
        cls.save(settlements)

    @classmethod
    def check_missed(cls, date=None):
        """Mark the instalments unpaid past their due date and the grace
        days as missed and their settlements as defaulted"""
        pool = Pool()
        Date = pool.get('ir.date')
        Instalment = pool.get('water.settlement.instalment')
        Configuration = pool.get('water.configuration')
        config = Configuration(1)
        if date is None:
            date = Date.today()
        grace = dt.timedelta(days=config.settlement_grace_days or 0)
        instalments = Instalment.search([
                ('state', '=', 'pending'),
                ('settlement.state', 'in', ['signed', 'defaulted']),
                ('due_date', '<', date - grace),
                ])
        Instalment.write(instalments, {'state': 'missed'})
        cls.default(list({i.settlement for i in instalments}))

    @classmethod
    def check_done(cls, settlements):
        "Mark done the settlements whose instalments are all paid"
        cls.do([s for s in settlements
                if s.state in {'signed', 'defaulted'}
                and all(i.state == 'paid' for i in s.instalments)])


class SettlementInvoice(ModelSQL):
    "Water Settlement - Invoice"
    __name__ = 'water.settlement-account.invoice'
    __string__ = "Water Settlement - Invoice"

    settlement = fields.Many2One(
        'water.settlement', "Settlement", required=True, ondelete='CASCADE')
    invoice = fields.Many2One(
        'account.invoice', "Invoice", required=True, ondelete='RESTRICT')


class Instalment(ModelSQL, ModelView):
    "Water Settlement Instalment"
    __name__ = 'water.settlement.instalment'
    __string__ = "Water Settlement Instalment"
    __access__ = {'settlement'}

    settlement = fields.Many2One(
        'water.settlement', "Settlement", required=True, ondelete='CASCADE',
        readonly=True)
    sequence = fields.Integer("Number", required=True, readonly=True,
        help="0 for the down payment.")
    due_date = fields.Date("Due Date", required=True, readonly=True)
    currency = fields.Function(fields.Many2One(
            'currency.currency', "Currency"), 'get_currency')
    amount = Monetary(
        "Amount", currency='currency', digits='currency', required=True,
        readonly=True)
    amount_to_pay = fields.Function(Monetary(
            "Amount to Pay", currency='currency', digits='currency'),
        'get_amount_to_pay')
    move_line = fields.Many2One('account.move.line', "Ledger Line",
        readonly=True, ondelete='RESTRICT')
    state = fields.Selection([
            ('pending', "Pending"),
            ('paid', "Paid"),
            ('missed', "Missed"),
            ], "State", readonly=True, sort=False)

    @classmethod
    def __setup__(cls):
        super().__setup__()
        t = cls.__table__()
        cls._sql_indexes.add(Index(t, (t.state, Index.Equality()),
                (t.due_date, Index.Range()),
                where=t.state.in_(['pending', 'missed'])))
        cls._order = [
            ('settlement', 'DESC'), ('sequence', 'ASC'), ('id', 'ASC')]

    @classmethod
    def default_state(cls):
        return 'pending'

    def get_currency(self, name):
        return self.settlement.company.currency.id

    def get_rec_name(self, name):
        return gettext('water_utility.msg_settlement_instalment_name',
            sequence=self.sequence, count=self.settlement.instalment_count,
            settlement=self.settlement.rec_name)

    def get_move_description(self):
        if self.sequence == 0:
            return gettext('water_utility.msg_settlement_down_payment_name',
                settlement=self.settlement.rec_name)
        return self.rec_name

    @classmethod
    def get_amount_to_pay(cls, instalments, name=None):
        "The amount of the instalments less what payments allocated to them"
        pool = Pool()
        PaymentLine = pool.get('water.payment.line')
        paid = defaultdict(Decimal)
        with without_check_access():
            for line in PaymentLine.search([
                        ('instalment', 'in', [i.id for i in instalments]),
                        ('payment.move', '!=', None),
                    ('payment.state', '!=', 'cancelled'),
                        ]):
                paid[line.instalment.id] += line.amount
        return {i.id: (i.amount - paid[i.id]
                if i.move_line and not i.move_line.reconciliation
                else Decimal(0))
            for i in instalments}

    @classmethod
    def open_items(cls, subscription_ids):
        """Return per subscription the list of (instalment, amount to pay)
        of the signed settlements, the oldest first"""
        with without_check_access():
            instalments = cls.search([
                    ('settlement.subscription', 'in', subscription_ids),
                    ('settlement.state', 'in', ['signed', 'defaulted']),
                    ('state', 'in', ['pending', 'missed']),
                    ('move_line', '!=', None),
                    ], order=[('due_date', 'ASC'), ('id', 'ASC')])
        to_pay = cls.get_amount_to_pay(instalments)
        items = defaultdict(list)
        for instalment in instalments:
            if to_pay[instalment.id] > 0:
                items[instalment.settlement.subscription.id].append(
                    (instalment, to_pay[instalment.id]))
        return items

    @classmethod
    def reconcile_paid(cls, instalments):
        """Reconcile the ledger line of the instalments paid in full with
        the payments' lines and mark them paid"""
        pool = Pool()
        MoveLine = pool.get('account.move.line')
        PaymentLine = pool.get('water.payment.line')
        Settlement = pool.get('water.settlement')
        instalments = cls.browse(instalments)
        to_pay = cls.get_amount_to_pay(instalments)
        paid = [i for i in instalments if not to_pay[i.id]]
        if not paid:
            return
        with without_check_access():
            payment_lines = PaymentLine.search([
                    ('instalment', 'in', [i.id for i in paid]),
                    ('payment.move', '!=', None),
                    ('payment.state', '!=', 'cancelled'),
                    ])
            move_lines = MoveLine.search([
                    ('origin', 'in', [str(l) for l in payment_lines]),
                    ('move.state', '=', 'posted'),
                    ])
        by_instalment = defaultdict(list)
        for line in move_lines:
            by_instalment[line.origin.instalment].append(line)
        groups = []
        for instalment in paid:
            group = [l for l in by_instalment[instalment]
                + [instalment.move_line] if not l.reconciliation]
            if group:
                groups.append(group)
        with without_check_access():
            MoveLine.reconcile(*groups)
        cls.write(paid, {'state': 'paid'})
        Settlement.check_done(list({i.settlement for i in paid}))


    @classmethod
    def reopen(cls, instalments):
        """Make due again the paid instalments whose payment was cancelled;
        a settlement done goes back to signed (defaulted if one was
        missed)"""
        pool = Pool()
        Settlement = pool.get('water.settlement')
        paid = list({i for i in instalments if i.state == 'paid'})
        if not paid:
            return
        cls.write(paid, {'state': 'pending'})
        to_write = []
        for settlement in {i.settlement for i in paid
                if i.settlement.state == 'done'}:
            missed = any(i.state == 'missed' for i in settlement.instalments)
            to_write.extend(([settlement], {
                        'state': 'defaulted' if missed else 'signed'}))
        if to_write:
            Settlement.write(*to_write)

class User(metaclass=PoolMeta):
    __name__ = 'res.user'

    water_settlement_discount_limit = fields.Numeric(
        "Settlement Discount Limit (%)", digits=(16, 2),
        domain=['OR',
            ('water_settlement_discount_limit', '=', None),
            [('water_settlement_discount_limit', '>=', 0),
                ('water_settlement_discount_limit', '<=', 100)],
            ],
        help="The largest discount on a debt, in percent, this user may "
        "approve in a settlement.")


class SettlementReport(SubscriberReport):
    "Water Settlement Agreement"
    __name__ = 'water.settlement.agreement'

    @classmethod
    def get_context(cls, records, header, data):
        pool = Pool()
        Invoice = pool.get('account.invoice')
        context = super().get_context(records, header, data)
        # what each bill owed: once signed, what the settlement paid on it
        bills = {}
        for settlement in records:
            invoices = Invoice.browse(settlement.invoices)
            with without_check_access():
                to_pay = Invoice.get_amount_to_pay(invoices, 'amount_to_pay')
            paid = {}
            for invoice in invoices:
                for line in invoice.payment_lines:
                    if settlement.move and line.move == settlement.move:
                        paid[invoice.id] = line.credit - line.debit
            bills[settlement.id] = [
                (invoice, paid.get(invoice.id, to_pay.get(invoice.id)))
                for invoice in invoices]
        context['bills'] = bills
        context['today'] = pool.get('ir.date').today()
        return context


class Move(metaclass=PoolMeta):
    __name__ = 'account.move'

    @classmethod
    def _get_origin(cls):
        return super()._get_origin() + ['water.settlement']


class MoveLine(metaclass=PoolMeta):
    __name__ = 'account.move.line'

    @classmethod
    def _get_origin(cls):
        return super()._get_origin() + [
            'water.settlement', 'water.settlement.instalment']
