# This file is part of the water_utility module.  See README.rst.
from zoneinfo import ZoneInfo

from sql.aggregate import Count
from sql.operators import Equal

from trytond import backend
from trytond.i18n import gettext
from trytond.model import (
    DeactivableMixin, Exclude, ModelSQL, ModelView, Unique, fields)
from trytond.pool import Pool
from trytond.pyson import Eval
from trytond.modules.company.company import TIMEZONES
from trytond.tools import grouped_slice
from trytond.transaction import Transaction

from . import sla
from .exceptions import WorkingHourError

WEEKDAYS = [
    ('5', "Saturday"),
    ('6', "Sunday"),
    ('0', "Monday"),
    ('1', "Tuesday"),
    ('2', "Wednesday"),
    ('3', "Thursday"),
    ('4', "Friday"),
    ]


class Area(DeactivableMixin, ModelSQL, ModelView):
    "Service Area"
    __name__ = 'water.area'
    __string__ = "Service Area"

    company = fields.Many2One('company.company', "Company", required=True)
    code = fields.Char("Code", required=True)
    name = fields.Char("Name", required=True, translate=True)
    centre_name = fields.Char(
        "Service Centre", translate=True,
        help="The service centre where subscribers of the area are served.")
    centre_address = fields.Text("Centre Address")
    centre_phone = fields.Char("Centre Phone")
    timezone = fields.Selection(
        TIMEZONES, "Timezone", translate=False,
        help="Used to count response times in the centre's working hours.")
    working_hours = fields.One2Many(
        'water.area.working_hour', 'area', "Working Hours")
    holidays = fields.One2Many('water.area.holiday', 'area', "Holidays")
    routes = fields.One2Many('water.route', 'area', "Reading Routes")
    tariff = fields.Many2One(
        'water.tariff', "Tariff", ondelete='RESTRICT',
        domain=[('company', '=', Eval('company', -1))],
        help="The tariff of the area's subscriptions; empty for the "
        "default tariff of the configuration.")

    @classmethod
    def __setup__(cls):
        cls.code.search_unaccented = False
        super().__setup__()
        t = cls.__table__()
        cls._sql_constraints = [
            ('code_unique', Unique(t, t.company, t.code),
                'water_utility.msg_area_code_unique'),
            ]
        cls._order.insert(0, ('code', 'ASC'))

    @classmethod
    def default_company(cls):
        return Transaction().context.get('company')

    @classmethod
    def default_timezone(cls):
        pool = Pool()
        Company = pool.get('company.company')
        company = cls.default_company()
        if company is not None and company >= 0:
            return Company(company).timezone

    def get_rec_name(self, name):
        return f'{self.code} - {self.name}'

    @classmethod
    def search_rec_name(cls, name, clause):
        _, operator, value = clause
        bool_op = 'AND' if operator.startswith(('!', 'not ')) else 'OR'
        return [bool_op,
            ('code', operator, value),
            ('name', operator, value),
            ]

    @property
    def clock(self):
        """The centre's hours, holidays and time zone as keyword arguments
        of the charter's clock (sla.add and sla.elapsed)"""
        hours = {}
        for hour in self.working_hours:
            hours.setdefault(int(hour.weekday), []).append(
                (hour.start_time, hour.end_time))
        timezone = self.timezone or (
            self.company.timezone if self.company else None)
        return {
            'hours': hours,
            'holidays': {h.date for h in self.holidays},
            'tz': ZoneInfo(timezone) if timezone else None,
            }

    def deadline(self, start, duration, clock=sla.CALENDAR):
        """The instant duration after start on the clock of the centre

        A centre without working hours counts calendar time."""
        if clock == sla.WORKING:
            try:
                return sla.add(start, duration, clock, **self.clock)
            except sla.NoWorkingHours:
                pass
        return sla.add(start, duration)

    def elapsed(self, start, end, clock=sla.CALENDAR):
        "The time counted on the centre's clock between start and end"
        centre = self.clock
        if clock == sla.WORKING and any(centre['hours'].values()):
            return sla.elapsed(start, end, clock, **centre)
        return sla.elapsed(start, end)


class WorkingHour(ModelSQL, ModelView):
    "Service Centre Working Hours"
    __name__ = 'water.area.working_hour'
    __string__ = "Working Hours"
    __access__ = {'area'}

    area = fields.Many2One(
        'water.area', "Area", required=True, ondelete='CASCADE')
    weekday = fields.Selection(WEEKDAYS, "Day", required=True, sort=False)
    start_time = fields.Time("From", required=True)
    end_time = fields.Time("To", required=True)

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls._order[0:0] = [('weekday', 'ASC'), ('start_time', 'ASC')]

    @classmethod
    def validate_fields(cls, hours, field_names):
        super().validate_fields(hours, field_names)
        if field_names and not (
                field_names & {'area', 'weekday', 'start_time', 'end_time'}):
            return
        for hour in hours:
            if hour.end_time <= hour.start_time:
                raise WorkingHourError(gettext(
                        'water_utility.msg_working_hour_order',
                        area=hour.area.rec_name))
        # Overlapping spans of one day would count a minute twice on the
        # response-time clock.
        areas = {h.area for h in hours}
        for area in areas:
            by_day = {}
            for hour in area.working_hours:
                by_day.setdefault(hour.weekday, []).append(hour)
            for spans in by_day.values():
                spans.sort(key=lambda h: h.start_time)
                for before, after in zip(spans, spans[1:]):
                    if after.start_time < before.end_time:
                        raise WorkingHourError(gettext(
                                'water_utility.msg_working_hour_overlap',
                                area=area.rec_name))


class Holiday(ModelSQL, ModelView):
    "Service Centre Holiday"
    __name__ = 'water.area.holiday'
    __string__ = "Holiday"
    __access__ = {'area'}

    area = fields.Many2One(
        'water.area', "Area", required=True, ondelete='CASCADE')
    date = fields.Date("Date", required=True)
    name = fields.Char("Name", translate=True)

    @classmethod
    def __setup__(cls):
        super().__setup__()
        t = cls.__table__()
        cls._sql_constraints = [
            ('date_unique', Exclude(t, (t.area, Equal), (t.date, Equal)),
                'water_utility.msg_holiday_unique'),
            ]
        cls._order.insert(0, ('date', 'ASC'))


class Route(DeactivableMixin, ModelSQL, ModelView):
    "Reading Route"
    __name__ = 'water.route'
    __string__ = "Reading Route"

    company = fields.Function(
        fields.Many2One('company.company', "Company"),
        'on_change_with_company', searcher='search_company')
    area = fields.Many2One(
        'water.area', "Area", required=True, ondelete='RESTRICT')
    code = fields.Char("Code", required=True)
    name = fields.Char("Name", required=True, translate=True)
    reader = fields.Many2One(
        'res.user', "Meter Reader",
        help="The reader who walks the route each month.")
    reading_day = fields.Integer(
        "Reading Day", required=True,
        domain=[('reading_day', '>=', 1), ('reading_day', '<=', 28)],
        help="Day of the month the route is read (1 to 28, so that every "
        "month has it).")
    subscriptions = fields.One2Many(
        'water.subscription', 'route', "Subscriptions", readonly=True,
        order=[
            ('route_position', 'ASC NULLS LAST'), ('number', 'ASC'),
            ('id', 'ASC')])
    subscription_count = fields.Function(
        fields.Integer("Subscriptions"), 'get_subscription_count')

    @classmethod
    def __setup__(cls):
        cls.code.search_unaccented = False
        super().__setup__()
        t = cls.__table__()
        cls._sql_constraints = [
            ('code_unique', Unique(t, t.area, t.code),
                'water_utility.msg_route_code_unique'),
            ]
        cls._order[0:0] = [('area', 'ASC'), ('code', 'ASC')]

    @classmethod
    def default_reading_day(cls):
        return 1

    @fields.depends('area', '_parent_area.company')
    def on_change_with_company(self, name=None):
        return self.area.company if self.area else None

    @classmethod
    def search_company(cls, name, clause):
        return [('area.' + clause[0],) + tuple(clause[1:])]

    @classmethod
    def get_subscription_count(cls, routes, name):
        pool = Pool()
        Subscription = pool.get('water.subscription')
        subscription = Subscription.__table__()
        cursor = Transaction().connection.cursor()
        counts = {r.id: 0 for r in routes}
        for sub_ids in grouped_slice(
                [r.id for r in routes], backend.MAX_QUERY_PARAMS):
            cursor.execute(*subscription.select(
                    subscription.route, Count(subscription.id),
                    where=fields.SQL_OPERATORS['in'](
                        subscription.route, list(sub_ids))
                    & (subscription.state != 'closed'),
                    group_by=subscription.route))
            counts.update(cursor)
        return counts

    def get_rec_name(self, name):
        return f'{self.code} - {self.name}'

    @classmethod
    def search_rec_name(cls, name, clause):
        _, operator, value = clause
        bool_op = 'AND' if operator.startswith(('!', 'not ')) else 'OR'
        return [bool_op,
            ('code', operator, value),
            ('name', operator, value),
            ]
