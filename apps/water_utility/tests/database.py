# This file is part of the water_utility module.  See README.rst.
"""The tests' databases: locks taken up front, set-ups committed once

trytond asks for a table lock by raising TransactionError, and its
with_transaction restarts the whole test with the lock taken: a test that
needs four locks runs five times, its set-up (company, chart, fiscal year,
subscriptions) included.  The tables locked once are locked from the start
of every later test of the process; in a test's single transaction this
changes nothing but the restarts.

Most tests start from the same utility: a company with its areas and routes,
a chart of accounts with its fiscal years and the services billed.  It is
built once, committed and kept in trytond's cache of test databases (DB_CACHE,
which make test keys by the module's sources); a test case of
UtilityTestCase starts from a copy of it, and each test rolls back.
"""
import datetime as dt
import hashlib
import time
from functools import wraps
from pathlib import Path
from types import SimpleNamespace

import time_machine

from trytond import backend
from trytond.cache import Cache
from trytond.pool import Pool
from trytond.tests.test_tryton import (
    DB_NAME, _DBTestCase, activate_module, backup_db_cache, drop_db,
    restore_db_cache)
from trytond.transaction import Transaction, TransactionError

__all__ = ['with_transaction', 'committed', 'pinned', 'UtilityTestCase',
    'utility']

MODULE = 'water_utility'
# the tables every test of this process locks from the start
_LOCKED = []


def _learn(extras):
    "Remember the tables of the locks extras asks for"
    for table in extras.get('_lock_tables', []):
        if table not in _LOCKED:
            _LOCKED.append(table)
    # a table locked as a whole needs no lock of its records
    for table in extras.pop('_lock_records', {}):
        if table not in _LOCKED:
            _LOCKED.append(table)
    extras['_lock_tables'] = list(_LOCKED)


def with_transaction(user=1, context=None):
    "trytond's with_transaction, starting with the locks known so far"
    def decorator(func):
        @wraps(func)
        def wrapper(*args, **kwargs):
            extras = {'_lock_tables': list(_LOCKED)}
            while True:
                with Transaction().start(
                        DB_NAME, user, context=context,
                        **extras) as transaction:
                    try:
                        result = func(*args, **kwargs)
                    except TransactionError as e:
                        transaction.rollback()
                        transaction.tasks.clear()
                        e.fix(extras)
                        _learn(extras)
                        continue
                    finally:
                        transaction.rollback()
                        transaction.tasks.clear()
                        # the cache holds what the rollback undid
                        Cache.drop(DB_NAME)
                    return result
        return wrapper
    return decorator


def committed(func, user=1, **kwargs):
    """Run func in a transaction and commit it, retrying as the RPC
    dispatcher does (locks asked for, serialization failures)"""
    extras = {}
    for attempt in range(100):
        try:
            with Transaction().start(
                    DB_NAME, user, **kwargs, **extras) as transaction:
                try:
                    result = func()
                except TransactionError as error:
                    transaction.rollback()
                    error.fix(extras)
                    continue
                transaction.commit()
                return result
        except backend.DatabaseOperationalError as error:
            # the lock is held by another transaction: try again
            last = error
            time.sleep(0.05)
    # not a lock, then (a table missing, …): the error itself
    raise last


# Monday 7 December 2026, 10:00 in Gaza: the tests of a fixed calendar in
# October to December 2026 were checked at that time
CHECKED = dt.datetime(2026, 12, 7, 8, 0)


def pinned(moment=CHECKED):
    """Run the tests of a class, its set-up included, at moment (naive,
    UTC), the clock ticking from there: for tests of a fixed calendar whose
    code under test also reads the clock (a default date of today, the
    deadline cron)"""
    return time_machine.travel(
        moment.replace(tzinfo=dt.timezone.utc), tick=True)


def _sources_digest():
    "A digest of the tests' code: the cached set-ups change with it"
    digest = hashlib.sha1()
    for path in sorted(Path(__file__).parent.glob('*.py')):
        digest.update(path.read_bytes())
    return digest.hexdigest()[:12]


def fiscal_years(today=None):
    """The fiscal years of the utility: 2026, where the tests of a fixed
    calendar live, and from last year to next year around today"""
    today = today or dt.date.today()
    return range(min(2026, today.year - 1), max(2026, today.year + 1) + 1)


def build_utility(arabic=False):
    """A company with two areas and their routes, a chart of accounts with
    a 20 % tax and the fiscal years, a payment term in two instalments and
    the services billed; the Arabic translation of the module if asked"""
    from trytond.modules.company.tests import set_company

    from . import test_billing as billing
    from . import test_module as base
    company, *_ = base.create_utility()
    with set_company(company):
        revenue, _ = billing.setup_accounting(company, fiscal_years())
        billing.create_products(revenue)
    if arabic:
        Translation = Pool().get('ir.translation')
        Translation.translation_import('ar', MODULE, [
                str(base.MODULE / 'locale' / 'ar.po')])


def utility():
    """The records of the utility of UtilityTestCase, in the current
    transaction"""
    pool = Pool()
    Company = pool.get('company.company')
    Area = pool.get('water.area')
    Route = pool.get('water.route')
    Account = pool.get('account.account')
    PaymentTerm = pool.get('account.invoice.payment_term')
    Product = pool.get('product.product')
    ModelData = pool.get('ir.model.data')
    Category = pool.get('water.subscription.category')
    # the first: a test of concurrency commits companies of its own
    company, = Company.search([], order=[('id', 'ASC')], limit=1)
    # the records read the company's values (the products' accounts)
    with Transaction().set_context(company=company.id):
        company = Company(company.id)
        area, = Area.search([
                ('company', '=', company.id), ('code', '=', 'GZ')])
        route, = Route.search([
                ('area', '=', area.id), ('code', '=', 'GZ-01')])
        other_route, = Route.search([
                ('area.company', '=', company.id), ('code', '=', 'RF-01')])
        revenue, = Account.search([
                ('type.revenue', '=', True), ('company', '=', company.id),
                ('closed', '!=', True)], limit=1)
        term, = PaymentTerm.search([('name', '=', "Two instalments")])
        products = {p.template.name: p for p in Product.search([
                    ('template.name', 'in',
                        ['water', 'fixed', 'meter', 'sewage', 'welfare']),
                    ])}
        domestic = Category(ModelData.get_id(MODULE, 'category_domestic'))
    return SimpleNamespace(
        company=company, area=area, route=route,
        other_route=other_route, other_area=other_route.area,
        domestic=domestic, revenue=revenue, term=term, products=products)


class UtilityTestCase(_DBTestCase):
    """Tests that start from the utility (see utility()), built once and
    copied from the cache of test databases

    setUpDatabase, when a test case defines it, adds what all its tests
    share: it runs once, committed, with the company set.  A test case
    whose documents are checked in Arabic sets arabic: the module's Arabic
    translation is imported (a quarter of a minute) in its cached copy."""
    module = MODULE
    arabic = False

    @classmethod
    def setUpClass(cls):
        # not _DBTestCase's database of the bare module: the utility's
        super(_DBTestCase, cls).setUpClass()
        years = fiscal_years()
        name = (f'{MODULE}--utility-{years.start}-{years.stop - 1}'
            f'{"-ar" if cls.arabic else ""}-{_sources_digest()}')
        drop_db()
        if not restore_db_cache(name):
            activate_module([MODULE])
            committed(lambda: build_utility(cls.arabic))
            backup_db_cache(name)
        if hasattr(cls, 'setUpDatabase'):
            def setup():
                from trytond.modules.company.tests import set_company
                with set_company(utility().company):
                    return cls.setUpDatabase()
            committed(setup)
