# This file is part of the water_utility module.  See README.rst.
"""Posting water bills as customer invoices

post_standard() saves and posts the invoices with Tryton's own Invoice.post,
bill by bill through the ORM.  post_bulk() gives the same ledger (a test
compares both line by line) at the speed a monthly run needs: the invoices,
their lines, taxes, moves and move lines are built in memory by Tryton's own
methods (taxes, payment terms, move lines) with what is common to the batch
(accounts, taxes, journal, period, sequences) resolved once, numbered in one
call per sequence, and inserted with one statement per table (see bulk.py).
"""
from collections import defaultdict

from sql.conditionals import Case

from trytond import backend
from trytond.model import Model, fields
from trytond.pool import Pool
from trytond.tools import grouped_slice
from trytond.transaction import Transaction

from . import bulk


class Preparation:
    """What the invoices of a batch of bills share, resolved once

    Products (account, taxes, unit, name in the bill's language), the
    subscribers' receivable accounts and payment terms, the journal.
    """

    def __init__(self, bills, invoice_date):
        pool = Pool()
        Configuration = pool.get('water.configuration')
        Journal = pool.get('account.journal')
        Product = pool.get('product.product')
        self.invoice_date = invoice_date
        configuration = Configuration(1)
        self.language = configuration.get_bill_language()
        self.payment_term = configuration.bill_payment_term
        self.journal = Journal.find({'type': 'revenue'})
        product_ids = {l.product.id for b in bills for l in b.lines}
        with Transaction().set_context(
                language=self.language, date=invoice_date):
            self.products = {p.id: p for p in Product.browse(
                    list(product_ids))}
            self.names = {p.id: p.name for p in self.products.values()}
            self.accounts = {p.id: p.account_revenue_used
                for p in self.products.values()}
            self.taxes = {p.id: list(p.customer_taxes_used)
                for p in self.products.values()}
            self.units = {p.id: p.default_uom for p in self.products.values()}

    def description(self, bill):
        with Transaction().set_context(language=self.language):
            return bill.invoice_description()

    def line_description(self, line):
        with Transaction().set_context(language=self.language):
            return line.describe(self.names[line.product.id])

    def line_taxes(self, party, product):
        "The customer taxes of product for party, through its tax rule"
        taxes = set()
        rule = party.customer_tax_rule
        for tax in self.taxes[product]:
            if rule:
                tax_ids = rule.apply(tax, {})
                if tax_ids:
                    taxes.update(tax_ids)
                continue
            taxes.add(tax.id)
        if rule:
            taxes.update(rule.apply(None, {}) or [])
        return sorted(taxes)


def build_invoices(bills, invoice_date, preparation=None):
    "Return an unsaved customer invoice for each bill"
    pool = Pool()
    Invoice = pool.get('account.invoice')
    InvoiceLine = pool.get('account.invoice.line')
    preparation = preparation or Preparation(bills, invoice_date)
    invoices = []
    for bill in bills:
        party = bill.party
        invoice = Invoice(
            company=bill.company,
            type='out',
            party=party,
            invoice_address=bill.address or party.address_get(
                type='invoice'),
            currency=bill.company.currency,
            invoice_date=invoice_date,
            journal=preparation.journal,
            account=party.account_receivable_used,
            payment_term=(preparation.payment_term
                or party.customer_payment_term),
            description=preparation.description(bill),
            water_subscription=bill.subscription,
            )
        lines = []
        for sequence, line in enumerate(bill.lines, 1):
            product = line.product.id
            lines.append(InvoiceLine(
                    invoice=invoice,
                    company=bill.company,
                    currency=bill.company.currency,
                    type='line',
                    sequence=sequence,
                    product=line.product,
                    account=preparation.accounts[product],
                    unit=preparation.units[product],
                    quantity=float(line.quantity),
                    unit_price=line.unit_price,
                    taxes=preparation.line_taxes(party, product),
                    description=preparation.line_description(line),
                    origin=line,
                    ))
        invoice.lines = lines
        invoices.append(invoice)
    return invoices


def invoice_values(invoices):
    "The values of posted invoices the bills keep"
    pool = Pool()
    Invoice = pool.get('account.invoice')
    invoices = Invoice.browse([i.id for i in invoices])
    result = []
    for invoice in invoices:
        maturities = [l.maturity_date for l in invoice.lines_to_pay
            if l.maturity_date]
        result.append({
                'id': invoice.id,
                'move': invoice.move.id,
                'invoice_date': invoice.invoice_date,
                'due_date': min(maturities) if maturities else None,
                'tax_amount': invoice.tax_amount,
                'total_amount': invoice.total_amount,
                })
    return result


def post_standard(bills, invoice_date):
    """Post the invoices of bills through Tryton's Invoice.post

    Return their values (invoice_values) in the order of bills.
    """
    pool = Pool()
    Invoice = pool.get('account.invoice')
    invoices = build_invoices(bills, invoice_date)
    Invoice.save(invoices)
    Invoice.update_taxes(invoices)
    with Transaction().set_context(_skip_warnings=True):
        Invoice.post(invoices)
    return invoice_values(invoices)


def post_bulk(bills, invoice_date):
    """Post the invoices of bills in bulk and return their values (as
    invoice_values) in the order of bills

    Bills that the fast path does not cover (another currency, a zero
    amount, which Tryton reconciles at once, payment means rules) go
    through post_standard.
    """
    pool = Pool()
    PaymentMeanRule = pool.get('account.invoice.payment.mean.rule')
    if PaymentMeanRule.search([], limit=1):
        return post_standard(bills, invoice_date)
    preparation = Preparation(bills, invoice_date)
    invoices = build_invoices(bills, invoice_date, preparation)
    fast, slow = [], []
    for bill, invoice in zip(bills, invoices):
        (fast if _bulk_postable(invoice) else slow).append((bill, invoice))
    result = {}
    if slow:
        slow_bills = [b for b, _ in slow]
        result.update(zip([b.id for b in slow_bills],
                post_standard(slow_bills, invoice_date)))
    if fast:
        values = _BulkPosting([i for _, i in fast]).post()
        result.update(zip([b.id for b, _ in fast], values))
    return [result[b.id] for b in bills]


def _bulk_postable(invoice):
    currency = invoice.company.currency
    amounts = [l.on_change_with_amount() for l in invoice.lines]
    return (invoice.currency == currency
        and all(amounts) and sum(amounts))


class _BulkPosting:
    """Post unsaved invoices as Tryton's Invoice.post would, in bulk

    Tryton's own methods compute the taxes, the amounts, the numbers'
    sequences, the move and its lines in memory; the rows are then
    inserted table by table.
    """

    def __init__(self, invoices):
        self.invoices = invoices
        # database ids of the records created, by Python object
        self.ids = {}

    def post(self):
        pool = Pool()
        Date = pool.get('ir.date')
        User = pool.get('res.user')
        transaction = Transaction()
        invoices = self.invoices
        company = invoices[0].company
        with transaction.set_context(company=company.id):
            self.today = today = Date.today()
        employee = User(transaction.user).employee
        with transaction.set_context(_skip_warnings=True):
            self.compute_taxes(invoices)
            self.set_numbers(invoices)
            moves = []
            for invoice in invoices:
                invoice.state = 'draft'
                moves.append(invoice.get_move())
        for invoice in invoices:
            invoice.state = 'posted'
            if employee and employee.company == invoice.company:
                invoice.posted_by = employee
        self.post_moves(moves)
        self.insert(invoices, moves)
        return [self.values(i, m) for i, m in zip(invoices, moves)]

    def compute_taxes(self, invoices):
        "Taxes and amounts in memory, as update_taxes and _store_cache"
        pool = Pool()
        InvoiceTax = pool.get('account.invoice.tax')
        for invoice in invoices:
            for name in ['move', 'accounting_date', 'payment_term_date',
                    'alternative_payees', 'payment_means', 'cancel_move',
                    'additional_moves']:
                if name in {'alternative_payees', 'payment_means',
                        'additional_moves'}:
                    setattr(invoice, name, [])
                else:
                    setattr(invoice, name, None)
            # what a saved invoice reads from the database
            invoice.line_lines = invoice.lines
            for line in invoice.lines:
                line.amount = line.on_change_with_amount()
            taxes = []
            for _, values in invoice._compute_taxes():
                values.pop('invoice')
                tax = InvoiceTax(**values)
                tax.invoice = invoice
                taxes.append(tax)
            invoice.taxes = taxes
            currency = invoice.currency
            untaxed = currency.round(sum(
                    (l.on_change_with_amount() for l in invoice.lines),
                    currency.round(0)))
            tax_amount = currency.round(sum(
                    (t.amount for t in taxes), currency.round(0)))
            total = currency.round(untaxed + tax_amount)
            invoice.untaxed_amount = invoice.untaxed_amount_cache = untaxed
            invoice.tax_amount = invoice.tax_amount_cache = tax_amount
            invoice.total_amount = invoice.total_amount_cache = total

    def set_numbers(self, invoices):
        "Number the invoices as Invoice.set_number, in one call a sequence"
        pool = Pool()
        Invoice = pool.get('account.invoice')
        Lang = pool.get('ir.lang')
        from trytond.i18n import gettext
        from trytond.modules.account_invoice.exceptions import (
            InvoiceNumberError)
        identifiers = {}
        to_number = defaultdict(list)
        for invoice in invoices:
            country = (invoice.invoice_address.country
                if invoice.invoice_address else None)
            if country not in identifiers:
                identifiers[country] = invoice.get_tax_identifier()
            invoice.tax_identifier = identifiers[country]
            invoice.party_tax_identifier = invoice.party.tax_identifier
            invoice.sequence_type_cache = invoice._sequence_type
            sequence, date = invoice._number_sequence()
            to_number[(sequence, date)].append(invoice)
        for (sequence, date), group in to_number.items():
            company = group[0].company
            later = Invoice.search([
                    ('sequence', '=', sequence.id),
                    ('invoice_date', '>', date),
                    ], limit=1, order=[('invoice_date', 'DESC')])
            if later:
                raise InvoiceNumberError(gettext(
                        'account_invoice.msg_invoice_number_after',
                        invoice=group[0].rec_name,
                        sequence=sequence.rec_name,
                        date=Lang.get().strftime(date),
                        after_invoice=later[0].rec_name))
            with Transaction().set_context(date=date, company=company.id):
                for invoice, number in zip(
                        group, sequence.get_many(len(group))):
                    invoice.sequence = sequence
                    invoice.number = number

    def post_moves(self, moves):
        "Number and post the moves as Move.post"
        pool = Pool()
        MoveLine = pool.get('account.move.line')
        by_period = defaultdict(list)
        journal_periods = set()
        for move in moves:
            by_period[move.period].append(move)
            journal_periods.add((move.period, move.journal))
        for period, journal in journal_periods:
            MoveLine.check_journal_period_modify(period, journal)
        for period, period_moves in by_period.items():
            sequence = period.move_sequence_used
            with Transaction().set_context(
                    date=period_moves[0].date,
                    company=period_moves[0].company.id):
                numbers = sequence.get_many(len(period_moves))
                for move, number in zip(period_moves, numbers):
                    move.number = number
                    move.state = 'posted'
                    move.post_date = self.today
                    for line in move.lines:
                        line.state = 'valid'

    def insert(self, invoices, moves):
        pool = Pool()
        Invoice = pool.get('account.invoice')
        InvoiceLine = pool.get('account.invoice.line')
        InvoiceTax = pool.get('account.invoice.tax')
        Move = pool.get('account.move')
        MoveLine = pool.get('account.move.line')
        TaxLine = pool.get('account.tax.line')
        self.create(Invoice, invoices)
        lines = [l for i in invoices for l in i.lines]
        self.create(InvoiceLine, lines, parent=('invoice', None))
        self.create(InvoiceTax, [t for i in invoices for t in i.taxes],
            parent=('invoice', None))
        for move, invoice in zip(moves, invoices):
            move.origin = invoice
        self.create(Move, moves)
        move_lines = []
        for move in moves:
            for line in move.lines:
                line.move = move
                move_lines.append(line)
        self.create(MoveLine, move_lines)
        tax_lines = []
        for line in move_lines:
            for tax_line in getattr(line, 'tax_lines', None) or []:
                tax_line.move_line = line
                tax_lines.append(tax_line)
        self.create(TaxLine, tax_lines)
        # the invoices point to their moves
        table = Invoice.__table__()
        cursor = Transaction().connection.cursor()
        pairs = [(self.ids[id(i)], self.ids[id(m)])
            for i, m in zip(invoices, moves)]
        for sub in grouped_slice(pairs, backend.MAX_QUERY_PARAMS // 3):
            sub = list(sub)
            cursor.execute(*table.update([table.move],
                    [Case(*[(table.id == i, m) for i, m in sub])],
                    where=fields.SQL_OPERATORS['in'](
                        table.id, [i for i, _ in sub])))

    def create(self, Model, records, parent=None):
        "Insert records and remember their ids"
        relations = []
        vlist = []
        for record in records:
            values = self.row(record)
            vlist.append(values)
        ids = bulk.insert(Model, vlist)
        for record, id_ in zip(records, ids):
            self.ids[id(record)] = id_
            for name, field in Model._fields.items():
                if field._type == 'many2many' and not isinstance(
                        field, fields.Function):
                    targets = record._values._get(name) if (
                        record._values) else None
                    for target in targets or []:
                        relations.append((field, id_, target.id))
        by_relation = defaultdict(list)
        for field, origin, target in relations:
            by_relation[field].append({
                    field.origin: origin,
                    field.target: target,
                    })
        pool = Pool()
        for field, vlist in by_relation.items():
            bulk.insert(pool.get(field.relation_name), vlist)
        return ids

    def row(self, record):
        "The column values of an unsaved record"
        values = {}
        for name, value in record._values._items():
            field = record._fields[name]
            if isinstance(field, fields.Function) or field._type in {
                    'one2many', 'many2many'}:
                continue
            if field._type in {'many2one', 'one2one', 'reference'} and (
                    isinstance(value, Model)):
                if value.id is None or value.id < 0:
                    target = self.ids[id(value)]
                else:
                    target = value.id
                if field._type == 'reference':
                    value = f'{value.__name__},{target}'
                else:
                    value = target
            values[name] = value
        values.update(record.compute_fields())
        return values

    def values(self, invoice, move):
        maturities = [l.maturity_date for l in move.lines
            if l.account == invoice.account and l.maturity_date]
        return {
            'id': self.ids[id(invoice)],
            'move': self.ids[id(move)],
            'invoice_date': invoice.invoice_date,
            'due_date': min(maturities) if maturities else None,
            'tax_amount': invoice.tax_amount,
            'total_amount': invoice.total_amount,
            }
