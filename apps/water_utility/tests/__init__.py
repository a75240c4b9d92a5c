# This file is part of the water_utility module.  See README.rst.
import functools

from trytond import backend
from trytond import config
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
