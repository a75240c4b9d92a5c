# This file is part of the water_utility module.  See README.rst.
"""The service centres' front-desk queue (charter point 1)

A subscriber takes a ticket on arrival; a clerk at a counter calls the next
one, serves it and closes it.  The times of each step are recorded so that
the manager reads the waiting and service times per centre (the statistic
below).  The rules of numbering and of the measures are pure functions in
waiting.py.

Two clerks pressing "Call Next" at the same moment never get the same
ticket: on PostgreSQL the oldest waiting ticket is selected FOR UPDATE SKIP
LOCKED, so the second clerk skips the row the first one holds and takes the
next (and if the first one committed after the second's snapshot, the
database refuses the stale lock and the request is retried by Tryton).
SQLite serialises writers.  Issuing locks the table of tickets (Tryton's
lock(), taken at the start of the transaction) because the day's next number
is read from the tickets already issued.
"""
import datetime as dt
from collections import defaultdict
from zoneinfo import ZoneInfo

from sql import Literal, Null
from sql.aggregate import Count, Max, Min, Sum
from sql.conditionals import Case

from trytond import backend
from trytond.i18n import gettext
from trytond.model import (
    DeactivableMixin, Index, ModelSQL, ModelView, Unique, Workflow, fields)
from trytond.pool import Pool, PoolMeta
from trytond.pyson import Eval, If
from trytond.tools import grouped_slice
from trytond.transaction import Transaction
from trytond.wizard import (
    Button, StateReport, StateTransition, StateView, Wizard)

from . import waiting
from .charter import _timedelta
from .exceptions import QueueError
from .report_html import SubscriberReport


def now():
    "The current instant, naive UTC as Tryton stores it"
    return dt.datetime.now()


def _area_tz(area):
    timezone = area.timezone or (
        area.company.timezone if area.company else None)
    return ZoneInfo(timezone) if timezone else None


class Counter(DeactivableMixin, ModelSQL, ModelView):
    "Service Centre Counter"
    __name__ = 'water.queue.counter'
    __string__ = "Counter"

    area = fields.Many2One(
        'water.area', "Service Centre", required=True, ondelete='RESTRICT')
    company = fields.Function(
        fields.Many2One('company.company', "Company"),
        'on_change_with_company', searcher='search_company')
    name = fields.Char(
        "Name", required=True, translate=True,
        help="The name or number shown on the board, e.g. \"Counter 3\".")
    services = fields.MultiSelection(
        waiting.SERVICES, "Services", sort=False,
        help="The services the counter calls; none for all of them.")
    waiting_tickets = fields.Function(
        fields.Integer("Waiting",
            help="The tickets waiting for one of the counter's services."),
        'get_waiting')
    current = fields.Function(
        fields.Many2Many(
            'water.queue.ticket', None, None, "Current Tickets",
            help="The tickets the counter is calling or serving."),
        'get_current')

    @classmethod
    def __setup__(cls):
        super().__setup__()
        t = cls.__table__()
        cls._sql_constraints = [
            ('name_unique', Unique(t, t.area, t.name),
                'water_utility.msg_queue_counter_unique'),
            ]
        cls._order[0:0] = [('area', 'ASC'), ('name', 'ASC')]
        cls._buttons.update({
                'call_next': {
                    'invisible': ~Eval('active', True),
                    'depends': ['active'],
                    },
                })

    @fields.depends('area', '_parent_area.company')
    def on_change_with_company(self, name=None):
        return self.area.company if self.area else None

    @classmethod
    def search_company(cls, name, clause):
        return [('area.' + clause[0], *clause[1:])]

    def get_rec_name(self, name):
        return f'{self.name} ({self.area.rec_name})'

    @classmethod
    def search_rec_name(cls, name, clause):
        _, operator, value = clause
        bool_op = 'AND' if operator.startswith(('!', 'not ')) else 'OR'
        return [bool_op,
            ('name', operator, value),
            ('area.rec_name', operator, value),
            ]

    @classmethod
    def get_waiting(cls, counters, name):
        "The waiting tickets of each counter, one query per slice of centres"
        pool = Pool()
        Ticket = pool.get('water.queue.ticket')
        ticket = Ticket.__table__()
        cursor = Transaction().connection.cursor()
        counts = defaultdict(int)
        area_ids = sorted({c.area.id for c in counters})
        for sub in grouped_slice(area_ids, backend.MAX_QUERY_PARAMS):
            cursor.execute(*ticket.select(
                    ticket.area, ticket.service, Count(ticket.id),
                    where=fields.SQL_OPERATORS['in'](ticket.area, list(sub))
                    & (ticket.state == 'waiting'),
                    group_by=[ticket.area, ticket.service]))
            for area, service, count in cursor:
                counts[area, service] = count
        return {c.id: sum(n for (a, s), n in counts.items()
                if a == c.area.id and waiting.serves(c.services, s))
            for c in counters}

    @classmethod
    def get_current(cls, counters, name):
        pool = Pool()
        Ticket = pool.get('water.queue.ticket')
        current = {c.id: [] for c in counters}
        for ticket in Ticket.search([
                    ('counter', 'in', [c.id for c in counters]),
                    ('state', 'in', ['called', 'serving']),
                    ], order=[('called_at', 'ASC'), ('id', 'ASC')]):
            current[ticket.counter.id].append(ticket.id)
        return current

    @classmethod
    @ModelView.button
    def call_next(cls, counters):
        """Call the oldest waiting ticket of each counter's centre among the
        services the counter serves"""
        pool = Pool()
        Ticket = pool.get('water.queue.ticket')
        busy = Ticket.search([
                ('counter', 'in', [c.id for c in counters]),
                ('state', 'in', ['called', 'serving']),
                ], limit=1)
        if busy:
            ticket, = busy
            raise QueueError(gettext(
                    'water_utility.msg_queue_counter_busy',
                    counter=ticket.counter.rec_name,
                    ticket=ticket.rec_name))
        tickets = []
        for counter in counters:  # a call is one pick for one counter
            ticket = Ticket.take_next(
                counter, exclude=[t.id for t in tickets])
            if not ticket:
                raise QueueError(gettext(
                        'water_utility.msg_queue_none_waiting',
                        counter=counter.rec_name))
            ticket.counter = counter
            tickets.append(ticket)
        Ticket.save(tickets)
        Ticket.call(tickets)


class Ticket(Workflow, ModelSQL, ModelView):
    "Queue Ticket"
    __name__ = 'water.queue.ticket'
    __string__ = "Queue Ticket"
    _rec_name = 'number'

    company = fields.Many2One(
        'company.company', "Company", required=True, readonly=True)
    area = fields.Many2One(
        'water.area', "Service Centre", required=True, ondelete='RESTRICT',
        domain=[('company', '=', Eval('company', -1))],
        states={
            'readonly': Eval('id', -1) >= 0,
            })
    service = fields.Selection(
        waiting.SERVICES, "Service", required=True, sort=False,
        states={
            'readonly': Eval('id', -1) >= 0,
            },
        help="Its letter is in the number: cancel and issue another ticket "
        "to change it.")
    service_string = service.translated('service')
    date = fields.Date(
        "Date", readonly=True,
        help="The centre's day of arrival: the numbers restart each day.")
    month = fields.Date("Month", readonly=True)
    sequence = fields.Integer("Sequence", readonly=True)
    number = fields.Char(
        "Number", readonly=True,
        help="The service's letter and the day's number.")
    subscription = fields.Many2One(
        'water.subscription', "Subscription", ondelete='RESTRICT',
        states={
            'readonly': Eval('state').in_(['done', 'cancelled']),
            })
    caller = fields.Char(
        "Name",
        states={
            'readonly': Eval('state').in_(['done', 'cancelled']),
            },
        help="The subscriber's or visitor's name, when it helps to call.")
    arrived_at = fields.DateTime(
        "Arrived", required=True,
        states={
            'readonly': Eval('id', -1) >= 0,
            })
    called_at = fields.DateTime("Called", readonly=True)
    started_at = fields.DateTime("Service Start", readonly=True)
    ended_at = fields.DateTime("Service End", readonly=True)
    counter = fields.Many2One(
        'water.queue.counter', "Counter", readonly=True,
        ondelete='RESTRICT')
    served_by = fields.Many2One(
        'res.user', "Served By", readonly=True, ondelete='RESTRICT')
    recalls = fields.Integer("Recalls", readonly=True)
    waiting_time = fields.TimeDelta(
        "Waiting Time", readonly=True,
        help="From arrival to the first call.")
    service_time = fields.TimeDelta(
        "Service Time", readonly=True,
        help="From the start to the end of the service.")
    ahead = fields.Function(
        fields.Integer("People Ahead",
            help="The tickets of the same service waiting before this one."),
        'get_ahead')
    state = fields.Selection([
            ('waiting', "Waiting"),
            ('called', "Called"),
            ('serving', "Serving"),
            ('done', "Done"),
            ('no_show', "No Show"),
            ('cancelled', "Cancelled"),
            ], "State", readonly=True, required=True, sort=False)
    state_string = state.translated('state')

    @classmethod
    def __setup__(cls):
        super().__setup__()
        t = cls.__table__()
        cls._sql_constraints = [
            ('number_unique', Unique(t, t.area, t.date, t.number),
                'water_utility.msg_queue_ticket_unique'),
            ]
        cls._sql_indexes.update({
                Index(t,
                    (t.area, Index.Range()),
                    (t.arrived_at, Index.Range()),
                    where=t.state == 'waiting'),
                Index(t,
                    (t.counter, Index.Range()),
                    where=t.state.in_(['called', 'serving'])),
                Index(t, (t.date, Index.Range()), (t.area, Index.Range())),
                })
        cls._order = [
            ('date', 'DESC'), ('arrived_at', 'DESC'), ('id', 'DESC')]
        cls._transitions |= {
            ('waiting', 'called'),
            ('called', 'called'),
            ('no_show', 'called'),
            ('called', 'serving'),
            ('serving', 'done'),
            ('called', 'no_show'),
            ('waiting', 'cancelled'),
            ('called', 'cancelled'),
            }
        cls._buttons.update({
                'recall': {
                    'invisible': ~Eval('state').in_(['called', 'no_show']),
                    'depends': ['state'],
                    },
                'start': {
                    'invisible': Eval('state') != 'called',
                    'depends': ['state'],
                    },
                'done': {
                    'invisible': Eval('state') != 'serving',
                    'depends': ['state'],
                    },
                'no_show': {
                    'invisible': Eval('state') != 'called',
                    'depends': ['state'],
                    },
                'cancel': {
                    'invisible': ~Eval('state').in_(['waiting', 'called']),
                    'depends': ['state'],
                    },
                })

    @classmethod
    def default_company(cls):
        return Transaction().context.get('company')

    @classmethod
    def default_arrived_at(cls):
        return now()

    @classmethod
    def default_recalls(cls):
        return 0

    @classmethod
    def default_state(cls):
        return 'waiting'

    @classmethod
    def default_service(cls):
        return 'payment'

    def get_rec_name(self, name):
        return self.number or str(self.id)

    @classmethod
    def search_rec_name(cls, name, clause):
        return [('number',) + tuple(clause[1:])]

    @classmethod
    def create(cls, vlist):
        """Number the tickets: the service's letter and the next number of
        the centre's day, read for all the new tickets at once"""
        pool = Pool()
        Area = pool.get('water.area')
        # the next number is read from the issued tickets: one issuer at a
        # time (the lock is taken when the transaction starts)
        cls.lock()
        vlist = [v.copy() for v in vlist]
        areas = {a.id: a for a in Area.browse(
                list({v['area'] for v in vlist if v.get('area')}))}
        keys = set()
        for values in vlist:
            arrived = values.get('arrived_at') or cls.default_arrived_at()
            values['arrived_at'] = arrived
            area = areas.get(values.get('area'))
            if area is None:
                continue
            values['date'] = waiting.local_day(arrived, _area_tz(area))
            values['month'] = values['date'].replace(day=1)
            values.setdefault('service', cls.default_service())
            keys.add((area.id, values['date'], values['service']))
        used = cls._used_sequences(keys)
        for values in vlist:
            if 'date' not in values:
                continue
            key = (values['area'], values['date'], values['service'])
            sequence = waiting.next_sequence(used[key])
            used[key].append(sequence)
            values['sequence'] = sequence
            values['number'] = waiting.ticket_number(
                values['service'], sequence)
        return super().create(vlist)

    @classmethod
    def _used_sequences(cls, keys):
        "The highest sequence issued for each (area, date, service) of keys"
        table = cls.__table__()
        cursor = Transaction().connection.cursor()
        used = defaultdict(list)
        if not keys:
            return used
        area_ids = sorted({k[0] for k in keys})
        dates = {k[1] for k in keys}
        for sub in grouped_slice(area_ids, backend.MAX_QUERY_PARAMS):
            cursor.execute(*table.select(
                    table.area, table.date, table.service,
                    Max(table.sequence),
                    where=fields.SQL_OPERATORS['in'](table.area, list(sub))
                    & (table.date >= min(dates))
                    & (table.date <= max(dates)),
                    group_by=[table.area, table.date, table.service]))
            for area, date, service, sequence in cursor:
                if isinstance(date, str):  # SQLite's aggregate query
                    date = dt.date.fromisoformat(date)
                used[area, date, service].append(sequence or 0)
        return used

    @classmethod
    def copy(cls, tickets, default=None):
        default = default.copy() if default is not None else {}
        for name in ['date', 'month', 'sequence', 'number', 'called_at',
                'started_at', 'ended_at', 'counter', 'served_by',
                'waiting_time', 'service_time']:
            default.setdefault(name, None)
        default.setdefault('arrived_at', None)
        default.setdefault('recalls', 0)
        return super().copy(tickets, default=default)

    @classmethod
    def get_ahead(cls, tickets, name):
        """The tickets of the same centre and service waiting before each
        waiting ticket, one query per slice of centres"""
        table = cls.__table__()
        cursor = Transaction().connection.cursor()
        result = {t.id: None for t in tickets}
        waiting_tickets = [t for t in tickets if t.state == 'waiting']
        queues = defaultdict(list)
        area_ids = sorted({t.area.id for t in waiting_tickets})
        for sub in grouped_slice(area_ids, backend.MAX_QUERY_PARAMS):
            cursor.execute(*table.select(
                    table.area, table.service, table.arrived_at, table.id,
                    where=fields.SQL_OPERATORS['in'](table.area, list(sub))
                    & (table.state == 'waiting')))
            for area, service, arrived, id_ in cursor:
                queues[area, service].append((arrived, id_))
        for ticket in waiting_tickets:
            result[ticket.id] = waiting.ahead(
                queues[ticket.area.id, ticket.service],
                ticket.arrived_at, ticket.id)
        return result

    @classmethod
    def take_next(cls, counter, exclude=()):
        """Return the oldest waiting ticket of the counter's centre among its
        services, locked for this transaction, or None

        On PostgreSQL the row is selected FOR UPDATE SKIP LOCKED: a clerk
        calling at the same moment takes the next one instead."""
        transaction = Transaction()
        database = transaction.database
        table = cls.__table__()
        cursor = transaction.connection.cursor()
        where = (table.area == counter.area.id) & (table.state == 'waiting')
        if counter.services:
            where &= table.service.in_(list(counter.services))
        if exclude:
            where &= ~table.id.in_(list(exclude))
        query = table.select(
            table.id, where=where,
            order_by=[table.arrived_at.asc, table.id.asc], limit=1)
        if database.has_select_for():
            For = database.get_select_for_skip_locked()
            query.for_ = For('UPDATE')
        cursor.execute(*query)
        row = cursor.fetchone()
        return cls(row[0]) if row else None

    @classmethod
    @Workflow.transition('called')
    def call(cls, tickets):
        "Call the tickets at their counter: the waiting time stops"
        instant = now()
        user = Transaction().user
        for ticket in tickets:
            if not ticket.called_at:
                ticket.called_at = instant
                ticket.waiting_time = waiting.duration(
                    ticket.arrived_at, instant)
            ticket.served_by = user
        cls.save(tickets)

    @classmethod
    @ModelView.button
    @Workflow.transition('called')
    def recall(cls, tickets):
        """Call the tickets again (a subscriber who was not there may come
        back): the waiting time stays that of the first call"""
        for ticket in tickets:
            ticket.recalls = (ticket.recalls or 0) + 1
        cls.save(tickets)

    @classmethod
    @ModelView.button
    @Workflow.transition('serving')
    def start(cls, tickets):
        instant = now()
        user = Transaction().user
        for ticket in tickets:
            ticket.started_at = instant
            ticket.served_by = user
        cls.save(tickets)

    @classmethod
    @ModelView.button
    @Workflow.transition('done')
    def done(cls, tickets):
        instant = now()
        for ticket in tickets:
            ticket.ended_at = instant
            ticket.service_time = waiting.duration(ticket.started_at, instant)
        cls.save(tickets)

    @classmethod
    @ModelView.button
    @Workflow.transition('no_show')
    def no_show(cls, tickets):
        pass

    @classmethod
    @ModelView.button
    @Workflow.transition('cancelled')
    def cancel(cls, tickets):
        pass


class BoardContext(ModelView):
    "Queue Board Context"
    __name__ = 'water.queue.board.context'

    area = fields.Many2One(
        'water.area', "Service Centre",
        help="The centre whose queue is shown; empty for all.")


class IssueStart(ModelView):
    "Issue Queue Ticket"
    __name__ = 'water.queue.ticket.issue.start'

    company = fields.Many2One('company.company', "Company", readonly=True)
    area = fields.Many2One(
        'water.area', "Service Centre", required=True,
        domain=[('company', '=', Eval('company', -1))])
    service = fields.Selection(
        waiting.SERVICES, "Service", required=True, sort=False)
    subscription = fields.Many2One('water.subscription', "Subscription")
    caller = fields.Char("Name")
    ticket = fields.Many2One('water.queue.ticket', "Ticket", readonly=True)


class Issue(Wizard):
    "Issue Queue Ticket"
    __name__ = 'water.queue.ticket.issue'
    start = StateView('water.queue.ticket.issue.start',
        'water_utility.queue_ticket_issue_start_view_form', [
            Button("Cancel", 'end', 'tryton-cancel'),
            Button("Issue", 'issue', 'tryton-print', default=True),
            ])
    issue = StateTransition()
    print_ = StateReport('water.queue.ticket')

    def default_start(self, fields):
        pool = Pool()
        Ticket = pool.get('water.queue.ticket')
        values = {
            'company': Transaction().context.get('company'),
            'service': Ticket.default_service(),
            }
        # the centre of the clerk's last ticket: a desk issues at one centre
        last = Ticket.search([
                ('create_uid', '=', Transaction().user),
                ], order=[('id', 'DESC')], limit=1)
        if last:
            values['area'] = last[0].area.id
        return values

    def transition_issue(self):
        pool = Pool()
        Ticket = pool.get('water.queue.ticket')
        ticket, = Ticket.create([{
                    'company': self.start.area.company.id,
                    'area': self.start.area.id,
                    'service': self.start.service,
                    'subscription': (
                        self.start.subscription.id
                        if self.start.subscription else None),
                    'caller': self.start.caller,
                    }])
        self.start.ticket = ticket
        return 'print_'

    def do_print_(self, action):
        ticket = self.start.ticket
        return action, {'id': ticket.id, 'ids': [ticket.id]}


class TicketReport(SubscriberReport):
    "Queue Ticket"
    __name__ = 'water.queue.ticket'

    @classmethod
    def get_context(cls, records, header, data):
        pool = Pool()
        Ticket = pool.get('water.queue.ticket')
        context = super().get_context(records, header, data)
        # read again in the ticket's language: the service and the centre
        records = Ticket.browse([r.id for r in records])
        context['records'] = records
        context['record'] = records[0] if records else None
        context['timezone'] = lambda ticket: _area_tz(ticket.area)
        return context


class StatisticContext(ModelView):
    "Queue Statistic Context"
    __name__ = 'water.queue.statistic.context'

    period = fields.Selection([
            ('month', "Month"),
            ('day', "Day"),
            ], "Period", required=True, sort=False)
    from_date = fields.Date(
        "From Date",
        domain=[
            If(Eval('to_date') & Eval('from_date'),
                ('from_date', '<=', Eval('to_date')), ()),
            ])
    to_date = fields.Date("To Date")
    area = fields.Many2One('water.area', "Service Centre")

    @classmethod
    def default_period(cls):
        return 'month'


class Statistic(ModelSQL, ModelView):
    "Queue Waiting Times"
    __name__ = 'water.queue.statistic'
    __string__ = "Queue Waiting Times"

    company = fields.Many2One('company.company', "Company", readonly=True)
    area = fields.Many2One('water.area', "Service Centre", readonly=True)
    service = fields.Selection(
        waiting.SERVICES, "Service", readonly=True, sort=False)
    date = fields.Date(
        "Date", readonly=True,
        help="The day, or the first day of the month.")
    tickets = fields.Integer("Tickets", readonly=True)
    served = fields.Integer("Served", readonly=True)
    no_shows = fields.Integer("No Shows", readonly=True)
    average_waiting = fields.Function(
        fields.TimeDelta("Average Wait"), 'get_times')
    p90_waiting = fields.Function(
        fields.TimeDelta("90% Waited Less Than",
            help="The 90th percentile of the waiting times."),
        'get_times')
    maximum_waiting = fields.TimeDelta("Longest Wait", readonly=True)
    average_service = fields.Function(
        fields.TimeDelta("Average Service"), 'get_times')
    average_waiting_minutes = fields.Function(
        fields.Float("Average Wait (min)", digits=(16, 1)),
        'get_times')

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls._order = [
            ('date', 'DESC'), ('area', 'ASC'), ('service', 'ASC'),
            ('id', 'ASC')]

    @classmethod
    def _period(cls, table):
        if Transaction().context.get('period') == 'day':
            return table.date
        return table.month

    @classmethod
    def _where(cls, table):
        "The tickets counted, as the context filters them"
        context = Transaction().context
        where = Literal(True)
        if context.get('from_date'):
            where &= table.date >= context['from_date']
        if context.get('to_date'):
            where &= table.date <= context['to_date']
        if context.get('area'):
            where &= table.area == context['area']
        return where

    @classmethod
    def table_query(cls):
        pool = Pool()
        Ticket = pool.get('water.queue.ticket')
        ticket = Ticket.__table__()
        period = cls._period(ticket)
        # the rows of a day and of a month are different records, also for
        # the cache of a transaction that reads both
        monthly = 1 if Transaction().context.get('period') != 'day' else 0
        return ticket.select(
            (Min(ticket.id) * 2 + monthly).as_('id'),
            ticket.company.as_('company'),
            ticket.area.as_('area'),
            ticket.service.as_('service'),
            period.as_('date'),
            Count(ticket.id).as_('tickets'),
            Sum(Case((ticket.state == 'done', 1), else_=0)).as_('served'),
            Sum(Case((ticket.state == 'no_show', 1), else_=0)
                ).as_('no_shows'),
            Max(ticket.waiting_time).as_('maximum_waiting'),
            where=cls._where(ticket),
            group_by=[ticket.company, ticket.area, ticket.service, period])

    @classmethod
    def get_times(cls, rows, names):
        """Average and 90th percentile of the waiting times and average of
        the service times of each row (waiting.summary, to the second): the
        rows' tickets read in one query and grouped as the rows are"""
        pool = Pool()
        Ticket = pool.get('water.queue.ticket')
        ticket = Ticket.__table__()
        cursor = Transaction().connection.cursor()
        period = cls._period(ticket)
        in_ = fields.SQL_OPERATORS['in']
        dated = [r for r in rows if r.date and r.area]
        waits, services = defaultdict(list), defaultdict(list)
        if dated:
            start = min(r.date for r in dated)
            area_ids = sorted({r.area.id for r in dated})
            for sub in grouped_slice(area_ids, backend.MAX_QUERY_PARAMS):
                cursor.execute(*ticket.select(
                        ticket.area, ticket.service, period,
                        ticket.waiting_time, ticket.service_time,
                        where=cls._where(ticket)
                        & in_(ticket.area, list(sub))
                        & (ticket.date >= start)
                        & (ticket.waiting_time != Null)))
                for area, service, date, wait, length in cursor:
                    if isinstance(date, str):
                        date = dt.date.fromisoformat(date)
                    key = area, service, date
                    waits[key].append(_timedelta(wait))
                    services[key].append(_timedelta(length))
        result = {n: {} for n in names}
        for row in rows:
            key = (row.area.id if row.area else None, row.service, row.date)
            wait = waiting.summary(waits[key])
            values = {
                'average_waiting': wait['average'],
                'p90_waiting': wait['p90'],
                'average_service': waiting.average(services[key]),
                'average_waiting_minutes': (
                    round(wait['average'].total_seconds() / 60, 1)
                    if wait['average'] is not None else None),
                }
            for name in names:
                result[name][row.id] = values[name]
        return result


class CharterReport(metaclass=PoolMeta):
    __name__ = 'water.request.charter.report'

    @classmethod
    def extra_sections(cls, company, month):
        """The month's front desk in the charter report (charter point 1):
        tickets, served, no-shows and the waiting and service times of all
        the centres, read in one query"""
        pool = Pool()
        Ticket = pool.get('water.queue.ticket')
        Statistic = pool.get('water.queue.statistic')
        ticket = Ticket.__table__()
        cursor = Transaction().connection.cursor()
        sections = super().extra_sections(company, month)
        cursor.execute(*ticket.select(
                ticket.state, ticket.waiting_time, ticket.service_time,
                where=(ticket.company == company.id)
                & (ticket.month == month)))
        tickets = served = no_shows = 0
        waits, services = [], []
        for state, wait, length in cursor:
            tickets += 1
            served += state == 'done'
            no_shows += state == 'no_show'
            if wait is not None:
                waits.append(_timedelta(wait))
            if length is not None:
                services.append(_timedelta(length))
        wait = waiting.summary(waits)
        sections.append(cls.section(Statistic, [
                    ('tickets', tickets),
                    ('served', served),
                    ('no_shows', no_shows),
                    ('average_waiting', wait['average']),
                    ('p90_waiting', wait['p90']),
                    ('maximum_waiting', wait['maximum']),
                    ('average_service', waiting.average(services)),
                    ]))
        return sections
