# This file is part of the water_utility module.  See README.rst.
"""The bill a subscriber receives, rendered to PDF

Arabic and right to left unless the subscriber reads another language:
bills are grouped by their subscriber's language, each group printed in it.
Amounts come from the bill and its invoice; the account summary from the
ledger lines shown on the bill (LedgerLine).
"""
import datetime as dt
from collections import defaultdict
from decimal import Decimal

from genshi.input import XML

from trytond import backend
from trytond.model import fields
from trytond.pool import Pool
from trytond.tools import grouped_slice
from trytond.transaction import Transaction, without_check_access

from . import rating
from .billing import describe_line
from .portal import activation_code, format_code
from .report_html import SubscriberReport

CHART_MONTHS = 12
# the scheme a cashier's scanner or a banking app reads (see doc/design.rst)
QR_SCHEME = 'water'


def payment_payload(subscription, amount, reference, due_date):
    """The text of the payment QR code: subscription number, amount due,
    bill reference and due date, as a URI"""
    parts = [f'amount={amount:.2f}']
    if reference:
        parts.append(f'bill={reference}')
    if due_date:
        parts.append(f'due={due_date:%Y-%m-%d}')
    return f'{QR_SCHEME}:{subscription}?' + '&'.join(parts)


def parse_payload(text):
    """Read back payment_payload: return (subscription, amount, reference,
    due date) with None for what is missing; None when text is not one"""
    from urllib.parse import parse_qs
    text = (text or '').strip()
    scheme, sep, rest = text.partition(':')
    if not sep or scheme.lower() != QR_SCHEME:
        return None
    subscription, _, query = rest.partition('?')
    values = {k: v[-1] for k, v in parse_qs(query).items()}
    try:
        amount = Decimal(values['amount']) if 'amount' in values else None
        due = (dt.date.fromisoformat(values['due'])
            if 'due' in values else None)
    except (ArithmeticError, ValueError):
        return None
    return subscription or None, amount, values.get('bill'), due


def qr_svg(payload):
    "The QR code of payload as inline SVG (segno)"
    import segno
    return segno.make(payload, error='m').svg_inline(
        scale=2.6, border=2, dark='#111')


def add_months(date, months):
    month = date.month - 1 + months
    return date.replace(year=date.year + month // 12, month=month % 12 + 1)


def chart_svg(values, last=None, width=300, height=70):
    """Bars of the monthly consumption as SVG, without text: WeasyPrint
    draws Arabic in SVG unjoined, so the labels are HTML; the bar of the
    billed month (last) stands out"""
    top = max([v for v in values if v is not None] or [0]) or 1
    bar = width / len(values)
    shapes = []
    for i, value in enumerate(values):
        if not value:
            continue
        h = max(1.0, float(value) / float(top) * (height - 2))
        shapes.append(
            f'<rect x="{i * bar + bar * 0.15:.1f}" y="{height - h:.1f}" '
            f'width="{bar * 0.7:.1f}" height="{h:.1f}" '
            f'fill="{"#1f6fb2" if i == last else "#9cc3e4"}"/>')
    return (f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" '
        f'height="{height}" viewBox="0 0 {width} {height}">'
        f'<line x1="0" y1="{height - 0.5}" x2="{width}" '
        f'y2="{height - 0.5}" stroke="#777" stroke-width="0.6"/>'
        + ''.join(shapes) + '</svg>')


class BillView:
    "What the template prints of a bill, computed once"

    def __init__(self, bill, history, lang):
        self.bill = bill
        currency = bill.company.currency
        self.lang = lang
        self.lines = [(describe_line(l, l.product.name, currency.digits),
                l) for l in bill.lines]
        self.movements = [l for l in bill.ledger_lines if l.kind != 'bill']
        months = [add_months(bill.month, -i)
            for i in reversed(range(CHART_MONTHS))]
        values = [history.get((bill.subscription.id, m)) for m in months]
        if values[-1] is None:
            values[-1] = bill.consumption
        self.chart = list(zip(months, values))
        if lang.direction == 'rtl':
            # time runs the way the subscriber reads: the last month first
            self.chart.reverse()
        self.chart_svg = chart_svg([v for _, v in self.chart],
            last=0 if lang.direction == 'rtl' else len(values) - 1)
        amount = (bill.total_due if bill.total_due is not None
            else bill.amount)
        reference = bill.invoice.number if bill.invoice else None
        self.payload = payment_payload(bill.subscription.number,
            amount or Decimal(0), reference, bill.due_date)
        self.qr = qr_svg(self.payload)
        self.water = sum((l.amount for l in bill.lines
                if l.kind in {rating.VOLUME, rating.MINIMUM}), Decimal(0))
        # the settlement instalments due in the bill's month (settlement.py)
        self.instalments = []


class BillReport(SubscriberReport):
    "Water Bill"
    __name__ = 'water.bill'

    @classmethod
    def header_key(cls, record, data):
        # one document per language: the bill follows its subscriber's
        lang = record.party.lang
        return tuple(super().header_key(record, data)) + (
            ('language', lang.code if lang else None),)

    @classmethod
    def report_language(cls, records, header):
        # the subscriber's language, else the bills' (Arabic)
        return (header.get('language')
            or super().report_language(records, header))

    @classmethod
    def get_context(cls, records, header, data):
        pool = Pool()
        context = super().get_context(records, header, data)
        lang = context['lang']
        language = lang.code
        history = cls.history(records)
        # records read in the language of the bill (product names, months)
        Bill = pool.get('water.bill')
        # a bill goes to an address of the utility's country: no country
        # printed (Tryton prints it in English, for mail abroad)
        address = records[0].company.party.address_get()
        with Transaction().set_context(language=language,
                address_from_country=address.country if address else None):
            bills = Bill.browse([r.id for r in records])
            context['bills'] = [BillView(b, history, lang) for b in bills]
            instalments = cls.instalments(bills)
            for view in context['bills']:
                view.instalments = instalments.get(view.bill.id, [])
        context['month_name'] = lambda d: lang.strftime(d, '%B %Y')
        # the chart's columns are narrow: month/year in digits
        context['month_short'] = lambda d: d.strftime('%m/%y')
        context['Markup'] = XML
        # the portal activation code, proof of the subscription for its
        # holder: the bill goes to the holder's premises
        secret = pool.get('water.portal.secret').get()
        context['portal_code'] = lambda s: format_code(
            activation_code(secret, s.id, s.portal_nonce))
        # a short reminder for subscriptions on the collection ladder
        context['reminders'] = pool.get('account.dunning').water_reminders(
            list({r.subscription.id for r in records}))
        return context

    @classmethod
    def history(cls, bills):
        """The consumption billed by month for the bills' subscriptions
        over the chart's months, read at once"""
        pool = Pool()
        Bill = pool.get('water.bill')
        table = Bill.__table__()
        cursor = Transaction().connection.cursor()
        result = defaultdict(Decimal)
        subscriptions = list({b.subscription.id for b in bills})
        first = min(add_months(b.month, 1 - CHART_MONTHS) for b in bills)
        last = max(b.month for b in bills)
        for sub in grouped_slice(subscriptions, backend.MAX_QUERY_PARAMS):
            cursor.execute(*table.select(
                    table.subscription, table.month, table.consumption,
                    where=fields.SQL_OPERATORS['in'](
                        table.subscription, list(sub))
                    & (table.month >= first) & (table.month <= last)
                    & (table.state == 'posted')))
            for subscription, month, volume in cursor:
                if isinstance(month, str):
                    month = dt.date.fromisoformat(month)
                if volume is not None:
                    result[(subscription, month)] += Decimal(str(volume))
        return result

    @classmethod
    def instalments(cls, bills):
        """The open settlement instalments of the bills' subscriptions that
        fall due in the month the bill is due, by bill"""
        pool = Pool()
        Instalment = pool.get('water.settlement.instalment')
        months = {}
        for bill in bills:
            due = bill.due_date or add_months(bill.month, 1)
            months[bill.id] = (bill.subscription.id, due.year, due.month)
        if not months:
            return {}
        first = min(dt.date(y, m, 1) for _, y, m in months.values())
        last = add_months(
            max(dt.date(y, m, 1) for _, y, m in months.values()), 1)
        with without_check_access():
            instalments = Instalment.search([
                    ('settlement.subscription', 'in',
                        list({s for s, _, _ in months.values()})),
                    ('settlement.state', 'in', ['signed', 'defaulted']),
                    ('state', 'in', ['pending', 'missed']),
                    ('due_date', '>=', first),
                    ('due_date', '<', last),
                    ], order=[('due_date', 'ASC'), ('sequence', 'ASC')])
        by_month = defaultdict(list)
        for instalment in instalments:
            by_month[(instalment.settlement.subscription.id,
                    instalment.due_date.year, instalment.due_date.month)
                ].append(instalment)
        return {b: by_month.get(key, []) for b, key in months.items()}
