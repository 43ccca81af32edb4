"""Single-use signature nonces, shared by every server process.

A nonce is spent the first time a correctly signed request carries it; a second use inside the
timestamp window is refused (``SignatureNonceUsed``). Two stores, chosen by ``NONCE_STORE_URL``
(set from ``CACHE_URL`` when that names Redis):

- the database (default): an ``INSERT … ON CONFLICT DO NOTHING RETURNING`` on a unique
  (access key, nonce) row, one round trip; rows older than twice the window are swept now and then;
- Redis: ``SET key NX EX``, one round trip and no disk write on PostgreSQL's side. The key expires
  on its own after twice the window. A Redis server that keeps nothing on disk forgets spent
  nonces when it restarts, so a request signed in the 15 minutes before a restart could be
  replayed once after it; run Redis with persistence where that matters.

Nonces never live in process memory: the other gunicorn workers and nodes would not see them.
"""

from __future__ import annotations

import hashlib
import random
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache
from typing import Any

from django.conf import settings
from django.db import IntegrityError, connection

from iam import errors
from iam.versions import VERSION_TTL, new_token, shared_store, stamp_expression, version_key
from sts.models import NONCE_UNIQUE, UsedNonce

NONCE_WINDOW = timedelta(minutes=15)
NONCE_MAX_LENGTH = 128
REDIS_KEY_PREFIX = "ram-console:nonce:"
ON_CONFLICT = " ON CONFLICT (access_key_id, nonce) DO NOTHING"
REDIS_TTL = int(2 * NONCE_WINDOW.total_seconds())


def spend(access_key_id: str, nonce: str, now: datetime) -> bool:
    """Record the nonce; False when it was already spent with this access key."""
    client = shared_store()
    if client is not None:
        return spend_in_redis(client, access_key_id, nonce)
    return spend_in_database(access_key_id, nonce, now)


def can_spend_with_a_read() -> bool:
    """Whether the nonce can ride on the request's first read (``iam.rows``'s
    ``fetch_one_after_insert``): the database store, on PostgreSQL. Saves a round trip."""
    return not getattr(settings, "NONCE_STORE_URL", "") and connection.vendor == "postgresql"


def insert_statement(
    access_key_id: str, nonce: str, now: datetime, *, only_if: tuple[str, list[Any]] | None = None
) -> tuple[str, list[Any]]:
    """The INSERT that spends a nonce: it writes a row only if none exists for the pair, and,
    given ``only_if`` (a query with its parameters), only if that query finds a row."""
    table = connection.ops.quote_name(UsedNonce._meta.db_table)
    params = [access_key_id, nonce[:NONCE_MAX_LENGTH], now]
    if only_if is None:
        rows = "VALUES (%s, %s, %s)"
    else:
        rows = f"SELECT %s, %s, %s WHERE EXISTS ({only_if[0]})"
        params += only_if[1]
    sql = f"INSERT INTO {table} (access_key_id, nonce, seen) {rows}"
    return sql + ON_CONFLICT, params


def seen_statement(access_key_id: str, nonce: str) -> tuple[str, list[Any]]:
    """A scalar subquery: whether the pair is spent already. For a spend deferred to the request's
    one write (``PendingNonce``), it rides on the request's first read."""
    table = connection.ops.quote_name(UsedNonce._meta.db_table)
    return (
        f"EXISTS (SELECT 1 FROM {table} WHERE access_key_id = %s AND nonce = %s)",  # noqa: S608
        [access_key_id, nonce[:NONCE_MAX_LENGTH]],
    )


@dataclass
class PendingNonce:
    """A nonce seen unspent by the request's first read, to be spent by the request's one write
    (AssumeRole's session and audit rows): one commit where there would be two. That write
    carries ``insert()``, which has no ``ON CONFLICT``: if a concurrent copy of the request spent
    the pair first, the unique constraint fails the whole write (``is_conflict``) and nothing of
    it is kept. Whatever path does not reach that write spends it with ``settle()``."""

    access_key_id: str
    nonce: str
    now: datetime
    spent: bool = False

    def insert(self) -> tuple[str, list[Any]]:
        sql, params = insert_statement(self.access_key_id, self.nonce, self.now)
        return sql.removesuffix(ON_CONFLICT), params

    def written(self) -> None:
        """The write that carried ``insert()`` committed."""
        self.spent = True
        spent(True, self.now)

    def settle(self) -> bool:
        """Spend it now unless a write already did; False when another request spent it first."""
        if self.spent:
            return True
        fresh = spend_in_database(self.access_key_id, self.nonce, self.now)
        self.spent = True
        return fresh


def is_conflict(error: IntegrityError) -> bool:
    """Whether a write failed on the nonce table's unique (access key, nonce) constraint:
    PostgreSQL names it; SQLite names the table's columns in its message."""
    diagnostic = getattr(error.__cause__, "diag", None)
    if diagnostic is not None:
        return diagnostic.constraint_name == NONCE_UNIQUE
    return f"{UsedNonce._meta.db_table}.nonce" in str(error)


def used_error() -> errors.ServiceError:
    return errors.ServiceError(
        "SignatureNonceUsed", "Specified signature nonce was used already.", status=400
    )


def spend_in_database(access_key_id: str, nonce: str, now: datetime) -> bool:
    sql, params = insert_statement(access_key_id, nonce, now)
    with connection.cursor() as cursor:
        cursor.execute(f"{sql} RETURNING 1", params)
        inserted = cursor.fetchone() is not None
    return spent(inserted, now)


def spend_in_database_reading(
    access_key_id: str, nonce: str, now: datetime, account_ids: Sequence[str]
) -> tuple[bool, tuple[int, ...]]:
    """PostgreSQL: ``spend_in_database`` and the accounts' versions (``iam.versions``) in one
    statement: whether the nonce was fresh (not yet swept), and the stamp."""
    sql, params = insert_statement(access_key_id, nonce, now)
    # Our INSERT and our expression, every value a parameter.
    statement = (
        f"WITH inserted AS ({sql} RETURNING 1) "  # noqa: S608
        f"SELECT (SELECT count(*) FROM inserted), {stamp_expression()}"
    )
    with connection.cursor() as cursor:
        cursor.execute(statement, [*params, list(account_ids)])
        inserted, stamp = cursor.fetchone()
    return bool(inserted), tuple(stamp)


def spent(inserted: bool, now: datetime) -> bool:
    """After a database spend: now and then, sweep rows older than twice the window."""
    if inserted and random.random() < 0.01:
        UsedNonce.objects.filter(seen__lt=now - 2 * NONCE_WINDOW).delete()
    return inserted


def redis_key(access_key_id: str, nonce: str) -> str:
    """A fixed-length key: the client chooses the nonce, so it is hashed, not trusted as a key."""
    # Length-prefixed, so no (key, nonce) pair can collide with another.
    digest = hashlib.sha256(f"{len(access_key_id)}:{access_key_id}:{nonce}".encode()).hexdigest()
    return REDIS_KEY_PREFIX + digest


def spend_in_redis(client: Any, access_key_id: str, nonce: str) -> bool:
    with failing_closed():
        return bool(client.set(redis_key(access_key_id, nonce), b"1", nx=True, ex=REDIS_TTL))


# KEYS: the nonce's key, then the accounts' version keys; ARGV: the nonce's time to live, the
# tokens' time to live, then a fresh random token per account, set only where the account has
# none (``iam.versions``).
SPEND_AND_STAMP = """
local fresh = redis.call('SET', KEYS[1], '1', 'NX', 'EX', ARGV[1])
for i = 2, #KEYS do
    redis.call('SET', KEYS[i], ARGV[i + 1], 'NX', 'EX', ARGV[2])
end
return {fresh and 1 or 0, redis.call('MGET', unpack(KEYS, 2))}
"""


def spend_in_redis_reading(
    client: Any, access_key_id: str, nonce: str, account_ids: Sequence[str]
) -> tuple[bool, tuple[bytes | None, ...]]:
    """``spend_in_redis`` and a read of the accounts' version tokens (``iam.versions``), in one
    command (a script: one request to pack and one reply to parse, where a pipeline of the same
    commands costs twice the client's CPU): whether the nonce was fresh, and the stamp."""
    keys = [redis_key(access_key_id, nonce), *map(version_key, account_ids)]
    tokens = [new_token() for _ in account_ids]
    with failing_closed():
        args = [REDIS_TTL, VERSION_TTL, *tokens]
        fresh, stamp = spend_and_stamp_script(client)(keys=keys, args=args)
    return bool(fresh), tuple(stamp)


@cache
def spend_and_stamp_script(client: Any) -> Any:
    """The script, registered once per client (redis-py sends EVALSHA, and the script itself
    only when the server does not know it yet)."""
    return client.register_script(SPEND_AND_STAMP)


@contextmanager
def failing_closed() -> Iterator[None]:
    """Without the store no request can prove its nonce is fresh: refuse them all."""
    import redis

    try:
        yield
    except redis.RedisError as error:
        raise errors.ServiceError(
            "ServiceUnavailable",
            "The request has failed due to a temporary failure of the server.",
            status=503,
        ) from error
