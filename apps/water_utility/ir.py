# This file is part of the water_utility module.  See README.rst.
import os

import polib

from trytond.ir.translation import INTERNAL_LANG
from trytond.pool import Pool, PoolMeta

MODULE = 'water_utility'
SOURCE_TYPES = {'report', 'view', 'wizard_button', 'selection'}


class Translation(metaclass=PoolMeta):
    __name__ = 'ir.translation'

    @classmethod
    def translation_import(cls, lang, module, po_path):
        # Tryton ships no Arabic: our locale/override/ar.po translates the
        # core strings staff see all day (party forms, generic errors), but
        # an override only updates an existing row of the language.
        if module == MODULE:
            paths = [po_path] if isinstance(po_path, str) else po_path
            cls._create_override_rows(lang, [
                    p for p in paths
                    if os.path.basename(os.path.dirname(p)) == 'override'])
        return super().translation_import(lang, module, po_path)

    @classmethod
    def _create_override_rows(cls, lang, po_paths):
        "Create the rows of lang that the override entries will update"
        pool = Pool()
        ModelData = pool.get('ir.model.data')

        def key(name, res_id, type_, module, src):
            return (name, res_id, type_, module,
                src if type_ in SOURCE_TYPES else None)

        wanted = set()
        for path in po_paths:
            for entry in polib.pofile(path):
                if entry.obsolete:
                    continue
                translation, res_id = cls.from_poentry(entry)
                module, _, fs_id = res_id.partition('.')
                db_id = ModelData.get_id(module, fs_id) if fs_id else -1
                wanted.add(key(translation.name, db_id, translation.type,
                        module, translation.src))
        if not wanted:
            return
        domain = [
            ('name', 'in', list({k[0] for k in wanted})),
            ('module', 'in', list({k[3] for k in wanted})),
            ]

        def keys(rows):
            return {key(r.name, r.res_id, r.type, r.module, r.src): r
                for r in rows}
        existing = keys(cls.search(domain + [('lang', '=', lang)]))
        sources = keys(cls.search(domain + [('lang', '=', INTERNAL_LANG)]))
        cls.create([{
                    'name': source.name,
                    'res_id': source.res_id,
                    'lang': lang,
                    'type': source.type,
                    'src': source.src,
                    'src_plural': source.src_plural,
                    'module': source.module,
                    'value': '',
                    'fuzzy': False,
                    } for k, source in sources.items()
                if k in wanted and k not in existing])


class Cron(metaclass=PoolMeta):
    __name__ = 'ir.cron'

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls.method.selection.extend([
                ('water.reading.period|schedule_cron',
                    "Open Monthly Reading Periods"),
                ('account.dunning|water_run', "Climb the Collection Ladder"),
                ('water.settlement|check_missed',
                    "Check Missed Settlement Instalments"),
                ('water.reward|grant_cron', "Grant On-Time Payment Rewards"),
                ('water.request|check_deadlines',
                    "Warn and Escalate Request Deadlines"),
                ])
