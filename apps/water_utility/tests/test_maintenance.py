# This file is part of the water_utility module.  See README.rst.
"Periodic meter maintenance, the inspector's route and removed meters"
import datetime as dt
import unittest
from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from trytond.modules.company.tests import set_company
from trytond.pool import Pool

from ..maintenance import (
    add_years, due_date, last_test, route_days, select_due, spread)
from ..meter import MeterSwap
from .database import UtilityTestCase, utility, with_transaction
from . import test_module as base

TODAY = dt.date.today()
dates = st.dates(min_value=dt.date(1990, 1, 1), max_value=dt.date(2060, 1, 1))
years = st.integers(1, 25)


class DueTestCase(unittest.TestCase):
    "When a meter falls due, without database"

    @given(st.one_of(st.none(), dates), st.one_of(st.none(), dates),
        st.one_of(st.none(), st.integers(1980, 2050)))
    def test_last_test_priority(self, tested, installed, year):
        "The last test wins over the installation, over the year made"
        start = last_test(tested, installed, year)
        if tested:
            self.assertEqual(start, tested)
        elif installed:
            self.assertEqual(start, installed)
        elif year:
            self.assertEqual(start, dt.date(year, 1, 1))
        else:
            self.assertIsNone(start)

    @given(st.one_of(st.none(), dates), dates, st.integers(1980, 2050), years)
    def test_due_years_after(self, tested, installed, year, n):
        "Due n years after the last test, the same day of the year"
        due = due_date(tested, installed, year, n)
        start = tested or installed
        self.assertEqual(due.year, start.year + n)
        self.assertEqual(due.month, start.month)
        self.assertLessEqual(start.day - due.day, 1)
        self.assertGreater(due, start)

    def test_due_leap_day(self):
        self.assertEqual(
            add_years(dt.date(2024, 2, 29), 5), dt.date(2029, 2, 28))
        self.assertEqual(
            due_date(None, None, 2010, 8), dt.date(2018, 1, 1))
        self.assertIsNone(due_date(None, None, None, 8))

    @given(st.lists(st.tuples(st.integers(), st.one_of(st.none(), dates)),
            unique_by=lambda c: c[0]),
        dates, st.integers(0, 20))
    def test_select_due(self, candidates, limit, capacity):
        "Only meters due, the oldest first, as many as the team can do"
        chosen = select_due(candidates, limit, capacity)
        due = dict(candidates)
        eligible = [k for k, d in candidates if d is None or d <= limit]
        self.assertEqual(len(chosen), min(capacity, len(eligible)))
        self.assertEqual(len(set(chosen)), len(chosen))
        self.assertTrue(set(chosen) <= set(eligible))

        def key(k):
            return (due[k] or dt.date.min, k)
        self.assertEqual(chosen, sorted(chosen, key=key))
        left = set(eligible) - set(chosen)
        if chosen and left:
            self.assertLessEqual(
                max(map(key, chosen)), min(map(key, left)))

    def test_select_due_unbounded(self):
        self.assertEqual(select_due(
                [(3, dt.date(2020, 1, 1)), (1, None), (2, dt.date(2030, 1, 1))],
                dt.date(2025, 1, 1), None), [1, 3])

    @given(st.integers(0, 60), dates, st.integers(1, 10),
        st.sets(st.integers(0, 6), max_size=7),
        st.sets(dates, max_size=10))
    def test_spread(self, count, start, per_day, weekdays, holidays):
        "Working days only, no more than a day's orders a day, in order"
        planned = spread(count, start, per_day, weekdays, holidays)
        self.assertEqual(len(planned), count)
        self.assertEqual(planned, sorted(planned))
        for day in set(planned):
            self.assertGreaterEqual(day, start)
            self.assertLessEqual(planned.count(day), per_day)
            self.assertNotIn(day, holidays)
            if weekdays:
                self.assertIn(day.weekday(), weekdays)
        # the days are filled before the next one is started
        days = sorted(set(planned))
        for day in days[:-1]:
            self.assertEqual(planned.count(day), per_day)


class MaintenanceTestCase(UtilityTestCase):
    "Work orders from the plan, the meters' tests and removed meters"

    def setup_area(self, n=4):
        "n active subscriptions whose meters were fitted 1, 2, … years ago"
        pool = Pool()
        Subscription = pool.get('water.subscription')
        Cycle = pool.get('water.maintenance.cycle')
        Plan = pool.get('water.maintenance.plan')
        u = utility()
        company, area, route, domestic = (
            u.company, u.area, u.route, u.domestic)
        self.company, self.area = company, area
        with set_company(company):
            subscriptions = []
            for i in range(n):
                subscription = base.create_subscription(
                    area, route, domestic, route_position=i,
                    party=base.create_subscriber(f"مشترك {i}"))
                base.install(subscription, base.create_meter(
                        f'GZ-{i}', diameter='15'),
                    date=add_years(TODAY, -(10 + i)))
                subscriptions.append(subscription)
            Subscription.activate(subscriptions)
            Cycle.create([{'diameter': '15', 'years': 8}])
            plan, = Plan.create([{
                        'area': area.id, 'capacity': 2, 'daily_orders': 1,
                        'lead_days': 0,
                        }])
        return subscriptions, plan

    @with_transaction()
    def test_generate_caps_oldest_first(self):
        "A run opens as many work orders as the team can do, oldest first"
        pool = Pool()
        Plan = pool.get('water.maintenance.plan')
        subscriptions, plan = self.setup_area()
        with set_company(self.company):
            orders = Plan.generate([plan])
        self.assertEqual(len(orders), 2)
        self.assertEqual(
            {o.subscription for o in orders}, set(subscriptions[-2:]))
        for order in orders:
            self.assertEqual(order.type, 'maintenance')
            self.assertEqual(order.origin, plan)
            self.assertEqual(order.meter, order.subscription.meter)
            self.assertEqual(order.state, 'draft')
            self.assertGreater(order.planned_date, TODAY)
        # one a day: two different days
        self.assertEqual(len({o.planned_date for o in orders}), 2)

    @with_transaction()
    def test_generate_skips_open_orders_and_runs_again(self):
        "A second run does not open a second order for a meter"
        pool = Pool()
        Plan = pool.get('water.maintenance.plan')
        Inspection = pool.get('water.inspection')
        subscriptions, plan = self.setup_area()
        with set_company(self.company):
            # the oldest meter already has a work order open
            Inspection.create([{
                        'type': 'meter',
                        'subscription': subscriptions[-1].id,
                        }])
            first = Plan.generate([plan])
            second = Plan.generate([plan])
            third = Plan.generate([plan])
        self.assertEqual(
            {o.subscription for o in first}, set(subscriptions[1:3]))
        self.assertEqual(
            {o.subscription for o in second}, {subscriptions[0]})
        self.assertEqual(third, [])

    @with_transaction()
    def test_generate_due_only(self):
        "A meter tested recently or on a longer cycle is not due"
        pool = Pool()
        Plan = pool.get('water.maintenance.plan')
        Meter = pool.get('water.meter')
        Cycle = pool.get('water.maintenance.cycle')
        subscriptions, plan = self.setup_area(3)
        with set_company(self.company):
            meters = [s.meter for s in subscriptions]
            Meter.write([meters[2]], {
                    'last_test_date': TODAY - dt.timedelta(days=30)})
            Meter.write([meters[1]], {'diameter': '50'})
            Cycle.create([{'diameter': None, 'years': 20}])
            plan.capacity = 10
            plan.inspectors = [1]
            plan.save()
            orders = Plan.generate([plan])
        self.assertEqual([o.meter for o in orders], [meters[0]])
        self.assertEqual(orders[0].state, 'scheduled')

    @with_transaction()
    def test_done_order_records_the_test(self):
        "A work order done with an accuracy becomes the meter's last test"
        pool = Pool()
        Plan = pool.get('water.maintenance.plan')
        Inspection = pool.get('water.inspection')
        subscriptions, plan = self.setup_area(2)
        with set_company(self.company):
            plan.inspectors = [1]
            plan.save()
            orders = Plan.generate([plan])
            Inspection.start(orders)
            first, second = orders
            first.accuracy = Decimal('98.5')
            first.save()
            Inspection.do(orders)
        self.assertEqual(first.meter.last_test_date, TODAY)
        self.assertEqual(first.meter.last_accuracy, Decimal('98.5'))
        self.assertIsNone(second.meter.last_test_date)
        with set_company(self.company):
            # tested today: not due again
            self.assertEqual(
                [o.meter for o in Plan.generate([plan])], [second.meter])

    @with_transaction()
    def test_removed_meter_list(self):
        "A removed meter shows until a meter is back; follow-ups count"
        pool = Pool()
        Installation = pool.get('water.meter.installation')
        Removed = pool.get('water.meter.removed')
        FollowUp = pool.get('water.meter.removed.follow_up', type='wizard')
        FollowUpStart = pool.get('water.meter.removed.follow_up.start')
        Inspection = pool.get('water.inspection')
        subscriptions, _ = self.setup_area(2)
        removed_on = TODAY - dt.timedelta(days=12)
        with set_company(self.company):
            self.assertEqual(Removed.search([]), [])
            meter = subscriptions[0].meter
            Installation.swap([MeterSwap(
                        subscription=subscriptions[0], date=removed_on,
                        final_reading=Decimal(120),
                        removal_reason='stolen')])
            row, = Removed.search([])
            self.assertEqual(row.subscription, subscriptions[0])
            self.assertEqual(row.meter, meter)
            self.assertEqual(row.removal_date, removed_on)
            self.assertEqual(row.removal_reason, 'stolen')
            self.assertEqual(row.days, 12)
            self.assertEqual(row.visits, 0)

            start = FollowUpStart(
                planned_date=TODAY, inspectors=[1], description=None)
            order, = FollowUp.open_orders([row], start)
            self.assertEqual(order.type, 'removed_meter')
            self.assertEqual(order.state, 'scheduled')
            self.assertIn(meter.serial, order.description)
            # a second time opens nothing: one is open
            self.assertEqual(FollowUp.open_orders([row], start), [])
            Inspection.start([order])
            Inspection.do([order])
            row, = Removed.search([])
            self.assertEqual(row.visits, 1)
            self.assertEqual(row.last_visit_date, TODAY)

            Installation.swap([MeterSwap(
                        subscription=subscriptions[0], date=TODAY,
                        new_meter=base.create_meter('GZ-NEW'))])
            self.assertEqual(Removed.search([]), [])

    @with_transaction()
    def test_route_days(self):
        "The route lists a team's orders of a day in the readers' order"
        pool = Pool()
        Inspection = pool.get('water.inspection')
        subscriptions, _ = self.setup_area(3)
        with set_company(self.company):
            orders = Inspection.create([{
                        'type': 'meter',
                        'subscription': s.id,
                        'planned_date': TODAY,
                        'inspectors': [('add', [1])],
                        } for s in reversed(subscriptions)] + [{
                        'type': 'illegal_cut',
                        'area': self.area.id,
                        'planned_date': TODAY,
                        'inspectors': [('add', [1])],
                        }, {
                        'type': 'meter',
                        'subscription': subscriptions[0].id,
                        'planned_date': TODAY + dt.timedelta(days=1),
                        'inspectors': [('add', [1])],
                        }])
            days = route_days(orders)
        self.assertEqual([(d, len(o)) for d, _, o in days],
            [(TODAY, 4), (TODAY + dt.timedelta(days=1), 1)])
        self.assertEqual([o.subscription for o in days[0][2]],
            subscriptions + [None])
