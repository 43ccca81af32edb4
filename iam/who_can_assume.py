"""Who can assume a role: the role's trust policy resolved to concrete identities.

A trust policy names principals (account roots, users, roles, services); AssumeRole then also
needs the caller's own policies to allow ``sts:AssumeRole`` on the role (ARCHITECTURE §4). This
module walks every principal the trust policy names and asks the same two questions the real
AssumeRole asks (``iam.authz.authorize`` and ``iam.policy.trust_allows``, with the context a
caller without any request-specific keys would have), so the list agrees with ``assume_role``:

- an account root (``acs:ram::<uid>:root``) stands for every active RAM user of that account;
- a user principal stands for that user; a role principal for sessions of that role (chaining);
- a service principal is listed when the service is registered here (services hold no identity
  policies and skip the identity check);
- trusted accounts that do not live in this deployment are listed as "not hosted here".

When the trust policy holds only under keys we cannot know in advance (``sts:ExternalId``,
``acs:SourceIp``…), the identity is listed as "conditional" with the statement that needs them.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

from iam.authz import authorize
from iam.identity import Identity, IdentityKind, RoleSessionInfo, identity_for_user
from iam.models import Account, Role, Service, User
from iam.policy import Reason, TrustPrincipal, compile_policy, parse_policy, trust_allows
from iam.policy.compiled import CompiledPolicy
from iam.policy.parse import ALLOW, RAM_PRINCIPAL_PATTERN, TRUST

ASSUME_ROLE = "sts:AssumeRole"
ALLOWED = "allowed"
CONDITIONAL = "conditional"
NOT_HOSTED = "not hosted here"


@dataclass(frozen=True)
class Entry:
    """One identity that can (or, under conditions, could) assume the role."""

    kind: str  # "user", "role" (its sessions), "service" or "account" (not hosted here)
    account_id: str
    name: str
    arn: str
    status: str
    trust_statements: tuple[int, ...] = ()
    identity_reasons: tuple[Reason, ...] = ()
    conditions: tuple[str, ...] = field(default=())

    @property
    def label(self) -> str:
        if self.kind == "service":
            return self.name
        if self.kind == "account":
            return f"account {self.account_id}"
        if self.kind == "role":
            return f"sessions of role {self.name} ({self.account_id})"
        return f"{self.name} ({self.account_id})"


@dataclass
class TrustedPrincipals:
    """The principals of the trust policy's Allow statements, grouped by form."""

    accounts: set[str] = field(default_factory=set)  # root principals; "*" for any account
    users: set[tuple[str, str]] = field(default_factory=set)  # (account id, lower-cased name)
    roles: set[tuple[str, str]] = field(default_factory=set)
    services: set[str] = field(default_factory=set)


def trusted_principals(trust_policy: str) -> TrustedPrincipals:
    parsed = parse_policy(trust_policy, kind=TRUST)
    found = TrustedPrincipals()
    for statement in parsed.statements:
        if statement.effect != ALLOW or statement.principals is None:
            continue
        for arn in statement.principals.ram:
            match = RAM_PRINCIPAL_PATTERN.fullmatch(arn)
            if match is None:
                continue
            account, form, name = match["account"], match["form"], (match["name"] or "").lower()
            if form == "user":
                found.users.add((account, name))
            elif form == "role":
                found.roles.add((account, name))
            else:
                found.accounts.add(account)
        found.services.update(service.lower() for service in statement.principals.service)
    return found


def compiled_trust(role: Role) -> CompiledPolicy:
    return compile_policy(role.trust_policy, kind=TRUST, name="trust policy", policy_type="Trust")


def trust_verdict(
    compiled: CompiledPolicy, caller: Identity, principal: TrustPrincipal
) -> tuple[str, tuple[int, ...], tuple[str, ...]]:
    """(status, statement indexes, condition texts); status "" when the trust does not hold.

    The context is the one AssumeRole builds for a caller that sends no request-specific keys.
    """
    context = {"acs:PrincipalARN": caller.arn, "acs:MFAPresent": caller.mfa_present}
    decision = trust_allows(compiled, principal, context)
    if decision.allowed:
        return ALLOWED, tuple(reason.statement_index for reason in decision.reasons), ()
    if decision.effect != "ImplicitDeny":
        return "", (), ()
    indexes, conditions = [], []
    for index, (statement, parsed) in enumerate(
        zip(compiled.statements, compiled.parsed.statements, strict=True)
    ):
        if statement.effect != ALLOW or not parsed.conditions or statement.principals is None:
            continue
        if not statement.principals.matches(principal):
            continue
        if statement.actions.matches(ASSUME_ROLE.lower()) == statement.not_action:
            continue
        indexes.append(index)
        conditions.append(condition_text(compiled.parsed.to_dict()["Statement"][index]))
    if indexes:
        return CONDITIONAL, tuple(indexes), tuple(conditions)
    return "", (), ()


def condition_text(statement: dict) -> str:
    return json.dumps(statement.get("Condition", {}), sort_keys=True)


def user_entry(role: Role, compiled: CompiledPolicy, user: User) -> Entry | None:
    identity = identity_for_user(user)
    status, statements, conditions = trust_verdict(
        compiled,
        identity,
        TrustPrincipal(kind="user", account_id=user.account_id, name=user.name),
    )
    if not status:
        return None
    decision = authorize(identity, ASSUME_ROLE, role.arn)
    if not decision.allowed:
        return None
    return Entry(
        "user",
        user.account_id,
        user.name,
        user.arn,
        status,
        statements,
        decision.reasons,
        conditions,
    )


def role_session_identity(source: Role) -> Identity:
    """A session of ``source`` without a session policy: the widest a chained caller can be."""
    session = RoleSessionInfo(session_id="who-can-assume", session_name="probe", expires_at=0)
    return Identity(
        kind=IdentityKind.ROLE_SESSION, account_id=source.account_id, role=source, session=session
    )


def role_entry(role: Role, compiled: CompiledPolicy, source: Role) -> Entry | None:
    identity = role_session_identity(source)
    principal = TrustPrincipal(
        kind="role_session", account_id=source.account_id, role_name=source.name
    )
    status, statements, conditions = trust_verdict(compiled, identity, principal)
    if not status:
        return None
    decision = authorize(identity, ASSUME_ROLE, role.arn)
    if not decision.allowed:
        return None
    return Entry(
        "role",
        source.account_id,
        source.name,
        source.arn,
        status,
        statements,
        decision.reasons,
        conditions,
    )


def service_entry(compiled: CompiledPolicy, service: Service) -> Entry | None:
    identity = Identity(kind=IdentityKind.SERVICE, account_id="", service=service)
    principal = TrustPrincipal(kind="service", account_id="", service=service.name)
    status, statements, conditions = trust_verdict(compiled, identity, principal)
    if not status:
        return None
    return Entry("service", "", service.name, service.arn, status, statements, (), conditions)


def hosted_account_ids(trusted: TrustedPrincipals) -> tuple[set[str], set[str]]:
    """(hosted, not hosted) account ids named by the trust policy (``*`` = every hosted one)."""
    named = {account for account in trusted.accounts}
    named |= {account for account, _ in trusted.users} | {account for account, _ in trusted.roles}
    if "*" in named:
        return set(Account.objects.values_list("pk", flat=True)), set()
    hosted = set(Account.objects.filter(pk__in=named).values_list("pk", flat=True))
    return hosted, named - hosted


def who_can_assume(role: Role) -> list[Entry]:
    """Every identity that can assume ``role`` now (or with the right request keys)."""
    trusted = trusted_principals(role.trust_policy)
    compiled = compiled_trust(role)
    hosted, elsewhere = hosted_account_ids(trusted)
    root_accounts = hosted if "*" in trusted.accounts else trusted.accounts & hosted
    user_accounts = {account for account, _ in trusted.users}
    candidates = User.objects.filter(
        account_id__in=hosted, kind=User.Kind.RAM, is_active=True
    ).order_by("account_id", "name")
    entries: list[Entry] = []
    for user in candidates:
        if user.account_id not in root_accounts and not (
            user.account_id in user_accounts or "*" in user_accounts
        ):
            continue
        entry = user_entry(role, compiled, user)
        if entry is not None:
            entries.append(entry)
    if trusted.roles:
        for source in Role.objects.filter(account_id__in=hosted).order_by("account_id", "name"):
            entry = role_entry(role, compiled, source)
            if entry is not None:
                entries.append(entry)
    if trusted.services:
        registered = Service.objects.filter(name__in=trusted.services).order_by("name")
        for service in registered:
            entry = service_entry(compiled, service)
            if entry is not None:
                entries.append(entry)
        known = {service.name.lower() for service in registered}
        for name in sorted(trusted.services - known):
            entries.append(Entry("service", "", name, "", NOT_HOSTED))
    for account_id in sorted(elsewhere):
        entries.append(Entry("account", account_id, "", f"acs:ram::{account_id}:root", NOT_HOSTED))
    return entries
