# This file is part of the water_utility module.  See README.rst.
"Billing: bulk posting, the database's guarantees, batches and queries"
import datetime as dt
from decimal import Decimal

from sql import Column

from trytond.modules.account.tests import create_chart, get_fiscalyear
from trytond.modules.account_invoice.tests import set_invoice_sequences
from trytond.modules.company.tests import set_company
from trytond.pool import Pool
from trytond.tests.test_tryton import _DBTestCase, with_transaction
from trytond.transaction import Transaction

# the module, not its names: a TestCase imported here would run twice
from . import test_module as base

MONTH = dt.date(2026, 10, 1)
ISSUED = dt.date(2026, 11, 3)
# columns that differ between two postings of the same bills
VOLATILE = {'id', 'create_date', 'create_uid', 'write_date', 'write_uid'}


def setup_accounting(company):
    """A chart with a 20 % tax, the fiscal year 2026 and a payment term in
    two instalments; return the accounts by kind"""
    pool = Pool()
    Account = pool.get('account.account')
    FiscalYear = pool.get('account.fiscalyear')
    PaymentTerm = pool.get('account.invoice.payment_term')
    create_chart(company, tax=True)
    fiscalyear = set_invoice_sequences(get_fiscalyear(
            company, today=dt.date(2026, 6, 1)))
    fiscalyear.save()
    FiscalYear.create_period([fiscalyear])
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
    "Services for water (m³), a taxed meter charge, sewage and a discount"
    pool = Pool()
    Category = pool.get('product.category')
    Template = pool.get('product.template')
    Uom = pool.get('product.uom')
    Tax = pool.get('account.tax')
    tax, = Tax.search([], limit=1)
    m3, = Uom.search([('symbol', '=', 'm³')])
    unit, = Uom.search([('symbol', '=', 'u')])
    products = {}
    for name, uom, taxes in [
            ('water', m3, []), ('fixed', unit, [tax]),
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


def create_bills(subscriptions, products, run=None):
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
                'month': MONTH,
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


class BillingTestCase(_DBTestCase):
    "Test the billing of the Water Utility module"
    module = 'water_utility'
    maxDiff = None

    def setup_billing(self, count=3):
        """A utility with accounting, products and two subscriptions per
        subscriber (one billed each way)"""
        company, area, route, _, domestic = base.create_utility()
        self.company = company
        with set_company(company):
            return self._setup_billing(company, area, route, domestic, count)

    def _setup_billing(self, company, area, route, domestic, count):
        pool = Pool()
        Configuration = pool.get('water.configuration')
        revenue, term = setup_accounting(company)
        products = create_products(revenue)
        configuration = Configuration(1)
        configuration.bill_payment_term = term
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
