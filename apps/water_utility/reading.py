# This file is part of the water_utility module.  See README.rst.
import calendar
import datetime as dt
from collections import defaultdict
from dataclasses import dataclass
from dataclasses import fields as dataclass_fields
from decimal import Decimal

from sql import Column, Null, NullsLast
from sql.aggregate import Count, Max

from trytond import backend
from trytond.i18n import gettext
from trytond.model import (
    DeactivableMixin, Index, ModelSQL, ModelView, Unique, Workflow, fields)
from trytond.pool import Pool
from trytond.pyson import Eval
from trytond.report import Report
from trytond.tools import grouped_slice
from trytond.transaction import Transaction, without_check_access
from trytond.wizard import (
    Button, StateAction, StateTransition, StateView, Wizard)

from . import bulk, consumption, plausibility
from .exceptions import ReadingError, ReadingPeriodError
from .meter import READING_DIGITS
from .report_html import HTMLReport, csv_bytes

SOURCES = [
    ('manual', "Manual Entry"),
    ('handheld', "Handheld"),
    ('amr', "Automatic (AMR)"),
    ('estimate', "Estimate"),
    ('portal', "Portal"),
    ('inspection', "Inspection"),
    ]

RULE_NAMES = [
    ('note', "Reader Note Prevents Reading"),
    ('leak', "Leak Flag"),
    ('negative', "Negative Consumption"),
    ('zero', "Zero Consumption"),
    ('high', "Above Average"),
    ('low', "Below Average"),
    ('date', "Date Outside Period"),
    ('duplicate', "Second Reading in Period"),
    ]
assert [r for r, _ in RULE_NAMES] == plausibility.RULES

# Readings a later one counts from, and that billing may use.
COUNTED = ['valid', 'billed']
# Readings that stand in a period (a second one is a duplicate).
STANDING = ['draft', 'held', 'valid', 'inspection', 'billed']


def month_bounds(date):
    "Return the first and last day of the month of date"
    first = date.replace(day=1)
    return first, first.replace(
        day=calendar.monthrange(first.year, first.month)[1])


class Note(DeactivableMixin, ModelSQL, ModelView):
    "Reading Note"
    __name__ = 'water.reading.note'
    __string__ = "Reader Note"

    code = fields.Char(
        "Code", required=True, strip=True,
        help="What a reader types or a handheld sends.")
    name = fields.Char("Name", required=True, translate=True)
    prevents_read = fields.Boolean(
        "Prevents Reading",
        help="The reader could not read the meter: no value is expected "
        "and the period is estimated unless a re-read succeeds.")
    sequence = fields.Integer("Sequence")

    @classmethod
    def __setup__(cls):
        super().__setup__()
        t = cls.__table__()
        cls._sql_constraints = [
            ('code_unique', Unique(t, t.code),
                'water_utility.msg_reading_note_code_unique'),
            ]
        cls._order[0:0] = [('sequence', 'ASC NULLS LAST'), ('code', 'ASC')]

    @classmethod
    def default_prevents_read(cls):
        return False

    def get_rec_name(self, name):
        return f'{self.code} - {self.name}'

    @classmethod
    def search_rec_name(cls, name, clause):
        _, operator, operand, *extra = clause
        if operator.startswith('!') or operator.startswith('not '):
            bool_op = 'AND'
        else:
            bool_op = 'OR'
        return [bool_op,
            ('code', operator, operand, *extra),
            ('name', operator, operand, *extra),
            ]


class Period(Workflow, ModelSQL, ModelView):
    "Reading Period"
    __name__ = 'water.reading.period'
    __string__ = "Reading Period"

    company = fields.Many2One(
        'company.company', "Company", required=True, readonly=True)
    route = fields.Many2One(
        'water.route', "Route", required=True, readonly=True,
        ondelete='RESTRICT')
    area = fields.Function(
        fields.Many2One('water.area', "Area"), 'get_area',
        searcher='search_area')
    start_date = fields.Date("Start Date", required=True, readonly=True)
    end_date = fields.Date("End Date", required=True, readonly=True)
    reading_date = fields.Date(
        "Reading Date", required=True,
        states={
            'readonly': Eval('state') != 'open',
            },
        help="The day the reader is expected at the meters.")
    state = fields.Selection([
            ('open', "Open"),
            ('closed', "Closed"),
            ], "State", readonly=True, required=True, sort=False)
    readings = fields.One2Many(
        'water.reading', 'period', "Readings", readonly=True)
    subscription_count = fields.Function(
        fields.Integer("Subscriptions"), 'get_counts')
    read_count = fields.Function(fields.Integer("Read"), 'get_counts')
    estimate_count = fields.Function(
        fields.Integer("Estimated"), 'get_counts')
    exception_count = fields.Function(
        fields.Integer("Exceptions"), 'get_counts')
    missing_count = fields.Function(fields.Integer("Missing"), 'get_counts')

    @classmethod
    def __setup__(cls):
        super().__setup__()
        t = cls.__table__()
        cls._sql_constraints = [
            ('route_month_unique', Unique(t, t.route, t.start_date),
                'water_utility.msg_reading_period_unique'),
            ]
        cls._sql_indexes.add(Index(t, (t.state, Index.Equality())))
        cls._order = [('start_date', 'DESC'), ('route', 'ASC'), ('id', 'DESC')]
        cls._transitions |= {
            ('open', 'closed'),
            ('closed', 'open'),
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
                'enter': {
                    'invisible': Eval('state') != 'open',
                    'depends': ['state'],
                    },
                })

    @classmethod
    def default_state(cls):
        return 'open'

    def get_rec_name(self, name):
        return f'{self.route.rec_name} {self.start_date:%Y-%m}'

    @classmethod
    def search_rec_name(cls, name, clause):
        return [('route.rec_name',) + tuple(clause[1:])]

    def get_area(self, name):
        return self.route.area.id

    @classmethod
    def search_area(cls, name, clause):
        return [('route.area' + clause[0][len(name):],) + tuple(clause[1:])]

    @classmethod
    def get_counts(cls, periods, names):
        """Count subscriptions, not readings: a subscription read and
        estimated, or read twice, is counted once, as read"""
        pool = Pool()
        Reading = pool.get('water.reading')
        Subscription = pool.get('water.subscription')
        cursor = Transaction().connection.cursor()
        reading = Reading.__table__()
        subscription = Subscription.__table__()
        counts = defaultdict(dict)
        for sub_periods in grouped_slice(periods, backend.MAX_QUERY_PARAMS):
            sub_periods = list(sub_periods)
            found = defaultdict(lambda: defaultdict(set))
            cursor.execute(*reading.select(
                    reading.period, reading.subscription, reading.state,
                    reading.source,
                    where=fields.SQL_OPERATORS['in'](
                        reading.period, [p.id for p in sub_periods])
                    & reading.state.in_(STANDING)))
            for period_id, subscription_id, state, source in cursor:
                if state in COUNTED:
                    kind = 'estimate' if source == 'estimate' else 'read'
                else:
                    kind = 'exception'
                found[period_id][kind].add(subscription_id)
            cursor.execute(*subscription.select(
                    subscription.route, Count(subscription.id),
                    where=fields.SQL_OPERATORS['in'](
                        subscription.route,
                        list({p.route.id for p in sub_periods}))
                    & (subscription.state == 'active'),
                    group_by=[subscription.route]))
            per_route = dict(cursor)
            for period in sub_periods:
                kinds = found[period.id]
                read = kinds['read']
                estimated = kinds['estimate'] - read
                exceptions = kinds['exception'] - read - estimated
                total = per_route.get(period.route.id, 0)
                counts['subscription_count'][period.id] = total
                counts['read_count'][period.id] = len(read)
                counts['estimate_count'][period.id] = len(estimated)
                counts['exception_count'][period.id] = len(exceptions)
                counts['missing_count'][period.id] = max(0, total - len(
                        read | estimated | exceptions))
        return {n: {p.id: counts[n][p.id] for p in periods} for n in names}

    @classmethod
    def schedule(cls, date=None, routes=None):
        """Open the reading period of the month of date for routes

        Routes that already have that month's period are left alone, so
        that the cron and a clerk can both run it.
        """
        pool = Pool()
        Route = pool.get('water.route')
        Date = pool.get('ir.date')
        if date is None:
            date = Date.today()
        start, end = month_bounds(date)
        if routes is None:
            routes = Route.search([])
        existing = {p.route.id for p in cls.search([
                    ('route', 'in', [r.id for r in routes]),
                    ('start_date', '=', start),
                    ])}
        periods = [cls(
                company=route.area.company,
                route=route,
                start_date=start,
                end_date=end,
                reading_date=start.replace(day=route.reading_day or 1),
                ) for route in routes if route.id not in existing]
        cls.save(periods)
        return periods

    @classmethod
    def schedule_cron(cls):
        "Open this month's reading periods of every route (cron)"
        cls.schedule()

    @classmethod
    def find(cls, route_dates):
        """Return the period of each (route id, date) as a dict

        The open period of the month of the date, else the latest open
        period of the route before it (a late reading of last month's
        round).
        """
        if not route_dates:
            return {}
        dates = [d for _, d in route_dates]
        # a late reading falls in the period of the month before at most
        periods = cls.search([
                ('route', 'in', list({r for r, _ in route_dates})),
                ('state', '=', 'open'),
                ('start_date', '<=', max(dates)),
                ('end_date', '>=', min(dates) - dt.timedelta(days=62)),
                ], order=[('start_date', 'DESC')])
        by_route = defaultdict(list)
        for period in periods:
            by_route[period.route.id].append(period)
        result = {}
        for route, date in route_dates:
            # newest first: the month of the date, else the one before
            for period in by_route.get(route, []):
                if period.start_date <= date:
                    result[route, date] = period
                    break
        return result

    @classmethod
    @ModelView.button
    @Workflow.transition('closed')
    def close(cls, periods):
        "Estimate what was not read and close; exceptions must be resolved"
        pool = Pool()
        Reading = pool.get('water.reading')
        held = Reading.search([
                ('period', 'in', [p.id for p in periods]),
                ('state', 'in', ['held', 'inspection', 'draft']),
                ('value', '!=', None),
                ], limit=1)
        if held:
            reading, = held
            raise ReadingPeriodError(gettext(
                    'water_utility.msg_reading_period_held',
                    period=reading.period.rec_name,
                    subscription=reading.subscription.rec_name))
        # unread meters (no access, …) give way to the estimate
        unread = Reading.search([
                ('period', 'in', [p.id for p in periods]),
                ('state', 'in', ['held', 'draft', 'reread']),
                ])
        Reading.write(unread, {'state': 'cancelled'})
        Reading.estimate_missing(periods)

    @classmethod
    @ModelView.button
    @Workflow.transition('open')
    def reopen(cls, periods):
        """Open the periods again for late readings

        Their estimates not billed yet are cancelled: closing again
        estimates what is still not read.
        """
        pool = Pool()
        Reading = pool.get('water.reading')
        estimates = Reading.search([
                ('period', 'in', [p.id for p in periods]),
                ('source', '=', 'estimate'),
                ('state', '=', 'valid'),
                # a later reading counts from it: its volume stays
                ('replaced_by', '=', None),
                ])
        Reading.write(estimates, {'state': 'cancelled'})

    @classmethod
    @ModelView.button_action('water_utility.wizard_reading_entry')
    def enter(cls, periods):
        pass

    def expected_subscriptions(self):
        "Active subscriptions of the route in route order"
        pool = Pool()
        Subscription = pool.get('water.subscription')
        return Subscription.search([
                ('route', '=', self.route.id),
                ('state', '=', 'active'),
                ], order=[('route_position', 'ASC NULLS LAST'),
                ('number', 'ASC')])

    def sheet_lines(self):
        """Return the route sheet: one SheetLine per active subscription

        With the previous reading and the range expected from the recent
        average, so that the reader re-checks a dial outside it.
        """
        pool = Pool()
        Reading = pool.get('water.reading')
        Installation = pool.get('water.meter.installation')
        subscriptions = self.expected_subscriptions()
        installations = Installation.in_place('subscription', subscriptions)
        history = Reading.history(subscriptions, self.reading_date)
        rules = Reading.rules()
        done = {r.subscription.id for r in self.readings
            if r.state in STANDING}
        lines = []
        # the previous reading is the last one before this period
        before = self.start_date - dt.timedelta(days=1)
        for subscription in subscriptions:
            installation = installations.get(subscription.id)
            last = history.last(subscription.id, before)
            previous, low, high = None, None, None
            if installation:
                if last and last.installation == installation.id:
                    previous, since = last.value, last.date
                else:
                    previous = installation.initial_reading
                    since = installation.start_date
                expected = history.expected(
                    subscription.id, (self.reading_date - since).days)
                if expected is not None:
                    meter = installation.meter
                    low, high = consumption.expected_range(
                        previous, expected / meter.multiplier,
                        rules.factor, rules.margin / meter.multiplier)
                    # as the dial shows them, past 99…9 too
                    capacity = consumption.dial_capacity(meter.digits)
                    low, high = low % capacity, high % capacity
            lines.append(SheetLine(
                    subscription=subscription,
                    installation=installation,
                    previous=previous,
                    low=low,
                    high=high,
                    done=subscription.id in done))
        return lines


class SheetLine:
    "A line of a route sheet"
    __slots__ = ('subscription', 'installation', 'previous', 'low', 'high',
        'done')

    def __init__(self, **kwargs):
        for name in self.__slots__:
            setattr(self, name, kwargs.get(name))

    @property
    def meter(self):
        return self.installation.meter if self.installation else None

    @property
    def address(self):
        address = self.subscription.address
        if not address:
            return ''
        # the reader needs the street and the town, not the country
        street = (address.street or '').replace('\n', '، ')
        return '، '.join(filter(None, [street, address.city]))


@dataclass(frozen=True)
class Past:
    "A counted reading as the checks need it (ids, not records)"
    id: int
    subscription: int
    installation: int
    date: dt.date
    time: dt.time
    value: Decimal
    source: str
    days: int
    consumption: Decimal


class History:
    """The counted readings of subscriptions, newest first

    Built by Reading.history with one query for a whole batch; plain
    values, as records in long lists are slow to read attribute by
    attribute.
    """

    def __init__(self, readings, months):
        self.months = months
        self._by_subscription = defaultdict(list)
        for reading in readings:
            self._by_subscription[reading.subscription].append(reading)

    def before(self, subscription_id, date, exclude=None):
        return [r for r in self._by_subscription.get(subscription_id, [])
            if r.date <= date and (exclude is None or r.id != exclude)]

    def last(self, subscription_id, date, exclude=None):
        readings = self.before(subscription_id, date, exclude)
        return readings[0] if readings else None

    def last_actual(self, subscription_id, date, exclude=None):
        for reading in self.before(subscription_id, date, exclude):
            if reading.source != 'estimate':
                return reading

    def daily(self, subscription_id, date=dt.date.max):
        """The (days, consumption) of the last actual readings

        An actual reading that settles estimates counts with their days and
        volumes: together they are what the meter measured.
        """
        result, days, volume = [], 0, Decimal(0)
        for reading in reversed(self.before(subscription_id, date)):
            if reading.days is None or reading.consumption is None:
                continue
            days += reading.days
            volume += reading.consumption
            if reading.source != 'estimate':
                if days > 0:
                    result.append((days, volume))
                days, volume = 0, Decimal(0)
        return list(reversed(result))[:self.months]

    def estimated_since(self, subscription_id, reading, date):
        "The volume estimated after reading up to date"
        return sum((r.consumption or 0
                for r in self.before(subscription_id, date)
                if r.source == 'estimate'
                and (r.date, r.id or 0) > (reading.date, reading.id or 0)),
            Decimal(0))

    def add(self, reading):
        "Put a reading of the batch being checked at its place"
        readings = self._by_subscription[reading.subscription]
        readings.insert(0, reading)
        readings.sort(key=lambda r: (r.date, r.time or dt.time.min),
            reverse=True)

    def expected(self, subscription_id, days, date=dt.date.max):
        history = self.daily(subscription_id, date)
        if not history or days <= 0:
            return None
        return consumption.estimate(history, days, self.months)


_DRAFT = {
    'readonly': Eval('state') != 'draft',
    }


class Reading(Workflow, ModelSQL, ModelView):
    "Meter Reading"
    __name__ = 'water.reading'
    __string__ = "Meter Reading"

    company = fields.Many2One(
        'company.company', "Company", required=True, readonly=True)
    period = fields.Many2One(
        'water.reading.period', "Period", required=True, ondelete='RESTRICT',
        states=_DRAFT)
    subscription = fields.Many2One(
        'water.subscription', "Subscription", required=True,
        ondelete='RESTRICT', states=_DRAFT)
    installation = fields.Many2One(
        'water.meter.installation', "Meter Installation", readonly=True,
        ondelete='RESTRICT',
        help="The meter in place on the reading date.")
    meter = fields.Function(
        fields.Many2One('water.meter', "Meter"), 'get_meter')
    date = fields.Date("Date", required=True, states=_DRAFT)
    time = fields.Time("Time", states=_DRAFT)
    value = fields.Numeric(
        "Reading", digits=READING_DIGITS, states=_DRAFT,
        help="The register as read; empty when a note prevented reading.")
    note = fields.Many2One(
        'water.reading.note', "Reader Note", ondelete='RESTRICT',
        states=_DRAFT)
    comment = fields.Char("Comment")
    reader = fields.Char(
        "Reader", states=_DRAFT, help="The reader's code or login.")
    source = fields.Selection(
        SOURCES, "Source", required=True, states=_DRAFT)
    leak = fields.Boolean(
        "Leak Flag", states=_DRAFT,
        help="The meter itself reported a leak or a burst (AMR).")
    status = fields.Char(
        "Meter Status", states=_DRAFT,
        help="The status flags the meter sent, as received.")
    previous = fields.Many2One(
        'water.reading', "Previous Reading", readonly=True,
        ondelete='SET NULL')
    previous_value = fields.Numeric(
        "Previous Value", digits=READING_DIGITS, readonly=True)
    days = fields.Integer("Days", readonly=True)
    consumption = fields.Numeric(
        "Consumption (m³)", digits=READING_DIGITS, readonly=True,
        help="Since the previous reading; negative when an actual reading "
        "settles a higher estimate.")
    expected = fields.Numeric(
        "Expected (m³)", digits=READING_DIGITS, readonly=True,
        help="What the recent average predicts for these days.")
    rolled_over = fields.Boolean("Rolled Over", readonly=True)
    replaced_by = fields.Many2One(
        'water.reading', "Replaced By", readonly=True, ondelete='SET NULL',
        states={
            'invisible': Eval('source') != 'estimate',
            },
        help="The actual reading that settled this estimate.")
    exceptions = fields.MultiSelection(
        RULE_NAMES, "Exceptions", readonly=True, sort=False)
    original_value = fields.Numeric(
        "Original Value", digits=READING_DIGITS, readonly=True,
        states={
            'invisible': ~Eval('original_value'),
            })
    state = fields.Selection([
            ('draft', "Draft"),
            ('held', "Held"),
            ('valid', "Valid"),
            ('reread', "Re-read Requested"),
            ('inspection', "Sent to Inspection"),
            ('billed', "Billed"),
            ('cancelled', "Cancelled"),
            ], "State", readonly=True, required=True, sort=False)
    logs = fields.One2Many(
        'water.reading.log', 'reading', "Audit Trail", readonly=True)
    bill = fields.Many2One(
        'water.bill', "Bill", readonly=True, ondelete='SET NULL',
        states={
            'invisible': ~Eval('bill'),
            },
        help="The bill that charges this reading's consumption.")

    @classmethod
    def __setup__(cls):
        super().__setup__()
        t = cls.__table__()
        cls._sql_indexes.update({
                Index(t,
                    (t.subscription, Index.Range()),
                    (t.date, Index.Range())),
                Index(t, (t.period, Index.Range()), (t.state, Index.Equality())),
                Index(t, (t.state, Index.Equality(cardinality='low')),
                    where=t.state.in_(['held', 'inspection'])),
                Index(t, (t.bill, Index.Range())),
                # what billing looks for: the readings not billed yet
                Index(t, (t.subscription, Index.Range()),
                    where=(t.bill == Null) & t.state.in_(
                        ['valid', 'draft', 'held', 'inspection', 'reread'])),
                })
        cls._order = [('date', 'DESC'), ('time', 'DESC NULLS LAST'),
            ('id', 'DESC')]
        cls._transitions |= {
            ('draft', 'valid'),
            ('draft', 'held'),
            ('held', 'valid'),
            ('held', 'reread'),
            ('held', 'inspection'),
            ('inspection', 'valid'),
            ('inspection', 'reread'),
            ('draft', 'cancelled'),
            ('held', 'cancelled'),
            ('reread', 'cancelled'),
            ('valid', 'billed'),
            ('billed', 'valid'),
            }
        held = Eval('state').in_(['held', 'inspection'])
        cls._buttons.update({
                'check': {
                    'invisible': Eval('state') != 'draft',
                    'depends': ['state'],
                    },
                'accept': {
                    'invisible': ~held,
                    'readonly': Eval('value', None) == None,  # noqa: E711
                    'depends': ['state', 'value'],
                    },
                'correct': {
                    'invisible': ~held,
                    'depends': ['state'],
                    },
                'reread': {
                    'invisible': ~held,
                    'depends': ['state'],
                    },
                'inspect': {
                    'invisible': Eval('state') != 'held',
                    'depends': ['state'],
                    },
                'cancel': {
                    'invisible': ~Eval('state').in_(
                        ['draft', 'held', 'reread']),
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
    def default_source(cls):
        return 'manual'

    @classmethod
    def default_leak(cls):
        return False

    @classmethod
    def default_date(cls):
        return Pool().get('ir.date').today()

    @classmethod
    def default_exceptions(cls):
        return []

    def get_rec_name(self, name):
        value = '-' if self.value is None else self.value
        return f'{self.subscription.rec_name} {self.date} {value}'

    @classmethod
    def search_rec_name(cls, name, clause):
        return [('subscription.rec_name',) + tuple(clause[1:])]

    def get_meter(self, name):
        if self.installation:
            return self.installation.meter.id

    @classmethod
    def rules(cls):
        "The plausibility rules of the configuration"
        pool = Pool()
        Configuration = pool.get('water.configuration')
        return Configuration(1).get_reading_rules()

    @classmethod
    def history(cls, subscriptions, date, exclude=None):
        """Return the History of subscriptions up to date

        One query for the batch: counted readings of the last months.
        """
        pool = Pool()
        Configuration = pool.get('water.configuration')
        months = Configuration(1).get_reading_average_months()
        since = date - dt.timedelta(days=31 * (months + 2))
        # plain SQL: browsing thousands of records costs more than the
        # query (trytond checks every id of the list for each record)
        table = cls.__table__()
        cursor = Transaction().connection.cursor()
        names = [f.name for f in dataclass_fields(Past)]
        exclude = list(exclude or [])
        readings = []
        for sub in grouped_slice(
                [int(s) for s in subscriptions], backend.MAX_QUERY_PARAMS):
            where = (fields.SQL_OPERATORS['in'](table.subscription, list(sub))
                & table.state.in_(COUNTED)
                & (table.date >= since) & (table.date <= date))
            if exclude:
                where &= fields.SQL_OPERATORS['not in'](table.id, exclude)
            cursor.execute(*table.select(
                    *[Column(table, n) for n in names],
                    where=where,
                    order_by=[table.date.desc, NullsLast(table.time.desc),
                        table.id.desc]))
            readings.extend(Past(*row) for row in cursor)
        # a subscription read for the last time before the window still
        # counts from that reading
        found = {r.subscription for r in readings}
        older = [int(s) for s in subscriptions if int(s) not in found]
        for sub in grouped_slice(older, backend.MAX_QUERY_PARAMS):
            where = (fields.SQL_OPERATORS['in'](table.subscription, list(sub))
                & table.state.in_(COUNTED) & (table.date < since))
            if exclude:
                where &= fields.SQL_OPERATORS['not in'](table.id, exclude)
            last = table.select(
                table.subscription, Max(table.date).as_('date'),
                where=where, group_by=[table.subscription])
            reading = cls.__table__()
            cursor.execute(*reading.join(last, condition=(
                        reading.subscription == last.subscription)
                    & (reading.date == last.date)).select(
                    *[Column(reading, n) for n in names],
                    where=reading.state.in_(COUNTED),
                    order_by=[NullsLast(reading.time.desc),
                        reading.id.desc]))
            readings.extend(Past(*row) for row in cursor)
        return History(readings, months)

    @classmethod
    def evaluate(cls, vlist):
        """Complete the values of new or changed readings and check them

        vlist is a list of dicts with at least subscription, period, date
        and value or note (and id for an existing reading).  Each dict gets
        its installation, previous reading, consumption, exceptions and
        state, or an 'error' key with a translated message; every query is
        made for the whole list.
        """
        pool = Pool()
        Subscription = pool.get('water.subscription')
        Installation = pool.get('water.meter.installation')
        Note = pool.get('water.reading.note')
        Period = pool.get('water.reading.period')
        rules = cls.rules()
        if not vlist:
            return vlist
        # plain values for the batch: see History
        subscriptions = {s['id']: s for s in Subscription.read(
                list({v['subscription'] for v in vlist}), ['state'])}
        notes = {n.id: n for n in Note.browse(
                list({v['note'] for v in vlist if v.get('note')}))}
        periods = {p.id: p for p in Period.browse(
                list({v['period'] for v in vlist}))}
        ids = [v['id'] for v in vlist if v.get('id')]
        last_date = max(v['date'] for v in vlist)
        history = cls.history(subscriptions, last_date, exclude=ids)
        installations = Installation.fitted(subscriptions)
        standing = cls._standing(subscriptions, periods, ids)

        vlist = sorted(vlist, key=lambda v: (
                v['date'], v.get('time') or dt.time.min))
        keys = []
        for values in vlist:
            values.pop('error', None)
            subscription = Subscription(values['subscription'])
            state = subscriptions[subscription.id]['state']
            period = periods[values['period']]
            date = values['date']
            note = notes.get(values.get('note'))
            value = values.get('value')
            current = [i for i in installations[subscription.id]
                if i.start_date <= date
                and (not i.end_date or i.end_date > date)]
            if not current:
                values['error'] = gettext(
                    'water_utility.msg_reading_no_meter',
                    subscription=subscription.rec_name, date=date)
                continue
            if period.state != 'open' and not Transaction().context.get(
                    '_water_correct_billed'):
                values['error'] = gettext(
                    'water_utility.msg_reading_period_closed',
                    period=period.rec_name)
                continue
            installation, = current[-1:]
            values['installation'] = installation.id
            if value is None and not (note and note.prevents_read):
                values['error'] = gettext(
                    'water_utility.msg_reading_value_required',
                    subscription=subscription.rec_name)
                continue
            try:
                consumption.check_register(value, installation.digits)
            except consumption.ReadingError:
                values['error'] = gettext(
                    'water_utility.msg_reading_dial',
                    value=value, meter=installation.serial,
                    digits=installation.digits)
                continue
            previous = history.last(subscription.id, date)
            key = (subscription.id, period.id)
            duplicate = key in standing
            standing.add(key)
            facts = dict(
                active=state == 'active',
                in_period=period.start_date <= date <= period.end_date,
                duplicate=duplicate,
                note_prevents_read=bool(note and note.prevents_read),
                leak=bool(values.get('leak')))
            if previous is not None and previous.id < 0:
                values['_previous_key'] = previous.id
            values.update(previous=(previous.id if previous is not None
                    and previous.id > 0 else None),
                previous_value=None, days=None, consumption=None,
                expected=None, rolled_over=False)
            if value is not None:
                fitted = installations[subscription.id]
                segments, since = cls._segments(
                    previous, installation, fitted, value)
                if previous and previous.date > since:
                    since = previous.date
                total, rolled = consumption.period_consumption(segments)
                days = (date - since).days
                # the register went backwards if it is below the last
                # value actually read on this meter
                last_actual = history.last_actual(subscription.id, date)
                if (last_actual is not None
                        and last_actual.installation == installation.id):
                    reference = last_actual.value
                else:
                    reference = installation.initial_reading
                backwards = not rolled and value < reference
                if (previous is not None and previous.source == 'estimate'
                        and last_actual is not None
                        and last_actual.installation == installation.id):
                    # settling estimates: what the meter measured since the
                    # last actual reading (rollover included) less what
                    # was estimated since; negative when they were high
                    measured, rolled = consumption.period_consumption(
                        cls._segments(
                            last_actual, installation, fitted, value)[0])
                    total = measured - history.estimated_since(
                        subscription.id, last_actual, date)
                    backwards = measured < 0
                expected = history.expected(subscription.id, days, date)
                values.update(
                    previous_value=segments[-1].start,
                    days=days, consumption=total, expected=expected,
                    rolled_over=rolled)
                facts.update(consumption=total, expected=expected,
                    backwards=backwards)
            exceptions = plausibility.check(
                plausibility.Facts(**facts), rules)
            values['exceptions'] = exceptions
            values['state'] = 'held' if exceptions else 'valid'
            if values['state'] == 'valid' and value is not None:
                # a later reading of the batch counts from this one; a new
                # one is known by a key until it has an id
                if not values.get('id'):
                    values['_key'] = -len(keys) - 1
                    keys.append(values)
                history.add(Past(values.get('id') or values['_key'],
                        subscription.id,
                        installation.id, date, values.get('time'), value,
                        values.get('source'), values['days'],
                        values['consumption']))
            # the estimate this reading settles once it is valid
            values['_settles'] = (previous.id if previous is not None
                and previous.source == 'estimate' and value is not None
                and values.get('source') != 'estimate' else None)
        return vlist

    @classmethod
    def insert_evaluated(cls, vlist):
        """Insert readings completed by evaluate() and return their ids

        For imports: evaluate() has checked every value, so they are not
        read back (see bulk.py).
        """
        settles = [(v.pop('_settles', None), v.get('state')) for v in vlist]
        links = cls._batch_links(vlist)
        ids = bulk.insert(cls, vlist)
        cls._link_estimates([(e, i) for (e, state), i in zip(settles, ids)
                if e and state == 'valid'])
        cls._link_previous(links, ids)
        return ids

    @staticmethod
    def _batch_links(vlist):
        """Return (index, index of previous) of readings of vlist that count
        from another one of vlist, and remove the keys from the values"""
        index = {v.pop('_key'): i for i, v in enumerate(vlist)
            if '_key' in v}
        previous = [(i, v.pop('_previous_key', None))
            for i, v in enumerate(vlist)]
        return [(i, index[k]) for i, k in previous if k in index]

    @classmethod
    def _link_previous(cls, links, ids):
        "Set the previous reading of readings that count from one created"
        to_write = []
        for reading, previous in links:
            to_write.extend(([cls(ids[reading])], {'previous': ids[previous]}))
        if to_write:
            with without_check_access():
                super().write(*to_write)

    @classmethod
    def keys(cls, subscriptions, dates):
        """Return the (subscription, date, time, value) of the readings of
        subscriptions on dates, to recognise a row imported before"""
        table = cls.__table__()
        cursor = Transaction().connection.cursor()
        keys = set()
        dates = list(dates)
        for sub in grouped_slice(list(subscriptions),
                backend.MAX_QUERY_PARAMS - len(dates)):
            cursor.execute(*table.select(
                    table.subscription, table.date, table.time, table.value,
                    where=fields.SQL_OPERATORS['in'](
                        table.subscription, list(sub))
                    & fields.SQL_OPERATORS['in'](table.date, dates)
                    & (table.state != 'cancelled')))
            keys.update((s, d, t, v if v is None else Decimal(v))
                for s, d, t, v in cursor)
        return keys

    @classmethod
    def _standing(cls, subscriptions, periods, exclude):
        """Return the (subscription, period) that already have a reading

        An actual reading is not a second one beside an estimate: it
        settles it.
        """
        table = cls.__table__()
        cursor = Transaction().connection.cursor()
        standing = set()
        for sub in grouped_slice(list(subscriptions), backend.MAX_QUERY_PARAMS):
            where = (fields.SQL_OPERATORS['in'](table.subscription, list(sub))
                & fields.SQL_OPERATORS['in'](table.period, list(periods))
                & table.state.in_(STANDING)
                & (table.source != 'estimate'))
            if exclude:
                where &= fields.SQL_OPERATORS['not in'](table.id, exclude)
            cursor.execute(*table.select(
                    table.subscription, table.period, where=where))
            standing.update(cursor)
        return standing

    @staticmethod
    def _segments(previous, installation, installations, value):
        """Return the Segments from the previous reading to value and the
        date they count from

        A meter swapped since the previous reading contributes from that
        reading (or its installation) to its final reading.
        """
        def segment(inst, start, end):
            return consumption.Segment(
                start, end, inst.digits, inst.multiplier)
        if previous is None:
            return ([segment(installation, installation.initial_reading,
                        value)], installation.start_date)
        if previous.installation == installation.id:
            return [segment(installation, previous.value, value)], (
                previous.date)
        segments = []
        for inst in installations:
            if inst.id == installation.id:
                break
            if inst.end_date and inst.end_date >= previous.date:
                start = (previous.value if inst.id == previous.installation
                    else inst.initial_reading)
                segments.append(segment(inst, start, inst.final_reading))
        segments.append(
            segment(installation, installation.initial_reading, value))
        return segments, previous.date

    @classmethod
    def create(cls, vlist):
        vlist = [v.copy() for v in vlist]
        to_check = [v for v in vlist if v.get('state', 'draft') == 'draft'
            and v.get('subscription') and v.get('period') and v.get('date')]
        cls.evaluate(to_check)
        for values in to_check:
            if values.get('error'):
                raise ReadingError(values['error'])
        settles = [(v.pop('_settles', None), v.get('state')) for v in vlist]
        links = cls._batch_links(vlist)
        readings = super().create(vlist)
        cls._link_estimates([(e, r.id) for (e, state), r in zip(
                    settles, readings) if e and state == 'valid'])
        cls._link_previous(links, [r.id for r in readings])
        return readings

    @classmethod
    def write(cls, *args):
        pool = Pool()
        Log = pool.get('water.reading.log')
        audited = {'value', 'date', 'time', 'note'}
        logs = []
        actions = iter(args)
        for readings, values in zip(actions, actions):
            changed = audited & set(values)
            if not changed:
                continue
            for reading in readings:
                old = {f: getattr(reading, f) for f in changed}
                old['note'] = old.get('note') and old['note'].rec_name
                logs.append({
                        'reading': reading.id,
                        'action': 'change',
                        'old_value': reading.value,
                        'new_value': values.get('value', reading.value),
                        'description': ', '.join(
                            f'{f}: {old[f]}' for f in sorted(changed)
                            if f in old),
                        })
        super().write(*args)
        Log.create(logs)

    @classmethod
    def _settle_estimates(cls, readings):
        "Link the estimates that accepted actual readings settle"
        cls._link_estimates([(r.previous.id, r.id) for r in readings
                if r.previous
                and r.previous.source == 'estimate'
                and r.source != 'estimate'])

    @classmethod
    def _link_estimates(cls, pairs):
        "Mark each estimate of (estimate id, reading id) as replaced"
        to_write = []
        for estimate, reading in pairs:
            to_write.extend(([cls(estimate)], {'replaced_by': reading}))
        if to_write:
            # computed by the checks, whoever saved the reading
            with without_check_access():
                super().write(*to_write)

    @classmethod
    def audit(cls, readings, action, description=None):
        pool = Pool()
        Log = pool.get('water.reading.log')
        Log.create([{
                    'reading': r.id,
                    'action': action,
                    'old_value': r.value,
                    'new_value': r.value,
                    'description': description,
                    } for r in readings])

    @classmethod
    def recheck(cls, readings):
        "Evaluate saved readings again and store the outcome"
        fields_ = ['id', 'subscription', 'period', 'date', 'time', 'value',
            'note', 'leak']
        vlist = [{f: (getattr(r, f).id if isinstance(
                        getattr(r, f), ModelSQL) else getattr(r, f))
                for f in fields_} for r in readings]
        cls.evaluate(vlist)
        for values in vlist:
            if values.get('error'):
                raise ReadingError(values['error'])
        to_write, settles = [], []
        for values in vlist:
            id_ = values.pop('id')
            for name in fields_:
                values.pop(name, None)
            estimate = values.pop('_settles', None)
            values.pop('_key', None)
            values.pop('_previous_key', None)
            if estimate and values['state'] == 'valid':
                settles.append((estimate, id_))
            to_write.extend(([cls(id_)], values))
        if to_write:
            super().write(*to_write)
        cls._link_estimates(settles)

    @classmethod
    @ModelView.button
    def check(cls, readings):
        "Run the plausibility checks of draft readings"
        cls.recheck([r for r in readings if r.state == 'draft'])

    @classmethod
    @ModelView.button
    @Workflow.transition('valid')
    def accept(cls, readings):
        "The billing clerk accepts the readings despite their exceptions"
        for reading in readings:
            if reading.value is None:
                raise ReadingError(gettext(
                        'water_utility.msg_reading_accept_no_value',
                        reading=reading.rec_name))
        cls.check_no_later(readings)
        cls.audit(readings, 'accept')
        cls._settle_estimates(readings)

    @classmethod
    def check_no_later(cls, readings):
        """Refuse to count readings that a later counted reading of their
        subscription already skipped over: it counts from an earlier one,
        and the volume would be billed twice"""
        table = cls.__table__()
        cursor = Transaction().connection.cursor()
        last = {}
        for sub in grouped_slice(
                list({r.subscription.id for r in readings}),
                backend.MAX_QUERY_PARAMS):
            cursor.execute(*table.select(
                    table.subscription, Max(table.date),
                    where=fields.SQL_OPERATORS['in'](
                        table.subscription, list(sub))
                    & table.state.in_(COUNTED),
                    group_by=[table.subscription]))
            # SQLite gives an aggregated date as text
            last.update((s, d if isinstance(d, dt.date)
                    else dt.date.fromisoformat(d)) for s, d in cursor)
        for reading in readings:
            if (reading.state not in COUNTED
                    and last.get(reading.subscription.id, dt.date.min)
                    > reading.date):
                later, = cls.search([
                        ('subscription', '=', reading.subscription.id),
                        ('state', 'in', COUNTED),
                        ('date', '>', reading.date),
                        ], limit=1)
                raise ReadingError(gettext(
                        'water_utility.msg_reading_later_counted',
                        reading=reading.rec_name, later=later.rec_name))

    @classmethod
    @ModelView.button_action('water_utility.wizard_reading_correct')
    def correct(cls, readings):
        pass

    @classmethod
    def correct_values(cls, readings, value, reason):
        "Correct the value of held readings, keep the original and recheck"
        with_original = [r for r in readings if r.original_value is None
            and r.value is not None]
        to_write = []
        for reading in with_original:
            to_write.extend(([reading], {'original_value': reading.value}))
        if to_write:
            super().write(*to_write)
        # a correction is the one way to change a checked reading
        with without_check_access():
            cls.write(list(readings), {
                    'value': value,
                    'state': 'draft',
                    })
        cls.check_no_later(readings)
        cls.audit(readings, 'correct', reason)
        cls.recheck(cls.browse(readings))

    @classmethod
    @ModelView.button
    @Workflow.transition('reread')
    def reread(cls, readings):
        "Ask the reader to read the meter again: it shows on the next sheet"
        cls.audit(readings, 'reread')

    @classmethod
    @ModelView.button
    @Workflow.transition('inspection')
    def inspect(cls, readings):
        "Send high consumption cases to the inspection section"
        cls.audit(readings, 'inspection')
        cls._request_inspection(readings)

    @classmethod
    def _request_inspection(cls, readings):
        """Hook for the inspection module: open a work order per reading

        Without it the readings wait in the queue in the 'inspection'
        state until the clerk accepts or corrects them.
        """
        pass

    @classmethod
    @ModelView.button
    @Workflow.transition('cancelled')
    def cancel(cls, readings):
        cls.audit(readings, 'cancel')

    @classmethod
    def estimate_missing(cls, periods):
        """Create an estimated reading for every active subscription of the
        periods without a counted reading in them
        """
        pool = Pool()
        Installation = pool.get('water.meter.installation')
        Configuration = pool.get('water.configuration')
        months = Configuration(1).get_reading_average_months()
        Subscription = pool.get('water.subscription')
        if not periods:
            return []
        # the queries are made for all the periods at once
        by_route = defaultdict(list)
        for subscription in Subscription.search([
                    ('route', 'in', [p.route.id for p in periods]),
                    ('state', '=', 'active'),
                    ]):
            by_route[subscription.route.id].append(subscription)
        table = cls.__table__()
        cursor = Transaction().connection.cursor()
        read = set()
        for sub in grouped_slice(periods, backend.MAX_QUERY_PARAMS):
            cursor.execute(*table.select(table.period, table.subscription,
                    where=fields.SQL_OPERATORS['in'](
                        table.period, [p.id for p in sub])
                    & table.state.in_(COUNTED)))
            read.update(cursor)
        missing = {p: [s for s in by_route[p.route.id]
                if (p.id, s.id) not in read] for p in periods}
        unread = {s for subscriptions in missing.values() for s in subscriptions}
        installations = Installation.fitted(unread)
        history = cls.history(unread, max(p.reading_date for p in periods))
        vlist = []
        for period, subscriptions in missing.items():
            date = period.reading_date
            for subscription in subscriptions:
                fitted = installations[subscription.id]
                # the meter in place on the reading date
                current = [i for i in fitted if i.start_date <= date
                    and (not i.end_date or i.end_date > date)]
                if not current:
                    continue
                installation = current[-1]
                last = history.last(subscription.id, date)
                known = Decimal(0)
                if last and last.installation == installation.id:
                    start, since = last.value, last.date
                else:
                    start = installation.initial_reading
                    since = installation.start_date
                    if last:
                        # the meters removed since were read at removal
                        known, _ = consumption.period_consumption(
                            cls._segments(last, installation, fitted,
                                start)[0])
                days = (date - since).days
                if days <= 0 and not known:
                    continue
                volume = consumption.estimate(
                    history.daily(subscription.id, date), max(days, 0),
                    months,
                    subscription.category.default_daily_consumption)
                if volume is None:
                    continue
                register = ((start + volume / installation.multiplier)
                    % consumption.dial_capacity(installation.digits))
                vlist.append({
                        'company': period.company.id,
                        'period': period.id,
                        'subscription': subscription.id,
                        'installation': installation.id,
                        'date': date,
                        'value': register,
                        'source': 'estimate',
                        'previous': last.id if last else None,
                        'previous_value': start,
                        'days': (date - last.date).days if last else days,
                        'consumption': known + volume,
                        'state': 'valid',
                        'exceptions': [],
                        })
        return cls.create(vlist)

    @classmethod
    def link_bills(cls, pairs):
        "Link readings to the bill of each (reading id, bill id)"
        # computed by billing: written without reading them back
        bulk.update(cls, [(r, {'bill': b}) for r, b in pairs])

    @classmethod
    def mark_billed(cls, bills):
        "The counted readings of posted bills are billed"
        table = cls.__table__()
        cursor = Transaction().connection.cursor()
        for sub in grouped_slice([b.id for b in bills],
                backend.MAX_QUERY_PARAMS):
            cursor.execute(*table.update([table.state], ['billed'],
                    where=fields.SQL_OPERATORS['in'](table.bill, list(sub))
                    & (table.state == 'valid')))

    @classmethod
    def unbill(cls, bills):
        "The readings of credited bills can be billed again"
        table = cls.__table__()
        cursor = Transaction().connection.cursor()
        for sub in grouped_slice([b.id for b in bills],
                backend.MAX_QUERY_PARAMS):
            cursor.execute(*table.update([table.state, table.bill],
                    ['valid', Null],
                    where=fields.SQL_OPERATORS['in'](table.bill, list(sub))
                    & (table.state == 'billed')))

    @classmethod
    def correct_billed(cls, reading, value, reason):
        """Correct the value of a reading whose bill was credited

        Only the last counted reading of its subscription: a later one
        counts from it and was billed from it.
        """
        if reading.state != 'valid' or reading.bill:
            raise ReadingError(gettext(
                    'water_utility.msg_reading_modify',
                    reading=reading.rec_name))
        later = cls.search([
                ('subscription', '=', reading.subscription.id),
                ('state', 'in', COUNTED),
                ('date', '>', reading.date),
                ], limit=1)
        if later:
            raise ReadingError(gettext(
                    'water_utility.msg_reading_later_counted',
                    reading=reading.rec_name, later=later[0].rec_name))
        if reading.original_value is None:
            super().write([reading], {'original_value': reading.value})
        with without_check_access():
            cls.write([reading], {'value': value, 'state': 'draft'})
        cls.audit([reading], 'correct', reason)
        with Transaction().set_context(_water_correct_billed=True):
            cls.recheck(cls.browse([reading.id]))

    @classmethod
    def check_modification(cls, mode, readings, values=None, external=False):
        super().check_modification(
            mode, readings, values=values, external=external)
        computed = {'state', 'installation', 'previous', 'previous_value',
            'days', 'consumption', 'expected', 'rolled_over', 'replaced_by',
            'exceptions', 'original_value', 'company', 'period', 'source',
            'bill'}
        if mode == 'write' and external and computed & set(values):
            raise ReadingError(gettext(
                    'water_utility.msg_reading_computed',
                    fields=', '.join(sorted(computed & set(values)))))
        if (mode == 'write' and external
                and {'value', 'date', 'time', 'note', 'subscription'}
                & set(values)):
            for reading in readings:
                if reading.state != 'draft':
                    raise ReadingError(gettext(
                            'water_utility.msg_reading_modify',
                            reading=reading.rec_name))
        if mode == 'delete':
            for reading in readings:
                if reading.state != 'draft':
                    raise ReadingError(gettext(
                            'water_utility.msg_reading_delete',
                            reading=reading.rec_name))


class Log(ModelSQL, ModelView):
    "Reading Audit Trail"
    __name__ = 'water.reading.log'
    __string__ = "Reading Audit Trail"

    reading = fields.Many2One(
        'water.reading', "Reading", required=True, ondelete='CASCADE',
        readonly=True)
    action = fields.Selection([
            ('change', "Changed"),
            ('correct', "Corrected"),
            ('accept', "Accepted"),
            ('reread', "Re-read Requested"),
            ('inspection', "Sent to Inspection"),
            ('cancel', "Cancelled"),
            ], "Action", readonly=True, required=True)
    old_value = fields.Numeric(
        "Old Value", digits=READING_DIGITS, readonly=True)
    new_value = fields.Numeric(
        "New Value", digits=READING_DIGITS, readonly=True)
    description = fields.Char("Description", readonly=True)
    user = fields.Function(
        fields.Many2One('res.user', "User"), 'get_user')
    timestamp = fields.Function(
        fields.DateTime("Date and Time", format='%H:%M:%S'),
        'get_timestamp')

    @classmethod
    def __setup__(cls):
        super().__setup__()
        t = cls.__table__()
        cls._sql_indexes.add(Index(t, (t.reading, Index.Range())))
        cls._order = [('create_date', 'DESC'), ('id', 'DESC')]

    def get_user(self, name):
        return self.create_uid.id

    def get_timestamp(self, name):
        return self.create_date.replace(microsecond=0)

    @classmethod
    def check_modification(cls, mode, logs, values=None, external=False):
        super().check_modification(
            mode, logs, values=values, external=external)
        if mode in {'write', 'delete'} and external:
            raise ReadingError(gettext('water_utility.msg_reading_log_fixed'))


class CorrectStart(ModelView):
    "Correct Reading"
    __name__ = 'water.reading.correct.start'
    __string__ = "Correct Reading"

    value = fields.Numeric("Correct Value", digits=READING_DIGITS,
        required=True)
    reason = fields.Char("Reason", required=True)


class Correct(Wizard):
    "Correct Reading"
    __name__ = 'water.reading.correct'
    start = StateView('water.reading.correct.start',
        'water_utility.reading_correct_start_view_form', [
            Button("Cancel", 'end', 'tryton-cancel'),
            Button("Correct", 'correct', 'tryton-ok', default=True),
            ])
    correct = StateTransition()

    def default_start(self, fields):
        return {
            'value': self.records[0].value if self.records else None,
            }

    def transition_correct(self):
        self.model.correct_values(
            [r for r in self.records if r.state in {'held', 'inspection'}],
            self.start.value, self.start.reason)
        return 'end'


class EntryStart(ModelView):
    "Enter Readings"
    __name__ = 'water.reading.entry.start'
    __string__ = "Enter Readings"

    period = fields.Many2One('water.reading.period', "Period", readonly=True)
    date = fields.Date("Reading Date", required=True)
    reader = fields.Char("Reader")
    lines = fields.One2Many(
        'water.reading.entry.line', None, "Readings")


class EntryLine(ModelView):
    "Reading Entry Line"
    __name__ = 'water.reading.entry.line'
    __string__ = "Reading Entry Line"

    position = fields.Integer("Position", readonly=True)
    subscription = fields.Many2One(
        'water.subscription', "Subscription", readonly=True)
    meter = fields.Many2One('water.meter', "Meter", readonly=True)
    previous = fields.Numeric(
        "Previous", digits=READING_DIGITS, readonly=True)
    low = fields.Numeric("From", digits=(16, 0), readonly=True)
    high = fields.Numeric("To", digits=(16, 0), readonly=True)
    value = fields.Numeric("Reading", digits=READING_DIGITS)
    note = fields.Many2One('water.reading.note', "Note")
    comment = fields.Char("Comment")


class Entry(Wizard):
    "Enter Readings"
    __name__ = 'water.reading.entry'
    start = StateView('water.reading.entry.start',
        'water_utility.reading_entry_start_view_form', [
            Button("Cancel", 'end', 'tryton-cancel'),
            Button("Save", 'save', 'tryton-ok', default=True),
            ])
    save = StateTransition()

    def default_start(self, fields):
        period = self.record
        lines = [{
                'position': line.subscription.route_position,
                'subscription': line.subscription.id,
                'meter': line.meter.id if line.meter else None,
                'previous': line.previous,
                'low': line.low,
                'high': line.high,
                } for line in period.sheet_lines() if not line.done]
        pool = Pool()
        User = pool.get('res.user')
        reader = period.route.reader or User(Transaction().user)
        return {
            'period': period.id,
            'date': period.reading_date,
            'reader': reader.login,
            'lines': lines,
            }

    def transition_save(self):
        pool = Pool()
        Reading = pool.get('water.reading')
        period = self.start.period
        Reading.create([{
                    'company': period.company.id,
                    'period': period.id,
                    'subscription': line.subscription.id,
                    'date': self.start.date,
                    'value': line.value,
                    'note': line.note.id if line.note else None,
                    'comment': line.comment,
                    'reader': self.start.reader,
                    'source': 'manual',
                    } for line in self.start.lines
                if line.value is not None or line.note])
        return 'end'


class ScheduleStart(ModelView):
    "Open Reading Periods"
    __name__ = 'water.reading.period.schedule.start'
    __string__ = "Open Reading Periods"

    date = fields.Date("Month", required=True,
        help="Any day of the month to open.")
    routes = fields.Many2Many(
        'water.route', None, None, "Routes",
        help="Leave empty for every route.")


class Schedule(Wizard):
    "Open Reading Periods"
    __name__ = 'water.reading.period.schedule'
    start = StateView('water.reading.period.schedule.start',
        'water_utility.reading_period_schedule_start_view_form', [
            Button("Cancel", 'end', 'tryton-cancel'),
            Button("Open", 'schedule', 'tryton-ok', default=True),
            ])
    schedule = StateAction('water_utility.act_reading_period_form')

    def default_start(self, fields):
        return {
            'date': Pool().get('ir.date').today(),
            }

    def do_schedule(self, action):
        pool = Pool()
        Period = pool.get('water.reading.period')
        routes = list(self.start.routes) or None
        Period.schedule(self.start.date, routes)
        start, _ = month_bounds(self.start.date)
        action['domains'] = []
        return action, {}


class RouteSheet(HTMLReport):
    "Route Sheet"
    __name__ = 'water.reading.period.sheet'

    @classmethod
    def get_context(cls, records, header, data):
        pool = Pool()
        Lang = pool.get('ir.lang')
        context = super().get_context(records, header, data)
        context['sheets'] = [(p, p.sheet_lines()) for p in records]
        # the language the report is printed in gives the direction
        context['lang'] = Lang.get()
        return context


def _register(value):
    "A register value as a reader types it: 160, 160.5"
    return '' if value is None else f'{value.normalize():f}'


class RouteSheetCSV(Report):
    "Route Sheet for Handhelds"
    __name__ = 'water.reading.period.sheet_csv'

    HEADER = ['position', 'subscription', 'meter', 'subscriber', 'address',
        'previous', 'low', 'high', 'date', 'value', 'reader', 'note',
        'comment']

    @classmethod
    def execute(cls, ids, data):
        pool = Pool()
        Period = pool.get('water.reading.period')
        rows = []
        periods = Period.browse(ids)
        for period in periods:
            reader = period.route.reader.login if period.route.reader else ''
            for line in period.sheet_lines():
                if line.done:
                    continue
                subscription = line.subscription
                rows.append([
                        subscription.route_position or '',
                        subscription.number,
                        line.meter.serial if line.meter else '',
                        subscription.party.name,
                        line.address,
                        _register(line.previous),
                        _register(line.low),
                        _register(line.high),
                        '', '', reader, '', ''])
        name = (periods[0].rec_name if len(periods) == 1
            else cls.__name__).replace(' ', '_')
        return 'csv', csv_bytes(cls.HEADER, rows), False, name
