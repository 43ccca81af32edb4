"""``insert_together``: new rows of several tables in one all-or-nothing statement.

The one place the API leaves the ORM. AssumeRole writes a session row and its audit event on
every call; through the ORM that is BEGIN, two INSERTs and COMMIT, four round trips, where one
statement does (the measured difference is in ``tests/bench/README.md``).
Every audit event is appended here (``iam.audit.append``): on PostgreSQL the same statement moves
its account's hash chain on (``iam.audit_chain``).
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

from iam import audit_chain
from iam.models import AuditChainHead, AuditEvent

# The audit event's columns that its account's chain fills in (from the ``chain`` step).
CHAIN_COLUMNS = {"previous_hash": "chain.previous_hash", "hash": "chain.last_hash"}


@cache
def _insert_statement(
    models: tuple[type[Model], ...], first: str, vendor: str, read_back: bool = False
) -> str:
    """``WITH`` the ``first`` statement (if any), the audit chain's step (if an audit event is
    among the rows, which then comes last) and each model's INSERT but the last, then the last:
    one statement, so PostgreSQL writes every row or none in one round trip and one commit.
    Each row travels as one JSON parameter that ``json_populate_record`` spreads over the table's
    columns (dozens of typed parameters cost psycopg more to send than PostgreSQL spends parsing
    one document). An audit event takes its two hashes from the chain step, whose row lock it
    waits for before its id is drawn (``iam.audit_chain``); ``read_back`` returns its id and
    hashes."""
    del vendor
    quote = connection.ops.quote_name
    steps = [("insert", first)] if first else []
    if AuditEvent in models:
        steps.append(("chain", audit_chain.head_upsert_sql()))
    for model in models:
        table = quote(model._meta.db_table)
        names = [field.column for field, _ in _insert_plan(model)]
        if model is AuditEvent:
            names += list(CHAIN_COLUMNS)
            values = [CHAIN_COLUMNS.get(name, f"event.{quote(name)}") for name in names]
            steps.append(
                (
                    "insert",
                    f"INSERT INTO {table} ({', '.join(map(quote, names))}) "  # noqa: S608
                    f"SELECT {', '.join(values)} "
                    f"FROM json_populate_record(NULL::{table}, %s::json) AS event, chain"
                    + (" RETURNING id, previous_hash, hash" if read_back else ""),
                )
            )
            continue
        columns = ", ".join(map(quote, names))
        steps.append(
            (
                "insert",
                f"INSERT INTO {table} ({columns}) SELECT {columns} "  # noqa: S608 (model metadata)
                f"FROM json_populate_record(NULL::{table}, %s::json)",
            )
        )
    *before, (_, last) = steps
    if not before:
        return last
    ctes = ", ".join(
        f"{'chain' if kind == 'chain' else f'insert_{index}'} AS ({sql})"
        for index, (kind, sql) in enumerate(before)
    )
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
        if model is AuditEvent and field.column in CHAIN_COLUMNS:
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


def insert_together(
    *instances: Model,
    first: tuple[str, Sequence[Any]] | None = None,
    savepoint: bool = True,
    read_back: bool = False,
) -> None:
    """Insert new rows of different tables atomically: one statement on PostgreSQL (no
    BEGIN/COMMIT round trips), one transaction elsewhere. ``first``, a constant SQL statement
    with its parameters, joins the same all-or-nothing write (if it fails, no row is inserted).
    At most one of the rows may be an audit event: it is appended to its account's hash chain in
    the same write. Database-generated primary keys are not read back (but the audit event's,
    with its hashes, with ``read_back``), so use it only for rows nobody needs the id of at once.
    Inside a transaction, a failed write leaves the transaction usable (a savepoint) unless
    ``savepoint`` is False."""
    sql, sql_params = first or ("", ())
    events = [instance for instance in instances if isinstance(instance, AuditEvent)]
    if len(events) > 1:
        raise ValueError("insert_together appends at most one audit event")
    if connection.vendor != "postgresql":
        alone = len(instances) == 1 and events and not sql  # one statement: atomic as it is
        with (
            nullcontext() if alone else transaction.atomic(savepoint=savepoint),
            connection.cursor() as cursor,
        ):
            if sql:
                cursor.execute(sql, sql_params)
            for instance in instances:
                if isinstance(instance, AuditEvent):
                    _append_on_sqlite(instance, cursor)
                else:
                    instance.save(force_insert=True)
        return
    # The audit event last: its INSERT is the statement's own, whose RETURNING is read.
    instances = tuple(sorted(instances, key=lambda instance: isinstance(instance, AuditEvent)))
    params = [*sql_params]
    if events:
        params += audit_chain.head_upsert_params(events[0])
    params += [_json_row(instance) for instance in instances]
    for instance in instances:
        instance._state.adding = False
        instance._state.db = connection.alias
    models = tuple(type(instance) for instance in instances)
    read_back = read_back and bool(events)
    statement = _insert_statement(models, sql, "postgresql", read_back)
    # Inside a transaction, a savepoint keeps a failed write (a unique constraint, say) from
    # aborting the rest of it; in autocommit the statement is its own transaction.
    with (
        transaction.atomic() if savepoint and connection.in_atomic_block else nullcontext(),
        connection.cursor() as cursor,
    ):
        cursor.execute(statement, params)
        if read_back:
            events[0].pk, events[0].previous_hash, events[0].hash = cursor.fetchone()


@cache
def _sqlite_event_insert(vendor: str) -> str:
    """SQLite: the audit event's INSERT, its previous hash read from its account's chain head in
    the same statement and its hash computed by ``audit_chain.SQLITE_LINK`` (a function of this
    connection); a trigger (migration 0008) moves the head on. SQLite admits one writer at a
    time, so nothing comes between the read and the write."""
    del vendor
    quote = connection.ops.quote_name
    table = quote(AuditEvent._meta.db_table)
    head = quote(AuditChainHead._meta.db_table)
    columns = ", ".join(quote(field.column) for field, _ in _insert_plan(AuditEvent))
    values = ", ".join(["%s"] * len(_insert_plan(AuditEvent)))
    return (
        f"INSERT INTO {table} ({columns}, previous_hash, hash) "  # noqa: S608 (model metadata)
        f"SELECT {values}, head.last_hash, {audit_chain.SQLITE_LINK}(head.last_hash, %s) "
        f"FROM (SELECT coalesce((SELECT last_hash FROM {head} WHERE account_id = %s), "
        f"'{audit_chain.GENESIS}') AS last_hash) AS head "
        "RETURNING id, previous_hash, hash"
    )


def _append_on_sqlite(event: AuditEvent, cursor: Any) -> None:
    params = [
        field.get_db_prep_save(field.pre_save(event, add=True), connection)
        for field, _ in _insert_plan(AuditEvent)
    ]
    params += [audit_chain.content_digest(event), event.account_id]
    cursor.execute(_sqlite_event_insert(connection.vendor), params)
    event.pk, event.previous_hash, event.hash = cursor.fetchone()
    event._state.adding = False
    event._state.db = connection.alias
