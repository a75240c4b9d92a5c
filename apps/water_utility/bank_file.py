# This file is part of the water_utility module.  See README.rst.
"""Bank and e-payment files, without the ORM.

Banks and e-payment providers send a CSV of the payments they collected:
the payment reference the subscriber gave (the subscription number, the
bill's number or the text of the bill's QR code), the amount and the date,
often a transaction number and the payer's name.  parse() returns the rows
as they were in the file; reference() reads what a reference names.

A row has a key that stays the same when the same file (or a later file
repeating a payment) is imported again: the bank's transaction number, or
else the reference, date and amount with the row's rank among identical
rows of its file, so that two equal payments of one day both count.
"""
import csv
import datetime as dt
import hashlib
import io
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from .arabic import western_digits
from .bill_report import parse_payload
from .reading_file import FileError, _key, decode

COLUMNS = {
    'reference': {'reference', 'payment_reference', 'ref', 'المرجع',
        'مرجع الدفع', 'رقم المرجع'},
    'amount': {'amount', 'المبلغ', 'القيمة'},
    'date': {'date', 'value_date', 'payment_date', 'التاريخ',
        'تاريخ الدفع'},
    'transaction': {'transaction', 'transaction_id', 'id', 'رقم العملية',
        'رقم الحركة'},
    'payer': {'payer', 'name', 'payer_name', 'الدافع', 'اسم الدافع'},
    }
REQUIRED = ['reference', 'amount', 'date']
DATE_FORMATS = ['%Y-%m-%d', '%d/%m/%Y', '%d-%m-%Y', '%d.%m.%Y', '%Y/%m/%d']


@dataclass
class Row:
    line: int
    raw: str
    reference: str = ''
    amount: Decimal = None
    date: dt.date = None
    transaction: str = ''
    payer: str = ''
    error: str = ''  # the code of what is wrong with the row
    key: str = ''


def parse_amount(text):
    "Return the Decimal of an amount as the bank wrote it"
    text = western_digits(text or '').strip().replace('٫', '.')
    for separator in ['٬', ' ', '\u00a0']:
        text = text.replace(separator, '')
    if text.count(',') and text.count('.'):
        text = text.replace(',', '')  # 1,234.50
    elif text.count(',') == 1 and len(text.split(',')[1]) != 3:
        text = text.replace(',', '.')  # 12,50
    else:
        text = text.replace(',', '')
    try:
        amount = Decimal(text)
    except InvalidOperation:
        raise ValueError(text)
    if not amount.is_finite():
        raise ValueError(text)
    return amount


def parse_date(text):
    text = western_digits(text or '').strip()
    text = text.split('T')[0].split(' ')[0]
    for format_ in DATE_FORMATS:
        try:
            return dt.datetime.strptime(text, format_).date()
        except ValueError:
            continue
    raise ValueError(text)


def parse(data):
    """Return (encoding, rows) of the bytes of a bank file

    A file that cannot be read raises FileError; a row that cannot be read
    has its error set and no key.
    """
    text, encoding = decode(data)
    lines = text.splitlines()
    try:
        dialect = csv.Sniffer().sniff(lines[0], delimiters=',;\t|')
    except csv.Error:
        dialect = csv.excel
    reader = csv.reader(io.StringIO(text, newline=''), dialect)
    header = next(reader, None) or []
    columns = {}
    for index, name in enumerate(header):
        for column, names in COLUMNS.items():
            if _key(name) in names:
                columns.setdefault(column, index)
    missing = [c for c in REQUIRED if c not in columns]
    if missing:
        raise FileError('columns', columns=', '.join(missing),
            header=', '.join(header))
    rows = []
    for cells in reader:
        if not any(c.strip() for c in cells):
            continue
        values = {c: cells[i].strip() if i < len(cells) else ''
            for c, i in columns.items()}
        row = Row(line=reader.line_num, raw=dialect.delimiter.join(cells),
            reference=values['reference'],
            transaction=values.get('transaction', ''),
            payer=values.get('payer', ''))
        try:
            row.amount = parse_amount(values['amount'])
        except ValueError:
            row.error = 'amount'
        try:
            row.date = parse_date(values['date'])
        except ValueError:
            row.error = row.error or 'date'
        rows.append(row)
    if not rows:
        raise FileError('empty')
    set_keys(rows)
    return encoding, rows


def set_keys(rows):
    "Give each readable row its key (see the module's text)"
    seen = {}
    for row in rows:
        if row.error:
            continue
        if row.transaction:
            identity = ('t', row.transaction)
        else:
            identity = ('r', row.reference.strip(), row.date.isoformat(),
                f'{row.amount:.2f}')
        rank = seen[identity] = seen.get(identity, 0) + 1
        text = '|'.join(identity + (str(rank),))
        row.key = hashlib.sha256(text.encode('utf-8')).hexdigest()[:32]


def reference(text):
    """Return (subscription number, bill number) a payment reference names,
    either possibly None

    The text of the bill's QR code names both; otherwise the reference is
    a number that may be either, and the caller looks it up as both.
    """
    text = western_digits(text or '').strip()
    payload = parse_payload(text)
    if payload:
        subscription, _, bill, _ = payload
        return subscription, bill
    text = ' '.join(text.split())
    return (text or None), (text or None)
