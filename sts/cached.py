"""Rows a server process reuses across API requests.

With Redis as the shared store (``NONCE_STORE_URL``), a signed request spends its nonce and reads
the version tokens of the accounts it depends on in one round trip (``sts.nonces``), and then
reuses, instead of reading PostgreSQL again:

- ``session_checks``: a role session's revocation check (``sts.sessions.check_session``), by
  session id, stamped with the tokens of the role's account and the caller's;
- ``key_rows``: an access key with its user and account, by key id, stamped with the account's;
- ``role_rows``: AssumeRole's target role with its account, stamped with the role's account's.

An entry serves only a request whose stamp equals the one read before the rows were (see
``iam.versions`` for why that makes every revocation and policy change take effect on the next
request in every process), and for at most ``SHARED_CACHE_MAX_AGE`` seconds. ``key_owners`` keeps
what never changes about a key id once issued (its account and its encrypted secret), so a request
can be verified before anything is read and the stamp can be read before the key's row is.
Without Redis, on PostgreSQL, only ``session_checks`` is used: the nonce's INSERT reads the
accounts' versions from the database in the same statement, and a check is read again together
with them when they moved (``sts.api.session_identity_from_database``); access keys and roles are
read with the request's first statement as before. On SQLite nothing is kept.
"""

from __future__ import annotations

import time
from collections.abc import Hashable
from dataclasses import dataclass
from typing import Any

from django.conf import settings

from iam import versions
from iam.authz import BoundedCache

MISSING = object()


@dataclass(frozen=True)
class KeyOwner:
    account_id: str
    secret_ciphertext: str


@dataclass(frozen=True)
class Stamped:
    stamp: tuple[Any, ...]
    value: Any
    read_at: float


class StampedCache:
    """A bounded LRU whose entries serve only a request with the same stamp, and not for long."""

    def __init__(self, max_size: int) -> None:
        self.entries = BoundedCache(max_size)

    def get(self, key: Hashable, stamp: tuple[Any, ...]) -> Any:
        """The value, or ``MISSING`` when absent, stamped otherwise, or too old."""
        entry = self.entries.get(key)
        max_age = settings.SHARED_CACHE_MAX_AGE
        if entry is None or entry.stamp != stamp or time.monotonic() - entry.read_at > max_age:
            return MISSING
        return entry.value

    def put(self, key: Hashable, stamp: tuple[Any, ...], value: Any) -> None:
        self.entries.put(key, Stamped(stamp, value, time.monotonic()))

    def clear(self) -> None:
        self.entries.clear()

    def __len__(self) -> int:
        return len(self.entries)


# Bounds per process: an entry holds model rows (a role's with its trust policy, up to a few KiB).
key_owners = BoundedCache(8192)
key_rows = StampedCache(4096)
role_rows = StampedCache(4096)
session_checks = StampedCache(4096)


def forget_all() -> None:
    for entries in (key_rows, role_rows, session_checks):
        entries.clear()


versions.on_publish_failure.append(forget_all)


def enabled() -> bool:
    return versions.shared_store() is not None


def session_accounts(claims: Any) -> list[str]:
    """The accounts a role session's check depends on: the role's, and its caller's (the caller
    ARN's account and the logon identity's, which differ only for chained sessions)."""
    caller_parts = claims.caller_arn.split(":", 4)
    caller_account = caller_parts[3] if len(caller_parts) == 5 else ""
    accounts = [claims.account_id, caller_account, claims.source_account_id]
    return sorted({account for account in accounts if account})
