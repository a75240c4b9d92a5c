# This file is part of the water_utility module.  See README.rst.
"Requests and complaints on the charter's clock"
import datetime as dt
import json

from trytond.exceptions import UserError
from trytond.model.exceptions import AccessError
from trytond.modules.company.tests import set_company
from trytond.pool import Pool
from trytond.transaction import Transaction

from .database import UtilityTestCase, pinned, utility, with_transaction
from . import test_module as base
from . import test_payment

MINUTE = dt.timedelta(minutes=1)
# Thursday 3 December 2026, 12:50 UTC: 14:50 in Gaza
THURSDAY = dt.datetime(2026, 12, 3, 12, 50)


def now():
    return dt.datetime.now().replace(microsecond=0)


class RequestDesk:
    "The account desk of Gaza's centre, for the test cases of requests"

    @classmethod
    def setUpDatabase(cls):
        """Gaza's centre open Saturday to Thursday 08:00-15:00, the
        account desk's team and a copy of the account type that counts
        calendar time"""
        pool = Pool()
        Area = pool.get('water.area')
        Type = pool.get('water.request.type')
        User = pool.get('res.user')
        Team = pool.get('water.request.team')
        u = utility()
        Area.write([u.area], {
                'timezone': 'Asia/Gaza',
                'working_hours': [
                    ('delete', [h.id for h in u.area.working_hours]),
                    ('create', [{
                                'weekday': d,
                                'start_time': dt.time(8),
                                'end_time': dt.time(15),
                                } for d in '560123'])],
                })
        base.create_subscription(u.area, u.route, u.domestic)
        officer, manager = User.create([
                {'name': "Officer", 'login': 'officer'},
                {'name': "Manager", 'login': 'manager'},
                ])
        team, = Team.create([{
                    'name': "Account Desk",
                    'manager': manager.id,
                    'members': [('add', [officer.id])],
                    }])
        account = Type(base.model_data('request_type_bill'))
        # calendar time for the tests that run against the clock
        Type.copy([account], {
                'code': 'BILLC', 'clock': 'calendar', 'team': team.id})

    def setup_requests(self):
        "The records of setUpDatabase"
        pool = Pool()
        Type = pool.get('water.request.type')
        User = pool.get('res.user')
        Team = pool.get('water.request.team')
        Subscription = pool.get('water.subscription')
        u = utility()
        self.company, self.area = u.company, u.area
        self.subscription, = Subscription.search([])
        self.officer, = User.search([('login', '=', 'officer')])
        self.manager, = User.search([('login', '=', 'manager')])
        self.team, = Team.search([])
        self.account = Type(base.model_data('request_type_bill'))
        self.leak = Type(base.model_data('request_type_leak'))
        self.account_calendar, = Type.search([('code', '=', 'BILLC')])

    def create(self, type_=None, received=None, **values):
        pool = Pool()
        Request = pool.get('water.request')
        request, = Request.create([{
                    'company': self.company.id,
                    'subscription': self.subscription.id,
                    'type': (type_ or self.account_calendar).id,
                    'description': "الفاتورة أعلى من المعتاد",
                    'received': received or now(),
                    **values,
                    }])
        return request


@pinned()
class RequestTestCase(RequestDesk, UtilityTestCase):
    """Test the requests and complaints of the Water Utility module

    The clock starts on Monday 7 December 2026 at 10:00 in Gaza: the
    requests received minutes before are of the same day and month."""

    @with_transaction()
    def test_deadline_on_the_centres_clock(self):
        "An account request 10 minutes before closing is due on Saturday"
        self.setup_requests()
        with set_company(self.company):
            request = self.create(self.account, received=THURSDAY)
            self.assertEqual(request.deadline, dt.datetime(2026, 12, 5, 6, 35))
            self.assertEqual(request.warning_at,
                dt.datetime(2026, 12, 5, 6, 25))
            self.assertEqual(request.area, self.area)
            self.assertEqual(request.party, self.subscription.party)
            self.assertTrue(request.number)
            leak = self.create(self.leak, received=THURSDAY)
            self.assertEqual(leak.deadline, dt.datetime(2026, 12, 4, 12, 50))

    @with_transaction()
    def test_policy_change_keeps_deadline(self):
        "A later change of the policy does not move a received request"
        pool = Pool()
        Type = pool.get('water.request.type')
        self.setup_requests()
        with set_company(self.company):
            request = self.create(self.leak, received=THURSDAY)
            Type.write([self.leak], {'duration': dt.timedelta(hours=48)})
            request = type(request)(request.id)
            self.assertEqual(request.deadline, dt.datetime(2026, 12, 4, 12, 50))
            self.assertEqual(request.target, dt.timedelta(hours=24))

    @with_transaction()
    def test_answered_in_time_and_late(self):
        "30 minutes meet the 45-minute target, 50 breach it"
        pool = Pool()
        Request = pool.get('water.request')
        self.setup_requests()
        with set_company(self.company):
            met = self.create(received=now() - 30 * MINUTE,
                answer="صححنا القراءة وأصدرنا فاتورة جديدة")
            late = self.create(received=now() - 50 * MINUTE,
                answer="القراءة صحيحة")
            Request.resolve([met, late])
            self.assertEqual([met.state, late.state], ['resolved'] * 2)
            self.assertEqual(met.sla_status, 'met')
            self.assertEqual(late.sla_status, 'breached')
            self.assertFalse(met.breached)
            self.assertTrue(late.breached)
            self.assertLess(abs(met.response_time - 30 * MINUTE), MINUTE)
            self.assertEqual(
                Request.search([('sla_status', '=', 'breached')]), [late])
            self.assertEqual(
                Request.search([('sla_status', '=', 'met')]), [met])
            self.assertEqual(
                [e.action for e in met.events], ['created', 'resolved'])

    @with_transaction()
    def test_answer_required(self):
        "No answer, no resolution"
        pool = Pool()
        Request = pool.get('water.request')
        self.setup_requests()
        with set_company(self.company):
            request = self.create(answer="  ")
            with self.assertRaises(UserError):
                Request.resolve([request])
            self.assertEqual(request.state, 'open')

    @with_transaction()
    def test_workflow_and_timeline(self):
        "Assigned, started, answered, closed, reopened with a reason"
        pool = Pool()
        Request = pool.get('water.request')
        self.setup_requests()
        with set_company(self.company):
            request = self.create(received=now() - 10 * MINUTE)
            self.assertEqual(request.team, self.team)
            request.assignee = self.officer
            request.save()
            Request.assign([request])
            self.assertEqual(request.state, 'assigned')
            Request.start([request])
            request.answer = "تم التحقق"
            request.save()
            Request.resolve([request])
            Request.close([request])
            self.assertEqual(request.state, 'closed')
            deadline = request.deadline
            Request.do_reopen([request], "المشترك غير راضٍ")
            self.assertEqual(request.state, 'in_progress')
            self.assertEqual(request.reopen_count, 1)
            self.assertIsNone(request.resolved_at)
            self.assertEqual(request.deadline, deadline)
            self.assertEqual([e.action for e in request.events], [
                    'created', 'assigned', 'started', 'resolved', 'closed',
                    'reopened'])
            self.assertEqual(request.events[-1].description,
                "المشترك غير راضٍ")
            with self.assertRaises(AccessError):
                Request.delete([request])

    @with_transaction()
    def test_repeat_needs_root_cause(self):
        "A second leak within the window is a repeat, closed with a cause"
        pool = Pool()
        Request = pool.get('water.request')
        Configuration = pool.get('water.configuration')
        self.setup_requests()
        with set_company(self.company):
            first = self.create(self.leak, received=now() - dt.timedelta(
                    days=20), answer="أصلحنا التسرب")
            other_type = self.create(self.account_calendar)
            second = self.create(self.leak, answer="أصلحنا التسرب ثانية")
            self.assertIsNone(first.repeat_of)
            self.assertIsNone(other_type.repeat_of)
            self.assertEqual(second.repeat_of, first)
            self.assertEqual(
                Request.search([('repeat_of', '!=', None)]), [second])
            Request.resolve([second])
            with self.assertRaises(UserError):
                Request.close([second])
            second.root_cause = "وصلة قديمة متآكلة: استبدلت بالكامل"
            second.save()
            Request.close([second])
            self.assertEqual(second.state, 'closed')

            Configuration.write([Configuration(1)],
                {'request_repeat_days': 10})
            third = self.create(self.leak, received=now() + dt.timedelta(
                    days=15))
            self.assertIsNone(third.repeat_of)

    @with_transaction()
    def test_cron_warns_and_escalates(self):
        "The assignee is warned before the deadline, the manager at breach"
        pool = Pool()
        Request = pool.get('water.request')
        Notification = pool.get('res.notification')
        self.setup_requests()
        with set_company(self.company):
            # 45 minutes, warned 10 minutes before: due soon at 40
            due = self.create(received=now() - 40 * MINUTE,
                assignee=self.officer.id)
            breached = self.create(received=now() - 50 * MINUTE)
            running = self.create(received=now() - 5 * MINUTE)
            self.assertEqual(
                [r.sla_status for r in [due, breached, running]],
                ['due', 'breached', 'running'])
            Request.check_deadlines()
            Request.check_deadlines()  # a second run adds nothing
            self.assertTrue(due.warned)
            self.assertFalse(due.breached)
            self.assertTrue(breached.breached)
            self.assertEqual(breached.escalated_to, self.manager)
            self.assertFalse(running.warned)
            notifications = Notification.search([], order=[('id', 'ASC')])
            self.assertEqual(
                [(n.user, json.loads(n.records)) for n in notifications],
                [(self.officer, [due.id]), (self.manager, [breached.id])])
            self.assertIn(due.number, notifications[0].label)
            self.assertEqual(
                [e.action for e in breached.events], ['created', 'escalated'])
            self.assertEqual(
                Request.search([('sla_status', '=', 'due')]), [due])
            self.assertEqual(
                Request.search([('sla_status', 'in', ['breached', 'due'])],
                    order=[('id', 'ASC')]), [due, breached])

    @with_transaction()
    def test_escalation_to_configured_manager(self):
        "Without a team manager the configured requests manager is warned"
        pool = Pool()
        Request = pool.get('water.request')
        Configuration = pool.get('water.configuration')
        self.setup_requests()
        with set_company(self.company):
            Configuration.write([Configuration(1)],
                {'request_manager': self.manager.id})
            breached = self.create(self.leak,
                received=now() - dt.timedelta(hours=25))
            self.assertIsNone(breached.team)
            Request.check_deadlines()
            self.assertEqual(breached.escalated_to, self.manager)

    @with_transaction()
    def test_caller_without_subscription(self):
        "A caller who is not a subscriber is answered too"
        pool = Pool()
        Request = pool.get('water.request')
        self.setup_requests()
        with set_company(self.company):
            request, = Request.create([{
                        'company': self.company.id,
                        'caller_name': "سامي",
                        'caller_phone': '+970599000111',
                        'channel': 'phone',
                        'type': self.leak.id,
                        'area': self.area.id,
                        'description': "تسرب في الشارع",
                        }])
            self.assertIsNone(request.repeat_of)
            self.assertTrue(request.deadline > request.received)

    @with_transaction()
    def test_measures(self):
        "Compliance, response times, repeats and complaints per 1,000"
        pool = Pool()
        Request = pool.get('water.request')
        Statistic = pool.get('water.request.statistic')
        self.setup_requests()
        with set_company(self.company):
            # received one after the other: each repeats the one before
            waiting = self.create(received=now() - 60 * MINUTE)
            answers = []
            for minutes in [50, 40, 30, 20, 10]:
                answers.append(self.create(
                        received=now() - minutes * MINUTE, answer="تم"))
            Request.resolve(answers)
            Request.check_deadlines()
            leak = self.create(self.leak, answer="أصلحنا")
            Request.resolve([leak])

            rows = Statistic.search([])
            by_type = {r.type: r for r in rows}
            self.assertEqual(len(rows), 2)
            account = by_type[self.account_calendar]
            self.assertEqual(account.month, waiting.month)
            self.assertEqual(account.kind, 'account')
            self.assertEqual(
                (account.requests, account.answered, account.met,
                    account.breached, account.repeats),
                (6, 5, 4, 2, 5))
            self.assertAlmostEqual(account.compliance, 0.8)
            self.assertAlmostEqual(account.repeat_rate, 5 / 6)
            # every one of the 6 is a complaint, against one subscription
            self.assertAlmostEqual(account.complaints_per_1000, 6000)
            self.assertLess(
                abs(account.average_response - 30 * MINUTE), MINUTE)
            self.assertLess(abs(account.p90_response - 50 * MINUTE), MINUTE)
            self.assertEqual(by_type[self.leak].breached, 0)

            Report = pool.get('water.request.charter.report', type='report')
            with Transaction().set_context(language='en'):
                ext, content, _, _ = Report.execute([], {
                        'month': account.month.isoformat(),
                        'company': self.company.id,
                        })
            self.assertEqual(ext, 'pdf')
            text = test_payment.pdf_text(content)
            self.assertIn('Monthly Service Charter Report', text)
            self.assertIn('80.0 %', text)
            self.assertIn(self.leak.name, text)
            # the satisfaction surveys of the month have their section
            self.assertIn('Satisfaction per Area and Request Type', text)
            self.assertIn('Queue Waiting Times', text)
            self.assertIn('New Connections per Month', text)

    @with_transaction()
    def test_answer_printed(self):
        "The written answer is printed for the subscriber"
        pool = Pool()
        Request = pool.get('water.request')
        self.setup_requests()
        with set_company(self.company):
            request = self.create(answer="صححنا قراءة العداد")
            Request.resolve([request])
            Report = pool.get('water.request.answer', type='report')
            ext, content, _, _ = Report.execute([request.id], {})
            self.assertEqual(ext, 'pdf')
            text = test_payment.pdf_text(content)
            self.assertIn(request.number, text)

    @with_transaction()
    def test_recheck_held_reading(self):
        """A dispute over a held reading sends it back to the reader's
        sheet and assigns the request to the route's reader"""
        pool = Pool()
        Request = pool.get('water.request')
        Reading = pool.get('water.reading')
        User = pool.get('res.user')
        Type = pool.get('water.request.type')
        case = base.WaterUtilityTestCase
        company, route, (subscription,) = case._reading_setup(self)
        self.company = company
        with set_company(company):
            reader, = User.create([{'name': "Reader", 'login': 'reader'}])
            route.reader = reader
            route.save()
            case._read(self, subscription, dt.date(2026, 7, 20), 110)
            # a fall below the previous index is held
            held = case._read(self, subscription, dt.date(2026, 8, 20), 90)
            Reading.check([held])
            self.assertEqual(held.state, 'held')
            request, = Request.create([{
                        'company': company.id,
                        'subscription': subscription.id,
                        'type': base.model_data('request_type_bill'),
                        'reading': held.id,
                        'description': "القراءة خاطئة",
                        }])
            Request.recheck_reading([request])
            self.assertEqual(held.state, 'reread')
            self.assertEqual(request.assignee, reader)
            self.assertEqual(request.state, 'assigned')
            self.assertEqual(held.requests, (request,))
            self.assertEqual(Type(base.model_data('request_type_bill')).kind,
                'account')
