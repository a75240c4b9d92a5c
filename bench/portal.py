#!/usr/bin/env python3
"""How the subscriber portal holds under load (issue 8).

    python bench/portal.py [--database water_bench_portal]
        [--subscriptions 10000] [--users 20,100] [--duration 60]
        [--workers 4] [--no-update] [--config config/trytond.conf]

On a demo utility of its own (built by tools/demo.py when missing, without
the payments, and its module updated unless --no-update), one web
user per subscriber taking part (bench-<n>@example.com, the subscriptions with
a posted bill) is (re)created; the portal is served by gunicorn with
--workers processes of trytond's WSGI application (as in production: the
`trytond` command's threaded server is for development), and locust drives
signed-in subscribers who each, reading a page 3 to 10 s (--think), open
their subscription's page (balance, bills to pay, bills, consumption,
statement), the whole account statement, or the list of their subscriptions.

The subscribers sign in over 10 s; the figures count from when all are in.
Printed for each number of concurrent users: requests per second, the median,
95th and 99th percentile latencies and the failures.  Target (issue 8): p95
under 200 ms at 100 users on the 2-core machine, with no failure.

Use PostgreSQL (TRYTOND_DATABASE__URI=postgresql://...): the figures on
SQLite are only indicative.  The load tool runs on the same machine and
takes its share of the cores.
"""
import argparse
import csv
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / 'tools'))
sys.path.insert(0, str(REPO / 'bench'))

from readings import ensure_database, machine  # noqa: E402

PASSWORD = 'bench-Portal-2026'
# seconds given to the sign-ins before the measured duration
SIGN_IN_TIME = 60
LOCUSTFILE = '''
import hashlib
import hmac
import itertools
import re

from locust import HttpUser, between, task

EMAILS = {emails!r}
PASSWORD = {password!r}
PORTAL = {portal!r}
NEXT = itertools.count()
SIGNED_IN = itertools.count(1)


class Subscriber(HttpUser):
    wait_time = between({think[0]}, {think[1]})

    def on_start(self):
        self.client.get(PORTAL + 'login', name='login page')
        # the form's token is the HMAC of the browser's cookie (portal.py)
        csrf = self.client.cookies.get('water_portal_csrf')
        token = hmac.new(csrf.encode(), b'water-portal-csrf',
            hashlib.sha256).hexdigest()
        email = EMAILS[next(NEXT) % len(EMAILS)]
        self.client.post(PORTAL + 'login', data={{
                'csrf': token, 'email': email, 'password': PASSWORD}},
            allow_redirects=False, name='sign in')
        home = self.client.get(PORTAL, name='subscriptions')
        # the figures count from when the last subscriber is in
        if next(SIGNED_IN) == self.environment.parsed_options.num_users:
            self.environment.stats.reset_all()
        self.subscription = re.search(r'/portal/s/(\\d+)"', home.text).group(1)

    @task(4)
    def subscription(self):
        self.client.get(PORTAL + 's/' + self.subscription,
            name='subscription (bills)')

    @task(2)
    def statement(self):
        self.client.get(PORTAL + 's/' + self.subscription + '/statement',
            name='statement')

    @task(1)
    def home(self):
        self.client.get(PORTAL, name='subscriptions')
'''


def free_port():
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


def create_web_users(settings, count):
    "One web user per subscription with a posted bill; return their e-mails"
    from demo import in_transaction

    from trytond.pool import Pool

    def work():
        pool = Pool()
        WebUser = pool.get('web.user')
        Bill = pool.get('water.bill')
        WebUser.delete(WebUser.search([
                    ('email', 'like', 'bench-%@example.com')]))
        subscriptions = []
        for bill in Bill.search([
                    ('state', '=', 'posted'),
                    ('subscription.state', '=', 'active'),
                    ], order=[('subscription', 'ASC')]):
            if bill.subscription not in subscriptions:
                subscriptions.append(bill.subscription)
            if len(subscriptions) >= count:
                break
        users = WebUser.create([{
                    'email': f'bench-{i}@example.com',
                    'email_valid': True,
                    'party': s.party.id,
                    'password': PASSWORD,
                    'water_subscriptions': [('add', [s.id])],
                    } for i, s in enumerate(subscriptions)])
        return [u.email for u in users]

    Pool(settings.database).init()
    return in_transaction(settings, 0, None, work)


def serve(args, port):
    "Start gunicorn on port with trytond's WSGI application"
    gunicorn = shutil.which('gunicorn', path=str(Path(sys.executable).parent))
    if not gunicorn:
        sys.exit("gunicorn is missing: make bench installs bench/requirements.txt")
    env = dict(os.environ,
        TRYTOND_CONFIG=args.config,
        TRYTOND_DATABASE_NAMES=args.database)
    process = subprocess.Popen([gunicorn, '--workers', str(args.workers),
            '--bind', f'127.0.0.1:{port}', '--log-level', 'warning',
            'trytond.application:app'], cwd=REPO, env=env)
    url = f'http://127.0.0.1:{port}/{args.database}/portal/login'
    for _ in range(240):
        try:
            with urllib.request.urlopen(url, timeout=5) as response:
                if response.status == 200:
                    return process
        except OSError:
            pass
        if process.poll() is not None:
            break
        time.sleep(0.5)
    process.terminate()
    sys.exit(f"the portal did not answer at {url}")


def load(args, port, emails, users, workdir):
    "Run locust with users for the duration; return its aggregated row"
    locust = shutil.which('locust', path=str(Path(sys.executable).parent))
    portal = f'/{args.database}/portal/'
    locustfile = Path(workdir) / 'locustfile.py'
    locustfile.write_text(LOCUSTFILE.format(
            emails=emails, password=PASSWORD, portal=portal,
            think=args.think))
    prefix = Path(workdir) / f'users{users}'
    run = subprocess.run([locust, '-f', str(locustfile), '--headless',
            '--host', f'http://127.0.0.1:{port}',
            # the subscribers sign in over 10 s (a password hash each, on
            # purpose slow) and more while the hashes queue; the figures
            # count from when the last is in (the locustfile resets them)
            '-u', str(users), '-r', str(max(users / 10, 1)),
            '-t', f'{args.duration + SIGN_IN_TIME}s',
            '--csv', str(prefix), '--only-summary', '--loglevel', 'WARNING'],
        cwd=workdir, check=False, capture_output=True, text=True)
    stats = Path(f'{prefix}_stats.csv')
    if not stats.exists():
        sys.exit(f"locust failed:\n{run.stderr}")
    with stats.open(newline='') as f:
        return list(csv.DictReader(f))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--database', '-d', default='water_bench_portal')
    parser.add_argument('--config', '-c',
        default=str(REPO / 'config' / 'trytond.conf'))
    parser.add_argument('--subscriptions', type=int, default=10_000)
    parser.add_argument('--users', default='20,100')
    parser.add_argument('--duration', type=int, default=60)
    parser.add_argument('--workers', type=int, default=4)
    parser.add_argument('--think', default='3,10',
        help="seconds a subscriber reads a page before the next: min,max")
    parser.add_argument('--no-update', dest='update', action='store_false',
        help="do not update the module in the database first")
    args = parser.parse_args()
    if args.database == 'water':
        parser.error("the benchmark adds web users: use a database of its own")
    users = [int(u) for u in args.users.split(',')]
    args.think = tuple(float(t) for t in args.think.split(','))

    os.environ.setdefault('TRYTOND_DATABASE__PATH', str(REPO / 'sites'))
    # payments one by one through the ORM take hours at 10,000 subscriptions
    settings = ensure_database(args, extra=['--no-payments'])
    if args.update:
        # the portal's pages and messages as they are in the sources
        subprocess.run([str(Path(sys.executable).parent / 'trytond-admin'),
                '-c', args.config, '-d', args.database, '-u', 'water_utility'],
            check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    emails = create_web_users(settings, max(users))
    backend = 'PostgreSQL' if (os.environ.get('TRYTOND_DATABASE__URI', '')
        .startswith('postgres')) else 'SQLite (indicative only)'
    print(f"machine: {machine()}")
    print(f"backend: {backend}, database {args.database}, "
        f"{args.subscriptions} subscriptions, {len(emails)} subscribers "
        f"signed in, gunicorn {args.workers} workers, "
        f"{args.duration} s per load, {args.think[0]:g} to {args.think[1]:g} s "
        "between pages")
    port = free_port()
    server = serve(args, port)
    try:
        with tempfile.TemporaryDirectory() as workdir:
            for count in users:
                rows = load(args, port, emails, count, workdir)
                print(f"\n{count} concurrent subscribers, all signed in")
                print(f"  {'page':<24}{'requests':>9}{'fail':>6}{'req/s':>8}"
                    f"{'p50 ms':>8}{'p95 ms':>8}{'p99 ms':>8}")
                for row in rows:
                    print(f"  {row['Name']:<24}{row['Request Count']:>9}"
                        f"{row['Failure Count']:>6}"
                        f"{float(row['Requests/s']):>8.1f}"
                        f"{row['50%']:>8}{row['95%']:>8}{row['99%']:>8}")
    finally:
        server.terminate()
        server.wait(timeout=30)


if __name__ == '__main__':
    main()
