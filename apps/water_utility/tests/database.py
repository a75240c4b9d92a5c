# This file is part of the water_utility module.  See README.rst.
"""The tests' transactions: locks taken up front

trytond asks for a table lock by raising TransactionError, and its
with_transaction restarts the whole test with the lock taken: a test that
needs four locks runs five times, its set-up (company, chart, fiscal year,
subscriptions) included.  The tables locked once are locked from the start
of every later test of the process; in a test's single transaction this
changes nothing but the restarts.
"""
from functools import wraps

from trytond.cache import Cache
from trytond.tests.test_tryton import DB_NAME
from trytond.transaction import Transaction, TransactionError

__all__ = ['with_transaction']

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
