# This file is part of the water_utility module.  See README.rst.
"Field work orders and what they post into billing"
import datetime as dt
from decimal import Decimal

from trytond.exceptions import UserError
from trytond.modules.company.tests import set_company
from trytond.pool import Pool

from .database import UtilityTestCase, pinned, with_transaction
from . import test_billing as billing
from . import test_request

INSTALLED = dt.date(2026, 6, 20)
VISIT = dt.date(2026, 10, 25)


@pinned()
class InspectionTestCase(UtilityTestCase):
    "Test the field work orders of the Water Utility module"

    def setup_readings(self, values):
        """A subscription installed on 20 June and read on the 20th of the
        months from July with values; return it and its readings, the
        held ones accepted but the last one"""
        pool = Pool()
        Reading = pool.get('water.reading')
        (company, area, route, _, domestic, self.products, _) = (
            billing.BillingRunTestCase.setup_utility(self))
        with set_company(company):
            subscription, = billing.connect(
                area, route, domestic, 1, date=INSTALLED)
            readings = []
            for i, value in enumerate(values):
                reading, = billing.read(
                    [subscription], dt.date(2026, 7 + i, 1), [value])
                reading = Reading(reading.id)
                if reading.state == 'held' and i < len(values) - 1:
                    Reading.accept([reading])
                readings.append(Reading(reading.id))
        return company, subscription, readings

    def work(self, order, **findings):
        "An inspector schedules, starts and fills the work order"
        pool = Pool()
        Inspection = pool.get('water.inspection')
        User = pool.get('res.user')
        inspector, = User.create([{'name': "Sami", 'login': 'sami'}])
        Inspection.write([order], {
                'planned_date': VISIT,
                'inspectors': [('add', [inspector.id])],
                })
        Inspection.schedule([order])
        Inspection.start([order])
        Inspection.write([order], dict(visit_date=VISIT, **findings))
        return Inspection(order.id)

    @with_transaction()
    def test_reading_error_corrects_held_reading(self):
        "A misread dial verified on site corrects the held reading"
        pool = Pool()
        Reading = pool.get('water.reading')
        Inspection = pool.get('water.inspection')
        company, subscription, readings = self.setup_readings(
            [20, 40, 60, 260])
        held = readings[-1]
        self.assertEqual((held.state, held.exceptions), ('held', ('high',)))
        with set_company(company):
            Reading.inspect([held])
            order, = Inspection.search([('reading', '=', held.id)])
            self.assertEqual(
                (order.type, order.origin, order.meter, order.area),
                ('high_consumption', held, subscription.meter,
                    subscription.area))
            order = self.work(order)
            # the verified register is required for a reading error
            with self.assertRaises(UserError):
                Inspection.write([order], {'outcome': 'reading_error'})
            Inspection.write([order], {
                    'outcome': 'reading_error',
                    'verified_value': Decimal(80),
                    })
            Inspection.do([Inspection(order.id)])
            held = Reading(held.id)
            self.assertEqual(
                (held.state, held.value, held.original_value,
                    held.consumption),
                ('valid', Decimal(80), Decimal(260), Decimal(20)))
            self.assertIsNone(Inspection(order.id).adjustment)

    @with_transaction()
    def test_leak_bills_as_read(self):
        "A leak on the subscriber's side is billed as read, nothing adjusted"
        pool = Pool()
        Reading = pool.get('water.reading')
        Inspection = pool.get('water.inspection')
        company, subscription, readings = self.setup_readings(
            [20, 40, 60, 260])
        held = readings[-1]
        with set_company(company):
            Reading.inspect([held])
            order, = Inspection.search([('reading', '=', held.id)])
            order = self.work(order, outcome='leak', findings="تسرب بعد العداد")
            Inspection.do([order])
            held = Reading(held.id)
            self.assertEqual((held.state, held.consumption),
                ('valid', Decimal(200)))
            order = Inspection(order.id)
            self.assertEqual(order.state, 'done')
            self.assertIsNone(order.adjustment)

    @with_transaction()
    def test_slow_meter_debits_the_account(self):
        """A meter that ran slow since August: the re-estimated m³ are
        charged at the block prices of the tariff, with a payment term"""
        pool = Pool()
        Inspection = pool.get('water.inspection')
        Line = pool.get('account.move.line')
        company, subscription, readings = self.setup_readings(
            [20, 40, 45, 50])
        with set_company(company):
            order, = Inspection.create([{
                        'company': company.id,
                        'type': 'meter',
                        'subscription': subscription.id,
                        }])
            order = self.work(order, outcome='faulty', meter_condition='slow',
                accuracy=Decimal(25), fault_since=dt.date(2026, 8, 20))
            Inspection.do([order])
            invoice = Inspection(order.id).adjustment
            # 40 m³ in 61 days before the fault: 20 m³ for September's 31
            # days and October's 30, where the meter measured 5 and 5
            self.assertEqual(invoice.state, 'posted')
            self.assertEqual(
                [(l.quantity, l.unit_price, l.amount) for l in invoice.lines],
                [(15, Decimal('5.5'), Decimal('82.50'))] * 2)
            self.assertEqual(invoice.untaxed_amount, Decimal('165.00'))
            self.assertTrue(invoice.payment_term)
            receivable = sum(l.debit - l.credit for l in Line.search([
                        ('move', '=', invoice.move.id),
                        ('water_subscription', '=', subscription.id),
                        ('account.type.receivable', '=', True),
                        ]))
            self.assertEqual(receivable, invoice.total_amount)

    @with_transaction()
    def test_no_average_clear_error(self):
        """Without an average to re-estimate from, closing the work order
        fails with a clear error (the request's transaction is rolled back
        whole: no swap, no reading accepted, no invoice)"""
        pool = Pool()
        Inspection = pool.get('water.inspection')
        Category = pool.get('water.subscription.category')
        company, subscription, readings = self.setup_readings([20, 40])
        Category.write([subscription.category],
            {'default_daily_consumption': None})
        with set_company(company):
            order, = Inspection.create([{
                        'company': company.id,
                        'type': 'meter',
                        'subscription': subscription.id,
                        }])
            # faulty since the installation: no reading before to average
            order = self.work(order, outcome='faulty', fault_since=INSTALLED)
            with self.assertRaises(UserError) as cm:
                Inspection.do([order])
            self.assertIn('cannot be re-estimated', cm.exception.message)

    @with_transaction()
    def test_schedule_needs_inspector_and_date(self):
        "A work order is scheduled with a date and an inspector only"
        pool = Pool()
        Inspection = pool.get('water.inspection')
        company, subscription, _ = self.setup_readings([20])
        with set_company(company):
            order, = Inspection.create([{
                        'company': company.id,
                        'type': 'removed_meter',
                        'subscription': subscription.id,
                        'planned_date': VISIT,
                        }])
            self.assertTrue(order.number)
            self.assertEqual(order.party, subscription.party)
            with self.assertRaises(UserError):
                Inspection.schedule([order])
            # opened by hand and still a draft: it can be deleted
            Inspection.delete([order])

    @with_transaction()
    def test_reading_work_order_kept(self):
        "A work order a reading opened is not deleted"
        pool = Pool()
        Reading = pool.get('water.reading')
        Inspection = pool.get('water.inspection')
        company, subscription, readings = self.setup_readings(
            [20, 40, 60, 260])
        with set_company(company):
            Reading.inspect([readings[-1]])
            order, = Inspection.search([])
            with self.assertRaises(UserError):
                Inspection.delete([order])


@pinned()
class RequestInspectionTestCase(test_request.RequestDesk, UtilityTestCase):
    "A request sends a field team"

    @with_transaction()
    def test_request_sends_field_team(self):
        "A leak complaint opens a meter work order with the request as origin"
        pool = Pool()
        Request = pool.get('water.request')
        Inspection = pool.get('water.inspection')
        self.setup_requests()
        with set_company(self.company):
            request = self.create(self.leak)
            Request.send_inspection([request])
            order, = Inspection.search([])
            self.assertEqual(
                (order.type, order.origin, order.subscription, order.area),
                ('meter', request, self.subscription, self.area))
            self.assertEqual(order.description, request.description)
            self.assertIn('inspection',
                [e.action for e in Request(request.id).events])
            self.assertEqual(Request(request.id).inspections, (order,))
