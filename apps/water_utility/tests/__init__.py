# This file is part of the water_utility module.  See README.rst.
from trytond import backend
from trytond import config

# An in-memory SQLite database has a single connection shared by every
# transaction.  Every cache clean_timeout (300 s) trytond's Cache.sync takes that
# connection in autocommit mode at the start of a transaction, and the test
# running then commits its records into the database of the tests that follow
# (a user or a cash day "already existing" minutes later).  Tests run in one
# process, so the cross-process cache sync has nothing to do: keep it off.
if backend.name == 'sqlite':
    config.set('cache', 'clean_timeout', str(10 ** 9))
