# This file is part of the water_utility module.  See README.rst.
"""Violations (مخالفة) found in the field and their settlement

An inspector documents a violation on site (an illegal connection, a meter
bypass, tampering with a meter or its seal, an unauthorised reconnection,
a misuse of the subscription's category): the facts, photos (Tryton
attachments), the position, the witnesses and the statement of the person
responsible.  A non-subscriber's illegal connection has a party and a place
but no subscription.

Pricing estimates the water taken by rule (violation_rule.py): the daily
consumption of the category over the days from the start of the violation
to the day it was found, each month at the tariff of its days, plus the
penalty of the utility's policy for the type (water.violation.penalty).
Notifying posts that amount as a customer invoice on the violator's account
and prints the notice.  The violator may settle it like any debt
(settlement.py): when the settlement is signed the violation is settled.
Otherwise it is referred to legal action.

Cutting an illegal connection is a field work order of type 'illegal_cut'
opened from the violation.  It removes a connection that was never
authorised; it is not a disconnection of a subscriber for debt (water is
never cut for debt) and it never changes a subscription's state.
"""
import datetime as dt
from collections import defaultdict
from decimal import Decimal

from trytond.i18n import gettext
from trytond.model import (
    Index, ModelSQL, ModelView, Unique, Workflow, fields)
from trytond.modules.currency.fields import Monetary
from trytond.pool import Pool, PoolMeta
from trytond.pyson import Bool, Eval, If
from trytond.transaction import Transaction, without_check_access

from . import posting, tariff, violation_rule
from .exceptions import ViolationError
from .inspection import count_attachments
from .report_html import SubscriberReport

TYPES = [
    ('illegal_connection', "Illegal Connection"),
    ('bypass', "Meter Bypass"),
    ('meter_tampering', "Tampering with the Meter"),
    ('seal_tampering', "Tampering with the Seal"),
    ('reconnection', "Unauthorised Reconnection"),
    ('category_misuse', "Misuse of Category"),
    ]
OPEN = ['documented', 'notified', 'referred']


class Violation(Workflow, ModelSQL, ModelView):
    "Water Violation"
    __name__ = 'water.violation'
    __string__ = "Water Violation"
    _rec_name = 'number'

    _states = {'readonly': Eval('state') != 'documented'}

    company = fields.Many2One(
        'company.company', "Company", required=True, states=_states)
    number = fields.Char("Number", readonly=True)
    type = fields.Selection(TYPES, "Type", required=True, states=_states)
    type_string = type.translated('type')
    inspection = fields.Many2One(
        'water.inspection', "Work Order", ondelete='RESTRICT',
        domain=[('company', '=', Eval('company', -1))], states=_states,
        help="The work order that found the violation.")
    subscription = fields.Many2One(
        'water.subscription', "Subscription", ondelete='RESTRICT',
        domain=[('company', '=', Eval('company', -1))], states=_states,
        help="Empty for an illegal connection of a non-subscriber.")
    party = fields.Many2One(
        'party.party', "Party", required=True, ondelete='RESTRICT',
        states=_states,
        context={'company': Eval('company', -1)}, depends={'company'},
        help="The subscriber, or the person responsible for the place.")
    location = fields.Char(
        "Location", states=_states,
        help="The address or a description of the place.")
    area = fields.Many2One(
        'water.area', "Service Area", required=True, ondelete='RESTRICT',
        domain=[('company', '=', Eval('company', -1))], states=_states)
    latitude = fields.Numeric(
        "Latitude", digits=(9, 6), states=_states,
        domain=[If(Bool(Eval('latitude')),
                [('latitude', '>=', -90), ('latitude', '<=', 90)], [])])
    longitude = fields.Numeric(
        "Longitude", digits=(9, 6), states=_states,
        domain=[If(Bool(Eval('longitude')),
                [('longitude', '>=', -180), ('longitude', '<=', 180)], [])])
    found_date = fields.Date(
        "Date Found", required=True, states=_states)
    start_date = fields.Date(
        "Violation Since", required=True, states=_states,
        domain=[If(Bool(Eval('found_date')),
                ('start_date', '<', Eval('found_date')), ())],
        help="The estimated start of the violation: its consumption is "
        "charged from this day (excluded) to the day it was found.")
    facts = fields.Text("Facts", states=_states,
        help="What the inspectors found on site.")
    witnesses = fields.Text("Witnesses", states=_states)
    statement = fields.Text("Statement of the Violator", states=_states)
    photos = fields.Function(fields.Integer("Photos"), 'get_photos')

    # the estimate
    category = fields.Many2One(
        'water.subscription.category', "Category", required=True,
        ondelete='RESTRICT', states=_states,
        help="Gives the daily consumption and the tariff of the estimate: "
        "the subscription's, or the category of the actual use.")
    currency = fields.Function(fields.Many2One(
            'currency.currency', "Currency"), 'on_change_with_currency')
    daily_consumption = fields.Numeric(
        "Daily Consumption (m³)", digits=(16, 3), readonly=True)
    days = fields.Integer("Days", readonly=True)
    volume = fields.Numeric("Estimated Volume (m³)", digits=(16, 3),
        readonly=True)
    water_amount = Monetary(
        "Water Amount", currency='currency', digits='currency',
        readonly=True,
        help="The estimated volume at the tariff of its months.")
    penalty_amount = Monetary(
        "Penalty", currency='currency', digits='currency', readonly=True)
    amount = Monetary(
        "Amount", currency='currency', digits='currency', readonly=True,
        help="Water and penalty, before taxes.")
    priced_date = fields.Date("Priced On", readonly=True)

    invoice = fields.Many2One(
        'account.invoice', "Invoice", readonly=True, ondelete='RESTRICT')
    notice_date = fields.Date(
        "Notice Date",
        states={
            'readonly': Eval('state') != 'documented',
            'required': Eval('state').in_(['notified', 'settled', 'referred']),
            },
        help="The date of the notice and of its invoice; empty for the day "
        "it is notified.")
    settlement = fields.Many2One(
        'water.settlement', "Settlement", readonly=True,
        ondelete='RESTRICT')
    referral_date = fields.Date("Referral Date", readonly=True)
    referral_note = fields.Text(
        "Legal Referral Note",
        states={
            'readonly': Eval('state') != 'notified',
            'required': Eval('state') == 'referred',
            })
    work_orders = fields.One2Many(
        'water.inspection', 'origin', "Work Orders", readonly=True)
    state = fields.Selection([
            ('documented', "Documented"),
            ('notified', "Notified"),
            ('settled', "Settled"),
            ('referred', "Referred to Legal"),
            ('cancelled', "Cancelled"),
            ], "State", readonly=True, required=True, sort=False)
    state_string = state.translated('state')

    del _states

    @classmethod
    def __setup__(cls):
        super().__setup__()
        t = cls.__table__()
        cls._sql_indexes.update({
                Index(t, (t.subscription, Index.Range())),
                Index(t, (t.party, Index.Range())),
                Index(t, (t.inspection, Index.Range())),
                Index(t, (t.invoice, Index.Range())),
                Index(t, (t.state, Index.Equality(cardinality='low')),
                    where=t.state.in_(OPEN)),
                })
        cls._order = [('found_date', 'DESC'), ('id', 'DESC')]
        cls._transitions |= {
            ('documented', 'notified'),
            ('notified', 'settled'),
            ('referred', 'settled'),
            ('notified', 'referred'),
            ('documented', 'cancelled'),
            ('cancelled', 'documented'),
            }
        cls._buttons.update({
                'document': {
                    'invisible': Eval('state') != 'cancelled',
                    'icon': 'tryton-undo',
                    'depends': ['state'],
                    },
                'price': {
                    'invisible': Eval('state') != 'documented',
                    'icon': 'tryton-refresh',
                    'depends': ['state'],
                    },
                'notify': {
                    'invisible': Eval('state') != 'documented',
                    'readonly': ~Eval('amount'),
                    'icon': 'tryton-print',
                    'depends': ['state', 'amount'],
                    },
                'cut': {
                    'invisible': ~Eval('state').in_(OPEN)
                    | ~Eval('type').in_(['illegal_connection', 'bypass',
                            'reconnection']),
                    'depends': ['state', 'type'],
                    },
                'settle': {
                    'invisible': ~Eval('state').in_(['notified', 'referred'])
                    | ~Eval('subscription'),
                    'depends': ['state', 'subscription'],
                    },
                'refer': {
                    'invisible': Eval('state') != 'notified',
                    'readonly': ~Eval('referral_note'),
                    'depends': ['state', 'referral_note'],
                    },
                'cancel': {
                    'invisible': Eval('state') != 'documented',
                    'depends': ['state'],
                    },
                })

    @classmethod
    def default_company(cls):
        return Transaction().context.get('company')

    @classmethod
    def default_state(cls):
        return 'documented'

    @classmethod
    def default_type(cls):
        return 'illegal_connection'

    @classmethod
    def default_found_date(cls):
        return Pool().get('ir.date').today()

    @classmethod
    def default_start_date(cls):
        return cls.estimated_start(cls.default_found_date())

    @classmethod
    def estimated_start(cls, found_date):
        "The start of a violation found on found_date, by the policy"
        pool = Pool()
        Configuration = pool.get('water.configuration')
        if found_date:
            return found_date - Configuration(1).get_violation_duration()

    @fields.depends('found_date')
    def on_change_found_date(self):
        self.start_date = self.estimated_start(self.found_date)

    @fields.depends('subscription', 'category',
        '_parent_subscription.party', '_parent_subscription.area',
        '_parent_subscription.address', '_parent_subscription.category')
    def on_change_subscription(self):
        if self.subscription:
            self.party = self.subscription.party
            self.area = self.subscription.area
            self.category = self.subscription.category
            if self.subscription.address:
                self.location = self.subscription.address.full_address

    @fields.depends('company')
    def on_change_with_currency(self, name=None):
        return self.company.currency if self.company else None

    @classmethod
    def get_photos(cls, violations, name):
        return count_attachments(violations)

    def get_rec_name(self, name):
        if self.number:
            return self.number
        return f'({self.id})'

    @classmethod
    def search_rec_name(cls, name, clause):
        _, operator, value = clause
        bool_op = 'AND' if operator.startswith(('!', 'not ')) else 'OR'
        return [bool_op,
            ('number', operator, value),
            ('subscription.rec_name', operator, value),
            ('party.rec_name', operator, value),
            ]

    @classmethod
    def preprocess_values(cls, mode, values):
        pool = Pool()
        Subscription = pool.get('water.subscription')
        values = super().preprocess_values(mode, values)
        if mode == 'create' and values.get('subscription'):
            subscription = Subscription(values['subscription'])
            values.setdefault('party', subscription.party.id)
            values.setdefault('area', subscription.area.id)
            values.setdefault('category', subscription.category.id)
        if mode == 'create' and not values.get('start_date') and (
                values.get('found_date')):
            values['start_date'] = cls.estimated_start(values['found_date'])
        return values

    @classmethod
    def create(cls, vlist):
        violations = super().create(vlist)
        cls.set_number(violations)
        return violations

    @classmethod
    def set_number(cls, violations):
        pool = Pool()
        ModelData = pool.get('ir.model.data')
        Sequence = pool.get('ir.sequence')
        sequence = Sequence(
            ModelData.get_id('water_utility', 'sequence_violation'))
        to_write = []
        for violation in violations:
            if not violation.number:
                to_write.extend(([violation], {'number': sequence.get()}))
        if to_write:
            cls.write(*to_write)

    @classmethod
    def copy(cls, violations, default=None):
        default = default.copy() if default is not None else {}
        for name in ['number', 'invoice', 'notice_date', 'settlement',
                'referral_date', 'referral_note', 'daily_consumption',
                'days', 'volume', 'water_amount', 'penalty_amount',
                'amount', 'priced_date']:
            default.setdefault(name, None)
        return super().copy(violations, default=default)

    @classmethod
    def check_modification(cls, mode, violations, values=None,
            external=False):
        super().check_modification(
            mode, violations, values=values, external=external)
        if mode == 'delete':
            for violation in violations:
                if violation.state != 'cancelled':
                    raise ViolationError(gettext(
                            'water_utility.msg_violation_delete',
                            violation=violation.rec_name))

    @classmethod
    @ModelView.button
    @Workflow.transition('documented')
    def document(cls, violations):
        pass

    @classmethod
    def default_category(cls):
        pool = Pool()
        ModelData = pool.get('ir.model.data')
        return ModelData.get_id('water_utility', 'category_domestic')

    @classmethod
    @ModelView.button
    def price(cls, violations):
        "Estimate the volume and the amounts of the violations"
        cls._price(violations)

    @classmethod
    def _price(cls, violations):
        "Store and return the estimates of the violations"
        pool = Pool()
        Date = pool.get('ir.date')
        estimates = cls.estimate(violations)
        today = Date.today()
        for violation, estimate in zip(violations, estimates):
            violation.daily_consumption = estimate['daily']
            violation.days = estimate['days']
            violation.volume = estimate['volume']
            violation.water_amount = estimate['water']
            violation.penalty_amount = estimate['penalty']
            violation.amount = estimate['water'] + estimate['penalty']
            violation.priced_date = today
        cls.save(violations)
        return estimates

    @classmethod
    def estimate(cls, violations):
        """Return for each violation its estimate: daily m³, days, volume,
        the priced lines [(start, end, m³, rating.Line)], the water and
        the penalty amounts"""
        pool = Pool()
        Tariff = pool.get('water.tariff')
        Penalty = pool.get('water.violation.penalty')
        # a violation has an area and a company like a subscription
        tariff_of = Tariff.of_subscriptions(violations)
        timelines = Tariff.timelines(
            {t for t in tariff_of.values() if t})
        policies = Penalty.of_violations(violations)
        result = []
        for violation in violations:
            currency = violation.company.currency
            daily = violation.category.default_daily_consumption
            if daily is None:
                raise ViolationError(gettext(
                        'water_utility.msg_violation_no_daily',
                        violation=violation.rec_name,
                        category=violation.category.rec_name))
            try:
                days = violation_rule.duration(
                    violation.start_date, violation.found_date)
            except ValueError:
                raise ViolationError(gettext(
                        'water_utility.msg_violation_dates',
                        violation=violation.rec_name))
            volume = violation_rule.volume(daily, days)
            subscription = violation.subscription
            key = (violation.category.id, violation.area.id,
                bool(subscription and subscription.sewage),
                bool(subscription and subscription.social_welfare))
            lines = []
            for start, end, share in violation_rule.periods(
                    violation.start_date, violation.found_date, volume):
                repriced = tariff.reprice(
                    timelines.get(tariff_of[violation.id]), key,
                    start, end, 0, share, currency.rounding)
                if repriced is None:
                    raise ViolationError(gettext(
                            'water_utility.msg_violation_tariff',
                            violation=violation.rec_name,
                            start=start, end=end))
                lines.extend((start, end, share, l) for l in repriced)
            water = currency.round(
                sum((l.amount for *_, l in lines), Decimal(0)))
            policy = policies.get(violation.id)
            penalty = violation_rule.penalty(water,
                policy.fixed_amount if policy else 0,
                policy.percentage if policy else 0,
                rounding=currency.rounding)
            result.append({
                    'daily': daily,
                    'days': days,
                    'volume': volume,
                    'lines': lines,
                    'water': water,
                    'penalty': penalty,
                    })
        return result

    @classmethod
    @ModelView.button_action('water_utility.report_violation_notice')
    @Workflow.transition('notified')
    def notify(cls, violations):
        """Post the amount of the violations on the violators' accounts;
        the notice prints"""
        pool = Pool()
        Date = pool.get('ir.date')
        Configuration = pool.get('water.configuration')
        if not violations:
            return
        product = Configuration(1).violation_penalty_product
        estimates = cls._price(violations)
        today = Date.today()
        ids = {l.product for e in estimates for *_, l in e['lines']}
        if any(e['penalty'] for e in estimates):
            if not product:
                raise ViolationError(gettext(
                        'water_utility.msg_violation_no_penalty_product'))
            ids.add(product.id)
        for violation in violations:
            violation.notice_date = violation.notice_date or today
        preparation = posting.Preparation(
            ids, max(v.notice_date for v in violations))
        invoices = []
        for violation, estimate in zip(violations, estimates):
            with Transaction().set_context(language=preparation.language):
                description = gettext(
                    'water_utility.msg_violation_invoice',
                    violation=violation.number,
                    type=violation.type_string)
                lines = [(l.product, l.quantity, l.unit_price, gettext(
                            'water_utility.msg_violation_line',
                            product=preparation.names[l.product],
                            start=start, end=end, volume=share))
                    for start, end, share, l in estimate['lines']]
                if estimate['penalty']:
                    lines.append((product.id, 1, estimate['penalty'],
                            gettext('water_utility.msg_violation_penalty',
                                product=preparation.names[product.id],
                                violation=violation.number)))
            if not lines:
                raise ViolationError(gettext(
                        'water_utility.msg_violation_no_amount',
                        violation=violation.rec_name))
            if not violation.subscription and not (
                    violation.party.address_get(type='invoice')):
                raise ViolationError(gettext(
                        'water_utility.msg_violation_no_address',
                        violation=violation.rec_name,
                        party=violation.party.rec_name))
            invoice = posting.build_invoice(
                violation.subscription, violation.notice_date, description,
                lines, origin=violation, preparation=preparation,
                party=violation.party)
            violation.invoice = invoice
            invoices.append(invoice)
        with without_check_access():
            posting.post_invoices(invoices)
        cls.save(violations)

    @classmethod
    @ModelView.button_action('water_utility.act_inspection_form')
    def cut(cls, violations):
        "Open a work order that cuts each illegal connection"
        pool = Pool()
        Inspection = pool.get('water.inspection')
        orders = Inspection.create([{
                    'company': v.company.id,
                    'type': 'illegal_cut',
                    'subscription': (
                        v.subscription.id if v.subscription else None),
                    'party': v.party.id,
                    'area': v.area.id,
                    'location': v.location,
                    'origin': str(v),
                    'description': gettext(
                        'water_utility.msg_violation_cut',
                        violation=v.number, type=v.type_string,
                        location=v.location or ''),
                    } for v in violations])
        return _open(orders)

    @classmethod
    @ModelView.button_action('water_utility.act_settlement_form')
    def settle(cls, violations):
        "Make a draft settlement of each violation's invoice and open it"
        pool = Pool()
        Settlement = pool.get('water.settlement')
        Date = pool.get('ir.date')
        today = Date.today()
        to_settle = [v for v in violations
            if v.subscription and v.invoice and not (
                v.settlement and v.settlement.state != 'cancelled')]
        settlements = []
        for violation in to_settle:
            settlement = Settlement(
                company=violation.company,
                subscription=violation.subscription,
                date=today,
                instalment_count=1,
                invoices=[violation.invoice])
            settlement.debt = Settlement.get_debt(
                [violation.invoice], violation.company.currency)
            settlements.append(settlement)
            violation.settlement = settlement
        Settlement.save(settlements)
        cls.save(to_settle)
        return _open([v.settlement for v in violations if v.settlement])

    @classmethod
    @ModelView.button
    @Workflow.transition('referred')
    def refer(cls, violations):
        pool = Pool()
        Date = pool.get('ir.date')
        for violation in violations:
            if not violation.referral_note:
                raise ViolationError(gettext(
                        'water_utility.msg_violation_referral_note',
                        violation=violation.rec_name))
        cls.write(violations, {'referral_date': Date.today()})

    @classmethod
    @Workflow.transition('settled')
    def mark_settled(cls, violations):
        pass

    @classmethod
    @ModelView.button
    @Workflow.transition('cancelled')
    def cancel(cls, violations):
        pass

    @classmethod
    def settled_by(cls, settlements):
        """Settle the violations whose invoice a signed settlement
        covers"""
        invoices = {i.id: s for s in settlements for i in s.invoices}
        if not invoices:
            return
        # the clerk who signs the settlement need not edit violations
        with without_check_access():
            violations = cls.search([
                    ('invoice', 'in', list(invoices)),
                    ('state', 'in', ['notified', 'referred']),
                    ])
            for violation in violations:
                violation.settlement = invoices[violation.invoice.id]
            cls.save(violations)
            cls.mark_settled(violations)


def _open(records):
    "The action value that opens records, in a form when one"
    if not records:
        return
    return {'res_id': [r.id for r in records]}


class Penalty(ModelSQL, ModelView):
    "Water Violation Penalty"
    __name__ = 'water.violation.penalty'
    __string__ = "Water Violation Penalty"

    company = fields.Many2One('company.company', "Company", required=True)
    type = fields.Selection(TYPES, "Violation Type", required=True)
    type_string = type.translated('type')
    currency = fields.Function(fields.Many2One(
            'currency.currency', "Currency"), 'on_change_with_currency')
    fixed_amount = Monetary(
        "Fixed Amount", currency='currency', digits='currency',
        required=True, domain=[('fixed_amount', '>=', 0)])
    percentage = fields.Numeric(
        "Percentage of the Water (%)", digits=(16, 2), required=True,
        domain=[('percentage', '>=', 0)],
        help="Added to the fixed amount: this share of the estimated "
        "water's amount.")

    @classmethod
    def __setup__(cls):
        super().__setup__()
        t = cls.__table__()
        cls._sql_constraints = [
            ('type_unique', Unique(t, t.company, t.type),
                'water_utility.msg_violation_penalty_unique'),
            ]
        cls._order.insert(0, ('type', 'ASC'))

    @classmethod
    def default_company(cls):
        return Transaction().context.get('company')

    @classmethod
    def default_fixed_amount(cls):
        return Decimal(0)

    @classmethod
    def default_percentage(cls):
        return Decimal(0)

    @fields.depends('company')
    def on_change_with_currency(self, name=None):
        return self.company.currency if self.company else None

    def get_rec_name(self, name):
        return self.type_string

    @classmethod
    def of_violations(cls, violations):
        "Return by violation id the penalty policy of its type, if any"
        by_key = {(p.company.id, p.type): p for p in cls.search([
                    ('company', 'in',
                        list({v.company.id for v in violations})),
                    ])}
        return {v.id: by_key.get((v.company.id, v.type))
            for v in violations}


class Configuration(metaclass=PoolMeta):
    __name__ = 'water.configuration'

    violation_duration = fields.Integer(
        "Default Violation Duration (Days)", required=True,
        domain=[('violation_duration', '>=', 1)],
        help="Without evidence of its start, a violation is charged this "
        "many days before the day it was found.")
    violation_penalty_product = fields.Many2One(
        'product.product', "Violation Penalty Product",
        domain=[('type', '=', 'service')],
        help="The invoice line of the penalties posts to its revenue "
        "account.")

    @classmethod
    def default_violation_duration(cls):
        return 90

    def get_violation_duration(self):
        return dt.timedelta(days=self.violation_duration or 90)


class Inspection(metaclass=PoolMeta):
    __name__ = 'water.inspection'

    violations = fields.One2Many(
        'water.violation', 'inspection', "Violations", readonly=True)

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls._buttons.update({
                'document_violation': {
                    'invisible': (Eval('outcome') != 'violation')
                    | ~Eval('state').in_(['in_progress', 'done']),
                    'depends': ['outcome', 'state'],
                    },
                })

    @classmethod
    def _get_origin(cls):
        return super()._get_origin() + ['water.violation']

    @classmethod
    @ModelView.button_action('water_utility.act_violation_form')
    def document_violation(cls, inspections):
        """Open a violation of each work order, filled with what the
        inspectors found"""
        pool = Pool()
        Violation = pool.get('water.violation')
        Date = pool.get('ir.date')
        today = Date.today()
        values = []
        for inspection in inspections:
            if not inspection.party:
                raise ViolationError(gettext(
                        'water_utility.msg_violation_no_party',
                        inspection=inspection.rec_name))
            subscription = inspection.subscription
            found = inspection.visit_date or today
            if not subscription:
                type_ = 'illegal_connection'
            elif inspection.meter_condition == 'tampered':
                type_ = 'meter_tampering'
            elif inspection.seal in {'broken', 'missing'}:
                type_ = 'seal_tampering'
            else:
                type_ = 'bypass'
            values.append({
                    'company': inspection.company.id,
                    'inspection': inspection.id,
                    'type': type_,
                    'subscription': subscription.id if subscription else None,
                    'party': inspection.party.id,
                    'area': inspection.area.id,
                    'location': inspection.location,
                    'latitude': inspection.latitude,
                    'longitude': inspection.longitude,
                    'found_date': found,
                    'facts': inspection.findings,
                    'category': (subscription.category.id if subscription
                        else Violation.default_category()),
                    })
        return _open(Violation.create(values))


class InvoiceLine(metaclass=PoolMeta):
    __name__ = 'account.invoice.line'

    @classmethod
    def _get_origin(cls):
        return super()._get_origin() + ['water.violation']


class Settlement(metaclass=PoolMeta):
    __name__ = 'water.settlement'

    @classmethod
    def _sign(cls, settlements):
        pool = Pool()
        Violation = pool.get('water.violation')
        super()._sign(settlements)
        Violation.settled_by(settlements)


class NoticeReport(SubscriberReport):
    "Violation Notice"
    __name__ = 'water.violation.notice'

    @classmethod
    def get_context(cls, records, header, data):
        pool = Pool()
        Configuration = pool.get('water.configuration')
        context = super().get_context(records, header, data)
        lines = defaultdict(list)
        for violation in records:
            if violation.invoice:
                lines[violation.id] = list(violation.invoice.lines)
        context['lines'] = lines
        context['today'] = pool.get('ir.date').today()
        config = Configuration(1)
        context['max_discount'] = config.settlement_max_discount
        context['max_instalments'] = config.settlement_max_instalments
        return context
