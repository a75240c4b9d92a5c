# This file is part of the water_utility module.  See README.rst.
"""Collection follow-up on Tryton's dunnings, without ever cutting water

A dunning procedure is chosen per subscription category; each of its levels
says what the utility does when an overdue bill reaches it (water_action):
a reminder printed on the next bill, an SMS or a letter (a notice), a phone
call, a field visit or a settlement offer (a task for the collection staff),
and at last a referral to legal action, which a collection manager approves.
Charter point 11: water is never cut off for non-payment, so no action,
state or button here can restrict the supply.

A subscription climbs the ladder once whichever of its overdue lines pushes
it: processing performs the highest level reached by a subscription's
dunnings, and only when it is above what was already done for it.
"""
from collections import defaultdict
from decimal import Decimal

from sql import Null
from sql.aggregate import Sum

from trytond import backend
from trytond.i18n import gettext
from trytond.model import ModelSQL, ModelView, Workflow, fields
from trytond.modules.currency.fields import Monetary
from trytond.pool import Pool, PoolMeta
from trytond.pyson import Eval
from trytond.tools import grouped_slice
from trytond.transaction import Transaction, without_check_access

from .exceptions import CollectionError
from .payment import subscription_balances
from .report_html import SubscriberReport

# The ladder, lowest first.  There is deliberately no action that cuts,
# disconnects, restricts or suspends the supply (charter point 11).
WATER_ACTIONS = [
    ('reminder', "Reminder on the bill"),
    ('sms', "SMS"),
    ('letter', "Letter"),
    ('call', "Phone Call"),
    ('visit', "Field Visit"),
    ('settlement', "Settlement Offer"),
    ('legal', "Referral to Legal Action"),
    ]
NOTICE_ACTIONS = {'sms', 'letter'}
TASK_ACTIONS = {'call', 'visit', 'settlement'}
OUTCOMES = [
    (None, ''),
    ('promised', "Promised to Pay"),
    ('paid', "Paid"),
    ('settlement', "Settlement Requested"),
    ('refused', "Refused to Pay"),
    ('unreachable', "Unreachable"),
    ('not_home', "Not at Home"),
    ]


def climb(processed, reached):
    """Return {key: item} for the highest ranked item of each key that is
    above the rank already reached for that key

    processed: iterable of (key, rank, item) being processed now;
    reached: {key: rank} of what was done before.
    """
    best = {}
    for key, rank, item in processed:
        if key not in best or rank > best[key][0]:
            best[key] = (rank, item)
    return {key: item for key, (rank, item) in best.items()
        if rank > reached.get(key, -1)}


def overdue_amount(balance, not_due):
    """The part of a balance that is overdue: payments settle the oldest
    bills first, so what is not yet due is the last to be paid"""
    return max(Decimal(0), balance - not_due)


class Level(metaclass=PoolMeta):
    __name__ = 'account.dunning.level'
    water_action = fields.Selection([(None, '')] + WATER_ACTIONS,
        "Water Collection Action", sort=False,
        help="What the utility does when a subscriber's bill reaches the "
        "level. Water is never cut off for non-payment.")
    water_action_string = water_action.translated('water_action')

    @property
    def water_rank(self):
        "The position of the level on its procedure's ladder"
        return self.procedure.levels.index(self)


class Category(metaclass=PoolMeta):
    __name__ = 'water.subscription.category'
    dunning_procedure = fields.Many2One(
        'account.dunning.procedure', "Collection Procedure",
        ondelete='RESTRICT',
        help="The collection ladder of the subscriptions of the category; "
        "empty, the subscriber's dunning procedure applies.")


class MoveLine(metaclass=PoolMeta):
    __name__ = 'account.move.line'

    @property
    def dunning_procedure(self):
        # the lines are browsed together: their subscriptions and
        # categories are read at once
        if (self.water_subscription
                and self.water_subscription.category.dunning_procedure):
            return self.water_subscription.category.dunning_procedure
        return super().dunning_procedure


class Dunning(metaclass=PoolMeta):
    __name__ = 'account.dunning'
    water_subscription = fields.Function(fields.Many2One(
            'water.subscription', "Water Subscription"),
        'get_line_field', searcher='search_line_field')
    water_action = fields.Function(fields.Selection(
            [(None, '')] + WATER_ACTIONS, "Water Collection Action"),
        'get_water_action')

    def get_water_action(self, name):
        return self.level.water_action

    @classmethod
    def process(cls, dunnings):
        to_act = [d for d in dunnings
            if not d.blocked and d.state == 'draft']
        super().process(dunnings)
        cls.water_act(cls.browse([d.id for d in to_act]))

    @classmethod
    def water_run(cls, date=None):
        """Create the dunnings of the lines overdue at the date and process
        them: the daily climb of the ladder"""
        pool = Pool()
        Date = pool.get('ir.date')
        if date is None:
            date = Date.today()
        cls.generate_dunnings(date)
        cls.process(cls.search([('state', '=', 'draft')]))

    @classmethod
    def water_reached(cls, subscription_ids, exclude):
        "The highest rank done for each subscription by other dunnings"
        reached = {}
        exclude = set(exclude)
        for sub_ids in grouped_slice(
                subscription_ids, backend.MAX_QUERY_PARAMS):
            for dunning in cls.search([
                        ('line.water_subscription', 'in', list(sub_ids)),
                        ('state', 'in', ['waiting', 'final']),
                        ('level.water_action', '!=', None),
                        ]):
                if dunning.id in exclude:
                    continue
                key = dunning.line.water_subscription.id
                reached[key] = max(
                    reached.get(key, -1), dunning.level.water_rank)
        return reached

    @classmethod
    def water_act(cls, dunnings):
        "Perform the collection action of the level the dunnings reached"
        pool = Pool()
        Notice = pool.get('water.collection.notice')
        Task = pool.get('water.collection.task')
        Referral = pool.get('water.legal.referral')
        Date = pool.get('ir.date')
        dunnings = [d for d in dunnings
            if d.line.water_subscription and d.level.water_action]
        if not dunnings:
            return
        subscription_ids = list({
                d.line.water_subscription.id for d in dunnings})
        reached = cls.water_reached(
            subscription_ids, [d.id for d in dunnings])
        todo = climb(((d.line.water_subscription.id, d.level.water_rank, d)
                for d in dunnings), reached)
        today = Date.today()
        amounts = overdue_amounts(list(todo), today)
        notices, tasks, referrals = [], [], []
        for subscription_id, dunning in todo.items():
            action = dunning.level.water_action
            amount = dunning.company.currency.round(
                amounts[subscription_id])
            if action in NOTICE_ACTIONS:
                notices.append(Notice.from_dunning(dunning, amount, today))
            elif action in TASK_ACTIONS:
                tasks.append(Task.from_dunning(dunning, today))
            elif action == 'legal':
                referrals.append(
                    Referral.from_dunning(dunning, amount, today))
        # the records follow from processing the dunning, which the user
        # may do
        with without_check_access():
            Notice.save(notices)
            Task.save(tasks)
            Referral.save(referrals)

    @classmethod
    def water_reminders(cls, subscription_ids):
        """The subscriptions whose bill carries a reminder: an overdue line
        under a processed dunning that is not blocked"""
        result = set()
        for sub_ids in grouped_slice(
                subscription_ids, backend.MAX_QUERY_PARAMS):
            with without_check_access():
                dunnings = cls.search([
                        ('line.water_subscription', 'in', list(sub_ids)),
                        ('state', 'in', ['waiting', 'final']),
                        ('blocked', '=', False),
                        ])
            result.update(d.line.water_subscription.id for d in dunnings)
        return result


def overdue_amounts(subscription_ids, date):
    "The overdue amount of each subscription at the date"
    pool = Pool()
    MoveLine = pool.get('account.move.line')
    Move = pool.get('account.move')
    Account = pool.get('account.account')
    AccountType = pool.get('account.account.type')
    line = MoveLine.__table__()
    move = Move.__table__()
    account = Account.__table__()
    type_ = AccountType.__table__()
    cursor = Transaction().connection.cursor()
    balances = subscription_balances(subscription_ids)
    not_due = defaultdict(Decimal)
    for sub_ids in grouped_slice(subscription_ids, backend.MAX_QUERY_PARAMS):
        cursor.execute(*line
            .join(move, condition=line.move == move.id)
            .join(account, condition=line.account == account.id)
            .join(type_, condition=account.type == type_.id)
            .select(line.water_subscription,
                Sum(line.debit - line.credit),
                where=fields.SQL_OPERATORS['in'](
                    line.water_subscription, list(sub_ids))
                & (move.state == 'posted')
                & (type_.receivable == True)  # noqa: E712
                & (line.reconciliation == Null)
                & (line.maturity_date > date),
                group_by=[line.water_subscription]))
        for subscription, amount in cursor:
            # SQLite sums as a float
            not_due[subscription] = Decimal(str(amount or 0))
    return {s: overdue_amount(balances[s], not_due[s])
        for s in subscription_ids}


def _format_amount(amount, currency, language):
    pool = Pool()
    Lang = pool.get('ir.lang')
    return Lang.get(language).currency(amount, currency)


class CollectionMixin:
    "What notices, tasks and referrals record of the dunning"
    __slots__ = ()
    company = fields.Many2One(
        'company.company', "Company", required=True, readonly=True)
    subscription = fields.Many2One(
        'water.subscription', "Subscription", required=True,
        ondelete='RESTRICT', readonly=True,
        domain=[('company', '=', Eval('company', -1))])
    party = fields.Many2One(
        'party.party', "Subscriber", required=True, ondelete='RESTRICT',
        readonly=True,
        context={
            'company': Eval('company', -1),
            },
        depends={'company'})
    dunning = fields.Many2One(
        'account.dunning', "Dunning", ondelete='SET NULL', readonly=True,
        domain=[('company', '=', Eval('company', -1))])
    level = fields.Many2One(
        'account.dunning.level', "Level", ondelete='RESTRICT',
        readonly=True)

    @classmethod
    def default_company(cls):
        return Transaction().context.get('company')

    @classmethod
    def _values_from_dunning(cls, dunning):
        subscription = dunning.line.water_subscription
        return dict(company=dunning.company, subscription=subscription,
            party=subscription.party, dunning=dunning, level=dunning.level)


class Notice(CollectionMixin, Workflow, ModelSQL, ModelView):
    "Water Collection Notice"
    __name__ = 'water.collection.notice'
    __string__ = "Water Collection Notice"

    channel = fields.Selection([
            ('sms', "SMS"),
            ('letter', "Letter"),
            ], "Channel", required=True, readonly=True)
    channel_string = channel.translated('channel')
    date = fields.Date("Date", required=True, readonly=True)
    amount = Monetary("Amount Overdue", currency='currency',
        digits='currency', readonly=True)
    currency = fields.Function(fields.Many2One(
            'currency.currency', "Currency"), 'on_change_with_currency')
    phone = fields.Function(fields.Char("Phone"), 'get_phone')
    text = fields.Text("Text",
        states={
            'readonly': Eval('state') != 'queued',
            })
    state = fields.Selection([
            ('queued', "Queued"),
            ('sent', "Sent"),
            ], "State", required=True, readonly=True, sort=False)
    state_string = state.translated('state')
    sent_date = fields.Date("Sent Date", readonly=True,
        states={
            'invisible': Eval('state') != 'sent',
            })

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls._order = [('date', 'DESC'), ('id', 'DESC')]
        cls._transitions |= {('queued', 'sent')}
        cls._buttons.update({
                'mark_sent': {
                    'invisible': Eval('state') != 'queued',
                    'depends': ['state'],
                    },
                })

    @classmethod
    def default_state(cls):
        return 'queued'

    @fields.depends('company')
    def on_change_with_currency(self, name=None):
        return self.company.currency if self.company else None

    def get_phone(self, name):
        return self.subscription.phone

    @classmethod
    def from_dunning(cls, dunning, amount, date):
        pool = Pool()
        Configuration = pool.get('water.configuration')
        notice = cls(**cls._values_from_dunning(dunning),
            channel=dunning.level.water_action, date=date, amount=amount)
        party = notice.party
        language = (party.lang.code if party.lang
            else Configuration(1).get_bill_language())
        with Transaction().set_context(language=language):
            notice.text = gettext(
                f'water_utility.msg_collection_{notice.channel}',
                subscription=notice.subscription.number,
                amount=_format_amount(
                    amount, dunning.company.currency, language),
                company=dunning.company.party.name)
        return notice

    @classmethod
    @ModelView.button
    @Workflow.transition('sent')
    def mark_sent(cls, notices):
        pool = Pool()
        Date = pool.get('ir.date')
        cls.write(notices, {'sent_date': Date.today()})


class Task(CollectionMixin, Workflow, ModelSQL, ModelView):
    "Water Collection Task"
    __name__ = 'water.collection.task'
    __string__ = "Water Collection Task"
    _states = {'readonly': Eval('state') != 'open'}

    kind = fields.Selection([
            ('call', "Phone Call"),
            ('visit', "Field Visit"),
            ('settlement', "Settlement Offer"),
            ], "Kind", required=True, readonly=True)
    kind_string = kind.translated('kind')
    planned_date = fields.Date("Planned Date", required=True,
        states=_states)
    user = fields.Many2One('res.user', "Assigned To", states=_states)
    mine = fields.Function(fields.Boolean("Mine"), 'get_mine',
        searcher='search_mine')
    phone = fields.Function(fields.Char("Phone"), 'get_phone')
    state = fields.Selection([
            ('open', "Open"),
            ('done', "Done"),
            ('cancelled', "Cancelled"),
            ], "State", required=True, readonly=True, sort=False)
    state_string = state.translated('state')
    done_date = fields.Date("Done Date", readonly=True,
        states={
            'invisible': Eval('state') != 'done',
            })
    outcome = fields.Selection(OUTCOMES, "Outcome", sort=False,
        states={
            'readonly': Eval('state') != 'open',
            'required': Eval('state') == 'done',
            })
    outcome_string = outcome.translated('outcome')
    notes = fields.Text("Notes")

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls._order = [('planned_date', 'ASC'), ('id', 'ASC')]
        cls._transitions |= {
            ('open', 'done'),
            ('open', 'cancelled'),
            ('cancelled', 'open'),
            }
        cls._buttons.update({
                'done': {
                    'invisible': Eval('state') != 'open',
                    'depends': ['state'],
                    },
                'cancel': {
                    'invisible': Eval('state') != 'open',
                    'depends': ['state'],
                    },
                'reopen': {
                    'invisible': Eval('state') != 'cancelled',
                    'depends': ['state'],
                    },
                })

    @classmethod
    def default_state(cls):
        return 'open'

    def get_phone(self, name):
        return self.subscription.phone

    def get_mine(self, name):
        return bool(self.user) and self.user.id == Transaction().user

    @classmethod
    def search_mine(cls, name, clause):
        _, operator, value = clause[:3]
        if (operator == '=') == bool(value):
            return [('user', '=', Transaction().user)]
        return ['OR',
            ('user', '!=', Transaction().user),
            ('user', '=', None),
            ]

    @classmethod
    def from_dunning(cls, dunning, date):
        return cls(**cls._values_from_dunning(dunning),
            kind=dunning.level.water_action, planned_date=date)

    @classmethod
    @ModelView.button
    @Workflow.transition('done')
    def done(cls, tasks):
        pool = Pool()
        Date = pool.get('ir.date')
        for task in tasks:
            if not task.outcome:
                raise CollectionError(gettext(
                        'water_utility.msg_collection_task_outcome',
                        task=task.rec_name))
        cls.write(tasks, {'done_date': Date.today()})

    @classmethod
    @ModelView.button
    @Workflow.transition('cancelled')
    def cancel(cls, tasks):
        pass

    @classmethod
    @ModelView.button
    @Workflow.transition('open')
    def reopen(cls, tasks):
        pass


class LegalReferral(CollectionMixin, Workflow, ModelSQL, ModelView):
    "Water Legal Referral"
    __name__ = 'water.legal.referral'
    __string__ = "Water Legal Referral"
    _states = {'readonly': Eval('state') != 'draft'}

    date = fields.Date("Date", required=True, states=_states)
    amount = Monetary("Amount Overdue", currency='currency',
        digits='currency', states=_states)
    currency = fields.Function(fields.Many2One(
            'currency.currency', "Currency"), 'on_change_with_currency')
    state = fields.Selection([
            ('draft', "Draft"),
            ('approved', "Approved"),
            ('sent', "Sent"),
            ('cancelled', "Cancelled"),
            ], "State", required=True, readonly=True, sort=False)
    requested_by = fields.Many2One('res.user', "Requested By",
        readonly=True)
    approved_by = fields.Many2One('res.user', "Approved By", readonly=True,
        states={
            'invisible': ~Eval('approved_by'),
            })
    approval_date = fields.Date("Approval Date", readonly=True,
        states={
            'invisible': ~Eval('approval_date'),
            })
    notes = fields.Text("Notes")

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls._order = [('date', 'DESC'), ('id', 'DESC')]
        cls._transitions |= {
            ('draft', 'approved'),
            ('approved', 'sent'),
            ('draft', 'cancelled'),
            ('approved', 'cancelled'),
            ('cancelled', 'draft'),
            }
        cls._buttons.update({
                'approve': {
                    'invisible': Eval('state') != 'draft',
                    'depends': ['state'],
                    },
                'send': {
                    'invisible': Eval('state') != 'approved',
                    'depends': ['state'],
                    },
                'cancel': {
                    'invisible': ~Eval('state').in_(['draft', 'approved']),
                    'depends': ['state'],
                    },
                'draft': {
                    'invisible': Eval('state') != 'cancelled',
                    'depends': ['state'],
                    },
                })

    @classmethod
    def default_state(cls):
        return 'draft'

    @classmethod
    def default_requested_by(cls):
        return Transaction().user or None

    @fields.depends('company')
    def on_change_with_currency(self, name=None):
        return self.company.currency if self.company else None

    @classmethod
    def from_dunning(cls, dunning, amount, date):
        return cls(**cls._values_from_dunning(dunning), amount=amount,
            date=date, requested_by=Transaction().user or None)

    @classmethod
    def check_manager(cls):
        """Only a collection manager approves: checked here too, so that a
        call by RPC cannot pass by the button's group"""
        pool = Pool()
        User = pool.get('res.user')
        ModelData = pool.get('ir.model.data')
        if not Transaction().user:
            return
        group = ModelData.get_id(
            'water_utility', 'group_water_collection_manager')
        if group not in User.get_groups():
            raise CollectionError(gettext(
                    'water_utility.msg_legal_referral_manager'))

    @classmethod
    @ModelView.button
    @Workflow.transition('approved')
    def approve(cls, referrals):
        pool = Pool()
        Date = pool.get('ir.date')
        cls.check_manager()
        cls.write(referrals, {
                'approved_by': Transaction().user or None,
                'approval_date': Date.today(),
                })

    @classmethod
    @ModelView.button
    @Workflow.transition('sent')
    def send(cls, referrals):
        cls.check_manager()

    @classmethod
    @ModelView.button
    @Workflow.transition('cancelled')
    def cancel(cls, referrals):
        pass

    @classmethod
    @ModelView.button
    @Workflow.transition('draft')
    def draft(cls, referrals):
        cls.write(referrals, {'approved_by': None, 'approval_date': None})


class LetterReport(SubscriberReport):
    "Water Collection Letter"
    __name__ = 'water.collection.letter'


class EvidenceReport(SubscriberReport):
    "Water Legal Referral Evidence File"
    __name__ = 'water.legal.referral.evidence'

    @classmethod
    def get_context(cls, records, header, data):
        pool = Pool()
        Line = pool.get('water.statement.line')
        Notice = pool.get('water.collection.notice')
        Task = pool.get('water.collection.task')
        Dunning = pool.get('account.dunning')
        context = super().get_context(records, header, data)
        subscription_ids = list({r.subscription.id for r in records})
        notices, tasks, dunnings = (defaultdict(list) for _ in range(3))
        for record in Notice.search([
                    ('subscription', 'in', subscription_ids)],
                order=[('date', 'ASC'), ('id', 'ASC')]):
            notices[record.subscription.id].append(record)
        for record in Task.search([
                    ('subscription', 'in', subscription_ids)],
                order=[('planned_date', 'ASC'), ('id', 'ASC')]):
            tasks[record.subscription.id].append(record)
        with Transaction().set_context(active_test=False):
            for record in Dunning.search([
                        ('line.water_subscription', 'in',
                            subscription_ids),
                        ],
                    order=[('line.maturity_date', 'ASC'), ('id', 'ASC')]):
                dunnings[record.line.water_subscription.id].append(record)
        files = []
        for referral in records:
            subscription = referral.subscription
            with Transaction().set_context(
                    water_subscription=subscription.id):
                lines = Line.search([('subscription', '=', subscription.id)])
            balance = lines[-1].balance if lines else Decimal(0)
            # the steps of the ladder the subscriber went through, by date
            steps = sorted(
                [(n.date, n.level) for n in notices[subscription.id]]
                + [(t.planned_date, t.level)
                    for t in tasks[subscription.id]]
                + [(referral.date, referral.level)],
                key=lambda s: s[0])
            files.append({
                    'referral': referral,
                    'subscription': subscription,
                    'lines': lines,
                    'balance': balance,
                    'notices': notices[subscription.id],
                    'tasks': tasks[subscription.id],
                    'dunnings': dunnings[subscription.id],
                    'steps': [(d, l) for d, l in steps if l],
                    })
        context['files'] = files
        context['today'] = pool.get('ir.date').today()
        return context
