# This file is part of the water_utility module.  See README.rst.
"""Monthly billing: runs, batches, bills and their lines

A billing run calculates a bill per subscription (a preview with its lines
per tariff component, or held back with its reason) and posts them as
customer invoices.  The work is split in batches, one per reading route,
handed to Tryton's task queue: several trytond-worker processes share them,
and without a worker they run in the web process after the click.  Each
batch runs inside a savepoint: a failing batch is marked failed with its
message and leaves no trace; the others go on; Resume runs the failed and
pending ones again.
"""
import datetime as dt
import logging
import time
from collections import defaultdict
from contextlib import contextmanager
from decimal import Decimal

from sql import Null
from sql.aggregate import Count, Max, Min, Sum
from sql.conditionals import Case, Coalesce
from sql.operators import Equal

from trytond import backend, config
from trytond.exceptions import UserError
from trytond.i18n import gettext
from trytond.model import (
    Exclude, Index, ModelSQL, ModelView, Workflow, fields)
from trytond.modules.currency.fields import Monetary
from trytond.pool import Pool
from trytond.pyson import Eval, If
from trytond.tools import grouped_slice
from trytond.transaction import (
    Transaction, TransactionError, without_check_access)
from trytond.wizard import Button, StateTransition, StateView, Wizard

from . import bulk, consumption, rating
from .exceptions import BillError, BillingError
from .reading import month_bounds
from .statement import PAYMENT_JOURNALS

logger = logging.getLogger(__name__)
# times a worker looks again at a run another worker is checking
CHECK_STATE_RETRY = 10

# readings that hold the bill of their subscription until resolved
UNRESOLVED = ['draft', 'held', 'inspection', 'reread']

HOLD_REASONS = [
    (None, ''),
    ('reading', "Reading Exception Not Resolved"),
    ('not_read', "Not Read Yet"),
    ('tariff', "No Tariff"),
    ('negative', "Negative Consumption"),
    ]

DELIVERY_METHODS = [
    (None, ''),
    ('printed', "Printed"),
    ('email', "E-mailed"),
    ('handed', "Handed Over"),
    ('portal', "Portal"),
    ]


def first_of_month(date):
    return date.replace(day=1) if date else date


@contextmanager
def savepoint(name):
    """Run the block in a savepoint: on an error the database goes back to
    where it was and the error goes on"""
    transaction = Transaction()
    cursor = transaction.connection.cursor()
    cursor.execute(f'SAVEPOINT "{name}"')
    try:
        yield
    except Exception:
        cursor.execute(f'ROLLBACK TO SAVEPOINT "{name}"')
        # the records cached in the transaction may hold what was undone
        transaction.cache.clear()
        transaction._cache_deque.clear()
        raise
    else:
        cursor.execute(f'RELEASE SAVEPOINT "{name}"')


class _Locks(TransactionError):
    "Start the transaction again with every lock the errors asked for"

    def __init__(self, errors):
        super().__init__()
        self.errors = errors

    def fix(self, extras):
        super().fix(extras)
        for error in self.errors:
            error.fix(extras)


class Run(Workflow, ModelSQL, ModelView):
    "Billing Run"
    __name__ = 'water.billing.run'
    __string__ = "Billing Run"

    _states = {
        'readonly': Eval('state') != 'draft',
        }

    company = fields.Many2One(
        'company.company', "Company", required=True, states=_states)
    month = fields.Date(
        "Month", required=True, states=_states,
        help="The month whose readings are billed (any day of it).")
    areas = fields.Many2Many(
        'water.billing.run-water.area', 'run', 'area', "Areas",
        states=_states, domain=[('company', '=', Eval('company', -1))],
        help="Leave empty for every area.")
    routes = fields.Many2Many(
        'water.billing.run-water.route', 'run', 'route', "Routes",
        states=_states,
        domain=[If(Eval('areas'), ('area', 'in', Eval('areas', [])), ())],
        help="Leave empty for every route of the areas.")
    invoice_date = fields.Date(
        "Issue Date", required=True,
        states={
            'readonly': ~Eval('state').in_(['draft', 'calculated']),
            },
        help="The date of the bills; they must reach the subscribers in "
        "the first week of the month.")
    state = fields.Selection([
            ('draft', "Draft"),
            ('calculating', "Calculating"),
            ('calculated', "Calculated"),
            ('posting', "Posting"),
            ('posted', "Posted"),
            ], "State", readonly=True, required=True, sort=False)
    bills = fields.One2Many('water.bill', 'run', "Bills", readonly=True)
    batches = fields.One2Many(
        'water.billing.batch', 'run', "Batches", readonly=True)
    totals = fields.One2Many(
        'water.billing.run.total', 'run', "Totals", readonly=True)
    bill_count = fields.Function(fields.Integer("Bills"), 'get_counts')
    held_count = fields.Function(fields.Integer("Held"), 'get_counts')
    posted_count = fields.Function(fields.Integer("Posted"), 'get_counts')
    amount = fields.Function(Monetary(
            "Amount", currency='currency', digits='currency',
            help="The bills calculated or posted, before taxes."),
        'get_counts')
    progress = fields.Function(
        fields.Float("Progress", digits=(1, 4),
            help="The share of the batches done."),
        'get_progress')
    failed_count = fields.Function(
        fields.Integer("Failed Batches"), 'get_progress')
    currency = fields.Function(
        fields.Many2One('currency.currency', "Currency"), 'get_currency')

    del _states

    @classmethod
    def __setup__(cls):
        super().__setup__()
        t = cls.__table__()
        cls._sql_indexes.add(Index(t, (t.month, Index.Range())))
        cls._order = [('month', 'DESC'), ('id', 'DESC')]
        cls._transitions |= {
            ('draft', 'calculating'),
            ('calculated', 'calculating'),
            ('calculating', 'calculated'),
            ('calculated', 'draft'),
            ('calculated', 'posting'),
            ('posting', 'posted'),
            }
        cls._buttons.update({
                'calculate': {
                    'invisible': ~Eval('state').in_(['draft', 'calculated']),
                    'icon': 'tryton-refresh',
                    'depends': ['state'],
                    },
                'draft': {
                    'invisible': Eval('state') != 'calculated',
                    'icon': 'tryton-back',
                    'depends': ['state'],
                    },
                'post': {
                    'invisible': Eval('state') != 'calculated',
                    'icon': 'tryton-ok',
                    'depends': ['state'],
                    },
                'resume': {
                    'invisible': ~Eval('state').in_(
                        ['calculating', 'posting']),
                    'icon': 'tryton-forward',
                    'depends': ['state'],
                    },
                })

    @classmethod
    def default_company(cls):
        return Transaction().context.get('company')

    @classmethod
    def default_state(cls):
        return 'draft'

    @classmethod
    def default_month(cls):
        # the readings of last month are billed in the first days
        today = Pool().get('ir.date').today()
        return first_of_month(today.replace(day=1) - dt.timedelta(days=1))

    @classmethod
    def default_invoice_date(cls):
        return Pool().get('ir.date').today()

    def get_currency(self, name):
        return self.company.currency.id

    def get_rec_name(self, name):
        return f'{self.month:%Y-%m} #{self.id}'

    @classmethod
    def search_rec_name(cls, name, clause):
        _, operator, value = clause
        try:
            month = dt.datetime.strptime(
                str(value).strip('%').strip(), '%Y-%m').date()
        except ValueError:
            return [('id', '=', -1)]
        return [('month', '=', month)]

    @classmethod
    def preprocess_values(cls, mode, values):
        values = super().preprocess_values(mode, values)
        if values.get('month'):
            values['month'] = first_of_month(values['month'])
        return values

    @classmethod
    def get_counts(cls, runs, names):
        pool = Pool()
        Bill = pool.get('water.bill')
        bill = Bill.__table__()
        cursor = Transaction().connection.cursor()
        result = {n: {r.id: 0 for r in runs} for n in names}
        for sub in grouped_slice(runs, backend.MAX_QUERY_PARAMS):
            cursor.execute(*bill.select(
                    bill.run, bill.state, Count(bill.id),
                    Sum(bill.amount),
                    where=fields.SQL_OPERATORS['in'](
                        bill.run, [r.id for r in sub]),
                    group_by=[bill.run, bill.state]))
            for run, state, count, amount in cursor:
                if 'bill_count' in names and state in {
                        'calculated', 'posted'}:
                    result['bill_count'][run] += count
                if 'held_count' in names and state == 'held':
                    result['held_count'][run] += count
                if 'posted_count' in names and state == 'posted':
                    result['posted_count'][run] += count
                if 'amount' in names and state in {'calculated', 'posted'}:
                    result['amount'][run] += Decimal(str(amount or 0))
        if 'amount' in names:
            for run in runs:
                result['amount'][run.id] = run.currency.round(
                    result['amount'][run.id])
        return result

    @classmethod
    def get_progress(cls, runs, names):
        pool = Pool()
        Batch = pool.get('water.billing.batch')
        batch = Batch.__table__()
        cursor = Transaction().connection.cursor()
        done, total, failed = (defaultdict(int) for _ in range(3))
        for sub in grouped_slice(runs, backend.MAX_QUERY_PARAMS):
            cursor.execute(*batch.select(
                    batch.run, batch.state, Count(batch.id),
                    where=fields.SQL_OPERATORS['in'](
                        batch.run, [r.id for r in sub]),
                    group_by=[batch.run, batch.state]))
            for run, state, count in cursor:
                total[run] += count
                if state == 'done':
                    done[run] += count
                elif state == 'failed':
                    failed[run] += count
        result = {}
        if 'progress' in names:
            result['progress'] = {r.id: (done[r.id] / total[r.id]
                    if total[r.id] else 0.) for r in runs}
        if 'failed_count' in names:
            result['failed_count'] = {r.id: failed[r.id] for r in runs}
        return result

    def get_routes(self):
        "Return the routes of the run: its routes, else those of its areas"
        pool = Pool()
        Route = pool.get('water.route')
        if self.routes:
            return list(self.routes)
        domain = [('area.company', '=', self.company.id)]
        if self.areas:
            domain.append(('area', 'in', [a.id for a in self.areas]))
        return Route.search(domain)

    @classmethod
    def _start(cls, runs, stage):
        pool = Pool()
        Batch = pool.get('water.billing.batch')
        batches = []
        for run in runs:
            done = {b.route.id: b for b in run.batches}
            for route in run.get_routes():
                batch = done.pop(route.id, None) or Batch(run=run, route=route)
                batch.stage = stage
                batch.state = 'pending'
                batch.message = None
                batches.append(batch)
            Batch.delete(list(done.values()))
        Batch.save(batches)
        cls._enqueue(batches)

    @classmethod
    def _enqueue(cls, batches):
        """Hand the batches to the queue, each as a task of its own: the
        calculations all at once, the postings of a run one after the other

        A task runs in one transaction, and a transaction that must lock
        starts again from its beginning.  Posting numbers the invoices and
        moves from gapless sequences, locked until the batch commits: two
        workers posting side by side would only wait for each other (and
        Tryton's queue puts a task that cannot lock off for seconds), so
        each posted batch queues the next one (Batch.process).
        """
        pool = Pool()
        Batch = pool.get('water.billing.batch')
        first_posting = {}
        tasks = []
        for batch in sorted(batches, key=lambda b: b.id):
            if batch.stage != 'post':
                tasks.append(batch)
            elif batch.run.id not in first_posting:
                first_posting[batch.run.id] = batch
                tasks.append(batch)
        with Transaction().set_context(queue_name='water_billing'):
            for batch in tasks:
                # a task late in the queue does not take a later stage
                Batch.__queue__.process([batch], batch.stage)

    @classmethod
    @ModelView.button
    @Workflow.transition('calculating')
    def calculate(cls, runs):
        "Calculate the bills of every route, batch by batch"
        cls._start(runs, 'calculate')

    @classmethod
    @ModelView.button
    @Workflow.transition('draft')
    def draft(cls, runs):
        "Remove the calculated and held bills to change the run"
        pool = Pool()
        Bill = pool.get('water.bill')
        Batch = pool.get('water.billing.batch')
        Bill.delete(Bill.search([
                    ('run', 'in', [r.id for r in runs]),
                    ('state', 'in', ['calculated', 'held']),
                    ]))
        Batch.delete(Batch.search([('run', 'in', [r.id for r in runs])]))

    @classmethod
    @ModelView.button
    @Workflow.transition('posting')
    def post(cls, runs):
        "Post the calculated bills as invoices, batch by batch"
        cls._start(runs, 'post')

    @classmethod
    @ModelView.button
    def resume(cls, runs):
        "Run again the batches that failed or did not finish"
        pool = Pool()
        Batch = pool.get('water.billing.batch')
        batches = Batch.search([
                ('run', 'in', [r.id for r in runs]),
                ('state', '!=', 'done'),
                ])
        Batch.write(batches, {'state': 'pending', 'message': None})
        cls._enqueue(batches)
        cls.update_state(runs)

    @classmethod
    def update_state(cls, runs, lock=False):
        """Move the runs whose batches are all done to the next state

        Without lock, the transaction sees the batches as they were when it
        started: two workers finishing the last batches at the same moment
        each see the other's as pending.  check_state() runs once they have
        committed and locks the runs.
        """
        pool = Pool()
        Batch = pool.get('water.billing.batch')
        runs = cls.browse([r.id for r in runs])
        if lock:
            cls.lock(runs)
        open_runs = {b.run.id for b in Batch.search([
                    ('run', 'in', [r.id for r in runs]),
                    ('state', '!=', 'done'),
                    ])}
        finished = [r for r in runs if r.id not in open_runs]
        calculated = [r for r in finished if r.state == 'calculating']
        posted = [r for r in finished if r.state == 'posting']
        if calculated:
            cls.finish_calculation(calculated)
        if posted:
            cls.finish_posting(posted)

    @classmethod
    def check_state(cls, database, user, context, run_ids):
        """Update the state of runs in a transaction of its own, locked

        Called when a batch's transaction has ended, while it is still the
        current one: a new transaction is asked for explicitly.  Nothing
        may escape from here: the queue would take it for the batch's
        failure and run the committed batch again.
        """
        extras, attempt = {}, 0
        while True:
            try:
                with Transaction(new=True).start(database, user,
                        context=context, **extras) as transaction:
                    try:
                        cls.update_state(cls.browse(run_ids), lock=True)
                    except TransactionError as error:
                        transaction.rollback()
                        error.fix(extras)
                        continue
                return
            except backend.DatabaseOperationalError:
                # another worker checks the run at this moment: wait for
                # it, then look again at what it committed
                attempt += 1
                if attempt <= CHECK_STATE_RETRY:
                    time.sleep(0.05 * attempt)
                    continue
                logger.warning("billing runs %s not checked", run_ids,
                    exc_info=True)
                return
            except Exception:
                logger.exception("billing runs %s not checked", run_ids)
                return

    @classmethod
    @Workflow.transition('calculated')
    def finish_calculation(cls, runs):
        pass

    @classmethod
    @Workflow.transition('posted')
    def finish_posting(cls, runs):
        pass

    @classmethod
    def check_modification(cls, mode, runs, values=None, external=False):
        super().check_modification(
            mode, runs, values=values, external=external)
        if mode == 'delete':
            for run in runs:
                if run.state not in {'draft', 'calculated'} or any(
                        b.state in {'posted', 'credited'} for b in run.bills):
                    raise BillingError(gettext(
                            'water_utility.msg_billing_run_delete',
                            run=run.rec_name))

    @classmethod
    def delete(cls, runs):
        pool = Pool()
        Bill = pool.get('water.bill')
        Bill.delete(Bill.search([('run', 'in', [r.id for r in runs])]))
        super().delete(runs)


class RunArea(ModelSQL):
    "Billing Run - Area"
    __name__ = 'water.billing.run-water.area'
    run = fields.Many2One(
        'water.billing.run', "Run", required=True, ondelete='CASCADE')
    area = fields.Many2One(
        'water.area', "Area", required=True, ondelete='CASCADE')


class RunRoute(ModelSQL):
    "Billing Run - Route"
    __name__ = 'water.billing.run-water.route'
    run = fields.Many2One(
        'water.billing.run', "Run", required=True, ondelete='CASCADE')
    route = fields.Many2One(
        'water.route', "Route", required=True, ondelete='CASCADE')


class Batch(ModelSQL, ModelView):
    "Billing Batch"
    __name__ = 'water.billing.batch'
    __string__ = "Billing Batch"

    run = fields.Many2One(
        'water.billing.run', "Run", required=True, ondelete='CASCADE',
        readonly=True)
    route = fields.Many2One(
        'water.route', "Route", required=True, ondelete='CASCADE',
        readonly=True)
    stage = fields.Selection([
            ('calculate', "Calculation"),
            ('post', "Posting"),
            ], "Stage", readonly=True, required=True)
    state = fields.Selection([
            ('pending', "Pending"),
            ('done', "Done"),
            ('failed', "Failed"),
            ], "State", readonly=True, required=True, sort=False)
    message = fields.Text("Message", readonly=True)
    bill_count = fields.Integer("Bills", readonly=True)
    duration = fields.TimeDelta("Duration", readonly=True)

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls.__access__.add('run')
        t = cls.__table__()
        cls._sql_indexes.add(Index(t, (t.run, Index.Range()),
                (t.state, Index.Equality(cardinality='low'))))
        cls._order = [('run', 'DESC'), ('route', 'ASC'), ('id', 'ASC')]

    @classmethod
    def default_state(cls):
        return 'pending'

    @classmethod
    def default_stage(cls):
        return 'calculate'

    @classmethod
    def process(cls, batches, stage=None):
        """Calculate or post the bills of each batch (at stage)

        The task of the queue (or of the web process without worker).
        """
        pool = Pool()
        Run = pool.get('water.billing.run')
        Bill = pool.get('water.bill')
        runs, posted = set(), []
        # a batch queued twice is processed once
        for batch in cls.browse([b.id for b in batches]):
            if batch.state == 'done' or stage not in {None, batch.stage}:
                continue
            runs.add(batch.run)
            if batch.stage == 'post':
                posted.append(batch)
            started = time.monotonic()
            try:
                with savepoint('water_billing_batch'):
                    if batch.stage == 'calculate':
                        count = len(Bill.calculate(
                                batch.run.month, batch.run.company,
                                Bill.route_subscriptions(batch.run,
                                    batch.route),
                                run=batch.run, route=batch.route))
                    else:
                        count = len(Bill.post_run_route(
                                batch.run, batch.route))
            except TransactionError:
                # the transaction starts again with the records locked
                raise
            except Exception as exception:
                if isinstance(exception, UserError):
                    message = exception.message
                else:
                    logger.exception("billing batch %s failed", batch.id)
                    message = f'{type(exception).__name__}: {exception}'
                batch = cls(batch.id)
                cls.write([batch], {
                        'state': 'failed',
                        'message': message,
                        'duration': dt.timedelta(
                            seconds=time.monotonic() - started),
                        })
                continue
            cls.write([cls(batch.id)], {
                    'state': 'done',
                    'message': None,
                    'bill_count': count,
                    'duration': dt.timedelta(
                        seconds=time.monotonic() - started),
                    })
        if posted:
            # the next posting of each run, once this one is committed
            Run._enqueue(cls.search([
                        ('run', 'in', list({b.run.id for b in posted})),
                        ('stage', '=', 'post'),
                        ('state', '=', 'pending'),
                        ('id', 'not in', [b.id for b in batches]),
                        ], order=[('id', 'ASC')]))
        if runs:
            Run.update_state(list(runs))
            if config.getboolean('queue', 'worker', default=False):
                # workers run side by side: check again once committed
                transaction = Transaction()
                transaction.atexit(Run.check_state,
                    transaction.database.name, transaction.user,
                    dict(transaction.context), [r.id for r in runs])


class Bill(Workflow, ModelSQL, ModelView):
    "Water Bill"
    __name__ = 'water.bill'
    __string__ = "Water Bill"

    company = fields.Many2One(
        'company.company', "Company", required=True, readonly=True)
    run = fields.Many2One(
        'water.billing.run', "Billing Run", readonly=True,
        ondelete='RESTRICT')
    subscription = fields.Many2One(
        'water.subscription', "Subscription", required=True, readonly=True,
        ondelete='RESTRICT')
    party = fields.Many2One(
        'party.party', "Subscriber", required=True, readonly=True,
        ondelete='RESTRICT',
        context={
            'company': Eval('company', -1),
            },
        depends={'company'})
    address = fields.Many2One(
        'party.address', "Premises Address", readonly=True,
        ondelete='RESTRICT')
    area = fields.Many2One(
        'water.area', "Area", required=True, readonly=True,
        ondelete='RESTRICT')
    route = fields.Many2One(
        'water.route', "Route", readonly=True, ondelete='RESTRICT')
    category = fields.Many2One(
        'water.subscription.category', "Category", required=True,
        readonly=True, ondelete='RESTRICT')
    tariff = fields.Many2One(
        'water.tariff', "Tariff", readonly=True, ondelete='RESTRICT')
    month = fields.Date("Month", required=True, readonly=True)
    start_date = fields.Date(
        "From", readonly=True,
        help="The first day the bill covers (consumption or charges).")
    end_date = fields.Date(
        "To", readonly=True,
        help="The last day the bill covers (consumption or charges).")
    deadline = fields.Date(
        "Delivery Deadline", readonly=True,
        help="The bill must reach the subscriber by this day.")
    meter = fields.Many2One(
        'water.meter', "Meter", readonly=True, ondelete='RESTRICT')
    previous_date = fields.Date("Previous Reading Date", readonly=True)
    previous_value = fields.Numeric(
        "Previous Reading", digits=(16, 3), readonly=True)
    reading_date = fields.Date("Reading Date", readonly=True)
    current_value = fields.Numeric(
        "Current Reading", digits=(16, 3), readonly=True)
    consumption = fields.Numeric(
        "Consumption (m³)", digits=(16, 3), readonly=True)
    days = fields.Integer("Days", readonly=True)
    estimated = fields.Boolean(
        "Estimated", readonly=True,
        help="The meter could not be read: the consumption is estimated "
        "and the next actual reading settles it.")
    final = fields.Boolean(
        "Final Bill", readonly=True,
        help="The subscription closed: the bill runs to the meter's "
        "removal.")
    readings = fields.One2Many(
        'water.reading', 'bill', "Readings", readonly=True)
    lines = fields.One2Many('water.bill.line', 'bill', "Lines", readonly=True)
    amount = Monetary(
        "Amount", currency='currency', digits='currency', readonly=True,
        help="The bill's charges before taxes.")
    tax_amount = Monetary(
        "Tax", currency='currency', digits='currency', readonly=True)
    total_amount = Monetary(
        "Bill Amount", currency='currency', digits='currency', readonly=True)
    previous_balance = Monetary(
        "Previous Balance", currency='currency', digits='currency',
        readonly=True,
        help="What the subscriber owed on the previous bill.")
    payments = Monetary(
        "Payments", currency='currency', digits='currency', readonly=True,
        help="Payments received since the previous bill.")
    adjustments = Monetary(
        "Adjustments", currency='currency', digits='currency', readonly=True,
        help="Credit notes and other adjustments since the previous bill "
        "(negative: in the subscriber's favour).")
    total_due = Monetary(
        "Total Due", currency='currency', digits='currency', readonly=True)
    ledger_lines = fields.One2Many(
        'water.bill.ledger_line', 'bill', "Account Movements", readonly=True)
    state = fields.Selection([
            ('held', "Held"),
            ('calculated', "Calculated"),
            ('posted', "Posted"),
            ('credited', "Credited"),
            ], "State", readonly=True, required=True, sort=False)
    hold_reason = fields.Selection(
        HOLD_REASONS, "Held Because", readonly=True, sort=False,
        states={
            'invisible': Eval('state') != 'held',
            })
    hold_detail = fields.Char(
        "Detail", readonly=True,
        states={
            'invisible': Eval('state') != 'held',
            })
    invoice = fields.Many2One(
        'account.invoice', "Invoice", readonly=True, ondelete='RESTRICT')
    credit_note = fields.Many2One(
        'account.invoice', "Credit Note", readonly=True, ondelete='RESTRICT',
        states={
            'invisible': ~Eval('credit_note'),
            })
    corrects = fields.Many2One(
        'water.bill', "Corrects", readonly=True, ondelete='RESTRICT',
        states={
            'invisible': ~Eval('corrects'),
            },
        help="The bill credited and replaced by this one.")
    corrected_by = fields.One2Many(
        'water.bill', 'corrects', "Corrected By", readonly=True,
        states={
            'invisible': ~Eval('corrected_by'),
            })
    issue_date = fields.Date("Issue Date", readonly=True)
    due_date = fields.Date("Due Date", readonly=True)
    delivery_method = fields.Selection(
        DELIVERY_METHODS, "Delivered By", readonly=True, sort=False)
    delivery_date = fields.Date("Delivered On", readonly=True)
    correction_reason = fields.Char(
        "Correction Reason", readonly=True,
        states={
            'invisible': ~Eval('correction_reason'),
            })
    currency = fields.Function(
        fields.Many2One('currency.currency', "Currency"), 'get_currency')

    @classmethod
    def __setup__(cls):
        super().__setup__()
        t = cls.__table__()
        cls._sql_constraints = [
            # one bill per subscription and month, whoever runs billing;
            # a credited bill gives way to its correction
            ('subscription_month_unique',
                Exclude(t, (t.subscription, Equal), (t.month, Equal),
                    where=t.state.in_(['calculated', 'posted'])),
                'water_utility.msg_bill_unique'),
            ]
        cls._sql_indexes.update({
                Index(t, (t.subscription, Index.Range()),
                    (t.month, Index.Range())),
                Index(t, (t.run, Index.Range()),
                    (t.route, Index.Range())),
                Index(t, (t.month, Index.Range()),
                    (t.state, Index.Equality(cardinality='low'))),
                Index(t, (t.invoice, Index.Range())),
                Index(t, (t.tariff, Index.Range()),
                    (t.end_date, Index.Range())),
                })
        cls._order = [('month', 'DESC'), ('subscription', 'ASC'),
            ('id', 'DESC')]
        cls._transitions |= {
            ('calculated', 'posted'),
            ('posted', 'credited'),
            }
        cls._buttons.update({
                'correct': {
                    'invisible': Eval('state') != 'posted',
                    'icon': 'tryton-undo',
                    'depends': ['state'],
                    },
                'deliver': {
                    'invisible': Eval('state') != 'posted',
                    'icon': 'tryton-forward',
                    'depends': ['state'],
                    },
                })

    @classmethod
    def default_state(cls):
        return 'calculated'

    def get_currency(self, name):
        return self.company.currency.id

    def get_rec_name(self, name):
        number = self.invoice.number if self.invoice else None
        label = f'{self.subscription.number} {self.month:%Y-%m}'
        return f'{number} ({label})' if number else label

    @classmethod
    def search_rec_name(cls, name, clause):
        _, operator, value = clause
        bool_op = 'AND' if operator.startswith(('!', 'not ')) else 'OR'
        return [bool_op,
            ('subscription.rec_name', operator, value),
            ('invoice.number', operator, value),
            ]

    @classmethod
    def view_attributes(cls):
        return super().view_attributes() + [
            ('/tree', 'visual', If(Eval('state') == 'held', 'warning',
                    If(Eval('state') == 'credited', 'muted', ''))),
            ]

    def invoice_description(self):
        "The description of the bill's invoice, in the context's language"
        return gettext('water_utility.msg_bill_invoice_description',
            month=f'{self.month:%Y-%m}',
            subscription=self.subscription.number)

    # --- calculation ------------------------------------------------------

    @classmethod
    def route_subscriptions(cls, run, route):
        "Return the ids of the subscriptions of route billed for run's month"
        pool = Pool()
        Subscription = pool.get('water.subscription')
        start, end = month_bounds(run.month)
        table = Subscription.__table__()
        cursor = Transaction().connection.cursor()
        cursor.execute(*table.select(table.id,
                where=(table.route == route.id)
                & (table.company == run.company.id)
                & (((table.state == 'active')
                        & (table.connection_date <= end))
                    | ((table.state == 'closed')
                        & (table.closing_date >= start)
                        & (table.connection_date <= end))),
                order_by=[table.route_position.asc, table.number.asc]))
        return [i for i, in cursor]

    @classmethod
    def calculate(cls, month, company, subscription_ids, run=None,
            route=None, corrects=None):
        """Calculate the bills of month for subscriptions and return them

        The calculated or held bills of the run for them are replaced;
        subscriptions already billed for the month (by any run) are left
        alone: running a month again bills only what is missing.
        """
        pool = Pool()
        Line = pool.get('water.bill.line')
        Reading = pool.get('water.reading')
        month = first_of_month(month)
        if run is not None:
            cls.delete(cls.search([
                        ('run', '=', run.id),
                        ('subscription', 'in', subscription_ids),
                        ('state', 'in', ['calculated', 'held']),
                        ]))
        billed = cls._billed(month, subscription_ids)
        subscription_ids = [s for s in subscription_ids if s not in billed]
        if not subscription_ids:
            return []
        context = BillingContext(month, company, subscription_ids)
        bills, lines = [], []
        for subscription_id in subscription_ids:
            values, bill_lines, reading_ids = context.bill(subscription_id)
            if values is None:
                continue
            context.add_reward(subscription_id, values, bill_lines)
            values.update({
                    'run': run.id if run else None,
                    'corrects': corrects.id if corrects else None,
                    })
            bills.append((values, bill_lines, reading_ids))
        ids = bulk.insert(cls, [v for v, _, _ in bills])
        readings = []
        for bill_id, (values, bill_lines, reading_ids) in zip(ids, bills):
            for sequence, line in enumerate(bill_lines, 1):
                line.update(bill=bill_id, sequence=sequence)
                lines.append(line)
            if values['state'] == 'calculated':
                readings.extend((r, bill_id) for r in reading_ids)
        bulk.insert(Line, lines)
        Reading.link_bills(readings)
        return cls.browse(ids)

    @classmethod
    def _billed(cls, month, subscription_ids):
        "The subscriptions that already have a bill for month"
        table = cls.__table__()
        cursor = Transaction().connection.cursor()
        result = set()
        for sub in grouped_slice(subscription_ids, backend.MAX_QUERY_PARAMS):
            cursor.execute(*table.select(table.subscription,
                    where=fields.SQL_OPERATORS['in'](
                        table.subscription, list(sub))
                    & (table.month == month)
                    & table.state.in_(['calculated', 'posted'])))
            result.update(s for s, in cursor)
        return result

    # --- posting ----------------------------------------------------------

    @classmethod
    def post_run_route(cls, run, route):
        "Post the calculated bills of run on route"
        table = cls.__table__()
        cursor = Transaction().connection.cursor()
        cursor.execute(*table.select(table.id,
                where=(table.run == run.id) & (table.route == route.id)
                & (table.state == 'calculated')))
        return cls.post([i for i, in cursor], invoice_date=run.invoice_date)

    @classmethod
    def post(cls, bills, invoice_date=None, bulk_posting=True):
        """Post the calculated bills (records or ids) as customer invoices
        and return the ids of those posted

        Posted in bulk (posting.py) unless bulk_posting is False: Tryton's
        own Invoice.post, which gives the same ledger, bill by bill.  The
        bills are read as plain values: a batch holds hundreds.
        """
        pool = Pool()
        Date = pool.get('ir.date')
        from . import posting
        ids = [int(b) for b in bills]
        if not ids:
            return []
        if invoice_date is None:
            invoice_date = Date.today()
        # read once: on the attempt that goes on, the locks were taken as
        # the transaction started, before this read
        rows = cls._posting_rows(ids)
        cls._lock_posting(rows, invoice_date)
        rows = [r for r in rows if r.state == 'calculated']
        if not rows:
            return []
        if bulk_posting:
            invoices = posting.post_bulk(rows, invoice_date)
        else:
            invoices = posting.post_standard(
                cls.browse([r.id for r in rows]), invoice_date)
        cls._after_post(rows, invoices)
        # what the subscribers paid ahead settles the new bills
        Payment = pool.get('water.payment')
        Payment.apply_credits([i['id'] for i in invoices])
        return [r.id for r in rows]

    @classmethod
    def _posting_rows(cls, ids):
        "The bills as posting needs them: id, company, subscription, state"
        from .posting import _Row
        table = cls.__table__()
        cursor = Transaction().connection.cursor()
        result = []
        for sub in grouped_slice(ids, backend.MAX_QUERY_PARAMS):
            cursor.execute(*table.select(
                    table.id, table.company, table.subscription, table.state,
                    where=fields.SQL_OPERATORS['in'](table.id, list(sub))))
            result.extend(_Row(zip(
                        ['id', 'company', 'subscription', 'state'], r))
                for r in cursor)
        order = {i: n for n, i in enumerate(ids)}
        return sorted(result, key=lambda r: order[r.id])

    @classmethod
    def _lock_posting(cls, rows, invoice_date):
        """Take at once the locks the posting needs: the bills (two workers
        never post one bill) and the sequences that number the invoices and
        the moves

        Tryton takes a lock by starting the transaction again with it: all
        of them are asked for at once, before any work.
        """
        pool = Pool()
        Company = pool.get('company.company')
        Journal = pool.get('account.journal')
        MoveLine = pool.get('account.move.line')
        Period = pool.get('account.period')
        to_lock = [(cls, [r.id for r in rows])]
        journal = Journal.find({'type': 'revenue'})
        by_model = defaultdict(set)
        companies = {r.company for r in rows}
        for company in Company.browse(list(companies)):
            period = Period.find(company, date=invoice_date)
            by_model[period.move_sequence_used.__class__].add(
                period.move_sequence_used.id)
            for invoice_sequence in period.fiscalyear.invoice_sequences:
                for sequence in [invoice_sequence.out_invoice_sequence,
                        invoice_sequence.out_credit_note_sequence]:
                    if sequence:
                        by_model[sequence.__class__].add(sequence.id)
            if journal:
                MoveLine.check_journal_period_modify(period, journal)
        to_lock.extend((Model, list(i)) for Model, i in by_model.items())
        errors = []
        for Model, model_ids in to_lock:
            try:
                Model.lock(Model.browse(model_ids))
            except TransactionError as error:
                errors.append(error)
        if errors:
            raise _Locks(errors)

    @classmethod
    def _after_post(cls, bills, invoices):
        """Link the posted invoices, mark the readings billed and record
        the bills' balances from the ledger (bills: _posting_rows)"""
        pool = Pool()
        Reading = pool.get('water.reading')
        LedgerLine = pool.get('water.bill.ledger_line')
        by_bill = dict(zip([b.id for b in bills], invoices))
        summary = LedgerLine.summarise(bills, by_bill)
        rows = []
        for bill in bills:
            invoice = by_bill[bill.id]
            values = summary[bill.id]
            values.update({
                    'state': 'posted',
                    'invoice': invoice['id'],
                    'issue_date': invoice['invoice_date'],
                    'due_date': invoice['due_date'],
                    'tax_amount': invoice['tax_amount'],
                    'total_amount': invoice['total_amount'],
                    })
            rows.append((bill.id, values))
        # computed values of the posting: written without reading back
        bulk.update(cls, rows)
        Reading.mark_billed(bills)

    # --- corrections and delivery -----------------------------------------

    @classmethod
    @ModelView.button_action('water_utility.wizard_bill_correct')
    def correct(cls, bills):
        pass

    @classmethod
    @ModelView.button_action('water_utility.wizard_bill_deliver')
    def deliver(cls, bills):
        pass

    @classmethod
    def record_delivery(cls, bills, method, date=None):
        "Record how the bills reached the subscribers (first time only)"
        pool = Pool()
        Date = pool.get('ir.date')
        date = date or Date.today()
        bills = [b for b in bills
            if b.state in {'posted', 'credited'} and not b.delivery_date]
        if bills:
            with without_check_access():
                cls.write(bills, {
                        'delivery_method': method,
                        'delivery_date': date,
                        })

    @classmethod
    def credit(cls, bills, reason, date=None):
        """Credit the invoices of bills by credit notes dated date and mark
        them credited; their readings can be billed again"""
        pool = Pool()
        Invoice = pool.get('account.invoice')
        Reading = pool.get('water.reading')
        for bill in bills:
            if bill.state != 'posted':
                raise BillError(gettext(
                        'water_utility.msg_bill_credit_state',
                        bill=bill.rec_name))
        refund = [b.invoice for b in bills
            if b.invoice.state == 'posted' and not b.invoice.payment_lines]
        others = [b.invoice for b in bills if b.invoice not in refund]
        credit_notes = {}
        with without_check_access(), Transaction().set_context(
                _skip_warnings=True):
            if refund:
                # nothing paid yet: the credit note cancels the invoice
                credit_notes.update(zip(refund, Invoice.credit(
                            refund, refund=True, invoice_date=date)))
            if others:
                notes = Invoice.credit(others, invoice_date=date)
                Invoice.post(notes)
                credit_notes.update(zip(others, notes))
        to_write = []
        for bill in bills:
            to_write.extend(([bill], {
                        'state': 'credited',
                        'credit_note': credit_notes[bill.invoice].id,
                        'correction_reason': reason,
                        }))
        with without_check_access():
            cls.write(*to_write)
        Reading.unbill(bills)

    @classmethod
    def rebill(cls, bills, invoice_date=None):
        """Calculate and post the replacement of credited bills; return
        the new bills (held ones are left for the clerk)"""
        new = []
        for bill in bills:
            new.extend(cls.calculate(bill.month, bill.company,
                    [bill.subscription.id], corrects=bill))
        posted = [b for b in new if b.state == 'calculated']
        cls.post(posted, invoice_date=invoice_date)
        return cls.browse([b.id for b in new])

    @classmethod
    def check_modification(cls, mode, bills, values=None, external=False):
        super().check_modification(
            mode, bills, values=values, external=external)
        if mode == 'delete':
            for bill in bills:
                if bill.state not in {'calculated', 'held'}:
                    raise BillError(gettext(
                            'water_utility.msg_bill_delete',
                            bill=bill.rec_name))


class Line(ModelSQL, ModelView):
    "Water Bill Line"
    __name__ = 'water.bill.line'
    __string__ = "Water Bill Line"

    bill = fields.Many2One(
        'water.bill', "Bill", required=True, ondelete='CASCADE',
        readonly=True)
    sequence = fields.Integer("Sequence", readonly=True)
    kind = fields.Selection(
        'get_kinds', "Kind", readonly=True, required=True, sort=False)
    product = fields.Many2One(
        'product.product', "Product", required=True, readonly=True,
        ondelete='RESTRICT')
    description = fields.Function(
        fields.Char("Description"), 'get_description')
    quantity = fields.Numeric(
        "Quantity", digits=(16, 3), readonly=True, required=True)
    unit_price = fields.Numeric(
        "Unit Price", digits=(16, 4), readonly=True, required=True)
    amount = Monetary(
        "Amount", currency='currency', digits='currency', readonly=True,
        required=True)
    block = fields.Integer("Block", readonly=True)
    lower = fields.Numeric("From (m³)", digits=(16, 3), readonly=True)
    upper = fields.Numeric("To (m³)", digits=(16, 3), readonly=True)
    percentage = fields.Numeric(
        "Percentage", digits=(16, 4), readonly=True)
    base = Monetary(
        "Base", currency='currency', digits='currency', readonly=True)
    days = fields.Integer("Days", readonly=True)
    month_days = fields.Integer("Days of Month", readonly=True)
    settlement = fields.Boolean("Settlement", readonly=True)
    area = fields.Function(
        fields.Many2One('water.area', "Area"), 'get_bill_field')
    currency = fields.Function(
        fields.Many2One('currency.currency', "Currency"), 'get_bill_field')

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls.__access__.add('bill')
        t = cls.__table__()
        cls._sql_indexes.add(Index(t, (t.bill, Index.Range())))
        cls._order = [('bill', 'ASC'), ('sequence', 'ASC'), ('id', 'ASC')]

    @classmethod
    def get_kinds(cls):
        pool = Pool()
        Component = pool.get('water.tariff.component')
        return Component.fields_get(['kind'])['kind']['selection']

    def get_bill_field(self, name):
        value = getattr(self.bill, name)
        return value.id if value else None

    def get_description(self, name):
        return self.describe()

    def describe(self, product_name=None):
        "Return the text of the line in the language of the context"
        return describe_line(self, product_name or self.product.name,
            self.bill.company.currency.digits)


def describe_line(line, product_name, digits):
    """The text of a bill line (a record or any object with its fields) in
    the language of the context"""
    if line.kind == 'reward':
        product_name = gettext('water_utility.msg_bill_line_reward')
    if line.kind == rating.VOLUME:
        message = ('water_utility.msg_bill_line_settlement'
            if line.settlement else 'water_utility.msg_bill_line_block')
        if line.upper is None:
            message += '_open'
        return gettext(message, product=product_name, block=line.block,
            lower=_number(line.lower), upper=_number(line.upper))
    if line.percentage is not None:
        return gettext('water_utility.msg_bill_line_percentage',
            product=product_name, percentage=_number(line.percentage * 100),
            base=f'{line.base:.{digits}f}')
    if line.days and line.month_days and line.days != line.month_days:
        return gettext('water_utility.msg_bill_line_days',
            product=product_name, days=line.days,
            month_days=line.month_days)
    return product_name


def _number(value):
    "A decimal as people write it: 20, 5.5, 146.25"
    if value is None:
        return ''
    return f'{value.normalize():f}'


class LedgerLine(ModelSQL, ModelView):
    """Bill Account Movement

    A receivable line of the subscription's account shown on a bill: each
    payment, adjustment and bill appears on exactly one bill, so the total
    due of a bill is the balance of the lines shown up to it.
    """
    __name__ = 'water.bill.ledger_line'
    __string__ = "Bill Account Movement"

    bill = fields.Many2One(
        'water.bill', "Bill", required=True, ondelete='CASCADE',
        readonly=True)
    subscription = fields.Many2One(
        'water.subscription', "Subscription", required=True, readonly=True,
        ondelete='RESTRICT')
    move_line = fields.Many2One(
        'account.move.line', "Account Move Line", required=True,
        readonly=True, ondelete='RESTRICT')
    kind = fields.Selection([
            ('bill', "Bill"),
            ('payment', "Payment"),
            ('adjustment', "Adjustment"),
            ], "Kind", readonly=True, required=True)
    date = fields.Date("Date", readonly=True)
    description = fields.Char("Description", readonly=True)
    amount = Monetary(
        "Amount", currency='currency', digits='currency', readonly=True,
        help="Positive: owed by the subscriber; negative: paid or credited.")
    currency = fields.Function(
        fields.Many2One('currency.currency', "Currency"), 'get_currency')

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls.__access__.add('bill')
        t = cls.__table__()
        cls._sql_constraints = [
            ('move_line_unique',
                Exclude(t, (t.move_line, Equal)),
                'water_utility.msg_bill_ledger_line_unique'),
            ]
        cls._sql_indexes.update({
                Index(t, (t.subscription, Index.Range())),
                Index(t, (t.bill, Index.Range())),
                })
        cls._order = [('date', 'ASC'), ('id', 'ASC')]

    def get_currency(self, name):
        return self.bill.company.currency.id

    @classmethod
    def summarise(cls, bills, invoices):
        """Show on each bill the receivable lines of its subscription not
        shown yet, and return by bill id its balances

        invoices gives by bill id the posted invoice's values (its 'move').
        """
        pool = Pool()
        MoveLine = pool.get('account.move.line')
        Move = pool.get('account.move')
        Journal = pool.get('account.journal')
        transaction = Transaction()
        cursor = transaction.connection.cursor()
        shown = cls.__table__()
        line = MoveLine.__table__()
        move = Move.__table__()
        journal = Journal.__table__()
        Company = pool.get('company.company')
        bill_of = {int(b.subscription): b for b in bills}
        currencies = {c.id: c.currency for c in Company.browse(
                list({int(b.company) for b in bills}))}
        own_moves = {v['move']: bill_id for bill_id, v in invoices.items()}
        previous = defaultdict(Decimal)
        new = defaultdict(list)
        for sub in grouped_slice(list(bill_of), backend.MAX_QUERY_PARAMS):
            sub = list(sub)
            cursor.execute(*shown.select(
                    shown.subscription, Sum(shown.amount),
                    where=fields.SQL_OPERATORS['in'](shown.subscription, sub),
                    group_by=[shown.subscription]))
            for subscription, amount in cursor:
                previous[subscription] = Decimal(str(amount or 0))
            bulk.execute_planned(cursor, *line.join(move,
                    condition=line.move == move.id
                    ).join(journal, condition=move.journal == journal.id
                    ).select(
                    line.id, line.water_subscription, move.id,
                    journal.type.in_(PAYMENT_JOURNALS)
                    | move.origin.like('water.payment,%'),
                    move.date, Coalesce(line.description, move.description),
                    line.debit - line.credit,
                    where=fields.SQL_OPERATORS['in'](
                        line.water_subscription, sub)
                    & (move.state == 'posted')
                    & ~line.id.in_(shown.select(shown.move_line,
                            where=fields.SQL_OPERATORS['in'](
                                shown.subscription, sub))),
                    order_by=[move.date.asc, line.id.asc]))
            for row in cursor:
                new[row[1]].append(row)
        to_create, result = [], {}
        for subscription, bill in bill_of.items():
            currency = currencies[int(bill.company)]
            values = {
                'previous_balance': currency.round(previous[subscription]),
                'payments': Decimal(0),
                'adjustments': Decimal(0),
                }
            total = previous[subscription]
            for (line_id, _, move_id, paid, date, description,
                    amount) in new[subscription]:
                # SQLite computes the difference as a float
                amount = currency.round(Decimal(str(amount)))
                total += amount
                if own_moves.get(move_id) == bill.id:
                    kind = 'bill'
                elif paid:
                    kind = 'payment'
                    values['payments'] -= amount
                else:
                    kind = 'adjustment'
                    values['adjustments'] += amount
                to_create.append({
                        'bill': bill.id,
                        'subscription': subscription,
                        'move_line': line_id,
                        'kind': kind,
                        'date': date,
                        'description': description,
                        'amount': amount,
                        })
            values['total_due'] = currency.round(total)
            values['payments'] = currency.round(values['payments'])
            values['adjustments'] = currency.round(values['adjustments'])
            result[bill.id] = values
        bulk.insert(cls, to_create)
        return result


class RunTotal(ModelSQL, ModelView):
    "Billing Run Total"
    __name__ = 'water.billing.run.total'
    __string__ = "Billing Run Total"

    run = fields.Many2One(
        'water.billing.run', "Run", readonly=True, required=True)
    area = fields.Many2One('water.area', "Area", readonly=True)
    kind = fields.Selection('get_kinds', "Kind", readonly=True, sort=False)
    product = fields.Many2One('product.product', "Product", readonly=True)
    bills = fields.Integer("Bills", readonly=True)
    quantity = fields.Numeric("Volume (m³)", digits=(16, 3), readonly=True)
    amount = Monetary(
        "Amount", currency='currency', digits='currency', readonly=True)
    currency = fields.Function(
        fields.Many2One('currency.currency', "Currency"), 'get_currency')

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls.__access__.add('run')
        cls._order = [('area', 'ASC'), ('kind', 'ASC'), ('product', 'ASC'),
            ('id', 'ASC')]

    @classmethod
    def get_kinds(cls):
        return Pool().get('water.bill.line').get_kinds()

    def get_currency(self, name):
        return self.run.company.currency.id

    @classmethod
    def table_query(cls):
        pool = Pool()
        Bill = pool.get('water.bill')
        Line = pool.get('water.bill.line')
        bill = Bill.__table__()
        line = Line.__table__()
        query = line.join(bill, condition=line.bill == bill.id).select(
            Min(line.id).as_('id'),
            bill.run.as_('run'),
            bill.area.as_('area'),
            line.kind.as_('kind'),
            line.product.as_('product'),
            Count(bill.id, distinct=True).as_('bills'),
            # m³: what was billed by volume (blocks, sewage per m³)
            Sum(Case((line.kind.in_([rating.VOLUME, rating.SEWAGE])
                        & (line.percentage == Null), line.quantity),
                    else_=Null)).as_('quantity'),
            Sum(line.amount).as_('amount'),
            where=bill.state.in_(['calculated', 'posted'])
            & (bill.run != Null),
            group_by=[bill.run, bill.area, line.kind, line.product])
        return query


class Punctuality(ModelSQL, ModelView):
    "Bill Punctuality"
    __name__ = 'water.bill.punctuality'
    __string__ = "Bills Issued on Time"

    month = fields.Date("Month", readonly=True)
    area = fields.Many2One('water.area', "Area", readonly=True)
    bills = fields.Integer("Bills", readonly=True)
    issued_on_time = fields.Integer(
        "Issued by the Deadline", readonly=True,
        help="Bills issued on or before the delivery deadline (the 7th).")
    issued_share = fields.Function(
        fields.Float("Share Issued on Time", digits=(1, 4)), 'get_shares')
    delivered_on_time = fields.Integer(
        "Delivered by the Deadline", readonly=True)
    delivered_share = fields.Function(
        fields.Float("Share Delivered on Time", digits=(1, 4)),
        'get_shares')

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls._order = [('month', 'DESC'), ('area', 'ASC'), ('id', 'DESC')]

    @classmethod
    def table_query(cls):
        pool = Pool()
        Bill = pool.get('water.bill')
        bill = Bill.__table__()
        # one row per month and area; corrections are not counted twice
        return bill.select(
            Max(bill.id).as_('id'),
            bill.month.as_('month'),
            bill.area.as_('area'),
            Count(bill.id).as_('bills'),
            Sum(Case((bill.issue_date <= bill.deadline, 1), else_=0)
                ).as_('issued_on_time'),
            Sum(Case((bill.delivery_date <= bill.deadline, 1), else_=0)
                ).as_('delivered_on_time'),
            where=bill.state.in_(['posted', 'credited'])
            & (bill.corrects == Null),
            group_by=[bill.month, bill.area])

    @classmethod
    def get_shares(cls, rows, names):
        result = {n: {} for n in names}
        for row in rows:
            for name, count in [('issued_share', row.issued_on_time),
                    ('delivered_share', row.delivered_on_time)]:
                if name in names:
                    result[name][row.id] = (
                        count / row.bills if row.bills else 0.)
        return result


class BillingContext:
    """What the calculation of a batch of bills needs, read at once

    Plain values from one query per table and slice; the tariff charges
    are built once per version and kind of subscription.
    """

    def __init__(self, month, company, subscription_ids):
        pool = Pool()
        Configuration = pool.get('water.configuration')
        Tariff = pool.get('water.tariff')
        Area = pool.get('water.area')
        Product = pool.get('product.product')
        self.month = month
        self.start, self.end = month_bounds(month)
        self.month_days = (self.end - self.start).days + 1
        self.company = company
        self.currency = company.currency
        configuration = Configuration(1)
        self.deadline = configuration.get_deadline(month)
        self.default_tariff = configuration.get_tariff(company)
        self.billing_start = first_of_month(configuration.billing_start)
        self.subscriptions = self._subscriptions(subscription_ids)
        areas = Area.browse(list({s['area'] for s in
                    self.subscriptions.values()}))
        self.area_tariff = {a.id: (a.tariff.id if a.tariff else
                self.default_tariff) for a in areas}
        tariffs = [t for t in set(self.area_tariff.values()) if t]
        self.timelines = Tariff.timelines(tariffs)
        self.readings, self.unresolved = self._readings(subscription_ids)
        self.periods = self._periods(
            {s['route'] for s in self.subscriptions.values() if s['route']})
        self.estimates = self._estimates()
        self.finals = self._finals()
        self._charges = {}
        products = set()
        for timeline in self.timelines.values():
            for _, version in timeline:
                products.update(c.product.id for c in version.components)
        self.quantum = {p.id: Decimal(str(p.default_uom.rounding))
            for p in Product.browse(list(products))}
        self.rewards = pool.get('water.reward').to_bill(subscription_ids)

    def _subscriptions(self, ids):
        pool = Pool()
        Subscription = pool.get('water.subscription')
        table = Subscription.__table__()
        cursor = Transaction().connection.cursor()
        names = ['id', 'party', 'address', 'area', 'route', 'category',
            'sewage', 'social_welfare', 'connection_date', 'closing_date',
            'state']
        result = {}
        for sub in grouped_slice(ids, backend.MAX_QUERY_PARAMS):
            cursor.execute(*table.select(
                    *[getattr(table, n) for n in names],
                    where=fields.SQL_OPERATORS['in'](table.id, list(sub))))
            for row in cursor:
                result[row[0]] = dict(zip(names, row))
        return result

    def _readings(self, ids):
        """Return the counted readings not billed yet, by subscription, and
        the unresolved ones (which hold the bill)"""
        pool = Pool()
        Reading = pool.get('water.reading')
        Period = pool.get('water.reading.period')
        Installation = pool.get('water.meter.installation')
        reading = Reading.__table__()
        period = Period.__table__()
        installation = Installation.__table__()
        cursor = Transaction().connection.cursor()
        names = ['id', 'subscription', 'state', 'date', 'days', 'value',
            'previous_value', 'consumption', 'source', 'previous',
            'exceptions']
        counted, unresolved = defaultdict(list), defaultdict(list)
        # by subscription only, through the partial index of the readings
        # not billed: a join on the periods lets a planner with stale
        # statistics walk every period and every reading not billed
        rows = []
        for sub in grouped_slice(ids, backend.MAX_QUERY_PARAMS):
            bulk.execute_planned(cursor, *reading.join(installation, 'LEFT',
                    condition=reading.installation == installation.id
                    ).select(
                    *[getattr(reading, n) for n in names + ['period']],
                    installation.meter,
                    where=fields.SQL_OPERATORS['in'](
                        reading.subscription, list(sub))
                    & (reading.bill == Null)
                    & reading.state.in_(['valid'] + UNRESOLVED),
                    order_by=[reading.date.asc, reading.id.asc]))
            rows.extend(dict(zip(names + ['period', 'meter'], r))
                for r in cursor)
        months = {}
        for sub in grouped_slice(list({r['period'] for r in rows}),
                backend.MAX_QUERY_PARAMS):
            cursor.execute(*period.select(period.id, period.start_date,
                    where=fields.SQL_OPERATORS['in'](period.id, list(sub))))
            months.update((i, _date(d)) for i, d in cursor)
        for values in rows:
            month = months[values['period']]
            if month > self.month or (
                    # the system it replaced billed the months before
                    self.billing_start and month < self.billing_start):
                continue
            values['date'] = _date(values['date'])
            for name in ['value', 'previous_value', 'consumption']:
                if values[name] is not None:
                    values[name] = Decimal(str(values[name]))
            if values['state'] == 'valid':
                counted[values['subscription']].append(values)
            else:
                unresolved[values['subscription']].append(values)
        return counted, unresolved

    def _periods(self, routes):
        "The state of each route's reading period of the month"
        pool = Pool()
        Period = pool.get('water.reading.period')
        return {p.route.id: p.state for p in Period.search([
                    ('route', 'in', list(routes)),
                    ('start_date', '=', self.start),
                    ])}

    def _estimates(self):
        """The billed estimates that readings of negative consumption
        settle, by id, with the previous estimates they count from"""
        pool = Pool()
        Reading = pool.get('water.reading')
        table = Reading.__table__()
        cursor = Transaction().connection.cursor()
        wanted = {r['previous'] for readings in self.readings.values()
            for r in readings if r['consumption'] is not None
            and r['consumption'] < 0 and r['previous']}
        result = {}
        # follow the chain of estimates back, one query per step
        while wanted:
            cursor.execute(*table.select(
                    table.id, table.date, table.days, table.consumption,
                    table.source, table.previous,
                    where=fields.SQL_OPERATORS['in'](
                        table.id, list(wanted))))
            wanted = set()
            for id_, date, days, volume, source, previous in cursor:
                if isinstance(date, str):
                    date = dt.date.fromisoformat(date)
                result[id_] = {
                    'date': date, 'days': days,
                    'consumption': Decimal(str(volume or 0)),
                    'source': source, 'previous': previous,
                    }
                if source == 'estimate' and previous and (
                        previous not in result):
                    wanted.add(previous)
        return result

    def _finals(self):
        """The volume of the closed subscriptions from their last counted
        reading to the removal of their meter, by subscription"""
        pool = Pool()
        Reading = pool.get('water.reading')
        Installation = pool.get('water.meter.installation')
        closing = [s['id'] for s in self.subscriptions.values()
            if s['state'] == 'closed' and s['closing_date']
            and self.start <= _date(s['closing_date']) <= self.end]
        if not closing:
            return {}
        fitted = Installation.fitted(closing)
        history = Reading.history(closing, self.end)
        result = {}
        for subscription in closing:
            installations = [i for i in fitted[subscription] if i.end_date]
            if not installations:
                continue
            last = history.last(subscription, self.end)
            segments, since = [], None
            for inst in installations:
                if last and inst.end_date < last.date:
                    continue
                if last and last.installation == inst.id:
                    start, since = last.value, last.date
                else:
                    start = inst.initial_reading
                    since = since or (last.date if last else inst.start_date)
                segments.append(consumption.Segment(
                        start, inst.final_reading, inst.digits,
                        inst.multiplier))
            if not segments:
                continue
            volume, _ = consumption.period_consumption(segments)
            last_inst = installations[-1]
            result[subscription] = {
                'previous_date': since,
                'previous_value': segments[0].start,
                'date': last_inst.end_date,
                'value': last_inst.final_reading,
                'consumption': volume,
                'meter': last_inst.meter,
                }
        return result

    def charges(self, version, subscription):
        key = (version.id, subscription['category'], subscription['area'],
            bool(subscription['sewage']),
            bool(subscription['social_welfare']))
        if key not in self._charges:
            self._charges[key] = version.charges(*key[1:])
        return self._charges[key]

    def segments(self, timeline, subscription, start, end):
        """Return the rating.Segments from start (excluded) to end, or None
        when the versions do not cover every day"""
        shares = rating.days_by_version(timeline, start, end)
        if sum(d for _, d in shares) != (end - start).days:
            return None
        return [rating.Segment(self.charges(v, subscription), d)
            for v, d in shares]

    def bill(self, subscription_id):
        """Return (values, lines, reading ids) of the bill of a
        subscription, or (None, …) when there is nothing to bill"""
        subscription = self.subscriptions[subscription_id]
        tariff = self.area_tariff.get(subscription['area'])
        values = {
            'company': self.company.id,
            'subscription': subscription_id,
            'party': subscription['party'],
            'address': subscription['address'],
            'area': subscription['area'],
            'route': subscription['route'],
            'category': subscription['category'],
            'tariff': tariff,
            'month': self.month,
            'deadline': self.deadline,
            'estimated': False,
            'final': False,
            }
        unresolved = self.unresolved.get(subscription_id)
        if unresolved:
            return self.held(values, 'reading', ', '.join(
                    f'{r["date"]}' for r in unresolved)), [], []
        readings = self.readings.get(subscription_id, [])
        final = self.finals.get(subscription_id)
        if readings:
            first, last = readings[0], readings[-1]
            volume = sum((r['consumption'] or 0 for r in readings),
                Decimal(0))
            previous_date = first['date'] - dt.timedelta(
                days=first['days'] or 0)
            values.update({
                    'meter': last['meter'],
                    'previous_date': previous_date,
                    'previous_value': first['previous_value'],
                    'reading_date': last['date'],
                    'current_value': last['value'],
                    'days': (last['date'] - previous_date).days,
                    'estimated': any(
                        r['source'] == 'estimate' for r in readings),
                    })
        elif final:
            volume = final['consumption']
            values.update({
                    'meter': final['meter'],
                    'previous_date': final['previous_date'],
                    'previous_value': final['previous_value'],
                    'reading_date': final['date'],
                    'current_value': final['value'],
                    'days': (final['date'] - final['previous_date']).days,
                    'final': True,
                    })
        elif self.periods.get(subscription['route']) != 'closed' and (
                subscription['state'] == 'active'):
            return self.held(values, 'not_read', None), [], []
        else:
            volume = None
        values['consumption'] = volume
        if final and readings:
            values['final'] = True
        timeline = self.timelines.get(tariff)
        if not timeline:
            return self.held(values, 'tariff', None), [], []
        # the days connected in the month pay the fixed charges
        connected = _date(subscription['connection_date']) or self.start
        closing = _date(subscription['closing_date'])
        active_start = max(self.start, connected) - dt.timedelta(days=1)
        active_end = min(self.end, closing) if closing else self.end
        fixed = []
        if active_end > active_start:
            fixed = self.segments(
                timeline, subscription, active_start, active_end)
            if fixed is None:
                return self.held(values, 'tariff', str(self.month)), [], []
        volume_segments, settlements = [], []
        if volume is not None:
            start = values['previous_date']
            end = values['reading_date']
            if end <= start:
                start = end - dt.timedelta(days=1)
            volume_segments = self.segments(timeline, subscription, start, end)
            if volume_segments is None:
                return self.held(values, 'tariff', f'{start} – {end}'), [], []
            if volume < 0:
                settlements = self.settlements(
                    timeline, subscription, readings, -volume)
                if settlements is None:
                    return self.held(values, 'negative', str(volume)), [], []
            if not any(c.kind == rating.VOLUME for s in volume_segments
                    for c in s.charges):
                return self.held(values, 'tariff', None), [], []
        quantum = min(self.quantum.values(), default=Decimal('0.001'))
        lines = rating.rate(
            volume_segments, max(volume or 0, Decimal(0)), fixed,
            self.month_days, quantum=quantum,
            rounding=self.currency.rounding, settlements=settlements)
        if not lines:
            return None, [], []
        values.update({
                'state': 'calculated',
                'start_date': min(filter(None, [
                            values.get('previous_date'), self.start])),
                'end_date': max(filter(None, [
                            values.get('reading_date'), self.end])),
                'amount': rating.total(lines),
                })
        return values, [{
                'kind': l.kind,
                'product': l.product,
                'quantity': l.quantity,
                'unit_price': l.unit_price,
                'amount': l.amount,
                'block': l.block,
                'lower': l.lower,
                'upper': l.upper,
                'percentage': l.percentage,
                'base': l.base,
                'days': l.days,
                'month_days': self.month_days if l.days else None,
                'settlement': l.settlement,
                } for l in lines], [r['id'] for r in readings]

    def add_reward(self, subscription_id, values, lines):
        """Add to a calculated bill the line of its subscription's pending
        reward (reward.py), taken off its charges"""
        pool = Pool()
        Reward = pool.get('water.reward')
        if values.get('state') != 'calculated':
            return
        line = Reward.bill_line(self.rewards.get(subscription_id),
            values['amount'], self.currency)
        if line:
            lines.append(line)
            values['amount'] += line['amount']

    def held(self, values, reason, detail):
        values.update({
                'state': 'held',
                'hold_reason': reason,
                'hold_detail': detail,
                'amount': Decimal(0),
                })
        return values

    def settlements(self, timeline, subscription, readings, excess):
        """Return the settlements of the estimates that the readings'
        negative consumption corrects, newest first, or None"""
        result = []
        previous = None
        for reading in reversed(readings):
            if reading['previous']:
                previous = reading['previous']
                break
        while excess > 0 and previous in self.estimates:
            estimate = self.estimates[previous]
            if estimate['source'] != 'estimate':
                break
            reduce = min(excess, estimate['consumption'])
            if reduce > 0:
                end = estimate['date']
                start = end - dt.timedelta(days=estimate['days'] or 1)
                segments = self.segments(timeline, subscription, start, end)
                if segments is None:
                    return None
                result.append((segments, estimate['consumption'],
                        estimate['consumption'] - reduce))
                excess -= reduce
            previous = estimate['previous']
        return result if excess <= 0 else None


def _date(value):
    "A date from the database (SQLite gives text in plain queries)"
    if isinstance(value, str):
        return dt.date.fromisoformat(value)
    return value


class CorrectStart(ModelView):
    "Correct Bill"
    __name__ = 'water.bill.correct.start'
    __string__ = "Correct Bill"

    bill = fields.Many2One('water.bill', "Bill", readonly=True)
    reason = fields.Char("Reason", required=True,
        help="Kept with the credited bill.")
    date = fields.Date(
        "Date", required=True,
        help="The date of the credit note and of the new bill.")
    reading = fields.Many2One(
        'water.reading', "Reading", readonly=True,
        states={
            'invisible': ~Eval('reading'),
            })
    value = fields.Numeric(
        "Correct Reading", digits=(16, 3),
        states={
            'invisible': ~Eval('reading'),
            },
        help="Leave as it is if the reading was right (a wrong category or "
        "tariff, for instance).")


class Correct(Wizard):
    "Correct Bill"
    __name__ = 'water.bill.correct'
    start = StateView('water.bill.correct.start',
        'water_utility.bill_correct_start_view_form', [
            Button("Cancel", 'end', 'tryton-cancel'),
            Button("Credit and Bill Again", 'correct', 'tryton-ok',
                default=True),
            ])
    correct = StateTransition()

    def default_start(self, fields):
        bill = self.record
        readings = sorted(bill.readings, key=lambda r: (r.date, r.id))
        reading = readings[-1] if readings else None
        return {
            'bill': bill.id,
            'date': Pool().get('ir.date').today(),
            'reading': reading.id if reading else None,
            'value': reading.value if reading else None,
            }

    def transition_correct(self):
        pool = Pool()
        Bill = pool.get('water.bill')
        Reading = pool.get('water.reading')
        bill = self.record
        if bill.state != 'posted':
            raise BillError(gettext(
                    'water_utility.msg_bill_credit_state',
                    bill=bill.rec_name))
        reading = self.start.reading
        Bill.credit([bill], self.start.reason, self.start.date)
        if reading and self.start.value is not None and (
                self.start.value != reading.value):
            Reading.correct_billed(
                Reading(reading.id), self.start.value, self.start.reason)
        Bill.rebill([Bill(bill.id)], self.start.date)
        return 'end'


class DeliverStart(ModelView):
    "Record Bill Delivery"
    __name__ = 'water.bill.deliver.start'
    __string__ = "Record Bill Delivery"

    method = fields.Selection(
        [m for m in DELIVERY_METHODS if m[0]], "Delivered By", required=True)
    date = fields.Date("Delivered On", required=True)


class Deliver(Wizard):
    "Record Bill Delivery"
    __name__ = 'water.bill.deliver'
    start = StateView('water.bill.deliver.start',
        'water_utility.bill_deliver_start_view_form', [
            Button("Cancel", 'end', 'tryton-cancel'),
            Button("Record", 'record', 'tryton-ok', default=True),
            ])
    record = StateTransition()

    def default_start(self, fields):
        return {
            'method': 'handed',
            'date': Pool().get('ir.date').today(),
            }

    def transition_record(self):
        self.model.record_delivery(
            self.records, self.start.method, self.start.date)
        return 'end'
