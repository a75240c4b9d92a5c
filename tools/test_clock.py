#!/usr/bin/env python3
"""Run make test with the clock shifted to the moments a date error shows.

    python tools/test_clock.py [moment ...]    (make test-clock)

moments (all of them by default):
  year-end        the next 31 December, 23:30 in Gaza: the year ends during
                  the run, in Gaza before UTC
  friday-evening  the next Friday, 20:00 in Gaza: the centres are closed
  gaza-midnight   the next 1st of a month, 00:30 in Gaza: 22:30 UTC the day
                  before, the month already changed in Gaza only
  year-ahead      one year from now

Each run shifts the clock of every process it starts by a constant offset
with Debian's libfaketime (LD_PRELOAD, FAKETIME=+<seconds>): the tests, the
portal's server, trytond's PostgreSQL (a cluster of its own, started under
the same clock in a temporary folder, since the machine's server keeps the
real one) and the browser tests' demo.  The caches of test databases are
the run's own, made under the shifted clock.  The browser keeps the real
clock.

Exit status: 0 when make test passed at every moment.
"""
import argparse
import calendar
import datetime as dt
import os
import pwd
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from zoneinfo import ZoneInfo

REPO = Path(__file__).resolve().parent.parent
GAZA = ZoneInfo('Asia/Gaza')
LIBFAKETIME = [
    '/usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1',
    '/usr/lib/aarch64-linux-gnu/faketime/libfaketime.so.1',
    ]


def year_end(now):
    target = dt.datetime(now.year, 12, 31, 23, 30, tzinfo=GAZA)
    if target <= now:
        target = target.replace(year=now.year + 1)
    return target


def friday_evening(now):
    day = now.date() + dt.timedelta(days=(4 - now.weekday()) % 7)
    target = dt.datetime.combine(day, dt.time(20), tzinfo=GAZA)
    if target <= now:
        target += dt.timedelta(days=7)
    return target


def gaza_midnight(now):
    year, month = divmod(now.year * 12 + now.month, 12)
    return dt.datetime(year, month + 1, 1, 0, 30, tzinfo=GAZA)


def year_ahead(now):
    day = min(now.day, calendar.monthrange(now.year + 1, now.month)[1])
    return now.replace(year=now.year + 1, day=day)


MOMENTS = {
    'year-end': year_end,
    'friday-evening': friday_evening,
    'gaza-midnight': gaza_midnight,
    'year-ahead': year_ahead,
    }


def libfaketime():
    for path in LIBFAKETIME:
        if os.path.exists(path):
            return path
    sys.exit("libfaketime is missing: apt-get install faketime")


def free_port():
    with socket.socket() as sock:
        sock.bind(('127.0.0.1', 0))
        return sock.getsockname()[1]


def postgresql_bin():
    versions = sorted(Path('/usr/lib/postgresql').glob('*/bin/initdb'),
        key=lambda p: int(p.parent.parent.name))
    if not versions:
        sys.exit("PostgreSQL's initdb is missing (Debian's postgresql)")
    return versions[-1].parent


class Cluster:
    "A PostgreSQL cluster of its own, on the shifted clock"

    def __init__(self, folder, env):
        self.folder = folder
        self.data = folder / 'data'
        self.port = free_port()
        self.env = env
        self.bin = postgresql_bin()
        # initdb refuses to run as root
        self.user = 'postgres' if os.geteuid() == 0 else None

    def run(self, *args):
        command = [str(a) for a in args]
        if self.user:
            command = ['runuser', '-u', self.user, '--'] + command
        subprocess.run(command, env=self.env, check=True,
            stdout=subprocess.DEVNULL)

    def start(self):
        if self.user:
            uid = pwd.getpwnam(self.user).pw_uid
            os.chown(self.folder, uid, -1)
        self.run(self.bin / 'initdb', '-D', self.data, '-U', 'postgres',
            '-A', 'trust', '-E', 'UTF8')
        self.run(self.bin / 'pg_ctl', '-D', self.data, '-l',
            self.folder / 'server.log', '-w', '-o',
            f'-p {self.port} -k {self.folder} -c listen_addresses=127.0.0.1 '
            '-c fsync=off -c full_page_writes=off '
            '-c synchronous_commit=off', 'start')
        return f'postgresql://postgres@127.0.0.1:{self.port}/'

    def stop(self):
        try:
            self.run(self.bin / 'pg_ctl', '-D', self.data, '-m', 'fast',
                '-w', 'stop')
        except subprocess.CalledProcessError:
            pass


def run(name, target, make):
    now = dt.datetime.now(dt.timezone.utc)
    offset = int((target - now).total_seconds())
    print(f"\n=== {name}: make test at {target:%A %d %B %Y %H:%M} in Gaza "
        f"({target.astimezone(dt.timezone.utc):%H:%M} UTC), "
        f"clock shifted by {offset} s ===", flush=True)
    folder = Path(tempfile.mkdtemp(prefix=f'water-clock-{name}-'))
    folder.chmod(0o755)
    env = dict(os.environ, LD_PRELOAD=libfaketime(), FAKETIME=f'+{offset}')
    cluster = Cluster(folder, env)
    try:
        uri = cluster.start()
        env.update(TRYTOND_DATABASE__URI=uri, REQUIRE_POSTGRESQL='1',
            TEST_CACHE_ROOT=str(folder / 'cache'))
        started = time.monotonic()
        result = subprocess.run([make, '--no-print-directory', 'test'],
            cwd=REPO, env=env)
        print(f"=== {name}: make test {'passed' if not result.returncode else 'FAILED'}"
            f" in {time.monotonic() - started:.0f} s ===", flush=True)
        return result.returncode == 0
    finally:
        cluster.stop()
        shutil.rmtree(folder, ignore_errors=True)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('moments', nargs='*', metavar='moment',
        help=', '.join(MOMENTS) + " (default: all)")
    parser.add_argument('--make', default=os.environ.get('MAKE', 'make'))
    args = parser.parse_args(argv)
    unknown = set(args.moments) - set(MOMENTS)
    if unknown:
        parser.error(f"unknown moment: {', '.join(sorted(unknown))}")
    now = dt.datetime.now(GAZA)
    results = {name: run(name, MOMENTS[name](now), args.make)
        for name in args.moments or list(MOMENTS)}
    print("\n=== make test with the clock shifted ===")
    for name, passed in results.items():
        print(f"{name}: {'passed' if passed else 'FAILED'}")
    return 0 if all(results.values()) else 1


if __name__ == '__main__':
    sys.exit(main())
