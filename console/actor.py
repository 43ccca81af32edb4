"""The audit ``Actor`` of a console request: both identities, source IP, user agent."""

from __future__ import annotations

import uuid

from django.http import HttpRequest

from iam.audit import Actor
from iam.models import AuditEvent, User


def client_ip(request: HttpRequest) -> str:
    return request.META.get("REMOTE_ADDR", "")


def console_actor(request: HttpRequest) -> Actor:
    identity = request.identity  # type: ignore[attr-defined]
    logon = request.logon_identity  # type: ignore[attr-defined]
    return Actor(
        # A federated console session's logon identity is its role session; the real identity
        # behind it is the identity provider's user (``logon_arn``).
        logon_arn=logon.logon_arn if logon is not None else "",
        effective_arn=identity.arn if identity is not None else "",
        account_id=identity.account_id if identity is not None else "",
        source_account_id=logon.account_id if logon is not None else "",
        channel=AuditEvent.Channel.CONSOLE,
        source_ip=client_ip(request),
        user_agent=request.META.get("HTTP_USER_AGENT", "")[:300],
        request_id=str(uuid.uuid4()).upper(),
    )


def anonymous_actor(request: HttpRequest) -> Actor:
    return Actor(
        logon_arn="",
        effective_arn="",
        channel=AuditEvent.Channel.CONSOLE,
        source_ip=client_ip(request),
        user_agent=request.META.get("HTTP_USER_AGENT", "")[:300],
    )


def logon_actor(request: HttpRequest, user: User) -> Actor:
    """A logon's step before anyone is logged in, acted by the user who gave the password."""
    return anonymous_actor(request).with_request(
        logon_arn=user.arn,
        effective_arn=user.arn,
        account_id=user.account_id,
        source_account_id=user.account_id,
    )
