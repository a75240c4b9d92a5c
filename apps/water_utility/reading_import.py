# This file is part of the water_utility module.  See README.rst.
import hashlib
from collections import defaultdict
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from sql.aggregate import Count

from trytond import backend
from trytond.i18n import gettext
from trytond.model import Index, ModelSQL, ModelView, fields
from trytond.pool import Pool
from trytond.pyson import Eval
from trytond.tools import grouped_slice
from trytond.transaction import Transaction
from trytond.wizard import Button, StateAction, StateView, Wizard

from . import bulk, reading_file
from .exceptions import ReadingImportError

FORMATS = [
    ('csv', "CSV (handheld)"),
    ('wmbus', "wmbusmeters JSON lines (AMR)"),
    ]
SOURCE = {
    'csv': 'handheld',
    'wmbus': 'amr',
    }
# rows validated and created together: the queries of a batch do not
# depend on its size
BATCH = 250


class Import(ModelSQL, ModelView):
    "Reading Import"
    __name__ = 'water.reading.import'
    __string__ = "Reading Import"

    company = fields.Many2One(
        'company.company', "Company", required=True, readonly=True)
    name = fields.Char("File Name", readonly=True)
    format = fields.Selection(FORMATS, "Format", readonly=True)
    encoding = fields.Char("Encoding", readonly=True)
    digest = fields.Char("SHA-256", readonly=True)
    same_as = fields.Many2One(
        'water.reading.import', "Same File As", readonly=True,
        states={
            'invisible': ~Eval('same_as'),
            },
        help="This file was imported before: its rows added nothing.")
    imported_at = fields.Function(
        fields.DateTime("Imported At", format='%H:%M'), 'get_imported_at')
    user = fields.Function(
        fields.Many2One('res.user', "Imported By"), 'get_user')
    rows = fields.One2Many(
        'water.reading.import.row', 'import_', "Rows", readonly=True)
    accepted = fields.Function(fields.Integer("Accepted"), 'get_counts')
    rejected = fields.Function(fields.Integer("Rejected"), 'get_counts')
    duplicates = fields.Function(
        fields.Integer("Already Imported"), 'get_counts')

    @classmethod
    def __setup__(cls):
        super().__setup__()
        t = cls.__table__()
        cls._sql_indexes.add(Index(t, (t.digest, Index.Equality())))
        cls._order = [('create_date', 'DESC'), ('id', 'DESC')]

    @classmethod
    def default_company(cls):
        return Transaction().context.get('company')

    def get_rec_name(self, name):
        return f'{self.name or self.id} ({self.create_date:%Y-%m-%d %H:%M})'

    def get_imported_at(self, name):
        return self.create_date.replace(second=0, microsecond=0)

    def get_user(self, name):
        return self.create_uid.id

    @classmethod
    def get_counts(cls, imports, names):
        pool = Pool()
        Row = pool.get('water.reading.import.row')
        row = Row.__table__()
        cursor = Transaction().connection.cursor()
        state2name = {
            'accepted': 'accepted',
            'rejected': 'rejected',
            'duplicate': 'duplicates',
            }
        result = {n: {i.id: 0 for i in imports} for n in names}
        for sub in grouped_slice(imports, backend.MAX_QUERY_PARAMS):
            cursor.execute(*row.select(
                    row.import_, row.state, Count(row.id),
                    where=fields.SQL_OPERATORS['in'](
                        row.import_, [i.id for i in sub]),
                    group_by=[row.import_, row.state]))
            for import_id, state, count in cursor:
                name = state2name.get(state)
                if name in result:
                    result[name][import_id] = count
        return result

    @classmethod
    def import_file(cls, data, name=None, format=None):
        """Import the bytes of a file of readings and return the Import

        A file that cannot be read raises one translated error; every row
        is kept, accepted or rejected with its reason.
        """
        pool = Pool()
        Row = pool.get('water.reading.import.row')
        try:
            format, encoding, rows = reading_file.parse(data, name, format)
        except reading_file.FileError as error:
            raise ReadingImportError(gettext(
                    'water_utility.msg_reading_import_' + error.code,
                    name=name or '', **error.params)) from error
        digest = hashlib.sha256(data).hexdigest()
        same = cls.search([('digest', '=', digest)], order=[('id', 'ASC')],
            limit=1)
        import_, = cls.create([{
                    'name': name,
                    'format': format,
                    'encoding': encoding,
                    'digest': digest,
                    'same_as': same[0].id if same else None,
                    }])
        source = SOURCE[format]
        for batch in grouped_slice(rows, BATCH):
            vlist = [{
                    'import_': import_.id,
                    'line': r.line,
                    'raw': r.raw,
                    'subscription_code': r.subscription,
                    'meter_code': r.meter,
                    'read_at': r.read_at,
                    'value': r.value,
                    'reader': r.reader,
                    'note_code': r.note,
                    'comment': r.comment,
                    'status': r.status,
                    'leak': r.leak,
                    'source': source,
                    } for r in batch]
            Row.process(vlist)
            bulk.insert(Row, vlist)
        return import_


class Row(ModelSQL, ModelView):
    "Reading Import Row"
    __name__ = 'water.reading.import.row'
    __string__ = "Reading Import Row"

    import_ = fields.Many2One(
        'water.reading.import', "Import", required=True, ondelete='CASCADE',
        readonly=True)
    line = fields.Integer("Line", readonly=True)
    raw = fields.Char("As Received", readonly=True)
    subscription_code = fields.Char("Subscription", states={
            'readonly': Eval('state') != 'rejected',
            })
    meter_code = fields.Char("Meter", states={
            'readonly': Eval('state') != 'rejected',
            })
    read_at = fields.Char("Date and Time", states={
            'readonly': Eval('state') != 'rejected',
            })
    value = fields.Char("Reading", states={
            'readonly': Eval('state') != 'rejected',
            })
    reader = fields.Char("Reader", readonly=True)
    note_code = fields.Char("Note", states={
            'readonly': Eval('state') != 'rejected',
            })
    comment = fields.Char("Comment", readonly=True)
    status = fields.Char("Meter Status", readonly=True)
    leak = fields.Boolean("Leak Flag", readonly=True)
    source = fields.Selection(
        [('handheld', "Handheld"), ('amr', "Automatic (AMR)")], "Source",
        readonly=True)
    state = fields.Selection([
            ('accepted', "Accepted"),
            ('rejected', "Rejected"),
            ('duplicate', "Already Imported"),
            ], "State", readonly=True, required=True)
    reason = fields.Char("Reason", readonly=True)
    reading = fields.Many2One(
        'water.reading', "Reading", readonly=True, ondelete='SET NULL')

    @classmethod
    def __setup__(cls):
        super().__setup__()
        t = cls.__table__()
        cls._sql_indexes.update({
                Index(t, (t.import_, Index.Range()), (t.line, Index.Range())),
                Index(t, (t.state, Index.Equality(cardinality='low')),
                    where=t.state == 'rejected'),
                })
        cls._order = [('import_', 'DESC'), ('line', 'ASC'), ('id', 'ASC')]
        cls._buttons.update({
                'resubmit': {
                    'invisible': Eval('state') != 'rejected',
                    'depends': ['state'],
                    },
                })

    @classmethod
    def default_state(cls):
        return 'rejected'

    @classmethod
    @ModelView.button
    def resubmit(cls, rows):
        "Process corrected rejected rows again"
        rows = [r for r in rows if r.state == 'rejected']
        names = ['import_', 'subscription_code', 'meter_code', 'read_at',
            'value', 'reader', 'note_code', 'comment', 'status', 'leak',
            'source']
        vlist = [{n: getattr(r, n) for n in names} for r in rows]
        for values, row in zip(vlist, rows):
            values['import_'] = row.import_.id
        cls.process(vlist)
        to_write = []
        for row, values in zip(rows, vlist):
            to_write.extend(([row], {
                        'state': values['state'],
                        'reason': values.get('reason'),
                        'reading': values.get('reading'),
                        }))
        if to_write:
            cls.write(*to_write)

    @classmethod
    def process(cls, vlist):
        """Validate row values and create their readings

        Each dict of vlist gets state, reason and reading.  Every query is
        made for the whole list (see BATCH).
        """
        pool = Pool()
        Reading = pool.get('water.reading')
        Note = pool.get('water.reading.note')
        Period = pool.get('water.reading.period')
        Area = pool.get('water.area')
        Route = pool.get('water.route')
        if not vlist:
            return vlist

        def reject(values, message, **params):
            values['state'] = 'rejected'
            values['reason'] = gettext(
                'water_utility.msg_reading_row_' + message, **params)

        numbers = {v['subscription_code'] for v in vlist
            if v.get('subscription_code')}
        serials = {v['meter_code'] for v in vlist if v.get('meter_code')}
        subscriptions = cls._subscriptions(numbers)
        by_serial = cls._installations(serials)
        by_id = cls._subscriptions(ids={i.subscription
                for fitted in by_serial.values() for i in fitted})
        notes = {n.code.lower(): n for n in Note.search([])}
        timezones = {a.id: ZoneInfo(a.timezone) for a in Area.search([])
            if a.timezone}

        candidates = []
        for values in vlist:
            values.update(state='rejected', reason=None, reading=None)
            if values.get('comment') == 'JSON' and not values.get('value'):
                reject(values, 'json')
                continue
            number, serial = (values.get('subscription_code'),
                values.get('meter_code'))
            try:
                moment, has_time = reading_file.parse_datetime(
                    values.get('read_at'))
            except ValueError:
                reject(values, 'date', date=values.get('read_at') or '')
                continue
            # the area's clock decides the day of an AMR time in UTC
            area = None
            if number in subscriptions:
                area = subscriptions[number].area
            elif by_serial.get(serial):
                area = by_id[by_serial[serial][0].subscription].area
            date, time = reading_file.local(
                moment, has_time, timezones.get(area))
            note = None
            if values.get('note_code'):
                note = notes.get(values['note_code'].strip().lower())
                if not note:
                    reject(values, 'note', note=values['note_code'])
                    continue
            value = None
            if values.get('value'):
                try:
                    value = reading_file.parse_value(values['value'])
                except ValueError:
                    reject(values, 'value', value=values['value'])
                    continue
            elif not (note and note.prevents_read):
                reject(values, 'value', value='')
                continue
            subscription = None
            if number:
                subscription = subscriptions.get(number)
                if not subscription:
                    reject(values, 'subscription', number=number)
                    continue
            if serial:
                installed = [i for i in by_serial.get(serial, [])
                    if i.start_date <= date
                    and (not i.end_date or i.end_date > date)]
                if not installed:
                    reject(values, 'meter', serial=serial, date=date)
                    continue
                if (subscription
                        and installed[0].subscription != subscription.id):
                    reject(values, 'mismatch', serial=serial,
                        number=number)
                    continue
                subscription = by_id[installed[0].subscription]
            if not subscription:
                reject(values, 'subscription', number='')
                continue
            if subscription.state != 'active':
                reject(values, 'inactive',
                    subscription=subscription.rec_name)
                continue
            if not subscription.route:
                reject(values, 'route', subscription=subscription.rec_name)
                continue
            candidates.append((values, subscription, date, time, value,
                    note))

        periods = Period.find(
            {(s.route, d) for _, s, d, _, _, _ in candidates})
        existing = Reading.keys({s.id for _, s, _, _, _, _ in candidates},
            {c[2] for c in candidates})
        to_create, created_for = [], []
        for values, subscription, date, time, value, note in candidates:
            period = periods.get((subscription.route, date))
            if not period:
                reject(values, 'period',
                    route=Route(subscription.route).rec_name, date=date)
                continue
            key = (subscription.id, date, time, value)
            if key in existing:
                values['state'] = 'duplicate'
                continue
            existing.add(key)
            to_create.append({
                    'company': period.company.id,
                    'period': period.id,
                    'subscription': subscription.id,
                    'date': date,
                    'time': time,
                    'value': value,
                    'note': note.id if note else None,
                    'reader': values.get('reader'),
                    'comment': (values.get('comment') or '')[:200] or None,
                    'source': values.get('source') or 'handheld',
                    'leak': bool(values.get('leak')),
                    'status': values.get('status') or None,
                    })
            created_for.append(values)
        Reading.evaluate(to_create)
        ok = []
        for reading_values, values in zip(to_create, created_for):
            if reading_values.get('error'):
                values['state'] = 'rejected'
                values['reason'] = reading_values.pop('error')
            else:
                ok.append((reading_values, values))
        ids = Reading.insert_evaluated([r for r, _ in ok])
        for id_, (_, values) in zip(ids, ok):
            values['state'] = 'accepted'
            values['reading'] = id_
        return vlist

    @classmethod
    def _subscriptions(cls, numbers=(), ids=()):
        """Return Subscribed of the numbers by number (or of ids by id)"""
        pool = Pool()
        Subscription = pool.get('water.subscription')
        table = Subscription.__table__()
        cursor = Transaction().connection.cursor()
        key = 'number' if numbers else 'id'
        result = {}
        for sub in grouped_slice(list(numbers or ids),
                backend.MAX_QUERY_PARAMS):
            cursor.execute(*table.select(
                    table.id, table.number, table.state, table.route,
                    table.area,
                    where=fields.SQL_OPERATORS['in'](
                        getattr(table, key), list(sub))))
            for row in cursor:
                subscribed = Subscribed(*row)
                result[getattr(subscribed, key)] = subscribed
        return result

    @classmethod
    def _installations(cls, serials):
        "Return the Fitted installations of the meters by serial"
        pool = Pool()
        Meter = pool.get('water.meter')
        Installation = pool.get('water.meter.installation')
        if not serials:
            return {}
        meters = Meter.search([('serial', 'in', list(serials))])
        result = defaultdict(list)
        for fitted in Installation.fitted_meters(meters).values():
            for installation in fitted:
                result[installation.serial].append(installation)
        return result


@dataclass(frozen=True)
class Subscribed:
    "What an import needs of a subscription, as plain values"
    id: int
    number: str
    state: str
    route: int
    area: int

    @property
    def rec_name(self):
        return Pool().get('water.subscription')(self.id).rec_name


class ImportStart(ModelView):
    "Import Readings"
    __name__ = 'water.reading.import.start'
    __string__ = "Import Readings"

    file = fields.Binary("File", required=True, filename='file_name')
    file_name = fields.Char("File Name")
    format = fields.Selection([(None, "")] + FORMATS, "Format",
        help="Leave empty to recognise it from the file.")


class ImportWizard(Wizard):
    "Import Readings"
    __name__ = 'water.reading.import.wizard'
    start = StateView('water.reading.import.start',
        'water_utility.reading_import_start_view_form', [
            Button("Cancel", 'end', 'tryton-cancel'),
            Button("Import", 'import_', 'tryton-ok', default=True),
            ])
    import_ = StateAction('water_utility.act_reading_import_form')

    def do_import_(self, action):
        pool = Pool()
        Import = pool.get('water.reading.import')
        import_ = Import.import_file(
            self.start.file, self.start.file_name, self.start.format)
        action['res_id'] = [import_.id]
        action['views'].reverse()
        return action, {}
