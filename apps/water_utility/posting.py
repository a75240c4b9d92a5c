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

from trytond.pool import Pool
from trytond.transaction import Transaction


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
    "Post the invoices of bills in bulk; same result as post_standard"
    return post_standard(bills, invoice_date)


def by_key(items, key):
    result = defaultdict(list)
    for item in items:
        result[key(item)].append(item)
    return result
