"""Hand-written joins for the API's hot path, read back into model instances.

The ORM compiles a query's SQL anew on every call. For the few joins every API request runs
(the caller's access key, a role session's revocation check, the role AssumeRole targets) that
compilation cost more than PostgreSQL's whole answer. Here the select list of a join is built once
per process from the models' own metadata, the SQL text is fixed (so psycopg prepares it once per
connection, see ``DB_PREPARED_STATEMENTS`` in settings), and each row is split back into model
instances with the same database converters the ORM applies. The statements still run through
Django's cursor, so query logging and ``assertNumQueries`` see them.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from contextlib import nullcontext
from dataclasses import dataclass
from functools import cache
from typing import Any

from django.db import DEFAULT_DB_ALIAS, connection, connections, transaction
from django.db.models import Model


@dataclass(frozen=True)
class Table:
    """One model in a join, under its SQL alias; every table after the first is joined ``on`` a
    condition (an outer join unless ``required``). The ``%s`` of the conditions take the
    ``join_params`` of ``fetch_one``, in table order. ``columns``, when given, names the only
    fields read besides the primary key; the rest are deferred, as with ``QuerySet.only()``:
    Django reads one from the database when it is first used, so leave out only what the hot path
    never touches (each timestamp left out saves parsing it)."""

    model: type[Model]
    alias: str
    on: str = ""
    required: bool = False
    columns: tuple[str, ...] = ()


Converter = tuple[Callable[[Any, Any, Any], Any], Any]


@cache
def _reader(table: Table, vendor: str) -> tuple[str, frozenset[str], int, list[list[Converter]]]:
    """Select list, attribute names read, primary-key position and per-column converters."""
    del vendor  # part of the cache key only: converters depend on the database backend
    model, alias = table.model, table.alias
    fields = [
        field
        for field in model._meta.concrete_fields
        if not table.columns or field.primary_key or field.attname in table.columns
    ]
    quote = connection.ops.quote_name
    columns = ", ".join(f"{alias}.{quote(field.column)}" for field in fields)
    converters: list[list[Converter]] = []
    for field in fields:
        column = field.get_col(alias)
        functions = [
            *connection.ops.get_db_converters(column),
            *field.get_db_converters(connection),
        ]
        converters.append([(function, column) for function in functions])
    primary_key = next(index for index, field in enumerate(fields) if field.primary_key)
    names = frozenset(field.attname for field in fields)
    assert not set(table.columns) - names, f"unknown columns of {model.__name__}"
    return columns, names, primary_key, converters


def _columns(tables: tuple[Table, ...], vendor: str) -> str:
    return ", ".join(_reader(table, vendor)[0] for table in tables)


def _joins(tables: tuple[Table, ...]) -> list[str]:
    quote = connection.ops.quote_name
    return [
        f"{'JOIN' if table.required else 'LEFT JOIN'} {quote(table.model._meta.db_table)} "
        f"{table.alias} ON {table.on}"
        for table in tables
    ]


@cache
def _statement(tables: tuple[Table, ...], where: str, vendor: str) -> str:
    """The SELECT text, built once: only model metadata and our own constant conditions go into
    it; every value is a parameter."""
    first, *joined = tables
    source = f"{connection.ops.quote_name(first.model._meta.db_table)} {first.alias}"
    select = f"SELECT {_columns(tables, vendor)} FROM {source}"  # noqa: S608 (model metadata)
    return " ".join([select, *_joins(tuple(joined)), f"WHERE {where}"])


@cache
def _statement_with_scalar(tables: tuple[Table, ...], where: str, scalar: str, prefix: str) -> str:
    """PostgreSQL: ``scalar`` (an expression or subquery) as the first column, then the join,
    after ``prefix`` (a ``WITH`` clause, or nothing). The join hangs off a one-row relation, so the
    scalar arrives even when nothing matches ``where``."""
    first, *joined = tables
    assert not any(table.required for table in joined), "an inner join would drop the scalar"
    source = f"{connection.ops.quote_name(first.model._meta.db_table)} {first.alias}"
    select = f"SELECT ({scalar}), {_columns(tables, 'postgresql')}"
    outer = f"FROM (SELECT 1) AS one LEFT JOIN {source} ON {where}"
    return " ".join([*filter(None, [prefix]), select, outer, *_joins(tuple(joined))])


def fetch_one(
    tables: tuple[Table, ...],
    where: str,
    params: Sequence[Any],
    join_params: Sequence[Any] = (),
) -> list[Model | None] | None:
    """The first row of the join of ``tables`` filtered by ``where``, as one instance per table
    (None for a table an outer join left out), or None when no row matches."""
    database = connections[DEFAULT_DB_ALIAS]  # the wrapper itself: no proxy look-up per use
    with database.cursor() as cursor:
        cursor.execute(_statement(tables, where, database.vendor), [*join_params, *params])
        row = cursor.fetchone()
    return None if row is None else _instances(tables, row, database)


def fetch_one_after_insert(
    insert: str,
    insert_params: Sequence[Any],
    tables: tuple[Table, ...],
    where: str,
    params: Sequence[Any],
    join_params: Sequence[Any] = (),
) -> tuple[bool, list[Model | None] | None]:
    """PostgreSQL only: run ``insert`` (an ``INSERT … ON CONFLICT DO NOTHING``) and ``fetch_one``
    in one round trip. Returns whether the insert wrote a row, and the instances (None when
    nothing matches ``where``)."""
    spend = f"WITH inserted AS ({insert} RETURNING 1)"
    statement = _statement_with_scalar(tables, where, "SELECT count(*) FROM inserted", spend)
    inserted, found = _fetch_with_scalar(statement, [*insert_params, *params, *join_params], tables)
    return bool(inserted), found


def fetch_one_with(
    scalar: str,
    scalar_params: Sequence[Any],
    tables: tuple[Table, ...],
    where: str,
    params: Sequence[Any],
    join_params: Sequence[Any] = (),
) -> tuple[Any, list[Model | None] | None]:
    """PostgreSQL only: ``fetch_one`` with the value of ``scalar`` (say, an ``EXISTS`` probe of
    another table) in the same round trip."""
    statement = _statement_with_scalar(tables, where, scalar, "")
    return _fetch_with_scalar(statement, [*scalar_params, *params, *join_params], tables)


def _fetch_with_scalar(
    statement: str, params: list[Any], tables: tuple[Table, ...]
) -> tuple[Any, list[Model | None] | None]:
    database = connections[DEFAULT_DB_ALIAS]
    with database.cursor() as cursor:
        cursor.execute(statement, params)
        scalar, *row = cursor.fetchone()
    instances = _instances(tables, row, database)
    return scalar, None if instances[0] is None else instances


def _instances(tables: tuple[Table, ...], row: Sequence[Any], database: Any) -> list[Model | None]:
    vendor = database.vendor
    instances: list[Model | None] = []
    offset = 0
    for table in tables:
        _, names, primary_key, converters = _reader(table, vendor)
        values = list(row[offset : offset + len(converters)])
        offset += len(converters)
        if values[primary_key] is None:
            instances.append(None)
            continue
        for index, column_converters in enumerate(converters):
            for convert, column in column_converters:
                values[index] = convert(values[index], column, database)
        instances.append(table.model.from_db(DEFAULT_DB_ALIAS, names, values))
    return instances


@cache
def _insert_statement(models: tuple[type[Model], ...], first: str, vendor: str) -> str:
    """``WITH`` the ``first`` statement (if any) and each model's INSERT but the last, then the
    last: one statement, so PostgreSQL writes every row or none in one round trip and one commit.
    Each row travels as one JSON parameter that ``json_populate_record`` spreads over the table's
    columns (dozens of typed parameters cost psycopg more to send than PostgreSQL spends parsing
    one document)."""
    del vendor
    quote = connection.ops.quote_name
    inserts = [first] if first else []
    for model in models:
        table = quote(model._meta.db_table)
        columns = ", ".join(quote(field.column) for field, _ in _insert_plan(model))
        inserts.append(
            f"INSERT INTO {table} ({columns}) SELECT {columns} "  # noqa: S608 (model metadata)
            f"FROM json_populate_record(NULL::{table}, %s::json)"
        )
    *before, last = inserts
    if not before:
        return last
    ctes = ", ".join(f"insert_{index} AS ({sql})" for index, sql in enumerate(before))
    return f"WITH {ctes} {last}"


# Field types whose Python value is already the JSON value PostgreSQL reads back as the column.
PLAIN_TYPES = frozenset(
    {
        "AutoField",
        "BigAutoField",
        "BigIntegerField",
        "BooleanField",
        "CharField",
        "ForeignKey",
        "IntegerField",
        "PositiveIntegerField",
        "TextField",
    }
)


@cache
def _insert_plan(model: type[Model]) -> list[tuple[Any, str]]:
    """Each column an INSERT writes (every concrete field but a database-generated primary key)
    and how its value becomes JSON: ``plain`` as it is, ``datetime`` in ISO 8601 (after
    ``pre_save``, which fills ``auto_now``), ``json`` for a JSONField's document. Other field
    types are refused here rather than sent wrongly."""
    plan = []
    for field in model._meta.concrete_fields:
        if field.primary_key and getattr(field, "db_returning", False):
            continue
        kind = field.get_internal_type()
        if kind in PLAIN_TYPES:
            plan.append((field, "plain"))
        elif kind == "DateTimeField":
            plan.append((field, "datetime"))
        elif kind == "JSONField" and field.encoder is None:
            plan.append((field, "json"))
        else:
            raise TypeError(f"insert_together cannot send {model.__name__}.{field.name} ({kind})")
    return plan


def _json_row(instance: Model) -> str:
    row: dict[str, Any] = {}
    for field, how in _insert_plan(type(instance)):
        if how == "plain":
            value = instance.__dict__[field.attname]
        else:
            value = field.pre_save(instance, add=True)
            if how == "datetime" and value is not None:
                value = value.isoformat()
        row[field.column] = value
    return json.dumps(row)


def insert_together(*instances: Model, first: tuple[str, Sequence[Any]] | None = None) -> None:
    """Insert new rows of different tables atomically: one statement on PostgreSQL (no
    BEGIN/COMMIT round trips), one transaction elsewhere. ``first``, a constant SQL statement
    with its parameters, joins the same all-or-nothing write (if it fails, no row is inserted).
    Database-generated primary keys are not read back, so use it only for rows nobody needs the
    id of at once."""
    sql, sql_params = first or ("", ())
    if connection.vendor != "postgresql":
        with transaction.atomic(), connection.cursor() as cursor:
            if sql:
                cursor.execute(sql, sql_params)
            for instance in instances:
                instance.save(force_insert=True)
        return
    params = [*sql_params, *(_json_row(instance) for instance in instances)]
    for instance in instances:
        instance._state.adding = False
        instance._state.db = connection.alias
    models = tuple(type(instance) for instance in instances)
    statement = _insert_statement(models, sql, "postgresql")
    # Inside a transaction, a savepoint keeps a failed write (a unique constraint, say) from
    # aborting the rest of it; in autocommit the statement is its own transaction.
    with (
        transaction.atomic() if connection.in_atomic_block else nullcontext(),
        connection.cursor() as cursor,
    ):
        cursor.execute(statement, params)
