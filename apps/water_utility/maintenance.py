# This file is part of the water_utility module.  See README.rst.
"""Periodic meter maintenance, the inspector's day and removed meters

The inspection and follow-up section tests every subscriber's meter every
few years, the cycle depending on its diameter (water.maintenance.cycle).
A plan per service area (water.maintenance.plan) opens, each month, the
maintenance work orders of the meters that fall due, as many as the area's
team can do, oldest first, spread over the next working days.  The work
order done with an accuracy result becomes the meter's last test.

The inspectors print their day as a route sheet, and follow the
subscriptions whose meter was removed and not replaced
(water.meter.removed) until a meter is back.
"""
import datetime as dt
from collections import defaultdict, namedtuple

from sql import Null
from sql.aggregate import Count, Max
from sql.conditionals import Case

from trytond import backend
from trytond.i18n import gettext
from trytond.model import (
    DeactivableMixin, Index, ModelSQL, ModelView, Unique, Workflow, fields)
from trytond.pool import Pool, PoolMeta
from trytond.pyson import Eval, PYSONEncoder
from trytond.tools import grouped_slice
from trytond.transaction import Transaction
from trytond.wizard import Button, StateAction, StateView, Wizard

from .exceptions import MaintenanceCycleError
from .inspection import OPEN
from .meter import DIAMETERS, REMOVAL_REASONS
from .report_html import HTMLReport

DAY = dt.timedelta(days=1)


def add_years(date, years):
    "The same day years later; 29 February becomes 28 February"
    try:
        return date.replace(year=date.year + years)
    except ValueError:
        return date.replace(year=date.year + years, day=28)


def last_test(tested, installed, manufacture_year):
    """The date the meter's accuracy is known from: its last test, else
    its installation (a meter is fitted tested), else 1 January of its
    year of manufacture; None when nothing is known"""
    if tested:
        return tested
    if installed:
        return installed
    if manufacture_year:
        return dt.date(manufacture_year, 1, 1)
    return None


def due_date(tested, installed, manufacture_year, years):
    """The date the meter must be tested again, every years years

    None when nothing tells how old the meter is: it is due at once."""
    start = last_test(tested, installed, manufacture_year)
    if start is None:
        return None
    return add_years(start, years)


def select_due(candidates, limit, capacity):
    """The keys of the candidates due by limit, oldest first, at most
    capacity of them

    candidates are (key, due date) pairs, a due date None coming first;
    equal dates keep the order of the keys.  A capacity None takes all.
    """
    due = sorted(
        ((d or dt.date.min, k) for k, d in candidates
            if d is None or d <= limit),
        key=lambda c: c)
    if capacity is not None:
        due = due[:max(capacity, 0)]
    return [k for _, k in due]


def spread(count, start, per_day, weekdays=None, holidays=()):
    """Planned dates for count work orders from start on, per_day a day

    Only the weekdays (0 Monday … 6 Sunday) that are not holidays count;
    every day counts when weekdays is empty."""
    per_day = max(per_day or 1, 1)
    weekdays = set(weekdays or range(7))
    holidays = set(holidays)
    dates, day = [], start
    while len(dates) < count:
        if day.weekday() in weekdays and day not in holidays:
            dates.extend([day] * min(per_day, count - len(dates)))
        day += DAY
    return dates


Candidate = namedtuple('Candidate', [
        'meter', 'subscription', 'area', 'diameter', 'tested', 'installed',
        'manufacture_year'])


class Cycle(ModelSQL, ModelView):
    "Meter Maintenance Cycle"
    __name__ = 'water.maintenance.cycle'
    __string__ = "Meter Maintenance Cycle"

    company = fields.Many2One('company.company', "Company", required=True)
    diameter = fields.Selection(
        DIAMETERS, "Diameter", sort=False,
        help="Empty for the meters of any other diameter.")
    diameter_string = diameter.translated('diameter')
    years = fields.Integer(
        "Every (Years)", required=True,
        domain=[('years', '>', 0)],
        help="A meter is tested again this many years after its last test "
        "(or its installation).")

    @classmethod
    def __setup__(cls):
        super().__setup__()
        t = cls.__table__()
        cls._sql_constraints = [
            ('diameter_unique', Unique(t, t.company, t.diameter),
                'water_utility.msg_maintenance_cycle_unique'),
            ]
        cls._order = [('diameter', 'ASC NULLS LAST'), ('id', 'ASC')]

    @classmethod
    def default_company(cls):
        return Transaction().context.get('company')

    @classmethod
    def validate_fields(cls, cycles, field_names):
        super().validate_fields(cycles, field_names)
        cls.check_default(cycles, field_names)

    @classmethod
    def check_default(cls, cycles, field_names=None):
        "One cycle for the other diameters per company (NULL is not unique)"
        if field_names and not (field_names & {'company', 'diameter'}):
            return
        companies = {c.company.id for c in cycles if not c.diameter}
        if not companies:
            return
        counts = defaultdict(int)
        for cycle in cls.search([
                    ('company', 'in', list(companies)),
                    ('diameter', '=', None),
                    ]):
            counts[cycle.company.id] += 1
            if counts[cycle.company.id] > 1:
                raise MaintenanceCycleError(gettext(
                        'water_utility.msg_maintenance_cycle_unique'))

    def get_rec_name(self, name):
        return f'{self.diameter_string or "*"} / {self.years}'

    @classmethod
    def years_by_diameter(cls, company_ids):
        "The cycles of companies as {company: {diameter or None: years}}"
        result = defaultdict(dict)
        for cycle in cls.search([('company', 'in', list(company_ids))]):
            result[cycle.company.id][cycle.diameter or None] = cycle.years
        return result


class Plan(DeactivableMixin, ModelSQL, ModelView):
    "Meter Maintenance Plan"
    __name__ = 'water.maintenance.plan'
    __string__ = "Meter Maintenance Plan"

    company = fields.Many2One('company.company', "Company", required=True)
    area = fields.Many2One(
        'water.area', "Service Area", required=True, ondelete='CASCADE',
        domain=[('company', '=', Eval('company', -1))])
    capacity = fields.Integer(
        "Orders per Run", required=True,
        domain=[('capacity', '>', 0)],
        help="The most work orders one run opens: what the area's team "
        "can do before the next run.")
    daily_orders = fields.Integer(
        "Orders per Day", required=True,
        domain=[('daily_orders', '>', 0)],
        help="The work orders planned on each working day of the area.")
    lead_days = fields.Integer(
        "Lead Days", required=True,
        domain=[('lead_days', '>=', 0)],
        help="Open the work orders of the meters due within these days.")
    inspectors = fields.Many2Many(
        'water.maintenance.plan-res.user', 'plan', 'user', "Inspectors",
        help="The team the work orders go to; they are scheduled at once. "
        "Without inspectors they stay draft.")
    orders = fields.One2Many(
        'water.inspection', 'origin', "Work Orders", readonly=True)

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls._order = [('area', 'ASC'), ('id', 'ASC')]
        cls._buttons.update({
                'generate': {
                    'invisible': ~Eval('active', True),
                    'icon': 'tryton-launch',
                    'depends': ['active'],
                    },
                })

    @classmethod
    def default_company(cls):
        return Transaction().context.get('company')

    @classmethod
    def default_capacity(cls):
        return 40

    @classmethod
    def default_daily_orders(cls):
        return 8

    @classmethod
    def default_lead_days(cls):
        return 30

    def get_rec_name(self, name):
        return self.area.rec_name

    @classmethod
    def search_rec_name(cls, name, clause):
        return [('area.rec_name',) + tuple(clause[1:])]

    @classmethod
    def generate_cron(cls):
        "Open the maintenance work orders of the company's plans (cron)"
        company = Transaction().context.get('company')
        cls.generate(cls.search(
                [('company', '=', company)] if company else []))

    @classmethod
    @ModelView.button
    def generate(cls, plans):
        """Open a maintenance work order for each meter due, in one batch;
        return the work orders

        A meter with an open work order is left out: running again opens
        nothing new for it."""
        pool = Pool()
        Date = pool.get('ir.date')
        Cycle = pool.get('water.maintenance.cycle')
        Inspection = pool.get('water.inspection')
        plans = [p for p in plans if p.active]
        if not plans:
            return []
        today = Date.today()
        candidates = cls.due_candidates({p.area.id for p in plans})
        cycles = Cycle.years_by_diameter({p.company.id for p in plans})
        language = pool.get('water.configuration')(1).get_bill_language()
        vlist, taken = [], set()
        for plan in plans:
            years_of = cycles.get(plan.company.id, {})
            rows, dues = {}, []
            for row in candidates.get(plan.area.id, []):
                years = years_of.get(row.diameter, years_of.get(None))
                if not years or row.meter in taken:
                    continue
                rows[row.meter] = row
                dues.append((row.meter, due_date(
                            row.tested, row.installed,
                            row.manufacture_year, years)))
            due = dict(dues)
            chosen = select_due(
                dues, today + DAY * plan.lead_days, plan.capacity)
            area = plan.area
            dates = spread(len(chosen), today + DAY, plan.daily_orders,
                {int(h.weekday) for h in area.working_hours},
                {h.date for h in area.holidays})
            for meter, date in zip(chosen, dates):
                taken.add(meter)
                # kept as written: in the bills' language, not the cron's
                with Transaction().set_context(language=language):
                    vlist.append(
                        plan._work_order(rows[meter], due[meter], date))
        inspections = Inspection.create(vlist)
        Inspection.schedule(
            [i for i in inspections if i.inspectors and i.planned_date])
        return inspections

    def _work_order(self, candidate, due, date):
        "The values of the work order of a candidate due"
        return {
            'company': self.company.id,
            'type': 'maintenance',
            'subscription': candidate.subscription,
            'meter': candidate.meter,
            'area': self.area.id,
            'origin': str(self),
            'planned_date': date,
            'inspectors': [('add', [u.id for u in self.inspectors])],
            'description': gettext(
                'water_utility.msg_maintenance_order',
                tested=candidate.tested or candidate.installed or '',
                due=due or ''),
            }

    @classmethod
    def due_candidates(cls, area_ids):
        """The meters installed on the active subscriptions of the areas
        that have no open work order, as Candidates by area id"""
        pool = Pool()
        Installation = pool.get('water.meter.installation')
        Subscription = pool.get('water.subscription')
        Meter = pool.get('water.meter')
        Inspection = pool.get('water.inspection')
        installation = Installation.__table__()
        subscription = Subscription.__table__()
        meter = Meter.__table__()
        inspection = Inspection.__table__()
        cursor = Transaction().connection.cursor()

        busy = inspection.select(inspection.meter,
            where=inspection.state.in_(OPEN) & (inspection.meter != Null))
        result = defaultdict(list)
        for sub_ids in grouped_slice(
                list(area_ids), backend.MAX_QUERY_PARAMS):
            cursor.execute(*installation.join(subscription,
                    condition=installation.subscription == subscription.id
                    ).join(meter, condition=installation.meter == meter.id
                    ).select(
                    meter.id, subscription.id, subscription.area,
                    meter.diameter, meter.last_test_date,
                    installation.start_date, meter.manufacture_year,
                    where=(installation.end_date == Null)
                    & (subscription.state == 'active')
                    & fields.SQL_OPERATORS['in'](
                        subscription.area, list(sub_ids))
                    & ~meter.id.in_(busy)))
            for row in cursor:
                candidate = Candidate(*row)
                candidate = candidate._replace(
                    diameter=candidate.diameter or None,
                    tested=_date(candidate.tested),
                    installed=_date(candidate.installed))
                result[candidate.area].append(candidate)
        return result


def _date(value):
    "A date column as a date (SQLite may return text)"
    if isinstance(value, str):
        return dt.date.fromisoformat(value)
    return value


class PlanUser(ModelSQL):
    "Maintenance Plan - Inspector"
    __name__ = 'water.maintenance.plan-res.user'
    __string__ = "Maintenance Plan - Inspector"

    plan = fields.Many2One(
        'water.maintenance.plan', "Plan", required=True, ondelete='CASCADE')
    user = fields.Many2One(
        'res.user', "Inspector", required=True, ondelete='CASCADE')


class Meter(metaclass=PoolMeta):
    __name__ = 'water.meter'

    last_test_date = fields.Date(
        "Last Test", readonly=True,
        help="The visit date of the last work order done that tested the "
        "meter's accuracy.")
    last_accuracy = fields.Numeric(
        "Last Accuracy (%)", digits=(5, 1), readonly=True,
        help="What the meter registered for 100 litres in its last test.")

    @classmethod
    def copy(cls, meters, default=None):
        default = default.copy() if default is not None else {}
        default.setdefault('last_test_date', None)
        default.setdefault('last_accuracy', None)
        return super().copy(meters, default=default)


class Inspection(metaclass=PoolMeta):
    __name__ = 'water.inspection'

    @classmethod
    def __setup__(cls):
        super().__setup__()
        t = cls.__table__()
        cls._sql_indexes.add(
            Index(t, (t.meter, Index.Range()),
                where=t.state.in_(OPEN)))

    @classmethod
    def _get_origin(cls):
        return super()._get_origin() + [
            'water.maintenance.plan', 'water.meter.installation']

    @classmethod
    @ModelView.button
    @Workflow.transition('done')
    def do(cls, inspections):
        super().do(inspections)
        cls.record_tests(inspections)

    @classmethod
    def record_tests(cls, inspections):
        """Make the accuracy tests of the work orders the last tests of
        their meters, unless a later one is known"""
        pool = Pool()
        Meter = pool.get('water.meter')
        latest = {}
        for inspection in sorted(
                (i for i in inspections
                    if i.meter and i.accuracy is not None
                    and i.visit_date
                    and i.type in {'maintenance', 'meter'}),
                key=lambda i: (i.visit_date, i.id)):
            latest[inspection.meter] = inspection
        groups = defaultdict(list)
        for meter, inspection in latest.items():
            if (meter.last_test_date
                    and meter.last_test_date > inspection.visit_date):
                continue
            groups[inspection.visit_date, inspection.accuracy].append(meter)
        args = []
        for (date, accuracy), meters in groups.items():
            args.extend([meters, {
                        'last_test_date': date,
                        'last_accuracy': accuracy,
                        }])
        if args:
            Meter.write(*args)


class RouteReport(HTMLReport):
    "Inspector's Route"
    __name__ = 'water.inspection.route'

    @classmethod
    def get_context(cls, records, header, data):
        pool = Pool()
        Lang = pool.get('ir.lang')
        context = super().get_context(records, header, data)
        context['days'] = route_days(records)
        context['lang'] = Lang.get()
        return context


def route_days(inspections):
    """The work orders by day and team, each in the order of the reading
    routes: [(date, inspectors, [inspection])]"""
    days = defaultdict(list)
    for inspection in inspections:
        team = tuple(sorted(
                (u for u in inspection.inspectors),
                key=lambda u: (u.rec_name, u.id)))
        days[inspection.planned_date, team].append(inspection)

    def position(inspection):
        subscription = inspection.subscription
        if not subscription:
            return (1, '', 0, inspection.number or '')
        return (0, subscription.route.code if subscription.route else '',
            subscription.route_position or 0, inspection.number or '')
    return [(date, team, sorted(orders, key=position))
        for (date, team), orders in sorted(days.items(),
            key=lambda i: (i[0][0] or dt.date.max,
                [u.rec_name for u in i[0][1]]))]


class Removed(ModelSQL, ModelView):
    "Removed Meter"
    __name__ = 'water.meter.removed'
    __string__ = "Removed Meter"

    company = fields.Many2One('company.company', "Company", readonly=True)
    subscription = fields.Many2One(
        'water.subscription', "Subscription", readonly=True)
    party = fields.Many2One(
        'party.party', "Subscriber", readonly=True,
        context={'company': Eval('company', -1)}, depends={'company'})
    area = fields.Many2One('water.area', "Service Area", readonly=True)
    meter = fields.Many2One('water.meter', "Meter Removed", readonly=True)
    removal_date = fields.Date("Removed On", readonly=True)
    removal_reason = fields.Selection(
        REMOVAL_REASONS, "Removal Reason", sort=False, readonly=True)
    removal_reason_string = removal_reason.translated('removal_reason')
    days = fields.Function(
        fields.Integer("Days Since Removal"), 'get_days')
    visits = fields.Integer(
        "Follow-up Visits", readonly=True,
        help="The removed-meter work orders opened since the removal.")
    last_visit_date = fields.Date(
        "Last Visit", readonly=True,
        help="The visit date of the last follow-up work order done.")

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls._order = [('removal_date', 'ASC'), ('id', 'ASC')]

    @classmethod
    def table_query(cls):
        """The active subscriptions whose meters are all removed, with
        their last installation (its id is the row's)"""
        pool = Pool()
        Installation = pool.get('water.meter.installation')
        Subscription = pool.get('water.subscription')
        Inspection = pool.get('water.inspection')
        installation = Installation.__table__()
        closed = Installation.__table__()
        last = Installation.__table__()
        subscription = Subscription.__table__()
        inspection = Inspection.__table__()

        # the subscriptions without an open installation, and their
        # latest removal
        removals = closed.select(
            closed.subscription.as_('subscription'),
            Max(closed.end_date).as_('end_date'),
            group_by=[closed.subscription],
            having=Count(closed.id) == Count(closed.end_date))
        latest = last.join(removals,
            condition=(last.subscription == removals.subscription)
            & (last.end_date == removals.end_date)
            ).select(Max(last.id), group_by=[last.subscription])
        follow_up = (
            (inspection.subscription == installation.subscription)
            & (inspection.type == 'removed_meter')
            & (inspection.state != 'cancelled')
            & (inspection.create_date >= installation.end_date))
        return installation.join(subscription,
            condition=installation.subscription == subscription.id
            ).join(inspection, 'LEFT', condition=follow_up
            ).select(
                installation.id.as_('id'),
                subscription.company.as_('company'),
                installation.subscription.as_('subscription'),
                subscription.party.as_('party'),
                subscription.area.as_('area'),
                installation.meter.as_('meter'),
                installation.end_date.as_('removal_date'),
                installation.removal_reason.as_('removal_reason'),
                Count(inspection.id).as_('visits'),
                Max(Case((inspection.state == 'done',
                            inspection.visit_date), else_=Null)
                    ).as_('last_visit_date'),
                where=installation.id.in_(latest)
                & (subscription.state == 'active')
                & (installation.end_date != Null),
                group_by=[installation.id, subscription.company,
                    installation.subscription, subscription.party,
                    subscription.area, installation.meter,
                    installation.end_date, installation.removal_reason])

    @classmethod
    def get_days(cls, rows, name):
        pool = Pool()
        Date = pool.get('ir.date')
        today = Date.today()
        return {r.id: (today - r.removal_date).days for r in rows}


class FollowUpStart(ModelView):
    "Open Follow-up Work Orders"
    __name__ = 'water.meter.removed.follow_up.start'
    __string__ = "Open Follow-up Work Orders"

    planned_date = fields.Date(
        "Planned Date",
        help="With inspectors, the work orders are scheduled on this date.")
    inspectors = fields.Many2Many(
        'res.user', None, None, "Inspectors")
    description = fields.Text("Instructions")


class FollowUp(Wizard):
    "Open Follow-up Work Orders"
    __name__ = 'water.meter.removed.follow_up'
    start = StateView(
        'water.meter.removed.follow_up.start',
        'water_utility.meter_removed_follow_up_start_view_form', [
            Button("Cancel", 'end', 'tryton-cancel'),
            Button("Open", 'open_', 'tryton-ok', default=True),
            ])
    open_ = StateAction('water_utility.act_inspection_form')

    def default_start(self, fields):
        return {
            'description': gettext('water_utility.msg_removed_follow_up'),
            }

    def do_open_(self, action):
        inspections = self.open_orders(self.records, self.start)
        action['domain'] = PYSONEncoder().encode(
            [('id', 'in', [i.id for i in inspections])])
        action['views'].reverse()
        return action, {}

    @classmethod
    def open_orders(cls, rows, start):
        """Open a removed-meter work order for each row, in one batch,
        unless its subscription has one open"""
        pool = Pool()
        Inspection = pool.get('water.inspection')
        busy = {i.subscription.id for i in Inspection.search([
                    ('subscription', 'in', [r.subscription.id for r in rows]),
                    ('type', '=', 'removed_meter'),
                    ('state', 'in', OPEN),
                    ])}
        vlist = []
        for row in rows:
            if row.subscription.id in busy:
                continue
            busy.add(row.subscription.id)
            description = '\n'.join(filter(None, [
                        gettext('water_utility.msg_removed_follow_up_order',
                            meter=row.meter.rec_name,
                            date=row.removal_date,
                            reason=row.removal_reason_string),
                        start.description]))
            vlist.append({
                    'company': row.company.id,
                    'type': 'removed_meter',
                    'subscription': row.subscription.id,
                    'origin': f'water.meter.installation,{row.id}',
                    'planned_date': start.planned_date,
                    'inspectors': [('add', [u.id for u in start.inspectors])],
                    'description': description,
                    })
        inspections = Inspection.create(vlist)
        Inspection.schedule(
            [i for i in inspections if i.inspectors and i.planned_date])
        return inspections

    def end(self):
        return 'reload'


class Cron(metaclass=PoolMeta):
    __name__ = 'ir.cron'

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls.method.selection.append(
            ('water.maintenance.plan|generate_cron',
                "Open Meter Maintenance Work Orders"))
