#!/usr/bin/env python3
"""How fast a month is billed, end to end (issue 4).

    python bench/billing.py [--database water_bench_billing]
        [--subscriptions 10000] [--small 1000] [--workers 0] [--pdf 1000]
        [--config config/trytond.conf]

On a demo utility of its own (built by tools/demo.py when missing), for a
new month each time: the meters are read (a handheld file imported and the
periods closed, not timed), then a billing run calculates and posts the
month's bills, batch by batch (one per reading route), as the queue runs
them.  Printed: bills per second for the calculation, the posting and both,
and the SQL statements per bill, first for a run of about --small
subscriptions (a few routes) and then for every route (--subscriptions):
the statements per bill must not grow with the size of the run.  Then the
time to render --pdf bills to PDF, one document each.

--workers N hands the batches to N trytond-worker processes (PostgreSQL:
the queue needs LISTEN/NOTIFY) instead of running them in this process;
the workers are started, and listening, before the first run, as a
utility's workers always are.

Use PostgreSQL (TRYTOND_DATABASE__URI=postgresql://...): the figures on
SQLite are only indicative.  The tables are analyzed before each run, as
autovacuum would have done (this project's servers run without it).
"""
import argparse
import datetime as dt
import os
import random
import signal
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / 'tools'))
sys.path.insert(0, str(REPO / 'bench'))

from demo import in_transaction  # noqa: E402
from readings import QueryCounter, ensure_database, machine  # noqa: E402


def add_months(date, months):
    month = date.month - 1 + months
    return date.replace(year=date.year + month // 12, month=month % 12 + 1)


def ensure_fiscal_year(date):
    "A fiscal year with monthly periods and invoice sequences at date"
    from trytond.pool import Pool
    pool = Pool()
    FiscalYear = pool.get('account.fiscalyear')
    Sequence = pool.get('ir.sequence.strict')
    SequenceType = pool.get('ir.sequence.type')
    InvoiceSequence = pool.get('account.fiscalyear.invoice_sequence')
    Company = pool.get('company.company')
    if FiscalYear.search([('start_date', '<=', date),
                ('end_date', '>=', date)]):
        return
    company, = Company.search([], limit=1)
    move_type, = SequenceType.search([('name', '=', "Account Move")])
    invoice_type, = SequenceType.search([('name', '=', "Invoice")])
    move_sequence, invoice_sequence = Sequence.create([
            {'name': str(date.year), 'sequence_type': move_type.id,
                'company': company.id},
            {'name': f'{date.year} invoices', 'sequence_type': invoice_type.id,
                'company': company.id}])
    year, = FiscalYear.create([{
                'name': str(date.year),
                'company': company.id,
                'start_date': dt.date(date.year, 1, 1),
                'end_date': dt.date(date.year, 12, 31),
                'move_sequence': move_sequence.id,
                }])
    InvoiceSequence.create([{
                'fiscalyear': year.id,
                'company': company.id,
                'out_invoice_sequence': invoice_sequence.id,
                'out_credit_note_sequence': invoice_sequence.id,
                'in_invoice_sequence': invoice_sequence.id,
                'in_credit_note_sequence': invoice_sequence.id,
                }])
    FiscalYear.create_period([year])


def read_month(month, rng, meters):
    """Import the month's readings, accept what the checks held and close
    the periods (the billing section's month before billing)"""
    import demo_readings
    from trytond.pool import Pool
    pool = Pool()
    Period = pool.get('water.reading.period')
    Reading = pool.get('water.reading')
    Import = pool.get('water.reading.import')
    periods = Period.schedule(month)
    data, count = demo_readings.month_file(meters, month, rng, missed=0.01)
    Import.import_file(data, f'bench-{month:%Y-%m}.csv')
    Reading.accept(Reading.search([
                ('period', 'in', [p.id for p in periods]),
                ('state', '=', 'held'), ('value', '!=', None)]))
    Period.close(periods)
    return count


def routes_for(size):
    "The first routes that hold about size active subscriptions"
    from trytond.pool import Pool
    Route = Pool().get('water.route')
    chosen, total = [], 0
    for route in Route.search([], order=[('id', 'ASC')]):
        if size and total >= size:
            break
        chosen.append(route.id)
        total += route.subscription_count
    return chosen


def run_billing(args, settings, admin, company, month, route_ids, counter):
    """Calculate and post a run of month on routes; return the figures

    In process, the click's transaction queues a task per batch, run after
    its commit each in a transaction of its own, as the web process does
    without a worker.
    """
    from trytond.pool import Pool

    def run_(func, readonly=False):
        return in_transaction(settings, admin, company, func, readonly)

    def create():
        Run = Pool().get('water.billing.run')
        run, = Run.create([{
                    'month': month,
                    'invoice_date': add_months(month, 1).replace(day=3),
                    'routes': [('add', route_ids)],
                    }])
        return run.id
    run_id = run_(create)
    figures = {}
    for stage in ['calculate', 'post']:
        counter.count = 0
        started = time.perf_counter()
        if args.workers:
            queue_to_workers(args, settings, admin, company, run_id, stage)
        else:
            def click(stage=stage):
                Run = Pool().get('water.billing.run')
                getattr(Run, stage)([Run(run_id)])
            run_(click)
        figures[stage] = (time.perf_counter() - started, counter.count)

    def outcome():
        Run = Pool().get('water.billing.run')
        run = Run(run_id)
        return (run.state, run.bill_count, run.held_count, run.posted_count,
            run.failed_count)
    figures['outcome'] = run_(outcome, readonly=True)
    figures['run'] = run_id
    return figures


def queue_to_workers(args, settings, admin, company, run_id, stage):
    "Click the stage's button and wait until the workers are done"
    from trytond import config
    from trytond.pool import Pool

    def click():
        Run = Pool().get('water.billing.run')
        getattr(Run, stage)([Run(run_id)])

    def state():
        Run = Pool().get('water.billing.run')
        return Run(run_id).state
    # the tasks go to the queue table, not to this process
    config.set('queue', 'worker', 'True')
    try:
        in_transaction(settings, admin, company, click)
        while in_transaction(settings, admin, company, state,
                readonly=True) not in {'calculated', 'posted'}:
            time.sleep(0.2)
    finally:
        config.set('queue', 'worker', 'False')


@contextmanager
def workers(args, settings, admin, company):
    """Run args.workers trytond-worker processes, ready before the first
    run: a utility's workers run all the time"""
    from trytond.transaction import Transaction
    if not args.workers:
        yield
        return
    env = dict(os.environ, TRYTOND_QUEUE__WORKER='True')
    command = [str(Path(sys.executable).parent / 'trytond-worker'),
        '-c', args.config, '-d', args.database, '-n', '1']
    # a session each: the worker's pool processes are stopped with it
    processes = [subprocess.Popen(command, env=env, start_new_session=True,
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        for _ in range(args.workers)]

    def listening():
        cursor = Transaction().connection.cursor()
        cursor.execute("SELECT COUNT(*) FROM pg_stat_activity "
            "WHERE datname = %s AND query LIKE 'LISTEN%%'", (args.database,))
        return cursor.fetchone()[0]
    try:
        while in_transaction(settings, admin, company, listening,
                readonly=True) < args.workers:
            time.sleep(0.2)
        yield
    finally:
        for process in processes:
            os.killpg(process.pid, signal.SIGTERM)
        for process in processes:
            process.wait()


def render_pdfs(settings, admin, company, run_id, count):
    "Render count posted bills of the run to PDF, one document each"
    from trytond.pool import Pool

    def work():
        pool = Pool()
        Bill = pool.get('water.bill')
        Report = pool.get('water.bill', type='report')
        bills = Bill.search([('run', '=', run_id), ('state', '=', 'posted')],
            limit=count)
        sizes = []
        started = time.perf_counter()
        for bill in bills:
            _, content, _, _ = Report.execute([bill.id], {})
            sizes.append(len(content))
        return len(bills), time.perf_counter() - started, sizes
    return in_transaction(settings, admin, company, work, readonly=True)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--database', '-d', default='water_bench_billing')
    parser.add_argument('--config', '-c',
        default=str(REPO / 'config' / 'trytond.conf'))
    parser.add_argument('--subscriptions', type=int, default=10_000)
    parser.add_argument('--small', type=int, default=1000,
        help="subscriptions of the first, small run")
    parser.add_argument('--workers', type=int, default=0)
    parser.add_argument('--pdf', type=int, default=1000)
    parser.add_argument('--seed', type=int, default=11)
    args = parser.parse_args()
    if args.database == 'water':
        parser.error("the benchmark bills new months: use a database of "
            "its own")
    os.environ.setdefault('TRYTOND_DATABASE__PATH', str(REPO / 'sites'))
    settings = ensure_database(args, extra=['--no-payments'])

    import demo_readings
    from trytond import backend
    from trytond import config
    from trytond.pool import Pool
    from trytond.transaction import Transaction
    config.update_etc(args.config)
    counter = QueryCounter()
    pool = Pool(args.database)
    pool.init()
    rng = random.Random(args.seed)
    with Transaction().start(args.database, 0, readonly=True):
        User = pool.get('res.user')
        admin, = User.search([('login', '=', 'admin')])
        admin_id, company_id = admin.id, admin.company.id

    def last_month():
        Period = pool.get('water.reading.period')
        last, = Period.search([], order=[('start_date', 'DESC')], limit=1)
        return last.start_date
    month = add_months(in_transaction(
            settings, admin_id, company_id, last_month, readonly=True), 1)

    print(f"Billing: database {args.database} ({backend.name}), machine "
        f"{machine()}, {'%d workers' % args.workers if args.workers else 'in process'}")
    print(f"{'run':>6} {'month':>8} {'bills':>6} {'held':>5} "
        f"{'calc s':>7} {'calc/s':>7} {'q/bill':>6} "
        f"{'post s':>7} {'post/s':>7} {'q/bill':>6} {'total/s':>8}")
    last_run = None
    with workers(args, settings, admin_id, company_id):
        for label, size in [('small', args.small), ('full', None)]:
            def prepare(month=month, size=size):
                ensure_fiscal_year(add_months(month, 1))
                meters = demo_readings.load_meters(rng)
                read_month(month, rng, meters)
                if backend.name == 'postgresql':
                    # the statistics autovacuum keeps: this machine's server
                    # runs with autovacuum off, and a planner that believes a
                    # table of 400,000 lines empty scans it for every batch
                    Transaction().connection.cursor().execute('ANALYZE')
                return routes_for(size)
            route_ids = in_transaction(
                settings, admin_id, company_id, prepare)
            figures = run_billing(args, settings, admin_id, company_id, month,
                route_ids, counter)
            state, bills, held, posted, failed = figures['outcome']
            calc_s, calc_q = figures['calculate']
            post_s, post_q = figures['post']
            if args.workers:
                # the statements run in the workers, out of this count
                calc_q = post_q = '-'
            else:
                calc_q = f'{calc_q / max(bills, 1):.2f}'
                post_q = f'{post_q / max(posted, 1):.2f}'
            print(f"{label:>6} {month:%Y-%m} {posted:>6} {held:>5} "
                f"{calc_s:>7.2f} {bills / calc_s:>7.0f} {calc_q:>6} "
                f"{post_s:>7.2f} {posted / post_s:>7.0f} {post_q:>6} "
                f"{posted / (calc_s + post_s):>8.0f}"
                + (f"  {failed} batches failed" if failed else "")
                + ("" if state == 'posted' else f"  run {state}"), flush=True)
            last_run = figures['run']
            month = add_months(month, 1)
    if args.pdf:
        count, seconds, sizes = render_pdfs(
            settings, admin_id, company_id, last_run, args.pdf)
        print(f"PDF bills: {count} rendered in {seconds:.1f} s "
            f"({seconds / max(count, 1) * 1000:.0f} ms a bill, "
            f"{sum(sizes) / max(len(sizes), 1) / 1024:.0f} KiB each)")


if __name__ == '__main__':
    main()
