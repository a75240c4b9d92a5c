# This file is part of the water_utility module.  See README.rst.
"""Files of readings from the field, without the ORM.

Two formats: CSV from handhelds (doc/configuration.rst documents the
columns) and JSON lines as written by wmbusmeters for automatic meter
reading.  parse() returns the rows as text, as they were in the file, so
that a rejected row can be shown and corrected as the reader typed it.
"""
import csv
import datetime as dt
import io
import json
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

from .arabic import western_digits


class FileError(ValueError):
    "A file that cannot be read at all; code names the message"

    def __init__(self, code, **params):
        super().__init__(code)
        self.code = code
        self.params = params


@dataclass
class Row:
    line: int
    raw: str
    subscription: str = ''
    meter: str = ''
    read_at: str = ''
    value: str = ''
    reader: str = ''
    note: str = ''
    comment: str = ''
    status: str = ''
    leak: bool = field(default=False)


COLUMNS = {
    'subscription': {'subscription', 'subscription_number', 'الاشتراك',
        'رقم الاشتراك'},
    'meter': {'meter', 'meter_serial', 'serial', 'العداد', 'رقم العداد'},
    'read_at': {'date', 'read_at', 'datetime', 'التاريخ', 'وقت القراءة'},
    'value': {'value', 'reading', 'القراءة'},
    'reader': {'reader', 'reader_code', 'القارئ', 'رمز القارئ'},
    'note': {'note', 'note_code', 'الملاحظة', 'رمز الملاحظة'},
    'comment': {'comment', 'تعليق', 'ملاحظات'},
    }
# words a meter status uses for water running where it should not
LEAK_WORDS = ('LEAK', 'BURST')


def decode(data):
    """Return (text, encoding) of the bytes of a file

    UTF-8 with or without BOM, UTF-16 with BOM, else Windows-1256 (Arabic
    Excel on Windows).  Binary data is refused.
    """
    if not data or not data.strip():
        raise FileError('empty')
    if data.startswith(b'\xef\xbb\xbf'):
        encoding = 'utf-8-sig'
    elif data.startswith((b'\xff\xfe', b'\xfe\xff')):
        encoding = 'utf-16'
    else:
        try:
            data.decode('utf-8')
            encoding = 'utf-8'
        except UnicodeDecodeError:
            encoding = 'windows-1256'
    try:
        text = data.decode(encoding)
    except UnicodeDecodeError:
        raise FileError('encoding')
    controls = sum(1 for c in text[:4096]
        if ord(c) < 32 and c not in '\r\n\t')
    if '\x00' in text or controls > len(text[:4096]) / 100:
        raise FileError('binary')
    return text, encoding


def _key(name):
    return ' '.join(western_digits(name or '').strip().lower().split())


def parse_csv(text):
    "Return the Rows of a CSV text with a header line"
    lines = text.splitlines()
    if not lines:
        raise FileError('empty')
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
    missing = [c for c in ['read_at', 'value'] if c not in columns]
    if 'subscription' not in columns and 'meter' not in columns:
        missing.insert(0, 'subscription')
    if missing:
        raise FileError('columns', columns=', '.join(missing),
            header=', '.join(header))
    rows = []
    for cells in reader:
        if not any(c.strip() for c in cells):
            continue
        row = Row(line=reader.line_num, raw=dialect.delimiter.join(cells))
        for column, index in columns.items():
            if index < len(cells):
                setattr(row, column, cells[index].strip())
        rows.append(row)
    return rows


def parse_wmbus(text):
    "Return the Rows of wmbusmeters JSON lines (one telegram per line)"
    rows = []
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        row = Row(line=number, raw=line.strip())
        try:
            telegram = json.loads(line)
            if not isinstance(telegram, dict):
                raise ValueError
        except ValueError:
            row.comment = 'JSON'
            rows.append(row)
            continue
        value = telegram.get('total_m3')
        row.meter = str(telegram.get('id') or '')
        row.read_at = str(telegram.get('timestamp') or '')
        row.value = '' if value is None else str(value)
        row.reader = str(telegram.get('name') or 'wmbusmeters')
        flags = sorted({str(v) for k, v in telegram.items()
                if isinstance(v, str) and (
                    'status' in k or 'alarm' in k or k == 'info_codes')
                and v not in {'', 'OK'}})
        row.status = ' '.join(flags)
        row.leak = any(w in row.status.upper() for w in LEAK_WORDS)
        rows.append(row)
    if not rows:
        raise FileError('empty')
    if all(r.comment == 'JSON' for r in rows):
        raise FileError('json')
    return rows


def guess_format(name, text):
    if (name or '').lower().endswith(('.json', '.jsonl', '.ndjson')):
        return 'wmbus'
    return 'wmbus' if text.lstrip().startswith('{') else 'csv'


def parse(data, name=None, format=None):
    "Return (format, encoding, rows) of the bytes of a file"
    text, encoding = decode(data)
    format = format or guess_format(name, text)
    if format == 'wmbus':
        return format, encoding, parse_wmbus(text)
    return format, encoding, parse_csv(text)


DATE_FORMATS = [
    '%Y-%m-%d %H:%M:%S', '%Y-%m-%d %H:%M', '%Y-%m-%d',
    '%d/%m/%Y %H:%M:%S', '%d/%m/%Y %H:%M', '%d/%m/%Y',
    '%d-%m-%Y %H:%M', '%d-%m-%Y',
    ]


def parse_datetime(text):
    """Return (datetime, has_time) of a reading as written

    The datetime is aware when the text has an offset (AMR sends UTC).
    """
    text = western_digits(text or '').strip()
    if not text:
        raise ValueError(text)
    try:
        moment = dt.datetime.fromisoformat(text.replace('Z', '+00:00'))
    except ValueError:
        for format_ in DATE_FORMATS:
            try:
                moment = dt.datetime.strptime(text, format_)
                break
            except ValueError:
                continue
        else:
            raise
    return moment, ':' in text


def local(moment, has_time, timezone=None):
    "Return (date, time or None) of a parsed moment in local time"
    if moment.tzinfo is not None and timezone is not None:
        moment = moment.astimezone(timezone)
    return moment.date(), (moment.time().replace(
            microsecond=0, tzinfo=None) if has_time else None)


def parse_value(text):
    "Return the Decimal of a register as typed (Arabic digits allowed)"
    text = western_digits(text or '').strip().replace('٫', '.')
    text = text.replace('٬', '').replace(' ', '')
    if not text:
        raise ValueError(text)
    try:
        value = Decimal(text)
    except InvalidOperation:
        raise ValueError(text)
    if not value.is_finite():
        raise ValueError(text)
    return value.quantize(Decimal('0.001'))
