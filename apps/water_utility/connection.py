# This file is part of the water_utility module.  See README.rst.
"""New connections (required result 1: applications handled at once)

An application for a new connection (طلب اشتراك جديد) becomes a
subscription through the utility's steps: applied → surveyed (the site
visit) → estimated (the cost, a posted customer invoice) → paid → installed
(the subscription with its meter) → active; or it is rejected (with the
reason) or cancelled.

Each step the utility waits on has a target duration in the configuration,
counted on the calendar or on the service centre's working hours: its
deadline is fixed when the step begins, on the clock of the application's
area (water.area.deadline), and the step log records when each step began
and ended, by whom, and the time it took on that clock.
"""
import datetime as dt
import math
from decimal import Decimal

from sql import Null
from sql.aggregate import Count, Max, Sum
from sql.conditionals import Case

from trytond.i18n import gettext
from trytond.model import (
    Index, ModelSQL, ModelView, Workflow, fields)
from trytond.modules.currency.fields import Monetary
from trytond.pool import Pool, PoolMeta
from trytond.pyson import Bool, Eval, If
from trytond.transaction import Transaction, without_check_access

from . import sla
from .exceptions import NewConnectionError
from .meter import DIAMETERS, READING_DIGITS
from .report_html import SubscriberReport

CLOCKS = [
    (sla.CALENDAR, "Calendar Hours"),
    (sla.WORKING, "Working Hours"),
    ]

CHANNELS = [
    ('walk_in', "Walk-in at a Service Centre"),
    ('phone', "Phone"),
    ('written', "Written"),
    ('portal', "Portal"),
    ('field', "Field Visit"),
    ]

# The step the utility (or the applicant) works on while the application
# is in a state: its target and deadline.
STEPS = [
    ('survey', "Site Survey"),
    ('estimate', "Cost Estimate"),
    ('payment', "Payment"),
    ('installation', "Installation"),
    ('activation', "Activation"),
    ]
STEP_OF_STATE = {
    'applied': 'survey',
    'surveyed': 'estimate',
    'estimated': 'payment',
    'paid': 'installation',
    'installed': 'activation',
    }
# The targets when the configuration gives none: a working day of the
# centre counts its opening hours (6 for 08:00-14:00).
DEFAULT_TARGETS = {
    'survey': (dt.timedelta(hours=12), sla.WORKING),
    'estimate': (dt.timedelta(hours=6), sla.WORKING),
    'payment': (None, sla.CALENDAR),
    'installation': (dt.timedelta(hours=18), sla.WORKING),
    'activation': (dt.timedelta(hours=6), sla.WORKING),
    }
OPEN_STATES = ['draft', 'applied', 'surveyed', 'estimated', 'paid',
    'installed']
DAY = dt.timedelta(days=1)


def extra_length(distance, free_length):
    """The whole metres of service line charged beyond the free length
    (none for an unknown distance)"""
    if distance is None:
        return 0
    return max(0, math.ceil(Decimal(distance) - Decimal(free_length or 0)))


def days_between(start, end):
    "The calendar days from start to end, to the tenth (never negative)"
    if end <= start:
        return 0.
    return round((end - start) / DAY, 1)


def _now():
    return dt.datetime.now().replace(microsecond=0)


def _target_fields(label):
    "The target and clock fields of a step in the configuration"
    return (
        fields.TimeDelta(f"{label} Target",
            help="The time the step may take; empty for the default "
            "(see the documentation)."),
        fields.Selection([(None, '')] + CLOCKS, f"{label} Clock",
            help="Whether the target counts calendar time or the service "
            "centre's working hours."))


class Configuration(metaclass=PoolMeta):
    __name__ = 'water.configuration'

    connection_fee_product = fields.Many2One(
        'product.product', "Connection Fee Product",
        domain=[('type', '=', 'service')],
        help="The service invoiced for a new connection: its revenue "
        "account takes the fees.")
    connection_fee = fields.Numeric(
        "Connection Fee", digits=(16, 2),
        domain=['OR', ('connection_fee', '=', None),
            ('connection_fee', '>=', 0)],
        help="The flat fee of a new connection, before tax.")
    connection_length_product = fields.Many2One(
        'product.product', "Extra Length Product",
        domain=[('type', '=', 'service')],
        help="The service of the metres of service line beyond the free "
        "length; empty for the fee product.")
    connection_free_length = fields.Numeric(
        "Free Length (m)", digits=(16, 1),
        domain=['OR', ('connection_free_length', '=', None),
            ('connection_free_length', '>=', 0)],
        help="The distance to the main the fee covers.")
    connection_length_price = fields.Numeric(
        "Price per Extra Metre", digits=(16, 2),
        domain=['OR', ('connection_length_price', '=', None),
            ('connection_length_price', '>=', 0)])

    connection_survey_target, connection_survey_clock = _target_fields(
        "Survey")
    connection_estimate_target, connection_estimate_clock = _target_fields(
        "Estimate")
    connection_payment_target, connection_payment_clock = _target_fields(
        "Payment")
    connection_installation_target, connection_installation_clock = (
        _target_fields("Installation"))
    connection_activation_target, connection_activation_clock = (
        _target_fields("Activation"))

    def get_connection_target(self, step):
        "The target duration (or None) and the clock of step"
        default_duration, default_clock = DEFAULT_TARGETS[step]
        duration = getattr(self, f'connection_{step}_target', None)
        clock = getattr(self, f'connection_{step}_clock', None)
        return (duration if duration is not None else default_duration,
            clock or default_clock)


class Connection(Workflow, ModelSQL, ModelView):
    "New Connection Application"
    __name__ = 'water.connection'
    __string__ = "New Connection Application"
    _rec_name = 'number'

    number = fields.Char("Number", readonly=True)
    company = fields.Many2One(
        'company.company', "Company", required=True,
        states={
            'readonly': Eval('state') != 'draft',
            })
    party = fields.Many2One(
        'party.party', "Applicant", ondelete='RESTRICT',
        states={
            'readonly': ~Eval('state').in_(['draft', 'applied', 'surveyed']),
            'required': ~Eval('state').in_(['draft', 'cancelled']),
            },
        context={
            'company': Eval('company', -1),
            },
        depends={'company'},
        help="Leave empty for a new applicant: applying registers the "
        "party from the name and phone.")
    applicant_name = fields.Char(
        "Applicant Name",
        states={
            'invisible': Bool(Eval('party')),
            'readonly': Eval('state') != 'draft',
            })
    phone = fields.Char(
        "Phone",
        states={
            'readonly': ~Eval('state').in_(['draft', 'applied', 'surveyed']),
            })
    site = fields.Text(
        "Site",
        states={
            'readonly': ~Eval('state').in_(['draft', 'applied', 'surveyed']),
            },
        help="Where the connection is wanted: street, building, landmark. "
        "Applying makes it the applicant's address when none is chosen.")
    address = fields.Many2One(
        'party.address', "Premises Address", ondelete='RESTRICT',
        domain=[('party', '=', Eval('party', -1))],
        states={
            'readonly': ~Eval('state').in_(['draft', 'applied', 'surveyed']),
            'required': ~Eval('state').in_(['draft', 'cancelled']),
            })
    area = fields.Many2One(
        'water.area', "Service Area", required=True, ondelete='RESTRICT',
        domain=[('company', '=', Eval('company', -1))],
        states={
            'readonly': ~Eval('state').in_(['draft', 'applied', 'surveyed']),
            },
        help="Its service centre's clock counts the steps' targets.")
    category = fields.Many2One(
        'water.subscription.category', "Category", required=True,
        ondelete='RESTRICT',
        states={
            'readonly': ~Eval('state').in_(
                ['draft', 'applied', 'surveyed', 'estimated', 'paid']),
            })
    diameter = fields.Selection(
        DIAMETERS, "Requested Diameter", sort=False,
        states={
            'readonly': ~Eval('state').in_(['draft', 'applied', 'surveyed']),
            })
    sewage = fields.Boolean(
        "Sewage Connection",
        states={
            'readonly': ~Eval('state').in_(
                ['draft', 'applied', 'surveyed', 'estimated', 'paid']),
            })
    channel = fields.Selection(
        CHANNELS, "Channel", required=True,
        states={
            'readonly': Eval('state') != 'draft',
            })
    received = fields.DateTime(
        "Received", required=True,
        states={
            'readonly': Eval('state') != 'draft',
            },
        help="When the application reached the utility: the survey's "
        "clock starts then.")
    month = fields.Date("Month", readonly=True)
    notes = fields.Text("Notes")
    state = fields.Selection([
            ('draft', "Draft"),
            ('applied', "Applied"),
            ('surveyed', "Surveyed"),
            ('estimated', "Estimated"),
            ('paid', "Paid"),
            ('installed', "Installed"),
            ('active', "Active"),
            ('rejected', "Rejected"),
            ('cancelled', "Cancelled"),
            ], "State", readonly=True, required=True, sort=False)
    state_string = state.translated('state')
    rejection_reason = fields.Text(
        "Rejection Reason",
        states={
            'invisible': ~Eval('state').in_(
                ['applied', 'surveyed', 'rejected']),
            'readonly': Eval('state') == 'rejected',
            },
        help="Tell the applicant why: required to reject.")

    # the clock
    deadline = fields.DateTime(
        "Deadline", readonly=True,
        help="When the current step is due.")
    late = fields.Function(
        fields.Boolean("Late", help="The current step is past its deadline."),
        'get_late', searcher='search_late')
    step = fields.Function(
        fields.Selection([(None, '')] + STEPS, "Current Step"), 'get_step')
    steps = fields.One2Many(
        'water.connection.step', 'connection', "Steps", readonly=True,
        order=[('start', 'ASC'), ('id', 'ASC')])
    days_to_active = fields.Float(
        "Days to Active", digits=(16, 1), readonly=True,
        help="Calendar days from the application to the active "
        "subscription.")

    # site survey
    survey_date = fields.DateTime("Surveyed On", readonly=True)
    surveyor = fields.Many2One(
        'res.user', "Surveyor",
        states={
            'readonly': ~Eval('state').in_(['applied', 'surveyed']),
            })
    distance = fields.Numeric(
        "Distance to the Main (m)", digits=(16, 1),
        domain=['OR', ('distance', '=', None), ('distance', '>=', 0)],
        states={
            'readonly': ~Eval('state').in_(['applied', 'surveyed']),
            })
    feasibility = fields.Selection([
            (None, ''),
            ('feasible', "Feasible"),
            ('not_feasible', "Not Feasible"),
            ], "Feasibility", sort=False,
        states={
            'readonly': ~Eval('state').in_(['applied', 'surveyed']),
            })
    findings = fields.Text(
        "Findings",
        states={
            'readonly': ~Eval('state').in_(['applied', 'surveyed']),
            })

    # cost estimate
    lines = fields.One2Many(
        'water.connection.line', 'connection', "Estimate Lines",
        states={
            'readonly': ~Eval('state').in_(['draft', 'applied', 'surveyed']),
            })
    amount = fields.Function(Monetary(
            "Estimate", currency='currency', digits='currency',
            help="Before tax."),
        'get_amount')
    invoice = fields.Many2One(
        'account.invoice', "Invoice", readonly=True, ondelete='RESTRICT',
        help="The customer invoice of the connection's cost.")
    invoice_state = fields.Function(fields.Selection(
            'get_invoice_states', "Invoice State"), 'get_invoice_state')
    currency = fields.Function(
        fields.Many2One('currency.currency', "Currency"), 'get_currency')

    # installation
    meter = fields.Many2One(
        'water.meter', "Meter", ondelete='RESTRICT',
        domain=[
            If(Eval('state') == 'paid',
                [('state', '=', 'in_stock'),
                    ('company', '=', Eval('company', -1))],
                []),
            ],
        states={
            'readonly': Eval('state') != 'paid',
            'invisible': ~Eval('state').in_(['paid', 'installed', 'active']),
            },
        help="A meter in stock, of the requested diameter.")
    install_date = fields.Date(
        "Installed On",
        states={
            'readonly': Eval('state') != 'paid',
            'invisible': ~Eval('state').in_(['paid', 'installed', 'active']),
            })
    initial_reading = fields.Numeric(
        "Initial Reading", digits=READING_DIGITS,
        states={
            'readonly': Eval('state') != 'paid',
            'invisible': ~Eval('state').in_(['paid', 'installed', 'active']),
            })
    route = fields.Many2One(
        'water.route', "Reading Route", ondelete='RESTRICT',
        domain=[('area', '=', Eval('area', -1))],
        states={
            'readonly': ~Eval('state').in_(['paid', 'installed']),
            'invisible': ~Eval('state').in_(['paid', 'installed', 'active']),
            })
    route_position = fields.Integer(
        "Position in Route",
        states={
            'readonly': ~Eval('state').in_(['paid', 'installed']),
            'invisible': ~Eval('state').in_(['paid', 'installed', 'active']),
            })
    subscription = fields.Many2One(
        'water.subscription', "Subscription", readonly=True,
        ondelete='RESTRICT')

    @classmethod
    def __setup__(cls):
        cls.number.search_unaccented = False
        super().__setup__()
        t = cls.__table__()
        cls._sql_indexes.update({
                Index(t, (t.number, Index.Similarity())),
                Index(t, (t.party, Index.Range())),
                Index(t, (t.invoice, Index.Range())),
                Index(t, (t.month, Index.Range())),
                Index(t,
                    (t.state, Index.Equality(cardinality='low')),
                    (t.deadline, Index.Range()),
                    where=t.state.in_(OPEN_STATES)),
                })
        cls._order = [('received', 'DESC'), ('id', 'DESC')]
        cls._transitions |= {
            ('draft', 'applied'),
            ('applied', 'surveyed'),
            ('surveyed', 'estimated'),
            ('estimated', 'paid'),
            ('paid', 'installed'),
            ('installed', 'active'),
            ('applied', 'rejected'),
            ('surveyed', 'rejected'),
            ('draft', 'cancelled'),
            ('applied', 'cancelled'),
            ('surveyed', 'cancelled'),
            ('estimated', 'cancelled'),
            }
        cls._buttons.update({
                'apply': {
                    'invisible': Eval('state') != 'draft',
                    'icon': 'tryton-forward',
                    'depends': ['state'],
                    },
                'survey': {
                    'invisible': Eval('state') != 'applied',
                    'icon': 'tryton-forward',
                    'depends': ['state'],
                    },
                'estimate': {
                    'invisible': Eval('state') != 'surveyed',
                    'readonly': Eval('feasibility') != 'feasible',
                    'icon': 'tryton-forward',
                    'depends': ['state', 'feasibility'],
                    },
                'check_payment': {
                    'invisible': Eval('state') != 'estimated',
                    'icon': 'tryton-refresh',
                    'depends': ['state'],
                    },
                'install': {
                    'invisible': Eval('state') != 'paid',
                    'icon': 'tryton-forward',
                    'depends': ['state'],
                    },
                'activate': {
                    'invisible': Eval('state') != 'installed',
                    'icon': 'tryton-ok',
                    'depends': ['state'],
                    },
                'reject': {
                    'invisible': ~Eval('state').in_(['applied', 'surveyed']),
                    'icon': 'tryton-cancel',
                    'depends': ['state'],
                    },
                'cancel': {
                    'invisible': ~Eval('state').in_(
                        ['draft', 'applied', 'surveyed', 'estimated']),
                    'icon': 'tryton-cancel',
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
    def default_channel(cls):
        return 'walk_in'

    @classmethod
    def default_received(cls):
        return _now()

    @classmethod
    def default_sewage(cls):
        return False

    @classmethod
    def default_initial_reading(cls):
        return Decimal(0)

    @fields.depends('party', 'address', 'phone')
    def on_change_party(self):
        if self.party and (
                not self.address or self.address.party != self.party):
            self.address = self.party.address_get()
        elif not self.party:
            self.address = None
        if self.party and not self.phone:
            self.phone = self.party.phone or self.party.mobile

    @fields.depends('area', 'route')
    def on_change_area(self):
        if self.route and self.route.area != self.area:
            self.route = None

    def get_currency(self, name):
        return self.company.currency.id

    @classmethod
    def get_amount(cls, connections, name):
        return {c.id: c.company.currency.round(
                sum((l.amount or 0 for l in c.lines), Decimal(0)))
            for c in connections}

    @classmethod
    def get_invoice_states(cls):
        pool = Pool()
        Invoice = pool.get('account.invoice')
        return [(None, '')] + Invoice.fields_get(
            ['state'])['state']['selection']

    def get_invoice_state(self, name):
        if self.invoice:
            with without_check_access():
                return type(self.invoice)(self.invoice.id).state

    def get_late(self, name):
        return bool(self.deadline and _now() > self.deadline)

    @classmethod
    def search_late(cls, name, clause):
        _, operator, value = clause
        late = (operator == '=') == bool(value)
        now = _now()
        if late:
            return [('deadline', '!=', None), ('deadline', '<', now)]
        return ['OR', ('deadline', '=', None), ('deadline', '>=', now)]

    def get_step(self, name):
        return STEP_OF_STATE.get(self.state)

    def get_rec_name(self, name):
        number = self.number or '(%s)' % self.id
        applicant = (self.party.rec_name if self.party
            else self.applicant_name or '')
        return f'{number} {applicant}'.strip()

    @classmethod
    def search_rec_name(cls, name, clause):
        _, operator, value = clause
        bool_op = 'AND' if operator.startswith(('!', 'not ')) else 'OR'
        return [bool_op,
            ('number', operator, value),
            ('party.rec_name', operator, value),
            ('applicant_name', operator, value),
            ]

    @classmethod
    def preprocess_values(cls, mode, values):
        values = super().preprocess_values(mode, values)
        if mode == 'create':
            values.setdefault('received', cls.default_received())
        if values.get('received'):
            values['month'] = values['received'].date().replace(day=1)
        return values

    @classmethod
    def check_modification(cls, mode, connections, values=None,
            external=False):
        super().check_modification(
            mode, connections, values=values, external=external)
        if mode == 'delete':
            for connection in connections:
                if connection.state not in {'draft', 'cancelled'}:
                    raise NewConnectionError(gettext(
                            'water_utility.msg_connection_delete',
                            connection=connection.rec_name))

    @classmethod
    def copy(cls, connections, default=None):
        default = default.copy() if default is not None else {}
        for name in ['number', 'deadline', 'steps', 'days_to_active',
                'survey_date', 'surveyor', 'feasibility', 'findings',
                'invoice', 'meter', 'install_date', 'subscription',
                'rejection_reason', 'month']:
            default.setdefault(name, None)
        default.setdefault('state', 'draft')
        default.setdefault('received', cls.default_received())
        return super().copy(connections, default=default)

    @classmethod
    def view_attributes(cls):
        return super().view_attributes() + [
            ('/tree', 'visual',
                If(Eval('late', False), 'danger',
                    If(Eval('state').in_(['rejected', 'cancelled']),
                        'muted', ''))),
            ]

    # --- the clock ---------------------------------------------------------

    @classmethod
    def _enter(cls, connections, state, starts=None):
        """End the current steps of connections and begin the step of
        state: its target and deadline on the area's clock

        starts maps a connection to the instant its new step began (now
        by default)."""
        pool = Pool()
        Step = pool.get('water.connection.step')
        Configuration = pool.get('water.configuration')
        now = _now()
        user = Transaction().user
        starts = starts or {}
        configuration = Configuration(1)
        ended = Step.search([
                ('connection', 'in', [c.id for c in connections]),
                ('end', '=', None),
                ])
        areas = {c.id: c.area for c in connections}
        for step in ended:
            step.end = max(now, step.start)
            step.ended_by = user
            step.elapsed = areas[step.connection.id].elapsed(
                step.start, step.end, step.clock)
            step.overdue = bool(step.deadline and step.end > step.deadline)
        name = STEP_OF_STATE.get(state)
        duration, clock = (configuration.get_connection_target(name)
            if name else (None, None))
        begun = []
        for connection in connections:
            connection.deadline = None
            if not name:
                continue
            start = starts.get(connection, now)
            if duration is not None:
                connection.deadline = connection.area.deadline(
                    start, duration, clock)
            begun.append(Step(connection=connection, step=name,
                    start=start, target=duration, clock=clock,
                    deadline=connection.deadline, started_by=user))
        with without_check_access():
            Step.save(ended)
            Step.save(begun)
        cls.save(connections)

    # --- the steps ---------------------------------------------------------

    @classmethod
    @ModelView.button
    @Workflow.transition('applied')
    def apply(cls, connections):
        "Register the application: its number, its applicant and address"
        pool = Pool()
        Party = pool.get('party.party')
        Address = pool.get('party.address')
        ModelData = pool.get('ir.model.data')
        Sequence = pool.get('ir.sequence')
        new_parties = []
        for connection in connections:
            if not connection.party:
                if not connection.applicant_name:
                    raise NewConnectionError(gettext(
                            'water_utility.msg_connection_no_applicant',
                            connection=connection.rec_name))
                party = Party(name=connection.applicant_name, addresses=[])
                if connection.phone:
                    party.contact_mechanisms = [{
                            'type': 'mobile', 'value': connection.phone}]
                connection.party = party
                new_parties.append(party)
        Party.save(new_parties)
        addresses = []
        for connection in connections:
            if connection.address:
                continue
            if not connection.site:
                raise NewConnectionError(gettext(
                        'water_utility.msg_connection_no_site',
                        connection=connection.rec_name))
            connection.address = Address(
                party=connection.party, street=connection.site)
            addresses.append(connection.address)
        Address.save(addresses)
        sequence = Sequence(
            ModelData.get_id('water_utility', 'sequence_connection'))
        for connection in connections:
            if not connection.number:
                with without_check_access():
                    connection.number = sequence.get()
        # the survey's clock starts when the application was received
        cls._enter(connections, 'applied',
            starts={c: c.received for c in connections})

    @classmethod
    @ModelView.button
    @Workflow.transition('surveyed')
    def survey(cls, connections):
        """Record the site survey; a feasible site gets the estimate of the
        configuration (fee and extra length) when it has no lines"""
        pool = Pool()
        Configuration = pool.get('water.configuration')
        Line = pool.get('water.connection.line')
        configuration = Configuration(1)
        user = Transaction().user
        now = _now()
        lines = []
        for connection in connections:
            if not connection.feasibility:
                raise NewConnectionError(gettext(
                        'water_utility.msg_connection_no_feasibility',
                        connection=connection.rec_name))
            connection.survey_date = now
            if not connection.surveyor:
                connection.surveyor = user
            if (connection.feasibility == 'feasible'
                    and not connection.lines):
                lines.extend(cls._estimate_lines(connection, configuration))
        Line.save(lines)
        cls._enter(connections, 'surveyed')

    @classmethod
    def _estimate_lines(cls, connection, configuration):
        "The estimate of connection from the configuration (unsaved lines)"
        pool = Pool()
        Line = pool.get('water.connection.line')
        lines = []
        fee_product = configuration.connection_fee_product
        if fee_product:
            lines.append(Line(connection=connection, sequence=1,
                    product=fee_product, quantity=1.,
                    unit_price=configuration.connection_fee or Decimal(0)))
        length_product = (
            configuration.connection_length_product or fee_product)
        metres = extra_length(
            connection.distance, configuration.connection_free_length)
        if (length_product and metres
                and configuration.connection_length_price):
            lines.append(Line(connection=connection, sequence=2,
                    product=length_product, quantity=float(metres),
                    unit_price=configuration.connection_length_price,
                    description=gettext(
                        'water_utility.msg_connection_extra_length',
                        metres=metres)))
        return lines

    @classmethod
    @ModelView.button
    @Workflow.transition('estimated')
    def estimate(cls, connections):
        "Invoice the estimate to the applicant: a posted customer invoice"
        pool = Pool()
        Invoice = pool.get('account.invoice')
        for connection in connections:
            if connection.feasibility != 'feasible':
                raise NewConnectionError(gettext(
                        'water_utility.msg_connection_not_feasible',
                        connection=connection.rec_name))
            if not connection.lines or connection.amount <= 0:
                raise NewConnectionError(gettext(
                        'water_utility.msg_connection_no_estimate',
                        connection=connection.rec_name))
        with without_check_access():
            invoices = [c._get_invoice() for c in connections]
            Invoice.save(invoices)
            Invoice.update_taxes(invoices)
            with Transaction().set_context(_skip_warnings=True):
                Invoice.post(invoices)
        for connection, invoice in zip(connections, invoices):
            connection.invoice = invoice
        cls._enter(connections, 'estimated')

    def _get_invoice(self):
        "The unsaved customer invoice of the estimate"
        pool = Pool()
        Date = pool.get('ir.date')
        Invoice = pool.get('account.invoice')
        InvoiceLine = pool.get('account.invoice.line')
        with Transaction().set_context(company=self.company.id):
            today = Date.today()
        invoice = Invoice(
            company=self.company,
            type='out',
            party=self.party,
            invoice_address=self.party.address_get(type='invoice'),
            currency=self.company.currency,
            invoice_date=today,
            description=gettext('water_utility.msg_connection_invoice',
                number=self.number),
            )
        invoice.on_change_type()
        invoice.on_change_party()
        invoice.invoice_date = today
        lines = []
        for sequence, line in enumerate(self.lines, 1):
            invoice_line = InvoiceLine(
                invoice=invoice, company=self.company,
                currency=self.company.currency, type='line',
                sequence=sequence, product=line.product,
                quantity=line.quantity, origin=self)
            invoice_line.on_change_product()
            invoice_line.unit_price = line.unit_price
            if line.description:
                invoice_line.description = line.description
            lines.append(invoice_line)
        invoice.lines = lines
        return invoice

    @classmethod
    @ModelView.button
    def check_payment(cls, connections):
        "Move on the applications whose invoice is paid"
        cls._check_payments([c for c in connections if c.state == 'estimated'])

    @classmethod
    def check_payments(cls):
        "Move on every application whose invoice is paid (daily task)"
        cls._check_payments(cls.search([
                    ('state', '=', 'estimated'),
                    ('invoice.state', 'in', ['posted', 'paid']),
                    ]))

    @classmethod
    def _check_payments(cls, connections):
        pool = Pool()
        Invoice = pool.get('account.invoice')
        with without_check_access():
            invoices = Invoice.browse(
                [c.invoice for c in connections if c.invoice])
            # paid in the ledger, but the invoice's queued process has not
            # run yet
            reconciled = [i for i in invoices
                if i.state == 'posted' and i.reconciled]
            if reconciled:
                Invoice.process(reconciled)
            cls.invoices_paid(invoices)

    @classmethod
    def invoices_paid(cls, invoices):
        "The invoices are paid: their applications are"
        if Transaction().context.get('_water_connection_cancel'):
            return
        with without_check_access():
            connections = cls.search([
                    ('invoice', 'in', [i.id for i in invoices]),
                    ('invoice.state', '=', 'paid'),
                    ('state', '=', 'estimated'),
                    ])
            if connections:
                cls.pay(connections)

    @classmethod
    @Workflow.transition('paid')
    def pay(cls, connections):
        cls._enter(connections, 'paid')

    @classmethod
    @ModelView.button
    def install(cls, connections):
        """Install the meter: the subscription at the premises with its
        meter, once the cost is paid"""
        for connection in connections:
            if connection.state != 'paid':
                raise NewConnectionError(gettext(
                        'water_utility.msg_connection_install_unpaid',
                        connection=connection.rec_name,
                        state=connection.state_string))
        cls._install(connections)

    @classmethod
    @Workflow.transition('installed')
    def _install(cls, connections):
        pool = Pool()
        Subscription = pool.get('water.subscription')
        Installation = pool.get('water.meter.installation')
        for connection in connections:
            if (not connection.meter or not connection.install_date
                    or not connection.route):
                raise NewConnectionError(gettext(
                        'water_utility.msg_connection_install_missing',
                        connection=connection.rec_name))
        subscriptions = [c._get_subscription() for c in connections]
        # the inspector's button: the subscription and the meter's
        # installation are its consequences
        with without_check_access():
            Subscription.save(subscriptions)
            Installation.save([Installation(
                        meter=c.meter, subscription=s,
                        start_date=c.install_date,
                        initial_reading=c.initial_reading or Decimal(0))
                    for c, s in zip(connections, subscriptions)])
        for connection, subscription in zip(connections, subscriptions):
            connection.subscription = subscription
        cls._enter(connections, 'installed')

    def _get_subscription(self):
        "The unsaved subscription of the application"
        pool = Pool()
        Subscription = pool.get('water.subscription')
        return Subscription(
            company=self.company, party=self.party, address=self.address,
            area=self.area, route=self.route,
            route_position=self.route_position, category=self.category,
            sewage=self.sewage, social_welfare=False,
            notes=gettext('water_utility.msg_connection_subscription_notes',
                number=self.number))

    @classmethod
    @ModelView.button
    @Workflow.transition('active')
    def activate(cls, connections):
        "Activate the subscriptions: the connection is done"
        pool = Pool()
        Subscription = pool.get('water.subscription')
        with without_check_access():
            Subscription.activate([c.subscription for c in connections])
        now = _now()
        for connection in connections:
            connection.days_to_active = days_between(
                connection.received, now)
        cls._enter(connections, 'active')

    @classmethod
    @ModelView.button
    @Workflow.transition('rejected')
    def reject(cls, connections):
        for connection in connections:
            if not connection.rejection_reason:
                raise NewConnectionError(gettext(
                        'water_utility.msg_connection_no_reason',
                        connection=connection.rec_name))
        cls._enter(connections, 'rejected')

    @classmethod
    @ModelView.button
    @Workflow.transition('cancelled')
    def cancel(cls, connections):
        "Cancel; an unpaid invoice is cancelled by a credit note"
        pool = Pool()
        Invoice = pool.get('account.invoice')
        with without_check_access():
            invoices = Invoice.browse(
                [c.invoice for c in connections if c.invoice])
            for invoice in invoices:
                if invoice.state == 'paid' or invoice.payment_lines:
                    raise NewConnectionError(gettext(
                            'water_utility.msg_connection_cancel_paid',
                            invoice=invoice.rec_name))
            posted = [i for i in invoices if i.state == 'posted']
            if posted:
                with Transaction().set_context(_skip_warnings=True,
                        _water_connection_cancel=True):
                    Invoice.credit(posted, refund=True)
        cls._enter(connections, 'cancelled')


class Line(ModelSQL, ModelView):
    "New Connection Estimate Line"
    __name__ = 'water.connection.line'
    __string__ = "Estimate Line"
    __access__ = {'connection'}

    connection = fields.Many2One(
        'water.connection', "Application", required=True,
        ondelete='CASCADE')
    sequence = fields.Integer("Sequence")
    product = fields.Many2One(
        'product.product', "Product", required=True, ondelete='RESTRICT',
        domain=[('type', '=', 'service')])
    description = fields.Char("Description")
    quantity = fields.Float(
        "Quantity", digits=(16, 2), required=True,
        domain=[('quantity', '>', 0)])
    unit_price = fields.Numeric(
        "Unit Price", digits=(16, 4), required=True,
        domain=[('unit_price', '>=', 0)])
    amount = fields.Function(Monetary(
            "Amount", currency='currency', digits='currency'),
        'get_amount')
    currency = fields.Function(
        fields.Many2One('currency.currency', "Currency"), 'get_currency')

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls._order.insert(0, ('sequence', 'ASC NULLS LAST'))

    @classmethod
    def default_quantity(cls):
        return 1.

    def get_currency(self, name):
        return self.connection.company.currency.id

    def get_amount(self, name):
        if self.quantity is None or self.unit_price is None:
            return None
        return self.connection.company.currency.round(
            Decimal(str(self.quantity)) * self.unit_price)


class Step(ModelSQL, ModelView):
    "New Connection Step"
    __name__ = 'water.connection.step'
    __string__ = "Connection Step"
    __access__ = {'connection'}

    connection = fields.Many2One(
        'water.connection', "Application", required=True, readonly=True,
        ondelete='CASCADE')
    step = fields.Selection(STEPS, "Step", required=True, readonly=True)
    step_string = step.translated('step')
    area = fields.Function(
        fields.Many2One('water.area', "Service Area"),
        'get_connection_field', searcher='search_connection_field')
    start = fields.DateTime("Started", required=True, readonly=True)
    started_by = fields.Many2One('res.user', "Started By", readonly=True)
    target = fields.TimeDelta("Target", readonly=True)
    clock = fields.Selection(
        [(None, '')] + CLOCKS, "Clock", readonly=True)
    deadline = fields.DateTime("Deadline", readonly=True)
    end = fields.DateTime("Ended", readonly=True)
    ended_by = fields.Many2One('res.user', "Ended By", readonly=True)
    elapsed = fields.TimeDelta(
        "Time Taken", readonly=True, help="Counted on the step's clock.")
    overdue = fields.Boolean("Ended Late", readonly=True)
    late = fields.Function(
        fields.Boolean("Late",
            help="Ended after its deadline, or still open past it."),
        'get_late', searcher='search_late')

    @classmethod
    def __setup__(cls):
        super().__setup__()
        t = cls.__table__()
        cls._sql_indexes.update({
                Index(t, (t.connection, Index.Range())),
                Index(t, (t.deadline, Index.Range()), where=t.end == Null),
                })
        cls._order = [('start', 'DESC'), ('id', 'DESC')]

    def get_connection_field(self, name):
        return getattr(self.connection, name).id

    @classmethod
    def search_connection_field(cls, name, clause):
        return [('connection.' + clause[0],) + tuple(clause[1:])]

    def get_late(self, name):
        if self.end:
            return bool(self.overdue)
        return bool(self.deadline and _now() > self.deadline)

    @classmethod
    def search_late(cls, name, clause):
        _, operator, value = clause
        late = (operator == '=') == bool(value)
        now = _now()
        domain = ['OR',
            ('overdue', '=', True),
            [('end', '=', None), ('deadline', '!=', None),
                ('deadline', '<', now)],
            ]
        if late:
            return domain
        return [('overdue', '!=', True),
            ['OR', ('end', '!=', None), ('deadline', '=', None),
                ('deadline', '>=', now)]]

    def get_rec_name(self, name):
        return f'{self.connection.rec_name} - {self.step_string}'

    @classmethod
    def view_attributes(cls):
        return super().view_attributes() + [
            ('/tree', 'visual', If(Eval('late', False), 'danger', '')),
            ]


class EstimateReport(SubscriberReport):
    "Cost Estimate of a New Connection"
    __name__ = 'water.connection.estimate'

    @classmethod
    def get_context(cls, records, header, data):
        pool = Pool()
        Invoice = pool.get('account.invoice')
        context = super().get_context(records, header, data)
        # the staff who print the letter may not read the ledger
        with without_check_access():
            invoices = {c.id: Invoice(c.invoice.id)
                for c in records if c.invoice}
            for invoice in invoices.values():
                invoice.number, invoice.total_amount
        context['invoices'] = invoices
        context['today'] = pool.get('ir.date').today()
        return context


class Month(ModelSQL, ModelView):
    "New Connections per Month"
    __name__ = 'water.connection.month'
    __string__ = "New Connections per Month"

    company = fields.Many2One('company.company', "Company", readonly=True)
    month = fields.Date("Month", readonly=True)
    applications = fields.Integer("Applications", readonly=True)
    activated = fields.Integer("Active", readonly=True,
        help="Applications of the month whose subscription is active.")
    rejected = fields.Integer("Rejected", readonly=True)
    cancelled = fields.Integer("Cancelled", readonly=True)
    total_days = fields.Float("Total Days to Active", readonly=True)
    average_days = fields.Function(
        fields.Float("Average Days to Active", digits=(16, 1)),
        'get_average_days')

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls._order = [('month', 'DESC'), ('id', 'DESC')]

    @classmethod
    def table_query(cls):
        pool = Pool()
        Connection = pool.get('water.connection')
        connection = Connection.__table__()

        def count(state):
            return Sum(Case((connection.state == state, 1), else_=0))
        return connection.select(
            Max(connection.id).as_('id'),
            connection.company.as_('company'),
            connection.month.as_('month'),
            Count(connection.id).as_('applications'),
            count('active').as_('activated'),
            count('rejected').as_('rejected'),
            count('cancelled').as_('cancelled'),
            Sum(connection.days_to_active).as_('total_days'),
            where=connection.state != 'draft',
            group_by=[connection.company, connection.month])

    @classmethod
    def get_average_days(cls, rows, name):
        return {r.id: (round(float(r.total_days) / r.activated, 1)
                if r.activated and r.total_days is not None else None)
            for r in rows}


class Subscription(metaclass=PoolMeta):
    __name__ = 'water.subscription'

    connections = fields.One2Many(
        'water.connection', 'subscription', "Connection Application",
        readonly=True)

    @classmethod
    def copy(cls, subscriptions, default=None):
        default = default.copy() if default is not None else {}
        default.setdefault('connections', None)
        return super().copy(subscriptions, default=default)


class Invoice(metaclass=PoolMeta):
    __name__ = 'account.invoice'

    @classmethod
    def paid(cls, invoices):
        pool = Pool()
        Connection = pool.get('water.connection')
        super().paid(invoices)
        Connection.invoices_paid([i for i in invoices if i.type == 'out'])


class InvoiceLine(metaclass=PoolMeta):
    __name__ = 'account.invoice.line'

    @classmethod
    def _get_origin(cls):
        return super()._get_origin() + ['water.connection']


class Cron(metaclass=PoolMeta):
    __name__ = 'ir.cron'

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls.method.selection.append(
            ('water.connection|check_payments',
                "Move Paid Connection Applications"))


class CharterReport(metaclass=PoolMeta):
    __name__ = 'water.request.charter.report'

    @classmethod
    def extra_sections(cls, company, month):
        "The month's new connections in the charter report (result 1)"
        pool = Pool()
        Month = pool.get('water.connection.month')
        sections = super().extra_sections(company, month)
        rows = Month.search([
                ('company', '=', company.id),
                ('month', '=', month),
                ])
        activated = sum(r.activated or 0 for r in rows)
        total_days = sum(r.total_days or 0 for r in rows)
        sections.append(cls.section(Month, [
                    ('applications', sum(r.applications or 0 for r in rows)),
                    ('activated', activated),
                    ('rejected', sum(r.rejected or 0 for r in rows)),
                    ('cancelled', sum(r.cancelled or 0 for r in rows)),
                    ('average_days', (
                            total_days / activated if activated else None)),
                    ]))
        return sections
