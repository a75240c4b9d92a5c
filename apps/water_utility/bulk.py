# This file is part of the water_utility module.  See README.rst.
"""Insertion of many records already validated by their model's own checks.

ModelSQL.create reads every new record back to validate it, which costs
more than the insertion itself (a meter-reading import makes thousands of
records at once).  The callers validate their values first (the readings
through Reading.evaluate, the import rows are text as received), so the
insertion is done in one statement per chunk, the way trytond itself does
it.  When a trigger is defined on the creation of the model, the ORM is used
so that it runs.
"""
from sql import Column
from sql.functions import CurrentTimestamp

from trytond import backend
from trytond.model import fields
from trytond.pool import Pool
from trytond.tools import grouped_slice
from trytond.transaction import Transaction


def insert(Model, vlist):
    "Insert the dicts of values of vlist and return the new ids in order"
    pool = Pool()
    Trigger = pool.get('ir.trigger')
    if not vlist:
        return []
    if Trigger.get_triggers(Model.__name__, 'create'):
        return [r.id for r in Model.create(vlist)]
    transaction = Transaction()
    database = transaction.database
    cursor = transaction.connection.cursor()
    table = Model.__table__()

    names = sorted({n for v in vlist for n in v})
    missing = [n for n, f in Model._fields.items()
        if n not in names
        and n not in {'id', 'create_uid', 'create_date', 'write_uid',
            'write_date'}
        and not isinstance(f, fields.Function)
        and not hasattr(f, 'set')]
    defaults = Model._clean_defaults(
        Model.default_get(missing, with_rec_name=False))
    names += sorted(defaults)
    columns = [table.create_uid, table.create_date] + [
        Column(table, n) for n in names]
    formats = [Model._fields[n].sql_format for n in names]
    rows = [[transaction.user, CurrentTimestamp()] + [
            f(values[n] if n in values else defaults.get(n))
            for n, f in zip(names, formats)]
        for values in vlist]

    if backend.name == 'postgresql' and len(rows) > 1:
        return _copy(Model, names, rows)

    ids = []
    size = backend.MAX_QUERY_PARAMS // (len(columns) + 1)
    for chunk in grouped_slice(rows, size):
        chunk = list(chunk)
        new_ids = None
        if len(chunk) > 1 and database.has_multirow_insert():
            new_ids = database.nextid(
                transaction.connection, Model._table, count=len(chunk))
        if new_ids:
            for row, id_ in zip(chunk, new_ids):
                row.append(id_)
            cursor.execute(*table.insert(columns + [table.id], chunk))
            ids.extend(new_ids)
            continue
        for row in chunk:
            if database.has_returning():
                cursor.execute(*table.insert(columns, [row], [table.id]))
                ids.extend(r[0] for r in cursor)
            else:
                cursor.execute(*table.insert(columns, [row]))
                ids.append(database.lastid(cursor))
    transaction.create_records[Model.__name__].extend(ids)
    return ids


def _copy(Model, names, rows):
    """Insert rows with PostgreSQL's COPY, the fastest way in

    The ids come from the table's sequence beforehand; the creation time is
    the transaction's CURRENT_TIMESTAMP, as an INSERT would store it.
    """
    from psycopg import sql
    transaction = Transaction()
    connection = transaction.connection
    cursor = connection.cursor()
    ids = transaction.database.nextid(
        connection, Model._table, count=len(rows))
    cursor.execute('SELECT CAST(CURRENT_TIMESTAMP AS TIMESTAMP)')
    now, = cursor.fetchone()
    columns = ['create_uid', 'create_date'] + names + ['id']
    statement = sql.SQL('COPY {} ({}) FROM STDIN').format(
        sql.Identifier(Model._table),
        sql.SQL(', ').join(map(sql.Identifier, columns)))
    with cursor.copy(statement) as copy:
        for row, id_ in zip(rows, ids):
            copy.write_row([row[0], now] + row[2:] + [id_])
    transaction.create_records[Model.__name__].extend(ids)
    return ids
