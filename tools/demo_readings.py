"""Monthly meter readings for the demo database and the benchmark.

A handheld file (the CSV of doc/configuration.rst) is generated per month
from the meters in place, with a plausible consumption per category, and
imported through water.reading.import like a reader's file: the demo then
shows the reading cycle as staff meet it, and bench/readings.py measures
that same path.
"""
import calendar
import csv
import datetime as dt
import io
from dataclasses import dataclass
from decimal import Decimal

# m³ a day by category code: a family flat uses about 0.6 m³
DAILY = {
    'domestic': 0.6,
    'commercial': 1.5,
    'industrial': 6.0,
    'institutional': 3.0,
    'charitable': 0.8,
    'government': 3.0,
    }
HEADER = ['subscription', 'meter', 'date', 'value', 'reader', 'note',
    'comment']


@dataclass
class Meter:
    "What the generator tracks of one subscription's meter"
    number: str
    serial: str
    route: int
    reading_day: int
    start: dt.date
    value: Decimal
    digits: int
    rate: float
    last: dt.date = None


def load_meters(rng):
    """Return the Meters in place of active subscriptions on routes,
    with the register of their last counted reading (inside a transaction)
    """
    from trytond.pool import Pool
    from trytond.transaction import Transaction
    pool = Pool()
    Installation = pool.get('water.meter.installation')
    Reading = pool.get('water.reading')
    # plain values: records in lists of thousands reload attribute by
    # attribute
    installations = Installation.search_read([
            ('end_date', '=', None),
            ('subscription.state', '=', 'active'),
            ('subscription.route', '!=', None),
            ], fields_names=['start_date', 'initial_reading',
            'subscription.number', 'subscription.route',
            'subscription.route.reading_day', 'subscription.category.code',
            'meter.serial', 'meter.digits'])
    # the last counted reading of each meter: plain SQL, the table may hold
    # hundreds of thousands of readings (trytond's browse of long lists is
    # quadratic)
    reading = Reading.__table__()
    cursor = Transaction().connection.cursor()
    cursor.execute(*reading.select(
            reading.installation, reading.value, reading.date,
            where=reading.state.in_(['valid', 'billed']),
            order_by=[reading.date.asc, reading.id.asc]))
    wanted = {i['id'] for i in installations}
    last = {i: {'value': v, 'date': d} for i, v, d in cursor if i in wanted}
    meters = []
    for installation in installations:
        subscription = installation['subscription.']
        meter = installation['meter.']
        reading = last.get(installation['id'])
        meters.append(Meter(
                number=subscription['number'],
                serial=meter['serial'],
                route=subscription['route'],
                reading_day=subscription['route.']['reading_day'] or 1,
                start=installation['start_date'],
                value=reading['value'] if reading else (
                    installation['initial_reading']),
                digits=meter['digits'],
                rate=DAILY.get(subscription['category.']['code'], 0.6)
                * rng.uniform(0.4, 1.8),
                last=reading['date'] if reading else (
                    installation['start_date'])))
    return meters


def month_file(meters, month, rng, today=None, anomalies=False,
        missed=0.0, reader='R01'):
    """Return (CSV bytes, row count) of the readings of month

    Meters are read on their route's day if that day has come (today) and
    falls after their installation; with anomalies a few readings are high,
    zero, not read (a note) or mistyped, as in a real round; a share of
    missed meters has no row at all (the period's closing estimates them).
    """
    rows = []
    for index, meter in enumerate(meters):
        if missed and rng.random() < missed:
            continue
        day = month.replace(
            day=min(meter.reading_day, calendar.monthrange(
                    month.year, month.month)[1]))
        if day <= (meter.last or meter.start) or (today and day > today):
            continue
        days = (day - (meter.last or meter.start)).days
        volume = round(meter.rate * days * rng.uniform(0.85, 1.15))
        when = f'{day.isoformat()} {rng.randint(8, 13):02d}:' \
            f'{rng.randint(0, 59):02d}'
        note = comment = ''
        number, serial = meter.number, ''
        if anomalies:
            draw = rng.random()
            if draw < 0.02:
                volume = volume * 6 + 40
                comment = 'تسريب محتمل'
            elif draw < 0.04:
                volume = 0
            elif draw < 0.06:
                note = rng.choice(['NA', 'DG', 'CL', 'RF'])
            elif draw < 0.07 or index % 97 == 5:
                number = number[:-1]
        capacity = 10 ** meter.digits
        value = (meter.value + volume) % capacity
        if note:
            rows.append([number, serial, when, '', reader, note, comment])
            continue
        rows.append([number, serial, when, f'{value}', reader, note,
                comment])
        if number == meter.number:
            meter.value, meter.last = Decimal(value), day
    output = io.StringIO(newline='')
    writer = csv.writer(output)
    writer.writerow(HEADER)
    writer.writerows(rows)
    return output.getvalue().encode('utf-8-sig'), len(rows)


def add_months(date, months):
    "Return the first day of the month months after the month of date"
    index = date.year * 12 + date.month - 1 + months
    return dt.date(index // 12, index % 12 + 1, 1)
