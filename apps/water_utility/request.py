# This file is part of the water_utility module.  See README.rst.
"""Requests and complaints (شكوى / طلب) on the service charter's clock

Every request gets a deadline when it is received: the target of its type
on the calendar or on the service centre's working hours (sla.py, through
the area's clock).  The charter's promise is kept when the written answer
is given by the deadline: technical requests within 24 hours, account
requests within 45 minutes (charter points 6 and 7).  A cron warns the
assignee before the deadline and escalates to the manager at the breach.

A request of the same type for the same subscription within the
configured window is a repeat: the complaint came back, so closing it
needs a root cause (required result 5).  Every step is kept in the
request's timeline.
"""
import datetime as dt
import json
from collections import defaultdict
from zoneinfo import ZoneInfo

from trytond import backend
from trytond.i18n import gettext
from trytond.model import (
    DeactivableMixin, Index, ModelSQL, ModelView, Workflow, fields)
from trytond.model.exceptions import AccessError
from trytond.pool import Pool, PoolMeta
from trytond.pyson import Bool, Eval, If
from trytond.tools import grouped_slice
from trytond.transaction import Transaction, without_check_access
from trytond.wizard import Button, StateTransition, StateView, Wizard

from . import sla
from .exceptions import RequestError
from .report_html import SubscriberReport

KINDS = [
    ('account', "Account"),
    ('technical', "Technical"),
    ('connection', "New Connection"),
    ('other', "Other"),
    ]
CHANNELS = [
    ('walk_in', "Walk-in at a Service Centre"),
    ('phone', "Phone"),
    ('written', "Written"),
    ('portal', "Portal"),
    ('field', "Field Visit"),
    ]
CLOCKS = [
    (sla.CALENDAR, "Calendar Hours"),
    (sla.WORKING, "Centre's Working Hours"),
    ]
SLA_STATES = [
    ('running', "On Time"),
    ('due', "Due Soon"),
    ('breached', "Breached"),
    ('met', "Met"),
    ]
OPEN = ['open', 'assigned', 'in_progress']


class Configuration(metaclass=PoolMeta):
    __name__ = 'water.configuration'

    request_repeat_days = fields.Integer(
        "Repeat Window (Days)", required=True,
        domain=[('request_repeat_days', '>=', 0)],
        help="A request of the same type for the same subscription within "
        "these days of the previous one is a repeat: closing it needs a "
        "root cause.")
    request_manager = fields.Many2One(
        'res.user', "Requests Manager",
        help="Breached requests of teams without a manager are escalated "
        "to this user.")

    @classmethod
    def default_request_repeat_days(cls):
        return 90


class Team(DeactivableMixin, ModelSQL, ModelView):
    "Service Team"
    __name__ = 'water.request.team'
    __string__ = "Service Team"

    name = fields.Char("Name", required=True, translate=True)
    kind = fields.Selection([
            ('department', "Department"),
            ('team', "Team"),
            ], "Kind", required=True)
    parent = fields.Many2One(
        'water.request.team', "Department", ondelete='RESTRICT',
        domain=[('kind', '=', 'department')])
    manager = fields.Many2One(
        'res.user', "Manager",
        help="Warned of breached requests of the team.")
    members = fields.Many2Many(
        'water.request.team-res.user', 'team', 'user', "Members")

    @classmethod
    def default_kind(cls):
        return 'team'

    def get_manager(self):
        "The team's manager, else its department's"
        if self.manager:
            return self.manager
        if self.parent:
            return self.parent.get_manager()


class TeamUser(ModelSQL):
    "Service Team - User"
    __name__ = 'water.request.team-res.user'
    __string__ = "Service Team - User"

    team = fields.Many2One(
        'water.request.team', "Team", required=True, ondelete='CASCADE')
    user = fields.Many2One(
        'res.user', "User", required=True, ondelete='CASCADE')


class Type(DeactivableMixin, ModelSQL, ModelView):
    "Request Type"
    __name__ = 'water.request.type'
    __string__ = "Request Type"

    name = fields.Char("Name", required=True, translate=True)
    code = fields.Char("Code", required=True)
    kind = fields.Selection(KINDS, "Kind", required=True, sort=False)
    complaint = fields.Boolean(
        "Complaint", help="A complaint (شكوى) rather than a request (طلب).")
    duration = fields.TimeDelta(
        "Response Time", required=True,
        domain=[('duration', '>', dt.timedelta(0))],
        help="The charter's target: the written answer is due this long "
        "after the request is received.")
    clock = fields.Selection(
        CLOCKS, "Counted In", required=True,
        help="Calendar hours run day and night; working hours run only "
        "when the service centre is open.")
    warning = fields.TimeDelta(
        "Warn Before", domain=['OR',
            ('warning', '=', None),
            ('warning', '>=', dt.timedelta(0)),
            ],
        help="The assignee is warned this long before the deadline.")
    team = fields.Many2One(
        'water.request.team', "Team", ondelete='RESTRICT',
        help="The team new requests of the type are assigned to.")
    portal = fields.Boolean(
        "On the Portal", help="Subscribers may open it on the portal.")

    @classmethod
    def __setup__(cls):
        cls.code.search_unaccented = False
        super().__setup__()
        cls._order.insert(0, ('kind', 'ASC'))
        cls._order.insert(1, ('code', 'ASC'))

    @classmethod
    def default_clock(cls):
        return sla.CALENDAR

    @classmethod
    def default_duration(cls):
        return dt.timedelta(hours=24)

    def get_rec_name(self, name):
        return self.name

    @classmethod
    def search_rec_name(cls, name, clause):
        _, operator, value = clause
        bool_op = 'AND' if operator.startswith(('!', 'not ')) else 'OR'
        return [bool_op,
            ('code', operator, value),
            ('name', operator, value),
            ]


class Request(Workflow, ModelSQL, ModelView):
    "Water Request"
    __name__ = 'water.request'
    __string__ = "Request or Complaint"
    _rec_name = 'number'

    _open = {'readonly': ~Eval('state').in_(OPEN)}

    company = fields.Many2One(
        'company.company', "Company", required=True,
        states={'readonly': Eval('id', -1) >= 0})
    number = fields.Char("Number", readonly=True)
    subscription = fields.Many2One(
        'water.subscription', "Subscription", ondelete='RESTRICT',
        domain=[('company', '=', Eval('company', -1))],
        states=_open,
        help="Empty for a caller who is not a subscriber.")
    party = fields.Many2One(
        'party.party', "Subscriber", ondelete='RESTRICT',
        context={'company': Eval('company', -1)}, depends={'company'},
        states={
            'readonly': ~Eval('state').in_(OPEN) | Bool(
                Eval('subscription')),
            })
    caller_name = fields.Char("Caller's Name", states=_open)
    caller_phone = fields.Char("Caller's Phone", states=_open)
    channel = fields.Selection(
        CHANNELS, "Channel", required=True, sort=False, states=_open)
    type = fields.Many2One(
        'water.request.type', "Type", required=True, ondelete='RESTRICT',
        states=_open)
    kind = fields.Function(
        fields.Selection(KINDS, "Kind"), 'on_change_with_kind',
        searcher='search_kind')
    description = fields.Text("Description", required=True, states=_open)
    area = fields.Many2One(
        'water.area', "Service Area", required=True, ondelete='RESTRICT',
        domain=[('company', '=', Eval('company', -1))], states=_open,
        help="The centre whose clock counts the response time.")
    received = fields.DateTime(
        "Received", required=True,
        states={'readonly': Eval('id', -1) >= 0})
    month = fields.Date(
        "Month", readonly=True,
        help="The month of the receipt, in the centre's time.")
    deadline = fields.DateTime("Deadline", readonly=True)
    warning_at = fields.DateTime("Warning At", readonly=True)
    clock = fields.Selection(
        [(None, "")] + CLOCKS, "Counted In", readonly=True)
    target = fields.TimeDelta("Response Time Target", readonly=True)
    team = fields.Many2One(
        'water.request.team', "Team", ondelete='RESTRICT', states=_open)
    assignee = fields.Many2One(
        'res.user', "Assigned To", ondelete='RESTRICT', states=_open)
    assigned_at = fields.DateTime("Assigned At", readonly=True)
    answer = fields.Text(
        "Answer to the Subscriber", states=_open,
        help="The written answer given to the subscriber: printed, or read "
        "on the portal.")
    resolved_at = fields.DateTime("Answered At", readonly=True)
    resolved_by = fields.Many2One('res.user', "Answered By", readonly=True)
    response_time = fields.TimeDelta(
        "Response Time", readonly=True,
        help="From receipt to the answer, counted like the target.")
    breached = fields.Boolean("Breached", readonly=True,
        help="The deadline passed before the answer.")
    sla_status = fields.Function(fields.Selection(
            [(None, "")] + SLA_STATES, "Charter"), 'get_sla_status',
        searcher='search_sla_status')
    warned = fields.Boolean("Warned", readonly=True)
    escalated_to = fields.Many2One('res.user', "Escalated To", readonly=True)
    closed_at = fields.DateTime("Closed At", readonly=True)
    repeat_of = fields.Many2One(
        'water.request', "Repeat Of", readonly=True, ondelete='SET NULL',
        help="The previous request of the same type for the subscription "
        "within the repeat window.")
    root_cause = fields.Text(
        "Root Cause",
        states={
            'readonly': Eval('state') == 'closed',
            'required': Bool(Eval('repeat_of')) & (
                Eval('state') == 'closed'),
            },
        help="Why the complaint came back, so that the cause is removed.")
    reopen_count = fields.Integer("Reopened", readonly=True)
    reading = fields.Many2One(
        'water.reading', "Reading", ondelete='RESTRICT',
        domain=[('subscription', '=', Eval('subscription', -1))],
        states=_open, help="The disputed reading.")
    bill = fields.Many2One(
        'water.bill', "Bill", ondelete='RESTRICT',
        domain=[('subscription', '=', Eval('subscription', -1))],
        states=_open, help="The disputed bill.")
    adjustment = fields.Many2One(
        'water.bill', "Corrected Bill", readonly=True, ondelete='RESTRICT',
        help="The bill issued again after the credit note.")
    events = fields.One2Many(
        'water.request.event', 'request', "Timeline", readonly=True,
        order=[('date', 'ASC'), ('id', 'ASC')])
    state = fields.Selection([
            ('open', "Open"),
            ('assigned', "Assigned"),
            ('in_progress', "In Progress"),
            ('resolved', "Resolved"),
            ('closed', "Closed"),
            ], "State", readonly=True, required=True, sort=False)

    del _open

    @classmethod
    def __setup__(cls):
        cls.number.search_unaccented = False
        super().__setup__()
        t = cls.__table__()
        cls._sql_indexes.update({
                Index(t, (t.number, Index.Similarity())),
                Index(t, (t.subscription, Index.Range()),
                    (t.type, Index.Range()), (t.received, Index.Range())),
                Index(t, (t.deadline, Index.Range()),
                    where=t.state.in_(OPEN)),
                Index(t, (t.received, Index.Range())),
                Index(t, (t.month, Index.Range()), (t.area, Index.Range())),
                })
        cls._order = [('received', 'DESC'), ('id', 'DESC')]
        cls._transitions |= {
            ('open', 'assigned'),
            ('open', 'in_progress'),
            ('assigned', 'in_progress'),
            ('assigned', 'assigned'),
            ('in_progress', 'assigned'),
            ('open', 'resolved'),
            ('assigned', 'resolved'),
            ('in_progress', 'resolved'),
            ('resolved', 'closed'),
            ('resolved', 'in_progress'),
            ('closed', 'in_progress'),
            }
        cls._buttons.update({
                'assign': {
                    'invisible': ~Eval('state').in_(OPEN),
                    'readonly': ~Eval('assignee') & ~Eval('team'),
                    'depends': ['state', 'assignee', 'team'],
                    },
                'start': {
                    'invisible': ~Eval('state').in_(['open', 'assigned']),
                    'depends': ['state'],
                    },
                'resolve': {
                    'invisible': ~Eval('state').in_(OPEN),
                    'readonly': ~Eval('answer'),
                    'depends': ['state', 'answer'],
                    },
                'close': {
                    'invisible': Eval('state') != 'resolved',
                    'depends': ['state'],
                    },
                'reopen': {
                    'invisible': ~Eval('state').in_(['resolved', 'closed']),
                    'depends': ['state'],
                    },
                'recheck_reading': {
                    'invisible': (~Eval('state').in_(OPEN)
                        | ~Eval('reading')),
                    'depends': ['state', 'reading'],
                    },
                'correct_bill': {
                    'invisible': (~Eval('state').in_(OPEN) | ~Eval('bill')
                        | Bool(Eval('adjustment'))),
                    'depends': ['state', 'bill', 'adjustment'],
                    },
                })

    @classmethod
    def default_company(cls):
        return Transaction().context.get('company')

    @classmethod
    def default_state(cls):
        return 'open'

    @classmethod
    def default_channel(cls):
        return 'walk_in'

    @classmethod
    def default_received(cls):
        return dt.datetime.now().replace(microsecond=0)

    @classmethod
    def default_breached(cls):
        return False

    @classmethod
    def default_warned(cls):
        return False

    @classmethod
    def default_reopen_count(cls):
        return 0

    @fields.depends('subscription', 'area', 'party')
    def on_change_subscription(self):
        if self.subscription:
            self.party = self.subscription.party
            self.area = self.subscription.area

    @fields.depends('type', 'team')
    def on_change_type(self):
        if self.type and self.type.team and not self.team:
            self.team = self.type.team

    @fields.depends('type')
    def on_change_with_kind(self, name=None):
        return self.type.kind if self.type else None

    @classmethod
    def search_kind(cls, name, clause):
        return [('type.kind',) + tuple(clause[1:])]

    def get_rec_name(self, name):
        return self.number or f'({self.id})'

    @classmethod
    def search_rec_name(cls, name, clause):
        _, operator, value = clause
        bool_op = 'AND' if operator.startswith(('!', 'not ')) else 'OR'
        return [bool_op,
            ('number', operator, value),
            ('subscription.rec_name', operator, value),
            ('caller_name', operator, value),
            ]

    @classmethod
    def get_sla_status(cls, requests, name):
        now = dt.datetime.now()
        return {r.id: sla.status(r.deadline, r.resolved_at, now, r.warning_at)
            if r.deadline else None for r in requests}

    @classmethod
    def search_sla_status(cls, name, clause):
        _, operator, value = clause
        values = [value] if operator == '=' else list(value or [])
        if operator not in {'=', 'in'}:
            values = [v for v, _ in SLA_STATES if v not in values]
        now = dt.datetime.now()
        waiting = [('resolved_at', '=', None), ('deadline', '>=', now)]
        domains = {
            'met': [('resolved_at', '!=', None), ('breached', '=', False)],
            'breached': ['OR',
                [('resolved_at', '!=', None), ('breached', '=', True)],
                [('resolved_at', '=', None), ('deadline', '<', now)],
                ],
            'due': waiting + [('warning_at', '<=', now)],
            'running': waiting + [['OR',
                    ('warning_at', '=', None),
                    ('warning_at', '>', now),
                    ]],
            }
        return ['OR'] + [domains[v] for v in values if v in domains] + [
            ('id', '=', None)]

    @classmethod
    def view_attributes(cls):
        return super().view_attributes() + [
            ('/tree', 'visual',
                If(Eval('sla_status') == 'breached', 'danger',
                    If(Eval('sla_status') == 'due', 'warning', ''))),
            ]

    @classmethod
    def create(cls, vlist):
        pool = Pool()
        Type = pool.get('water.request.type')
        Subscription = pool.get('water.subscription')
        vlist = [v.copy() for v in vlist]
        types = {t.id: t for t in Type.browse(
                list({v['type'] for v in vlist if v.get('type')}))}
        subscriptions = {s.id: s for s in Subscription.browse(
                list({v['subscription'] for v in vlist
                        if v.get('subscription')}))}
        for values in vlist:
            subscription = subscriptions.get(values.get('subscription'))
            if subscription:
                values.setdefault('party', subscription.party.id)
                values.setdefault('area', subscription.area.id)
            type_ = types.get(values.get('type'))
            if type_ and type_.team and not values.get('team'):
                values['team'] = type_.team.id
        requests = super().create(vlist)
        cls.set_number(requests)
        cls.set_deadlines(requests)
        cls.set_repeats(requests)
        cls.add_event(requests, 'created')
        return requests

    @classmethod
    def write(cls, *args):
        actions = iter(args)
        changed = []
        for requests, values in zip(actions, actions):
            if values.keys() & {'type', 'area', 'received'}:
                changed.extend(requests)
        super().write(*args)
        if changed:
            cls.set_deadlines(cls.browse(changed))

    @classmethod
    def check_modification(cls, mode, requests, values=None, external=False):
        super().check_modification(
            mode, requests, values=values, external=external)
        if mode == 'delete':
            for request in requests:
                if request.state != 'open':
                    raise AccessError(gettext(
                            'water_utility.msg_request_delete',
                            request=request.rec_name))

    @classmethod
    def copy(cls, requests, default=None):
        default = default.copy() if default is not None else {}
        for name in ['number', 'deadline', 'warning_at', 'assigned_at',
                'answer', 'resolved_at', 'resolved_by', 'response_time',
                'escalated_to', 'closed_at', 'repeat_of', 'root_cause',
                'adjustment', 'events', 'received', 'month']:
            default.setdefault(name, None)
        for name in ['breached', 'warned']:
            default.setdefault(name, False)
        default.setdefault('reopen_count', 0)
        return super().copy(requests, default=default)

    @classmethod
    def set_number(cls, requests):
        pool = Pool()
        ModelData = pool.get('ir.model.data')
        Sequence = pool.get('ir.sequence')
        sequence = Sequence(
            ModelData.get_id('water_utility', 'sequence_request'))
        to_write = []
        for request in requests:
            if not request.number:
                to_write.extend(([request], {'number': sequence.get()}))
        if to_write:
            super().write(*to_write)

    @classmethod
    def set_deadlines(cls, requests):
        """Count the type's target from the receipt on the area's clock

        The target and the clock are copied: a later change of the policy
        does not move the deadline of a request already received."""
        to_write = []
        for request in requests:
            if request.resolved_at:
                continue
            type_, area = request.type, request.area
            deadline = area.deadline(
                request.received, type_.duration, type_.clock)
            warning_at = None
            if type_.warning and type_.warning < type_.duration:
                warning_at = area.deadline(request.received,
                    type_.duration - type_.warning, type_.clock)
            received = request.received.replace(tzinfo=sla.UTC)
            timezone = area.timezone or request.company.timezone
            if timezone:
                received = received.astimezone(ZoneInfo(timezone))
            to_write.extend(([request], {
                        'month': received.date().replace(day=1),
                        'deadline': deadline,
                        'warning_at': warning_at,
                        'clock': type_.clock,
                        'target': type_.duration,
                        }))
        if to_write:
            super().write(*to_write)

    @classmethod
    def set_repeats(cls, requests):
        """Flag as a repeat a request whose subscription had one of the same
        type received within the configured window before it"""
        pool = Pool()
        Configuration = pool.get('water.configuration')
        days = Configuration(1).request_repeat_days
        if days is None:
            days = Configuration.default_request_repeat_days()
        window = dt.timedelta(days=days)
        requests = [r for r in requests if r.subscription]
        if not requests or not days:
            return
        earliest = min(r.received for r in requests) - window
        previous = defaultdict(list)
        for sub_ids in grouped_slice(
                list({r.subscription.id for r in requests}),
                backend.MAX_QUERY_PARAMS):
            for other in cls.search([
                        ('subscription', 'in', list(sub_ids)),
                        ('received', '>=', earliest),
                        ],
                    order=[('received', 'ASC'), ('id', 'ASC')]):
                previous[other.subscription.id, other.type.id].append(other)
        to_write = []
        for request in requests:
            before = [o for o in previous[
                    request.subscription.id, request.type.id]
                if (o.received, o.id) < (request.received, request.id)
                and o.received >= request.received - window]
            if before:
                to_write.extend(([request], {'repeat_of': before[-1].id}))
        if to_write:
            super().write(*to_write)

    @classmethod
    def add_event(cls, requests, action, description=None):
        """Add a step to the timeline of the requests; description may be a
        function of the request"""
        pool = Pool()
        Event = pool.get('water.request.event')
        now = dt.datetime.now()
        user = Transaction().user
        Event.create([{
                    'request': r.id,
                    'date': now,
                    'user': user,
                    'action': action,
                    'description': (
                        description(r) if callable(description)
                        else description),
                    } for r in requests])

    @classmethod
    @ModelView.button
    @Workflow.transition('assigned')
    def assign(cls, requests):
        for request in requests:
            if not request.assignee and not request.team:
                raise RequestError(gettext(
                        'water_utility.msg_request_assign_nobody',
                        request=request.rec_name))
        now = dt.datetime.now()
        cls.write(requests, {'assigned_at': now})
        cls.add_event(requests, 'assigned', lambda r: ' / '.join(
                x.rec_name for x in [r.team, r.assignee] if x))

    @classmethod
    @ModelView.button
    @Workflow.transition('in_progress')
    def start(cls, requests):
        user = Transaction().user
        unassigned = [r for r in requests if not r.assignee]
        if unassigned and user:
            cls.write(unassigned, {
                    'assignee': user,
                    'assigned_at': dt.datetime.now(),
                    })
        cls.add_event(requests, 'started')

    @classmethod
    @ModelView.button
    @Workflow.transition('resolved')
    def resolve(cls, requests):
        "Give the written answer: the charter's clock stops"
        now = dt.datetime.now().replace(microsecond=0)
        user = Transaction().user
        to_write = []
        for request in requests:
            if not (request.answer or '').strip():
                raise RequestError(gettext(
                        'water_utility.msg_request_answer_required',
                        request=request.rec_name))
            to_write.extend(([request], {
                        'resolved_at': now,
                        'resolved_by': user,
                        'response_time': request.area.elapsed(
                            request.received.replace(microsecond=0), now,
                            request.clock),
                        'breached': now > request.deadline,
                        }))
        if to_write:
            cls.write(*to_write)
        cls.add_event(requests, 'resolved')

    @classmethod
    @ModelView.button
    @Workflow.transition('closed')
    def close(cls, requests):
        for request in requests:
            if request.repeat_of and not (request.root_cause or '').strip():
                raise RequestError(gettext(
                        'water_utility.msg_request_root_cause',
                        request=request.rec_name,
                        previous=request.repeat_of.rec_name))
        cls.write(requests, {'closed_at': dt.datetime.now()})
        cls.add_event(requests, 'closed')

    @classmethod
    @ModelView.button_action('water_utility.wizard_request_reopen')
    def reopen(cls, requests):
        pass

    @classmethod
    @Workflow.transition('in_progress')
    def do_reopen(cls, requests, reason):
        """Open again a request whose answer did not solve the matter

        The deadline stays: the clock runs again from the receipt, so a
        request reopened after its deadline is breached."""
        now = dt.datetime.now()
        to_write = []
        for request in requests:
            to_write.extend(([request], {
                        'reopen_count': (request.reopen_count or 0) + 1,
                        'resolved_at': None,
                        'resolved_by': None,
                        'response_time': None,
                        'closed_at': None,
                        'breached': bool(
                            request.deadline and now > request.deadline),
                        }))
        if to_write:
            super().write(*to_write)
        cls.add_event(requests, 'reopened', reason)

    @classmethod
    @ModelView.button
    def recheck_reading(cls, requests):
        """Ask the route's reader to read the disputed meter again

        A held reading goes back on the reader's next sheet; in every case
        the request is assigned to the reader, who answers with the index
        found."""
        pool = Pool()
        Reading = pool.get('water.reading')
        held = [r.reading for r in requests
            if r.reading.state in {'held', 'inspection'}]
        if held:
            # the officer asks for the re-read; the reading stays the
            # billing section's
            with without_check_access():
                Reading.reread(Reading.browse(held))
        to_write = []
        for request in requests:
            route = request.subscription.route if request.subscription else (
                None)
            if route and route.reader:
                to_write.extend(([request], {'assignee': route.reader.id}))
        if to_write:
            cls.write(*to_write)
        cls.assign([r for r in requests if r.state == 'open'
                and (r.assignee or r.team)])
        cls.add_event(requests, 'recheck', lambda r: r.reading.rec_name)

    @classmethod
    @ModelView.button_action('water_utility.wizard_request_correct_bill')
    def correct_bill(cls, requests):
        pass

    @classmethod
    def corrected(cls, request, credited, rebilled):
        "Link the request to the bill issued again after its dispute"
        cls.write([request], {'adjustment': rebilled.id if rebilled else None})
        cls.add_event([request], 'adjusted', ' → '.join(
                b.rec_name for b in [credited, rebilled] if b))

    @classmethod
    def check_deadlines(cls):
        """Warn the assignee before the deadline and escalate at the breach

        Run by the cron every few minutes."""
        pool = Pool()
        Configuration = pool.get('water.configuration')
        now = dt.datetime.now()
        to_warn = cls.search([
                ('state', 'in', OPEN),
                ('warned', '=', False),
                ('warning_at', '<=', now),
                ('deadline', '>=', now),
                ], order=[('deadline', 'ASC')])
        to_escalate = cls.search([
                ('state', 'in', OPEN),
                ('breached', '=', False),
                ('deadline', '<', now),
                ], order=[('deadline', 'ASC')])
        if to_warn:
            cls.write(to_warn, {'warned': True})
            cls.notify(to_warn, 'water_utility.msg_request_warning',
                lambda r: [r.assignee] if r.assignee else (
                    list(r.team.members) if r.team else []))
            cls.add_event(to_warn, 'warned')
        if to_escalate:
            manager = Configuration(1).request_manager
            by_manager = defaultdict(list)
            for request in to_escalate:
                escalate_to = (
                    request.team.get_manager() if request.team else None
                    ) or manager
                by_manager[escalate_to].append(request)
            to_write = []
            for escalate_to, requests in by_manager.items():
                to_write.extend((requests, {
                            'breached': True,
                            'escalated_to': (
                                escalate_to.id if escalate_to else None),
                            }))
            cls.write(*to_write)
            to_escalate = cls.browse(to_escalate)
            cls.notify(to_escalate, 'water_utility.msg_request_escalated',
                lambda r: [u for u in [r.escalated_to, r.assignee] if u])
            cls.add_event(to_escalate, 'escalated',
                lambda r: r.escalated_to.rec_name if r.escalated_to else None)

    @classmethod
    def notify(cls, requests, message, users):
        """Send each user given by users(request) a notification of the
        request, in the user's language"""
        pool = Pool()
        Notification = pool.get('res.notification')
        Lang = pool.get('ir.lang')
        vlist = []
        for request in cls.browse(requests):
            for user in {u for u in users(request) if u}:
                language = (user.language or Lang.get()).code
                deadline = request.deadline.replace(tzinfo=sla.UTC)
                if request.company.timezone:
                    deadline = deadline.astimezone(
                        ZoneInfo(request.company.timezone))
                with Transaction().set_context(language=language):
                    label = gettext(message, request=request.number,
                        deadline=deadline.strftime('%Y-%m-%d %H:%M'))
                vlist.append({
                        'user': user.id,
                        'label': label,
                        'description': (request.description or '')[:200],
                        'model': cls.__name__,
                        'records': json.dumps([request.id]),
                        'icon': 'tryton-notification',
                        })
        if vlist:
            Notification.create(vlist)


class Event(ModelSQL, ModelView):
    "Request Timeline Event"
    __name__ = 'water.request.event'
    __string__ = "Request Timeline Event"
    __access__ = {'request'}

    request = fields.Many2One(
        'water.request', "Request", required=True, ondelete='CASCADE')
    date = fields.DateTime("Date", required=True, readonly=True)
    user = fields.Many2One('res.user', "User", readonly=True)
    action = fields.Selection([
            ('created', "Received"),
            ('assigned', "Assigned"),
            ('started', "Work Started"),
            ('resolved', "Answered"),
            ('closed', "Closed"),
            ('reopened', "Reopened"),
            ('warned', "Deadline Warning"),
            ('escalated', "Escalated"),
            ('recheck', "Reading Re-check Asked"),
            ('adjusted', "Bill Corrected"),
            ('inspection', "Sent to the Field"),
            ('note', "Note"),
            ], "Action", required=True, readonly=True, sort=False)
    description = fields.Text("Description", readonly=True)

    @classmethod
    def __setup__(cls):
        super().__setup__()
        t = cls.__table__()
        cls._sql_indexes.add(Index(t, (t.request, Index.Range())))
        cls._order = [('date', 'ASC'), ('id', 'ASC')]


class ReopenStart(ModelView):
    "Reopen Request"
    __name__ = 'water.request.reopen.start'
    __string__ = "Reopen Request"

    reason = fields.Text("Reason", required=True,
        help="Why the answer did not settle the matter; kept in the "
        "timeline.")


class Reopen(Wizard):
    "Reopen Request"
    __name__ = 'water.request.reopen'
    start = StateView('water.request.reopen.start',
        'water_utility.request_reopen_start_view_form', [
            Button("Cancel", 'end', 'tryton-cancel'),
            Button("Reopen", 'reopen', 'tryton-ok', default=True),
            ])
    reopen = StateTransition()

    def transition_reopen(self):
        pool = Pool()
        Request = pool.get('water.request')
        Request.do_reopen(list(self.records), self.start.reason)
        return 'end'


class AnswerReport(SubscriberReport):
    "Answer to a Request"
    __name__ = 'water.request.answer'


class Bill(metaclass=PoolMeta):
    __name__ = 'water.bill'

    requests = fields.One2Many(
        'water.request', 'bill', "Disputes", readonly=True)


class Reading(metaclass=PoolMeta):
    __name__ = 'water.reading'

    requests = fields.One2Many(
        'water.request', 'reading', "Requests", readonly=True)


class Subscription(metaclass=PoolMeta):
    __name__ = 'water.subscription'

    requests = fields.One2Many(
        'water.request', 'subscription', "Requests", readonly=True)


class CorrectBill(metaclass=PoolMeta):
    "The bill correction wizard started from a billing dispute"
    __name__ = 'water.bill.correct'

    def _dispute(self):
        if self.model and self.model.__name__ == 'water.request':
            return super().record

    @property
    def record(self):
        record = super().record
        if record and record.__name__ == 'water.request':
            return record.bill
        return record

    def default_start(self, fields):
        values = super().default_start(fields)
        dispute = self._dispute()
        if dispute:
            values['reason'] = gettext(
                'water_utility.msg_request_correction_reason',
                request=dispute.rec_name)
        return values

    def transition_correct(self):
        pool = Pool()
        Bill = pool.get('water.bill')
        Request = pool.get('water.request')
        dispute = self._dispute()
        credited = self.record
        state = super().transition_correct()
        if dispute:
            rebilled = Bill.search([
                    ('corrects', '=', credited.id),
                    ], order=[('id', 'DESC')], limit=1)
            Request.corrected(Request(dispute.id), credited,
                rebilled[0] if rebilled else None)
        return state
