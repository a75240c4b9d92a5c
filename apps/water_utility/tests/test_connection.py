# This file is part of the water_utility module.  See README.rst.
"New connections: the steps' clock, the state rules, the invoice, the meter"
import datetime as dt
import unittest
from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from trytond.exceptions import UserError
from trytond.modules.company.tests import set_company
from trytond.pool import Pool
from trytond.transaction import Transaction

from ..connection import days_between, extra_length
from .database import UtilityTestCase, pinned, utility, with_transaction
from . import test_module as base
from .test_reward import pay

FEE = Decimal('350.00')
METRE = Decimal('12.50')
# a Wednesday at noon: the centre works Saturday to Thursday, 08:00-14:00
RECEIVED = dt.datetime(2026, 11, 4, 12, 0)

lengths = st.decimals(min_value=0, max_value=1000, places=1)


class ConnectionRulesTestCase(unittest.TestCase):
    "The computations of a new connection, without database"

    @given(lengths, lengths)
    def test_extra_length(self, distance, free):
        "Whole metres, never negative, covering the distance"
        metres = extra_length(distance, free)
        self.assertIsInstance(metres, int)
        self.assertGreaterEqual(metres, 0)
        self.assertGreaterEqual(free + metres, distance)
        self.assertLess(metres, max(distance - free, 0) + 1)
        if distance <= free:
            self.assertEqual(metres, 0)

    @given(lengths, lengths, lengths)
    def test_extra_length_monotonic(self, distance, more, free):
        "A longer line never costs fewer metres"
        self.assertLessEqual(extra_length(distance, free),
            extra_length(distance + more, free))

    def test_extra_length_unknown(self):
        self.assertEqual(extra_length(None, 10), 0)
        self.assertEqual(extra_length(Decimal('12.2'), None), 13)

    def test_days_between(self):
        start = dt.datetime(2026, 11, 1, 8)
        self.assertEqual(days_between(start, start), 0)
        self.assertEqual(days_between(start, start - dt.timedelta(1)), 0)
        self.assertEqual(
            days_between(start, start + dt.timedelta(days=3, hours=12)),
            3.5)


@pinned()
class ConnectionTestCase(UtilityTestCase):
    "New connection applications, from the desk to the active subscription"
    maxDiff = None

    @classmethod
    def setUpDatabase(cls):
        """A centre open Saturday to Thursday 08:00-14:00 (UTC), the
        connection fee in the configuration"""
        pool = Pool()
        Area = pool.get('water.area')
        Configuration = pool.get('water.configuration')
        u = utility()
        Area.create([{
                    'company': u.company.id,
                    'code': 'KY',
                    'name': "خان يونس",
                    'timezone': 'UTC',
                    'working_hours': [('create', [{
                                    'weekday': day,
                                    'start_time': dt.time(8),
                                    'end_time': dt.time(14),
                                    } for day in '560123'])],
                    'routes': [('create', [{
                                    'code': 'KY-01', 'name': "المدينة",
                                    'reading_day': 3,
                                    }])],
                    }])
        configuration = Configuration(1)
        configuration.connection_fee_product = u.products['meter']
        configuration.connection_fee = FEE
        configuration.connection_length_product = u.products['sewage']
        configuration.connection_free_length = Decimal(10)
        configuration.connection_length_price = METRE
        configuration.save()

    def setup_utility(self):
        "The company, the centre and the domestic category"
        pool = Pool()
        Area = pool.get('water.area')
        u = utility()
        self.company, self.domestic = u.company, u.domestic
        self.area, = Area.search([('code', '=', 'KY')])
        self.route, = self.area.routes

    def application(self, received=RECEIVED, **values):
        pool = Pool()
        Connection = pool.get('water.connection')
        values.setdefault('applicant_name', "سامي خليل النجار")
        connection = Connection(company=self.company, area=self.area,
            category=self.domestic, received=received,
            phone='+970599765432', site="حي الأمل، قرب مسجد الرحمة",
            **values)
        connection.save()
        return connection

    def surveyed(self, distance='14.3', **values):
        pool = Pool()
        Connection = pool.get('water.connection')
        connection = self.application(**values)
        Connection.apply([connection])
        connection.distance = Decimal(distance)
        connection.feasibility = 'feasible'
        connection.findings = "الخط الرئيسي في الشارع المقابل"
        connection.save()
        Connection.survey([connection])
        return Connection(connection.id)

    def estimated(self, **values):
        pool = Pool()
        Connection = pool.get('water.connection')
        connection = self.surveyed(**values)
        Connection.estimate([connection])
        return Connection(connection.id)

    @with_transaction()
    def test_apply_registers_applicant(self):
        """Applying numbers the application, registers the new applicant
        with the site as address and starts the survey's clock at
        reception"""
        pool = Pool()
        Connection = pool.get('water.connection')
        self.setup_utility()
        with set_company(self.company):
            connection = self.application()
            self.assertEqual(connection.month, dt.date(2026, 11, 1))
            Connection.apply([connection])
            connection = Connection(connection.id)
            self.assertEqual(connection.state, 'applied')
            self.assertTrue(connection.number.startswith('NC-'))
            self.assertEqual(connection.party.name, "سامي خليل النجار")
            self.assertEqual(connection.party.mobile, '+970 599 765 432')
            self.assertEqual(connection.address.party, connection.party)
            self.assertEqual(
                connection.address.street, "حي الأمل، قرب مسجد الرحمة")
            step, = connection.steps
            self.assertEqual(step.step, 'survey')
            self.assertEqual(step.start, RECEIVED)

    @with_transaction()
    def test_deadline_working_hours(self):
        """Two working days of survey asked on Wednesday at noon fall due
        on Saturday at noon: the centre is closed after 14:00 and on
        Friday; on the calendar clock, 48 hours later"""
        pool = Pool()
        Connection = pool.get('water.connection')
        Configuration = pool.get('water.configuration')
        self.setup_utility()
        with set_company(self.company):
            connection = self.application()
            Connection.apply([connection])
            connection = Connection(connection.id)
            self.assertEqual(connection.step, 'survey')
            saturday_noon = dt.datetime(2026, 11, 7, 12, 0)
            self.assertEqual(connection.deadline, saturday_noon)
            self.assertEqual(connection.deadline, self.area.deadline(
                    RECEIVED, dt.timedelta(hours=12), 'working'))
            step, = connection.steps
            self.assertEqual(step.deadline, saturday_noon)
            self.assertEqual(step.target, dt.timedelta(hours=12))
            self.assertEqual(step.clock, 'working')

            # received in 2026 and not surveyed since: late
            self.assertTrue(connection.late)
            self.assertEqual(
                Connection.search([('late', '=', True)]), [connection])
            self.assertEqual(Connection.search([('late', '=', False)]), [])

            configuration = Configuration(1)
            configuration.connection_survey_target = dt.timedelta(days=2)
            configuration.connection_survey_clock = 'calendar'
            configuration.save()
            other = self.application()
            Connection.apply([other])
            other = Connection(other.id)
            self.assertEqual(
                other.deadline, RECEIVED + dt.timedelta(days=2))

            # received just now: not late
            now = dt.datetime.now().replace(microsecond=0)
            recent = self.application(received=now)
            Connection.apply([recent])
            self.assertFalse(Connection(recent.id).late)
            self.assertIn(recent, Connection.search([('late', '=', False)]))

    @with_transaction()
    def test_state_rules(self):
        """A survey records feasibility; an unfeasible site is not
        estimated but rejected, with a reason"""
        pool = Pool()
        Connection = pool.get('water.connection')
        self.setup_utility()
        with set_company(self.company):
            connection = self.application()
            Connection.apply([connection])
            with self.assertRaises(UserError):
                Connection.survey([connection])
            connection.feasibility = 'not_feasible'
            connection.save()
            Connection.survey([connection])
            connection = Connection(connection.id)
            self.assertEqual(connection.state, 'surveyed')
            self.assertEqual(connection.surveyor.id, Transaction().user)
            self.assertEqual(connection.lines, ())
            with self.assertRaises(UserError):
                Connection.estimate([connection])
            with self.assertRaises(UserError):
                Connection.reject([connection])
            connection.rejection_reason = "لا يوجد خط رئيسي في المنطقة"
            connection.save()
            Connection.reject([connection])
            connection = Connection(connection.id)
            self.assertEqual(connection.state, 'rejected')
            self.assertIsNone(connection.deadline)
            self.assertFalse(connection.late)
            survey, estimate = connection.steps
            self.assertEqual(
                [survey.step, estimate.step], ['survey', 'estimate'])
            self.assertTrue(all(s.end for s in connection.steps))
            self.assertTrue(all(s.ended_by for s in connection.steps))
            # the survey ran on the working clock from Wednesday noon
            self.assertEqual(survey.elapsed, self.area.elapsed(
                    survey.start, survey.end, 'working'))
            self.assertTrue(survey.overdue)
            with self.assertRaises(UserError):
                Connection.delete([connection])

    @with_transaction()
    def test_invoice(self):
        """The estimate of a feasible site is the fee and the metres beyond
        the free length; estimating posts it as the applicant's invoice"""
        pool = Pool()
        Connection = pool.get('water.connection')
        self.setup_utility()
        with set_company(self.company):
            connection = self.surveyed(distance='14.3')
            self.assertEqual(
                [(l.quantity, l.unit_price, l.amount)
                    for l in connection.lines], [
                    (1, FEE, FEE),
                    (5, METRE, Decimal('62.50')),
                    ])
            self.assertEqual(connection.amount, Decimal('412.50'))
            Connection.estimate([connection])
            connection = Connection(connection.id)
            self.assertEqual(connection.state, 'estimated')
            invoice = connection.invoice
            self.assertEqual(invoice.type, 'out')
            self.assertEqual(invoice.state, 'posted')
            self.assertEqual(connection.invoice_state, 'posted')
            self.assertEqual(invoice.party, connection.party)
            self.assertEqual(invoice.total_amount, Decimal('412.50'))
            self.assertEqual(invoice.amount_to_pay, Decimal('412.50'))
            self.assertTrue(invoice.number)
            self.assertEqual(
                {l.origin for l in invoice.lines}, {connection})
            self.assertEqual(
                [l.product for l in invoice.lines],
                [l.product for l in connection.lines])
            self.assertEqual(connection.step, 'payment')
            # no target for the applicant's payment by default
            self.assertIsNone(connection.deadline)

    @with_transaction()
    def test_install_refused_without_payment(self):
        "No meter is installed before the cost is paid"
        pool = Pool()
        Connection = pool.get('water.connection')
        Subscription = pool.get('water.subscription')
        self.setup_utility()
        with set_company(self.company):
            connection = self.estimated()
            connection.meter = base.create_meter('NC-0001')
            connection.install_date = dt.date.today()
            connection.route = self.route
            connection.save()
            with self.assertRaises(UserError) as context:
                Connection.install([connection])
            self.assertIn("paid", str(context.exception))
            connection = Connection(connection.id)
            self.assertEqual(connection.state, 'estimated')
            self.assertIsNone(connection.subscription)
            self.assertEqual(Subscription.search([]), [])
            # the invoice is not paid: checking changes nothing
            Connection.check_payment([connection])
            self.assertEqual(Connection(connection.id).state, 'estimated')

    @with_transaction()
    def test_paid_installed_active(self):
        """Paid in the ledger, the application moves on; installing makes
        the subscription with its meter, activating makes it active"""
        pool = Pool()
        Connection = pool.get('water.connection')
        Month = pool.get('water.connection.month')
        self.setup_utility()
        with set_company(self.company):
            connection = self.estimated(sewage=True)
            pay(connection.invoice, dt.date.today())
            Connection.check_payments()
            connection = Connection(connection.id)
            self.assertEqual(connection.state, 'paid')
            self.assertEqual(connection.invoice.state, 'paid')
            self.assertEqual(connection.step, 'installation')
            self.assertEqual(connection.deadline, self.area.deadline(
                    connection.steps[-1].start, dt.timedelta(hours=18),
                    'working'))

            meter = base.create_meter('NC-0002', diameter='15')
            connection.meter = meter
            connection.install_date = dt.date.today()
            connection.initial_reading = Decimal(3)
            connection.route = self.route
            connection.route_position = 40
            connection.save()
            Connection.install([connection])
            connection = Connection(connection.id)
            self.assertEqual(connection.state, 'installed')
            subscription = connection.subscription
            self.assertEqual(subscription.state, 'application')
            self.assertEqual(subscription.party, connection.party)
            self.assertEqual(subscription.address, connection.address)
            self.assertEqual(subscription.area, self.area)
            self.assertEqual(subscription.route, self.route)
            self.assertEqual(subscription.category, self.domestic)
            self.assertTrue(subscription.sewage)
            self.assertEqual(subscription.meter, meter)
            self.assertEqual(
                subscription.installations[0].initial_reading, Decimal(3))
            self.assertEqual(meter.__class__(meter.id).state, 'installed')
            self.assertEqual(subscription.connections, (connection,))

            Connection.activate([connection])
            connection = Connection(connection.id)
            self.assertEqual(connection.state, 'active')
            self.assertEqual(connection.subscription.state, 'active')
            self.assertEqual(
                connection.subscription.connection_date, dt.date.today())
            self.assertIsNone(connection.deadline)
            self.assertGreater(connection.days_to_active, 0)
            self.assertEqual([s.step for s in connection.steps], [
                    'survey', 'estimate', 'payment', 'installation',
                    'activation'])
            self.assertTrue(all(s.end for s in connection.steps))

            month, = Month.search([])
            self.assertEqual(month.month, dt.date(2026, 11, 1))
            self.assertEqual(
                (month.applications, month.activated, month.rejected),
                (1, 1, 0))
            self.assertEqual(month.average_days, connection.days_to_active)

    @with_transaction()
    def test_paid_by_reconciliation(self):
        "The invoice's own process moves the application on once paid"
        pool = Pool()
        Connection = pool.get('water.connection')
        Invoice = pool.get('account.invoice')
        self.setup_utility()
        with set_company(self.company):
            connection = self.estimated()
            pay(connection.invoice, dt.date.today())
            # what the queue runs after the reconciliation
            Invoice.process([connection.invoice])
            self.assertEqual(Connection(connection.id).state, 'paid')

    @with_transaction()
    def test_cancel_draft(self):
        "A draft without applicant is cancelled, then deleted"
        pool = Pool()
        Connection = pool.get('water.connection')
        self.setup_utility()
        with set_company(self.company):
            connection = self.application(applicant_name=None)
            Connection.cancel([connection])
            self.assertEqual(Connection(connection.id).state, 'cancelled')
            Connection.delete([connection])

    @with_transaction()
    def test_cancel_estimated(self):
        """Cancelling an unpaid estimate credits its invoice; a paid one is
        refused"""
        pool = Pool()
        Connection = pool.get('water.connection')
        Invoice = pool.get('account.invoice')
        self.setup_utility()
        with set_company(self.company):
            connection = self.estimated()
            Connection.cancel([connection])
            connection = Connection(connection.id)
            self.assertEqual(connection.state, 'cancelled')
            credit_note, = Invoice.search([
                    ('party', '=', connection.party.id),
                    ('id', '!=', connection.invoice.id)])
            self.assertEqual(credit_note.total_amount, -FEE - Decimal(
                    '62.50'))
            self.assertTrue(connection.invoice.reconciled)
            # the credit note's reconciliation does not make it paid
            Invoice.process([connection.invoice])
            self.assertEqual(Connection(connection.id).state, 'cancelled')

            paid = self.estimated()
            pay(paid.invoice, dt.date.today())
            with self.assertRaises(UserError):
                Connection.cancel([paid])

    @with_transaction()
    def test_estimate_letter_printed(self):
        "The cost estimate letter to the applicant prints in Arabic"
        pool = Pool()
        Report = pool.get('water.connection.estimate', type='report')
        self.setup_utility()
        with set_company(self.company):
            connection = self.estimated()
            with Transaction().set_context(language='ar'):
                ext, content, _, _ = Report.execute([connection.id], {})
            self.assertEqual(ext, 'pdf')
            self.assertTrue(content.startswith(b'%PDF'))
