# This file is part of the water_utility module.  See README.rst.
"""Posting water bills as customer invoices

post_standard() saves and posts the invoices with Tryton's own Invoice.post,
bill by bill through the ORM.  post_bulk() writes the same ledger (a test
compares both row by row and column by column) at the speed a monthly run
needs: what the bills of a batch share (accounts, taxes, units, payment
term, journal, period, sequences) is resolved once, the bills and their
subscribers are read with one query per table, the invoices and moves are
numbered with one call per sequence, taxes and payment terms are computed
by Tryton's own code, and every table gets one insert per batch (bulk.py).
"""
from collections import defaultdict
from decimal import Decimal

from sql import Null

from trytond import backend
from trytond.i18n import gettext
from trytond.model import fields
from trytond.modules.account.tax import TaxableMixin
from trytond.pool import Pool
from trytond.tools import grouped_slice
from trytond.transaction import Transaction

from . import bulk


class Preparation:
    """What the invoices of a batch of bills share, resolved once

    The products (account, taxes, unit, name in the bills' language), the
    payment term of the configuration, the revenue journal.
    """

    def __init__(self, product_ids, invoice_date):
        pool = Pool()
        Configuration = pool.get('water.configuration')
        Journal = pool.get('account.journal')
        Product = pool.get('product.product')
        self.invoice_date = invoice_date
        configuration = Configuration(1)
        self.language = configuration.get_bill_language()
        self.payment_term = configuration.bill_payment_term
        self.journal = Journal.find({'type': 'revenue'})
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

    def line_taxes(self, rule, product):
        "The customer taxes of product through the party's tax rule"
        taxes = set()
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
    preparation = preparation or Preparation(
        {l.product.id for b in bills for l in b.lines}, invoice_date)
    invoices = []
    for bill in bills:
        party = bill.party
        with Transaction().set_context(language=preparation.language):
            description = bill.invoice_description()
        invoice = Invoice(
            company=bill.company,
            type='out',
            party=party,
            invoice_address=bill.address or party.address_get(
                type='invoice'),
            currency=bill.company.currency,
            invoice_date=invoice_date,
            journal=preparation.journal,
            account=party.account_receivable_used.current(
                date=invoice_date),
            payment_term=(preparation.payment_term
                or party.customer_payment_term),
            description=description,
            water_subscription=bill.subscription,
            )
        lines = []
        for sequence, line in enumerate(bill.lines, 1):
            product = line.product.id
            with Transaction().set_context(language=preparation.language):
                line_description = line.describe(preparation.names[product])
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
                    taxes=preparation.line_taxes(
                        party.customer_tax_rule, product),
                    description=line_description,
                    origin=line,
                    ))
        invoice.lines = lines
        invoices.append(invoice)
    return invoices


def build_invoice(subscription, date, description, lines, origin=None,
        preparation=None, party=None):
    """Return an unsaved customer invoice on the account of subscription
    (or of party without one) dated date

    lines lists (product id, quantity, unit price, description): charges
    other than a monthly bill (a re-estimation, a violation).  A negative
    total is a credit: it has no payment term.
    """
    pool = Pool()
    Invoice = pool.get('account.invoice')
    InvoiceLine = pool.get('account.invoice.line')
    Product = pool.get('product.product')
    preparation = preparation or Preparation(
        {l[0] for l in lines}, date)
    party = party or subscription.party
    company = (subscription or origin).company
    invoice = Invoice(
        company=company,
        type='out',
        party=party,
        invoice_address=(subscription.address if subscription
            else party.address_get(type='invoice')),
        currency=company.currency,
        invoice_date=date,
        journal=preparation.journal,
        account=party.account_receivable_used.current(date=date),
        description=description,
        water_subscription=subscription,
        )
    if sum(Decimal(str(q)) * p for _, q, p, _ in lines) > 0:
        invoice.payment_term = (preparation.payment_term
            or party.customer_payment_term)
    invoice.lines = [InvoiceLine(
            invoice=invoice,
            company=company,
            currency=company.currency,
            type='line',
            sequence=sequence,
            product=Product(product),
            account=preparation.accounts[product],
            unit=preparation.units[product],
            quantity=float(quantity),
            unit_price=unit_price,
            taxes=preparation.line_taxes(party.customer_tax_rule, product),
            description=line_description,
            origin=origin,
            ) for sequence, (product, quantity, unit_price, line_description)
        in enumerate(lines, 1)]
    return invoice


def post_invoices(invoices):
    "Save, compute the taxes of and post customer invoices"
    pool = Pool()
    Invoice = pool.get('account.invoice')
    Invoice.save(invoices)
    Invoice.update_taxes(invoices)
    with Transaction().set_context(_skip_warnings=True):
        Invoice.post(invoices)


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

    The bills the bulk path does not cover go through post_standard: a
    subscriber with a tax rule, a line or a total of zero (Tryton
    reconciles those at once), or payment means rules configured.
    """
    pool = Pool()
    PaymentMeanRule = pool.get('account.invoice.payment.mean.rule')
    if not bills:
        return []
    if PaymentMeanRule.search([], limit=1):
        return post_standard(
            pool.get('water.bill').browse([b.id for b in bills]),
            invoice_date)
    posting = BulkPosting(bills, invoice_date)
    result = posting.post()
    others = [b.id for b in bills if b.id not in result]
    if others:
        Bill = pool.get('water.bill')
        result.update(zip(others,
                post_standard(Bill.browse(others), invoice_date)))
    return [result[b.id] for b in bills]


class _Row(dict):
    "Plain values read from the database, by attribute as well"
    __getattr__ = dict.__getitem__


class _Taxable(TaxableMixin):
    "Lines as Tryton's tax engine sees an invoice (or one of its lines)"

    def __init__(self, company, currency, lines, date, context):
        self.company = company
        self.currency = currency
        self._lines = lines
        self._date = date
        self._context = context

    @property
    def taxable_lines(self):
        return self._lines

    @property
    def tax_date(self):
        return self._date

    def _get_tax_context(self):
        return self._context


def _rows(table, columns, where, order_by=None):
    "Plain rows of table as _Row, read by one query"
    cursor = Transaction().connection.cursor()
    cursor.execute(*table.select(
            *[getattr(table, c) for c in columns], where=where,
            order_by=order_by or []))
    return [_Row(zip(columns, r)) for r in cursor]


def _in(column, ids):
    return fields.SQL_OPERATORS['in'](column, list(ids))


def _decimal(value):
    # SQLite gives floats for some numeric expressions
    return value if value is None or isinstance(value, Decimal) else (
        Decimal(str(value)))


class BulkPosting:
    """The invoices of a batch of bills, posted as Tryton's Invoice.post
    posts them, with plain values

    Each value comes from the same source as in Tryton: the accounts,
    taxes and units of the products, the subscribers' receivable accounts
    and payment terms, Tryton's tax engine (TaxableMixin), its payment
    terms (PaymentTerm.compute), its sequences (get_many) and its rounding.
    """

    def __init__(self, bills, invoice_date):
        pool = Pool()
        Bill = pool.get('water.bill')
        Company = pool.get('company.company')
        Line = pool.get('water.bill.line')
        Subscription = pool.get('water.subscription')
        self.invoice_date = invoice_date
        company, = {int(b.company) for b in bills}
        self.company = company = Company(company)
        self.currency = company.currency
        ids = [b.id for b in bills]
        bill = Bill.__table__()
        subscription = Subscription.__table__()
        self.bills = []
        for sub in grouped_slice(ids, backend.MAX_QUERY_PARAMS):
            cursor = Transaction().connection.cursor()
            cursor.execute(*bill.join(subscription,
                    condition=bill.subscription == subscription.id).select(
                    bill.id, bill.party, bill.address, bill.subscription,
                    bill.month, subscription.number,
                    where=_in(bill.id, sub)))
            self.bills.extend(_Row(zip(['id', 'party', 'address',
                                'subscription', 'month', 'number'], r))
                for r in cursor)
        order = {i: n for n, i in enumerate(ids)}
        self.bills.sort(key=lambda b: order[b.id])
        line = Line.__table__()
        self.lines = defaultdict(list)
        columns = ['id', 'bill', 'sequence', 'kind', 'product', 'quantity',
            'unit_price', 'amount', 'block', 'lower', 'upper', 'percentage',
            'base', 'days', 'month_days', 'settlement']
        for sub in grouped_slice(ids, backend.MAX_QUERY_PARAMS):
            for row in _rows(line, columns, _in(line.bill, sub),
                    [line.bill, line.sequence, line.id]):
                for name in ['quantity', 'unit_price', 'amount', 'lower',
                        'upper', 'percentage', 'base']:
                    row[name] = _decimal(row[name])
                self.lines[row.bill].append(row)
        self.preparation = Preparation(
            {l.product for ls in self.lines.values() for l in ls},
            invoice_date)
        self.parties = self._parties({b.party for b in self.bills})
        self.countries = self._countries({b.address for b in self.bills})

    def _parties(self, party_ids):
        """By party: receivable account, payment term, tax rule, tax
        identifier and language, as the ORM would give them"""
        pool = Pool()
        Party = pool.get('party.party')
        PartyAccount = pool.get('party.party.account')
        PartyPaymentTerm = pool.get('party.party.payment_term')
        Identifier = pool.get('party.identifier')
        PartyLang = pool.get('party.party.lang')
        Lang = pool.get('ir.lang')
        AccountConfiguration = pool.get('account.configuration')
        Configuration = pool.get('ir.configuration')
        company = self.company.id
        config = AccountConfiguration(1)
        default_receivable = config.get_multivalue(
            'default_account_receivable', company=company)
        default_term = config.get_multivalue(
            'default_customer_payment_term', company=company)
        default_lang = Configuration.get_language()
        result = {p: _Row(receivable=(
                    default_receivable.id if default_receivable else None),
                payment_term=default_term.id if default_term else None,
                tax_rule=None, tax_identifier=None, lang=default_lang)
            for p in party_ids}
        party_lang = PartyLang.__table__()
        account = PartyAccount.__table__()
        term = PartyPaymentTerm.__table__()
        identifier = Identifier.__table__()
        lang = Lang.__table__()
        types = Party.tax_identifier_types()
        cursor = Transaction().connection.cursor()
        for sub in grouped_slice(list(party_ids), backend.MAX_QUERY_PARAMS):
            sub = list(sub)
            cursor.execute(*account.select(
                    account.party, account.account_receivable,
                    account.customer_tax_rule,
                    where=_in(account.party, sub)
                    & (account.company == company)))
            for party_id, receivable, rule in cursor:
                if receivable:
                    result[party_id].receivable = receivable
                result[party_id].tax_rule = rule
            cursor.execute(*term.select(term.party, term.customer_payment_term,
                    where=_in(term.party, sub)
                    & (term.customer_payment_term != Null)))
            for party_id, payment_term in cursor:
                result[party_id].payment_term = payment_term
            cursor.execute(*party_lang.join(lang,
                    condition=party_lang.lang == lang.id).select(
                    party_lang.party, lang.code,
                    where=_in(party_lang.party, sub)))
            for party_id, code in cursor:
                result[party_id].lang = code
            if types:
                # the first of the party's identifiers in their order
                cursor.execute(*identifier.select(
                        identifier.party, identifier.id,
                        where=_in(identifier.party, sub)
                        & identifier.type.in_(list(types)),
                        order_by=[identifier.sequence.asc.nulls_first,
                            identifier.id.asc]))
                for party_id, identifier_id in cursor:
                    if result[party_id].tax_identifier is None:
                        result[party_id].tax_identifier = identifier_id
        return result

    def _countries(self, address_ids):
        pool = Pool()
        Address = pool.get('party.address')
        address = Address.__table__()
        result = {}
        for sub in grouped_slice(list(address_ids), backend.MAX_QUERY_PARAMS):
            for row in _rows(address, ['id', 'country'],
                    _in(address.id, sub)):
                result[row.id] = row.country
        return result

    def post(self):
        """Post the invoices of the bills it covers; return by bill id the
        values of invoice_values"""
        pool = Pool()
        Account = pool.get('account.account')
        Date = pool.get('ir.date')
        Invoice = pool.get('account.invoice')
        Period = pool.get('account.period')
        PaymentTerm = pool.get('account.invoice.payment_term')
        Tax = pool.get('account.tax')
        TaxRule = pool.get('account.tax.rule')
        User = pool.get('res.user')
        transaction = Transaction()
        company, currency = self.company, self.currency
        preparation = self.preparation
        date = self.invoice_date
        with transaction.set_context(company=company.id):
            today = Date.today()
        employee = User(transaction.user).employee
        posted_by = (employee.id
            if employee and employee.company == company else None)
        accounts = {}

        def current(account_id):
            if account_id not in accounts:
                accounts[account_id] = Account(account_id).current(date=date)
            return accounts[account_id]
        rules = {}
        terms = {}
        period = Period.find(company, date=date)
        journal = preparation.journal

        invoices = []
        with transaction.set_context(language=preparation.language):
            for bill in self.bills:
                lines = self.lines[bill.id]
                party = self.parties[bill.party]
                receivable = current(party.receivable)
                if not lines or not receivable:
                    continue
                rule = None
                if party.tax_rule:
                    if party.tax_rule not in rules:
                        rules[party.tax_rule] = TaxRule(party.tax_rule)
                    rule = rules[party.tax_rule]
                invoice = _Row(bill=bill, party=party, account=receivable,
                    description=gettext(
                        'water_utility.msg_bill_invoice_description',
                        month=f'{bill.month:%Y-%m}', subscription=bill.number),
                    lines=[])
                for line in lines:
                    product = line.product
                    quantity = float(line.quantity)
                    invoice.lines.append(_Row(
                            bill_line=line,
                            product=product,
                            account=preparation.accounts[product],
                            unit=preparation.units[product].id,
                            quantity=quantity,
                            unit_price=line.unit_price,
                            taxes=preparation.line_taxes(rule, product),
                            amount=currency.round(
                                Decimal(str(quantity)) * line.unit_price),
                            description=_describe(
                                line, preparation.names[product],
                                currency.digits)))
                invoices.append(invoice)

        # taxes, amounts and what Tryton reconciles at once (zero amounts)
        postable = []
        for invoice in invoices:
            self._taxes(invoice, Tax)
            untaxed = sum((l.amount for l in invoice.lines), Decimal(0))
            tax_amount = sum((t.amount for t in invoice.taxes), Decimal(0))
            invoice.untaxed = currency.round(untaxed)
            invoice.tax_amount = currency.round(tax_amount)
            invoice.total = currency.round(untaxed + tax_amount)
            if (not invoice.total or not all(l.amount for l in invoice.lines)
                    or not all(t.amount for t in invoice.taxes)):
                continue
            invoice.sequence_type = ('credit_note'
                if all(l.amount <= 0 for l in invoice.lines)
                and invoice.total < 0 else 'invoice')
            term_id = (preparation.payment_term.id
                if preparation.payment_term else invoice.party.payment_term)
            if term_id:
                if term_id not in terms:
                    terms[term_id] = PaymentTerm(term_id)
                invoice.term = term_id
                invoice.maturities = terms[term_id].compute(
                    invoice.total, currency, date)
            else:
                invoice.term = None
                invoice.maturities = [(today, invoice.total)]
            postable.append(invoice)
        if not postable:
            return {}

        # numbers: one call per sequence, as Invoice.set_number and Move.post
        self._number(postable, Invoice)
        move_sequence = period.move_sequence_used
        with transaction.set_context(date=date, company=company.id):
            move_numbers = move_sequence.get_many(len(postable))
            for invoice, number in zip(postable, move_numbers):
                invoice.move_number = number
        pool.get('account.move.line').check_journal_period_modify(
            period, journal)
        identifiers = {}
        for invoice in postable:
            country = self.countries.get(invoice.bill.address)
            if country not in identifiers:
                pattern = {'country': country} if country else {}
                identifier = company.get_tax_identifier(pattern)
                identifiers[country] = identifier.id if identifier else None
            invoice.tax_identifier = identifiers[country]
        return self._insert(postable, period, journal, today, posted_by)

    def _taxes(self, invoice, Tax):
        """The invoice's taxes and each line's tax bases, by Tryton's engine

        Computed once for each set of taxed lines (a meter charge taxed
        the same on every bill is computed once for the batch).
        """
        company, currency = self.company, self.currency
        date = self.invoice_date
        invoice.taxes = []
        for line in invoice.lines:
            line.tax_lines = []
        taxed = [l for l in invoice.lines if l.taxes]
        if not taxed:
            return
        lang = invoice.party.lang
        context = {'language': lang, 'company': company.id}
        cache = self.__dict__.setdefault('_tax_cache', {})

        def params(line):
            return (tuple(line.taxes), line.unit_price, line.quantity)

        def compute(lines):
            return _Taxable(company, currency, [
                    (list(Tax.browse(t)), p, q, date) for t, p, q in lines],
                date, context)._get_taxes().values()
        key = (lang, tuple(params(l) for l in taxed))
        with Transaction().set_context(context):
            if key not in cache:
                cache[key] = [_Row(dict(t.values()),
                        description=t.tax.description,
                        legal_notice=t.tax.legal_notice)
                    for t in compute(key[1])]
            invoice.taxes = cache[key]
            for line in taxed:
                key = (lang, params(line))
                if key not in cache:
                    cache[key] = [_Row(amount=t.base, type='base',
                            tax=t.tax.id) for t in compute([key[1]])]
                line.tax_lines = cache[key]

    def _number(self, invoices, Invoice):
        "Number the invoices as Invoice.set_number does"
        pool = Pool()
        Lang = pool.get('ir.lang')
        from trytond.modules.account_invoice.exceptions import (
            InvoiceNumberError)
        company, date = self.company, self.invoice_date
        by_type = defaultdict(list)
        for invoice in invoices:
            by_type[invoice.sequence_type].append(invoice)
        for sequence_type, group in by_type.items():
            sequence, sequence_date = Invoice(
                company=company, type='out', invoice_date=date,
                accounting_date=None, sequence_type_cache=sequence_type,
                )._number_sequence()
            later = Invoice.search([
                    ('sequence', '=', sequence.id),
                    ('invoice_date', '>', sequence_date),
                    ], limit=1, order=[('invoice_date', 'DESC')])
            if later:
                raise InvoiceNumberError(gettext(
                        'account_invoice.msg_invoice_number_after',
                        invoice=group[0].description,
                        sequence=sequence.rec_name,
                        date=Lang.get().strftime(sequence_date),
                        after_invoice=later[0].rec_name))
            with Transaction().set_context(
                    date=sequence_date, company=company.id):
                for invoice, number in zip(
                        group, sequence.get_many(len(group))):
                    invoice.sequence = sequence.id
                    invoice.number = number
                    invoice.computed = Invoice(
                        number=number).compute_fields({'number'})

    def _insert(self, invoices, period, journal, today, posted_by):
        "Insert the rows of the posted invoices, table by table"
        pool = Pool()
        Invoice = pool.get('account.invoice')
        InvoiceLine = pool.get('account.invoice.line')
        InvoiceTax = pool.get('account.invoice.tax')
        Move = pool.get('account.move')
        MoveLine = pool.get('account.move.line')
        TaxLine = pool.get('account.tax.line')
        LineTax = pool.get('account.invoice.line-account.tax')
        company, currency = self.company.id, self.currency.id
        date = self.invoice_date

        invoice_ids = bulk.insert(Invoice, [{
                    'company': company,
                    'type': 'out',
                    'party': i.bill.party,
                    'invoice_address': i.bill.address,
                    'currency': currency,
                    'invoice_date': date,
                    'journal': journal.id,
                    'account': i.account.id,
                    'payment_term': i.term,
                    'description': i.description,
                    'water_subscription': i.bill.subscription,
                    'state': 'posted',
                    'number': i.number,
                    'sequence': i.sequence,
                    'sequence_type_cache': i.sequence_type,
                    'tax_identifier': i.tax_identifier,
                    'party_tax_identifier': i.party.tax_identifier,
                    'untaxed_amount_cache': i.untaxed,
                    'tax_amount_cache': i.tax_amount,
                    'total_amount_cache': i.total,
                    'posted_by': posted_by,
                    **i.computed,
                    } for i in invoices])
        lines = [(invoice_id, l) for invoice_id, i in zip(invoice_ids, invoices)
            for l in i.lines]
        line_ids = bulk.insert(InvoiceLine, [{
                    'invoice': invoice_id,
                    'company': company,
                    'currency': currency,
                    'type': 'line',
                    'sequence': l.bill_line.sequence,
                    'product': l.product,
                    'account': l.account.id,
                    'unit': l.unit,
                    'quantity': l.quantity,
                    'unit_price': l.unit_price,
                    'description': l.description,
                    'origin': f'water.bill.line,{l.bill_line.id}',
                    } for invoice_id, l in lines])
        bulk.insert(LineTax, [{'line': line_id, 'tax': tax}
                for line_id, (_, l) in zip(line_ids, lines)
                for tax in l.taxes])
        taxes = [(invoice_id, t) for invoice_id, i in zip(invoice_ids, invoices)
            for t in i.taxes]
        tax_ids = bulk.insert(InvoiceTax, [{
                    'invoice': invoice_id,
                    'description': t.description,
                    'legal_notice': t.legal_notice,
                    'account': t.account.id,
                    'base': t.base,
                    'amount': t.amount,
                    'manual': False,
                    'tax': t.tax.id,
                    } for invoice_id, t in taxes])
        move_ids = bulk.insert(Move, [{
                    'company': company,
                    'journal': journal.id,
                    'period': period.id,
                    'date': date,
                    'origin': f'account.invoice,{invoice_id}',
                    'state': 'posted',
                    'number': i.move_number,
                    'post_date': today,
                    } for invoice_id, i in zip(invoice_ids, invoices)])

        def amounts(amount):
            # a customer invoice credits its revenue and debits receivable
            if amount >= 0:
                return {'debit': 0, 'credit': amount}
            return {'debit': -amount, 'credit': 0}

        def party(account, invoice):
            return invoice.bill.party if account.party_required else None
        move_lines, tax_lines = [], []
        line_ids = iter(line_ids)
        tax_ids = iter(tax_ids)
        for move_id, invoice in zip(move_ids, invoices):
            for line in invoice.lines:
                line_id = next(line_ids)
                move_lines.append({
                        'move': move_id,
                        'account': line.account.id,
                        'party': party(line.account, invoice),
                        'origin': f'account.invoice.line,{line_id}',
                        'state': 'valid',
                        **amounts(line.amount),
                        })
                tax_lines.append([{
                            'amount': t.amount, 'type': t.type, 'tax': t.tax,
                            } for t in line.tax_lines])
            for tax in invoice.taxes:
                tax_id = next(tax_ids)
                move_lines.append({
                        'move': move_id,
                        'account': tax.account.id,
                        'party': party(tax.account, invoice),
                        'description': tax.description,
                        'origin': f'account.invoice.tax,{tax_id}',
                        'state': 'valid',
                        **amounts(tax.amount),
                        })
                tax_lines.append([{
                            'amount': tax.amount, 'type': 'tax',
                            'tax': tax.tax.id}])
            for maturity, amount in invoice.maturities:
                move_lines.append({
                        'move': move_id,
                        'account': invoice.account.id,
                        'party': party(invoice.account, invoice),
                        'maturity_date': maturity,
                        'description': invoice.description,
                        'water_subscription': invoice.bill.subscription,
                        'state': 'valid',
                        **({'debit': amount, 'credit': 0} if amount >= 0
                            else {'debit': 0, 'credit': -amount}),
                        })
                tax_lines.append([])
        move_line_ids = bulk.insert(MoveLine, move_lines)
        bulk.insert(TaxLine, [dict(t, move_line=move_line_id)
                for move_line_id, group in zip(move_line_ids, tax_lines)
                for t in group])
        # the invoices point to their moves
        bulk.update(Invoice, [(i, {'move': m})
                for i, m in zip(invoice_ids, move_ids)])
        result = {}
        for invoice_id, move_id, invoice in zip(
                invoice_ids, move_ids, invoices):
            maturities = [d for d, _ in invoice.maturities if d]
            result[invoice.bill.id] = {
                'id': invoice_id,
                'move': move_id,
                'invoice_date': date,
                'due_date': min(maturities) if maturities else None,
                'tax_amount': invoice.tax_amount,
                'total_amount': invoice.total,
                }
        return result


def _describe(line, product_name, digits):
    from .billing import describe_line
    return describe_line(line, product_name, digits)
