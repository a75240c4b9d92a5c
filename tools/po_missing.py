#!/usr/bin/env python
"""The strings of water_utility that locale/ar.po does not translate yet

    .venv/bin/python tools/po_missing.py [--merge FILE]

Activates the module in an in-memory SQLite database, lets Tryton collect
every translatable string (labels, help, selections, views, messages,
reports), exports the Arabic catalogue and prints, as a .po file, the entries
that locale/ar.po lacks.  With --merge FILE, the translated entries of FILE
(the printed file with msgstr filled) are added to locale/ar.po, sorted as
Tryton exports them; entries ar.po no longer needs are listed on stderr.
"""
import argparse
import os
import pathlib
import sys

import polib

MODULE = pathlib.Path(__file__).resolve().parent.parent / 'apps' / (
    'water_utility')
CATALOG = MODULE / 'locale' / 'ar.po'


def key(entry):
    return (entry.msgctxt or '', entry.msgid)


def export():
    "The Arabic catalogue Tryton exports for the module, as a polib file"
    os.environ.pop('TRYTOND_CONFIG', None)
    os.environ['TRYTOND_DATABASE__URI'] = 'sqlite://'
    os.environ['DB_NAME'] = ':memory:'
    from trytond.tests.test_tryton import (
        activate_module, with_transaction)
    from trytond.pool import Pool
    from trytond.transaction import Transaction

    activate_module('water_utility')
    result = {}

    @with_transaction()
    def run():
        pool = Pool()
        Lang = pool.get('ir.lang')
        Translation = pool.get('ir.translation')
        ar, = Lang.search([('code', '=', 'ar')])
        Lang.write([ar], {'translatable': True})
        Set = pool.get('ir.translation.set', type='wizard')
        session_id, _, _ = Set.create()
        Set(session_id).transition_set_()
        Update = pool.get('ir.translation.update', type='wizard')
        session_id, _, _ = Update.create()
        update = Update(session_id)
        update.start.language = ar
        update.do_update({})
        Transaction().commit()
        result['po'] = Translation.translation_export('ar', 'water_utility')

    run()
    return polib.pofile(result['po'].decode('utf-8'))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--merge', metavar='FILE',
        help="add the translated entries of FILE to locale/ar.po")
    args = parser.parse_args()
    catalog = polib.pofile(str(CATALOG))
    if args.merge:
        known = {key(e) for e in catalog}
        for entry in polib.pofile(args.merge):
            if entry.msgstr and key(entry) not in known:
                catalog.append(entry)
        catalog[:] = sorted(catalog, key=key)
        catalog.save(str(CATALOG))
        return
    exported = export()
    known = {key(e) for e in catalog}
    wanted = {key(e) for e in exported}
    missing = polib.POFile()
    missing.metadata = catalog.metadata
    for entry in exported:
        if key(entry) not in known:
            entry.msgstr = ''
            missing.append(entry)
    sys.stdout.write(str(missing))
    for ctxt, msgid in sorted(known - wanted):
        print(f"no longer needed: {ctxt} {msgid!r}", file=sys.stderr)


if __name__ == '__main__':
    main()
