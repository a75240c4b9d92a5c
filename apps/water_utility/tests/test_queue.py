# This file is part of the water_utility module.  See README.rst.
"The service centres' front-desk queue: numbering, calls and measures"
import datetime as dt
import threading
import unittest
from unittest.mock import patch
from zoneinfo import ZoneInfo

from hypothesis import given
from hypothesis import strategies as st

from trytond import backend
from trytond.exceptions import UserError
from trytond.modules.company.tests import set_company
from trytond.pool import Pool
from trytond.tests.test_tryton import DB_NAME
from trytond.transaction import Transaction, TransactionError

from .. import queue, report_html
from ..sla import percentile
from ..waiting import (
    PREFIXES, average, ahead, duration, local_day, next_sequence, oldest,
    parse_number, serves, summary, ticket_number)
from .database import UtilityTestCase, utility, with_transaction
from . import test_module as base

GAZA = ZoneInfo('Asia/Gaza')
SERVICES = list(PREFIXES)
MINUTE = dt.timedelta(minutes=1)
# Monday 7 December 2026, 08:00 UTC
MORNING = dt.datetime(2026, 12, 7, 8)

instants = st.datetimes(
    min_value=dt.datetime(2020, 1, 1), max_value=dt.datetime(2035, 1, 1))
durations = st.timedeltas(
    min_value=dt.timedelta(0), max_value=dt.timedelta(hours=8))
waiting_tickets = st.lists(
    st.tuples(instants, st.integers(1, 10 ** 6), st.sampled_from(SERVICES)),
    unique_by=lambda t: t[1], max_size=30)


class WaitingTestCase(unittest.TestCase):
    "The rules of the queue, without database"

    @given(st.sampled_from(SERVICES), st.integers(1, 99999))
    def test_number_round_trip(self, service, sequence):
        "A ticket number tells its service and sequence back"
        number = ticket_number(service, sequence)
        self.assertEqual(parse_number(number), (service, sequence))
        self.assertGreaterEqual(len(number.split('-')[1]), 3)

    def test_number_format(self):
        self.assertEqual(ticket_number('payment', 12), 'A-012')
        self.assertEqual(ticket_number('technical', 1234), 'C-1234')

    @given(st.lists(st.integers(1, 10 ** 6)))
    def test_next_sequence_is_new(self, used):
        "The next sequence is above every used one: never issued twice"
        sequence = next_sequence(used)
        self.assertNotIn(sequence, used)
        self.assertTrue(all(sequence > u for u in used))
        self.assertEqual(next_sequence([]), 1)

    @given(st.lists(st.sampled_from(SERVICES), max_size=50))
    def test_numbers_of_a_day_unique(self, services):
        "Numbering a day's tickets one after the other gives unique numbers"
        used = {s: [] for s in SERVICES}
        numbers = []
        for service in services:
            sequence = next_sequence(used[service])
            used[service].append(sequence)
            numbers.append(ticket_number(service, sequence))
        self.assertEqual(len(set(numbers)), len(numbers))

    def test_local_day(self):
        "The centre's day: 23:30 UTC is already tomorrow in Gaza"
        late = dt.datetime(2026, 12, 1, 23, 30)
        self.assertEqual(local_day(late), dt.date(2026, 12, 1))
        self.assertEqual(local_day(late, GAZA), dt.date(2026, 12, 2))

    @given(waiting_tickets,
        st.sets(st.sampled_from(SERVICES)).map(sorted))
    def test_oldest_of_the_served_services(self, tickets, services):
        "Call next takes the first arrived of the services served"
        chosen = oldest(tickets, services)
        candidates = [t for t in tickets if serves(services, t[2])]
        if not candidates:
            self.assertIsNone(chosen)
            return
        self.assertIn(chosen, candidates)
        self.assertTrue(all(chosen[:2] <= t[:2] for t in candidates))

    @given(waiting_tickets)
    def test_ahead(self, tickets):
        "The first arrived has nobody ahead, the last all the others"
        pairs = sorted((a, i) for a, i, _ in tickets)
        for position, (arrived, id_) in enumerate(pairs):
            self.assertEqual(ahead(pairs, arrived, id_), position)

    @given(st.lists(durations, min_size=1))
    def test_summary_bounds(self, values):
        "Average and 90th percentile lie between the least and the most"
        result = summary(values + [None])
        self.assertEqual(result['count'], len(values))
        self.assertEqual(result['maximum'], max(values))
        mean = sum(values, dt.timedelta(0)) / len(values)
        self.assertLessEqual(
            abs(result['average'] - mean), dt.timedelta(seconds=0.5))
        self.assertLessEqual(min(values) - dt.timedelta(seconds=0.5),
            result['average'])
        self.assertLessEqual(result['p90'], max(values))
        self.assertGreaterEqual(result['p90'], percentile(values, 50))
        self.assertEqual(
            summary([]), {
                'count': 0, 'average': None, 'p90': None, 'maximum': None})

    def test_average_and_p90(self):
        waits = [MINUTE * m for m in [5, 10, 15, 20, 25, 30, 35, 40, 45, 90]]
        result = summary(waits)
        self.assertEqual(result['average'], MINUTE * 31.5)
        self.assertEqual(result['p90'], MINUTE * 45)
        self.assertEqual(average([]), None)

    @given(instants, durations)
    def test_duration(self, start, length):
        "Calendar time to the second, never negative"
        value = duration(start, start + length)
        self.assertEqual(value.microseconds, 0)
        self.assertLessEqual(abs(value - length), dt.timedelta(seconds=0.5))
        self.assertEqual(duration(start + length, start), dt.timedelta(0))
        self.assertIsNone(duration(start, None))


class Clock:
    "A clock the test moves, in place of queue.now"

    def __init__(self, value):
        self.value = value

    def __call__(self):
        return self.value

    def advance(self, minutes):
        self.value += MINUTE * minutes


class QueueTestCase(UtilityTestCase):
    "Tickets, counters and the statistic of waiting times"
    # the ticket prints in Arabic
    arabic = True

    def setup_centre(self):
        pool = Pool()
        Counter = pool.get('water.queue.counter')
        u = utility()
        company, area = u.company, u.area
        self.company, self.area, self.other_area = (
            company, area, u.other_area)
        self.cashier, self.enquiries, self.general = Counter.create([{
                    'area': area.id, 'name': "1",
                    'services': ['payment'],
                    }, {
                    'area': area.id, 'name': "2",
                    'services': ['account', 'technical'],
                    }, {
                    'area': area.id, 'name': "3",
                    }])

    def issue(self, service, arrived, area=None, **values):
        pool = Pool()
        Ticket = pool.get('water.queue.ticket')
        ticket, = Ticket.create([{
                    'company': self.company.id,
                    'area': (area or self.area).id,
                    'service': service,
                    'arrived_at': arrived,
                    **values,
                    }])
        return ticket

    @with_transaction()
    def test_numbers_restart_per_day_and_centre(self):
        "Each service counts from 1 every day at each centre"
        pool = Pool()
        Ticket = pool.get('water.queue.ticket')
        self.setup_centre()
        with set_company(self.company):
            first = self.issue('payment', MORNING)
            second = self.issue('payment', MORNING + MINUTE)
            enquiry = self.issue('account', MORNING + 2 * MINUTE)
            elsewhere = self.issue(
                'payment', MORNING + MINUTE, area=self.other_area)
            tomorrow = self.issue('payment', MORNING + dt.timedelta(days=1))
            batch = Ticket.create([{
                        'company': self.company.id, 'area': self.area.id,
                        'service': 'payment',
                        'arrived_at': MORNING + 5 * MINUTE,
                        } for _ in range(3)])
        self.assertEqual(
            [t.number for t in [first, second, enquiry, elsewhere, tomorrow]],
            ['A-001', 'A-002', 'B-001', 'A-001', 'A-001'])
        self.assertEqual(
            [t.number for t in batch], ['A-003', 'A-004', 'A-005'])
        self.assertEqual(tomorrow.date, dt.date(2026, 12, 8))
        self.assertEqual(first.month, dt.date(2026, 12, 1))
        self.assertEqual(
            [t.ahead for t in Ticket.browse([first, second, enquiry])],
            [0, 1, 0])

    @with_transaction()
    def test_day_of_the_centre(self):
        "A ticket taken at 00:30 local time is of the centre's new day"
        self.setup_centre()
        self.area.timezone = 'Asia/Gaza'
        self.area.save()
        with set_company(self.company):
            late = self.issue('payment', dt.datetime(2026, 12, 7, 21, 50))
            night = self.issue('payment', dt.datetime(2026, 12, 7, 22, 30))
        self.assertEqual(late.date, dt.date(2026, 12, 7))
        self.assertEqual(night.date, dt.date(2026, 12, 8))
        self.assertEqual(night.number, 'A-001')

    @with_transaction()
    def test_call_next_oldest_served_service(self):
        """A counter calls the first arrived of its services; a busy counter
        must finish first; an empty queue says so"""
        pool = Pool()
        Counter = pool.get('water.queue.counter')
        Ticket = pool.get('water.queue.ticket')
        self.setup_centre()
        clock = Clock(MORNING + 30 * MINUTE)
        with set_company(self.company), patch.object(queue, 'now', clock):
            payment = self.issue('payment', MORNING)
            technical = self.issue('technical', MORNING + 5 * MINUTE)
            account = self.issue('account', MORNING + 10 * MINUTE)
            other = self.issue('payment', MORNING, area=self.other_area)
            self.assertEqual(
                [c.waiting_tickets for c in Counter.browse(
                        [self.cashier, self.enquiries, self.general])],
                [1, 2, 3])

            Counter.call_next([self.enquiries])
            technical = Ticket(technical.id)
            self.assertEqual(technical.state, 'called')
            self.assertEqual(technical.counter, self.enquiries)
            self.assertEqual(technical.served_by.id, Transaction().user)
            self.assertEqual(technical.waiting_time, 25 * MINUTE)
            self.assertEqual(Counter(self.enquiries.id).current, (technical,))

            with self.assertRaisesRegex(UserError, 'still calling'):
                Counter.call_next([self.enquiries])
            clock.advance(2)
            Ticket.start([technical])
            clock.advance(8)
            Ticket.done([technical])
            technical = Ticket(technical.id)
            self.assertEqual(technical.service_time, 8 * MINUTE)

            Counter.call_next([self.enquiries])
            self.assertEqual(Ticket(account.id).state, 'called')
            self.assertEqual(Ticket(account.id).waiting_time, 30 * MINUTE)
            Counter.call_next([self.general])
            self.assertEqual(Ticket(payment.id).state, 'called')
            self.assertEqual(Ticket(other.id).state, 'waiting')
            with self.assertRaisesRegex(UserError, 'No ticket is waiting'):
                Counter.call_next([self.cashier])

    @with_transaction()
    def test_no_show_and_recall(self):
        "A no-show recalled keeps the waiting time of its first call"
        pool = Pool()
        Counter = pool.get('water.queue.counter')
        Ticket = pool.get('water.queue.ticket')
        self.setup_centre()
        clock = Clock(MORNING + 12 * MINUTE)
        with set_company(self.company), patch.object(queue, 'now', clock):
            ticket = self.issue('payment', MORNING)
            Counter.call_next([self.cashier])
            Ticket.no_show([ticket])
            self.assertEqual(Ticket(ticket.id).state, 'no_show')
            clock.advance(5)
            Ticket.recall([ticket])
            ticket = Ticket(ticket.id)
            self.assertEqual(ticket.state, 'called')
            self.assertEqual(ticket.recalls, 1)
            self.assertEqual(ticket.waiting_time, 12 * MINUTE)
            waiting = self.issue('other', MORNING)
            Ticket.cancel([waiting])
            self.assertEqual(Ticket(waiting.id).state, 'cancelled')

    @with_transaction()
    def test_statistic(self):
        """Counts, average, 90th percentile and longest wait per centre,
        service and day or month"""
        pool = Pool()
        Counter = pool.get('water.queue.counter')
        Ticket = pool.get('water.queue.ticket')
        Statistic = pool.get('water.queue.statistic')
        self.setup_centre()
        clock = Clock(MORNING)
        with set_company(self.company), patch.object(queue, 'now', clock):
            tickets = [self.issue('payment', MORNING) for _ in range(4)]
            tomorrow = self.issue('payment', MORNING + dt.timedelta(days=1))
            for minutes in [10, 10, 20]:  # waits of 10, 20 and 40 minutes
                clock.advance(minutes)
                Counter.call_next([self.cashier])
                ticket, = Counter(self.cashier.id).current
                Ticket.start([ticket])
                clock.advance(6)
                Ticket.done([ticket])
                clock.advance(-6)
            clock.advance(5)
            Counter.call_next([self.cashier])
            Ticket.no_show([tickets[3]])
            clock.value = MORNING + dt.timedelta(days=1, minutes=4)
            Counter.call_next([self.cashier])

            with Transaction().set_context(period='day'):
                rows = Statistic.search([], order=[('date', 'ASC')])
                first, second = rows
                self.assertEqual(first.date, MORNING.date())
                self.assertEqual(
                    (first.tickets, first.served, first.no_shows), (4, 3, 1))
                # waits of 10, 20, 40 and 45 minutes
                self.assertEqual(first.average_waiting, 28.75 * MINUTE)
                self.assertEqual(first.maximum_waiting, 45 * MINUTE)
                self.assertEqual(first.p90_waiting, 45 * MINUTE)
                self.assertEqual(first.average_service, 6 * MINUTE)
                self.assertEqual(first.average_waiting_minutes, 28.8)
                self.assertEqual(second.tickets, 1)
                self.assertEqual(second.average_waiting, 4 * MINUTE)
            with Transaction().set_context(period='month'):
                row, = Statistic.search([])
                self.assertEqual(row.date, dt.date(2026, 12, 1))
                self.assertEqual(row.tickets, 5)
                self.assertEqual(row.average_waiting, 23.8 * MINUTE)
                self.assertEqual(row.p90_waiting, 45 * MINUTE)
                self.assertEqual(row.area, self.area)
                self.assertEqual(row.service, 'payment')
            with Transaction().set_context(
                    period='day', from_date=tomorrow.date):
                row, = Statistic.search([])
                self.assertEqual(row.tickets, 1)

    @with_transaction()
    def test_ticket_report(self):
        """The ticket prints as a small PDF in Arabic, with the local time
        and the people ahead"""
        pool = Pool()
        Report = pool.get('water.queue.ticket', type='report')
        Lang = pool.get('ir.lang')
        self.setup_centre()
        self.area.timezone = 'Asia/Gaza'
        self.area.save()
        arabic, = Lang.search([('code', '=', 'ar')])
        arabic.translatable = True  # the bills' language, so the ticket's
        arabic.save()
        with set_company(self.company):
            self.issue('technical', MORNING)
            ticket = self.issue('technical', MORNING + MINUTE)
            extension, content, _, name = Report.execute([ticket.id], {})
            self.assertEqual(extension, 'pdf')
            self.assertTrue(bytes(content).startswith(b'%PDF'))
            pages = []
            with patch.object(report_html, 'html_to_pdf',
                    lambda html: pages.append(html) or b'%PDF'):
                Report.execute([ticket.id], {})
        html, = pages
        for text in ['C-002', 'شكوى فنية', 'المنتظرون قبلك', '>1<',
                '07/12/2026', '10:01']:
            self.assertIn(text, html)

    @with_transaction()
    def test_issue_wizard(self):
        "Issue Ticket creates the ticket and prints it"
        pool = Pool()
        Issue = pool.get('water.queue.ticket.issue', type='wizard')
        Ticket = pool.get('water.queue.ticket')
        self.setup_centre()
        with set_company(self.company):
            session_id, _, _ = Issue.create()
            issue = Issue(session_id)
            issue.start.area = self.area
            issue.start.service = 'account'
            issue.start.subscription = None
            issue.start.caller = "منى"
            issue.start.company = self.company
            self.assertEqual(issue.transition_issue(), 'print_')
            action, data = issue.do_print_({})
        ticket, = Ticket.search([])
        self.assertEqual(data['ids'], [ticket.id])
        self.assertEqual(
            (ticket.number, ticket.caller, ticket.state),
            ('B-001', "منى", 'waiting'))

    @unittest.skipIf(backend.name == 'sqlite', "SQLite serialises writers")
    def test_call_next_skips_the_ticket_another_clerk_holds(self):
        """While the first clerk's call is not committed, the second clerk
        gets the next ticket instead of waiting for (or taking) the same

        Each clerk has a transaction of its own: the test commits what it
        creates and deletes it at the end."""
        pool = Pool(DB_NAME)
        with Transaction().start(DB_NAME, 0) as transaction:
            Counter = pool.get('water.queue.counter')
            company, area, _, other_route, _ = base.create_utility()
            counters = Counter.create([
                    {'area': area.id, 'name': str(i)} for i in [1, 2]])
            created = (company.id, company.party.id, area.id,
                other_route.area.id, [c.id for c in counters])
            transaction.commit()
        company_id = created[0]

        def issue():
            Ticket = pool.get('water.queue.ticket')
            return [t.id for t in Ticket.create([{
                            'company': company_id,
                            'area': created[2],
                            'service': 'payment',
                            'arrived_at': MORNING + i * MINUTE,
                            } for i in range(3)])]
        extras = {}
        while True:  # as the RPC dispatcher retries to take the lock
            with Transaction().start(DB_NAME, 0,
                    context={'company': company_id},
                    **extras) as transaction:
                try:
                    ticket_ids = issue()
                except TransactionError as error:
                    transaction.rollback()
                    error.fix(extras)
                    continue
                transaction.commit()
            break
        counter_ids = created[-1]
        first_called = threading.Event()
        second_done = threading.Event()
        called = {}

        def clerk(counter_id, before=None, after=None):
            try:
                with Transaction().start(DB_NAME, 0,
                        context={'company': company_id}) as transaction:
                    if before:
                        before.wait(timeout=30)
                    Counter = pool.get('water.queue.counter')
                    Counter.call_next([Counter(counter_id)])
                    ticket, = Counter(counter_id).current
                    called[counter_id] = ticket.id
                    if after:
                        after.set()
                    if counter_id == counter_ids[0]:
                        # hold the lock until the other clerk has called
                        second_done.wait(timeout=30)
                    transaction.commit()
            except Exception as exception:
                called[counter_id] = repr(exception)
                first_called.set()
                second_done.set()

        threads = [
            threading.Thread(target=clerk,
                args=(counter_ids[0], None, first_called)),
            threading.Thread(target=clerk,
                args=(counter_ids[1], first_called, second_done)),
            ]
        try:
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join(timeout=60)
            self.assertEqual(called, {
                    counter_ids[0]: ticket_ids[0],
                    counter_ids[1]: ticket_ids[1],
                    })
        finally:
            self._delete(ticket_ids, *created)

    @unittest.skipIf(backend.name == 'sqlite', "SQLite serialises writers")
    def test_two_receptionists_issue_at_once(self):
        """Two tickets of the same service issued at the same moment get the
        next two numbers: the second receptionist waits for the first

        Committed, then deleted, as above."""
        pool = Pool(DB_NAME)
        with Transaction().start(DB_NAME, 0) as transaction:
            company, area, _, other_route, _ = base.create_utility()
            created = (company.id, company.party.id, area.id,
                other_route.area.id, [])
            transaction.commit()
        barrier = threading.Barrier(2)
        issued, ticket_ids = [], []

        def receptionist():
            Ticket = pool.get('water.queue.ticket')
            barrier.wait(timeout=30)
            extras = {}
            try:
                # as the RPC dispatcher retries (and, should the lock not
                # come within its retries, the receptionist clicks again)
                for _ in range(50):
                    try:
                        with Transaction().start(DB_NAME, 0,
                                context={'company': created[0]},
                                **extras) as transaction:
                            try:
                                ticket, = Ticket.create([{
                                            'company': created[0],
                                            'area': created[2],
                                            'service': 'payment',
                                            }])
                                number, id_ = ticket.number, ticket.id
                            except TransactionError as error:
                                transaction.rollback()
                                error.fix(extras)
                                continue
                            transaction.commit()
                    except backend.DatabaseOperationalError:
                        continue
                    ticket_ids.append(id_)
                    break
                issued.append(number)
            except Exception as exception:
                issued.append(repr(exception))

        threads = [threading.Thread(target=receptionist) for _ in range(2)]
        try:
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join(timeout=60)
            self.assertEqual(sorted(issued), ['A-001', 'A-002'])
        finally:
            self._delete(ticket_ids, *created)

    @staticmethod
    def _delete(ticket_ids, company, party, area, other_area, counters):
        pool = Pool(DB_NAME)
        with Transaction().start(DB_NAME, 0) as transaction:
            Ticket = pool.get('water.queue.ticket')
            Route = pool.get('water.route')
            table = Ticket.__table__()
            transaction.connection.cursor().execute(
                *table.delete(where=table.id.in_(ticket_ids)))
            for name, ids in [
                    ('water.queue.counter', counters),
                    ('water.route', [r.id for r in Route.search([
                                    ('area', 'in', [area, other_area]),
                                    ])]),
                    ('water.area', [area, other_area]),
                    ('company.company', [company]),
                    ('party.party', [party]),
                    ]:
                Model = pool.get(name)
                Model.delete(Model.browse(ids))
            transaction.commit()
