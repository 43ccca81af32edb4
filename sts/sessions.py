"""Checking that an issued role session is still good: the O(1) revocation check.

A request made with role credentials (API) or from a switched console session carries the
session id. ``check_session`` answers, with one indexed look-up (the session row joined to its
role and its caller), whether the session still stands:

- the role still exists, the session was not revoked one by one nor ended (a console session its
  holder switched back from or logged off, see ``end_session``), and the role's "revoke active
  sessions" instant is not after the session's issue time;
- if the role's trust policy changed since issue (``trust_revision``), the trust policy must still
  trust the caller;
- if the caller's account changed anything that feeds decisions since issue (its
  ``version``), the caller must still be active and still hold ``sts:AssumeRole`` on the role.

Re-checks run only when a revision moved, with the condition keys the session was issued under
(``issued_context``), and their outcome is cached per (session, revisions) in a bounded LRU; a
session found dead is marked revoked in the database once, with the reason. A user caller whose
row is gone was deleted: the session is dead. The API keeps a check's outcome between requests
under the accounts' versions (``sts.row_cache``).
Chained sessions re-check their own trust; their parent's revocation does not cascade (as in AWS).
"""

from __future__ import annotations

from dataclasses import dataclass

from django.utils import timezone

from iam import arns
from iam.arns import parse_arn
from iam.authz import authorize
from iam.identity import (
    IDENTITY_ACCOUNT_FIELDS,
    IDENTITY_ROLE_FIELDS,
    IDENTITY_USER_FIELDS,
    Identity,
    IdentityKind,
    RoleSessionInfo,
    identity_for_user,
)
from iam.models import Role
from iam.policy import TrustPrincipal, trust_allows
from iam.policy.cache import BoundedCache
from sts.models import RoleSession, SessionStanding

recheck_outcomes = BoundedCache(8192)


@dataclass(frozen=True)
class SessionState:
    session: RoleSession | None
    role: Role | None
    revoked_reason: str = ""

    @property
    def active(self) -> bool:
        return not self.revoked_reason


# What the revocation check reads of the session row; the rest (names, source, expiry: the
# token carries them) is deferred.
SESSION_CHECK_FIELDS = (
    "role_id",
    "role_name",
    "caller_user_id",
    "caller_arn",
    "trust_revision",
    "caller_revision",
    "issued_context",
    "issued",
    "revoked_at",
    "revoked_reason",
    "ended",
    "end_reason",
)
SESSION_READ = (
    *SESSION_CHECK_FIELDS,
    *(f"role__{name}" for name in IDENTITY_ROLE_FIELDS),
    *(f"role__account__{name}" for name in IDENTITY_ACCOUNT_FIELDS),
    *(f"caller_user__{name}" for name in IDENTITY_USER_FIELDS),
    *(f"caller_user__account__{name}" for name in IDENTITY_ACCOUNT_FIELDS),
)


def load_session(session_id: str) -> RoleSession | None:
    """The session row with its role and its caller (and their accounts): one join."""
    return (
        RoleSession.objects.select_related("role__account", "caller_user__account")
        .only(*SESSION_READ)
        .filter(session_id=session_id)
        .first()
    )


def check_session(session_id: str) -> SessionState:
    return session_state(load_session(session_id))


def session_state(session: RoleSession | None) -> SessionState:
    if session is None:
        return SessionState(None, None, "the role session is unknown")
    role = session.role
    reason = revocation_reason(session, role)
    if reason and session.revoked_at is None and session.ended is None:
        mark_revoked(session, reason)
    return SessionState(session, role, reason)


def mark_revoked(session: RoleSession, reason: str) -> None:
    session.revoked_at = timezone.now()
    session.revoked_reason = reason[:200]
    RoleSession.objects.filter(pk=session.pk, revoked_at__isnull=True).update(
        revoked_at=session.revoked_at, revoked_reason=session.revoked_reason
    )


def revocation_reason(session: RoleSession, role: Role | None) -> str:
    if session.revoked_at is not None:
        return session.revoked_reason or "the role session was revoked"
    if session.ended is not None:
        return f"the role session ended ({session.end_reason or 'ended'})"
    if role is None:
        return f"role {session.role_name} was deleted"
    if role.sessions_revoked_before and session.issued < role.sessions_revoked_before:
        return f"an administrator revoked the active sessions of role {role.name}"
    caller = session.caller_user
    named = parse_arn(session.caller_arn)
    if caller is None and named is not None and named.kind == arns.USER:
        # A user caller's row is missing only once the user was deleted (the key is then NULL).
        return f"user {named.name} was deleted"
    caller_revision = caller.account.version if caller is not None else 0
    if role.trust_revision == session.trust_revision and caller_revision == session.caller_revision:
        return ""
    key = (session.session_id, role.trust_revision, caller_revision)
    outcome = recheck_outcomes.get(key)
    if outcome is None:
        outcome = recheck(session, role)
        recheck_outcomes.put(key, outcome)
    return outcome


def recheck(session: RoleSession, role: Role) -> str:
    """Re-run the trust and identity checks of AssumeRole for the session's caller, with the
    condition keys of the request that issued it."""
    context = {**(session.issued_context or {}), "acs:CurrentTime": session.issued}
    caller = session.caller_user
    if caller is not None:
        if not caller.is_active:
            return f"user {caller.name} was disabled"
        identity = identity_for_user(caller)
        if not authorize(identity, "sts:AssumeRole", role.arn, context).allowed:
            return f"user {caller.name} no longer holds sts:AssumeRole on role {role.name}"
        principal = TrustPrincipal(kind="user", account_id=caller.account_id, name=caller.name)
    else:
        principal = principal_from_arn(session.caller_arn)
    if principal is None or not trust_allows(role.trust_policy, principal, context).allowed:
        return f"the trust policy of role {role.name} no longer trusts {session.caller_arn}"
    return ""


def end_session(session_id: str, reason: str) -> bool:
    """End a console role session for good: its holder switched back, switched to another role or
    logged off, or was returned to the logon identity. False when it had ended already.

    Its credentials were never handed out (the console keeps only the session id), so nothing
    cached by API requests can hold it, and no account version needs bumping; ``check_session``
    refuses it from now on, and it no longer counts as active anywhere.
    """
    return bool(
        RoleSession.objects.filter(pk=session_id, ended__isnull=True).update(
            ended=timezone.now(), end_reason=reason[:200]
        )
    )


def listed_standings(
    sessions: list[RoleSession], role: Role
) -> list[tuple[RoleSession, SessionStanding]]:
    """The role's sessions with where each stands, for its Sessions list. A session that looks
    active is checked as its next request would be (trust withdrawn, caller disabled or deleted,
    …), so the list never shows as active a session that can no longer be used."""
    now = timezone.now()
    listed = []
    for session in sessions:
        session.role = role
        standing = session.standing(now, role.sessions_revoked_before)
        if standing.active:
            reason = revocation_reason(session, role)
            if reason:
                mark_revoked(session, reason)
                standing = session.standing(now, role.sessions_revoked_before)
        listed.append((session, standing))
    return listed


def principal_from_arn(arn: str) -> TrustPrincipal | None:
    """The trust principal of a chained session's, a service's or a federated caller's ARN
    (``<provider ARN>/<subject>``)."""
    federated = arns.FEDERATED_PRINCIPAL_PATTERN.match(arn)
    if federated is not None and arn[federated.end() : federated.end() + 1] == "/":
        return TrustPrincipal(
            kind="federated", account_id=federated["account"], provider=federated.group(0)
        )
    parsed = parse_arn(arn)
    if parsed is None:
        return None
    if parsed.kind == arns.SERVICE:
        return TrustPrincipal(kind="service", account_id="", service=parsed.name)
    if parsed.kind == arns.ASSUMED_ROLE:
        return TrustPrincipal(
            kind="role_session", account_id=parsed.account_id, role_name=parsed.name
        )
    if parsed.kind == arns.USER:
        return TrustPrincipal(kind="user", account_id=parsed.account_id, name=parsed.name)
    return None


def session_identity(
    state: SessionState,
    *,
    session_name: str,
    expires_at: int,
    session_policy: str | None,
    source_identity: str,
    source_account_id: str,
    chain_depth: int = 0,
    mfa_present: bool = False,
    display_name: str = "",
    color: str = "",
) -> Identity:
    assert state.role is not None and state.session is not None
    return Identity(
        kind=IdentityKind.ROLE_SESSION,
        account_id=state.role.account_id,
        role=state.role,
        session=RoleSessionInfo(
            session_id=state.session.session_id,
            session_name=session_name,
            expires_at=expires_at,
            session_policy=session_policy,
            source_identity=source_identity,
            source_account_id=source_account_id,
            display_name=display_name,
            color=color,
            chain_depth=chain_depth,
        ),
        mfa_present=mfa_present,
    )
