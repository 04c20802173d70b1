"""Rows read, inserted and copied into their history by statements built once per model.

On the hot paths (the intake POST, the check-in answer page) the ORM builds and compiles
every statement again on every call, and that is most of their Python work (`make bench`):
a one-row SELECT costs about three times its round trip. The helpers here issue the same
statements with the SQL built once from the model's metadata. Nothing else changes:

- values are prepared by the model's own fields (`pre_save`, `get_db_prep_save`), so a
  date, a JSON list or an `auto_now` column is stored exactly as `save()` would store it;
- rows read come back through the backend's and the fields' converters, as model
  instances made by `Model.from_db` (fields not read are deferred, as with `.only()`);
- a history row is the row as stored, copied by the database from what the write returned,
  in the same statement on PostgreSQL (a data-modifying WITH; right after it elsewhere):
  what django-simple-history would write, without building it in Python or a round trip;
- row locks (`FOR UPDATE`) only where the database has them (PostgreSQL; SQLite locks
  the whole database for a write anyway), as `select_for_update()` does.

No model signal is sent, so a caller uses these only for models whose `save()` does
nothing of its own and writes their history with them (`History`). The query budgets of
the hot paths (tests/test_hot_path_queries.py) list these statements like any other.
"""

from __future__ import annotations

import datetime
import functools
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass

from django.db import DEFAULT_DB_ALIAS, connections
from django.db.models import Model


def _db():
    # The connection itself, looked up once per call (each attribute of django.db.connection
    # looks it up again).
    return connections[DEFAULT_DB_ALIAS]


def _q() -> str:
    """Return the database's identifier quote (the same on PostgreSQL and SQLite)."""
    connection = _db()
    return connection.ops.quote_name("x")[0]


def lock_clause() -> str:
    """Return ` FOR UPDATE` where the database has row locks, else nothing."""
    connection = _db()
    return " FOR UPDATE" if connection.features.has_select_for_update else ""


def built_once(build: Callable[..., str]) -> Callable[..., str]:
    """Decorate `build(*args, q=...)`, which writes a statement with the identifier quote `q`:
    the decorated function takes `*args` alone and builds each statement once."""
    cached = functools.cache(build)

    @functools.wraps(build)
    def statement(*args) -> str:
        return cached(*args, q=_q())

    return statement


def fetch(sql: str, params: Sequence) -> list[tuple]:
    """Run one statement and return its rows as the database sent them (see `convert`)."""
    with _db().cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


def execute(sql: str, params: Sequence) -> int:
    """Run one statement that returns no rows; return how many rows it changed."""
    with _db().cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.rowcount


# ---- reading -------------------------------------------------------------------------------


@functools.cache
def _by_name(model: type[Model]) -> dict:
    concrete = model._meta.concrete_fields
    return {f.name: f for f in concrete} | {f.attname: f for f in concrete}


@functools.cache
def _fields(model: type[Model], names: tuple[str, ...] | None) -> tuple:
    if names is None:
        return tuple(model._meta.concrete_fields)
    fields = [_by_name(model)[name] for name in names]
    if model._meta.pk not in fields:
        fields.insert(0, model._meta.pk)  # a model instance always has its primary key
    return tuple(fields)


@functools.cache
def _select_sql(
    model: type[Model],
    names: tuple[str, ...] | None,
    where: tuple[str, ...],
    tail: str,
    q: str,
) -> str:
    table = model._meta.db_table
    columns = ", ".join(f"{q}{table}{q}.{q}{f.column}{q}" for f in _fields(model, names))
    by_name = _by_name(model)
    condition = " AND ".join(f"{q}{table}{q}.{q}{by_name[w].column}{q} = %s" for w in where)
    return f"SELECT {columns} FROM {q}{table}{q} WHERE {condition}{tail}"  # noqa: S608 (names from the models)


@functools.cache
def _converters(fields: tuple, vendor: str) -> tuple[tuple[int, tuple, object], ...]:
    connection = _db()
    # Per database kind: the backend's converters depend on the kind, not on the connection.
    out = []
    for i, field in enumerate(fields):
        column = field.get_col(field.model._meta.db_table)
        found = connection.ops.get_db_converters(column) + column.get_db_converters(connection)
        if found:
            out.append((i, tuple(found), column))
    return tuple(out)


def convert(row: Sequence, fields: tuple) -> list:
    """Return `row` (values of `fields`, as the database sent them) as the ORM reads them:
    through the backend's and the fields' converters (a JSON list, a SQLite date)."""
    connection = _db()
    values = list(row)
    for i, found, column in _converters(fields, connection.vendor):
        value = values[i]
        for converter in found:
            value = converter(value, column, connection)
        values[i] = value
    return values


def _in_range(field, value: int) -> bool:
    connection = _db()
    target = getattr(field, "target_field", field)  # a foreign key holds its target's type
    bounds = connection.ops.integer_field_ranges.get(target.get_internal_type())
    if bounds is None:  # not an integer column (a boolean, say)
        return True
    low, high = bounds
    return (low is None or value >= low) and (high is None or value <= high)


def select(
    model: type[Model],
    *,
    lock: bool = False,
    fields: Iterable[str] | None = None,
    one: bool = False,
    **where,
) -> list[Model]:
    """Return the rows of `model` whose columns equal `where`, in primary-key order.

    `lock` takes their row locks (as `select_for_update()`); `fields` reads only those (and
    the primary key), the others deferred, as `.only()`; `one` reads one row at most.
    """
    connection = _db()
    names = tuple(fields) if fields is not None else None
    read = _fields(model, names)
    pk = model._meta.pk.column
    tail = " LIMIT 1" if one else f" ORDER BY {_q()}{pk}{_q()}"
    sql = _select_sql(model, names, tuple(where), tail + (lock_clause() if lock else ""), _q())
    by_name = _by_name(model)
    params = []
    for name, value in where.items():
        field = by_name[name]
        if isinstance(value, int) and not _in_range(field, value):
            return []  # e.g. an id from a URL that no column can hold: no such row
        params.append(field.get_db_prep_value(value, connection))
    attnames = [f.attname for f in read]
    rows = fetch(sql, params)
    return [model.from_db(connection.alias, attnames, convert(row, read)) for row in rows]


def select_one(
    model: type[Model], *, lock: bool = False, fields: Iterable[str] | None = None, **where
) -> Model | None:
    """Return the one row of `model` whose columns equal `where` (unique ones), or None.

    `lock` takes its row lock (as `select_for_update()`); `fields` reads only those (and the
    primary key), the others deferred, as `.only()`.
    """
    found = select(model, lock=lock, fields=fields, one=True, **where)
    return found[0] if found else None


# ---- writing -------------------------------------------------------------------------------


@dataclass(frozen=True)
class History:
    """A change as django-simple-history records it: its type (CREATED or CHANGED), the user
    who made it (or None) and when."""

    type: str
    user: object
    when: datetime.datetime

    def params(self, model: type[Model]) -> list:
        connection = _db()
        return [
            _history_date(model).get_db_prep_save(self.when, connection),
            self.type,
            getattr(self.user, "pk", self.user),
        ]


@functools.cache
def _history_date(model: type[Model]):
    # (Each read of `model.history` makes a manager: read once.)
    return model.history.model._meta.get_field("history_date")


def merges_history() -> bool:
    """Return whether a write and its history rows go in one statement (PostgreSQL: a
    data-modifying WITH); elsewhere (SQLite) the history is copied by a second statement."""
    return _db().vendor == "postgresql"


@functools.cache
def _history_columns(model: type[Model], q: str) -> tuple[str, str]:
    """Return the history table's name and the columns it shares with `model`'s table."""
    history = model.history.model
    own = {f.column for f in model._meta.concrete_fields}
    shared = [f.column for f in history._meta.concrete_fields if f.column in own]
    return history._meta.db_table, ", ".join(f"{q}{c}{q}" for c in shared)


def _recorded(model: type[Model], source: str, q: str) -> str:
    """INSERT the history rows of `model`'s rows read from `source` (a table or a WITH)."""
    history_table, names = _history_columns(model, q)
    return (
        f"INSERT INTO {q}{history_table}{q} ({names}, {q}history_date{q}, {q}history_type{q}, "  # noqa: S608 (names from the models)
        f"{q}history_user_id{q}, {q}history_change_reason{q}) "
        f"SELECT {names}, %s, %s, %s, NULL FROM {source}"
    )


def with_history_sql(
    model: type[Model], write: str, returned: tuple[str, ...], q: str | None = None
) -> str:
    """`write` (an INSERT or UPDATE, without RETURNING) and the history of the rows it wrote,
    in one statement that returns the columns `returned` of those rows, in the order written
    (PostgreSQL only: `merges_history`). Its parameters: the write's, then `History.params`."""
    q = q or _q()
    columns = ", ".join(f"{q}{c}{q}" for c in returned)
    stored, recorded = f"{q}stored{q}", f"{q}recorded{q}"
    history = _recorded(model, stored, q)
    select = f"SELECT {columns} FROM {stored}"  # noqa: S608 (names from the models)
    return f"WITH {stored} AS ({write} RETURNING *), {recorded} AS ({history}) {select}"


@functools.cache
def _insert_sql(
    model: type[Model],
    columns: tuple[str, ...],
    rows: int,
    returned: tuple[str, ...],
    computed: tuple[tuple[str, str], ...],
    history: bool,
    q: str,
) -> str:
    """INSERT `rows` rows of `columns`, those named in `computed` given by their subquery;
    RETURNING the columns `returned` (none: no RETURNING); with the rows' history if asked
    (`returned` then names at least one column)."""
    table = model._meta.db_table
    by_column = dict(computed)
    names = ", ".join(f"{q}{c}{q}" for c in columns)
    one = "(" + ", ".join(f"({by_column[c]})" if c in by_column else "%s" for c in columns) + ")"
    write = f"INSERT INTO {q}{table}{q} ({names}) VALUES " + ", ".join([one] * rows)  # noqa: S608 (names from the models)
    if history:
        return with_history_sql(model, write, returned, q)
    if returned:
        write += " RETURNING " + ", ".join(f"{q}{table}{q}.{q}{c}{q}" for c in returned)
    return write


def insert(
    *objs: Model,
    history: History | None = None,
    computed: Mapping[str, tuple[str, Sequence]] | None = None,
) -> None:
    """INSERT new instances of one model in one statement and give each its primary key.

    Each field prepares its own value, as `save()` does (an `auto_now_add` column takes the
    time now, a JSON value is encoded by the backend). Sends no signal.

    `history` writes the rows' history as they are stored, in the same
    statement where the database allows it (`merges_history`). `computed` gives one row's
    fields by a scalar subquery (`{"previous_id": (sql, params)}`), run by the database
    inside the INSERT; the values it stored are set on the instance.
    """
    connection = _db()
    if not objs:
        return
    model = type(objs[0])
    pk = model._meta.pk
    computed = dict(computed or {})
    if computed and len(objs) > 1:
        raise ValueError("insert() computes fields of one row only")
    fields = [f for f in model._meta.concrete_fields if f is not pk]
    for obj in objs:
        if type(obj) is not model or obj.pk is not None:
            raise ValueError("insert() takes new rows of one model")
    features = connection.features
    returning = features.can_return_columns_from_insert and (
        len(objs) == 1 or features.can_return_rows_from_bulk_insert
    )
    if not returning:
        if len(objs) > 1:
            for obj in objs:  # no RETURNING for many rows: one statement each
                insert(obj, history=history)
            return
        for name, (sql, params) in computed.items():  # no RETURNING: computed beforehand
            found = fetch(sql, params)
            setattr(objs[0], name, found[0][0] if found else None)
        computed = {}
    computed_fields = [_by_name(model)[name] for name in computed]
    values = []
    for obj in objs:
        for f in fields:
            if f.attname in computed:
                values.extend(computed[f.attname][1])
            else:
                values.append(f.get_db_prep_save(f.pre_save(obj, True), connection))
    returned = (pk.column, *(f.column for f in computed_fields)) if returning else ()
    merged = history is not None and returning and merges_history()
    sql = _insert_sql(
        model,
        tuple(f.column for f in fields),
        len(objs),
        returned,
        tuple((f.column, computed[f.attname][0]) for f in computed_fields),
        merged,
        _q(),
    )
    if merged:
        values += history.params(model)
    with connection.cursor() as cursor:
        cursor.execute(sql, values)
        if returning:
            found = cursor.fetchall()
        else:
            found = [[connection.ops.last_insert_id(cursor, model._meta.db_table, pk.column)]]
    read = (pk, *computed_fields)
    for obj, row in zip(objs, found, strict=True):
        for field, value in zip(read, convert(row, read), strict=True):
            setattr(obj, field.attname, value)
        obj._state.adding = False
        obj._state.db = connection.alias
    if history is not None and not merged:
        copy_history_of(model, history, [obj.pk for obj in objs])


@functools.cache
def _history_of_sql(model: type[Model], rows: int, q: str) -> str:
    pk = model._meta.pk.column
    keys = ", ".join(["%s"] * rows)
    return _recorded(model, f"{q}{model._meta.db_table}{q} WHERE {q}{pk}{q} IN ({keys})", q)


def copy_history_of(model: type[Model], history: History, keys: list) -> None:
    """Copy the history of the rows of `model` with these primary keys, in one statement."""
    if keys:
        execute(_history_of_sql(model, len(keys), _q()), [*history.params(model), *keys])


@functools.cache
def _update_sql(model: type[Model], columns: tuple[str, ...], q: str) -> str:
    table = model._meta.db_table
    sets = ", ".join(f"{q}{c}{q} = %s" for c in columns)
    pk = model._meta.pk.column
    return f"UPDATE {q}{table}{q} SET {sets} WHERE {q}{pk}{q} = %s"  # noqa: S608 (names from the models)


def update(obj: Model, *names: str) -> None:
    """UPDATE the fields `names` of a stored instance, as `save(update_fields=names)` would
    (an `auto_now` field named takes the time now). Sends no signal."""
    connection = _db()
    fields = [obj._meta.get_field(name) for name in names]
    values = [f.get_db_prep_save(f.pre_save(obj, False), connection) for f in fields]
    execute(_update_sql(type(obj), tuple(f.column for f in fields), _q()), [*values, obj.pk])


@functools.cache
def _update_where_sql(
    model: type[Model], columns: tuple[str, ...], where: tuple[str, ...], history: bool, q: str
) -> str:
    table = model._meta.db_table
    sets = ", ".join(f"{q}{c}{q} = %s" for c in columns)
    condition = " AND ".join(f"{q}{c}{q} = %s" for c in where)
    write = f"UPDATE {q}{table}{q} SET {sets} WHERE {condition}"  # noqa: S608 (names from the models)
    if history:
        return with_history_sql(
            model, write, tuple(f.column for f in model._meta.concrete_fields), q
        )
    return write + returning_all(model, q)


def update_where(
    model: type[Model], values: dict, *, history: History | None = None, **where
) -> list[Model]:
    """UPDATE every row of `model` whose columns equal `where` with `values`, and return
    those rows as now stored (held by the update's row locks), in primary-key order.

    One statement where the database can return the rows it updated (PostgreSQL; SQLite
    3.35 and later); elsewhere the rows are read locked, then each is updated. `history`
    writes the rows' history as they are stored, in the same statement where the database
    allows it (`merges_history`).
    """
    connection = _db()
    meta = model._meta
    fields = [meta.get_field(name) for name in values]
    if not connection.features.can_return_columns_from_insert:  # no RETURNING at all
        rows = select(model, lock=True, **where)
        for obj in rows:
            for name, value in values.items():
                setattr(obj, name, value)
            update(obj, *values)
    else:
        where_fields = [meta.get_field(name) for name in where]
        merged = history is not None and merges_history()
        sql = _update_where_sql(
            model,
            tuple(f.column for f in fields),
            tuple(f.column for f in where_fields),
            merged,
            _q(),
        )
        params = [
            f.get_db_prep_save(v, connection) for f, v in zip(fields, values.values(), strict=True)
        ]
        params += [
            f.get_db_prep_value(v, connection)
            for f, v in zip(where_fields, where.values(), strict=True)
        ]
        if merged:
            params += history.params(model)
        rows = returned(model, sql, params)
        rows.sort(key=lambda obj: obj.pk)
        if merged:
            return rows
    if history is not None:
        copy_history_of(model, history, [obj.pk for obj in rows])
    return rows


def returned(model: type[Model], sql: str, params: Sequence) -> list[Model]:
    """Run `sql`, a write that returns every concrete column of `model` in field order (its
    RETURNING clause), and return the rows it wrote as now stored, as model instances."""
    connection = _db()
    read = tuple(model._meta.concrete_fields)
    attnames = [f.attname for f in read]
    return [
        model.from_db(connection.alias, attnames, convert(row, read)) for row in fetch(sql, params)
    ]


def returning_all(model: type[Model], q: str) -> str:
    """Return the RETURNING clause that `returned` reads: every concrete column of `model`."""
    return " RETURNING " + ", ".join(f"{q}{f.column}{q}" for f in model._meta.concrete_fields)


# django-simple-history's history types: a row created, changed.
CREATED, CHANGED = "+", "~"


def history_user(instance: Model):
    """Return who changes `instance`, as django-simple-history finds them (the instance's
    `_history_user`, else the signed-in user of the request being served)."""
    return type(instance).history.model.get_default_history_user(instance)
