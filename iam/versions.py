"""Account versions: one counter per account for everything a decision or an API answer about
the account's principals depends on.

Every change to such an input (a policy attached or detached, a group membership, a default
policy version, a user disabled, updated or deleted, an access key's status or deletion, a role
created, updated or deleted, a session revoked, the account alias) calls ``bump`` inside its
transaction: the account's ``version`` moves with the change, atomically. Readers use it three
ways:

- compiled policy sets are cached per (principal, version) (``iam.authz``);
- a role session's caller is checked again when its account's version moved since the session
  was issued (``sts.sessions``);
- API requests read the versions of the accounts they depend on together with their nonce, and
  reuse rows read under the same versions on earlier requests (``sts.nonces``,
  ``sts.row_cache``).

Readers read the versions *before* the rows they keep under them. A change's bump commits with
the change, so a row read after a version was read is at least as new as that version: a kept row
is never older than the versions it serves, and a change is seen by the next request that reads
the versions after it committed.

With Redis (``NONCE_STORE_URL``) the versions a request reads are random tokens kept in Redis,
set afresh by ``bump`` once the change commits, before the change's own request answers. Tokens
are random, never counters, and a reader that finds no token sets a random one itself before
reading (``new_token``), so a Redis restart (which loses the keys) can never bring an old version
back to life. If Redis cannot be reached right after a commit, the token is not set: the failure
is logged, this process forgets what it kept, and other processes keep their rows for at most
``SHARED_CACHE_MAX_AGE`` seconds.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Callable
from functools import cache, partial
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import F

from iam.models import Account

logger = logging.getLogger(__name__)

VERSION_KEY_PREFIX = "ram-console:account-version:"
# Tokens expire (a reader then sets a fresh one: a safe invalidation), so account ids that name
# no account, which a request may carry, leave nothing behind for long.
VERSION_TTL = 86400
# A token a reader sets for an account that has none (never changed lately, or not an account at
# all: any verified request may name one in a RoleArn) lives only this long, so made-up account
# ids cannot fill Redis; when it expires the next reader sets a new one, which only costs a read.
READER_TOKEN_TTL = 600
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


def bump(account_id: str) -> None:
    """Inside a change's transaction, for any change to what an answer about the account's
    principals depends on: bump the account's version (every compiled policy set and kept row of
    the account is then stale, and its role sessions' callers are checked again), and with Redis
    have the account's token set once the change commits."""
    if not account_id:
        return
    Account.objects.filter(pk=account_id).update(version=F("version") + 1)
    if shared_store() is not None:
        transaction.on_commit(partial(publish, account_id))


def publish(account_id: str) -> None:
    """Set a fresh token for the account in Redis (after a change committed)."""
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


def new_token() -> str:
    """A version token. A reader that finds an account without one sets one of these first
    (``sts.nonces.RedisNonces``), so a stamp never holds ``None``: a token lost with a
    Redis restart must not match again once the next change's token is lost too."""
    return secrets.token_hex(16)
