# This file is part of the water_utility module.  See README.rst.
import datetime as dt
from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal


from sql import Null
from sql.conditionals import Coalesce
from sql.operators import Equal

from trytond import backend
from trytond.i18n import gettext
from trytond.model import (
    Check, Exclude, Index, ModelSQL, ModelView, Unique, Workflow, fields)
from trytond.pool import Pool
from trytond.pyson import Bool, Eval, If
from trytond.tools import grouped_slice
from trytond.transaction import Transaction
from trytond.wizard import Button, StateTransition, StateView, Wizard

from . import consumption
from .exceptions import (
    MeterInstallationError, MeterReadingError, MeterStateError)

READING_DIGITS = (16, 3)

DIAMETERS = [
    (None, ''),
    ('15', 'DN15 (½")'),
    ('20', 'DN20 (¾")'),
    ('25', 'DN25 (1")'),
    ('32', 'DN32 (1¼")'),
    ('40', 'DN40 (1½")'),
    ('50', 'DN50 (2")'),
    ('80', 'DN80 (3")'),
    ('100', 'DN100 (4")'),
    ('150', 'DN150 (6")'),
    ]

REMOVAL_REASONS = [
    (None, ''),
    ('swap', "Periodic Replacement"),
    ('faulty', "Faulty"),
    ('damaged', "Damaged"),
    ('tampered', "Tampered"),
    ('stolen', "Stolen"),
    ('closing', "Subscription Closed"),
    ('other', "Other"),
    ]


class Meter(Workflow, ModelSQL, ModelView):
    "Water Meter"
    __name__ = 'water.meter'
    _rec_name = 'serial'

    company = fields.Many2One('company.company', "Company", required=True)
    serial = fields.Char(
        "Serial Number", required=True, strip=True,
        states={
            'readonly': Eval('state') != 'in_stock',
            },
        help="The number engraved on the meter; unique in the utility.")
    make = fields.Char("Make")
    model = fields.Char("Model")
    diameter = fields.Selection(DIAMETERS, "Diameter", sort=False)
    digits = fields.Integer(
        "Dial Digits", required=True,
        domain=[('digits', '>=', 3), ('digits', '<=', 9)],
        states={
            'readonly': Eval('state') == 'installed',
            },
        help="Whole-m³ digits on the register: after 99999 a 5-digit "
        "register shows 00000 again.")
    multiplier = fields.Numeric(
        "Multiplier", digits=(16, 3), required=True,
        domain=[('multiplier', '>', 0)],
        states={
            'readonly': Eval('state') == 'installed',
            },
        help="m³ per unit shown on the register.")
    manufacture_year = fields.Integer("Year of Manufacture")
    state = fields.Selection([
            ('in_stock', "In Stock"),
            ('installed', "Installed"),
            ('removed', "Removed"),
            ('under_test', "Under Test"),
            ('scrapped', "Scrapped"),
            ], "State", readonly=True, required=True, sort=False)
    state_string = state.translated('state')
    installations = fields.One2Many(
        'water.meter.installation', 'meter', "Installations", readonly=True,
        order=[('start_date', 'DESC'), ('id', 'DESC')])
    subscription = fields.Function(
        fields.Many2One('water.subscription', "Subscription"),
        'get_subscription', searcher='search_subscription')
    notes = fields.Text("Notes")

    @classmethod
    def __setup__(cls):
        cls.serial.search_unaccented = False
        super().__setup__()
        t = cls.__table__()
        cls._sql_constraints = [
            ('serial_unique', Unique(t, t.serial),
                'water_utility.msg_meter_serial_unique'),
            ]
        cls._sql_indexes.add(
            Index(t,
                (t.state, Index.Equality(cardinality='low')),
                where=t.state.in_(['in_stock', 'removed', 'under_test'])))
        cls._order.insert(0, ('serial', 'ASC'))
        cls._transitions |= {
            ('removed', 'under_test'),
            ('removed', 'in_stock'),
            ('under_test', 'in_stock'),
            ('removed', 'scrapped'),
            ('under_test', 'scrapped'),
            ('in_stock', 'scrapped'),
            }
        cls._buttons.update({
                'test': {
                    'invisible': Eval('state') != 'removed',
                    'icon': 'tryton-search',
                    'depends': ['state'],
                    },
                'stock': {
                    'invisible': ~Eval('state').in_(
                        ['removed', 'under_test']),
                    'icon': 'tryton-back',
                    'depends': ['state'],
                    },
                'scrap': {
                    'invisible': ~Eval('state').in_(
                        ['removed', 'under_test', 'in_stock']),
                    'icon': 'tryton-delete',
                    'depends': ['state'],
                    },
                })

    @classmethod
    def default_company(cls):
        return Transaction().context.get('company')

    @classmethod
    def default_state(cls):
        return 'in_stock'

    @classmethod
    def default_digits(cls):
        return 5

    @classmethod
    def default_multiplier(cls):
        return Decimal(1)

    @classmethod
    def get_subscription(cls, meters, name):
        pool = Pool()
        Installation = pool.get('water.meter.installation')
        in_place = Installation.in_place('meter', meters)
        return {m.id: in_place[m.id].subscription.id if m.id in in_place
            else None for m in meters}

    @classmethod
    def search_subscription(cls, name, clause):
        pool = Pool()
        Installation = pool.get('water.meter.installation')
        return Installation.in_place_domain('subscription', name, clause)

    @classmethod
    def check_modification(cls, mode, meters, values=None, external=False):
        super().check_modification(
            mode, meters, values=values, external=external)
        if mode == 'delete':
            for meter in meters:
                if meter.installations:
                    raise MeterStateError(gettext(
                            'water_utility.msg_meter_delete_installed',
                            meter=meter.rec_name))

    @classmethod
    def copy(cls, meters, default=None):
        default = default.copy() if default is not None else {}
        default.setdefault('serial', None)
        default.setdefault('state', 'in_stock')
        default.setdefault('installations', None)
        return super().copy(meters, default=default)

    @classmethod
    def sync_state(cls, meters):
        "Set installed or removed from the meters' installations"
        installed = [
            m for m in meters if m.subscription and m.state != 'installed']
        removed = [
            m for m in meters if not m.subscription and m.state == 'installed']
        args = []
        if installed:
            args.extend([installed, {'state': 'installed'}])
        if removed:
            args.extend([removed, {'state': 'removed'}])
        if args:
            cls.write(*args)

    @classmethod
    @ModelView.button
    @Workflow.transition('under_test')
    def test(cls, meters):
        pass

    @classmethod
    @ModelView.button
    @Workflow.transition('in_stock')
    def stock(cls, meters):
        pass

    @classmethod
    @ModelView.button
    @Workflow.transition('scrapped')
    def scrap(cls, meters):
        pass


class Installation(ModelSQL, ModelView):
    "Meter Installation"
    __name__ = 'water.meter.installation'
    __string__ = "Meter Installation"

    meter = fields.Many2One(
        'water.meter', "Meter", required=True, ondelete='RESTRICT')
    subscription = fields.Many2One(
        'water.subscription', "Subscription", required=True,
        ondelete='RESTRICT')
    start_date = fields.Date("Installed On", required=True)
    initial_reading = fields.Numeric(
        "Initial Reading", digits=READING_DIGITS, required=True,
        help="The register when the meter was installed.")
    end_date = fields.Date(
        "Removed On",
        domain=[
            If(Bool(Eval('end_date')),
                ('end_date', '>=', Eval('start_date', dt.date.min)),
                ()),
            ])
    final_reading = fields.Numeric(
        "Final Reading", digits=READING_DIGITS,
        states={
            'required': Bool(Eval('end_date')),
            'invisible': ~Eval('end_date'),
            },
        help="The register when the meter was removed.")
    rollover = fields.Boolean(
        "Register Rolled Over",
        states={
            'invisible': ~Eval('end_date'),
            },
        help="The register passed 99…9 and started again from zero.")
    removal_reason = fields.Selection(
        REMOVAL_REASONS, "Removal Reason", sort=False,
        states={
            'required': Bool(Eval('end_date')),
            'invisible': ~Eval('end_date'),
            })
    consumption = fields.Function(
        fields.Numeric("Consumption (m³)", digits=READING_DIGITS),
        'get_consumption')
    notes = fields.Text("Notes")

    @classmethod
    def __setup__(cls):
        super().__setup__()
        t = cls.__table__()
        # At most one open installation per meter and per subscription:
        # partial unique indexes on every backend, so that two clerks
        # installing at the same moment cannot both succeed.
        cls._sql_constraints = [
            # SQLite reports only the column of a failed unique index:
            # subscription first as "meter" is also in the table name.
            ('subscription_open_unique',
                Exclude(t, (t.subscription, Equal), where=t.end_date == Null),
                'water_utility.msg_installation_subscription_overlap'),
            ('meter_open_unique',
                Exclude(t, (t.meter, Equal), where=t.end_date == Null),
                'water_utility.msg_installation_meter_overlap'),
            ('dates', Check(t, (t.end_date == Null)
                    | (t.end_date >= t.start_date)),
                'water_utility.msg_installation_dates'),
            ]
        cls._sql_indexes.add(
            Index(t, (t.subscription, Index.Range()),
                (t.start_date, Index.Range())))
        cls._order = [('start_date', 'DESC'), ('id', 'DESC')]

    @classmethod
    def in_place(cls, field, records):
        "Return the installations in place by id of meter or subscription"
        return {getattr(i, field).id: i for i in cls.search([
                    (field, 'in', list(map(int, records))),
                    ('end_date', '=', None),
                    ])}

    @classmethod
    def fitted(cls, subscriptions):
        "Return the Fitted installations of subscriptions by their id"
        return cls._fitted('subscription', subscriptions)

    @classmethod
    def fitted_meters(cls, meters):
        "Return the Fitted installations of meters by their id"
        return cls._fitted('meter', meters)

    @classmethod
    def _fitted(cls, field, records):
        """Return the Fitted installations of records by id of field

        In date order; plain values read by one query per slice, for the
        checks of a batch of readings.
        """
        pool = Pool()
        Meter = pool.get('water.meter')
        table = cls.__table__()
        meter = Meter.__table__()
        cursor = Transaction().connection.cursor()
        result = defaultdict(list)
        column = getattr(table, field)
        for sub in grouped_slice(
                [int(r) for r in records], backend.MAX_QUERY_PARAMS):
            cursor.execute(*table.join(meter,
                    condition=table.meter == meter.id).select(
                    table.id, table.subscription, table.meter, meter.serial,
                    table.start_date, table.end_date, table.initial_reading,
                    table.final_reading, meter.digits, meter.multiplier,
                    where=fields.SQL_OPERATORS['in'](column, list(sub)),
                    order_by=[table.start_date.asc, table.id.asc]))
            for row in cursor:
                fitted = Fitted(*row)
                result[getattr(fitted, field)].append(fitted)
        return result

    @classmethod
    def in_place_domain(cls, field, name, clause):
        "Return the domain on installations in place for a searcher"
        nested = clause[0][len(name):] or '.rec_name'
        return [('installations', 'where', [
                    (field + nested,) + tuple(clause[1:]),
                    ('end_date', '=', None),
                    ])]

    @classmethod
    def default_initial_reading(cls):
        return Decimal(0)

    @classmethod
    def default_rollover(cls):
        return False

    def get_rec_name(self, name):
        return f'{self.meter.rec_name} @ {self.subscription.rec_name}'

    def get_consumption(self, name):
        if self.end_date and self.final_reading is not None:
            try:
                return consumption.consumption(
                    self.initial_reading, self.final_reading,
                    self.meter.digits, self.meter.multiplier,
                    self.rollover)
            except consumption.ReadingError:
                return None

    @classmethod
    def validate_fields(cls, installations, field_names):
        super().validate_fields(installations, field_names)
        cls.check_readings(installations, field_names)
        cls.check_overlaps(installations, field_names)

    @classmethod
    def check_overlaps(cls, installations, field_names=None):
        "Refuse a meter on two subscriptions or two meters on one at a date"
        if field_names and not (field_names & {
                    'meter', 'subscription', 'start_date', 'end_date'}):
            return
        transaction = Transaction()
        if backend.name != 'sqlite':
            # Past periods are not covered by the unique indexes: the lock
            # keeps two clerks from entering overlapping history at once.
            # (SQLite serialises writers by itself.)
            cls.lock()
        table, other = cls.__table__(), cls.__table__()
        cursor = transaction.connection.cursor()
        forever = dt.date.max

        def end(t):
            return Coalesce(t.end_date, forever)
        # Half-open [start, end): a meter removed on a day may be installed
        # elsewhere that same day; empty periods overlap nothing.
        overlap = (
            (table.start_date < end(other)) & (other.start_date < end(table))
            & (table.start_date < end(table))
            & (other.start_date < end(other)))
        for sub_ids in grouped_slice(
                installations, backend.MAX_QUERY_PARAMS):
            cursor.execute(*table.join(other,
                    condition=(table.id != other.id) & overlap
                    & ((table.meter == other.meter)
                        | (table.subscription == other.subscription))).select(
                    table.id, other.id,
                    where=fields.SQL_OPERATORS['in'](
                        table.id, list(map(int, sub_ids))),
                    limit=1))
            row = cursor.fetchone()
            if row:
                installation, clash = cls.browse(row)
                if installation.meter == clash.meter:
                    message = 'water_utility.msg_installation_meter_clash'
                else:
                    message = (
                        'water_utility.msg_installation_subscription_clash')
                raise MeterInstallationError(gettext(message,
                        meter=installation.meter.rec_name,
                        subscription=installation.subscription.rec_name,
                        other=clash.rec_name,
                        start_date=clash.start_date,
                        end_date=clash.end_date or ''))

    @classmethod
    def check_readings(cls, installations, field_names=None):
        if field_names and not (field_names & {
                    'meter', 'initial_reading', 'final_reading',
                    'rollover', 'end_date'}):
            return
        for installation in installations:
            meter = installation.meter
            for value in [
                    installation.initial_reading,
                    installation.final_reading]:
                try:
                    consumption.check_register(value, meter.digits)
                except consumption.ReadingError:
                    raise MeterReadingError(gettext(
                            'water_utility.msg_reading_out_of_dial',
                            reading=value, meter=meter.rec_name,
                            digits=meter.digits))
            if installation.final_reading is None:
                continue
            try:
                consumption.register_advance(
                    installation.initial_reading,
                    installation.final_reading,
                    meter.digits, installation.rollover)
            except consumption.ReadingError:
                if installation.rollover:
                    message = 'water_utility.msg_reading_rollover_above'
                else:
                    message = 'water_utility.msg_reading_below_initial'
                raise MeterReadingError(gettext(message,
                        meter=meter.rec_name,
                        initial=installation.initial_reading,
                        final=installation.final_reading))

    @classmethod
    def create(cls, vlist):
        # Checked before the insert so that the clerk reads why, rather
        # than the database's refusal.
        cls.check_installable(vlist)
        return super().create(vlist)

    @classmethod
    def check_modification(cls, mode, installations, values=None,
            external=False):
        super().check_modification(
            mode, installations, values=values, external=external)
        if mode == 'write' and values and (
                values.keys() & {'meter', 'subscription', 'start_date'}):
            for installation in installations:
                if installation.end_date:
                    raise MeterInstallationError(gettext(
                            'water_utility.msg_installation_closed',
                            installation=installation.rec_name))

    @classmethod
    def check_installable(cls, vlist):
        "Check that new open installations find the meter in stock"
        pool = Pool()
        Meter = pool.get('water.meter')
        Subscription = pool.get('water.subscription')
        # History entered after the fact (with an end) is only checked
        # against overlaps, by check_overlaps.
        vlist = [v for v in vlist if not v.get('end_date')]
        if not vlist:
            return
        meters = Meter.browse({v['meter'] for v in vlist if v.get('meter')})
        subscriptions = Subscription.browse(
            {v['subscription'] for v in vlist if v.get('subscription')})
        equipped = {
            i.subscription: i.meter
            for i in cls.in_place('subscription', subscriptions).values()}
        meters = {m.id: m for m in meters}
        subscriptions = {s.id: s for s in subscriptions}
        seen = set()
        for values in vlist:
            meter = meters.get(values.get('meter'))
            subscription = subscriptions.get(values.get('subscription'))
            if not meter or not subscription:
                continue  # required fields are reported by the ORM
            if meter.state == 'installed' or meter in seen:
                raise MeterInstallationError(gettext(
                        'water_utility.msg_meter_already_installed',
                        meter=meter.rec_name,
                        subscription=(
                            meter.subscription.rec_name
                            if meter.subscription
                            else subscription.rec_name)))
            if meter.state != 'in_stock':
                raise MeterInstallationError(gettext(
                        'water_utility.msg_meter_not_in_stock',
                        meter=meter.rec_name,
                        state=meter.state_string))
            if subscription.state == 'closed':
                raise MeterInstallationError(gettext(
                        'water_utility.msg_install_on_closed',
                        subscription=subscription.rec_name))
            if subscription in equipped:
                raise MeterInstallationError(gettext(
                        'water_utility.msg_subscription_has_meter',
                        subscription=subscription.rec_name,
                        meter=equipped[subscription].rec_name))
            seen.add(meter)
            equipped[subscription] = meter

    @classmethod
    def on_modification(cls, mode, installations, field_names=None):
        pool = Pool()
        Meter = pool.get('water.meter')
        super().on_modification(mode, installations, field_names=field_names)
        if mode in {'create', 'write'}:
            Meter.sync_state(list({i.meter for i in installations}))

    @classmethod
    def swap(cls, swaps):
        """Close the current installations and open the new ones at once

        swaps is a list of MeterSwap; the whole list succeeds or nothing
        is saved (one transaction).
        """
        current = cls.in_place(
            'subscription', [s.subscription for s in swaps])
        to_close, to_open = [], []
        for swap in swaps:
            old = current.get(swap.subscription.id)
            if old:
                if swap.date < old.start_date:
                    raise MeterInstallationError(gettext(
                            'water_utility.msg_swap_before_installation',
                            meter=old.meter.rec_name,
                            start_date=old.start_date))
                old.end_date = swap.date
                old.final_reading = swap.final_reading
                old.rollover = bool(swap.rollover)
                old.removal_reason = swap.removal_reason
                if swap.notes:
                    old.notes = '\n'.join(
                        filter(None, [old.notes, swap.notes]))
                to_close.append(old)
            elif not swap.new_meter:
                raise MeterInstallationError(gettext(
                        'water_utility.msg_swap_nothing',
                        subscription=swap.subscription.rec_name))
            if swap.new_meter:
                to_open.append(cls(
                        meter=swap.new_meter,
                        subscription=swap.subscription,
                        start_date=swap.date,
                        initial_reading=swap.initial_reading or Decimal(0),
                        notes=swap.notes))
        cls.save(to_close)
        cls.save(to_open)
        return to_open


@dataclass(frozen=True)
class Fitted:
    "An installation with its meter's dial, as plain values"
    id: int
    subscription: int
    meter: int
    serial: str
    start_date: dt.date
    end_date: dt.date
    initial_reading: Decimal
    final_reading: Decimal
    digits: int
    multiplier: Decimal


@dataclass
class MeterSwap:
    "What a field team reports when it changes the meter of a subscription"
    subscription: object
    date: dt.date
    new_meter: object = None
    initial_reading: Decimal = Decimal(0)
    final_reading: Decimal = None
    rollover: bool = False
    removal_reason: str = None
    notes: str = None


class SwapStart(ModelView):
    "Install or Swap Meter"
    __name__ = 'water.meter.swap.start'
    __string__ = "Install or Swap Meter"

    subscription = fields.Many2One(
        'water.subscription', "Subscription", required=True, readonly=True)
    date = fields.Date("Date", required=True)
    old_meter = fields.Many2One('water.meter', "Current Meter", readonly=True)
    final_reading = fields.Numeric(
        "Final Reading", digits=READING_DIGITS,
        states={
            'invisible': ~Eval('old_meter'),
            'required': Bool(Eval('old_meter')),
            })
    rollover = fields.Boolean(
        "Register Rolled Over",
        states={
            'invisible': ~Eval('old_meter'),
            })
    removal_reason = fields.Selection(
        REMOVAL_REASONS, "Removal Reason", sort=False,
        states={
            'invisible': ~Eval('old_meter'),
            'required': Bool(Eval('old_meter')),
            })
    new_meter = fields.Many2One(
        'water.meter', "New Meter",
        domain=[
            ('state', '=', 'in_stock'),
            ('company', '=', Eval('company', -1)),
            ],
        states={
            'required': ~Eval('old_meter'),
            },
        help="Leave empty to remove the current meter without a new one.")
    initial_reading = fields.Numeric(
        "Initial Reading", digits=READING_DIGITS,
        states={
            'invisible': ~Eval('new_meter'),
            'required': Bool(Eval('new_meter')),
            })
    company = fields.Many2One('company.company', "Company", readonly=True)
    notes = fields.Text("Notes")


class Swap(Wizard):
    "Install or Swap Meter"
    __name__ = 'water.meter.swap'
    start = StateView(
        'water.meter.swap.start', 'water_utility.meter_swap_start_view_form', [
            Button("Cancel", 'end', 'tryton-cancel'),
            Button("Confirm", 'swap', 'tryton-ok', default=True),
            ])
    swap = StateTransition()

    def default_start(self, fields):
        subscription = self.record
        return {
            'subscription': subscription.id,
            'company': subscription.company.id,
            'date': dt.date.today(),
            'old_meter': subscription.meter.id if subscription.meter else None,
            'rollover': False,
            'removal_reason': 'swap' if subscription.meter else None,
            'initial_reading': Decimal(0),
            }

    def transition_swap(self):
        pool = Pool()
        Installation = pool.get('water.meter.installation')
        start = self.start
        Installation.swap([MeterSwap(
                    subscription=self.record,
                    date=start.date,
                    new_meter=start.new_meter,
                    initial_reading=start.initial_reading,
                    final_reading=start.final_reading,
                    rollover=start.rollover,
                    removal_reason=start.removal_reason,
                    notes=start.notes)])
        return 'end'
