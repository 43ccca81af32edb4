"""Rows a server process reuses across API requests, while the versions they were read under
stand.

Every signed request spends its nonce and, in the same round trip, reads the versions of the
accounts it depends on (``sts.nonces``: from the database, or from Redis where one is configured;
``iam.versions`` says why that makes every change take effect on the next request). A row read
*after* those versions may be kept under them, and serves a later request only while that
request read the same versions, and for at most ``SHARED_CACHE_MAX_AGE`` seconds:

- ``access_keys``: an access key with its user and account, by key id, under its account's version;
- ``roles``: a role with its account, by (account, lower-cased name), under that account's version;
- ``session_checks``: a role session's revocation check (``sts.sessions.check_session``), by
  session id, under the versions of the role's account and the caller's.

``key_secrets`` keeps what never changes about an access key once issued (its account and its
encrypted secret), so a request can be verified before anything else is read.
"""

from __future__ import annotations

import time
from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from django.conf import settings

from iam import versions
from iam.arns import resource_account
from iam.policy.cache import BoundedCache

MISSING = object()


@dataclass(frozen=True)
class KeySecret:
    account_id: str
    secret_ciphertext: str


@dataclass(frozen=True)
class Kept:
    stamp: tuple[Any, ...]
    value: Any
    read_at: float


def stamp_of(
    read_versions: Mapping[str, Any], account_ids: Sequence[str]
) -> tuple[Any, ...] | None:
    """The versions of ``account_ids`` as read with the request's nonce, or None when one of them
    was not read (an account that does not exist): then nothing is kept or reused."""
    try:
        return tuple(read_versions[account_id] for account_id in account_ids)
    except KeyError:
        return None


class VersionedCache:
    """A bounded LRU whose entries serve only a request that read the same versions, and not for
    long."""

    def __init__(self, max_size: int) -> None:
        self.entries = BoundedCache(max_size)

    def get(self, key: Hashable, stamp: tuple[Any, ...] | None) -> Any:
        """The value, or ``MISSING`` when absent, kept under other versions, or too old."""
        if stamp is None:
            return MISSING
        entry = self.entries.get(key)
        max_age = settings.SHARED_CACHE_MAX_AGE
        if entry is None or entry.stamp != stamp or time.monotonic() - entry.read_at > max_age:
            return MISSING
        return entry.value

    def put(self, key: Hashable, stamp: tuple[Any, ...] | None, value: Any) -> None:
        if stamp is not None:
            self.entries.put(key, Kept(stamp, value, time.monotonic()))

    def clear(self) -> None:
        self.entries.clear()

    def __len__(self) -> int:
        return len(self.entries)


# Bounds per process: an entry holds model rows (a role's with its trust policy, up to a few KiB).
key_secrets = BoundedCache(8192)
access_keys = VersionedCache(4096)
roles = VersionedCache(4096)
session_checks = VersionedCache(4096)


def forget_all() -> None:
    for entries in (access_keys, roles, session_checks):
        entries.clear()


versions.on_publish_failure.append(forget_all)


def session_accounts(claims: Any) -> list[str]:
    """The accounts a role session's check depends on: the role's, and its caller's (the caller
    ARN's account and the logon identity's, which differ only for chained sessions)."""
    accounts = [claims.account_id, resource_account(claims.caller_arn), claims.source_account_id]
    return sorted({account for account in accounts if account})
