#!/usr/bin/env python3
"""How fast the desk finds a subscription (charter point 7: account requests
are answered within 45 minutes; finding the account must take no time).

    python bench/search.py [--database water] [--config config/trytond.conf]
        [--repeat 20]

Runs against an existing demo database (make run or make demo N=5000) and
prints, for each way a subscriber identifies himself, the median and the
worst time of the search the desk client sends, with the number of
subscriptions, the backend and the machine.
"""
import argparse
import os
import platform
import statistics
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--database', '-d', default='water')
    parser.add_argument('--config', '-c',
        default=str(REPO / 'config' / 'trytond.conf'))
    parser.add_argument('--repeat', type=int, default=20)
    args = parser.parse_args()

    os.environ.setdefault('TRYTOND_DATABASE__PATH', str(REPO / 'sites'))
    from trytond import config
    config.update_etc(args.config)
    from trytond.pool import Pool
    from trytond.transaction import Transaction

    pool = Pool(args.database)
    pool.init()
    with Transaction().start(args.database, 0, readonly=True):
        User = pool.get('res.user')
        admin, = User.search([('login', '=', 'admin')])
        admin_id, company_id = admin.id, admin.company.id
    with Transaction().start(args.database, admin_id, readonly=True,
            context={'company': company_id}) as transaction:
        Subscription = pool.get('water.subscription')
        total = Subscription.search([], count=True)
        sample, = Subscription.search(
            [('state', '=', 'active')], order=[('number', 'DESC')], limit=1)
        party = sample.party
        words = party.name.split()
        # typed as heard: without hamza, ta marbuta as ha
        heard = (words[0].replace('أ', 'ا').replace('إ', 'ا')
            .replace('ة', 'ه'))
        cases = [
            ("number", sample.number),
            ("name as heard", f'{heard} {words[1]}'),
            ("phone, national form", '0' + (party.mobile or '')[4:]),
            ("national id", party.national_id or ''),
            ("meter serial", sample.meter.serial if sample.meter else ''),
            ]
        print(f"database {args.database} on "
            f"{os.environ.get('TRYTOND_DATABASE__URI', 'sqlite://')}")
        print(f"machine: {platform.node()} {platform.machine()} "
            f"{os.cpu_count()} cpu, python {platform.python_version()}")
        print(f"subscriptions: {total}, repeat: {args.repeat}")
        print(f"{'search':24} {'found':>6} {'median ms':>10} {'max ms':>8}")
        for label, text in cases:
            domain = [('rec_name', 'ilike', f'%{text}%')]
            timings = []
            for _ in range(args.repeat):
                transaction.cache.clear()
                start = time.perf_counter()
                found = Subscription.search(domain, limit=80)
                timings.append((time.perf_counter() - start) * 1000)
            hit = sample in found
            print(f"{label:24} {len(found):6d} "
                f"{statistics.median(timings):10.1f} {max(timings):8.1f}"
                + ("" if hit else "  (sample NOT found)"))
            if not hit:
                sys.exit(f"{label}: {text!r} did not find {sample.number}")


if __name__ == '__main__':
    main()
