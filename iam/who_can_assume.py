"""Who can assume a role: the trust policy resolved to concrete identities of the role's account.

A trust policy names principals (account roots, users, roles, services); AssumeRole then also
needs the caller's own policies to allow ``sts:AssumeRole`` on the role (ARCHITECTURE §4). For
the role's own account this module walks every principal the trust policy names and asks the
same two questions the real AssumeRole asks (``iam.authz.authorize`` and
``iam.policy.trust_allows``, with the context a caller without any request-specific keys would
have), so the list agrees with ``assume_role``:

- the account's root (``acs:ram::<uid>:root``) stands for every active RAM user of the account;
- a user principal stands for that user; a role principal for sessions of that role (chaining);
- a service principal is listed when the service is registered here (services hold no identity
  policies and skip the identity check).

Another account is another tenant: which of its users may assume is that account's decision, and
its users, groups, roles and policies are none of this account's business. So a principal of
another account is one entry, as the trust policy names it (``acs:ram::<uid>:root``, or a user or
role ARN as written), with the account's alias when it is hosted here; nothing of that account is
read, so the answer is the same whether a named user or role of it exists or not. Only the trust
policy's own verdict for that principal (allowed, conditional) is shown.

When the trust policy holds only under keys we cannot know in advance (``sts:ExternalId``,
``acs:SourceIp``…), the identity is listed as "conditional" with the statement that needs them.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

from iam import arns
from iam.authz import authorize
from iam.identity import Identity, IdentityKind, RoleSessionInfo, identity_for_user
from iam.models import Account, Role, Service, User
from iam.policy import Reason, TrustPrincipal, compile_policy, parse_policy, trust_allows
from iam.policy.compiled import CompiledPolicy
from iam.policy.parse import ALLOW, TRUST

ASSUME_ROLE = "sts:AssumeRole"
ALLOWED = "allowed"
CONDITIONAL = "conditional"
NOT_HOSTED = "not hosted here"
OTHER_ACCOUNT = "other account"
ANY_ACCOUNT = "*"


@dataclass(frozen=True)
class Entry:
    """One identity that can (or, under conditions, could) assume the role.

    ``kind`` is "user", "role" (its sessions) or "service" for identities resolved here, and
    ``OTHER_ACCOUNT`` for a principal of another account, as the trust policy names it: ``form``
    is then "root", "user" or "role" and ``account_alias`` the account's alias when hosted here.
    """

    kind: str
    account_id: str
    name: str
    arn: str
    status: str
    trust_statements: tuple[int, ...] = ()
    identity_reasons: tuple[Reason, ...] = ()
    conditions: tuple[str, ...] = field(default=())
    form: str = ""
    account_alias: str = ""

    @property
    def decided_elsewhere(self) -> bool:
        """Another account decides which of its identities this entry stands for."""
        return self.kind == OTHER_ACCOUNT

    @property
    def account_name(self) -> str:
        """``company2 (1234567890123456)``, ``1234567890123456 (not hosted here)``."""
        if self.account_id == ANY_ACCOUNT:
            return "any other account"
        if self.account_alias:
            return f"{self.account_alias} ({self.account_id})"
        return f"{self.account_id} (not hosted here)"

    @property
    def label(self) -> str:
        if self.kind == OTHER_ACCOUNT:
            where = (
                "any other account"
                if self.account_id == ANY_ACCOUNT
                else f"account {self.account_name}"
            )
            if self.form == "user":
                return f"user {self.name} of {where}, as named in the trust policy"
            if self.form == "role":
                return f"sessions of role {self.name} of {where}, as named in the trust policy"
            return (
                f"any RAM user or role session of {where} to whom that account grants {ASSUME_ROLE}"
            )
        if self.kind == "service":
            return self.name
        if self.kind == "role":
            return f"sessions of role {self.name} ({self.account_id})"
        return f"{self.name} ({self.account_id})"


@dataclass
class TrustedPrincipals:
    """The principals of the trust policy's Allow statements, grouped by form.

    Names keep the case the trust policy writes them in (the first spelling when it repeats a
    name in another case); they compare case-insensitively everywhere.
    """

    accounts: set[str] = field(default_factory=set)  # root principals; "*" for any account
    users: set[tuple[str, str]] = field(default_factory=set)  # (account id, name)
    roles: set[tuple[str, str]] = field(default_factory=set)
    services: set[str] = field(default_factory=set)

    def named_accounts(self) -> set[str]:
        return self.accounts | {account for account, _ in self.users | self.roles}


def add_named(found: set[tuple[str, str]], account: str, name: str) -> None:
    if (account, name.lower()) not in {(owner, known.lower()) for owner, known in found}:
        found.add((account, name))


def trusted_principals(trust_policy: str) -> TrustedPrincipals:
    parsed = parse_policy(trust_policy, kind=TRUST)
    found = TrustedPrincipals()
    for statement in parsed.statements:
        if statement.effect != ALLOW or statement.principals is None:
            continue
        for arn in statement.principals.ram:
            named = arns.parse_principal(arn)
            if named is None:
                continue
            if named.kind == arns.USER:
                add_named(found.users, named.account_id, named.name)
            elif named.kind == arns.ROLE:
                add_named(found.roles, named.account_id, named.name)
            else:
                found.accounts.add(named.account_id)
        found.services.update(service.lower() for service in statement.principals.service)
    return found


def compiled_trust(role: Role) -> CompiledPolicy:
    return compile_policy(role.trust_policy, kind=TRUST, name="trust policy", policy_type="Trust")


def trust_verdict(
    compiled: CompiledPolicy, principal: TrustPrincipal, arn: str, *, mfa_present: bool = False
) -> tuple[str, tuple[int, ...], tuple[str, ...]]:
    """(status, statement indexes, condition texts); status "" when the trust does not hold.

    The context is the one AssumeRole builds for a caller (``arn``) that sends no
    request-specific keys.
    """
    context = {"acs:PrincipalARN": arn, "acs:MFAPresent": mfa_present}
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


def identity_verdict(
    compiled: CompiledPolicy, identity: Identity, principal: TrustPrincipal
) -> tuple[str, tuple[int, ...], tuple[str, ...]]:
    return trust_verdict(compiled, principal, identity.arn, mfa_present=identity.mfa_present)


def condition_text(statement: dict) -> str:
    return json.dumps(statement.get("Condition", {}), sort_keys=True)


def user_entry(role: Role, compiled: CompiledPolicy, user: User) -> Entry | None:
    identity = identity_for_user(user)
    status, statements, conditions = identity_verdict(
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
    status, statements, conditions = identity_verdict(compiled, identity, principal)
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
    status, statements, conditions = identity_verdict(compiled, identity, principal)
    if not status:
        return None
    return Entry("service", "", service.name, service.arn, status, statements, (), conditions)


def other_account_entry(
    compiled: CompiledPolicy, account_id: str, form: str, name: str, aliases: dict[str, str]
) -> Entry | None:
    """A principal of another account as the trust policy names it, judged by the trust policy
    alone: nothing of that account is read (its alias aside), so whether a named user or role
    exists there changes nothing here."""
    if form == "user":
        principal = TrustPrincipal(kind="user", account_id=account_id, name=name)
    elif form == "role":
        principal = TrustPrincipal(kind="role_session", account_id=account_id, role_name=name)
    else:
        principal = TrustPrincipal(kind="account", account_id=account_id)
    arn = str(arns.RamArn(form, account_id, name))  # as named (a role name keeps its capitals)
    status, statements, conditions = trust_verdict(compiled, principal, arn)
    if not status:
        return None
    return Entry(
        OTHER_ACCOUNT,
        account_id,
        name,
        arn,
        status,
        statements,
        (),
        conditions,
        form=form,
        account_alias=aliases.get(account_id, ""),
    )


def own_account_entries(
    role: Role, compiled: CompiledPolicy, trusted: TrustedPrincipals
) -> list[Entry]:
    """The role's own account: its users and role sessions that pass both checks."""
    home = {role.account_id, ANY_ACCOUNT}
    entries: list[Entry] = []
    if trusted.accounts & home or any(account in home for account, _ in trusted.users):
        users = User.objects.filter(account_id=role.account_id, kind=User.Kind.RAM, is_active=True)
        for user in users.order_by("name"):
            entry = user_entry(role, compiled, user)
            if entry is not None:
                entries.append(entry)
    if any(account in home for account, _ in trusted.roles):
        for source in Role.objects.filter(account_id=role.account_id).order_by("name"):
            entry = role_entry(role, compiled, source)
            if entry is not None:
                entries.append(entry)
    return entries


def service_entries(compiled: CompiledPolicy, trusted: TrustedPrincipals) -> list[Entry]:
    if not trusted.services:
        return []
    entries: list[Entry] = []
    registered = Service.objects.filter(name__in=trusted.services).order_by("name")
    for service in registered:
        entry = service_entry(compiled, service)
        if entry is not None:
            entries.append(entry)
    known = {service.name.lower() for service in registered}
    for name in sorted(trusted.services - known):
        entries.append(Entry("service", "", name, "", NOT_HOSTED))
    return entries


def other_account_entries(
    role: Role, compiled: CompiledPolicy, trusted: TrustedPrincipals
) -> list[Entry]:
    """One entry per principal of another account; ``*`` (any account) counts as another too,
    besides the role's own account."""
    named = [(account, "root", "") for account in trusted.accounts]
    named += [(account, "user", name) for account, name in trusted.users]
    named += [(account, "role", name) for account, name in trusted.roles]
    named = sorted(
        (item for item in named if item[0] != role.account_id),
        key=lambda item: (item[0] == ANY_ACCOUNT, item),
    )
    if not named:
        return []
    ids = {account for account, _, _ in named if account != ANY_ACCOUNT}
    aliases = dict(Account.objects.filter(pk__in=ids).values_list("pk", "alias")) if ids else {}
    entries = []
    for account_id, form, name in named:
        entry = other_account_entry(compiled, account_id, form, name, aliases)
        if entry is not None:
            entries.append(entry)
    return entries


def who_can_assume(role: Role) -> list[Entry]:
    """Every identity of the role's account that can assume ``role`` now (or with the right
    request keys), the trusted services, and the principals of other accounts as named."""
    trusted = trusted_principals(role.trust_policy)
    compiled = compiled_trust(role)
    return [
        *own_account_entries(role, compiled, trusted),
        *service_entries(compiled, trusted),
        *other_account_entries(role, compiled, trusted),
    ]
