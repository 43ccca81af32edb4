"""AssumeRole (STS API) and SwitchRole (console): one code path.

A caller may assume role R only if all hold (ARCHITECTURE §4):

1. the caller is a RAM user, a role session (chaining) or a registered service — never a root;
2. the caller's own policies allow ``sts:AssumeRole`` on R's ARN (services are exempt);
3. R's trust policy trusts the caller, conditions included (``sts:ExternalId``, source IP …);
4. the duration is within [900, R.MaxSessionDuration] (3600 at most for chained sessions) and the
   session policy is valid and within 2048 characters.

Check 2 comes before the role is looked up, so a caller who may not assume roles there learns
nothing about which roles exist. ``AssumeRoleDenied.reason`` says which check failed; the console
words "role not found" and "not trusted" the same way.
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.db import IntegrityError
from django.utils import timezone

from iam import errors
from iam.audit import Actor, new_event, record
from iam.authz import authorize, explain_decision, revision_for
from iam.crypto import key_ring
from iam.identity import IDENTITY_ACCOUNT_FIELDS, IDENTITY_ROLE_FIELDS, Identity, IdentityKind
from iam.models import Account, Role, role_arn
from iam.policy import PolicyError, TrustPrincipal, parse_policy, trust_allows
from iam.rows import Table, fetch_one, insert_together
from sts import nonces
from sts.models import RoleSession
from sts.nonces import PendingNonce
from sts.tokens import RoleTokenClaims, issue_token, new_secret, new_sts_access_key_id

ROLE_ARN_RE = re.compile(
    r"^acs:ram::(\d{16}):role/([A-Za-z0-9.-]{1,64})\Z", re.IGNORECASE | re.ASCII
)
SESSION_NAME_RE = re.compile(r"^[A-Za-z0-9.@_-]{2,64}\Z")
EXTERNAL_ID_RE = re.compile(r"^[\w+=,.@:/-]{2,1224}\Z", re.ASCII)
SOURCE_IDENTITY_RE = re.compile(r"^[\w+=,.@-]{2,64}\Z", re.ASCII)
RESERVED_SOURCE_PREFIXES = ("acs:", "aliyun:", "alibabacloud:")
MIN_DURATION = 900
CHAINED_MAX_DURATION = 3600
DEFAULT_DURATION = 3600
SESSION_POLICY_MAX = 2048
UNTRUSTED_MESSAGE = (
    "No permission perform sts:AssumeRole on this Role. Maybe you are not authorized to "
    "perform sts:AssumeRole or the specified role does not trust you"
)


class AssumeRoleDenied(errors.NoPermission):
    """A refusal, with the check that failed: root, identity, not_found, trust, service."""

    def __init__(
        self,
        code: str,
        message: str,
        *,
        reason: str,
        explanation: str = "",
        status: int = 403,
        action: str = "sts:AssumeRole",
        resource: str = "",
    ) -> None:
        super().__init__(code, message, status=status)
        self.reason = reason
        self.explanation = explanation or message
        self.action = action
        self.resource = resource


@dataclass(frozen=True)
class AssumeRoleInput:
    role_arn: str
    session_name: str
    duration_seconds: int | str | None = None
    policy: str | None = None
    external_id: str | None = None
    source_identity: str | None = None


@dataclass(frozen=True)
class IssuedRoleSession:
    role: Role
    session: RoleSession
    access_key_id: str
    access_key_secret: str
    security_token: str
    expiration: datetime

    @property
    def assumed_role_arn(self) -> str:
        """The ``role/<name>/<session>`` form AssumeRole answers with (spec §3.2)."""
        return f"{self.role.arn}/{self.session.session_name}"

    @property
    def assumed_role_id(self) -> str:
        return f"{self.role.role_id}:{self.session.session_name}"


def parse_role_arn(value: str) -> tuple[str, str]:
    match = ROLE_ARN_RE.match(value or "")
    if not match:
        raise errors.InvalidParameter(
            "InvalidParameter.RoleArn", "The parameter RoleArn is wrongly formed."
        )
    return match.group(1), match.group(2)


def validate_input(request: AssumeRoleInput) -> tuple[str, str, int | None, str | None]:
    account_id, role_name = parse_role_arn(request.role_arn)
    if not SESSION_NAME_RE.match(request.session_name or ""):
        raise errors.InvalidParameter(
            "InvalidParameter.RoleSessionName", "The parameter RoleSessionName is wrongly formed."
        )
    duration = parse_duration(request.duration_seconds)
    if request.external_id is not None and not EXTERNAL_ID_RE.match(request.external_id):
        raise errors.InvalidParameter(
            "InvalidParameter.ExternalId", "The parameter ExternalId is wrongly formed."
        )
    source = request.source_identity
    if source is not None and (
        not SOURCE_IDENTITY_RE.match(source) or source.lower().startswith(RESERVED_SOURCE_PREFIXES)
    ):
        raise errors.InvalidParameter(
            "InvalidParameter.SourceIdentity", "The parameter SourceIdentity is wrongly formed."
        )
    policy = request.policy or None
    if policy is not None:
        try:
            parse_policy(policy, kind="session")
        except PolicyError as error:
            raise errors.InvalidParameter(error.code, error.message) from error
    return account_id, role_name, duration, policy


def parse_duration(value: int | str | None) -> int | None:
    if value in (None, ""):
        return None
    try:
        duration = int(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        duration = -1
    if duration < MIN_DURATION:
        raise duration_error()
    return duration


def duration_error() -> errors.InvalidParameter:
    return errors.InvalidParameter(
        "InvalidParameter.DurationSeconds", "The Min/Max value of DurationSeconds is 15min/1hr."
    )


def trust_principal(caller: Identity) -> TrustPrincipal:
    if caller.kind is IdentityKind.ROLE_SESSION:
        assert caller.role is not None
        return TrustPrincipal(
            kind="role_session", account_id=caller.account_id, role_name=caller.role.name
        )
    if caller.kind is IdentityKind.SERVICE:
        assert caller.service is not None
        return TrustPrincipal(kind="service", account_id="", service=caller.service.name)
    assert caller.user is not None
    return TrustPrincipal(kind="user", account_id=caller.account_id, name=caller.user.name)


def trust_context(caller: Identity, context: dict[str, Any], external_id: str | None) -> dict:
    merged = {"acs:PrincipalARN": caller.arn, "acs:MFAPresent": caller.mfa_present, **context}
    if external_id is not None:
        merged["sts:ExternalId"] = external_id
    return merged


def check_caller(caller: Identity, target_arn: str, context: dict[str, Any]) -> None:
    """Checks 1 and 2: who the caller is, and whether its own policies allow the call."""
    if caller.kind is IdentityKind.ROOT:
        raise AssumeRoleDenied(
            "NoPermission",
            "Roles may not be assumed by root accounts.",
            reason="root",
            resource=target_arn,
            explanation="Denied: root identities may not assume roles; use a RAM user.",
        )
    if caller.kind is IdentityKind.SERVICE:
        return
    decision = authorize(caller, "sts:AssumeRole", target_arn, context)
    if not decision.allowed:
        raise AssumeRoleDenied(
            "NoPermission",
            "You are not authorized to do this action. You should be authorized by RAM.",
            reason="identity",
            resource=target_arn,
            explanation=explain_decision(caller, decision, "sts:AssumeRole", target_arn),
        )


def check_trust(caller: Identity, role: Role, context: dict[str, Any]) -> None:
    """Check 3: the role's trust policy must trust the caller under the request's context."""
    decision = trust_allows(role.trust_policy, trust_principal(caller), context)
    if not decision.allowed:
        raise AssumeRoleDenied(
            "NoPermission",
            UNTRUSTED_MESSAGE,
            reason="trust",
            resource=role.arn,
            explanation=f"Denied: the trust policy of role {role.name} does not trust "
            f"{caller.principal_description}.",
        )


# A role by (account, case-insensitive name), on the ``iam_role_account_lname`` index; ``r`` is
# the role's alias in every join that finds one this way.
ROLE_BY_NAME = "r.account_id = %s AND LOWER(r.name) = LOWER(%s)"
ROLE_TABLES = (
    Table(Role, "r", columns=IDENTITY_ROLE_FIELDS),
    Table(Account, "a", on="a.id = r.account_id", required=True, columns=IDENTITY_ACCOUNT_FIELDS),
)


@dataclass(frozen=True)
class KnownRole:
    """The role a RoleArn names, read earlier in the same request (the API reads it with the
    caller's access key, in one round trip); ``role`` is None when no such role exists."""

    account_id: str
    role_name: str
    role: Role | None

    def answers(self, account_id: str, role_name: str) -> bool:
        return self.account_id == account_id and self.role_name.lower() == role_name.lower()


def with_account(role: Role | None, account: Account | None) -> Role | None:
    """A role read with its account in one join, the account set so no query follows."""
    if role is not None:
        role.account = account
    return role


def find_role(account_id: str, role_name: str, known: KnownRole | None = None) -> Role:
    """The role and its account by (account, case-insensitive name): one prepared statement on
    the ``iam_role_account_lname`` index, unless ``known`` already holds the answer."""
    if known is not None and known.answers(account_id, role_name):
        role = known.role
    else:
        found = fetch_one(ROLE_TABLES, ROLE_BY_NAME, [account_id, role_name])
        role = None if found is None else with_account(*found)
    if role is None:
        raise AssumeRoleDenied(
            "EntityNotExist.Role",
            "The specified Role not exists .",
            reason="not_found",
            status=404,
            resource=role_arn(account_id, role_name),
        )
    return role


def caller_revision(caller: Identity) -> int:
    if caller.kind is IdentityKind.USER:
        return revision_for(caller, caller.account_id)
    return 0


def assume_role(
    caller: Identity,
    request: AssumeRoleInput,
    *,
    actor: Actor,
    context: dict[str, Any] | None = None,
    channel: str = RoleSession.Channel.API,
    default_duration: int = DEFAULT_DURATION,
    max_duration: int | None = None,
    known_role: KnownRole | None = None,
    nonce: PendingNonce | None = None,
) -> IssuedRoleSession:
    """Run every check and issue a role session; audit a refusal and raise. ``known_role`` is
    the target role if the caller has read it already; it is used only after check 2, as if read
    then.

    Every check only reads; the one write is the session row with its audit event, inserted
    together in a single statement (``insert_together``), so no transaction needs opening. An API
    request's ``nonce``, when still unspent, is spent by that same statement; if a copy of the
    request spent it first, nothing is written and the call fails with ``SignatureNonceUsed``."""
    try:
        return issue_role_session(
            caller,
            request,
            actor=actor,
            context=context or {},
            channel=channel,
            default_duration=default_duration,
            max_duration=max_duration,
            known_role=known_role,
            nonce=nonce,
        )
    except errors.ServiceError as error:
        match = ROLE_ARN_RE.match(request.role_arn or "")
        record(
            actor,
            "sts:AssumeRole",
            (request.role_arn or "")[:400],
            account_id=match.group(1) if match else "",
            result="Failure",
            error_code=error.code,
            details={
                "RoleSessionName": (request.session_name or "")[:64],
                "Channel": channel,
                "reason": getattr(error, "reason", ""),
                "explanation": getattr(error, "explanation", error.message),
            },
        )
        raise


def find_trusting_role(
    caller: Identity,
    account_id: str,
    role_name: str,
    conditions: dict[str, Any],
    known: KnownRole | None = None,
) -> Role:
    """Checks 3 and the role's existence. A caller of another account is told the same, in the
    same words, whether the role is missing or does not trust it: whether a role exists is the
    other account's business, and any tenant could otherwise list another tenant's roles."""
    try:
        role = find_role(account_id, role_name, known)
        check_trust(caller, role, conditions)
    except AssumeRoleDenied as denied:
        if account_id == caller.account_id or denied.reason not in ("not_found", "trust"):
            raise
        raise AssumeRoleDenied(
            "NoPermission",
            UNTRUSTED_MESSAGE,
            reason="trust",
            resource=role_arn(account_id, role_name),
            explanation=f"Denied: account {account_id} has no role {role_name.lower()} that "
            f"trusts {caller.principal_description}.",
        ) from None
    return role


def issue_role_session(
    caller: Identity,
    request: AssumeRoleInput,
    *,
    actor: Actor,
    context: dict[str, Any],
    channel: str,
    default_duration: int,
    max_duration: int | None,
    known_role: KnownRole | None = None,
    nonce: PendingNonce | None = None,
) -> IssuedRoleSession:
    account_id, role_name, duration, policy = validate_input(request)
    target_arn = role_arn(account_id, role_name)
    check_caller(caller, target_arn, context)
    conditions = trust_context(caller, context, request.external_id)
    role = find_trusting_role(caller, account_id, role_name, conditions, known_role)
    chained = caller.kind is IdentityKind.ROLE_SESSION
    ceiling = min(role.max_session_duration, CHAINED_MAX_DURATION if chained else 43200)
    if max_duration is not None:
        ceiling = min(ceiling, max_duration)
    duration = duration if duration is not None else min(default_duration, ceiling)
    if not MIN_DURATION <= duration <= ceiling:
        raise duration_error()
    return issue(
        caller,
        role,
        request,
        policy=policy,
        duration=duration,
        actor=actor,
        context=context,
        channel=channel,
        nonce=nonce,
        conditions=conditions,
    )


def stored_context(conditions: dict[str, Any]) -> dict[str, Any]:
    """The condition keys worth keeping with a session (the time is the session's issue time)."""
    kept = (str, bool, int, float)
    return {key: value for key, value in conditions.items() if isinstance(value, kept)}


def issue(
    caller: Identity,
    role: Role,
    request: AssumeRoleInput,
    *,
    policy: str | None,
    duration: int,
    actor: Actor,
    context: dict[str, Any],
    channel: str,
    nonce: PendingNonce | None = None,
    conditions: dict[str, Any] | None = None,
) -> IssuedRoleSession:
    now = timezone.now().replace(microsecond=0)
    expiration = now + timedelta(seconds=duration)
    access_key_id = new_sts_access_key_id()
    secret = new_secret()
    session_id = secrets.token_hex(16)
    parent = caller.session if caller.kind is IdentityKind.ROLE_SESSION else None
    source_identity = caller.logon_arn
    source_account_id = (
        parent.source_account_id if parent and parent.source_account_id else caller.account_id
    )
    session = RoleSession(
        session_id=session_id,
        role=role,
        account_id=role.account_id,
        role_name=role.name,
        role_arn=role.arn,
        session_name=request.session_name,
        access_key_id=access_key_id if channel == RoleSession.Channel.API else "",
        channel=channel,
        caller_user=caller.user if caller.kind is IdentityKind.USER else None,
        caller_arn=caller.arn,
        parent_session_id=parent.session_id if parent else None,
        source_identity=source_identity,
        source_account_id=source_account_id,
        client_source_identity=request.source_identity or "",
        source_ip=str(context.get("acs:SourceIp", ""))[:64],
        user_agent=actor.user_agent[:300],
        has_session_policy=policy is not None,
        issued=now,
        expires=expiration,
        trust_revision=role.trust_revision,
        caller_revision=caller_revision(caller),
        issued_context=stored_context(conditions or context),
    )
    claims = RoleTokenClaims(
        access_key_id=access_key_id,
        access_key_secret=secret,
        account_id=role.account_id,
        role_id=role.role_id,
        role_name=role.name,
        session_name=request.session_name,
        session_id=session_id,
        issued_at=int(now.timestamp()),
        expires_at=int(expiration.timestamp()),
        source_identity=source_identity,
        source_account_id=source_account_id,
        caller_arn=caller.arn,
        session_policy=policy,
        chain_depth=(parent.chain_depth + 1) if parent else 0,
        user_source_identity=request.source_identity,
        mfa_present=caller.mfa_present,
    )
    token = issue_token(claims, key_ring())
    event = new_event(
        actor,
        "sts:AssumeRole",
        role.arn,
        account_id=role.account_id,
        details={
            "RoleSessionName": request.session_name,
            "SessionId": session_id,
            "AccessKeyId": access_key_id,
            "DurationSeconds": duration,
            "SessionPolicy": policy is not None,
            "Channel": channel,
            "SourceIdentity": source_identity,
        },
    )
    try:
        insert_together(session, event, first=nonce.insert() if nonce else None)
    except IntegrityError as error:
        if nonce is None or not nonces.is_conflict(error):
            raise
        nonce.spent = True  # by the copy of this request that got there first
        raise nonces.used_error() from error
    if nonce is not None:
        nonce.written()
    if role.last_used is None or role.last_used < now - timedelta(minutes=1):
        Role.objects.filter(pk=role.pk).update(last_used=now)
        role.last_used = now  # the row may be reused (``sts.cached``)
    return IssuedRoleSession(role, session, access_key_id, secret, token, expiration)
