# This file is part of the water_utility module.  See README.rst.
"Billing: bulk posting, the database's guarantees, batches and queries"
import datetime as dt
from decimal import Decimal

from sql import Column

from trytond.modules.account.tests import create_chart, get_fiscalyear
from trytond.modules.account_invoice.tests import set_invoice_sequences
from trytond.modules.company.tests import set_company
from trytond import backend, config
from trytond.pool import Pool
from trytond.tests.test_tryton import (
    CONTEXT, DB_NAME, _DBTestCase)
from trytond.transaction import Transaction

from .database import (
    UtilityTestCase, fiscal_years, pinned, utility, with_transaction)
# the module, not its names: a TestCase imported here would run twice
from . import test_module as base

MONTH = dt.date(2026, 10, 1)
ISSUED = dt.date(2026, 11, 3)
# columns that differ between two postings of the same bills
VOLATILE = {'id', 'create_date', 'create_uid', 'write_date', 'write_uid'}


def setup_accounting(company, years=None):
    """A chart with a 20 % tax, the fiscal years (by default those of
    database.fiscal_years) and a payment term in two instalments; return
    the revenue account and the term"""
    pool = Pool()
    Account = pool.get('account.account')
    FiscalYear = pool.get('account.fiscalyear')
    PaymentTerm = pool.get('account.invoice.payment_term')
    create_chart(company, tax=True)
    fiscalyears = [set_invoice_sequences(get_fiscalyear(
                company, today=dt.date(year, 6, 1)))
        for year in (years or fiscal_years())]
    FiscalYear.save(fiscalyears)
    FiscalYear.create_period(fiscalyears)
    term, = PaymentTerm.create([{
                'name': "Two instalments",
                'lines': [('create', [{
                                'type': 'percent',
                                'ratio': Decimal('0.5'),
                                'divisor': Decimal(2),
                                'relativedeltas': [('create', [{
                                                'days': 30}])],
                                }, {
                                'type': 'remainder',
                                'relativedeltas': [('create', [{
                                                'days': 60}])],
                                }])],
                }])
    revenue, = Account.search([
            ('type.revenue', '=', True), ('company', '=', company.id),
            ('closed', '!=', True)], limit=1)
    return revenue, term


def create_products(revenue):
    """Services for water (m³), a taxed and an untaxed meter charge,
    sewage and a discount"""
    pool = Pool()
    Category = pool.get('product.category')
    Template = pool.get('product.template')
    Uom = pool.get('product.uom')
    Tax = pool.get('account.tax')
    tax, = Tax.search([('company', '=', revenue.company.id)], limit=1)
    m3, = Uom.search([('symbol', '=', 'm³')])
    unit, = Uom.search([('symbol', '=', 'u')])
    products = {}
    for name, uom, taxes in [
            ('water', m3, []), ('fixed', unit, [tax]), ('meter', unit, []),
            ('sewage', unit, []), ('welfare', unit, [])]:
        category, = Category.create([{
                    'name': name, 'accounting': True,
                    'account_revenue': revenue.id,
                    'customer_taxes': [('add', [t.id for t in taxes])],
                    }])
        template, = Template.create([{
                    'name': name, 'type': 'service',
                    'default_uom': uom.id,
                    'account_category': category.id,
                    'products': [('create', [{}])],
                    }])
        products[name], = template.products
    return products


def create_bills(subscriptions, products, run=None, month=MONTH):
    "A calculated bill per subscription with lines of every kind"
    pool = Pool()
    Bill = pool.get('water.bill')
    lines = [
        ('volume', 'water', Decimal('20.00'), Decimal('5.5'),
            Decimal('110.00')),
        ('volume', 'water', Decimal('6.67'), Decimal('7.2'),
            Decimal('48.02')),
        ('fixed', 'fixed', Decimal(1), Decimal('13.55'), Decimal('13.55')),
        ('sewage', 'sewage', Decimal(1), Decimal('47.41'),
            Decimal('47.41')),
        ('discount', 'welfare', Decimal(1), Decimal('-65.70'),
            Decimal('-65.70')),
        ]
    return Bill.create([{
                'company': s.company.id,
                'run': run.id if run else None,
                'subscription': s.id,
                'party': s.party.id,
                'address': s.address.id,
                'area': s.area.id,
                'route': s.route.id if s.route else None,
                'category': s.category.id,
                'month': month,
                'state': 'calculated',
                'amount': sum(l[4] for l in lines),
                'lines': [('create', [{
                                'sequence': i,
                                'kind': kind,
                                'product': products[product].id,
                                'quantity': quantity,
                                'unit_price': price,
                                'amount': amount,
                                } for i, (kind, product, quantity, price,
                                amount) in enumerate(lines, 1)])],
                } for s in subscriptions])


def ledger(bills):
    """The rows the posting of bills wrote, without ids: invoice, lines,
    taxes, move, move lines and tax lines of each bill"""
    pool = Pool()
    cursor = Transaction().connection.cursor()

    def rows(model, column, ids, order):
        Model = pool.get(model)
        table = Model.__table__()
        names = sorted(n for n, f in Model._fields.items()
            if hasattr(f, 'sql_type') and not hasattr(f, 'set')
            and n not in VOLATILE)
        cursor.execute(*table.select(
                *[Column(table, n) for n in names] + [table.id],
                where=Column(table, column).in_(ids),
                order_by=[Column(table, o) for o in order]))
        return [dict(zip(names + ['id'], r)) for r in cursor]

    result = []
    for bill in bills:
        invoice, = rows('account.invoice', 'id', [bill.invoice.id], ['id'])
        lines = rows('account.invoice.line', 'invoice', [invoice['id']],
            ['sequence', 'id'])
        taxes = rows('account.invoice.tax', 'invoice', [invoice['id']],
            ['sequence', 'id'])
        move, = rows('account.move', 'id', [invoice['move']], ['id'])
        move_lines = rows('account.move.line', 'move', [move['id']],
            ['account', 'debit', 'credit', 'maturity_date', 'id'])
        tax_lines = rows('account.tax.line', 'move_line',
            [l['id'] for l in move_lines] or [-1], ['move_line', 'id'])
        line_taxes = rows('account.invoice.line-account.tax', 'line',
            [l['id'] for l in lines], ['line', 'tax'])
        # references to rows of the same bill by position, not by id
        position = {}
        for kind, records in [('line', lines), ('tax', taxes),
                ('move_line', move_lines)]:
            for i, record in enumerate(records):
                position[(kind, record['id'])] = i
        for record in lines + taxes + move_lines + tax_lines + line_taxes:
            record.pop('id', None)
            record.pop('invoice', None)
        invoice.pop('id')
        invoice.pop('move')
        move.pop('id')
        for name in ['number', 'number_alnum', 'number_digit']:
            invoice.pop(name)
        move.pop('number')
        invoice.pop('water_subscription')
        move['origin'] = 'invoice'
        # the description names the subscription
        number = bill.subscription.number
        for record in [invoice, move] + move_lines:
            if record.get('description'):
                record['description'] = record['description'].replace(
                    number, '#')
        for record in move_lines:
            record.pop('move')
            record.pop('water_subscription')
            model, _, id_ = (record['origin'] or ',').partition(',')
            kind = {'account.invoice.line': 'line',
                'account.invoice.tax': 'tax'}.get(model)
            record['origin'] = (kind, position.get((kind, int(id_ or 0))))
        for record in tax_lines:
            record['move_line'] = position[('move_line', record['move_line'])]
        for record in lines:
            # the bill line it comes from
            record['origin'] = record['origin'] and record[
                'origin'].split(',')[0]
        for record in line_taxes:
            record.pop('line')
        result.append({
                'invoice': invoice, 'lines': lines, 'taxes': taxes,
                'move': move, 'move_lines': move_lines,
                'tax_lines': tax_lines, 'line_taxes': line_taxes,
                })
    return result


@pinned()
class BillingTestCase(UtilityTestCase):
    "Test the billing of the Water Utility module"
    maxDiff = None

    def setup_billing(self, count=3):
        """A utility with accounting, products and two subscriptions per
        subscriber (one billed each way)"""
        u = utility()
        self.company = u.company
        with set_company(u.company):
            return self._setup_billing(u, count)

    def _setup_billing(self, u, count):
        pool = Pool()
        Configuration = pool.get('water.configuration')
        area, route, domestic = u.area, u.route, u.domestic
        products = u.products
        configuration = Configuration(1)
        configuration.bill_payment_term = u.term
        configuration.save()
        first, second = [], []
        for i in range(count):
            party = base.create_subscriber(f"مشترك {i}",
                phone=f'+97059900{i:04d}')
            first.append(base.create_subscription(
                    area, route, domestic, party=party))
            second.append(base.create_subscription(
                    area, route, domestic, party=party))
        return products, first, second

    @with_transaction()
    def test_bulk_posting_equals_standard(self):
        """Bulk posting writes the ledger Tryton's Invoice.post writes,
        row by row and column by column"""
        pool = Pool()
        Bill = pool.get('water.bill')
        products, first, second = self.setup_billing()
        with set_company(self.company):
            standard = create_bills(first, products)
            bulk = create_bills(second, products)
            Bill.post(standard, invoice_date=ISSUED, bulk_posting=False)
            Bill.post(bulk, invoice_date=ISSUED, bulk_posting=True)
            standard = Bill.browse(standard)
            bulk = Bill.browse(bulk)
            self.assertEqual(len(ledger(standard)), 3)
            for one, other in zip(ledger(standard), ledger(bulk)):
                for part in one:
                    self.assertEqual(one[part], other[part], part)
            for one, other in zip(standard, bulk):
                for name in ['state', 'total_amount', 'tax_amount',
                        'due_date', 'issue_date', 'total_due',
                        'previous_balance']:
                    self.assertEqual(
                        getattr(one, name), getattr(other, name), name)
            # what the subscriber owes: the total with the 20 % tax on the
            # meter charge, in two instalments
            self.assertEqual(bulk[0].total_amount, Decimal('155.99'))
            self.assertEqual(bulk[0].invoice.amount_to_pay,
                Decimal('155.99'))
            self.assertEqual(len(bulk[0].invoice.lines_to_pay), 2)
            self.assertEqual(bulk[0].due_date, dt.date(2026, 12, 3))
            numbers = [b.invoice.number for b in standard + bulk]
            self.assertEqual(len(set(numbers)), 6)


def create_tariff(products, fee_area=None, fee_product=None):
    """The unified domestic tariff: three blocks and a fixed charge of 42;
    a fee for one area when asked"""
    pool = Pool()
    Tariff = pool.get('water.tariff')
    components = [{
            'kind': 'volume', 'product': products['water'].id,
            'method': 'progressive',
            'blocks': [('create', [
                        {'upper': Decimal(20), 'price': Decimal('5.5')},
                        {'upper': Decimal(40), 'price': Decimal('7.2')},
                        {'upper': None, 'price': Decimal('9.5')}])],
            }, {
            'kind': 'fixed', 'product': products['meter'].id,
            'amount': Decimal(42),
            }]
    if fee_area:
        components.append({
                'kind': 'fee', 'product': fee_product.id,
                'amount': Decimal(10), 'areas': [('add', [fee_area.id])],
                })
    tariff, = Tariff.create([{
                'code': 'T', 'name': "Tariff",
                'versions': [('create', [{
                                'start_date': dt.date(2020, 1, 1),
                                'components': [('create', components)],
                                }])],
                }])
    return tariff


def connect(area, route, category, count, start=0, date=dt.date(2026, 6, 1)):
    "count active subscriptions of route with a new meter each"
    pool = Pool()
    Subscription = pool.get('water.subscription')
    subscriptions = []
    for i in range(start, start + count):
        party = base.create_subscriber(
            f"مشترك {i}", phone=f'+9725980{i:05d}')
        subscription = base.create_subscription(
            area, route, category, party=party)
        base.install(subscription, base.create_meter(f'B-{i:05d}'), date)
        subscriptions.append(subscription)
    Subscription.activate(subscriptions)
    return subscriptions


def read(subscriptions, month, values):
    "Readings of month (on the 20th) for subscriptions"
    pool = Pool()
    Period = pool.get('water.reading.period')
    Reading = pool.get('water.reading')
    periods = {p.route: p for p in Period.schedule(month)}
    periods.update({p.route: p for p in Period.search([
                    ('start_date', '=', month)])})
    return Reading.create([{
                'company': s.company.id,
                'period': periods[s.route].id,
                'subscription': s.id,
                'date': month.replace(day=20),
                'value': Decimal(v),
                } for s, v in zip(subscriptions, values)])


def run_month(month, routes=None):
    "A billing run of month, calculated and posted batch by batch"
    pool = Pool()
    Run = pool.get('water.billing.run')
    Batch = pool.get('water.billing.batch')
    run, = Run.create([{
                'month': month, 'invoice_date': ISSUED,
                'routes': [('add', [r.id for r in routes or []])],
                }])
    Run.calculate([run])
    Batch.process(run.batches)
    Run.post([Run(run.id)])
    Batch.process(Run(run.id).batches)
    return Run(run.id)


@pinned()
class BillingRunTestCase(UtilityTestCase):
    "Billing runs: the database's guarantees, batches, queries, the bill"

    def setup_utility(self, fee_on_other_area=False):
        pool = Pool()
        Configuration = pool.get('water.configuration')
        Route = pool.get('water.route')
        u = utility()
        company, area, route, other_route, domestic = (
            u.company, u.area, u.route, u.other_route, u.domestic)
        self.company = company
        with set_company(company):
            term, products = u.term, u.products
            fee_product = None
            if fee_on_other_area:
                # a product whose category has no revenue account
                Template = pool.get('product.template')
                Uom = pool.get('product.uom')
                unit, = Uom.search([('symbol', '=', 'u')])
                template, = Template.create([{
                            'name': 'fee', 'type': 'service',
                            'default_uom': unit.id,
                            'products': [('create', [{}])],
                            }])
                fee_product, = template.products
            tariff = create_tariff(products,
                fee_area=other_route.area if fee_on_other_area else None,
                fee_product=fee_product)
            configuration = Configuration(1)
            configuration.tariff = tariff
            configuration.bill_payment_term = term
            configuration.billing_start = MONTH
            configuration.save()
        return (company, area, route, Route(other_route.id), domestic,
            products, fee_product)

    @with_transaction()
    def test_one_bill_a_month_by_the_database(self):
        "A second bill of a subscription for a month is refused"
        pool = Pool()
        Bill = pool.get('water.bill')
        from trytond.model.exceptions import SQLConstraintError
        company, area, route, _, domestic, products, _ = (
            self.setup_utility())
        with set_company(company):
            subscription, = connect(area, route, domestic, 1)
            bill, = create_bills([subscription], products)
            # a held bill does not count: the month is still to bill
            Bill.write([bill], {'state': 'held'})
            create_bills([subscription], products)
            with self.assertRaises(SQLConstraintError) as cm:
                create_bills([subscription], products)
            self.assertIn('already has a bill for this month',
                cm.exception.message)

    @with_transaction()
    def test_failed_batch_isolated_then_resumed(self):
        """A batch that fails leaves no trace and does not stop the others;
        once the cause is fixed, Resume bills it once"""
        pool = Pool()
        Run = pool.get('water.billing.run')
        Batch = pool.get('water.billing.batch')
        Bill = pool.get('water.bill')
        Invoice = pool.get('account.invoice')
        Category = pool.get('product.category')
        Template = pool.get('product.template')
        company, area, route, other_route, domestic, products, fee = (
            self.setup_utility(fee_on_other_area=True))
        with set_company(company):
            here = connect(area, route, domestic, 3)
            there = connect(other_route.area, other_route, domestic, 2,
                start=3)
            read(here + there, MONTH, [10, 25, 45, 5, 30])
            run, = Run.create([{'month': MONTH, 'invoice_date': ISSUED}])
            Run.calculate([run])
            Batch.process(run.batches)
            run = Run(run.id)
            self.assertEqual((run.state, run.bill_count), ('calculated', 5))
            Run.post([run])
            Batch.process(Run(run.id).batches)
            run = Run(run.id)
            failed, = [b for b in run.batches if b.state == 'failed']
            self.assertEqual(failed.route, other_route)
            self.assertIn('fee', failed.message)
            self.assertEqual(run.state, 'posting')
            self.assertEqual(run.posted_count, 3)
            self.assertEqual(run.failed_count, 1)
            # the failed batch left no invoice, move nor billed reading
            self.assertEqual(Invoice.search([], count=True), 3)
            self.assertEqual(Bill.search([
                        ('route', '=', other_route.id),
                        ('state', '=', 'calculated')], count=True), 2)

            # the accountant gives the fee its revenue account
            category, = Category.create([{
                        'name': 'fees', 'accounting': True,
                        'account_revenue':
                        products['water'].account_revenue_used.id}])
            Template.write([fee.template], {'account_category': category.id})
            Run.resume([run])
            Batch.process(Batch.search([('run', '=', run.id),
                        ('state', '=', 'pending')]))
            run = Run(run.id)
            self.assertEqual((run.state, run.posted_count, run.failed_count),
                ('posted', 5, 0))
            self.assertEqual(Invoice.search([], count=True), 5)
            # a batch processed twice posts nothing twice
            Batch.process(run.batches)
            self.assertEqual(Invoice.search([], count=True), 5)

    @with_transaction()
    def test_postings_queued_one_after_the_other(self):
        """A run's calculations are queued at once, its postings one after
        the other: gapless numbering would make two side by side wait"""
        pool = Pool()
        Run = pool.get('water.billing.run')
        Batch = pool.get('water.billing.batch')
        Queue = pool.get('ir.queue')
        company, area, route, other_route, domestic, products, _ = (
            self.setup_utility())

        def queued():
            tasks = Queue.search([('name', '=', 'water_billing'),
                    ('finished_at', '=', None)], order=[('id', 'ASC')])
            batches = [Batch(i) for t in tasks for i in t.data['instances']]
            Queue.delete(tasks)
            return batches
        with set_company(company):
            subscriptions = (connect(area, route, domestic, 2)
                + connect(other_route.area, other_route, domestic, 2,
                    start=2))
            read(subscriptions, MONTH, [10, 20, 30, 40])
            run, = Run.create([{'month': MONTH, 'invoice_date': ISSUED}])
            Run.calculate([run])
            calculations = queued()
            self.assertEqual(len(calculations), 2)
            Batch.process(calculations)
            self.assertEqual(queued(), [])

            Run.post([Run(run.id)])
            first, = queued()
            Batch.process([first])
            second, = queued()
            self.assertNotEqual(second, first)
            self.assertEqual(second.stage, 'post')
            Batch.process([second])
            self.assertEqual(queued(), [])
            run = Run(run.id)
            self.assertEqual((run.state, run.posted_count), ('posted', 4))

    @with_transaction()
    def test_queries_do_not_grow_with_bills(self):
        """Calculating and posting 20 bills takes the SQL statements of 5"""
        pool = Pool()
        Run = pool.get('water.billing.run')
        Batch = pool.get('water.billing.batch')
        Route = pool.get('water.route')
        company, area, route, _, domestic, products, _ = (
            self.setup_utility())
        with set_company(company):
            routes = Route.create([{
                        'area': area.id, 'code': code, 'name': code,
                        } for code in ['W', 'S', 'L']])
            subscriptions, start = [], 0
            for route_, count in zip(routes, [5, 5, 20]):
                subscriptions.extend(
                    connect(area, route_, domestic, count, start=start))
                start += count
            # each route has bills of every block, so that the first run
            # warms every cache (messages, records) the others need
            read(subscriptions, MONTH,
                [[12, 25, 45, 30, 50][i % 5] for i in range(
                        len(subscriptions))])
            counts = []
            for route_ in routes:
                run, = Run.create([{'month': MONTH, 'invoice_date': ISSUED,
                            'routes': [('add', [route_.id])]}])
                Run.calculate([run])
                batches = list(Run(run.id).batches)
                with count_statements() as counter:
                    Batch.process(batches)
                    Run.post([Run(run.id)])
                    Batch.process(Run(run.id).batches)
                counts.append(counter.count)
                run = Run(run.id)
                self.assertEqual((run.state, run.posted_count),
                    ('posted', len(route_.subscriptions)))
            _, small_count, large_count = counts
            self.assertLessEqual(large_count, small_count,
                f"5 bills: {small_count} statements, 20: {large_count}")

    @with_transaction()
    def test_bill_pdf_reads_back(self):
        """The PDF bill carries the amount due, the portal activation code
        and a QR code a phone reads: the subscription, the amount and the
        bill number"""
        pool = Pool()
        Bill = pool.get('water.bill')
        Report = pool.get('water.bill', type='report')
        company, area, route, _, domestic, products, _ = (
            self.setup_utility())
        with set_company(company):
            subscription, = connect(area, route, domestic, 1)
            read([subscription], MONTH, [25])
            run = run_month(MONTH)
            bill, = Bill.search([('run', '=', run.id)])
            self.assertEqual(bill.total_due, Decimal('188.00'))
            extension, content, _, _ = Report.execute([bill.id], {})
        self.assertEqual(extension, 'pdf')
        import pypdfium2
        import zxingcpp
        document = pypdfium2.PdfDocument(content)
        self.assertEqual(len(document), 1)
        page = document[0]
        text = page.get_textpage().get_text_range()
        self.assertIn('188.00', text)
        self.assertIn(subscription.number, text)
        # the holder's proof on the portal
        self.assertIn(subscription.portal_code, text)
        image = page.render(scale=3).to_pil()
        codes = zxingcpp.read_barcodes(image)
        self.assertEqual([c.text for c in codes], [
                f'water:{subscription.number}?amount=188.00'
                f'&bill={bill.invoice.number}&due=2026-12-03'])


class WorkerTestCase(_DBTestCase):
    "Batches taken by queue workers side by side"
    module = 'water_utility'

    def test_run_moves_on_once_workers_committed(self):
        """Two workers finishing the last batches at the same moment each
        see the other's batch pending: once both have committed, the run
        moves on all the same

        Workers commit: what the test creates is committed, then deleted.
        """
        pool = Pool(DB_NAME)
        Run = pool.get('water.billing.run')
        Batch = pool.get('water.billing.batch')
        with Transaction().start(DB_NAME, 0, context=CONTEXT):
            company, _, route, other_route, _ = base.create_utility()
            run, = Run.create([{
                        'company': company.id,
                        'month': MONTH,
                        'invoice_date': ISSUED,
                        }])
            Run.write([run], {'state': 'calculating'})
            first, second = Batch.create([{
                        'run': run.id, 'route': r.id, 'stage': 'calculate',
                        } for r in [route, other_route]])
            created = (company.id, company.party.id, run.id,
                [route.id, other_route.id],
                [route.area.id, other_route.area.id])
        config.set('queue', 'worker', 'True')
        try:
            with Transaction().start(DB_NAME, 0, context=CONTEXT):
                Batch.process([Batch(first)])
                with Transaction(new=True).start(
                        DB_NAME, 0, context=CONTEXT):
                    Batch.process([Batch(second)])
                    if backend.name == 'postgresql':
                        # the first worker has not committed yet (SQLite's
                        # test database in memory has one connection)
                        self.assertEqual(Run(run.id).state, 'calculating')
            with Transaction().start(DB_NAME, 0, readonly=True):
                self.assertEqual(
                    [b.state for b in Run(run.id).batches], ['done'] * 2)
                self.assertEqual(Run(run.id).state, 'calculated')
        finally:
            config.set('queue', 'worker', 'False')
            self._delete(*created)

    @staticmethod
    def _delete(company, party, run, routes, areas):
        pool = Pool(DB_NAME)
        with Transaction().start(DB_NAME, 0, context=CONTEXT):
            run_table = pool.get('water.billing.run').__table__()
            cursor = Transaction().connection.cursor()
            # whatever state the run was left in (its batches cascade)
            cursor.execute(*run_table.delete(where=run_table.id == run))
            for name, ids in [
                    ('water.route', routes),
                    ('water.area', areas),
                    ('company.company', [company]),
                    ('party.party', [party]),
                    ]:
                Model = pool.get(name)
                Model.delete(Model.browse(ids))


class count_statements:
    "Count the SQL statements the transaction's connection executes"

    def __enter__(self):
        from trytond import backend
        self.count = 0
        connection = Transaction().connection
        if backend.name == 'sqlite':
            connection.set_trace_callback(self.trace)
            self.restore = lambda: connection.set_trace_callback(None)
        else:
            from trytond.backend.postgresql import database
            execute = database.LoggingCursor.execute
            counter = self

            def counting(cursor, query, params=None, **kwargs):
                counter.count += 1
                return execute(cursor, query, params, **kwargs)
            database.LoggingCursor.execute = counting
            self.restore = lambda: setattr(
                database.LoggingCursor, 'execute', execute)
        return self

    def trace(self, statement):
        self.count += 1

    def __exit__(self, *args):
        self.restore()
