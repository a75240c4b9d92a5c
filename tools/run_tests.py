#!/usr/bin/env python3
"""Run the module's tests of one kind and say where the time goes.

    python tools/run_tests.py --kind pure|db|all [--durations 15] [name ...]

`make test` runs the pure tests (no database: the rules and their property
tests) once, and the database tests (unit tests and scenarios) once per
backend; the backend is trytond's, from TRYTOND_DATABASE__URI.  Names are
those of unittest (a module, a class or a test of the tests package) and
narrow the run.

The output is unittest's, then the slowest tests and test classes (the
setUpClass of a class counts for it), so that a slow test is seen the day it
comes in.
"""
import argparse
import os
import sys
import time
import unittest
from collections import defaultdict

PACKAGE = 'trytond.modules.water_utility.tests'


def iter_tests(suite):
    for test in suite:
        if isinstance(test, unittest.TestSuite):
            yield from iter_tests(test)
        else:
            yield test


def is_pure(test):
    "Whether the test needs no database"
    import doctest

    from trytond.tests.test_tryton import _DBTestCase
    if isinstance(test, (_DBTestCase, doctest.DocTestCase)):
        return False
    # a module that failed to import: show its error with the database
    # tests, which are run on every backend
    return not isinstance(test, unittest.loader._FailedTest)


def group(test):
    "The class of a test, or the file of a scenario"
    import doctest
    if isinstance(test, doctest.DocTestCase):
        return os.path.basename(test._dt_test.filename)
    return '%s.%s' % (type(test).__module__.rsplit('.', 1)[-1],
        type(test).__qualname__)


def name(test):
    import doctest
    if isinstance(test, doctest.DocTestCase):
        return group(test)
    return '%s.%s' % (group(test), test._testMethodName)


class TimedResult(unittest.TextTestResult):
    "Times every test and the gap before it (a class's setUpClass)"

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.times = {}
        self.groups = defaultdict(float)
        self._last = time.perf_counter()
        self._start = None

    def startTest(self, test):
        now = time.perf_counter()
        # the class set-up runs between the previous test and this one
        self.groups[group(test)] += now - self._last
        self._start = now
        super().startTest(test)

    def stopTest(self, test):
        super().stopTest(test)
        now = time.perf_counter()
        self.times[name(test)] = now - self._start
        self.groups[group(test)] += now - self._start
        self._last = now


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--kind', choices=['pure', 'db', 'all'],
        default='all')
    parser.add_argument('--durations', type=int, default=15,
        help="how many of the slowest tests and classes to list")
    parser.add_argument('--verbose', '-v', action='store_true')
    parser.add_argument('names', nargs='*')
    args = parser.parse_args(argv)

    loader = unittest.TestLoader()
    if args.names:
        suite = loader.loadTestsFromNames(
            [n if n.startswith('trytond.') else f'{PACKAGE}.{n}'
                for n in args.names])
    else:
        suite = loader.discover(PACKAGE)
    tests = [t for t in iter_tests(suite)
        if args.kind == 'all' or is_pure(t) == (args.kind == 'pure')]
    # the tests stay in discovery order: a class's tests together
    suite = unittest.TestSuite(tests)

    runner = unittest.TextTestRunner(
        resultclass=TimedResult, verbosity=2 if args.verbose else 1,
        stream=sys.stderr)
    started = time.perf_counter()
    result = runner.run(suite)
    elapsed = time.perf_counter() - started
    if args.durations:
        out = sys.stderr
        print(f"\nSlowest test classes and scenarios ({elapsed:.0f} s in all):",
            file=out)
        for key, seconds in sorted(result.groups.items(),
                key=lambda i: -i[1])[:args.durations]:
            print(f"{seconds:8.1f} s  {key}", file=out)
        print("Slowest tests:", file=out)
        for key, seconds in sorted(result.times.items(),
                key=lambda i: -i[1])[:args.durations]:
            print(f"{seconds:8.1f} s  {key}", file=out)
    return 0 if result.wasSuccessful() else 1


if __name__ == '__main__':
    sys.exit(main())
