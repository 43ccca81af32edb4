"""The audit trail's hash chain: one chain per account (system events, account "", have theirs).

Each event stores ``previous_hash``, the hash of the event before it in its account's chain
(``GENESIS`` for the first), and ``hash = SHA-256(previous_hash ‖ digest)``, where ``digest`` is
the SHA-256 of a canonical serialization of the event's fields (``content_digest``). Changing a
recorded field breaks that event's own hash; removing an event breaks the next event's link; and
removing the newest events breaks the agreement with the account's chain head
(``AuditChainHead``: how many events the chain holds and the newest hash).

Appending is serialized per account by the head's row: on PostgreSQL one statement upserts the
head (its row lock taken, the newest committed hash read, ``INSERT … ON CONFLICT DO UPDATE``),
computes the link with the database's ``sha256`` and inserts the event with it
(``iam.joint_insert``); the lock is held until the event's transaction ends, and the event's id
is drawn from the sequence only after it is taken, so within an account id order is chain order.
Two workers appending to one account queue on the row instead of forking the chain. On SQLite the
event's INSERT reads the head in a subquery and a trigger moves the head on, one statement of
the one writer SQLite admits at a time.

The digest is computed here, in Python (``content_digest``), over the fields as the database
gives them back (``stored_details``), so the verifier recomputes it from a stored row.

The chain detects a rewrite by anyone who cannot also rewrite every later hash and the head; to
detect even that, keep the head's hash somewhere else now and then (``manage.py verifyaudit``
prints it).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from django.db import connection
from django.db.backends.signals import connection_created
from django.dispatch import receiver
from django.utils import timezone

from iam.models import AuditChainCheckpoint, AuditChainHead, AuditEvent

GENESIS = "0" * 64
FORMAT = "ram-console/audit-event/1"

# The fields the digest covers, in this order (never the id, which the database draws).
HASHED_FIELDS = (
    "account_id",
    "time",
    "request_id",
    "channel",
    "source_account_id",
    "logon_identity",
    "effective_identity",
    "source_ip",
    "user_agent",
    "action",
    "resource_arn",
    "result",
    "error_code",
    "details",
)


# --- the hashes -------------------------------------------------------------------------------


def content_digest(event: Any) -> str:
    """SHA-256 (hex) of the event's canonical serialization (any object with the fields): compact
    JSON, keys sorted, of an array of ``FORMAT`` and the ``HASHED_FIELDS``, the time in UTC to the
    microsecond and the details as the database gives them back (``stored_details``)."""
    values = [FORMAT]
    for name in HASHED_FIELDS:
        value = getattr(event, name)
        if name == "time":
            value = canonical_time(value)
        elif name == "details":
            value = stored_details(value)
        values.append(value)
    text = json.dumps(values, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()


def link(previous_hash: str, digest: str) -> str:
    """An event's hash: SHA-256 over the previous hash and its digest (32 bytes each)."""
    return hashlib.sha256(bytes.fromhex(previous_hash) + bytes.fromhex(digest)).hexdigest()


def event_hash(event: Any) -> str:
    """What the event's hash must be, from its recorded fields and recorded previous hash."""
    return link(event.previous_hash, content_digest(event))


def canonical_time(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def stored_details(details: Any) -> Any:
    """The details as reading them back gives them: a JSON round trip (tuples become lists, keys
    strings), where a whole number written as a float reads as the integer (PostgreSQL's
    ``jsonb`` gives ``1e100`` and ``2.0`` back as integers, SQLite keeps them floats)."""
    return json.loads(json.dumps(details), parse_float=json_number)


def json_number(text: str) -> int | float:
    number = Decimal(text)
    return int(number) if number == number.to_integral_value() else float(text)


# --- appending ----------------------------------------------------------------------------------


# SQLite: the name of ``link`` as an SQL function of every connection (``iam.joint_insert``).
SQLITE_LINK = "audit_link"


@receiver(connection_created)
def add_sqlite_link(sender: Any, connection: Any, **kwargs: Any) -> None:
    if connection.vendor == "sqlite":
        connection.connection.create_function(SQLITE_LINK, 2, link, deterministic=True)


def head_upsert_sql() -> str:
    """PostgreSQL: the chain step of an event's INSERT, as a statement for a ``WITH``: creates or
    locks the account's head and moves it one event on, returning the event's previous hash and
    hash. Parameters: the account id, then the event's digest twice."""
    head = connection.ops.quote_name(AuditChainHead._meta.db_table)
    return (
        f"INSERT INTO {head} AS head (account_id, length, previous_hash, last_hash) "  # noqa: S608
        f"VALUES (%s, 1, '{GENESIS}', encode(sha256(decode('{GENESIS}' || %s, 'hex')), 'hex')) "
        "ON CONFLICT (account_id) DO UPDATE SET length = head.length + 1, "
        "previous_hash = head.last_hash, "
        "last_hash = encode(sha256(decode(head.last_hash || %s, 'hex')), 'hex') "
        "RETURNING previous_hash, last_hash"
    )


def head_upsert_params(event: AuditEvent) -> list[str]:
    digest = content_digest(event)
    return [event.account_id, digest, digest]


# --- verifying ----------------------------------------------------------------------------------

READ = ("id", "previous_hash", "hash", *HASHED_FIELDS)


@dataclass(frozen=True)
class Verified:
    """How far an account's chain verified: ``length`` events through event ``last_id`` (None:
    none yet) ending in ``last_hash``; ``broken_at`` and ``problem`` name the first break."""

    account_id: str
    length: int = 0
    last_id: int | None = None
    last_hash: str = GENESIS
    broken_at: int | None = None
    problem: str = ""
    # False when verification stopped at its limit with events left to verify.
    complete: bool = True

    @property
    def intact(self) -> bool:
        return self.broken_at is None and not self.problem


def verify_account(
    account_id: str, *, start: Verified | None = None, limit: int | None = None
) -> Verified:
    """Walk ``account_id``'s chain in id order on from ``start`` (a part verified earlier, or the
    beginning) and say how far it holds; at most ``limit`` events are read (``complete`` is
    False when some were left). The head is read first: every event it counts committed with it,
    and events appended while the walk runs are left for the next one."""
    start = start or Verified(account_id)
    length, last_hash = read_head(account_id)
    if length is None and first_event(account_id, start) is not None:
        length, last_hash = read_head(account_id)  # a chain that began after the first read
        if length is None:
            first = first_event(account_id, start)
            return replace(start, broken_at=first, problem="the chain's head is missing")
    length, last_hash = length or 0, last_hash or GENESIS
    if length < start.length:
        return replace(
            start,
            broken_at=start.last_id,
            problem=f"the chain's head counts {length} events, fewer than the {start.length} "
            "verified before: it was rewound",
        )
    wanted = length - start.length if limit is None else min(length - start.length, limit)
    events = AuditEvent.objects.filter(account_id=account_id).order_by("id").only(*READ)
    if start.last_id is not None:
        events = events.filter(id__gt=start.last_id)
    walked = walk(start, events[:wanted].iterator(chunk_size=2000) if wanted else ())
    if not walked.intact:
        return walked
    if walked.length < start.length + wanted:
        missing = start.length + wanted - walked.length
        return replace(
            walked,
            broken_at=walked.last_id,
            problem=f"{missing} event(s) after {where(walked.last_id)} were removed "
            "(the chain's head counts them)",
        )
    if walked.length < length:
        return replace(walked, complete=False)
    if walked.last_hash != last_hash:
        return replace(
            walked,
            broken_at=walked.last_id,
            problem=f"the chain's head does not match {where(walked.last_id)}: the newest "
            "events were rewritten",
        )
    return walked


def read_head(account_id: str) -> tuple[int | None, str | None]:
    head = AuditChainHead.objects.filter(pk=account_id).values_list("length", "last_hash")
    return head.first() or (None, None)


def first_event(account_id: str, start: Verified) -> int | None:
    events = AuditEvent.objects.filter(account_id=account_id)
    if start.last_id is not None:
        events = events.filter(id__gt=start.last_id)
    return events.order_by("id").values_list("id", flat=True).first()


def where(event_id: int | None) -> str:
    return f"event {event_id}" if event_id is not None else "the chain's start"


def walk(start: Verified, events: Iterable[AuditEvent]) -> Verified:
    """Check each event's own hash and its link to the one before; stop at the first break."""
    length, last_id, last_hash = start.length, start.last_id, start.last_hash
    for event in events:
        if event_hash(event) != event.hash:
            problem = f"event {event.pk} was altered: its recorded fields do not match its hash"
        elif event.previous_hash != last_hash:
            problem = (
                f"event {event.pk} does not follow {where(last_id)}: an event between them was "
                f"removed, or {where(last_id)} was rewritten"
            )
        else:
            length, last_id, last_hash = length + 1, event.pk, event.hash
            continue
        return Verified(start.account_id, length, last_id, last_hash, event.pk, problem)
    return Verified(start.account_id, length, last_id, last_hash)


def chained_accounts() -> list[str]:
    """Every account with a chain head or an event (the latter should imply the former)."""
    heads = set(AuditChainHead.objects.values_list("account_id", flat=True))
    events = AuditEvent.objects.order_by().values_list("account_id", flat=True).distinct()
    return sorted(heads | set(events))


# --- checkpoints: what the audit trail page shows -----------------------------------------------

# Events a page view verifies at most (a first visit to a long trail goes on at the next).
PAGE_VERIFY_LIMIT = 20_000


def from_checkpoint(checkpoint: AuditChainCheckpoint) -> Verified:
    return Verified(
        checkpoint.account_id,
        checkpoint.length,
        checkpoint.last_event_id,
        checkpoint.last_hash,
        checkpoint.broken_at,
        checkpoint.problem,
    )


def save_checkpoint(verified: Verified, *, full: bool = False) -> None:
    """Keep how far the chain verified (``full``: walked from its start to its head)."""
    now = timezone.now()
    values: dict[str, Any] = {
        "length": verified.length,
        "last_event_id": verified.last_id,
        "last_hash": verified.last_hash,
        "broken_at": verified.broken_at,
        "problem": verified.problem[:300],
        "verified": now,
    }
    if full and verified.complete:
        values["fully_verified"] = now
    AuditChainCheckpoint.objects.update_or_create(account_id=verified.account_id, defaults=values)


def verify_fully(account_id: str) -> Verified:
    """The whole chain from its start (``manage.py verifyaudit``); the result is the account's
    new checkpoint, a break recorded before forgotten if the chain holds now."""
    verified = verify_account(account_id)
    save_checkpoint(verified, full=True)
    return verified


def trail_integrity(account_id: str, shown: Iterable[AuditEvent] = ()) -> Verified:
    """What the audit trail page says of the account's chain, at a cost that does not grow with
    the trail: from the stored checkpoint, only the events appended since are verified (at most
    ``PAGE_VERIFY_LIMIT``), the checkpoint's own event is checked to be still there unchanged,
    and so is each event ``shown`` on the page. A break found stays until ``verify_fully``."""
    checkpoint = AuditChainCheckpoint.objects.filter(pk=account_id).first()
    start = from_checkpoint(checkpoint) if checkpoint is not None else None
    if start is not None and not start.intact:
        return start
    if start is not None and start.last_id is not None:
        kept = AuditEvent.objects.filter(pk=start.last_id, account_id=account_id)
        if not kept.filter(hash=start.last_hash).exists():
            verified = replace(
                start,
                broken_at=start.last_id,
                problem=f"event {start.last_id}, verified before, was removed or rewritten",
            )
            save_checkpoint(verified)
            return verified
    verified = verify_account(account_id, start=start, limit=PAGE_VERIFY_LIMIT)
    for event in shown:
        if verified.intact and event.account_id == account_id and event_hash(event) != event.hash:
            verified = replace(
                verified,
                broken_at=event.pk,
                problem=f"event {event.pk} was altered: its recorded fields do not match its hash",
            )
    if start is None or verified != replace(start, complete=verified.complete):
        save_checkpoint(verified, full=start is None)
    return verified
