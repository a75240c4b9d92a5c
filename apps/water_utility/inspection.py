# This file is part of the water_utility module.  See README.rst.
"""Field work orders of the inspection and follow-up section (التفتيش)

A work order (water.inspection) sends inspectors to a subscription or a
place: a reading exception, a request, the maintenance plan or a manager
opens it; it is scheduled, worked and done.  What the inspectors find is
posted into billing when the order is done, in the same transaction
(the seed's "electronic posting of maintenance results"):

- a meter replaced in the field becomes a meter swap with the final
  register of the old meter and the initial register of the new one;
- the held reading that sent the case to inspection is corrected with the
  register the inspector verified (a reading error) or accepted as read;
- a faulty meter re-estimates the consumption measured since the fault
  began (consumption.reestimate): the difference, priced with the tariff
  of each period, is posted as a customer invoice on the subscription's
  account (a credit when the meter ran fast), which the next bill shows
  among the adjustments.

Photos are Tryton attachments of the work order.
"""
import datetime as dt
from collections import defaultdict
from decimal import Decimal

from trytond.i18n import gettext
from trytond.model import Index, ModelSQL, ModelView, Workflow, fields
from trytond.pool import Pool, PoolMeta
from trytond.pyson import Bool, Eval, If
from trytond.transaction import Transaction

from . import consumption, posting, tariff
from .exceptions import InspectionError
from .meter import READING_DIGITS, REMOVAL_REASONS, MeterSwap

TYPES = [
    ('maintenance', "Periodic Meter Maintenance"),
    ('meter', "Meter Inspection"),
    ('high_consumption', "High Consumption Investigation"),
    ('removed_meter', "Removed Meter Follow-up"),
    ('illegal_cut', "Illegal Connection Cut"),
    ('installation', "Connection Installation or Line Re-organisation"),
    ('violation', "Violation Documentation"),
    ('site_survey', "Site Survey for a New Connection"),
    ]
CONDITIONS = [
    (None, ''),
    ('good', "Working Properly"),
    ('fast', "Running Fast"),
    ('slow', "Running Slow"),
    ('stopped', "Stopped"),
    ('broken', "Broken Dial or Glass"),
    ('tampered', "Tampered"),
    ('missing', "Missing"),
    ]
SEALS = [
    (None, ''),
    ('intact', "Intact"),
    ('broken', "Broken"),
    ('missing', "Missing"),
    ('replaced', "Replaced"),
    ]
OUTCOMES = [
    (None, ''),
    ('ok', "No Anomaly"),
    ('leak', "Leak on the Subscriber's Side"),
    ('faulty', "Faulty Meter"),
    ('reading_error', "Reading Error"),
    ('confirmed', "Consumption Confirmed"),
    ('violation', "Violation Found"),
    ]
OPEN = ['draft', 'scheduled', 'in_progress']


def count_attachments(records):
    "The number of attachments (the photos) of each record, by id"
    pool = Pool()
    Attachment = pool.get('ir.attachment')
    result = {r.id: 0 for r in records}
    for attachment in Attachment.search([
                ('resource', 'in', [str(r) for r in records]),
                ]):
        result[attachment.resource.id] += 1
    return result


def m3(value):
    "A volume as people write it: 30, 12.5 (the backends differ in scale)"
    if value is None:
        return '-'
    value = Decimal(value).quantize(Decimal('0.001'))
    if value == value.to_integral_value():
        return str(value.quantize(Decimal(1)))
    return str(value.normalize())


class Inspection(Workflow, ModelSQL, ModelView):
    "Field Work Order"
    __name__ = 'water.inspection'
    __string__ = "Field Work Order"
    _rec_name = 'number'

    _states = {'readonly': Eval('state') != 'draft'}
    _findings = {'readonly': Eval('state') != 'in_progress'}

    company = fields.Many2One(
        'company.company', "Company", required=True, states=_states)
    number = fields.Char("Number", readonly=True)
    type = fields.Selection(TYPES, "Type", required=True, states=_states)
    type_string = type.translated('type')
    # the calendar shows a field's raw value: the type in words
    type_name = fields.Function(fields.Char("Type"), 'get_type_name')
    subscription = fields.Many2One(
        'water.subscription', "Subscription", ondelete='RESTRICT',
        domain=[('company', '=', Eval('company', -1))],
        states=_states,
        help="Empty for a place without a subscription (an illegal "
        "connection, a site survey).")
    party = fields.Many2One(
        'party.party', "Party", ondelete='RESTRICT', states=_states,
        context={'company': Eval('company', -1)}, depends={'company'},
        help="The subscriber, or the occupant of the place.")
    location = fields.Char(
        "Location", states=_states,
        help="The address or a description of the place.")
    area = fields.Many2One(
        'water.area', "Service Area", required=True, ondelete='RESTRICT',
        domain=[('company', '=', Eval('company', -1))], states=_states)
    origin = fields.Reference(
        "Origin", selection='get_origin', readonly=True,
        help="What opened the work order; empty when a manager did.")
    description = fields.Text("Instructions", states=_states)
    planned_date = fields.Date(
        "Planned Date",
        states={
            'readonly': ~Eval('state').in_(['draft', 'scheduled']),
            'required': Eval('state').in_(['scheduled', 'in_progress']),
            })
    inspectors = fields.Many2Many(
        'water.inspection-res.user', 'inspection', 'user', "Inspectors",
        states={
            'readonly': ~Eval('state').in_(['draft', 'scheduled']),
            })
    meter = fields.Many2One(
        'water.meter', "Meter", readonly=True, ondelete='RESTRICT',
        help="The meter in place when the work order was opened.")
    reading = fields.Many2One(
        'water.reading', "Held Reading", readonly=True, ondelete='RESTRICT',
        states={'invisible': ~Eval('reading')},
        help="The reading that sent the case to inspection; it waits for "
        "the outcome.")

    # findings
    visit_date = fields.Date(
        "Visit Date",
        states={
            'readonly': _findings['readonly'],
            'required': Eval('state') == 'done',
            })
    meter_condition = fields.Selection(
        CONDITIONS, "Meter Condition", sort=False, states=_findings)
    accuracy = fields.Numeric(
        "Accuracy (%)", digits=(5, 1), states=_findings,
        domain=[If(Bool(Eval('accuracy')),
                [('accuracy', '>=', 0), ('accuracy', '<=', 1000)], [])],
        help="What the meter registered for 100 litres in the test: "
        "above 100 it runs fast.")
    seal = fields.Selection(SEALS, "Seal", sort=False, states=_findings)
    seal_number = fields.Char("Seal Number", states=_findings)
    meter_reading = fields.Numeric(
        "Register on Site", digits=READING_DIGITS, states=_findings,
        help="The register of the meter on the visit.")
    latitude = fields.Numeric(
        "Latitude", digits=(9, 6), states=_findings,
        domain=[If(Bool(Eval('latitude')),
                [('latitude', '>=', -90), ('latitude', '<=', 90)], [])])
    longitude = fields.Numeric(
        "Longitude", digits=(9, 6), states=_findings,
        domain=[If(Bool(Eval('longitude')),
                [('longitude', '>=', -180), ('longitude', '<=', 180)], [])])
    findings = fields.Text("Findings", states=_findings)
    actions = fields.Text("Actions Taken", states=_findings)
    outcome = fields.Selection(
        OUTCOMES, "Outcome", sort=False,
        states={
            'readonly': _findings['readonly'],
            'required': (Eval('state') == 'done')
            & Eval('type').in_(['high_consumption', 'meter']),
            },
        help="For a reading exception it decides the bill: a reading error "
        "corrects the reading, a faulty meter re-estimates the consumption, "
        "a leak on the subscriber's side or a confirmed consumption is "
        "billed as read.")
    outcome_string = outcome.translated('outcome')
    verified_value = fields.Numeric(
        "Verified Register", digits=READING_DIGITS,
        states={
            'readonly': _findings['readonly'],
            'invisible': ~Eval('reading') | (Eval('outcome') != 'reading_error'),
            'required': Bool(Eval('reading'))
            & (Eval('outcome') == 'reading_error')
            & (Eval('state') == 'in_progress'),
            },
        help="The register the meter showed on the held reading's date.")
    new_meter = fields.Many2One(
        'water.meter', "New Meter", ondelete='RESTRICT',
        domain=[
            ('state', '=', 'in_stock'),
            ('company', '=', Eval('company', -1)),
            ],
        states={
            'readonly': _findings['readonly'],
            'invisible': ~Eval('subscription'),
            },
        help="The meter fitted on the visit: the old one is removed at the "
        "register on site.")
    new_meter_reading = fields.Numeric(
        "New Meter Register", digits=READING_DIGITS,
        states={
            'readonly': _findings['readonly'],
            'invisible': ~Eval('new_meter'),
            'required': Bool(Eval('new_meter')),
            })
    removal_reason = fields.Selection(
        REMOVAL_REASONS, "Removal Reason", sort=False,
        states={
            'readonly': _findings['readonly'],
            'invisible': ~Eval('new_meter'),
            'required': Bool(Eval('new_meter')),
            })
    fault_since = fields.Date(
        "Faulty Since",
        states={
            'readonly': _findings['readonly'],
            'invisible': Eval('outcome') != 'faulty',
            },
        help="The consumption read after this date is re-estimated from the "
        "average before it; empty to leave the past bills as they are.")
    adjustment = fields.Many2One(
        'account.invoice', "Adjustment", readonly=True, ondelete='RESTRICT',
        states={'invisible': ~Eval('adjustment')},
        help="The invoice (a credit when negative) of the re-estimated "
        "consumption; the next bill shows it.")
    photos = fields.Function(
        fields.Integer("Photos"), 'get_photos')
    started_at = fields.DateTime("Started At", readonly=True)
    done_at = fields.DateTime("Done At", readonly=True)
    done_by = fields.Many2One('res.user', "Done By", readonly=True)
    state = fields.Selection([
            ('draft', "Draft"),
            ('scheduled', "Scheduled"),
            ('in_progress', "In Progress"),
            ('done', "Done"),
            ('cancelled', "Cancelled"),
            ], "State", readonly=True, required=True, sort=False)
    state_string = state.translated('state')

    del _states, _findings

    @classmethod
    def __setup__(cls):
        super().__setup__()
        t = cls.__table__()
        cls._sql_indexes.update({
                Index(t, (t.subscription, Index.Range())),
                Index(t, (t.planned_date, Index.Range())),
                Index(t, (t.state, Index.Equality(cardinality='low')),
                    where=t.state.in_(OPEN)),
                Index(t, (t.reading, Index.Range())),
                })
        cls._order = [('planned_date', 'DESC NULLS FIRST'), ('id', 'DESC')]
        cls._transitions |= {
            ('draft', 'scheduled'),
            ('scheduled', 'draft'),
            ('scheduled', 'in_progress'),
            ('in_progress', 'scheduled'),
            ('in_progress', 'done'),
            ('draft', 'cancelled'),
            ('scheduled', 'cancelled'),
            ('in_progress', 'cancelled'),
            ('cancelled', 'draft'),
            }
        cls._buttons.update({
                'draft': {
                    'invisible': ~Eval('state').in_(
                        ['scheduled', 'cancelled']),
                    'icon': If(Eval('state') == 'cancelled',
                        'tryton-undo', 'tryton-back'),
                    'depends': ['state'],
                    },
                'schedule': {
                    'invisible': ~Eval('state').in_(['draft', 'in_progress']),
                    'icon': If(Eval('state') == 'in_progress',
                        'tryton-back', 'tryton-forward'),
                    'depends': ['state'],
                    },
                'start': {
                    'invisible': Eval('state') != 'scheduled',
                    'depends': ['state'],
                    },
                'do': {
                    'invisible': Eval('state') != 'in_progress',
                    'depends': ['state'],
                    },
                'cancel': {
                    'invisible': ~Eval('state').in_(OPEN),
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
    def default_type(cls):
        return 'meter'

    @classmethod
    def _get_origin(cls):
        "Return the models that open work orders"
        return ['water.reading', 'water.request']

    @classmethod
    def get_origin(cls):
        pool = Pool()
        get_name = pool.get('ir.model').get_name
        return [(None, '')] + [(m, get_name(m)) for m in cls._get_origin()]

    @fields.depends('subscription', '_parent_subscription.party',
        '_parent_subscription.area', '_parent_subscription.address')
    def on_change_subscription(self):
        if self.subscription:
            self.party = self.subscription.party
            self.area = self.subscription.area
            if self.subscription.address:
                self.location = self.subscription.address.rec_name

    @classmethod
    def get_photos(cls, inspections, name):
        return count_attachments(inspections)

    def get_type_name(self, name):
        return self.type_string

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
    def create(cls, vlist):
        pool = Pool()
        Subscription = pool.get('water.subscription')
        vlist = [v.copy() for v in vlist]
        subscriptions = Subscription.browse(list({
                    v['subscription'] for v in vlist
                    if v.get('subscription')}))
        by_id = {s.id: s for s in subscriptions}
        for values in vlist:
            subscription = by_id.get(values.get('subscription'))
            if subscription:
                # the meter inspected: the swap later removes it
                if subscription.meter and not values.get('meter'):
                    values['meter'] = subscription.meter.id
                values.setdefault('party', subscription.party.id)
                values.setdefault('area', subscription.area.id)
                if subscription.address and not values.get('location'):
                    values['location'] = subscription.address.rec_name
        inspections = super().create(vlist)
        cls.set_number(inspections)
        return inspections

    @classmethod
    def set_number(cls, inspections):
        pool = Pool()
        ModelData = pool.get('ir.model.data')
        Sequence = pool.get('ir.sequence')
        sequence = Sequence(
            ModelData.get_id('water_utility', 'sequence_inspection'))
        to_write = []
        for inspection in inspections:
            if not inspection.number:
                to_write.extend(([inspection], {'number': sequence.get()}))
        if to_write:
            cls.write(*to_write)

    @classmethod
    def copy(cls, inspections, default=None):
        default = default.copy() if default is not None else {}
        for name in ['number', 'origin', 'reading', 'adjustment',
                'started_at', 'done_at', 'done_by', 'visit_date',
                'new_meter', 'new_meter_reading']:
            default.setdefault(name, None)
        return super().copy(inspections, default=default)

    @classmethod
    def check_modification(cls, mode, inspections, values=None,
            external=False):
        super().check_modification(
            mode, inspections, values=values, external=external)
        if mode == 'delete':
            for inspection in inspections:
                if inspection.state not in {'draft', 'cancelled'} or (
                        inspection.origin):
                    raise InspectionError(gettext(
                            'water_utility.msg_inspection_delete',
                            inspection=inspection.rec_name))

    @classmethod
    @ModelView.button
    @Workflow.transition('draft')
    def draft(cls, inspections):
        pass

    @classmethod
    @ModelView.button
    @Workflow.transition('scheduled')
    def schedule(cls, inspections):
        for inspection in inspections:
            if not inspection.planned_date or not inspection.inspectors:
                raise InspectionError(gettext(
                        'water_utility.msg_inspection_schedule',
                        inspection=inspection.rec_name))

    @classmethod
    @ModelView.button
    @Workflow.transition('in_progress')
    def start(cls, inspections):
        pool = Pool()
        Date = pool.get('ir.date')
        today = Date.today()
        for inspection in inspections:
            if not inspection.started_at:
                inspection.started_at = dt.datetime.now()
            if not inspection.visit_date:
                inspection.visit_date = today
        cls.save(inspections)

    @classmethod
    @ModelView.button
    @Workflow.transition('done')
    def do(cls, inspections):
        "Close the work orders and post their results into billing"
        cls.check_findings(inspections)
        cls.post_swaps(inspections)
        cls.post_readings(inspections)
        cls.post_adjustments(inspections)
        now = dt.datetime.now()
        cls.write(list(inspections), {
                'done_at': now,
                'done_by': Transaction().user,
                })

    @classmethod
    @ModelView.button
    @Workflow.transition('cancelled')
    def cancel(cls, inspections):
        pass

    @classmethod
    def check_findings(cls, inspections):
        for inspection in inspections:
            if (inspection.outcome == 'faulty' and inspection.fault_since
                    and inspection.visit_date
                    and inspection.fault_since >= inspection.visit_date):
                raise InspectionError(gettext(
                        'water_utility.msg_inspection_fault_since',
                        inspection=inspection.rec_name))
            if inspection.new_meter and inspection.meter and (
                    inspection.meter_reading is None):
                raise InspectionError(gettext(
                        'water_utility.msg_inspection_final_register',
                        inspection=inspection.rec_name))
            if (inspection.reading and inspection.outcome == 'reading_error'
                    and inspection.verified_value is None):
                raise InspectionError(gettext(
                        'water_utility.msg_inspection_verified_value',
                        inspection=inspection.rec_name))

    @classmethod
    def post_swaps(cls, inspections):
        "The meters replaced on site become meter swaps"
        pool = Pool()
        Installation = pool.get('water.meter.installation')
        swaps = []
        for inspection in inspections:
            if not inspection.new_meter or not inspection.subscription:
                continue
            swaps.append(MeterSwap(
                    subscription=inspection.subscription,
                    date=inspection.visit_date,
                    new_meter=inspection.new_meter,
                    initial_reading=inspection.new_meter_reading,
                    final_reading=inspection.meter_reading,
                    removal_reason=inspection.removal_reason,
                    notes=gettext('water_utility.msg_inspection_swap_note',
                        inspection=inspection.number)))
        if swaps:
            Installation.swap(swaps)

    @classmethod
    def post_readings(cls, inspections):
        """Resolve the held readings: a reading error corrects the register,
        any other outcome accepts the reading as read"""
        pool = Pool()
        Reading = pool.get('water.reading')
        to_accept, to_correct = [], defaultdict(list)
        for inspection in inspections:
            reading = inspection.reading
            if not reading or reading.state != 'inspection':
                continue
            if inspection.outcome == 'reading_error':
                to_correct[inspection.verified_value].append(
                    (reading, inspection))
            elif inspection.outcome:
                to_accept.append(reading)
        for value, pairs in to_correct.items():
            Reading.correct_values([r for r, _ in pairs], value,
                gettext('water_utility.msg_inspection_reading_reason',
                    inspection=', '.join(i.number for _, i in pairs)))
        if to_accept:
            Reading.accept(to_accept)

    @classmethod
    def post_adjustments(cls, inspections):
        """Re-estimate the consumption a faulty meter measured and post the
        difference on the subscription's account"""
        faulty = [i for i in inspections if i.outcome == 'faulty'
            and i.fault_since and i.subscription]
        if not faulty:
            return
        invoices = []
        for inspection, invoice in zip(
                faulty, cls.build_adjustments(faulty)):
            if invoice:
                invoices.append(invoice)
                inspection.adjustment = invoice
        if invoices:
            posting.post_invoices(invoices)
            cls.save(faulty)

    @classmethod
    def build_adjustments(cls, inspections):
        """Return for each inspection the unsaved invoice of its
        re-estimated consumption, or None when nothing changes"""
        pool = Pool()
        Reading = pool.get('water.reading')
        Configuration = pool.get('water.configuration')
        Tariff = pool.get('water.tariff')

        months = Configuration(1).get_reading_average_months()
        subscriptions = [i.subscription for i in inspections]
        tariff_of = Tariff.of_subscriptions(subscriptions)
        timelines = Tariff.timelines([t for t in tariff_of.values() if t])
        readings = defaultdict(list)
        for reading in Reading.search([
                    ('subscription', 'in', [s.id for s in subscriptions]),
                    ('state', 'in', ['valid', 'billed']),
                    ], order=[('date', 'ASC'), ('id', 'ASC')]):
            readings[reading.subscription.id].append(reading)
        history = Reading.history(
            subscriptions, max(i.fault_since for i in inspections))

        priced = []
        for inspection in inspections:
            subscription = inspection.subscription
            window = [r for r in readings[subscription.id]
                if inspection.fault_since < r.date <= inspection.visit_date
                and r.days]
            try:
                periods = consumption.reestimate(
                    [(r, r.days, r.consumption) for r in window],
                    history.daily(subscription.id, inspection.fault_since),
                    months, subscription.category.default_daily_consumption)
            except ValueError:
                raise InspectionError(gettext(
                        'water_utility.msg_inspection_reestimate',
                        inspection=inspection.rec_name,
                        subscription=subscription.rec_name))
            lines = []
            for keys, days, measured, estimated in periods:
                if measured == estimated:
                    continue
                end = keys[-1].date
                start = end - dt.timedelta(days=days)
                repriced = tariff.reprice(
                    timelines.get(tariff_of[subscription.id]),
                    subscription.tariff_key, start, end, measured, estimated,
                    subscription.company.currency.rounding)
                if repriced is None:
                    raise InspectionError(gettext(
                            'water_utility.msg_inspection_tariff',
                            inspection=inspection.rec_name,
                            start=start, end=end))
                lines.extend((end, measured, estimated, l) for l in repriced)
            priced.append(lines)

        preparation = posting.Preparation(
            {l.product for lines in priced for *_, l in lines},
            max(i.visit_date for i in inspections))
        result = []
        for inspection, lines in zip(inspections, priced):
            if not lines:
                result.append(None)
                continue
            with Transaction().set_context(language=preparation.language):
                description = gettext(
                    'water_utility.msg_inspection_adjustment',
                    inspection=inspection.number,
                    since=inspection.fault_since)
                lines = [(l.product, l.quantity, l.unit_price, gettext(
                            'water_utility.msg_inspection_adjustment_line',
                            product=preparation.names[l.product],
                            date=end,
                            measured=m3(measured), estimated=m3(estimated)))
                    for end, measured, estimated, l in lines]
            result.append(posting.build_invoice(
                    inspection.subscription, inspection.visit_date,
                    description, lines, origin=inspection,
                    preparation=preparation))
        return result


class InspectionUser(ModelSQL):
    "Work Order - Inspector"
    __name__ = 'water.inspection-res.user'
    __string__ = "Work Order - Inspector"

    inspection = fields.Many2One(
        'water.inspection', "Work Order", required=True, ondelete='CASCADE')
    user = fields.Many2One(
        'res.user', "Inspector", required=True, ondelete='CASCADE')

    @classmethod
    def __setup__(cls):
        super().__setup__()
        t = cls.__table__()
        cls._sql_indexes.add(Index(t, (t.user, Index.Range())))


class Reading(metaclass=PoolMeta):
    __name__ = 'water.reading'

    inspections = fields.One2Many(
        'water.inspection', 'reading', "Work Orders", readonly=True)

    @classmethod
    def _request_inspection(cls, readings):
        "Open a high-consumption work order per reading, in one batch"
        pool = Pool()
        Inspection = pool.get('water.inspection')
        super()._request_inspection(readings)
        open_ = {i.reading.id for i in Inspection.search([
                    ('reading', 'in', [r.id for r in readings]),
                    ('state', 'in', OPEN),
                    ])}
        Inspection.create([{
                    'company': r.company.id,
                    'type': 'high_consumption',
                    'subscription': r.subscription.id,
                    'origin': str(r),
                    'reading': r.id,
                    'description': gettext(
                        'water_utility.msg_inspection_from_reading',
                        reading=r.rec_name,
                        consumption=m3(r.consumption),
                        expected=m3(r.expected)),
                    } for r in readings if r.id not in open_])


class Request(metaclass=PoolMeta):
    __name__ = 'water.request'

    inspections = fields.One2Many(
        'water.inspection', 'origin', "Work Orders", readonly=True)

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls._buttons.update({
                'send_inspection': {
                    'invisible': (~Eval('state').in_(
                            ['open', 'assigned', 'in_progress'])
                        | ~Eval('subscription')),
                    'depends': ['state', 'subscription'],
                    },
                })

    @classmethod
    @ModelView.button
    def send_inspection(cls, requests):
        "Send a field team: a meter inspection work order per request"
        pool = Pool()
        Inspection = pool.get('water.inspection')
        Inspection.create([{
                    'company': r.company.id,
                    'type': 'meter',
                    'subscription': r.subscription.id,
                    'origin': str(r),
                    'description': r.description,
                    } for r in requests if r.subscription])
        cls.add_event(requests, 'inspection')


class InvoiceLine(metaclass=PoolMeta):
    __name__ = 'account.invoice.line'

    @classmethod
    def _get_origin(cls):
        return super()._get_origin() + ['water.inspection']
