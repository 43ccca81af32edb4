"""The append-only audit trail: who (logon and effective identity) did what, from where, and how it ended.

Services call ``record`` inside their own transaction, so a change and its event commit together
and a failed change leaves no event of success behind. Every event is appended to its account's
hash chain (``append``, ``iam.audit_chain``).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field, replace
from typing import Any

from iam.joint_insert import insert_together
from iam.models import AuditEvent


def new_request_id() -> str:
    return str(uuid.uuid4()).upper()


@dataclass(frozen=True)
class Actor:
    """Who is acting, as the audit trail records it.

    ``logon_arn`` is the real identity (the RAM user who logged on or signed the request, kept
    through role chaining); ``effective_arn`` is the identity whose permissions apply (the same
    identity, or a role session).
    """

    logon_arn: str
    effective_arn: str
    account_id: str = ""
    source_account_id: str = ""
    channel: str = AuditEvent.Channel.SYSTEM
    source_ip: str = ""
    user_agent: str = ""
    request_id: str = field(default_factory=new_request_id)

    def with_request(self, **changes: Any) -> Actor:
        return replace(self, **changes)


SYSTEM_ACTOR = Actor(logon_arn="system", effective_arn="system")


def record(actor: Actor, action: str, resource_arn: str = "", **fields: Any) -> AuditEvent:
    """Append one event; ``fields`` as for ``new_event`` (``account_id`` is the account whose
    trail it belongs to, ``result``, ``error_code``, ``details``)."""
    event = new_event(actor, action, resource_arn, **fields)
    append(event)
    return event


def append(event: AuditEvent) -> None:
    """Append a new event to its account's hash chain, in the caller's transaction if there is
    one (the account's chain head stays locked until it ends), else in its own; its id and
    hashes are set."""
    insert_together(event, savepoint=False, read_back=True)


def new_event(
    actor: Actor,
    action: str,
    resource_arn: str = "",
    *,
    account_id: str = "",
    result: str = AuditEvent.Result.SUCCESS,
    error_code: str = "",
    details: dict[str, Any] | None = None,
) -> AuditEvent:
    """The event ``record`` would append, unsaved: for a caller that inserts it together with
    the change it describes (``iam.joint_insert.insert_together``). Its time is now: the hash
    covers it."""
    return AuditEvent(
        request_id=actor.request_id,
        channel=actor.channel,
        account_id=account_id or actor.account_id,
        source_account_id=actor.source_account_id or actor.account_id,
        logon_identity=actor.logon_arn[:300],
        effective_identity=actor.effective_arn[:300],
        source_ip=actor.source_ip[:64],
        user_agent=actor.user_agent[:300],
        action=action,
        resource_arn=resource_arn[:400],
        result=result,
        error_code=error_code,
        details=details or {},
    )
