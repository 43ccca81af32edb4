"""``insert_together``: new rows of several tables in one all-or-nothing statement.

The one place the API leaves the ORM. AssumeRole writes a session row and its audit event on
every call; through the ORM that is BEGIN, two INSERTs and COMMIT, four round trips, where one
statement does (the measured difference is in ``tests/bench/README.md``).
Everything else reads and writes through the ORM.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from contextlib import nullcontext
from functools import cache
from typing import Any

from django.db import connection, transaction
from django.db.models import Model


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
