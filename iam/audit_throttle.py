"""A quota on refusals in the audit trail: at most ``RECORDED_PER_MINUTE`` refusals of one caller
in one account's trail each minute, so nobody can flood another account's trail with refused
calls (any key may name any account's role in an AssumeRole).

Beyond the quota the refusal still happens; it is only not recorded on its own. It is counted,
and the next refusal of that caller recorded in that account carries the count
(``SuppressedRefusals``); the last one recorded in a minute says the quota was reached
(``RecordingLimitReached``), so the trail never hides that more happened. A count still pending
when the caller stops is kept for ``PENDING_DAYS`` and reported with the caller's next refusal
there.

The counts are shared by every process: one statement on the database (``DatabaseThrottle``,
an upsert of the caller's row in ``AuditRefusalWindow``), or, when the nonce store is Redis
(``NONCE_STORE_URL``), one script call (``RedisThrottle``). If Redis cannot be reached the refusal
is recorded: the trail loses nothing for a throttle's failure.
"""

from __future__ import annotations

import hashlib
import logging
import random
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from typing import Any, Protocol

from django.core.signals import setting_changed
from django.db import connection
from django.dispatch import receiver
from django.utils import timezone

from iam.audit import Actor, record
from iam.models import AuditEvent, AuditRefusalWindow
from iam.versions import shared_store

logger = logging.getLogger(__name__)

RECORDED_PER_MINUTE = 10
PENDING_DAYS = 7
REDIS_KEY_PREFIX = "ram-console:audit-refusals:"
LIMIT_REACHED = (
    f"At most {RECORDED_PER_MINUTE} refusals of this caller are recorded in this account a "
    "minute; further ones are counted, and the count is recorded with the next one recorded."
)


@dataclass(frozen=True)
class Admission:
    """Whether to record this refusal; how many went unrecorded before it (to report with it);
    whether it is the last one recorded this minute."""

    record: bool
    suppressed: int = 0
    last: bool = False


class Throttle(Protocol):
    def admit(self, caller_arn: str, account_id: str, now: datetime) -> Admission: ...


def caller_key(caller_arn: str, account_id: str) -> str:
    """A fixed-length key (the caller's ARN may be long); length-prefixed, so no two pairs
    collide."""
    return hashlib.sha256(f"{len(caller_arn)}:{caller_arn}:{account_id}".encode()).hexdigest()


def minute_of(now: datetime) -> int:
    return int(now.timestamp()) // 60


def admission(refusals: int, reported: int) -> Admission:
    if refusals > RECORDED_PER_MINUTE:
        return Admission(record=False)
    return Admission(True, reported, last=refusals == RECORDED_PER_MINUTE)


class DatabaseThrottle:
    """One upsert of the caller's row: it counts the refusal in its minute (a new minute starts
    at one), and hands over the pending count when this refusal is recorded (``reported``), or
    adds one to it when it is not. The row lock makes concurrent refusals count one by one."""

    def admit(self, caller_arn: str, account_id: str, now: datetime) -> Admission:
        table = connection.ops.quote_name(AuditRefusalWindow._meta.db_table)
        refusals = "CASE WHEN w.minute = excluded.minute THEN w.refusals + 1 ELSE 1 END"
        recorded = f"({refusals}) <= {RECORDED_PER_MINUTE}"
        minute = minute_of(now)
        with connection.cursor() as cursor:
            cursor.execute(
                f"INSERT INTO {table} AS w (caller_key, minute, refusals, suppressed, reported) "  # noqa: S608
                "VALUES (%s, %s, 1, 0, 0) ON CONFLICT (caller_key) DO UPDATE SET "
                f"refusals = {refusals}, "
                f"reported = CASE WHEN {recorded} THEN w.suppressed ELSE 0 END, "
                f"suppressed = CASE WHEN {recorded} THEN 0 ELSE w.suppressed + 1 END, "
                "minute = excluded.minute "
                "RETURNING refusals, reported",
                [caller_key(caller_arn, account_id), minute],
            )
            counted, reported = cursor.fetchone()
        if random.random() < 0.01:
            sweep(minute)
        return admission(counted, reported)


def sweep(minute: int) -> None:
    """Rows of past minutes with nothing pending, and pending counts too old to report."""
    stale = AuditRefusalWindow.objects.filter(minute__lt=minute - 1)
    stale.filter(suppressed=0).delete()
    stale.filter(minute__lt=minute - PENDING_DAYS * 1440).delete()


# KEYS: the caller's count this minute, the caller's pending count. ARGV: the quota, the time
# to live of a minute's count, of a pending count.
ADMIT = """
local refusals = redis.call('INCR', KEYS[1])
if refusals == 1 then
    redis.call('EXPIRE', KEYS[1], ARGV[2])
end
if refusals <= tonumber(ARGV[1]) then
    local pending = redis.call('GET', KEYS[2])
    if pending then
        redis.call('DEL', KEYS[2])
    end
    return {refusals, tonumber(pending or '0')}
end
redis.call('INCR', KEYS[2])
redis.call('EXPIRE', KEYS[2], ARGV[3])
return {refusals, 0}
"""


class RedisThrottle:
    """The same counts in Redis, one script call: the minute's count expires on its own."""

    def __init__(self, client: Any) -> None:
        self.script = client.register_script(ADMIT)

    def admit(self, caller_arn: str, account_id: str, now: datetime) -> Admission:
        import redis

        key = REDIS_KEY_PREFIX + caller_key(caller_arn, account_id)
        keys = [f"{key}:{minute_of(now)}", f"{key}:pending"]
        try:
            refusals, reported = self.script(
                keys=keys, args=[RECORDED_PER_MINUTE, 120, PENDING_DAYS * 86400]
            )
        except redis.RedisError:
            logger.warning("refusal quota unavailable; recording the refusal", exc_info=True)
            return Admission(record=True)
        return admission(int(refusals), int(reported))


@cache
def refusal_throttle() -> Throttle:
    """The throttle of this deployment: Redis when the nonce store is, else the database."""
    client = shared_store()
    return RedisThrottle(client) if client is not None else DatabaseThrottle()


@receiver(setting_changed)
def forget_the_throttle(setting: str, **kwargs: Any) -> None:
    if setting in ("NONCE_STORE_URL", "DATABASES"):
        refusal_throttle.cache_clear()


def record_refusal(
    actor: Actor,
    action: str,
    resource_arn: str,
    *,
    caller_arn: str,
    account_id: str,
    error_code: str,
    details: dict[str, Any],
) -> AuditEvent | None:
    """Record a refusal of ``caller_arn`` in ``account_id``'s trail within the quota; None when
    it is over the quota (counted, to be reported with the next one recorded)."""
    account_id = account_id or actor.account_id  # as ``record`` would file it
    admitted = refusal_throttle().admit(caller_arn, account_id, timezone.now())
    if not admitted.record:
        return None
    if admitted.suppressed:
        details = {**details, "SuppressedRefusals": admitted.suppressed}
    if admitted.last:
        details = {**details, "RecordingLimitReached": LIMIT_REACHED}
    return record(
        actor,
        action,
        resource_arn,
        account_id=account_id,
        result=AuditEvent.Result.FAILURE,
        error_code=error_code,
        details=details,
    )
