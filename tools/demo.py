#!/usr/bin/env python3
"""Build a demo database of the water utility.

    python tools/demo.py --database NAME --subscriptions N \\
        [--config config/trytond.conf] [--seed 42] [--batch 100]

1. creates the database (SQLite file sites/NAME.sqlite, or a PostgreSQL
   database when TRYTOND_DATABASE__URI is a postgresql:// URI) and activates
   water_utility with its dependencies and the Arabic language
   (trytond-admin);
2. the company "مصلحة مياه بلديات الساحل" in ILS, time zone Asia/Gaza, its
   chart of accounts and the current fiscal year with monthly periods
   (proteus and the official test tools);
3. five service areas with their service centres, working hours, holidays
   and reading routes;
4. one demo user per role, logins written to sites/logins.txt (mode 600);
5. N subscriptions: subscribers with Arabic names, addresses, mobiles and
   national ids, one meter each installed through water.meter.installation,
   about 3 % applications without a meter, a handful of closed
   subscriptions whose meter was removed, and about 50 meters in stock.

The admin password comes from TRYTON_ADMIN_PASSWORD, else the file
sites/admin-password, else it is generated into that file (mode 600).  The
demo users' passwords come from TRYTON_DEMO_PASSWORD when it is set (one
password for all), else they are random.  Nothing is hard-coded.

The generated data depends only on --seed and on today's date.  The script
fills new databases only: it stops when the database already holds
subscriptions.
"""
import argparse
import configparser
import datetime as dt
import logging
import os
import random
import secrets
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
import urllib.parse
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

try:
    from . import demo_billing
    from . import demo_collection
    from . import demo_requests
    from . import demo_survey
    from . import demo_queue
    from . import demo_connection
    from . import demo_inspection
    from . import demo_data as data
    from . import demo_readings
except ImportError:
    import demo_billing
    import demo_collection
    import demo_requests
    import demo_survey
    import demo_queue
    import demo_connection
    import demo_inspection
    import demo_data as data
    import demo_readings

REPO = Path(__file__).resolve().parent.parent
SITES = REPO / 'sites'
MODULE = 'water_utility'
URL = 'http://127.0.0.1:8000/'
ADMIN_EMAIL = 'admin@example.com'
ADMIN_PASSWORD_FILE = SITES / 'admin-password'
LOGINS_FILE = SITES / 'logins.txt'
TIMEZONE = 'Asia/Gaza'
SERIAL_PREFIX = 'GZ'
STOCK_METERS = 50
# months read before this one: the first stands for the old system's last
DEMO_MONTHS = 4
# Where the database cannot enforce the date-range exclusion constraints of
# water.meter.installation (SQLite; PostgreSQL without btree_gist), trytond
# checks them in Python with one nested OR clause per created record: one
# create() of about 300 installations exceeds Python's recursion limit.
INSTALLATION_CHUNK = 40


class DemoError(Exception):
    "An error explained to the user, without a traceback"


# --- small helpers ---------------------------------------------------------

class Clock:
    "Print phases with their durations"

    def __init__(self):
        self.start = self.phase_start = time.monotonic()
        self.timings = []

    def phase(self, title):
        self.title = title
        self.phase_start = time.monotonic()
        print(f"\n== {title}", flush=True)

    def done(self, detail=''):
        elapsed = time.monotonic() - self.phase_start
        self.timings.append((self.title, elapsed))
        print(f"   done in {elapsed:.1f} s{(': ' + detail) if detail else ''}",
            flush=True)

    def note(self, text):
        print(f"   {text}", flush=True)

    @property
    def total(self):
        return time.monotonic() - self.start


def local_today():
    """Today in the utility's time zone, as the module's ir.date gives it:
    between 22:00 and midnight UTC Gaza is already at tomorrow, and the
    demo's dates must agree with the invoices the module dates"""
    return dt.datetime.now(ZoneInfo(TIMEZONE)).date()


def write_private(path, text):
    "Write text to path readable by its owner only (mode 600)"
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, 'w', encoding='utf-8') as file:
        file.write(text)
    os.chmod(path, 0o600)


def chunks(items, size):
    for i in range(0, len(items), size):
        yield items[i:i + size]


def weighted(rng, pairs):
    values, weights = zip(*pairs)
    return rng.choices(values, weights=weights)[0]


def hide_password(uri):
    parts = urllib.parse.urlsplit(uri)
    if parts.password:
        netloc = parts.netloc.replace(':' + parts.password + '@', ':***@')
        parts = parts._replace(netloc=netloc)
    return urllib.parse.urlunsplit(parts)


# --- configuration and database -------------------------------------------

@dataclass
class Settings:
    database: str
    config_files: list  # given to trytond-admin (-c) and to proteus
    backend: str  # 'sqlite' or 'postgresql'
    uri: str
    path: Path | None  # folder of the SQLite files

    @property
    def sqlite_file(self):
        return self.path / f'{self.database}.sqlite'


def load_settings(database, config_file, workdir):
    """Load trytond's configuration as trytond-admin and the server see it

    A value in the configuration file wins over the TRYTOND_SECTION__KEY
    environment variables (that is trytond's rule).  When neither sets the
    SQLite folder, the repository's sites/ is used.

    trytond 8.0 turns a relative SQLite folder into an absolute one from /
    (path = sites opens /sites/NAME.sqlite): the folder is resolved here
    against the working directory and passed to trytond-admin and proteus
    in an extra configuration file of workdir.
    """
    from trytond import config

    config_files = []
    if config_file:
        if not Path(config_file).is_file():
            raise DemoError(f"configuration file not found: {config_file}")
        config.update_etc(config_file)
        config_files.append(config_file)
    uri = config.get('database', 'uri') or 'sqlite://'
    scheme = urllib.parse.urlsplit(uri).scheme
    if scheme.startswith('postgres'):
        return Settings(database=database, config_files=config_files,
            backend='postgresql', uri=uri, path=None)
    elif scheme != 'sqlite':
        raise DemoError(f"unsupported database URI: {hide_password(uri)}")
    file_values = configparser.ConfigParser(interpolation=None)
    if config_file:
        file_values.read(config_file)
    if (file_values.has_option('database', 'path')
            or os.environ.get('TRYTOND_DATABASE__PATH')):
        value = config.get('database', 'path')
    else:
        value = str(SITES)
    path = Path(value).expanduser().resolve()
    override = Path(workdir) / 'database-path.conf'
    override.write_text(f'[database]\npath = {path}\n', encoding='utf-8')
    config_files.append(str(override))
    config.set('database', 'path', str(path))
    return Settings(database=database, config_files=config_files,
        backend='sqlite', uri=uri, path=path)


def pg_connect(settings, dbname):
    import psycopg
    try:
        return psycopg.connect(
            settings.uri, dbname=dbname, connect_timeout=5, autocommit=True)
    except psycopg.OperationalError as exception:
        message = str(exception).strip()
        if f'database "{dbname}" does not exist' in message:
            raise
        raise DemoError(
            f"PostgreSQL is not reachable at {hide_password(settings.uri)}:"
            f"\n  {message}\n"
            "Start it (pg_ctlcluster --skip-systemctl-redirect "
            "$(ls /etc/postgresql) main start), fix TRYTOND_DATABASE__URI, "
            "or unset TRYTOND_DATABASE__URI to use SQLite.") from None


def existing_subscriptions(settings):
    "Return the number of subscriptions already in the database, or None"
    if settings.backend == 'sqlite':
        file = settings.sqlite_file
        if not file.exists() or not file.stat().st_size:
            return None
        with sqlite3.connect(file) as connection:
            cursor = connection.execute(
                "SELECT name FROM sqlite_master "
                "WHERE type = 'table' AND name = 'water_subscription'")
            if not cursor.fetchone():
                return None
            return connection.execute(
                "SELECT COUNT(*) FROM water_subscription").fetchone()[0]
    else:
        import psycopg
        try:
            connection = pg_connect(settings, settings.database)
        except psycopg.OperationalError:
            return None
        with connection:
            if connection.execute(
                    "SELECT to_regclass('water_subscription')"
                    ).fetchone()[0] is None:
                return None
            return connection.execute(
                "SELECT COUNT(*) FROM water_subscription").fetchone()[0]


def create_database(settings, clock):
    "Create the empty database that trytond-admin initialises"
    if settings.backend == 'sqlite':
        settings.path.mkdir(parents=True, exist_ok=True)
        file = settings.sqlite_file
        if not file.exists():
            file.touch()
            clock.note(f"created {file}")
        else:
            clock.note(f"using {file}")
    else:
        from psycopg import sql
        with pg_connect(settings, 'postgres') as connection:
            exists = connection.execute(
                "SELECT 1 FROM pg_database WHERE datname = %s",
                (settings.database,)).fetchone()
            if not exists:
                connection.execute(sql.SQL(
                        "CREATE DATABASE {} TEMPLATE template0 "
                        "ENCODING 'UTF8'").format(
                        sql.Identifier(settings.database)))
                clock.note(f"created PostgreSQL database {settings.database}"
                    f" on {hide_password(settings.uri)}")
            else:
                clock.note(f"using PostgreSQL database {settings.database}")


def admin_password():
    "Return (password, source): environment, sites/admin-password or new"
    password = os.environ.get('TRYTON_ADMIN_PASSWORD')
    if password:
        return password, 'env'
    if ADMIN_PASSWORD_FILE.exists():
        lines = ADMIN_PASSWORD_FILE.read_text(encoding='utf-8').splitlines()
        if lines and lines[0].strip():
            return lines[0].strip(), 'file'
    password = secrets.token_urlsafe(12)
    write_private(ADMIN_PASSWORD_FILE, password + '\n')
    return password, 'new'


def trytond_admin_command():
    script = Path(sys.executable).with_name('trytond-admin')
    if script.exists():
        return [str(script)]
    return [sys.executable, '-c',
        'import sys; from trytond.cli.admin import main; '
        'sys.argv[0] = "trytond-admin"; sys.exit(main())']


def run_trytond_admin(settings, password, workdir):
    "Initialise the database and activate the module and Arabic"
    passfile = Path(workdir) / 'admin-password'
    write_private(passfile, password + '\n')
    env = dict(os.environ, TRYTONPASSFILE=str(passfile))
    command = trytond_admin_command()
    if settings.config_files:
        command += ['-c', *settings.config_files]
    command += ['-d', settings.database, '--all',
        '--activate-dependencies', '-u', MODULE, '-l', 'ar',
        '--email', ADMIN_EMAIL]
    try:
        result = subprocess.run(command, env=env, cwd=REPO)
    finally:
        passfile.unlink()
    if result.returncode:
        raise DemoError(
            f"trytond-admin failed (exit status {result.returncode})")


# --- company and accounting (proteus) --------------------------------------

def setup_company(settings, clock):
    """Company, ILS, chart of accounts and fiscal year with proteus

    Return (admin user id, company id).
    """
    from proteus import Model
    from proteus import config as pconfig
    from trytond.modules.account.tests.tools import (
        create_chart, create_fiscalyear)
    from trytond.modules.account_invoice.tests.tools import (
        set_fiscalyear_invoice_sequences)
    from trytond.modules.company.tests.tools import create_company

    environ = dict(os.environ)
    try:
        pconfig.set_trytond(database=settings.database,
            config_file=settings.config_files or None)
    finally:
        # proteus rewrites TRYTOND_DATABASE_URI for its own use
        os.environ.clear()
        os.environ.update(environ)
    proteus_config = pconfig.get_config()

    Lang = Model.get('ir.lang')
    arabic, = Lang.find([('code', '=', 'ar')])
    if not arabic.translatable:
        arabic.translatable = True
        arabic.save()

    Country = Model.get('country.country')
    Subdivision = Model.get('country.subdivision')
    countries = Country.find([('code', '=', data.COUNTRY['code'])])
    if countries:
        country, = countries
    else:
        country = Country(
            name=data.COUNTRY['name'], code=data.COUNTRY['code'],
            code3=data.COUNTRY['code3'],
            code_numeric=data.COUNTRY['code_numeric'])
        country.save()
    known = {s.code for s in Subdivision.find(
            [('country', '=', country.id)])}
    for code, name, _ in data.SUBDIVISIONS:
        if code not in known:
            Subdivision(country=country, code=code, name=name,
                type='governorate').save()

    Company = Model.get('company.company')
    companies = Company.find([])
    if companies:
        company = companies[0]
        clock.note(f"company exists: {company.rec_name}")
    else:
        Currency = Model.get('currency.currency')
        currencies = Currency.find([('code', '=', data.CURRENCY['code'])])
        if currencies:
            currency, = currencies
        else:
            currency = Currency(
                name=data.CURRENCY['name'], code=data.CURRENCY['code'],
                symbol=data.CURRENCY['symbol'],
                numeric_code=data.CURRENCY['numeric_code'],
                rounding=Decimal('0.01'), digits=2)
            currency.save()
        Party = Model.get('party.party')
        party = Party(name=data.COMPANY_NAME)
        address = party.addresses[0] if party.addresses else (
            party.addresses.new())
        street, neighbourhood, city = data.COMPANY_ADDRESS
        address.street = f"{street}\n{neighbourhood}"
        address.city = city
        address.country = country
        mechanism = party.contact_mechanisms.new()
        mechanism.type = 'phone'
        mechanism.value = '+970 8 280 0100'
        party.save()
        create_company(party=party, currency=currency)
        company, = Company.find([])
        clock.note(f"company: {data.COMPANY_NAME} "
            f"({data.COMPANY_NAME_EN}), currency {currency.code}")
    if company.timezone != TIMEZONE:
        company.timezone = TIMEZONE
        company.save()

    Account = Model.get('account.account')
    if not Account.find([('company', '=', company.id)], limit=1):
        create_chart(company)
        clock.note("chart of accounts created (account_template_root_en)")

    FiscalYear = Model.get('account.fiscalyear')
    today = local_today()
    # the months read and billed by the demo may begin the year before
    first = demo_billing.add_months(today.replace(day=1), -DEMO_MONTHS)
    for year in sorted({first.year, today.year}):
        start = dt.date(year, 1, 1)
        if FiscalYear.find([
                    ('company', '=', company.id),
                    ('start_date', '<=', start),
                    ('end_date', '>=', start),
                    ]):
            continue
        fiscalyear = set_fiscalyear_invoice_sequences(create_fiscalyear(
                company, (start, dt.date(year, 12, 31))))
        fiscalyear.click('create_period')
        clock.note(f"fiscal year {fiscalyear.name}: "
            f"{len(fiscalyear.periods)} monthly periods")

    User = Model.get('res.user')
    admin, = User.find([('login', '=', 'admin')])
    if admin.language != arabic:
        admin.language = arabic
        admin.save()
    return proteus_config.user, company.id


# --- what to create: the plan ----------------------------------------------

@dataclass
class Sub:
    "Everything about one demo subscription, decided before any query"
    area: dict
    state: str
    category: str = 'domestic'
    route: tuple | None = None  # (area code, route index)
    position: int | None = None
    neighbourhood: str = ''
    street: str = ''
    building: int = 0
    name: str = ''
    person: bool = True
    national_id: str | None = None
    phone: str = ''
    sewage: bool = False
    social_welfare: bool = False
    connection_date: dt.date | None = None
    closing_date: dt.date | None = None
    meter: dict | None = None
    initial_reading: Decimal = Decimal(0)
    final_reading: Decimal | None = None


@dataclass
class RoutePlan:
    area: dict
    index: int
    code: str
    name: str
    name_ar: str
    reading_day: int = 1
    subs: list = field(default_factory=list)


def random_date(rng, start, end):
    return start + dt.timedelta(days=rng.randint(0, (end - start).days))


def national_id(rng, used):
    "Return a new valid Palestinian identity number (Luhn check digit)"
    from stdnum import luhn
    while True:
        body = rng.choice('489') + ''.join(
            rng.choice('0123456789') for _ in range(7))
        number = body + luhn.calc_check_digit(body)
        if number not in used:
            used.add(number)
            return number


def mobile(rng, used):
    "Return a new mobile number: +970 59x xxx xxx (Jawwal) or 56x (Ooredoo)"
    while True:
        prefix = '59' if rng.random() < 0.7 else '56'
        digits = ''.join(rng.choice('0123456789') for _ in range(7))
        number = f'+970 {prefix}{digits[0]} {digits[1:4]} {digits[4:]}'
        if number not in used:
            used.add(number)
            return number


def allocate(total, weights):
    "Split total in proportion to weights (largest remainder)"
    whole = sum(weights)
    shares = [total * w / whole for w in weights]
    counts = [int(s) for s in shares]
    order = sorted(range(len(weights)),
        key=lambda i: shares[i] - counts[i], reverse=True)
    for i in order[:total - sum(counts)]:
        counts[i] += 1
    return counts


def plan(n, seed, today):
    """Return (subscriptions in creation order, routes, stock meters)

    Pure Python, no database: the same seed and date give the same plan.
    """
    rng = random.Random(seed)
    n_application = round(n * 0.03)
    n_closed = min(max(3, min(12, n // 100)), n // 10)
    n_active = n - n_application - n_closed
    states = (['active'] * n_active + ['closed'] * n_closed
        + ['application'] * n_application)
    rng.shuffle(states)

    counts = allocate(n, [a['weight'] for a in data.AREAS])
    areas = [a for a, c in zip(data.AREAS, counts) for _ in range(c)]
    rng.shuffle(areas)
    subs = [Sub(area=a, state=s) for a, s in zip(areas, states)]

    # Reading routes: 100 to 250 subscriptions each, one neighbourhood each
    routes = []
    by_area = defaultdict(list)
    for sub in subs:
        by_area[sub.area['code']].append(sub)
    for area in data.AREAS:
        members = [s for s in by_area[area['code']]
            if s.state != 'application']
        sizes = []
        remaining = len(members)
        while remaining > 0:
            size = rng.randint(100, 250)
            if remaining - size < 60:
                size = remaining
            sizes.append(size)
            remaining -= size
        neighbourhoods = area['neighbourhoods']
        uses = Counter()
        start = 0
        for index, size in enumerate(sizes):
            ar, en = neighbourhoods[index % len(neighbourhoods)]
            uses[ar] += 1
            suffix = (f" {uses[ar]}"
                if len(sizes) > len(neighbourhoods) else '')
            route = RoutePlan(area=area, index=index,
                code=f"{area['code']}-{index + 1:02d}",
                name=en + suffix, name_ar=ar + suffix)
            route.subs = members[start:start + size]
            start += size
            routes.append(route)
            for sub in route.subs:
                sub.route = (area['code'], index)
                sub.neighbourhood = ar
        for sub in by_area[area['code']]:
            if sub.state == 'application':
                sub.neighbourhood = rng.choice(neighbourhoods)[0]
    # Reading days spread over 1..28
    for i, route in enumerate(routes):
        route.reading_day = 1 + (i * 27) // max(1, len(routes) - 1)

    used_ids, used_phones = set(), set()
    first_connection = dt.date(today.year - 22, 1, 1)
    for sub in subs:
        area = sub.area
        sub.category = weighted(rng, data.CATEGORY_WEIGHTS)
        sub.street = rng.choice(area['streets'])
        sub.building = rng.randint(1, 180)
        families = area['families'] + data.FAMILIES_COMMON
        family = rng.choice(families)
        father = rng.choice(data.MALE_NAMES)
        if sub.category == 'domestic' or (
                sub.category == 'commercial' and rng.random() < 0.6):
            first = (rng.choice(data.FEMALE_NAMES) if rng.random() < 0.1
                else rng.choice(data.MALE_NAMES))
            while first == father:
                father = rng.choice(data.MALE_NAMES)
            parts = [first, father]
            if rng.random() < 0.3:
                parts.append(rng.choice(data.MALE_NAMES))
            sub.name = ' '.join(parts + [family])
            sub.national_id = national_id(rng, used_ids)
        else:
            sub.person = False
            sub.name = rng.choice(data.BUSINESS_NAMES[sub.category]).format(
                family=family, word=rng.choice(data.BUSINESS_WORDS),
                area=area['name_ar'], neighbourhood=sub.neighbourhood)
        sub.phone = mobile(rng, used_phones)
        sub.sewage = rng.random() < 0.40
        sub.social_welfare = (
            sub.category == 'domestic' and rng.random() < 0.058)
        if sub.state != 'application':
            sub.connection_date = random_date(
                rng, first_connection, today - dt.timedelta(days=45))
        if sub.state == 'closed':
            sub.closing_date = random_date(rng,
                min(sub.connection_date + dt.timedelta(days=365),
                    today - dt.timedelta(days=10)),
                today - dt.timedelta(days=10))

    # Route order: the reader walks street by street, building by building
    for route in routes:
        route.subs.sort(key=lambda s: (s.street, s.building))
        for position, sub in enumerate(route.subs, 1):
            sub.position = position * 10

    # Creation order: oldest connection first (account numbers grow with
    # time), the pending applications last
    subs.sort(key=lambda s: (s.connection_date is None,
            s.connection_date or today))

    serial = 0
    for sub in subs:
        if sub.state == 'application':
            continue
        serial += 1
        year = sub.connection_date.year
        make, model = rng.choice(data.METER_MODELS)
        sub.meter = {
            'serial': f'{SERIAL_PREFIX}-{year}-{serial:06d}',
            'make': make,
            'model': model,
            'diameter': weighted(rng, data.DIAMETERS[sub.category]),
            'digits': 5,
            'multiplier': Decimal(1),
            'manufacture_year': year - rng.choice([0, 0, 1]),
            }
        sub.initial_reading = Decimal(rng.choice([0] * 6 + list(range(1, 13))))
        if sub.state == 'closed':
            months = max(1, (sub.closing_date - sub.connection_date).days // 30)
            sub.final_reading = min(Decimal(99999),
                sub.initial_reading + months * rng.randint(8, 30))
    stock = []
    for _ in range(STOCK_METERS):
        serial += 1
        make, model = rng.choice(data.METER_MODELS)
        stock.append({
                'serial': f'{SERIAL_PREFIX}-{today.year}-{serial:06d}',
                'make': make,
                'model': model,
                'diameter': weighted(rng, [('15', 70), ('20', 30)]),
                'digits': 5,
                'multiplier': Decimal(1),
                'manufacture_year': today.year,
                })
    return subs, routes, stock


# --- trytond (direct API) --------------------------------------------------

def in_transaction(settings, user, company, func, readonly=False,
        extras=None):
    """Run func() in a transaction of its own and commit it

    Like trytond's dispatcher and proteus: a transaction that needs a table
    lock (ModelSingleton.create, constraints checked in Python ...) is
    restarted with the lock taken; queued tasks run after the commit.
    extras (the locks) is updated in place, so that the next batches take
    the locks from the start: on PostgreSQL a restarted batch would waste
    the subscription numbers and party codes its sequences gave out.
    """
    from trytond.transaction import Transaction, TransactionError
    from trytond.worker import run_task
    context = {'company': company, 'language': 'en'}
    if extras is None:
        extras = {}
    while True:
        with Transaction().start(settings.database, user, context=context,
                readonly=readonly, **extras) as transaction:
            try:
                result = func()
            except TransactionError as error:
                transaction.rollback()
                error.fix(extras)
                continue
            if readonly:
                transaction.rollback()
            else:
                transaction.commit()
            tasks = transaction.tasks
        # like trytond's dispatcher: a task may queue others (a billing
        # run's postings follow one another)
        while tasks:
            run_task(settings.database, tasks.pop(0))
        return result


def demo_passwords(logins):
    common = os.environ.get('TRYTON_DEMO_PASSWORD')
    return {login: common or secrets.token_urlsafe(9) for login in logins}


def setup_users(settings, admin, company, clock):
    "Create (or reset) the demo users; return [(login, role, password)]"
    from trytond.pool import Pool
    from trytond.transaction import Transaction

    logins = []
    for login, role, groups, name in data.ROLES:
        if role != 'reader':
            logins.append((login, role, groups, name))
            continue
        # One reader per service area: reader, reader2, reader3, ...
        for i, area in enumerate(data.AREAS):
            logins.append((login if not i else f'{login}{i + 1}', role,
                    groups, f"{name} - {area['name_ar']}"))
    passwords = demo_passwords([l[0] for l in logins])

    def work():
        pool = Pool()
        User = pool.get('res.user')
        Lang = pool.get('ir.lang')
        ModelData = pool.get('ir.model.data')
        arabic, = Lang.search([('code', '=', 'ar')])
        with Transaction().set_context(active_test=False):
            existing = {u.login: u for u in User.search([
                        ('login', 'in', [l[0] for l in logins]),
                        ])}
        to_create, to_write = [], []
        for login, role, groups, name in logins:
            group_ids = [ModelData.get_id(*g.split('.')) for g in groups]
            values = {
                'name': name,
                'password': passwords[login],
                'language': arabic.id,
                'companies': [('add', [company])],
                'company': company,
                'groups': [('add', group_ids)],
                'active': True,
                }
            if login in existing:
                to_write.extend(([existing[login]], values))
            else:
                to_create.append({'login': login, **values})
        if to_create:
            User.create(to_create)
        if to_write:
            User.write(*to_write)

    in_transaction(settings, admin, company, work)
    clock.note(f"{len(logins)} users: "
        + ', '.join(sorted({l[0].rstrip('0123456789') for l in logins})))
    return [(login, role, passwords[login])
        for login, role, _, _ in logins]


def setup_areas(settings, admin, company, routes, readers, today, clock):
    "Create the service areas and reading routes; return {route key: id}"
    from trytond.pool import Pool
    from trytond.transaction import Transaction

    years = [today.year, today.year + 1]
    def work():
        pool = Pool()
        Area = pool.get('water.area')
        Route = pool.get('water.route')
        Holiday = pool.get('water.area.holiday')
        User = pool.get('res.user')
        reader_ids = {u.login: u.id for u in User.search([
                    ('login', 'in', readers)])}

        areas = {a.code: a for a in Area.search([
                    ('company', '=', company)])}
        new = [a for a in data.AREAS if a['code'] not in areas]
        if new:
            created = Area.create([{
                        'company': company,
                        'code': a['code'],
                        'name': a['name'],
                        'centre_name': a['centre'],
                        'centre_address': a['centre_address'],
                        'centre_phone': a['centre_phone'],
                        'timezone': TIMEZONE,
                        'working_hours': [('create', [{
                                        'weekday': day,
                                        'start_time': data.WORKING_HOURS[0],
                                        'end_time': data.WORKING_HOURS[1],
                                        } for day in data.WORKING_DAYS])],
                        'holidays': [('create', [{
                                        'date': date,
                                        'name': name,
                                        } for year in years
                                    for date, name, _ in data.holidays(year)
                                    ])],
                        } for a in new])
            areas.update({a.code: a for a in created})
            with Transaction().set_context(language='ar'):
                args = []
                for values in new:
                    args.extend(([areas[values['code']]], {
                                'name': values['name_ar'],
                                'centre_name': values['centre_ar'],
                                }))
                Area.write(*args)
                holidays_ar = {(date, name): name_ar for year in years
                    for date, name, name_ar in data.holidays(year)}
                args = []
                for holiday in Holiday.search([
                            ('area', 'in', [areas[a['code']].id
                                    for a in new])]):
                    args.extend(([holiday], {
                                'name': holidays_ar[
                                    (holiday.date, holiday.name)],
                                }))
                if args:
                    Holiday.write(*args)

        area_reader = {a['code']: readers[i % len(readers)]
            for i, a in enumerate(data.AREAS)}
        existing = {(r.area.code, r.code): r for r in Route.search([
                    ('area', 'in', [a.id for a in areas.values()]),
                    ])}
        to_create, to_write, names_ar = [], [], []
        for route in routes:
            values = {
                'area': areas[route.area['code']].id,
                'code': route.code,
                'name': route.name,
                'reading_day': route.reading_day,
                'reader': reader_ids.get(area_reader[route.area['code']]),
                }
            key = (route.area['code'], route.code)
            if key in existing:
                to_write.extend(([existing[key]], values))
            else:
                to_create.append(values)
        if to_write:
            Route.write(*to_write)
        created = Route.create(to_create) if to_create else []
        existing.update({(r.area.code, r.code): r for r in created})
        with Transaction().set_context(language='ar'):
            for route in routes:
                names_ar.extend(([existing[(route.area['code'], route.code)]],
                        {'name': route.name_ar}))
            if names_ar:
                Route.write(*names_ar)
        result = {(route.area['code'], route.index):
            existing[(route.area['code'], route.code)].id
            for route in routes}
        area_ids = {code: area.id for code, area in areas.items()}
        return area_ids, result

    area_ids, result = in_transaction(settings, admin, company, work)
    clock.note(f"{len(area_ids)} areas, {len(routes)} reading routes, "
        f"working hours Saturday-Thursday "
        f"{data.WORKING_HOURS[0]:%H:%M}-{data.WORKING_HOURS[1]:%H:%M}")
    return area_ids, result


def load_references(settings, admin, company):
    "Translate the country and currency; return ids the bulk part needs"
    from trytond.pool import Pool
    from trytond.transaction import Transaction

    def work():
        pool = Pool()
        ModelData = pool.get('ir.model.data')
        Country = pool.get('country.country')
        Subdivision = pool.get('country.subdivision')
        Lang = pool.get('ir.lang')
        PartyConfiguration = pool.get('party.configuration')
        categories = {code: ModelData.get_id(MODULE, f'category_{code}')
            for code, _ in data.CATEGORY_WEIGHTS}
        country, = Country.search([('code', '=', data.COUNTRY['code'])])
        subdivisions = {s.code: s.id for s in Subdivision.search([
                    ('country', '=', country.id)])}
        arabic, = Lang.search([('code', '=', 'ar')])
        Currency = pool.get('currency.currency')
        with Transaction().set_context(language='ar'):
            args = [[country], {'name': data.COUNTRY['name_ar']}]
            names_ar = {code: ar for code, _, ar in data.SUBDIVISIONS}
            for subdivision in Subdivision.browse(list(subdivisions.values())):
                if subdivision.code in names_ar:
                    args.extend(([subdivision],
                            {'name': names_ar[subdivision.code]}))
            Country.write(*args[:2])
            if args[2:]:
                Subdivision.write(*args[2:])
            currencies = Currency.search(
                [('code', '=', data.CURRENCY['code'])])
            if currencies:
                Currency.write(currencies, {'name': data.CURRENCY['name_ar']})
        # New subscribers speak Arabic: their letters and bills follow
        configuration = PartyConfiguration(1)
        configuration.party_lang = arabic
        configuration.save()
        return {
            'categories': categories,
            'country': country.id,
            'subdivisions': subdivisions,
            }

    return in_transaction(settings, admin, company, work)


class Laps:
    "Time spent per step, summed over the batches"

    def __init__(self):
        self.totals = Counter()
        self.last = time.monotonic()

    def start(self):
        self.last = time.monotonic()

    def __call__(self, name):
        now = time.monotonic()
        self.totals[name] += now - self.last
        self.last = now

    def __str__(self):
        return ', '.join(f'{k} {v:.1f} s' for k, v in self.totals.items())


def create_subscriptions(settings, admin, company, subs, area_ids,
        route_ids, refs, batch, clock):
    "Create parties, subscriptions, meters and installations per batch"
    from trytond.modules.water_utility.meter import MeterSwap
    from trytond.pool import Pool

    done = 0
    started = time.monotonic()
    lap = Laps()
    # Where the database lacks the date-range exclusion constraints, trytond
    # locks the installation table to check them (see INSTALLATION_CHUNK)
    extras = {'_lock_tables': ['water_meter_installation']}
    for part in chunks(subs, batch):
        def work(part=part):
            pool = Pool()
            Party = pool.get('party.party')
            Address = pool.get('party.address')
            ContactMechanism = pool.get('party.contact_mechanism')
            Identifier = pool.get('party.identifier')
            Subscription = pool.get('water.subscription')
            Meter = pool.get('water.meter')
            Installation = pool.get('water.meter.installation')

            lap.start()
            parties = Party.create([{
                        'name': s.name,
                        'addresses': [],
                        } for s in part])
            lap('parties')
            addresses = Address.create([{
                        'party': p.id,
                        'street_unstructured': (
                            f"{s.street}، مبنى {s.building}\n"
                            f"{s.neighbourhood}"),
                        'city': s.area['name_ar'],
                        'country': refs['country'],
                        'subdivision': refs['subdivisions'].get(
                            s.area['subdivision']),
                        } for p, s in zip(parties, part)])
            lap('addresses')
            ContactMechanism.create([{
                        'party': p.id,
                        'type': 'mobile',
                        'value': s.phone,
                        } for p, s in zip(parties, part)])
            lap('mobiles')
            Identifier.create([{
                        'party': p.id,
                        'type': 'ps_idnr',
                        'code': s.national_id,
                        } for p, s in zip(parties, part) if s.national_id])
            lap('national ids')
            subscriptions = Subscription.create([{
                        'company': company,
                        'party': p.id,
                        'address': a.id,
                        'area': area_ids[s.area['code']],
                        'route': route_ids[s.route] if s.route else None,
                        'route_position': s.position,
                        'category': refs['categories'][s.category],
                        'sewage': s.sewage,
                        'social_welfare': s.social_welfare,
                        'connection_date': s.connection_date,
                        } for p, a, s in zip(parties, addresses, part)])
            lap('subscriptions')
            metered = [(sub, s) for sub, s in zip(subscriptions, part)
                if s.meter]
            meters = Meter.create([
                    dict(s.meter, company=company) for _, s in metered])
            lap('meters')
            installations = [{
                    'meter': m.id,
                    'subscription': sub.id,
                    'start_date': s.connection_date,
                    'initial_reading': s.initial_reading,
                    } for m, (sub, s) in zip(meters, metered)]
            # Smaller calls: see INSTALLATION_CHUNK
            for values in chunks(installations, INSTALLATION_CHUNK):
                Installation.create(values)
            lap('installations')
            # The workflow: a subscription with a meter and a route opens
            Subscription.activate(Subscription.browse(
                    [sub.id for sub, _ in metered]))
            lap('activation')
            closing = [(sub, s) for sub, s in metered if s.state == 'closed']
            if closing:
                Installation.swap([MeterSwap(
                            subscription=sub,
                            date=s.closing_date,
                            final_reading=s.final_reading,
                            removal_reason='closing',
                            notes="Subscription closed at the subscriber's "
                            "request")
                        for sub, s in closing])
                Subscription.close(Subscription.browse(
                        [sub.id for sub, _ in closing]))
                args = []
                for sub, s in closing:
                    args.extend(([sub], {'closing_date': s.closing_date}))
                Subscription.write(*args)
                lap('closing')

        in_transaction(settings, admin, company, work, extras=extras)
        lap.start()
        done += len(part)
        elapsed = time.monotonic() - started
        print(f"   {done:>6}/{len(subs)} subscriptions  {elapsed:6.1f} s  "
            f"({done / elapsed:.0f}/s)", flush=True)
    if subs:
        clock.note(f"time per step: {lap}")


def create_readings(settings, admin, company, today, seed, clock):
    """Read the meters of the last four months and of this month

    The first month stands for the readings taken over from the old
    system (no meter is missed).  Past months are imported from handheld
    files and closed (what was not read is estimated); this month's round
    has the usual troubles, so the exception queue and the rejected rows
    have something to show.
    """
    from trytond.pool import Pool

    rng = random.Random(seed)
    this_month = today.replace(day=1)
    months = [demo_readings.add_months(this_month, -i)
        for i in range(DEMO_MONTHS, -1, -1)]
    state = {}

    def load():
        state['meters'] = demo_readings.load_meters(rng)
    in_transaction(settings, admin, company, load, readonly=True)

    for month in months:
        current = month == this_month

        def work(month=month, current=current):
            pool = Pool()
            Period = pool.get('water.reading.period')
            Reading = pool.get('water.reading')
            Import = pool.get('water.reading.import')
            periods = Period.schedule(month)
            data, count = demo_readings.month_file(
                state['meters'], month, rng, today=today,
                anomalies=current,
                missed=0 if current or month == months[0] else 0.015)
            if count:
                Import.import_file(data, f'handheld-{month:%Y-%m}.csv')
            if not current:
                # the billing section resolved last months' exceptions
                Reading.accept(Reading.search([
                            ('period', 'in', [p.id for p in periods]),
                            ('state', '=', 'held'),
                            ('value', '!=', None),
                            ]))
                Period.close(periods)
            return count
        count = in_transaction(settings, admin, company, work)
        clock.note(f"{month:%Y-%m}: {count} readings imported"
            + (" (this month, open)" if current else ", period closed"))


def create_bills(settings, admin, company, today, seed, payments, clock):
    """The tariff and the billing runs of the months read before this one

    The first demo month was billed by the old system; the next ones are
    calculated and posted by billing runs (batches run after each commit,
    as without a queue worker), paid at the cash desk for the most part
    and delivered.  A run whose issue date has not come stays calculated.
    """
    this_month = today.replace(day=1)
    months = [demo_readings.add_months(this_month, -i)
        for i in range(DEMO_MONTHS - 1, 0, -1)]

    def setup():
        return demo_billing.setup_billing(company, months[0])
    if in_transaction(settings, admin, company, setup):
        clock.note("tariff WB-2024 (versions 2024-01-01 and 2024-01-15), "
            f"products and accounts; billing starts {months[0]:%Y-%m}")
    desks = in_transaction(settings, admin, company,
        lambda: demo_billing.setup_desks(company, today))
    if desks:
        clock.note(f"{desks} cash desks; the cashier's day of today is open "
            "at the first")
    for month in months:
        run_id, to_post = in_transaction(settings, admin, company,
            lambda month=month: demo_billing.bill_month(month, today))
        if not to_post:
            clock.note(f"{month:%Y-%m}: calculated, to be posted on its "
                "issue date")
            continue
        in_transaction(settings, admin, company,
            lambda run_id=run_id: demo_billing.post_run(run_id))
        if payments:
            count, paid, delivered = in_transaction(settings, admin,
                company, lambda run_id=run_id: demo_billing.pay_and_deliver(
                    run_id, today, seed))
            clock.note(f"{month:%Y-%m}: {count} bills posted, {paid} paid, "
                f"{delivered} delivered")
        else:
            clock.note(f"{month:%Y-%m}: bills posted")
    categories = in_transaction(settings, admin, company,
        demo_collection.setup_ladder)
    if categories:
        clock.note(f"collection ladder on {categories} categories")
    dunned = in_transaction(settings, admin, company,
        lambda: demo_collection.run_ladder(today))
    clock.note(f"{dunned} overdue lines on the collection ladder")
    approvers = in_transaction(settings, admin, company,
        demo_collection.setup_approvers)
    clock.note(f"{approvers} settlement approvers (10 % of discount)")
    rewards = in_transaction(settings, admin, company,
        demo_collection.grant_rewards)
    clock.note(f"{rewards} rewards for on-time payers")
    teams = in_transaction(settings, admin, company, demo_requests.setup_teams)
    if teams:
        clock.note(f"{teams} service teams")
    requests, answered, open_ = in_transaction(settings, admin, company,
        lambda: demo_requests.create_requests(today, seed))
    clock.note(f"{requests} requests and complaints, {answered} answered, "
        f"{open_} open")
    called = in_transaction(settings, admin, company,
        lambda: demo_survey.call_surveys(seed))
    clock.note("satisfaction surveys called: " + ", ".join(
            f"{count} {outcome}" for outcome, count in called.items()))
    responses = in_transaction(settings, admin, company,
        lambda: demo_survey.setup_campaign(today, seed=seed))
    clock.note(f"field survey campaign: {responses} households answered")
    counters = in_transaction(settings, admin, company,
        demo_queue.setup_counters)
    tickets = in_transaction(settings, admin, company,
        lambda: demo_queue.past_tickets(today, seed=seed))
    clock.note(f"{counters} counters at the service centres, {tickets} "
        "queue tickets of the last fortnight")
    in_transaction(settings, admin, company,
        demo_connection.setup_connections)
    applications = in_transaction(settings, admin, company,
        lambda: demo_connection.create_applications(today, seed))
    clock.note(f"new connections: {applications}")
    opened, scheduled, reestimated = in_transaction(settings, admin, company,
        lambda: demo_inspection.create_work_orders(today))
    clock.note(f"field work orders: {opened} from held readings, "
        f"{scheduled} scheduled to the inspector, {reestimated} faulty meter "
        "replaced and its consumption re-estimated")
    orders = in_transaction(settings, admin, company,
        lambda: demo_inspection.create_maintenance(today))
    clock.note(f"meter test cycles and a maintenance plan per area: {orders} "
        "periodic maintenance work orders")
    violations = in_transaction(settings, admin, company,
        lambda: demo_inspection.create_violations(today))
    clock.note(f"{violations} violations: a bypass notified with its "
        "invoice, a broken seal priced, an illegal connection to cut")


PORTAL_EMAIL = 'subscriber@example.com'
# the role of a subscription's row in the logins file: its activation code
ACTIVATION_ROLE = 'activation-code'


def create_portal_user(settings, admin, company, clock):
    """A subscriber of the portal (/<database>/portal/) holding the first
    subscription with a posted bill; return its rows of the logins file:
    the login, and the subscription's activation code (as printed on its
    bills) to sign up again with"""
    from trytond.pool import Pool

    password = demo_passwords([PORTAL_EMAIL])[PORTAL_EMAIL]

    def work():
        pool = Pool()
        Bill = pool.get('water.bill')
        WebUser = pool.get('web.user')
        bills = Bill.search([
                ('state', '=', 'posted'),
                ('subscription.state', '=', 'active'),
                ], order=[('subscription', 'ASC'), ('month', 'DESC')],
            limit=1)
        if not bills:
            return None
        subscription = bills[0].subscription
        WebUser.delete(WebUser.search([('email', '=', PORTAL_EMAIL)]))
        WebUser.create([{
                    'email': PORTAL_EMAIL,
                    'email_valid': True,
                    'party': subscription.party.id,
                    'password': password,
                    'water_subscriptions': [('add', [subscription.id])],
                    }])
        return subscription.number, subscription.portal_code

    number, code = in_transaction(settings, admin, company, work) or (
        None, None)
    if not number:
        return []
    clock.note(f"portal subscriber {PORTAL_EMAIL} holds subscription "
        f"{number}: {URL}{settings.database}/portal/")
    return [(PORTAL_EMAIL, 'subscriber', password),
        (number, ACTIVATION_ROLE, code)]


def create_stock(settings, admin, company, stock):
    from trytond.pool import Pool

    def work():
        Meter = Pool().get('water.meter')
        Meter.create([dict(m, company=company) for m in stock])

    in_transaction(settings, admin, company, work)


def summary(settings, admin, company):
    "Return counts of what the database holds, for the report"
    from trytond.pool import Pool

    def work():
        pool = Pool()
        Subscription = pool.get('water.subscription')
        Meter = pool.get('water.meter')
        Route = pool.get('water.route')
        Area = pool.get('water.area')
        Party = pool.get('party.party')
        states = Counter()
        for state in ['application', 'active', 'closed']:
            states[state] = Subscription.search_count(
                [('state', '=', state)])
        meters = Counter()
        for state in ['in_stock', 'installed', 'removed']:
            meters[state] = Meter.search_count([('state', '=', state)])
        result = {
            'areas': Area.search_count([]),
            'routes': Route.search_count([]),
            'parties': Party.search_count([]),
            'subscriptions': dict(states),
            'meters': dict(meters),
            }
        return result

    return in_transaction(settings, admin, company, work, readonly=True)


# --- logins file -----------------------------------------------------------

def write_logins(database, rows, path=LOGINS_FILE):
    """Write the logins of database into path, sites/logins.txt by default
    (mode 600)

    The file holds one block per database; the block of this database is
    replaced, the others are kept.
    """
    header = f'# database: {database}'
    blocks, current = [], None
    if path.exists():
        for line in path.read_text(encoding='utf-8').splitlines():
            if line.startswith('# database: '):
                current = [line]
                blocks.append(current)
            elif current is not None:
                current.append(line)
    blocks = [b for b in blocks if b[0] != header]
    width = max(len(r[0]) for r in rows) + 2
    block = [header,
        f'# {URL}  (generated by tools/demo.py on '
        f'{dt.datetime.now():%Y-%m-%d %H:%M})',
        f'# {"login":<{width - 2}}{"role":<16}password']
    block += [f'{login:<{width}}{role:<16}{password}'
        for login, role, password in rows]
    blocks.append(block + [''])
    text = '\n'.join(line for b in blocks for line in b).rstrip('\n') + '\n'
    write_private(path, text)
    return '\n'.join(block)


def read_logins(database, path=LOGINS_FILE):
    "Return {login: (role, password)} of database from sites/logins.txt"
    result, inside = {}, False
    for line in Path(path).read_text(encoding='utf-8').splitlines():
        if line.startswith('# database: '):
            inside = line == f'# database: {database}'
        elif inside and line.strip() and not line.startswith('#'):
            login, role, password = line.split(None, 2)
            result[login] = (role, password)
    return result


# --- main ------------------------------------------------------------------

def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description="Build a demo database of the water utility.")
    parser.add_argument('--database', '-d', required=True,
        help="database name (SQLite: sites/NAME.sqlite)")
    parser.add_argument('--subscriptions', '-n', type=int, default=300,
        help="number of subscriptions, all states included (default 300)")
    default_config = REPO / 'config' / 'trytond.conf'
    parser.add_argument('--config', '-c',
        default=(str(default_config) if default_config.exists()
            else os.environ.get('TRYTOND_CONFIG')),
        help="trytond configuration file (default config/trytond.conf)")
    parser.add_argument('--seed', type=int, default=42,
        help="seed of the generated data (default 42)")
    # trytond's ModelStorage.__init__ asserts over every id of the browsed
    # list: a create() of n records costs n² there.  100 per transaction
    # was the fastest (SQLite, 1000 subscriptions: 100 -> 27 s, 250 -> 30 s,
    # 500 -> 44 s).
    parser.add_argument('--batch', type=int, default=100,
        help="subscriptions per transaction (default 100)")
    parser.add_argument('--logins', type=Path, default=LOGINS_FILE,
        help="file of the demo logins (default sites/logins.txt)")
    parser.add_argument('--no-payments', dest='payments',
        action='store_false',
        help="post the bills without paying them at the cash desk (the "
        "payments go one by one through the ORM: slow for large demos)")
    args = parser.parse_args(argv)
    if args.subscriptions < 0:
        parser.error("--subscriptions must be positive")
    if args.batch < 1:
        parser.error("--batch must be at least 1")
    return args


def main(argv=None):
    args = parse_args(argv)
    config_file = (str(Path(args.config).expanduser().resolve())
        if args.config else None)
    # Relative paths of the configuration (path = sites) are relative to
    # the repository root, as for make run and the Procfile
    os.chdir(REPO)
    workdir = tempfile.mkdtemp(prefix='water-demo-')
    try:
        return build(args, config_file, workdir)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


def build(args, config_file, workdir):
    logging.basicConfig(level=logging.WARNING,
        format='%(levelname)s %(name)s: %(message)s')
    clock = Clock()
    today = local_today()
    settings = load_settings(args.database, config_file, workdir)
    where = (str(settings.sqlite_file) if settings.backend == 'sqlite'
        else f"{hide_password(settings.uri)} database {args.database}")
    print(f"Demo water utility: {args.subscriptions} subscriptions into "
        f"{where} (seed {args.seed})")

    count = existing_subscriptions(settings)
    if count:
        raise DemoError(
            f"database {args.database} already holds {count} "
            "subscriptions: tools/demo.py fills new databases only.\n"
            "Rebuild it with `make demo`, or remove it first "
            + (f"(rm {settings.sqlite_file})." if settings.backend == 'sqlite'
                else f"(dropdb {args.database})."))

    clock.phase("1/7 database, modules water_utility and dependencies, "
        "Arabic (trytond-admin)")
    password, source = admin_password()
    clock.note({
            'env': "admin password from TRYTON_ADMIN_PASSWORD",
            'file': f"admin password from {ADMIN_PASSWORD_FILE}",
            'new': f"admin password generated into {ADMIN_PASSWORD_FILE}",
            }[source])
    create_database(settings, clock)
    run_trytond_admin(settings, password, workdir)
    clock.done()

    clock.phase("2/7 company, chart of accounts, fiscal year (proteus)")
    admin, company = setup_company(settings, clock)
    clock.done()

    clock.phase("3/7 demo users, service areas, reading routes")
    subs, routes, stock = plan(args.subscriptions, args.seed, today)
    logins = setup_users(settings, admin, company, clock)
    readers = [login for login, role, _ in logins if role == 'reader']
    area_ids, route_ids = setup_areas(
        settings, admin, company, routes, readers, today, clock)
    refs = load_references(settings, admin, company)
    clock.done()

    clock.phase(f"4/7 {len(subs)} subscriptions with subscribers and "
        f"meters (batches of {args.batch})")
    create_subscriptions(settings, admin, company, subs, area_ids,
        route_ids, refs, args.batch, clock)
    create_stock(settings, admin, company, stock)
    clock.done(f"{len(subs)} subscriptions, "
        f"{sum(1 for s in subs if s.meter) + len(stock)} meters")

    clock.phase("5/7 meter readings of the last four months and this "
        "month (handheld files)")
    create_readings(settings, admin, company, today, args.seed, clock)
    clock.done()

    clock.phase("6/7 tariff and monthly bills of the months read")
    create_bills(settings, admin, company, today, args.seed, args.payments,
        clock)
    clock.done()

    clock.phase("7/7 summary")
    portal_rows = create_portal_user(settings, admin, company, clock)
    counts = summary(settings, admin, company)
    admin_row = ('admin', 'administrator',
        password if source != 'env' else '(TRYTON_ADMIN_PASSWORD)')
    block = write_logins(
        args.database, [admin_row] + logins + portal_rows, args.logins)
    clock.note(f"areas {counts['areas']}, routes {counts['routes']}, "
        f"parties {counts['parties']}")
    clock.note("subscriptions " + ', '.join(
            f"{k} {v}" for k, v in counts['subscriptions'].items()))
    clock.note("meters " + ', '.join(
            f"{k} {v}" for k, v in counts['meters'].items()))
    clock.done()

    print("\nTimings:")
    for title, elapsed in clock.timings:
        print(f"  {elapsed:7.1f} s  {title}")
    print(f"  {clock.total:7.1f} s  total")
    print(f"\nTryton water utility: {URL}")
    print(f"Database: {args.database}")
    print(f"Logins (also in {args.logins}):")
    print(block)
    return 0


if __name__ == '__main__':
    try:
        sys.exit(main())
    except DemoError as error:
        print(f"\ntools/demo.py: {error}", file=sys.stderr)
        sys.exit(1)
    except KeyboardInterrupt:
        sys.exit(130)
