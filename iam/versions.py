"""Account versions: what lets a server process trust rows it read on an earlier request.

Every change that can alter an API answer about an account's principals (policy attach and
detach, group membership, user update and deletion, access key status and deletion, role
creation, update and deletion, session revocation, a new default policy version, the account
alias) bumps the account's ``version`` in the database inside the change's transaction
(``changed``; ``iam.services.bump_authz_revision`` bumps it with ``authz_revision``). Where a Redis
store is configured (``NONCE_STORE_URL``), the same change also sets the account's version key
there to a fresh random token once its transaction commits, before the change's own request
answers.

With the database as the nonce store (PostgreSQL), a reader (``sts.cached``) reads the versions
in the statement that spends the nonce, and reads a session check again together with the
versions, in one statement and so from one snapshot: a kept check matches the versions exactly,
and a change's bump is visible to the first statement that starts after its commit.

With Redis, a reader reads the tokens of the accounts a request depends on *before* it reads the
database, and keeps what it read stamped with them; a later request reuses the rows only while
every token still matches. A change that commits after the stamp was read always sets a
new token after its commit, so the stamp stops matching by the change's next request in every
server process. Tokens are random, never counters, and a reader that finds no token sets a random one
itself before reading (``new_token``), so a Redis restart (which loses the keys) can never bring
an old stamp back to life.

If Redis cannot be reached right after a commit, the token is not set: the failure is logged, this
process forgets what it cached, and other processes keep their cached rows for at most
``SHARED_CACHE_MAX_AGE`` seconds (``sts.cached``).
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Callable
from functools import cache, partial
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.db.models import F

from iam.models import Account

logger = logging.getLogger(__name__)

VERSION_KEY_PREFIX = "ram-console:account-version:"
# Tokens expire (a reader then sets a fresh one: a safe invalidation), so account ids that name
# no account, which a request may carry, leave nothing behind for long.
VERSION_TTL = 86400
# Called when a token could not be set: each clears one of this process's caches.
on_publish_failure: list[Callable[[], None]] = []


@cache
def redis_client(url: str) -> Any:
    """One client (with its connection pool, safe across threads) per process and URL."""
    if not url:
        return None
    import redis
    from redis.backoff import NoBackoff
    from redis.retry import Retry

    # No retries: a script whose reply timed out may have run, and sending it again would find
    # the request's own nonce spent; failing at once fails closed (503) instead of after retries.
    return redis.Redis.from_url(
        url, socket_timeout=2, socket_connect_timeout=2, retry=Retry(NoBackoff(), 0)
    )


def shared_store() -> Any:
    """The configured Redis client, or None (the database is then the only shared store)."""
    return redis_client(getattr(settings, "NONCE_STORE_URL", "") or "")


def version_key(account_id: str) -> str:
    return VERSION_KEY_PREFIX + account_id


def changed(account_id: str) -> None:
    """Inside a change's transaction: bump the account's version, and have its token set once
    the change commits."""
    if account_id:
        Account.objects.filter(pk=account_id).update(version=F("version") + 1)
        published(account_id)


def published(account_id: str) -> None:
    """Inside a change's transaction that bumped the account's version itself: have the account's
    token set once it commits."""
    if account_id and shared_store() is not None:
        transaction.on_commit(partial(publish, account_id))


def publish(account_id: str) -> None:
    import redis

    client = shared_store()
    if client is None:
        return
    try:
        client.set(version_key(account_id), new_token(), ex=VERSION_TTL)
    except redis.RedisError:
        logger.exception("could not publish the new version of account %s", account_id)
        for forget in on_publish_failure:
            forget()


def stamp_expression() -> str:
    """PostgreSQL: the versions of the accounts given as one array parameter, as an array ordered
    by account id (a scalar expression, to ride on another statement)."""
    table = connection.ops.quote_name(Account._meta.db_table)
    return f"ARRAY(SELECT version FROM {table} WHERE id = ANY(%s) ORDER BY id)"  # noqa: S608


def new_token() -> str:
    """A version token. A reader that finds an account without one sets one of these first
    (``sts.nonces.spend_in_redis_reading``), so a stamp never holds ``None``: a token lost with a
    Redis restart must not match again once the next change's token is lost too."""
    return secrets.token_hex(16)
