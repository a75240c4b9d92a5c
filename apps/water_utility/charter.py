# This file is part of the water_utility module.  See README.rst.
"""What the manager reads of the service charter (charter point 14)

Per month, service area and request type: requests received and answered,
the share answered by the deadline, the average and 90th-percentile
response times (on the type's clock), repeats, and complaints per 1,000
subscriptions of the area.  The sums come from one grouped query; the
response times of all the rows shown are read in one more query, since a
percentile is not an SQL aggregate on every backend.  The monthly charter
report prints them in Arabic for the board.
"""
import datetime as dt
from collections import defaultdict

from sql import Literal, Null
from sql.aggregate import Count, Min, Sum
from sql.conditionals import Case

from trytond import backend
from trytond.model import ModelSQL, ModelView, fields
from trytond.pool import Pool
from trytond.tools import grouped_slice
from trytond.transaction import Transaction
from trytond.wizard import Button, StateReport, StateView, Wizard

from . import sla
from .report_html import SubscriberReport
from .request import KINDS


def _timedelta(value):
    "A response time from the database: an interval, or seconds on SQLite"
    if value is None or isinstance(value, dt.timedelta):
        return value
    return dt.timedelta(seconds=float(value))


def response_figures(times):
    "The average and the 90th percentile of response times"
    times = [t for t in times if t is not None]
    if not times:
        return None, None
    average = sum(times, dt.timedelta(0)) / len(times)
    return (dt.timedelta(seconds=round(average.total_seconds())),
        sla.percentile(times, 90))


class Statistic(ModelSQL, ModelView):
    "Charter Measure"
    __name__ = 'water.request.statistic'
    __string__ = "Charter Measure"

    company = fields.Many2One('company.company', "Company", readonly=True)
    month = fields.Date("Month", readonly=True)
    area = fields.Many2One('water.area', "Service Area", readonly=True)
    type = fields.Many2One('water.request.type', "Type", readonly=True)
    kind = fields.Selection(KINDS, "Kind", readonly=True, sort=False)
    requests = fields.Integer("Received", readonly=True)
    answered = fields.Integer("Answered", readonly=True)
    met = fields.Integer("Answered on Time", readonly=True)
    breached = fields.Integer("Breached", readonly=True,
        help="Answered late, or still unanswered past the deadline.")
    repeats = fields.Integer("Repeats", readonly=True)
    complaints = fields.Integer("Complaints", readonly=True)
    compliance = fields.Function(fields.Float(
            "Compliance", digits=(1, 4),
            help="The share of the answered requests answered by the "
            "deadline."), 'get_shares')
    repeat_rate = fields.Function(fields.Float(
            "Repeat Rate", digits=(1, 4)), 'get_shares')
    complaints_per_1000 = fields.Function(fields.Float(
            "Complaints per 1,000 Subscriptions", digits=(16, 2),
            help="Against the subscriptions of the area today."),
        'get_complaints_per_1000')
    average_response = fields.Function(
        fields.TimeDelta("Average Response Time"), 'get_response')
    p90_response = fields.Function(
        fields.TimeDelta("90% Answered Within"), 'get_response')

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls._order = [('month', 'DESC'), ('area', 'ASC'), ('kind', 'ASC'),
            ('type', 'ASC'), ('id', 'ASC')]

    @classmethod
    def table_query(cls):
        pool = Pool()
        Request = pool.get('water.request')
        Type = pool.get('water.request.type')
        request = Request.__table__()
        type_ = Type.__table__()
        answered = request.resolved_at != Null

        def count(condition):
            return Sum(Case((condition, 1), else_=0))
        return request.join(type_, condition=request.type == type_.id
            ).select(
                Min(request.id).as_('id'),
                request.company.as_('company'),
                request.month.as_('month'),
                request.area.as_('area'),
                request.type.as_('type'),
                type_.kind.as_('kind'),
                Count(request.id).as_('requests'),
                count(answered).as_('answered'),
                count(answered & (request.breached == Literal(False))
                    ).as_('met'),
                count(request.breached == Literal(True)).as_('breached'),
                count(request.repeat_of != Null).as_('repeats'),
                count(type_.complaint == Literal(True)).as_('complaints'),
                where=request.month != Null,
                group_by=[request.company, request.month, request.area,
                    request.type, type_.kind])

    @classmethod
    def get_shares(cls, rows, names):
        result = {n: {} for n in names}
        for row in rows:
            if 'compliance' in names:
                result['compliance'][row.id] = (
                    row.met / row.answered if row.answered else None)
            if 'repeat_rate' in names:
                result['repeat_rate'][row.id] = (
                    row.repeats / row.requests if row.requests else None)
        return result

    @classmethod
    def get_complaints_per_1000(cls, rows, name):
        counts = subscription_counts({r.area.id for r in rows})
        return {r.id: (r.complaints * 1000 / counts[r.area.id]
                if counts.get(r.area.id) else None) for r in rows}

    @classmethod
    def get_response(cls, rows, names):
        times = response_times(
            {r.month for r in rows}, {r.area.id for r in rows},
            {r.type.id for r in rows})
        result = {n: {} for n in names}
        for row in rows:
            average, p90 = response_figures(
                times.get((row.month, row.area.id, row.type.id), []))
            if 'average_response' in names:
                result['average_response'][row.id] = average
            if 'p90_response' in names:
                result['p90_response'][row.id] = p90
        return result


def subscription_counts(area_ids):
    "The subscriptions of the areas that are not closed, by area"
    pool = Pool()
    Subscription = pool.get('water.subscription')
    subscription = Subscription.__table__()
    cursor = Transaction().connection.cursor()
    counts = {}
    for sub_ids in grouped_slice(list(area_ids), backend.MAX_QUERY_PARAMS):
        cursor.execute(*subscription.select(
                subscription.area, Count(subscription.id),
                where=fields.SQL_OPERATORS['in'](
                    subscription.area, list(sub_ids))
                & (subscription.state != 'closed'),
                group_by=[subscription.area]))
        counts.update(cursor)
    return counts


def response_times(months, area_ids, type_ids):
    """The response times of the answered requests of the months, areas and
    types, by (month, area, type)"""
    pool = Pool()
    Request = pool.get('water.request')
    request = Request.__table__()
    cursor = Transaction().connection.cursor()
    months = [m for m in months if m]
    times = defaultdict(list)
    if not months:
        return times
    where = ((request.month >= min(months)) & (request.month <= max(months))
        & (request.resolved_at != Null))
    if area_ids is not None:
        where &= fields.SQL_OPERATORS['in'](request.area, list(area_ids))
    if type_ids is not None:
        where &= fields.SQL_OPERATORS['in'](request.type, list(type_ids))
    cursor.execute(*request.select(
            request.month, request.area, request.type,
            request.response_time, where=where))
    for month, area, type_, time in cursor:
        if isinstance(month, str):  # SQLite
            month = dt.date.fromisoformat(month)
        times[month, area, type_].append(_timedelta(time))
    return times


class CharterStart(ModelView):
    "Print Monthly Charter Report"
    __name__ = 'water.request.charter.start'
    __string__ = "Print Monthly Charter Report"

    month = fields.Date("Month", required=True,
        help="Any day of the month to report.")


class Charter(Wizard):
    "Print Monthly Charter Report"
    __name__ = 'water.request.charter'
    start = StateView('water.request.charter.start',
        'water_utility.request_charter_start_view_form', [
            Button("Cancel", 'end', 'tryton-cancel'),
            Button("Print", 'print_', 'tryton-print', default=True),
            ])
    print_ = StateReport('water.request.charter.report')

    def default_start(self, fields):
        today = Pool().get('ir.date').today()
        return {'month': (today.replace(day=1) - dt.timedelta(days=1)
                ).replace(day=1)}

    def do_print_(self, action):
        return action, {
            'month': self.start.month.replace(day=1).isoformat(),
            'company': Transaction().context.get('company'),
            }


class CharterReport(SubscriberReport):
    "Monthly Charter Report"
    __name__ = 'water.request.charter.report'

    @classmethod
    def get_context(cls, records, header, data):
        pool = Pool()
        Statistic = pool.get('water.request.statistic')
        Company = pool.get('company.company')
        context = super().get_context(records, header, data)
        month = dt.date.fromisoformat(data['month'])
        company = Company(data['company'])
        rows = Statistic.search([
                ('month', '=', month),
                ('company', '=', company.id),
                ])
        context['month'] = month
        context['company'] = company
        context['sections'] = cls.sections(rows, month)
        context['extra'] = cls.extra_sections(company, month)
        context['duration'] = lambda value: cls.format_timedelta(
            dt.timedelta(minutes=round(value.total_seconds() / 60)),
            lang=context['lang']) if value is not None else '—'
        context['percent'] = lambda value: cls.format_number(
            value * 100, context['lang'], digits=1) + ' %' if (
            value is not None) else '—'
        context['number'] = lambda value: cls.format_number(
            value, context['lang'], digits=1) if value is not None else '—'
        return context

    @classmethod
    def sections(cls, rows, month):
        """The figures by kind of request, then by area: each a dict of
        label, requests, answered, met, breached, compliance, average and
        p90 response, repeats and complaints per 1,000 subscriptions"""
        times = response_times([month], None, None)
        counts = subscription_counts({r.area.id for r in rows})

        def figures(label, group):
            group = list(group)
            answered = sum(r.answered for r in group)
            met = sum(r.met for r in group)
            requests = sum(r.requests for r in group)
            repeats = sum(r.repeats for r in group)
            complaints = sum(r.complaints for r in group)
            average, p90 = response_figures([t for r in group
                    for t in times.get((month, r.area.id, r.type.id), [])])
            areas = {r.area.id for r in group}
            subscriptions = sum(counts.get(a, 0) for a in areas)
            return {
                'label': label,
                'requests': requests,
                'answered': answered,
                'met': met,
                'breached': sum(r.breached for r in group),
                'compliance': met / answered if answered else None,
                'average': average,
                'p90': p90,
                'repeats': repeats,
                'repeat_rate': repeats / requests if requests else None,
                'per_1000': (complaints * 1000 / subscriptions
                    if subscriptions else None),
                }
        by_kind, by_area, by_type = (defaultdict(list) for _ in range(3))
        for row in rows:
            by_kind[row.kind].append(row)
            by_area[row.area].append(row)
            by_type[row.type].append(row)
        # the labels in the report's language
        kinds = dict(Pool().get('water.request.statistic').fields_get(
                ['kind'])['kind']['selection'])
        return {
            'total': figures(None, rows),
            'kinds': [figures(kinds[k], by_kind[k])
                for k, _ in KINDS if k in by_kind],
            'areas': [figures(a.rec_name, g) for a, g in sorted(
                    by_area.items(), key=lambda i: i[0].code)],
            'types': [figures(t.rec_name, g) for t, g in sorted(
                    by_type.items(), key=lambda i: (i[0].kind, i[0].code))],
            }

    @classmethod
    def extra_sections(cls, company, month):
        """Other measures of the month (queue, surveys, connections): a
        list of (title, [(label, value)]); the other concepts add theirs"""
        return []

    @classmethod
    def section(cls, Model, figures):
        """A section of the report titled by Model's name, its figures
        labelled by the strings of Model's fields, in the report's language

        figures: (field name, value) with value a count, a float, a
        timedelta or ('share', fraction)."""
        pool = Pool()
        Lang = pool.get('ir.lang')
        lang = Lang.get()
        strings = Model.fields_get([n for n, _ in figures])
        rows = []
        for name, value in figures:
            if isinstance(value, tuple) and value[0] == 'share':
                value = (lang.format('%.1f', value[1] * 100) + ' %'
                    if value[1] is not None else '—')
            elif isinstance(value, dt.timedelta):
                value = cls.format_timedelta(dt.timedelta(
                        minutes=round(value.total_seconds() / 60)),
                    lang=lang)
            elif isinstance(value, float):
                value = lang.format('%.2f', value)
            elif value is None:
                value = '—'
            else:
                value = lang.format('%d', value, grouping=True)
            rows.append((strings[name]['string'], value))
        return (Model.__names__()['model'], rows)
