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
from collections import defaultdict

from sql import Cast, Column, Values
from sql.functions import CurrentTimestamp

from trytond import backend
from trytond.model import fields
from trytond.pool import Pool
from trytond.tools import grouped_slice
from trytond.transaction import Transaction


def execute_planned(cursor, query, params=()):
    """Execute a query planned for its values each time

    psycopg prepares a statement run more than five times, and PostgreSQL
    then plans it once for any value: a list of ids the size of a route
    and a partial index whose condition the values match go unseen, and
    the generic plan may scan the whole table.
    """
    if backend.name == 'postgresql':
        cursor.execute(query, params, prepare=False)
    else:
        cursor.execute(query, params)


def max_params():
    """The parameters one INSERT or UPDATE of rows may take

    trytond's MAX_QUERY_PARAMS of SQLite (200) guards the depth of nested
    expressions (long OR chains); the values of an INSERT and the branches
    of a CASE are not nested, and SQLite since 3.32 takes 32766 host
    parameters a statement.
    """
    if backend.name == 'sqlite':
        return 30000
    return backend.MAX_QUERY_PARAMS


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
    size = max_params() // (len(columns) + 1)
    for chunk in grouped_slice(rows, size):
        chunk = list(chunk)
        if backend.name == 'sqlite' and len(chunk) > 1:
            # one statement: SQLite numbers the rows of a statement one
            # after the other (it writes alone)
            cursor.execute(*table.insert(columns, chunk))
            last = database.lastid(cursor)
            ids.extend(range(last - len(chunk) + 1, last + 1))
            continue
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


def update(Model, rows):
    """Write the values of rows, a list of (id, dict of values), with one
    statement per slice and set of columns

    For the columns a model computes itself (the state of a bill, its
    amounts): the records are not read back nor validated, their caches
    are cleared as ModelStorage.write clears them.  When a trigger is
    defined on the writing of the model, the ORM is used so that it runs.
    """
    pool = Pool()
    Trigger = pool.get('ir.trigger')
    if not rows:
        return
    if Trigger.get_triggers(Model.__name__, 'write'):
        args = []
        for id_, values in rows:
            args.extend(([Model(id_)], values))
        Model.write(*args)
        return
    transaction = Transaction()
    cursor = transaction.connection.cursor()
    table = Model.__table__()
    by_names = defaultdict(list)
    for id_, values in rows:
        by_names[tuple(sorted(values))].append((id_, values))
    for names, group in by_names.items():
        fields_ = [Model._fields[n] for n in names]
        size = max(1, max_params() // (len(names) + 1))
        for sub in grouped_slice(group, size):
            # UPDATE … FROM (VALUES (id, v1, …), …): one statement, each
            # row matched by its id
            values = Values([[i] + [f.sql_format(v[n])
                            for n, f in zip(names, fields_)]
                    for i, v in sub])
            columns = [Column(values, f'column{i}')
                for i in range(2, len(names) + 2)]
            if backend.name != 'sqlite':
                # a column of NULLs only is text to PostgreSQL
                columns = [Cast(c, f.sql_type().base)
                    for c, f in zip(columns, fields_)]
            cursor.execute(*table.update(
                    [Column(table, n) for n in names]
                    + [table.write_uid, table.write_date],
                    columns + [transaction.user, CurrentTimestamp()],
                    from_=[values],
                    where=table.id == Column(values, 'column1')))
    transaction.counter += 1
    ids = [i for i, _ in rows]
    for cache in transaction.cache.values():
        if Model.__name__ in cache:
            cache_model = cache[Model.__name__]
            for id_ in ids:
                cache_model.pop(id_, None)
