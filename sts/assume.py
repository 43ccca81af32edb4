"""AssumeRole (STS API) and SwitchRole (console): one code path.

A caller may assume role R only if all hold (ARCHITECTURE §4):

1. the caller is a RAM user, a role session (chaining), a registered service or a user an
   identity provider of R's account vouches for (``sts.federation``) — never a root;
2. the caller's own policies allow ``sts:AssumeRole`` on R's ARN (services and federated users,
   who hold no policies, are exempt);
3. R's trust policy trusts the caller, conditions included (``sts:ExternalId``, source IP,
   ``saml:recipient``, ``oidc:aud`` …);
4. the duration is within [900, R.MaxSessionDuration] (3600 at most for chained sessions) and the
   session policy is valid and within 2048 characters.

The checks are one sequence, ``CHECKS``, run in order by ``assume_role`` (the API's AssumeRole and
the console's Switch Role) and, step by step, by the policy simulator (``sts.simulate``). Check 2
comes before the role is looked up, so a caller who may not assume roles there learns nothing
about which roles exist; a caller of another account is told the same whether the role is missing
or does not trust it. ``AssumeRoleDenied.reason`` says which check failed.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.db.models.functions import Lower
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from iam import errors
from iam.arns import ROLE_ARN_RE, assumed_role_user_arn, role_arn
from iam.audit import Actor, new_event
from iam.audit_throttle import record_refusal
from iam.authz import authorize, explain_decision, revision_for
from iam.crypto import key_ring
from iam.identity import IDENTITY_ACCOUNT_FIELDS, IDENTITY_ROLE_FIELDS, Identity, IdentityKind
from iam.joint_insert import insert_together
from iam.models import Role
from iam.policy import Decision, PolicyError, TrustPrincipal, explain, parse_policy, trust_allows
from sts import row_cache
from sts.models import RoleSession
from sts.tokens import RoleTokenClaims, issue_token, new_secret, new_sts_access_key_id

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
        http_status: int = 403,
        action: str = "sts:AssumeRole",
        resource: str = "",
        decision: Decision | None = None,
    ) -> None:
        super().__init__(code, message, http_status=http_status)
        self.reason = reason
        self.explanation = explanation or message
        self.action = action
        self.resource = resource
        self.decision = decision  # the identity check's, to explain it again in another language


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
        return assumed_role_user_arn(
            self.role.account_id, self.role.name, self.session.session_name
        )

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
    if caller.kind is IdentityKind.FEDERATED:
        assert caller.federated is not None
        return TrustPrincipal(
            kind="federated", account_id=caller.account_id, provider=caller.federated.provider_arn
        )
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


@dataclass
class Attempt:
    """One AssumeRole being decided: what it asks, and what the checks have found so far."""

    caller: Identity
    request: AssumeRoleInput
    context: dict[str, Any]
    # The versions of the accounts read with the request's nonce (``sts.nonces``), under which
    # the role may be reused from an earlier request.
    versions: dict[str, Any] = field(default_factory=dict)
    default_duration: int = DEFAULT_DURATION
    max_duration: int | None = None
    # What the audit trail calls it: sts:AssumeRole, or sts:AssumeRoleWithSAML/OIDC.
    action: str = "sts:AssumeRole"
    account_id: str = ""
    role_name: str = ""
    duration: int | None = None
    policy: str | None = None
    role: Role | None = None
    conditions: dict[str, Any] = field(default_factory=dict)

    @property
    def target_arn(self) -> str:
        return role_arn(self.account_id, self.role_name)

    @property
    def crosses_accounts(self) -> bool:
        return self.account_id != self.caller.account_id


# What a check that passed says, in words: asked for only by the simulator, so a real AssumeRole
# never spends time on them.
Words = Callable[[], str]


def check_input(attempt: Attempt) -> Words:
    attempt.account_id, attempt.role_name, attempt.duration, attempt.policy = validate_input(
        attempt.request
    )
    return lambda: _("RoleArn, duration and session policy are well formed.")


def check_caller_kind(attempt: Attempt) -> Words:
    """Check 1: never a root identity."""
    caller = attempt.caller
    if caller.kind is IdentityKind.ROOT:
        raise AssumeRoleDenied(
            "NoPermission",
            "Roles may not be assumed by root accounts.",
            reason="root",
            resource=attempt.target_arn,
            explanation=_("Denied: root identities may not assume roles; use a RAM user."),
        )
    return lambda: (
        _("%(principal)s may assume roles.") % {"principal": caller.principal_description}
    )


def check_identity_policy(attempt: Attempt) -> Words:
    """Check 2: the caller's own policies allow sts:AssumeRole on the role (services are exempt).
    It comes before the role is looked up, so a caller who may not assume roles there learns
    nothing about which roles exist."""
    caller, target = attempt.caller, attempt.target_arn
    if caller.kind is IdentityKind.SERVICE:
        return lambda: _("Services hold no identity policies; a service role's trust decides.")
    if caller.kind is IdentityKind.FEDERATED:
        return lambda: _("Federated users hold no identity policies; the role's trust decides.")
    decision = authorize(caller, "sts:AssumeRole", target, attempt.context)
    if not decision.allowed:
        raise AssumeRoleDenied(
            "NoPermission",
            "You are not authorized to do this action. You should be authorized by RAM.",
            reason="identity",
            resource=target,
            explanation=explain_decision(caller, decision, "sts:AssumeRole", target),
            decision=decision,
        )
    return lambda: explain_decision(caller, decision, "sts:AssumeRole", target)


def check_role_exists(attempt: Attempt) -> Words:
    attempt.role = find_role(attempt.account_id, attempt.role_name, attempt.versions)
    if attempt.role is None:
        raise AssumeRoleDenied(
            "EntityNotExist.Role",
            "The specified Role not exists .",
            reason="not_found",
            http_status=404,
            resource=attempt.target_arn,
        )
    role = attempt.role
    return lambda: (
        _("Role %(name)s of account %(account)s.") % {"name": role.name, "account": role.account_id}
    )


def check_role_trust(attempt: Attempt) -> Words:
    """Check 3: the role's trust policy must trust the caller under the request's context."""
    caller, role = attempt.caller, attempt.role
    assert role is not None
    attempt.conditions = trust_context(caller, attempt.context, attempt.request.external_id)
    decision = trust_allows(role.trust_policy, trust_principal(caller), attempt.conditions)
    # An identity provider vouches for its users to its own account's roles only.
    foreign_provider = (
        caller.kind is IdentityKind.FEDERATED and caller.account_id != role.account_id
    )
    if foreign_provider or not decision.allowed:
        raise AssumeRoleDenied(
            "NoPermission",
            UNTRUSTED_MESSAGE,
            reason="trust",
            resource=role.arn,
            explanation=_("Denied: the trust policy of role %(role)s does not trust %(principal)s.")
            % {"role": role.name, "principal": caller.principal_description},
        )
    return lambda: explain(
        decision,
        principal_description=caller.principal_description,
        action="sts:AssumeRole",
        resource=role.arn,
    )


def check_duration(attempt: Attempt) -> Words:
    """Check 4: within [900, the role's maximum] (3600 at most for a chained session)."""
    assert attempt.role is not None
    chained = attempt.caller.kind is IdentityKind.ROLE_SESSION
    ceiling = min(attempt.role.max_session_duration, CHAINED_MAX_DURATION if chained else 43200)
    if attempt.max_duration is not None:
        ceiling = min(ceiling, attempt.max_duration)
    if attempt.duration is None:
        attempt.duration = min(attempt.default_duration, ceiling)
    if not MIN_DURATION <= attempt.duration <= ceiling:
        raise duration_error()
    duration = attempt.duration
    return lambda: (
        _("%(duration)s seconds, within [%(low)s, %(high)s].")
        % {"duration": duration, "low": MIN_DURATION, "high": ceiling}
    )


@dataclass(frozen=True)
class Check:
    """One check of AssumeRole, in order. ``decided_by`` names whose data it reads: the caller's
    account ("caller") or the role's ("role"); the simulator leaves such a check to another
    account rather than read it."""

    title: str
    run: Callable[[Attempt], Words]
    decided_by: str = ""


CHECKS = (
    Check("Request parameters", check_input),
    Check("Caller kind", check_caller_kind),
    Check("Identity policy allows sts:AssumeRole", check_identity_policy, decided_by="caller"),
    Check("Role exists", check_role_exists, decided_by="role"),
    Check("Trust policy trusts the caller", check_role_trust, decided_by="role"),
    Check("Duration", check_duration, decided_by="role"),
)


def find_role(
    account_id: str, role_name: str, versions: dict[str, Any] | None = None
) -> Role | None:
    """The role with its account by (account, case-insensitive name), on the
    ``iam_role_account_lname`` index; reused from an earlier request while the role's account has
    the version this request read (``sts.row_cache``)."""
    key = (account_id, role_name.lower())
    stamp = row_cache.stamp_of(versions or {}, [account_id])
    role = row_cache.roles.get(key, stamp)
    if role is row_cache.MISSING:
        role = (
            Role.objects.select_related("account")
            .only(*ROLE_READ)
            .alias(lower_name=Lower("name"))
            .filter(account_id=account_id, lower_name=role_name.lower())
            .first()
        )
        row_cache.roles.put(key, stamp, role)
    return role


ROLE_READ = (*IDENTITY_ROLE_FIELDS, *(f"account__{name}" for name in IDENTITY_ACCOUNT_FIELDS))


def worded_for_the_caller(attempt: Attempt, denied: AssumeRoleDenied) -> AssumeRoleDenied:
    """A caller of another account is told the same, in the same words, whether the role is
    missing or does not trust it: whether a role exists is the other account's business, and any
    tenant could otherwise list another tenant's roles."""
    if not attempt.crosses_accounts or denied.reason not in ("not_found", "trust"):
        return denied
    return AssumeRoleDenied(
        "NoPermission",
        UNTRUSTED_MESSAGE,
        reason="trust",
        resource=attempt.target_arn,
        explanation=_("Denied: account %(account)s has no role %(role)s that trusts %(principal)s.")
        % {
            "account": attempt.account_id,
            "role": attempt.role_name.lower(),
            "principal": attempt.caller.principal_description,
        },
    )


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
    versions: dict[str, Any] | None = None,
    action: str = "sts:AssumeRole",
) -> IssuedRoleSession:
    """Run every check (``CHECKS``, in order) and issue a role session; audit a refusal (within
    the caller's quota, ``iam.audit_throttle``) and raise it. Every check only reads; the one
    write is the session row with its audit event."""
    attempt = Attempt(
        caller,
        request,
        context or {},
        versions or {},
        default_duration=default_duration,
        max_duration=max_duration,
        action=action,
    )
    try:
        try:
            # In English, the trail's one language: a console caller gets its own words from
            # the refusal's reason (console.views.switch_role.refusal_message).
            with translation.override("en"):
                for check in CHECKS:
                    check.run(attempt)
        except AssumeRoleDenied as denied:
            with translation.override("en"):
                raise worded_for_the_caller(attempt, denied) from None
    except errors.ServiceError as error:
        match = ROLE_ARN_RE.match(request.role_arn or "")
        # Within the caller's quota in that account's trail: any key may name any role.
        record_refusal(
            actor,
            action,
            (request.role_arn or "")[:400],
            caller_arn=caller.logon_arn,
            account_id=match.group(1) if match else "",
            error_code=error.code,
            details={
                "RoleSessionName": (request.session_name or "")[:64],
                "Channel": channel,
                "reason": getattr(error, "reason", ""),
                "explanation": getattr(error, "explanation", error.message),
            },
        )
        raise
    assert attempt.role is not None and attempt.duration is not None
    return issue(attempt, actor=actor, channel=channel)


def stored_context(conditions: dict[str, Any]) -> dict[str, Any]:
    """The condition keys worth keeping with a session (the time is the session's issue time)."""
    kept = (str, bool, int, float)
    return {key: value for key, value in conditions.items() if isinstance(value, kept)}


def issue(attempt: Attempt, *, actor: Actor, channel: str) -> IssuedRoleSession:
    """The role session of an attempt that passed every check: its row, its audit event and its
    credentials."""
    caller, role, request = attempt.caller, attempt.role, attempt.request
    policy, duration, context = attempt.policy, attempt.duration, attempt.context
    assert role is not None and duration is not None
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
        issued_context=stored_context(attempt.conditions or context),
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
        attempt.action,
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
    insert_together(session, event)
    if role.last_used is None or role.last_used < now - timedelta(minutes=1):
        Role.objects.filter(pk=role.pk).update(last_used=now)
        role.last_used = now  # the row may be reused (``sts.row_cache``)
    return IssuedRoleSession(role, session, access_key_id, secret, token, expiration)
