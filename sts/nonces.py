"""Single-use signature nonces, shared by every server process, and the account versions read with
them.

A nonce is spent the first time a correctly signed request carries it; a second use inside the
timestamp window is refused (``SignatureNonceUsed``). In the same round trip the store reads the
versions of the accounts the request depends on (``iam.versions``), under which rows read on
earlier requests may be reused (``sts.row_cache``). One interface, two stores, chosen once from
``NONCE_STORE_URL`` (set from ``CACHE_URL`` when that names Redis):

- ``DatabaseNonces`` (default): an ``INSERT … ON CONFLICT DO NOTHING`` of a unique (access key,
  nonce) row, with the accounts' ``version`` column; on PostgreSQL both in one statement. Rows
  older than twice the window are swept now and then.
- ``RedisNonces``: one script spends the nonce (``SET NX EX``, expiring on its own) and reads the
  accounts' version tokens. A Redis server that keeps nothing on disk forgets spent nonces when it
  restarts, so a request signed in the 15 minutes before a restart could be replayed once after
  it; run Redis with persistence where that matters.

Nonces never live in process memory: the other gunicorn workers and nodes would not see them.
"""

from __future__ import annotations

import hashlib
import random
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime, timedelta
from functools import cache
from typing import Any, Protocol

from django.core.signals import setting_changed
from django.db import connection
from django.dispatch import receiver

from iam import errors
from iam.models import Account
from iam.versions import READER_TOKEN_TTL, new_token, shared_store, version_key
from sts.models import UsedNonce

NONCE_WINDOW = timedelta(minutes=15)
NONCE_MAX_LENGTH = 128
REDIS_KEY_PREFIX = "ram-console:nonce:"
REDIS_TTL = int(2 * NONCE_WINDOW.total_seconds())

Versions = dict[str, Any]


class NonceStore(Protocol):
    def spend(
        self, access_key_id: str, nonce: str, now: datetime, account_ids: Sequence[str]
    ) -> Versions:
        """Spend the nonce and read the versions of ``account_ids`` (those that exist); raise
        ``SignatureNonceUsed`` when the nonce was spent already with this access key."""
        ...


def used_error() -> errors.ServiceError:
    return errors.InvalidParameter(
        "SignatureNonceUsed", "Specified signature nonce was used already."
    )


class DatabaseNonces:
    """Nonces as unique rows; versions from the accounts table."""

    def spend(
        self, access_key_id: str, nonce: str, now: datetime, account_ids: Sequence[str]
    ) -> Versions:
        table = connection.ops.quote_name(UsedNonce._meta.db_table)
        insert = (
            f"INSERT INTO {table} (access_key_id, nonce, seen) VALUES (%s, %s, %s) "  # noqa: S608
            "ON CONFLICT (access_key_id, nonce) DO NOTHING"
        )
        params = [access_key_id, nonce[:NONCE_MAX_LENGTH], now]
        with connection.cursor() as cursor:
            if connection.vendor == "postgresql":
                # One statement: the nonce's row and the versions, from one snapshot.
                accounts = connection.ops.quote_name(Account._meta.db_table)
                cursor.execute(
                    f"WITH inserted AS ({insert} RETURNING 1) "  # noqa: S608
                    "SELECT (SELECT count(*) FROM inserted), "
                    f"(SELECT json_object_agg(id, version) FROM {accounts} WHERE id = ANY(%s))",
                    [*params, list(account_ids)],
                )
                inserted, read = cursor.fetchone()
                read = read or {}
            else:
                cursor.execute(insert, params)
                inserted = cursor.rowcount
                read = dict(
                    Account.objects.filter(pk__in=account_ids)
                    .order_by()
                    .values_list("id", "version")
                )
        if not inserted:
            raise used_error()
        if random.random() < 0.01:
            UsedNonce.objects.filter(seen__lt=now - 2 * NONCE_WINDOW).delete()
        return read


# KEYS: the nonce's key, then the accounts' version keys; ARGV: the nonce's time to live, the time
# to live of a token set here, then a fresh random token per account, set only where the account
# has none (``iam.versions``).
SPEND_AND_READ_VERSIONS = """
local fresh = redis.call('SET', KEYS[1], '1', 'NX', 'EX', ARGV[1])
for i = 2, #KEYS do
    redis.call('SET', KEYS[i], ARGV[i + 1], 'NX', 'EX', ARGV[2])
end
if #KEYS == 1 then
    return {fresh and 1 or 0, {}}
end
return {fresh and 1 or 0, redis.call('MGET', unpack(KEYS, 2))}
"""


class RedisNonces:
    """Nonces and version tokens in Redis: one script call (one request to pack and one reply to
    parse, where a pipeline of the same commands costs the client twice the CPU)."""

    def __init__(self, client: Any) -> None:
        self.client = client
        self.script = client.register_script(SPEND_AND_READ_VERSIONS)

    def spend(
        self, access_key_id: str, nonce: str, now: datetime, account_ids: Sequence[str]
    ) -> Versions:
        keys = [redis_key(access_key_id, nonce), *map(version_key, account_ids)]
        tokens = [new_token() for _ in account_ids]
        with failing_closed():
            fresh, read = self.script(keys=keys, args=[REDIS_TTL, READER_TOKEN_TTL, *tokens])
        if not fresh:
            raise used_error()
        return dict(zip(account_ids, read, strict=True))


def redis_key(access_key_id: str, nonce: str) -> str:
    """A fixed-length key: the client chooses the nonce, so it is hashed, not trusted as a key."""
    # Length-prefixed, so no (key, nonce) pair can collide with another.
    digest = hashlib.sha256(f"{len(access_key_id)}:{access_key_id}:{nonce}".encode()).hexdigest()
    return REDIS_KEY_PREFIX + digest


@cache
def nonce_store() -> NonceStore:
    """The store of this deployment, chosen once from the settings."""
    client = shared_store()
    return RedisNonces(client) if client is not None else DatabaseNonces()


@receiver(setting_changed)
def forget_the_store(setting: str, **kwargs: Any) -> None:
    if setting in ("NONCE_STORE_URL", "DATABASES"):
        nonce_store.cache_clear()


@contextmanager
def failing_closed() -> Iterator[None]:
    """Without the store no request can prove its nonce is fresh: refuse them all."""
    import redis

    try:
        yield
    except redis.RedisError as error:
        raise errors.ServiceUnavailable(
            "ServiceUnavailable",
            "The request has failed due to a temporary failure of the server.",
        ) from error
