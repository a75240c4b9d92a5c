# This file is part of the water_utility module.  See README.rst.
"""Rewards for on-time payers (charter point 15)

Each month (cron or the Grant Rewards wizard) the subscriptions whose every
bill of the last N bill months was paid by its due date earn a reward: a
percentage of the next bill's charges or a fixed credit.  The reward is a
negative line of the next bill calculated (BillingContext), an invoice line
once the bill is posted; a credited bill gives its reward back, to the bill
that replaces it.  A subscription earns at most one reward per N months:
the windows of its rewards never overlap.
"""
import datetime as dt
from collections import defaultdict
from decimal import Decimal

from sql import Null
from sql.aggregate import Count, Max
from sql.operators import Equal

from trytond import backend
from trytond.i18n import gettext
from trytond.model import (
    Exclude, Index, ModelSQL, ModelView, Workflow, fields)
from trytond.modules.currency.fields import Monetary
from trytond.pool import Pool, PoolMeta
from trytond.pyson import Eval, PYSONEncoder
from trytond.tools import grouped_slice
from trytond.transaction import Transaction, without_check_access
from trytond.wizard import Button, StateAction, StateView, Wizard

from . import punctuality
from .exceptions import RewardError
from .report_html import SubscriberReport

KIND = 'reward'
KINDS = [
    (punctuality.PERCENTAGE, "Percentage of the Next Bill"),
    (punctuality.FIXED, "Fixed Credit"),
    ]


class Configuration(metaclass=PoolMeta):
    __name__ = 'water.configuration'

    reward_enabled = fields.Boolean("Reward On-Time Payers",
        help="Grant each month a reward to the subscriptions that paid "
        "every bill of the last months by its due date.")
    reward_months = fields.Integer(
        "Reward Months",
        domain=['OR', ('reward_months', '=', None),
            ('reward_months', '>=', 1)],
        states={
            'required': Eval('reward_enabled', False),
            },
        help="The bill months that must all be paid on time; a "
        "subscription earns at most one reward in this many months.")
    reward_kind = fields.Selection(KINDS, "Reward Kind",
        states={
            'required': Eval('reward_enabled', False),
            })
    reward_percentage = fields.Numeric(
        "Reward Percentage", digits=(16, 4),
        domain=['OR', ('reward_percentage', '=', None),
            [('reward_percentage', '>', 0), ('reward_percentage', '<=', 1)]],
        states={
            'invisible': Eval('reward_kind') != punctuality.PERCENTAGE,
            'required': (Eval('reward_enabled', False)
                & (Eval('reward_kind') == punctuality.PERCENTAGE)),
            },
        help="The share of the next bill's charges before tax.")
    reward_amount = fields.Numeric(
        "Reward Amount", digits=(16, 2),
        domain=['OR', ('reward_amount', '=', None),
            ('reward_amount', '>', 0)],
        states={
            'invisible': Eval('reward_kind') != punctuality.FIXED,
            'required': (Eval('reward_enabled', False)
                & (Eval('reward_kind') == punctuality.FIXED)),
            },
        help="The credit on the next bill, at most its charges.")
    reward_product = fields.Many2One(
        'product.product', "Reward Product",
        domain=[('type', '=', 'service')],
        states={
            'required': Eval('reward_enabled', False),
            },
        help="The service of the reward line: its revenue account takes the "
        "rewards.")

    reward_categories = fields.Many2Many(
        'water.configuration-water.subscription.category', 'configuration',
        'category', "Reward Categories",
        help="The subscription categories the programme rewards; empty for "
        "every category.")

    @classmethod
    def default_reward_months(cls):
        return 12

    @classmethod
    def default_reward_kind(cls):
        return punctuality.PERCENTAGE

    def get_reward_value(self):
        "The value of a reward as granted now: a fraction or an amount"
        if self.reward_kind == punctuality.FIXED:
            return self.reward_amount
        return self.reward_percentage


class ConfigurationRewardCategory(ModelSQL):
    "Configuration - Reward Category"
    __name__ = 'water.configuration-water.subscription.category'
    configuration = fields.Many2One(
        'water.configuration', "Configuration", required=True,
        ondelete='CASCADE')
    category = fields.Many2One(
        'water.subscription.category', "Category", required=True,
        ondelete='CASCADE')


class Reward(Workflow, ModelSQL, ModelView):
    "On-Time Payment Reward"
    __name__ = 'water.reward'
    __string__ = "On-Time Payment Reward"

    company = fields.Many2One(
        'company.company', "Company", required=True, readonly=True)
    subscription = fields.Many2One(
        'water.subscription', "Subscription", required=True, readonly=True,
        ondelete='RESTRICT')
    party = fields.Many2One(
        'party.party', "Subscriber", required=True, readonly=True,
        ondelete='RESTRICT',
        context={
            'company': Eval('company', -1),
            },
        depends={'company'})
    month = fields.Date(
        "Month", required=True, readonly=True,
        help="The last bill month of the window.")
    date = fields.Date("Granted On", required=True, readonly=True)
    window_start = fields.Date("Window Start", required=True, readonly=True)
    window_end = fields.Date("Window End", required=True, readonly=True)
    bills = fields.Integer(
        "Bills Counted", readonly=True,
        help="The bills of the window, all paid by their due date.")
    kind = fields.Selection(KINDS, "Kind", required=True, readonly=True)
    kind_string = kind.translated('kind')
    value = fields.Numeric(
        "Value", digits=(16, 4), required=True, readonly=True,
        help="A fraction of the charges (0.05 is 5 %) or an amount.")
    product = fields.Many2One(
        'product.product', "Product", required=True, readonly=True,
        ondelete='RESTRICT',
        context={
            'company': Eval('company', -1),
            },
        depends={'company'})
    amount = Monetary(
        "Amount", currency='currency', digits='currency', readonly=True,
        help="The amount deducted from the bill, once billed.")
    state = fields.Selection([
            ('pending', "Pending"),
            ('billed', "Billed"),
            ('cancelled', "Cancelled"),
            ], "State", required=True, readonly=True, sort=False)
    state_string = state.translated('state')
    bill = fields.Many2One(
        'water.bill', "Bill", readonly=True, ondelete='RESTRICT',
        help="The bill that carries the reward.")
    currency = fields.Function(
        fields.Many2One('currency.currency', "Currency"), 'get_currency')

    @classmethod
    def __setup__(cls):
        super().__setup__()
        t = cls.__table__()
        cls._sql_constraints = [
            ('subscription_window_unique',
                Exclude(t, (t.subscription, Equal), (t.window_start, Equal),
                    where=t.state != 'cancelled'),
                'water_utility.msg_reward_unique'),
            ]
        cls._sql_indexes.update({
                Index(t, (t.subscription, Index.Range()),
                    (t.window_end, Index.Range())),
                Index(t, (t.month, Index.Range())),
                Index(t, (t.subscription, Index.Range()),
                    where=t.state == 'pending'),
                Index(t, (t.bill, Index.Range())),
                })
        cls._order = [('month', 'DESC'), ('subscription', 'ASC'),
            ('id', 'DESC')]
        cls._transitions |= {
            ('pending', 'cancelled'),
            ('cancelled', 'pending'),
            }
        cls._buttons.update({
                'cancel': {
                    'invisible': Eval('state') != 'pending',
                    'icon': 'tryton-cancel',
                    'depends': ['state'],
                    },
                'draft': {
                    'invisible': Eval('state') != 'cancelled',
                    'icon': 'tryton-undo',
                    'depends': ['state'],
                    },
                })

    @classmethod
    def default_state(cls):
        return 'pending'

    @classmethod
    def default_company(cls):
        return Transaction().context.get('company')

    def get_currency(self, name):
        return self.company.currency.id

    def get_rec_name(self, name):
        return f'{self.subscription.number} {self.month:%Y-%m}'

    @classmethod
    def search_rec_name(cls, name, clause):
        return [('subscription.rec_name',) + tuple(clause[1:])]

    @classmethod
    @ModelView.button
    @Workflow.transition('cancelled')
    def cancel(cls, rewards):
        pass

    @classmethod
    @ModelView.button
    @Workflow.transition('pending')
    def draft(cls, rewards):
        pass

    @classmethod
    def check_modification(cls, mode, rewards, values=None, external=False):
        super().check_modification(
            mode, rewards, values=values, external=external)
        if mode == 'delete':
            for reward in rewards:
                if reward.state != 'cancelled':
                    raise RewardError(gettext(
                            'water_utility.msg_reward_delete',
                            reward=reward.rec_name))

    # --- granting ---------------------------------------------------------

    @classmethod
    def last_due_month(cls, company_id, date=None):
        """The last bill month whose posted bills are all due before date
        (today): the latest month that can be judged"""
        pool = Pool()
        Bill = pool.get('water.bill')
        Date = pool.get('ir.date')
        date = date or Date.today()
        bill = Bill.__table__()
        cursor = Transaction().connection.cursor()
        cursor.execute(*bill.select(bill.month,
                where=(bill.company == company_id)
                & (bill.state == 'posted'),
                group_by=[bill.month],
                having=Max(bill.due_date) < date,
                order_by=[bill.month.desc], limit=1))
        row = cursor.fetchone()
        return _date(row[0]) if row else None

    @classmethod
    def grant_cron(cls):
        "Grant the rewards of the last month that can be judged (cron)"
        pool = Pool()
        Configuration = pool.get('water.configuration')
        company = Transaction().context.get('company')
        if not company or not Configuration(1).reward_enabled:
            return
        month = cls.last_due_month(company)
        if month:
            cls.grant(month, company)

    @classmethod
    def grant(cls, month, company_id, date=None):
        """Grant the rewards of the window of months ending with month to
        the eligible subscriptions of company; return the new rewards

        Running it again adds nothing: a subscription with a reward whose
        window reaches into this one is left out.
        """
        pool = Pool()
        Configuration = pool.get('water.configuration')
        Date = pool.get('ir.date')
        configuration = Configuration(1)
        if not configuration.reward_enabled:
            raise RewardError(gettext('water_utility.msg_reward_disabled'))
        months = configuration.reward_months or 12
        value = configuration.get_reward_value()
        if not value or not configuration.reward_product:
            raise RewardError(gettext('water_utility.msg_reward_disabled'))
        # two grants at the same moment do not both pass the check
        cls.lock()
        start, end = punctuality.window(month, months)
        required = punctuality.window_months(month, months)
        found = cls._window_bills(company_id, start, end,
            [c.id for c in configuration.reward_categories])
        vlist = []
        today = date or Date.today()
        for (subscription, party), bills in found.items():
            if not punctuality.eligible(bills, required):
                continue
            vlist.append({
                    'company': company_id,
                    'subscription': subscription,
                    'party': party,
                    'month': required[-1],
                    'date': today,
                    'window_start': start,
                    'window_end': end,
                    'bills': len(bills),
                    'kind': configuration.reward_kind,
                    'value': value,
                    'product': configuration.reward_product.id,
                    'state': 'pending',
                    })
        return cls.create(vlist)

    @classmethod
    def _window_bills(cls, company_id, start, end, categories=None):
        """The posted bills of the window from start to end of the active
        subscriptions connected before it (of categories, if given) and
        without a reward reaching into it: by (subscription, party), the
        (month, due date, paid date) of each

        One query: each bill with the latest reconciliation date of its
        receivable lines, none when one of them is still open.
        """
        pool = Pool()
        Bill = pool.get('water.bill')
        Subscription = pool.get('water.subscription')
        Invoice = pool.get('account.invoice')
        MoveLine = pool.get('account.move.line')
        Reconciliation = pool.get('account.move.reconciliation')
        bill = Bill.__table__()
        subscription = Subscription.__table__()
        invoice = Invoice.__table__()
        line = MoveLine.__table__()
        reconciliation = Reconciliation.__table__()
        reward = cls.__table__()
        cursor = Transaction().connection.cursor()
        where = ((bill.company == company_id)
            & (bill.state == 'posted')
            & (bill.month >= start) & (bill.month <= end)
            & (subscription.state == 'active')
            & (subscription.connection_date <= start))
        if categories:
            where &= subscription.category.in_(categories)
        rewarded = reward.select(reward.subscription,
            where=(reward.company == company_id)
            & (reward.state != 'cancelled')
            & (reward.window_end >= start))
        query = (bill
            .join(subscription,
                condition=bill.subscription == subscription.id)
            .join(invoice, condition=bill.invoice == invoice.id)
            .join(line, condition=(line.move == invoice.move)
                & (line.account == invoice.account))
            .join(reconciliation, 'LEFT',
                condition=line.reconciliation == reconciliation.id)
            .select(
                bill.subscription, subscription.party, bill.id, bill.month,
                bill.due_date, Max(reconciliation.date),
                Count(line.id) - Count(line.reconciliation),
                where=where & ~bill.subscription.in_(rewarded),
                group_by=[bill.subscription, subscription.party, bill.id,
                    bill.month, bill.due_date]))
        cursor.execute(*query)
        result = defaultdict(list)
        for (subscription_id, party, _, month, due_date, paid, open_
                ) in cursor:
            result[(subscription_id, party)].append((_date(month),
                    _date(due_date), None if open_ else _date(paid)))
        return result

    # --- billing ----------------------------------------------------------

    @classmethod
    def to_bill(cls, subscription_ids):
        """The pending rewards of the subscriptions not on a calculated or
        posted bill yet, the oldest of each: by subscription, its values"""
        pool = Pool()
        Bill = pool.get('water.bill')
        Line = pool.get('water.bill.line')
        reward = cls.__table__()
        line = Line.__table__()
        bill = Bill.__table__()
        cursor = Transaction().connection.cursor()
        on_bill = line.join(bill, condition=line.bill == bill.id).select(
            line.reward,
            where=(line.reward != Null)
            & bill.state.in_(['calculated', 'posted']))
        result = {}
        for sub in grouped_slice(subscription_ids, backend.MAX_QUERY_PARAMS):
            cursor.execute(*reward.select(
                    reward.id, reward.subscription, reward.kind,
                    reward.value, reward.product,
                    where=fields.SQL_OPERATORS['in'](
                        reward.subscription, list(sub))
                    & (reward.state == 'pending')
                    & ~reward.id.in_(on_bill),
                    order_by=[reward.window_start.desc, reward.id.desc]))
            for id_, subscription, kind, value, product in cursor:
                # the last row of a subscription is its oldest reward
                result[subscription] = {
                    'id': id_, 'kind': kind, 'product': product,
                    'value': Decimal(str(value)),
                    }
        return result

    @staticmethod
    def bill_line(reward, charges, currency):
        """The values of the line of reward on a bill of charges before
        tax, or None when it takes nothing off"""
        if not reward:
            return None
        amount = punctuality.reward_amount(
            reward['kind'], reward['value'], charges, currency.rounding)
        if not amount:
            return None
        percentage = reward['kind'] == punctuality.PERCENTAGE
        return {
            'kind': KIND,
            'product': reward['product'],
            'quantity': Decimal(1),
            'unit_price': -amount,
            'amount': -amount,
            'percentage': reward['value'] if percentage else None,
            'base': charges if percentage else None,
            'reward': reward['id'],
            }

    @classmethod
    def mark_billed(cls, bill_ids):
        "The rewards on the lines of the posted bills are billed"
        pool = Pool()
        Line = pool.get('water.bill.line')
        line = Line.__table__()
        cursor = Transaction().connection.cursor()
        to_write = []
        for sub in grouped_slice(bill_ids, backend.MAX_QUERY_PARAMS):
            cursor.execute(*line.select(line.reward, line.bill, line.amount,
                    where=fields.SQL_OPERATORS['in'](line.bill, list(sub))
                    & (line.reward != Null)))
            for reward_id, bill_id, amount in cursor:
                to_write.extend(([cls(reward_id)], {
                            'state': 'billed',
                            'bill': bill_id,
                            'amount': -Decimal(str(amount)),
                            }))
        if to_write:
            # a consequence of posting, whoever posts
            with without_check_access():
                cls.write(*to_write)

    @classmethod
    def release(cls, bills):
        """The rewards of credited bills are pending again: the bill that
        replaces them carries them"""
        with without_check_access():
            rewards = cls.search([
                    ('bill', 'in', [b.id for b in bills]),
                    ('state', '=', 'billed'),
                    ])
            if rewards:
                cls.write(rewards, {
                        'state': 'pending',
                        'bill': None,
                        'amount': None,
                        })


def _date(value):
    "A date from the database (SQLite gives text in plain queries)"
    if isinstance(value, str):
        return dt.date.fromisoformat(value[:10])
    return value


class BillLine(metaclass=PoolMeta):
    __name__ = 'water.bill.line'

    reward = fields.Many2One(
        'water.reward', "Reward", readonly=True, ondelete='RESTRICT',
        states={
            'invisible': ~Eval('reward'),
            })

    @classmethod
    def __setup__(cls):
        super().__setup__()
        t = cls.__table__()
        cls._sql_indexes.add(Index(t, (t.reward, Index.Range()),
                where=t.reward != Null))

    @classmethod
    def get_kinds(cls):
        return super().get_kinds() + [
            (KIND, gettext('water_utility.msg_bill_line_reward'))]


class Bill(metaclass=PoolMeta):
    __name__ = 'water.bill'

    @classmethod
    def _after_post(cls, bills, invoices):
        pool = Pool()
        Reward = pool.get('water.reward')
        super()._after_post(bills, invoices)
        Reward.mark_billed([b.id for b in bills])

    @classmethod
    def credit(cls, bills, reason, date=None):
        pool = Pool()
        Reward = pool.get('water.reward')
        super().credit(bills, reason, date=date)
        Reward.release(bills)


class GrantStart(ModelView):
    "Grant Rewards"
    __name__ = 'water.reward.grant.start'
    __string__ = "Grant Rewards"

    company = fields.Many2One('company.company', "Company", readonly=True)
    month = fields.Date("Month", required=True,
        help="The last bill month of the window; its bills must all be "
        "due.")


class Grant(Wizard):
    "Grant Rewards"
    __name__ = 'water.reward.grant'
    start = StateView('water.reward.grant.start',
        'water_utility.reward_grant_start_view_form', [
            Button("Cancel", 'end', 'tryton-cancel'),
            Button("Grant", 'grant', 'tryton-ok', default=True),
            ])
    grant = StateAction('water_utility.act_reward_form')

    def default_start(self, fields):
        pool = Pool()
        Reward = pool.get('water.reward')
        company = Transaction().context.get('company')
        return {
            'company': company,
            'month': Reward.last_due_month(company) if company else None,
            }

    def do_grant(self, action):
        pool = Pool()
        Reward = pool.get('water.reward')
        month = self.start.month.replace(day=1)
        rewards = Reward.grant(month, self.start.company.id)
        action['pyson_domain'] = PYSONEncoder().encode([
                ('id', 'in', [r.id for r in rewards]),
                ])
        return action, {}


class RewardReport(SubscriberReport):
    "On-Time Payment Rewards"
    __name__ = 'water.reward'

    @classmethod
    def get_context(cls, records, header, data):
        context = super().get_context(records, header, data)
        records = sorted(records, key=lambda r: (
                r.month, r.subscription.number, r.id))
        by_month = defaultdict(list)
        for record in records:
            by_month[record.month].append(record)
        context['months'] = [(m, rs, sum((r.amount or 0 for r in rs),
                    Decimal(0))) for m, rs in sorted(by_month.items())]
        context['today'] = Pool().get('ir.date').today()
        return context
