#!/usr/bin/env python3
"""How fast monthly readings are imported and checked (issue 3).

    python bench/readings.py [--database water_bench] [--readings 100000]
        [--subscriptions 5000] [--config config/trytond.conf]

Imports handheld files month after month into a demo utility, through the
same path as a reader's file (water.reading.import: parse, validate, check
plausibility, create readings and the import log), each file in its own
transaction as the client does it.  Prints readings per second and the SQL
queries per reading for each file and overall: the queries per reading must
not grow with the size of the import.

The database is a demo utility of its own (never `water`): when it does not
exist, tools/demo.py builds it with --subscriptions.  Use PostgreSQL
(TRYTOND_DATABASE__URI=postgresql://...); on SQLite the figures are only
indicative.  The months imported lie after the demo's, so each run adds
readings for new months.
"""
import argparse
import datetime as dt
import os
import platform
import random
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / 'tools'))


class QueryCounter:
    """Counts the SQL statements sent to the database

    trytond's PostgreSQL cursor is wrapped (its DEBUG log would format every
    statement and distort the timing); SQLite reports each statement to a
    trace callback.
    """

    def __init__(self):
        self.count = 0
        from trytond.backend.postgresql import database
        execute = database.LoggingCursor.execute
        counter = self

        def counting(cursor, query, params=None, **kwargs):
            counter.count += 1
            return execute(cursor, query, params, **kwargs)
        database.LoggingCursor.execute = counting

    def watch(self, connection):
        "Count the statements of a SQLite connection too"
        if hasattr(connection, 'set_trace_callback'):
            connection.set_trace_callback(self.trace)

    def trace(self, statement):
        self.count += 1


def machine():
    cpus = os.cpu_count()
    try:
        memory = os.sysconf('SC_PAGE_SIZE') * os.sysconf('SC_PHYS_PAGES')
    except (ValueError, OSError):
        memory = 0
    return (f"{platform.node()} {platform.machine()}, {cpus} cores, "
        f"{memory / 2 ** 30:.0f} GiB, Python {platform.python_version()}")


def ensure_database(args, extra=()):
    """Build the demo utility with tools/demo.py unless it exists (extra:
    more arguments of demo.py)"""
    import tempfile

    import demo
    with tempfile.TemporaryDirectory() as workdir:
        settings = demo.load_settings(args.database, args.config, workdir)
        found = demo.existing_subscriptions(settings)
    if not found:
        print(f"building demo database {args.database} "
            f"({args.subscriptions} subscriptions)…", flush=True)
        subprocess.run([sys.executable, str(REPO / 'tools' / 'demo.py'),
                '--database', args.database,
                '--subscriptions', str(args.subscriptions),
                '--config', args.config, *extra], check=True,
            stdout=subprocess.DEVNULL)
    return settings


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--database', '-d', default='water_bench')
    parser.add_argument('--config', '-c',
        default=str(REPO / 'config' / 'trytond.conf'))
    parser.add_argument('--readings', type=int, default=100_000)
    parser.add_argument('--subscriptions', type=int, default=5000)
    parser.add_argument('--seed', type=int, default=7)
    args = parser.parse_args()
    if args.database == 'water':
        parser.error("the benchmark adds months of readings: "
            "use a database of its own")

    os.environ.setdefault('TRYTOND_DATABASE__PATH', str(REPO / 'sites'))
    ensure_database(args)

    import demo_readings
    from trytond import backend
    from trytond.pool import Pool
    from trytond.transaction import Transaction

    counter = QueryCounter()

    pool = Pool(args.database)
    pool.init()
    rng = random.Random(args.seed)
    with Transaction().start(args.database, 0, readonly=True):
        User = pool.get('res.user')
        admin, = User.search([('login', '=', 'admin')])
        admin_id, company_id = admin.id, admin.company.id
    context = {'company': company_id, 'language': 'en'}
    with Transaction().start(args.database, admin_id, readonly=True,
            context=context):
        meters = demo_readings.load_meters(rng)
        Period = pool.get('water.reading.period')
        last, = Period.search([], order=[('start_date', 'DESC')], limit=1) \
            or [None]
        month = demo_readings.add_months(
            last.start_date if last else dt.date.today(), 1)

    print(f"Readings import: {args.readings} readings for {len(meters)} "
        f"meters in place, database {args.database} "
        f"({backend.name}), machine {machine()}")
    print(f"{'month':>8} {'rows':>7} {'seconds':>8} {'rows/s':>8} "
        f"{'queries':>8} {'q/row':>6}  accepted/rejected/held")
    total_rows = total_seconds = total_queries = 0
    while total_rows < args.readings:
        data, count = demo_readings.month_file(
            meters, month, rng, anomalies=True)
        if total_rows + count > args.readings:
            count = args.readings - total_rows
            data = b'\n'.join(data.split(b'\n')[:count + 1])
        # each month needs its reading periods; not part of the figure
        with Transaction().start(args.database, admin_id,
                context=context) as transaction:
            Period = pool.get('water.reading.period')
            Period.schedule(month)
            transaction.commit()
        started = time.perf_counter()
        with Transaction().start(args.database, admin_id,
                context=context) as transaction:
            counter.watch(transaction.connection)
            counter.count = 0
            Import = pool.get('water.reading.import')
            import_ = Import.import_file(data, f'bench-{month:%Y-%m}.csv')
            transaction.commit()
        seconds = time.perf_counter() - started
        queries = counter.count
        with Transaction().start(args.database, admin_id, readonly=True,
                context=context):
            Import = pool.get('water.reading.import')
            Reading = pool.get('water.reading')
            import_ = Import(import_.id)
            held = Reading.search([
                    ('period.start_date', '=', month),
                    ('state', '=', 'held'),
                    ], count=True)
            outcome = f"{import_.accepted}/{import_.rejected}/{held}"
        print(f"{month:%Y-%m} {count:>7} {seconds:>8.2f} "
            f"{count / seconds:>8.0f} {queries:>8} {queries / count:>6.3f}  "
            f"{outcome}", flush=True)
        total_rows += count
        total_seconds += seconds
        total_queries += queries
        month = demo_readings.add_months(month, 1)
    print(f"{'total':>8} {total_rows:>7} {total_seconds:>8.2f} "
        f"{total_rows / total_seconds:>8.0f} {total_queries:>8} "
        f"{total_queries / total_rows:>6.3f}")


if __name__ == '__main__':
    main()
