# This file is part of the water_utility module.  See README.rst.
import datetime as dt
import functools
import threading
import unittest
import re
from decimal import Decimal
from pathlib import Path

import polib
from lxml import etree

from trytond import backend
from trytond.exceptions import UserError
from trytond.i18n import gettext
from trytond.model.exceptions import (
    AccessError, SQLConstraintError)
from trytond.modules.company.tests import (
    CompanyTestMixin, create_company, set_company)
from trytond.modules.water_utility.meter import MeterSwap
from trytond.pool import Pool
from trytond.tests.test_tryton import (
    DB_NAME, ModuleTestCase)
from trytond.transaction import Transaction, TransactionError

from .database import with_transaction

TODAY = dt.date.today()
MODULE = Path(__file__).resolve().parent.parent


def model_data(xml_id):
    return Pool().get('ir.model.data').get_id('water_utility', xml_id)


def create_utility():
    "Return an area with a route, and a domestic category, of a new company"
    pool = Pool()
    Area = pool.get('water.area')
    Route = pool.get('water.route')
    Category = pool.get('water.subscription.category')
    company = create_company()
    area, other_area = Area.create([{
                'company': company.id,
                'code': 'GZ',
                'name': "غزة",
                'working_hours': [('create', [{
                                'weekday': '5',
                                'start_time': dt.time(8),
                                'end_time': dt.time(14),
                                }])],
                }, {
                'company': company.id,
                'code': 'RF',
                'name': "رفح",
                }])
    route, other_route = Route.create([{
                'area': area.id, 'code': 'GZ-01', 'name': "الرمال",
                'reading_day': 5,
                }, {
                'area': other_area.id, 'code': 'RF-01', 'name': "تل السلطان",
                'reading_day': 9,
                }])
    domestic = Category(model_data('category_domestic'))
    return company, area, route, other_route, domestic


def create_subscriber(name="أحمد محمود العطار", phone='+970599123456',
        national_id=None):
    pool = Pool()
    Party = pool.get('party.party')
    values = {
        'name': name,
        'addresses': [('create', [{'street': "شارع عمر المختار"}])],
        'contact_mechanisms': [('create', [{
                        'type': 'mobile', 'value': phone}])],
        }
    if national_id:
        values['identifiers'] = [('create', [{
                        'type': 'ps_idnr', 'code': national_id}])]
    party, = Party.create([values])
    return party


def create_subscription(area, route, category, party=None, **values):
    pool = Pool()
    Subscription = pool.get('water.subscription')
    party = party or create_subscriber()
    subscription, = Subscription.create([{
                'party': party.id,
                'address': party.addresses[0].id,
                'area': area.id,
                'route': route.id if route else None,
                'category': category.id,
                **values,
                }])
    return subscription


def create_meter(serial='M-0001', digits=5, **values):
    pool = Pool()
    Meter = pool.get('water.meter')
    meter, = Meter.create([{'serial': serial, 'digits': digits, **values}])
    return meter


def install(subscription, meter, date=TODAY, reading=0):
    pool = Pool()
    Installation = pool.get('water.meter.installation')
    installation, = Installation.create([{
                'subscription': subscription.id,
                'meter': meter.id,
                'start_date': date,
                'initial_reading': Decimal(reading),
                }])
    return installation


class WaterUtilityTestCase(CompanyTestMixin, ModuleTestCase):
    "Test Water Utility module"
    module = 'water_utility'

    def test_rolled_back_test_leaves_nothing_after_cache_sync(self):
        "A test's records are rolled back even when the cache syncs at its start"
        from trytond.cache import Cache

        @with_transaction()
        def create():
            Pool().get('res.user').create([{'name': "Leak", 'login': 'leak'}])

        @with_transaction()
        def count():
            return Pool().get('res.user').search_count(
                [('login', '=', 'leak')])

        # as if clean_timeout had passed since the last sync
        self.addCleanup(setattr, Cache, '_clean_last', Cache._clean_last)
        Cache._clean_last = dt.datetime(2000, 1, 1)
        create()
        self.assertEqual(count(), 0)

    @with_transaction()
    def test_subscription_number_from_sequence(self):
        "A new subscription gets the next number of the sequence"
        company, area, route, _, domestic = create_utility()
        with set_company(company):
            first = create_subscription(area, route, domestic)
            second = create_subscription(area, route, domestic)
        self.assertRegex(first.number, r'^\d{7}$')
        self.assertEqual(int(second.number), int(first.number) + 1)
        self.assertEqual(first.state, 'application')

    @with_transaction()
    def test_route_of_another_area_refused(self):
        "A subscription in an area that does not own its route is refused"
        pool = Pool()
        Subscription = pool.get('water.subscription')
        company, area, route, other_route, domestic = create_utility()
        with set_company(company):
            with self.assertRaisesRegex(
                    UserError, r'does not belong to its service area'):
                create_subscription(area, other_route, domestic)

            subscription = create_subscription(area, route, domestic)
            with self.assertRaises(UserError):
                Subscription.write([subscription], {'route': other_route.id})

    @with_transaction()
    def test_unknown_category_refused(self):
        "A category that is not in use is refused with a clear message"
        pool = Pool()
        Category = pool.get('water.subscription.category')
        company, area, route, _, domestic = create_utility()
        obsolete, = Category.create([{
                    'code': 'old', 'name': "Old", 'active': False}])
        with set_company(company):
            with self.assertRaisesRegex(UserError, r'is not in use'):
                create_subscription(area, route, obsolete)
            with self.assertRaises(UserError):
                # a category id that does not exist at all
                create_subscription(area, route, Category(999999))

    @with_transaction()
    def test_duplicate_meter_serial_refused(self):
        "Two meters cannot share a serial number"
        company, *_ = create_utility()
        with set_company(company):
            create_meter('GZ-100')
            with self.assertRaises(SQLConstraintError) as cm:
                create_meter('GZ-100')
        self.assertIn('serial', cm.exception.message)

    @with_transaction()
    def test_install_installed_meter_refused(self):
        "A meter installed on one subscription cannot go on another"
        pool = Pool()
        Installation = pool.get('water.meter.installation')
        company, area, route, _, domestic = create_utility()
        with set_company(company):
            first = create_subscription(area, route, domestic)
            second = create_subscription(
                area, route, domestic,
                party=create_subscriber("فاطمة سالم"))
            meter = create_meter()
            install(first, meter)
            self.assertEqual(meter.state, 'installed')
            self.assertEqual(meter.subscription, first)
            with self.assertRaisesRegex(
                    UserError, r'already installed on subscription'):
                install(second, meter)
            self.assertEqual(
                Installation.search([('meter', '=', meter.id)], count=True),
                1)

    @with_transaction()
    def test_subscription_has_one_meter_at_a_time(self):
        "A second meter on a subscription over the same days is refused"
        company, area, route, _, domestic = create_utility()
        with set_company(company):
            subscription = create_subscription(area, route, domestic)
            install(subscription, create_meter('A'))
            with self.assertRaisesRegex(UserError, r'swap it instead'):
                install(subscription, create_meter('B'))

    @with_transaction()
    def test_history_overlap_refused(self):
        "Installations entered after the fact cannot overlap either"
        pool = Pool()
        Installation = pool.get('water.meter.installation')
        company, area, route, _, domestic = create_utility()
        with set_company(company):
            subscription = create_subscription(area, route, domestic)
            meter = create_meter()
            Installation.create([{
                        'subscription': subscription.id, 'meter': meter.id,
                        'start_date': dt.date(2020, 1, 1),
                        'initial_reading': 0,
                        'end_date': dt.date(2022, 1, 1),
                        'final_reading': 500, 'removal_reason': 'faulty',
                        }])
            # the day the old meter left, the next one may arrive
            install(subscription, create_meter('C'), date=dt.date(2022, 1, 1))
            with self.assertRaises(UserError):
                Installation.create([{
                            'subscription': subscription.id,
                            'meter': create_meter('B').id,
                            'start_date': dt.date(2021, 6, 1),
                            'initial_reading': 0,
                            'end_date': dt.date(2021, 8, 1),
                            'final_reading': 10, 'removal_reason': 'faulty',
                            }])

    @with_transaction()
    def test_installation_campaign(self):
        "Hundreds of meters are installed and swapped in one operation"
        pool = Pool()
        Installation = pool.get('water.meter.installation')
        Meter = pool.get('water.meter')
        Subscription = pool.get('water.subscription')
        Route = pool.get('water.route')
        company, area, route, _, domestic = create_utility()
        party = create_subscriber()
        with set_company(company):
            subscriptions = Subscription.create([{
                        'party': party.id,
                        'address': party.addresses[0].id,
                        'area': area.id, 'route': route.id,
                        'route_position': i,
                        'category': domestic.id,
                        } for i in range(300)])
            old = Meter.create([{'serial': f'O{i}'} for i in range(300)])
            new = Meter.create([{'serial': f'N{i}'} for i in range(300)])
            Installation.create([{
                        'subscription': s.id, 'meter': m.id,
                        'start_date': dt.date(2020, 1, 1),
                        'initial_reading': 0,
                        } for s, m in zip(subscriptions, old)])
            Subscription.activate(subscriptions)
            self.assertEqual(Route(route.id).subscription_count, 300)

            Installation.swap([MeterSwap(
                        subscription=s, date=TODAY, new_meter=m,
                        final_reading=Decimal(900), removal_reason='swap')
                    for s, m in zip(subscriptions, new)])
            self.assertEqual(
                {m.state for m in Meter.browse(old)}, {'removed'})
            self.assertEqual(
                [s.meter for s in Subscription.browse(subscriptions)], new)

    @unittest.skipIf(backend.name == 'sqlite', "SQLite serialises writers")
    def test_concurrent_installations(self):
        "Two clerks installing one meter at the same moment: one wins"
        pool = Pool(DB_NAME)
        with Transaction().start(DB_NAME, 1) as transaction:
            company, area, route, _, domestic = create_utility()
            with set_company(company):
                subscriptions = [
                    create_subscription(area, route, domestic,
                        party=create_subscriber(
                            f"Concurrent {i}", phone=f'+97259800000{i}'))
                    for i in range(2)]
                meter = create_meter('CONCURRENT-1')
            ids = [s.id for s in subscriptions], meter.id, company.id
            transaction.commit()
        subscription_ids, meter_id, company_id = ids
        barrier = threading.Barrier(2)
        outcomes = []

        def install_on(subscription_id):
            Installation = pool.get('water.meter.installation')
            barrier.wait(timeout=30)
            extras = {}
            try:
                while True:  # as the RPC dispatcher retries
                    with Transaction().start(DB_NAME, 1,
                            context={'company': company_id},
                            **extras) as transaction:
                        try:
                            Installation.create([{
                                        'subscription': subscription_id,
                                        'meter': meter_id,
                                        'start_date': TODAY,
                                        'initial_reading': 0,
                                        }])
                        except TransactionError as error:
                            transaction.rollback()
                            error.fix(extras)
                            continue
                        transaction.commit()
                    break
                outcomes.append('installed')
            except UserError:
                outcomes.append('refused')
            except Exception as exception:
                outcomes.append(repr(exception))

        threads = [threading.Thread(target=install_on, args=(i,))
            for i in subscription_ids]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
        self.assertEqual(sorted(outcomes), ['installed', 'refused'])
        with Transaction().start(DB_NAME, 1) as transaction:
            Installation = pool.get('water.meter.installation')
            Subscription = pool.get('water.subscription')
            installations = Installation.search([('meter', '=', meter_id)])
            self.assertEqual(len(installations), 1)
            # leave the database as the other tests expect it
            Installation.delete(installations)
            Subscription.delete(Subscription.browse(subscription_ids))
            pool.get('water.meter').delete([pool.get('water.meter')(meter_id)])
            transaction.commit()

    @with_transaction()
    def test_final_reading_below_initial(self):
        "A final reading below the initial one needs a rollover"
        pool = Pool()
        Installation = pool.get('water.meter.installation')
        company, area, route, _, domestic = create_utility()
        with set_company(company):
            subscription = create_subscription(area, route, domestic)
            installation = install(
                subscription, create_meter(digits=5), reading=99950)
            values = {
                'end_date': TODAY, 'final_reading': Decimal(30),
                'removal_reason': 'swap'}
            with self.assertRaisesRegex(UserError, r'is below its initial'):
                Installation.write([installation], values)

            Installation.write([installation], {**values, 'rollover': True})
            self.assertEqual(installation.consumption, Decimal(80))
            self.assertEqual(installation.meter.state, 'removed')

    @with_transaction()
    def test_reading_beyond_dial_refused(self):
        "A reading the register cannot show is refused"
        company, area, route, _, domestic = create_utility()
        with set_company(company):
            subscription = create_subscription(area, route, domestic)
            with self.assertRaisesRegex(UserError, r'has 4 digits'):
                install(subscription, create_meter(digits=4), reading=10000)

    @with_transaction()
    def test_swap(self):
        "A swap closes the old installation and opens the new one"
        pool = Pool()
        Installation = pool.get('water.meter.installation')
        Subscription = pool.get('water.subscription')
        company, area, route, _, domestic = create_utility()
        with set_company(company):
            subscription = create_subscription(area, route, domestic)
            old, new = create_meter('OLD'), create_meter('NEW')
            install(subscription, old, date=dt.date(2024, 1, 1), reading=120)
            Subscription.activate([subscription])
            self.assertEqual(subscription.connection_date, dt.date(2024, 1, 1))

            Installation.swap([MeterSwap(
                        subscription=subscription, date=dt.date(2025, 3, 2),
                        new_meter=new, initial_reading=Decimal(3),
                        final_reading=Decimal(845), removal_reason='faulty')])

            self.assertEqual(subscription.meter, new)
            self.assertEqual((old.state, new.state), ('removed', 'installed'))
            removed, = [i for i in subscription.installations
                if i.meter == old]
            self.assertEqual(removed.end_date, dt.date(2025, 3, 2))
            self.assertEqual(removed.consumption, Decimal(725))

    @with_transaction()
    def test_swap_before_installation_refused(self):
        "A meter cannot be swapped out before it was installed"
        pool = Pool()
        Installation = pool.get('water.meter.installation')
        company, area, route, _, domestic = create_utility()
        with set_company(company):
            subscription = create_subscription(area, route, domestic)
            install(subscription, create_meter('OLD'), date=TODAY)
            with self.assertRaisesRegex(UserError, r'before the day'):
                Installation.swap([MeterSwap(
                            subscription=subscription,
                            date=TODAY - dt.timedelta(days=1),
                            new_meter=create_meter('NEW'),
                            final_reading=Decimal(1),
                            removal_reason='faulty')])

    @with_transaction()
    def test_activate_and_close(self):
        "Activation needs a meter; closing needs the meter removed"
        pool = Pool()
        Subscription = pool.get('water.subscription')
        Installation = pool.get('water.meter.installation')
        company, area, route, _, domestic = create_utility()
        with set_company(company):
            subscription = create_subscription(area, route, domestic)
            with self.assertRaisesRegex(UserError, r'without a meter'):
                Subscription.activate([subscription])
            meter = create_meter()
            install(subscription, meter)
            Subscription.activate([subscription])
            self.assertEqual(subscription.state, 'active')
            with self.assertRaisesRegex(UserError, r'remove it'):
                Subscription.close([subscription])
            with self.assertRaisesRegex(AccessError, r'close it instead'):
                Subscription.delete([subscription])

            Installation.swap([MeterSwap(
                        subscription=subscription, date=TODAY,
                        final_reading=Decimal(0),
                        removal_reason='closing')])
            Subscription.close([subscription])
            self.assertEqual(subscription.state, 'closed')
            self.assertEqual(meter.state, 'removed')
            with self.assertRaisesRegex(UserError, r'closed subscription'):
                install(subscription, create_meter('OTHER'))

    @with_transaction()
    def test_no_disconnected_state(self):
        "Water is never cut for non-payment: no state or button can say so"
        pool = Pool()
        Subscription = pool.get('water.subscription')
        states = {s for s, _ in Subscription.state.selection}
        self.assertEqual(states, {'application', 'active', 'closed'})
        for button in Subscription._buttons:
            self.assertNotRegex(button, r'cut|disconnect|suspend')

    @with_transaction()
    def test_search(self):
        "Staff find a subscription by what the subscriber tells them"
        pool = Pool()
        Subscription = pool.get('water.subscription')
        Party = pool.get('party.party')
        company, area, route, _, domestic = create_utility()
        with set_company(company):
            party = create_subscriber(
                "أحمد محمود العطار", phone='+970599123456',
                national_id='123456782')
            subscription = create_subscription(
                area, route, domestic, party=party)
            other = create_subscription(
                area, route, domestic,
                party=create_subscriber("فاطمة سالم", '+970568765432'))
            install(subscription, create_meter('GZ-2019-000123'))

            def find(text):
                return Subscription.search([
                        ('company', '=', company.id),
                        ('rec_name', 'ilike', f'%{text}%'),
                        ])

            self.assertEqual(find("احمد"), [subscription])  # no hamza
            self.assertEqual(find("فاطمه"), [other])  # ha for ta marbuta
            self.assertEqual(find("0599123456"), [subscription])
            self.assertEqual(find("١٢٣٤٥٦٧٨٢"), [subscription])
            self.assertEqual(find("000123"), [subscription])
            self.assertEqual(find(subscription.number), [subscription])
            self.assertEqual(
                Subscription.search([('meter.serial', '=', 'GZ-2019-000123')]),
                [subscription])
            self.assertEqual(
                Subscription.search([('national_id', '=', '123456782')]),
                [subscription])
            self.assertEqual(
                Party.search([('rec_name', 'ilike', '%ابراهيم%')]), [])
            self.assertEqual(
                Party.search([('rec_name', 'ilike', '%العطار احمد%')]), [])
            self.assertEqual(
                Party.search([('rec_name', 'ilike', '%احمد محمود%')]),
                [party])

    @with_transaction()
    def test_national_id_checked(self):
        "A national ID with a wrong check digit is refused"
        with self.assertRaisesRegex(UserError, r'not a valid identity'):
            create_subscriber(national_id='123456789')

    @with_transaction()
    def test_working_hours(self):
        "Working hours must end after they start and not overlap"
        pool = Pool()
        WorkingHour = pool.get('water.area.working_hour')
        company, area, *_ = create_utility()
        with self.assertRaisesRegex(UserError, r'must end after'):
            WorkingHour.create([{
                        'area': area.id, 'weekday': '6',
                        'start_time': dt.time(14), 'end_time': dt.time(8)}])
        with self.assertRaisesRegex(UserError, r'overlap'):
            WorkingHour.create([{
                        'area': area.id, 'weekday': '5',
                        'start_time': dt.time(13), 'end_time': dt.time(16)}])

    @with_transaction()
    def test_roles(self):
        "Each role may do its own work and nothing more"
        pool = Pool()
        User = pool.get('res.user')
        Subscription = pool.get('water.subscription')
        Meter = pool.get('water.meter')
        Area = pool.get('water.area')
        Move = pool.get('account.move')
        Account = pool.get('account.account')
        company, area, route, _, domestic = create_utility()
        party = create_subscriber()

        @functools.cache
        def user(role):
            user, = User.create([{
                        'login': f'water_{role}', 'name': role,
                        'groups': [
                            ('add', [model_data(f'group_water_{role}')])],
                        'companies': [('add', [company.id])],
                        'company': company.id,
                        }])
            return user.id

        def subscribe():
            Subscription.create([{
                        'party': party.id,
                        'address': party.addresses[0].id,
                        'area': area.id, 'route': route.id,
                        'category': domestic.id}])

        def can(role, action):
            with Transaction().set_user(user(role)), \
                    Transaction().set_context(
                        _check_access=True, company=company.id):
                try:
                    action()
                except AccessError:
                    return False
                return True

        for role in ['admin', 'billing']:
            self.assertTrue(can(role, subscribe), role)
        for role in ['reader', 'complaints', 'inspector', 'cashier',
                'accountant']:
            self.assertFalse(can(role, subscribe), role)
            self.assertTrue(can(role, lambda: Subscription.search([])), role)

        self.assertFalse(can('reader', lambda: Move.search([])))
        self.assertFalse(can('reader', lambda: Account.write(
                    Account.search([], limit=1), {'name': 'X'})))
        self.assertFalse(can('reader', lambda: Meter.create([{
                            'serial': 'R-1', 'digits': 5}])))
        self.assertTrue(can('inspector', lambda: Meter.create([{
                            'serial': 'I-1', 'digits': 5}])))
        self.assertFalse(can('billing', lambda: Area.create([{
                            'code': 'X', 'name': 'X'}])))
        self.assertTrue(can('admin', lambda: Area.create([{
                            'code': 'Y', 'name': 'Y'}])))

    def _reading_setup(self, count=1, start=dt.date(2026, 6, 20),
            initial=100):
        "Subscriptions with a meter each, and the periods of Jul–Nov 2026"
        pool = Pool()
        Subscription = pool.get('water.subscription')
        Period = pool.get('water.reading.period')
        company, area, route, _, domestic = create_utility()
        with set_company(company):
            subscriptions = []
            for i in range(count):
                subscription = create_subscription(
                    area, route, domestic,
                    party=create_subscriber(phone=f'+97059912{i:04d}'))
                install(subscription, create_meter(f'M-{i:04d}'), start,
                    initial)
                subscriptions.append(subscription)
            Subscription.activate(subscriptions)
            for month in range(7, 12):
                Period.schedule(dt.date(2026, month, 1), [route])
        return company, route, subscriptions

    def _read(self, subscription, date, value, **values):
        pool = Pool()
        Reading = pool.get('water.reading')
        Period = pool.get('water.reading.period')
        period, = Period.search([
                ('route', '=', subscription.route.id),
                ('start_date', '=', date.replace(day=1)),
                ])
        reading, = Reading.create([{
                    'period': period.id,
                    'subscription': subscription.id,
                    'date': date,
                    'value': Decimal(value) if value is not None else None,
                    **values,
                    }])
        return reading

    @with_transaction()
    def test_reading_periods_scheduled_by_cron(self):
        "The daily task opens this month's period of every route, once"
        pool = Pool()
        Period = pool.get('water.reading.period')
        Cron = pool.get('ir.cron')
        Date = pool.get('ir.date')
        company, area, route, other_route, _ = create_utility()
        cron, = Cron.search([
                ('method', '=', 'water.reading.period|schedule_cron')])
        with set_company(company):
            for _ in range(2):
                Period.schedule_cron()
            # other companies' routes (committed by other tests) get theirs
            periods = Period.search([
                    ('route', 'in', [route.id, other_route.id])])
            today = Date.today()
            self.assertEqual(
                sorted((p.route.id, p.start_date, p.reading_date)
                    for p in periods),
                sorted((r.id, today.replace(day=1),
                        today.replace(day=r.reading_day))
                    for r in [route, other_route]))

    @with_transaction()
    def test_estimate_settled_through_zero(self):
        "An estimate that passed 99 999 is settled by the next actual one"
        pool = Pool()
        Period = pool.get('water.reading.period')
        Reading = pool.get('water.reading')
        company, route, (subscription,) = self._reading_setup(
            initial=99960)
        with set_company(company):
            # 15 m³ in 15 days: 1 m³ a day
            self._read(subscription, dt.date(2026, 7, 5), 99975)
            august, = Period.search([
                    ('start_date', '=', dt.date(2026, 8, 1))])
            Period.close([august])
            estimate, = Reading.search([('period', '=', august.id)])
            # 31 days estimated: the register passed 99 999
            self.assertEqual(
                (estimate.consumption, estimate.value),
                (Decimal(31), Decimal(6)))
            # the dial really shows 00 002: 27 m³ since July, 4 less than
            # estimated; saved through the client (access checked)
            with Transaction().set_user(1), \
                    Transaction().set_context(_check_access=True):
                actual = self._read(subscription, dt.date(2026, 9, 5), 2)
            self.assertEqual(actual.consumption, Decimal(-4))
            self.assertEqual(actual.exceptions, ())
            self.assertEqual(actual.state, 'valid')
            self.assertEqual(estimate.replaced_by, actual)

    @with_transaction()
    def test_reading_after_a_long_gap(self):
        "A meter not read for a year counts from its last reading"
        company, route, (subscription,) = self._reading_setup(
            start=dt.date(2025, 1, 1))
        with set_company(company):
            pool = Pool()
            Period = pool.get('water.reading.period')
            Period.schedule(dt.date(2025, 2, 1), [route])
            self._read(subscription, dt.date(2025, 2, 5), 500)
            reading = self._read(subscription, dt.date(2026, 11, 5), 520)
            self.assertEqual(
                (reading.consumption, reading.previous_value),
                (Decimal(20), Decimal(500)))

    @with_transaction()
    def test_estimate_across_meter_swap(self):
        "The removed meter's known part is billed with the new one's estimate"
        pool = Pool()
        Period = pool.get('water.reading.period')
        Reading = pool.get('water.reading')
        Installation = pool.get('water.meter.installation')
        company, route, (subscription,) = self._reading_setup()
        with set_company(company):
            self._read(subscription, dt.date(2026, 7, 5), 115)  # 1 m³ a day
            Installation.swap([MeterSwap(
                        subscription=subscription, date=dt.date(2026, 7, 25),
                        new_meter=create_meter('M-NEW'),
                        final_reading=Decimal(135), removal_reason='faulty')])
            august, = Period.search([
                    ('start_date', '=', dt.date(2026, 8, 1))])
            Period.close([august])
            estimate, = Reading.search([('period', '=', august.id)])
            # 20 m³ read on the old meter at removal, 11 days estimated on
            # the new one
            self.assertEqual(
                (estimate.consumption, estimate.value, estimate.meter.serial),
                (Decimal(31), Decimal(11), 'M-NEW'))

    @with_transaction()
    def test_accept_after_later_reading_refused(self):
        "A held reading skipped by a later counted one cannot be accepted"
        pool = Pool()
        Reading = pool.get('water.reading')
        company, route, (subscription,) = self._reading_setup()
        with set_company(company):
            self._read(subscription, dt.date(2026, 7, 5), 120)
            self._read(subscription, dt.date(2026, 8, 5), 140)
            self._read(subscription, dt.date(2026, 9, 5), 160)
            high = self._read(subscription, dt.date(2026, 10, 5), 400)
            self.assertEqual(high.exceptions, ('high',))
            later = self._read(subscription, dt.date(2026, 11, 5), 180)
            self.assertEqual(later.consumption, Decimal(20))
            with self.assertRaises(UserError):
                Reading.accept([high])
            Reading.cancel([high])

    @with_transaction()
    def test_readings_of_one_file_count_from_each_other(self):
        "Two readings of a meter in one file: the second counts from the first"
        pool = Pool()
        Import = pool.get('water.reading.import')
        Reading = pool.get('water.reading')
        company, route, (subscription,) = self._reading_setup()
        data = '\n'.join(['subscription,date,value',
                f'{subscription.number},2026-07-31,120',
                f'{subscription.number},2026-08-01,121']).encode()
        with set_company(company):
            Import.import_file(data, 'amr.csv')
            first, second = Reading.search([], order=[('date', 'ASC')])
            self.assertEqual(
                [(r.consumption, r.previous, r.state)
                    for r in (first, second)],
                [(Decimal(20), None, 'valid'), (Decimal(1), first, 'valid')])

    @with_transaction()
    def test_reopen_cancels_estimates(self):
        "Reopening a period cancels its estimates; closing estimates again"
        pool = Pool()
        Period = pool.get('water.reading.period')
        Reading = pool.get('water.reading')
        company, route, (subscription,) = self._reading_setup()
        with set_company(company):
            july, = Period.search([('start_date', '=', dt.date(2026, 7, 1))])
            Period.close([july])
            estimate, = Reading.search([('period', '=', july.id)])
            Period.reopen([july])
            self.assertEqual(estimate.state, 'cancelled')
            late = self._read(subscription, dt.date(2026, 7, 3), 110)
            Period.close([july])
            self.assertEqual(
                Reading.search([('period', '=', july.id),
                        ('state', '=', 'valid')]), [late])

    @with_transaction()
    def test_reading_computed_fields_not_writable(self):
        "Nobody sets the state or consumption of a reading by hand"
        pool = Pool()
        Reading = pool.get('water.reading')
        company, route, (subscription,) = self._reading_setup()
        with set_company(company):
            reading = self._read(subscription, dt.date(2026, 7, 20), 100)
            self.assertEqual(reading.exceptions, ('zero',))
            with Transaction().set_context(_check_access=True):
                for values in [{'state': 'valid'},
                        {'consumption': Decimal(5)},
                        {'exceptions': []}]:
                    with self.subTest(values=values):
                        with self.assertRaises(UserError):
                            Reading.write([reading], values)
                # a comment may always be added
                Reading.write([reading], {'comment': "checked twice"})

    @with_transaction()
    def test_reading_in_closed_period_refused(self):
        "A closed period takes no more readings until it is reopened"
        pool = Pool()
        Period = pool.get('water.reading.period')
        company, route, (subscription,) = self._reading_setup()
        with set_company(company):
            july, = Period.search([('start_date', '=', dt.date(2026, 7, 1))])
            Period.close([july])
            self.assertEqual(july.state, 'closed')
            with self.assertRaises(UserError) as context:
                self._read(subscription, dt.date(2026, 7, 20), 120)
            self.assertIn(july.rec_name, context.exception.message)
            Period.reopen([july])
            self.assertEqual(
                self._read(subscription, dt.date(2026, 7, 20), 120).state,
                'valid')

    @with_transaction()
    def test_estimate_from_category_default(self):
        "Without history the category's daily default is estimated"
        pool = Pool()
        Period = pool.get('water.reading.period')
        Reading = pool.get('water.reading')
        company, route, (subscription,) = self._reading_setup()
        with set_company(company):
            july, = Period.search([('start_date', '=', dt.date(2026, 7, 1))])
            Period.close([july])
            estimate, = Reading.search([('period', '=', july.id)])
            # domestic: 0.5 m³ a day, 20 June to 5 July (the route's day)
            self.assertEqual(estimate.source, 'estimate')
            self.assertEqual(estimate.days, 15)
            self.assertEqual(estimate.consumption, Decimal(8))
            self.assertEqual(estimate.value, Decimal(108))

    @with_transaction()
    def test_reading_beyond_dial_and_without_value(self):
        "A value the dial cannot show, or no value without a note, is refused"
        company, route, (subscription,) = self._reading_setup()
        with set_company(company):
            with self.assertRaises(UserError):
                self._read(subscription, dt.date(2026, 7, 20), 100000)
            with self.assertRaises(UserError):
                self._read(subscription, dt.date(2026, 7, 20), None)
            # below the installation's initial reading: backwards
            reading = self._read(subscription, dt.date(2026, 7, 20), 90)
            self.assertEqual(
                (reading.consumption, reading.exceptions),
                (Decimal(-10), ('negative',)))

    @with_transaction()
    def test_import_queries_do_not_grow(self):
        "Importing 40 rows makes the same queries as 10, besides inserts"
        import logging
        pool = Pool()
        Import = pool.get('water.reading.import')
        company, route, subscriptions = self._reading_setup(count=60)
        statements = []

        class Collect(logging.Handler):
            def emit(self, record):
                statements.append(record.getMessage())

        def selects(subscriptions, day):
            data = '\n'.join(['subscription,date,value'] + [
                    f'{s.number},2026-07-{day:02d} 08:00,{120 + i % 7}'
                    for i, s in enumerate(subscriptions)]).encode()
            handler = Collect(logging.DEBUG)
            # PostgreSQL's cursor logs each query at DEBUG; SQLite traces
            connection = Transaction().connection
            trace = getattr(connection, 'set_trace_callback', None)
            logger = logging.getLogger('trytond.backend.postgresql.database')
            level = logger.level
            logger.addHandler(handler)
            logger.setLevel(logging.DEBUG)
            if trace:
                trace(statements.append)
            del statements[:]
            try:
                import_ = Import.import_file(data, f'{day}.csv')
            finally:
                logger.removeHandler(handler)
                logger.setLevel(level)
                if trace:
                    trace(None)
            self.assertEqual(import_.accepted, len(subscriptions))
            return [q for q in statements
                if not q.lstrip().upper().startswith('INSERT')]

        with set_company(company):
            selects(subscriptions[:10], 20)  # the caches warm up
            few = selects(subscriptions[10:20], 20)
            many = selects(subscriptions[20:], 20)
        self.assertTrue(few)
        self.assertEqual(len(few), len(many))

    @with_transaction()
    def test_import_twice_adds_nothing(self):
        "A file imported twice, in another encoding, adds no reading"
        pool = Pool()
        Import = pool.get('water.reading.import')
        Reading = pool.get('water.reading')
        company, route, subscriptions = self._reading_setup(count=3)
        text = '\n'.join(['الاشتراك,التاريخ,القراءة,تعليق'] + [
                f'{s.number},2026-07-20,{120 + i},قرأه سعيد'
                for i, s in enumerate(subscriptions)])
        with set_company(company):
            first = Import.import_file(text.encode('utf-8-sig'), 'a.csv')
            second = Import.import_file(text.encode('windows-1256'), 'b.csv')
            self.assertEqual((first.accepted, first.duplicates), (3, 0))
            self.assertEqual((second.accepted, second.duplicates), (0, 3))
            self.assertEqual(second.encoding, 'windows-1256')
            self.assertEqual(Reading.search([], count=True), 3)
            self.assertEqual(
                {r.comment for r in Reading.search([])}, {'قرأه سعيد'})

    @with_transaction()
    def test_list_datetimes_have_widget(self):
        """The web client has no date-and-time column: a list shows a
        datetime with a date and a time widget, as Tryton's own lists do"""
        pool = Pool()
        View = pool.get('ir.ui.view')
        missing = []
        for view in View.search([
                    ('module', '=', 'water_utility'),
                    ('type', '=', 'tree'),
                    ]):
            Model = pool.get(view.model)
            definition = Model.fields_view_get(
                view_id=view.id, view_type='tree')
            for field in etree.fromstring(definition['arch']).iter('field'):
                name = field.get('name')
                type_ = definition['fields'].get(name, {}).get('type')
                if type_ in {'datetime', 'timestamp'} and (
                        field.get('widget') not in {'date', 'time'}):
                    missing.append((view.name, name))
        self.assertEqual(missing, [])

    @with_transaction()
    def test_core_strings_in_arabic(self):
        "Tryton's own strings that staff see all day read in Arabic"
        pool = Pool()
        Translation = pool.get('ir.translation')
        Party = pool.get('party.party')
        Subscription = pool.get('water.subscription')
        Translation.translation_import('ar', 'water_utility', [
                str(MODULE / 'locale' / 'ar.po'),
                str(MODULE / 'locale' / 'override' / 'ar.po')])
        with Transaction().set_context(language='ar'):
            labels = Party.fields_get(['name', 'addresses'])
            self.assertEqual(labels['name']['string'], "الاسم")
            self.assertEqual(labels['addresses']['string'], "العناوين")
            self.assertEqual(
                gettext('ir.msg_required_validation',
                    **Subscription.__names__('address')),
                'الحقل "عنوان محل الاشتراك" في "اشتراك مياه" مطلوب: '
                'أدخل قيمة له.')

    def test_arabic_translation_complete(self):
        "Every string of the module has an Arabic translation"
        catalog = polib.pofile(str(MODULE / 'locale' / 'ar.po'))
        placeholder = re.compile(r'%\(\w+\)s')
        override = polib.pofile(str(MODULE / 'locale' / 'override' / 'ar.po'))
        missing = [e.msgctxt for e in list(catalog) + list(override)
            if not (e.msgstr or any(e.msgstr_plural.values()))]
        self.assertEqual(missing, [])
        for entry in list(catalog) + list(override):
            self.assertEqual(
                sorted(placeholder.findall(entry.msgid)),
                sorted(placeholder.findall(entry.msgstr)), entry.msgctxt)
        messages = {
            e.msgctxt.split(':')[-1] for e in catalog
            if e.msgctxt.startswith('model:ir.message,text:')}
        xml = (MODULE / 'message.xml').read_text()
        self.assertEqual(
            messages, set(re.findall(r'id="(msg_\w+)"', xml)))


del ModuleTestCase
