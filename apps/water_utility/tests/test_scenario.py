# This file is part of the water_utility module.  See README.rst.
import doctest
import unittest

from trytond.tests.test_tryton import load_doc_tests

from .tools import unpin_clock


def _scenarios(suite):
    for test in suite:
        if isinstance(test, unittest.TestSuite):
            yield from _scenarios(test)
        elif isinstance(test, doctest.DocTestCase):
            yield test


def load_tests(*args, **kwargs):
    suite = load_doc_tests(__name__, __file__, *args, **kwargs)
    # a scenario that pinned its clock leaves the real one to the next
    for test in _scenarios(suite):
        def tear_down(test, tear_down=test._dt_tearDown):
            try:
                if tear_down:
                    tear_down(test)
            finally:
                unpin_clock()
        test._dt_tearDown = tear_down
    return suite
