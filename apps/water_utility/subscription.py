# This file is part of the water_utility module.  See README.rst.
import datetime as dt

from trytond.i18n import gettext
from trytond.model import (
    DeactivableMixin, Index, ModelSQL, ModelView, Unique, Workflow, fields)
from trytond.pool import Pool
from trytond.pyson import Eval, If
from trytond.transaction import Transaction

from .arabic import search_key, western_digits
from .exceptions import (
    AreaRouteError, CategoryError, SubscriptionDeleteError,
    SubscriptionStateError)


class Category(DeactivableMixin, ModelSQL, ModelView):
    "Subscription Category"
    __name__ = 'water.subscription.category'

    code = fields.Char("Code", required=True)
    name = fields.Char("Name", required=True, translate=True)
    sequence = fields.Integer("Sequence")
    default_daily_consumption = fields.Numeric(
        "Default Daily Consumption (m³)", digits=(16, 3),
        domain=['OR',
            ('default_daily_consumption', '=', None),
            ('default_daily_consumption', '>=', 0),
            ],
        help="Estimates a subscription of this category that has no "
        "reading history yet.")

    @classmethod
    def __setup__(cls):
        super().__setup__()
        t = cls.__table__()
        cls._sql_constraints = [
            ('code_unique', Unique(t, t.code),
                'water_utility.msg_category_code_unique'),
            ]
        cls._order[0:0] = [('sequence', 'ASC NULLS LAST'), ('code', 'ASC')]


_STATES = {
    'readonly': Eval('state') == 'closed',
    }


class Subscription(Workflow, ModelSQL, ModelView):
    "Water Subscription"
    __name__ = 'water.subscription'
    _rec_name = 'number'

    number = fields.Char(
        "Number", readonly=True,
        help="The subscriber's account number, printed on every bill.")
    company = fields.Many2One(
        'company.company', "Company", required=True,
        states={
            'readonly': Eval('state') != 'application',
            })
    party = fields.Many2One(
        'party.party', "Subscriber", required=True, ondelete='RESTRICT',
        states={
            'readonly': Eval('state') == 'closed',
            },
        context={
            'company': Eval('company', -1),
            },
        depends={'company'},
        help="The person or body who holds the subscription.")
    address = fields.Many2One(
        'party.address', "Premises Address", required=True,
        ondelete='RESTRICT',
        domain=[('party', '=', Eval('party', -1))],
        states=_STATES,
        help="Where the water is delivered and the meter stands.")
    area = fields.Many2One(
        'water.area', "Service Area", required=True, ondelete='RESTRICT',
        domain=[('company', '=', Eval('company', -1))],
        states=_STATES)
    route = fields.Many2One(
        'water.route', "Reading Route", ondelete='RESTRICT',
        states={
            'readonly': _STATES['readonly'],
            'required': Eval('state') == 'active',
            },
        help="The route the meter reader walks; it must be of the area.")
    route_position = fields.Integer(
        "Position in Route", states=_STATES,
        help="Order in which the reader reaches the meter.")
    category = fields.Many2One(
        'water.subscription.category', "Category", required=True,
        ondelete='RESTRICT', states=_STATES)
    sewage = fields.Boolean(
        "Sewage Connected", states=_STATES,
        help="Connected to the sewage network: the bill carries sewage.")
    social_welfare = fields.Boolean(
        "Social Welfare Case", states=_STATES,
        help="A case registered with social welfare (tariff discount).")
    connection_date = fields.Date(
        "Connection Date",
        states={
            'readonly': Eval('state') != 'application',
            'required': Eval('state') != 'application',
            })
    closing_date = fields.Date(
        "Closing Date", readonly=True,
        states={
            'invisible': Eval('state') != 'closed',
            })
    state = fields.Selection([
            ('application', "Application"),
            ('active', "Active"),
            ('closed', "Closed"),
            ], "State", readonly=True, required=True, sort=False)
    meter = fields.Function(
        fields.Many2One('water.meter', "Meter"),
        'get_meter', searcher='search_meter')
    installations = fields.One2Many(
        'water.meter.installation', 'subscription', "Meter History",
        readonly=True, order=[('start_date', 'DESC'), ('id', 'DESC')])
    phone = fields.Function(fields.Char("Phone"), 'get_party_field')
    national_id = fields.Function(
        fields.Char("National ID"), 'get_party_field',
        searcher='search_party_field')
    readings = fields.One2Many(
        'water.reading', 'subscription', "Readings", readonly=True,
        order=[('date', 'DESC'), ('time', 'DESC NULLS LAST'), ('id', 'DESC')])
    bills = fields.One2Many(
        'water.bill', 'subscription', "Bills", readonly=True,
        order=[('month', 'DESC'), ('id', 'DESC')])
    notes = fields.Text("Notes")
    last_payment_date = fields.Date("Last Payment", readonly=True,
        help="The date of the last payment taken for the subscription.")

    @classmethod
    def __setup__(cls):
        cls.number.search_unaccented = False
        super().__setup__()
        t = cls.__table__()
        cls._sql_constraints = [
            ('number_unique', Unique(t, t.company, t.number),
                'water_utility.msg_subscription_number_unique'),
            ]
        cls._sql_indexes.update({
                Index(t, (t.number, Index.Similarity())),
                Index(t, (t.party, Index.Range())),
                Index(t,
                    (t.route, Index.Range()),
                    (t.route_position, Index.Range())),
                Index(t,
                    (t.state, Index.Equality(cardinality='low')),
                    where=t.state.in_(['application', 'active'])),
                })
        cls._order = [('number', 'DESC'), ('id', 'DESC')]
        cls._transitions |= {
            ('application', 'active'),
            ('active', 'closed'),
            }
        cls._buttons.update({
                'activate': {
                    'invisible': Eval('state') != 'application',
                    'icon': 'tryton-ok',
                    'depends': ['state'],
                    },
                'close': {
                    'invisible': Eval('state') != 'active',
                    'icon': 'tryton-close',
                    'depends': ['state'],
                    },
                'swap_meter': {
                    'invisible': Eval('state') == 'closed',
                    'icon': 'tryton-launch',
                    'depends': ['state'],
                    },
                })

    @classmethod
    def default_company(cls):
        return Transaction().context.get('company')

    @classmethod
    def default_state(cls):
        return 'application'

    @classmethod
    def default_sewage(cls):
        return False

    @classmethod
    def default_social_welfare(cls):
        return False

    @fields.depends('party', 'address')
    def on_change_party(self):
        if self.party and (
                not self.address or self.address.party != self.party):
            self.address = self.party.address_get()
        elif not self.party:
            self.address = None

    @fields.depends('route', 'area')
    def on_change_route(self):
        if self.route:
            self.area = self.route.area

    @fields.depends('area', 'route')
    def on_change_area(self):
        if self.route and self.route.area != self.area:
            self.route = None

    @classmethod
    def get_meter(cls, subscriptions, name):
        pool = Pool()
        Installation = pool.get('water.meter.installation')
        in_place = Installation.in_place('subscription', subscriptions)
        return {s.id: in_place[s.id].meter.id if s.id in in_place else None
            for s in subscriptions}

    @classmethod
    def search_meter(cls, name, clause):
        pool = Pool()
        Installation = pool.get('water.meter.installation')
        return Installation.in_place_domain('meter', name, clause)

    def get_party_field(self, name):
        if name == 'phone':
            return self.party.phone or self.party.mobile
        return getattr(self.party, name)

    @classmethod
    def search_party_field(cls, name, clause):
        return [('party.' + clause[0],) + tuple(clause[1:])]

    @property
    def tariff_key(self):
        "What decides the tariff components that apply (tariff.segments)"
        return (self.category.id, self.area.id, bool(self.sewage),
            bool(self.social_welfare))

    def get_rec_name(self, name):
        number = self.number or '(%s)' % self.id
        return f'{number} {self.party.rec_name}'

    @classmethod
    def search_rec_name(cls, name, clause):
        _, operator, value = clause
        bool_op = 'AND' if operator.startswith(('!', 'not ')) else 'OR'
        domain = [bool_op,
            ('number', operator, value),
            ('party.name', operator, value),
            ('meter.serial', operator, value),
            ]
        if isinstance(value, str):
            # Arabic spelling variants and Arabic-Indic digits
            folded = search_key(value)
            domain.append(('party.name_key', operator, folded))
            digits = western_digits(value)
            domain.extend([
                    ('number', operator, digits),
                    ('party.contact_mechanisms.value_compact',
                        operator, phone_pattern(digits)),
                    ('party.identifiers.code', operator, digits),
                    ])
        return domain

    @classmethod
    def validate_fields(cls, subscriptions, field_names):
        super().validate_fields(subscriptions, field_names)
        cls.check_route_area(subscriptions, field_names)
        cls.check_category(subscriptions, field_names)

    @classmethod
    def check_route_area(cls, subscriptions, field_names=None):
        if field_names and not (field_names & {'route', 'area'}):
            return
        for subscription in subscriptions:
            if (subscription.route
                    and subscription.route.area != subscription.area):
                raise AreaRouteError(gettext(
                        'water_utility.msg_subscription_route_area',
                        subscription=subscription.rec_name,
                        route=subscription.route.rec_name,
                        area=subscription.area.rec_name))

    @classmethod
    def check_category(cls, subscriptions, field_names=None):
        if field_names and 'category' not in field_names:
            return
        for subscription in subscriptions:
            if not subscription.category.active:
                raise CategoryError(gettext(
                        'water_utility.msg_subscription_category_inactive',
                        subscription=subscription.rec_name,
                        category=subscription.category.rec_name))

    @classmethod
    def preprocess_values(cls, mode, values):
        pool = Pool()
        Configuration = pool.get('water.configuration')
        values = super().preprocess_values(mode, values)
        if mode == 'create' and not values.get('number'):
            company_id = values.get('company', cls.default_company())
            if company_id is not None:
                configuration = Configuration(1)
                if sequence := configuration.get_multivalue(
                        'subscription_sequence', company=company_id):
                    values['number'] = sequence.get()
        return values

    @classmethod
    def check_modification(cls, mode, subscriptions, values=None,
            external=False):
        super().check_modification(
            mode, subscriptions, values=values, external=external)
        if mode == 'delete':
            for subscription in subscriptions:
                if subscription.state != 'application':
                    raise SubscriptionDeleteError(gettext(
                            'water_utility.msg_subscription_delete',
                            subscription=subscription.rec_name))

    @classmethod
    def copy(cls, subscriptions, default=None):
        default = default.copy() if default is not None else {}
        default.setdefault('number', None)
        default.setdefault('state', 'application')
        default.setdefault('connection_date', None)
        default.setdefault('closing_date', None)
        default.setdefault('installations', None)
        default.setdefault('bills', None)
        return super().copy(subscriptions, default=default)

    @classmethod
    def view_attributes(cls):
        return super().view_attributes() + [
            ('/tree', 'visual',
                If(Eval('state') == 'closed', 'muted', '')),
            ]

    @classmethod
    @ModelView.button
    @Workflow.transition('active')
    def activate(cls, subscriptions):
        for subscription in subscriptions:
            if not subscription.meter:
                raise SubscriptionStateError(gettext(
                        'water_utility.msg_subscription_activate_no_meter',
                        subscription=subscription.rec_name))
            if not subscription.route:
                raise SubscriptionStateError(gettext(
                        'water_utility.msg_subscription_activate_no_route',
                        subscription=subscription.rec_name))
            if not subscription.connection_date:
                subscription.connection_date = min(
                    i.start_date for i in subscription.installations)
        cls.save(subscriptions)

    @classmethod
    @ModelView.button
    @Workflow.transition('closed')
    def close(cls, subscriptions):
        for subscription in subscriptions:
            if subscription.meter:
                raise SubscriptionStateError(gettext(
                        'water_utility.msg_subscription_close_meter',
                        subscription=subscription.rec_name,
                        meter=subscription.meter.rec_name))
        cls.write(subscriptions, {
                'closing_date': dt.date.today(),
                })

    @classmethod
    @ModelView.button_action('water_utility.wizard_meter_swap')
    def swap_meter(cls, subscriptions):
        pass


def phone_pattern(value):
    """Return a pattern matching a phone number however it was typed

    Phones are stored in international form (+970 59...) while staff type
    the national form (059...): the trunk zero is dropped from the search.
    """
    value = value.replace(' ', '').replace('-', '')
    core = value.strip('%')
    if core.startswith('0') and not core.startswith('00'):
        return '%' + core[1:] + ('%' if value.endswith('%') else '')
    return value
