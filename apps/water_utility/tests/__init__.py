# This file is part of the water_utility module.  See README.rst.
import functools
import hashlib
import os

from trytond import backend
from trytond import config
from trytond.tests import test_tryton
from trytond.tools import misc

# An in-memory SQLite database has a single connection shared by every
# transaction.  Every cache clean_timeout (300 s) trytond's Cache.sync takes that
# connection in autocommit mode at the start of a transaction, and the test
# running then commits its records into the database of the tests that follow
# (a user or a cash day "already existing" minutes later).  Tests run in one
# process, so the cross-process cache sync has nothing to do: keep it off.
if backend.name == 'sqlite':
    config.set('cache', 'clean_timeout', str(10 ** 9))

# trytond resolves "trytond.modules.<name>" by scanning every entry point of
# the environment each time (tools.misc.import_module, about 0.35 ms); the
# generic checks of ModuleTestCase resolve some 40,000 names through
# pool.isregisteredby, a minute and a half per backend.  A module, once
# found, stays the same for the process.
misc.import_module = functools.cache(misc.import_module)

# On PostgreSQL make test keeps trytond's cached test databases as template
# databases (DB_CACHE=postgresql://...): a copy takes a third of a second
# where pg_restore of a dump takes five, for each test case and scenario.
# trytond names a template after the modules and set-up only; the name
# carries DB_CACHE_KEY too (make test's digest of the sources), so that
# another version of the module never starts from a stale template.
if ((key := os.environ.get('DB_CACHE_KEY'))
        and (test_tryton.DB_CACHE or '').startswith('postgresql://')):
    def _db_cache_file(path, name):
        digest = hashlib.shake_128(name.encode('utf-8')).hexdigest(16)
        return f'{path}/wtest-{key}-{digest}'
    test_tryton._db_cache_file = _db_cache_file
