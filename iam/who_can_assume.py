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

A ``Federated`` principal names an identity provider. One of the role's own account is one entry,
"users of SAML (OIDC) identity provider <name>": they hold no identity policies (AssumeRole exempts
them), so the trust policy alone decides, and what it asks of the assertion or ID token
(``saml:recipient``, ``oidc:aud``, ``oidc:sub``…) differs from user to user, so any statement
with such conditions makes the entry conditional, and a conditional Deny an exception to it. A
provider the account does not have is listed as "not registered". A provider of another account
is listed as the trust policy writes it and never looked up: it cannot vouch for this account's
roles (AssumeRole refuses it), so its entry says so, the same whether it exists there or not.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

from django.utils.translation import gettext as _

from iam import arns
from iam.authz import authorize
from iam.identity import Identity, IdentityKind, RoleSessionInfo, identity_for_user
from iam.models import Account, OIDCProvider, Role, SAMLProvider, Service, User
from iam.policy import Reason, TrustPrincipal, compile_policy, parse_policy, trust_allows
from iam.policy.compiled import CompiledPolicy, CompiledStatement
from iam.policy.conditions import RequestContext
from iam.policy.parse import ALLOW, TRUST, Statement

ASSUME_ROLE = "sts:AssumeRole"
ALLOWED = "allowed"
CONDITIONAL = "conditional"
NOT_HOSTED = "not hosted here"
OTHER_ACCOUNT = "other account"
ANY_ACCOUNT = "*"
FEDERATED = "federated"
NOT_REGISTERED = "not registered"
# Another account's identity provider: it vouches only for roles of its own account.
NEVER = "never"
PROVIDER_TYPES = {arns.SAML_PROVIDER: "SAML", arns.OIDC_PROVIDER: "OIDC"}
# What AssumeRole knows of every federated caller before reading its assertion or token.
FEDERATED_CONTEXT = {"acs:MFAPresent": False}
FEDERATED_KEYS = frozenset(key.lower() for key in FEDERATED_CONTEXT)


@dataclass(frozen=True)
class Entry:
    """One identity that can (or, under conditions, could) assume the role.

    ``kind`` is "user", "role" (its sessions), "service" or ``FEDERATED`` (the users of an
    identity provider, ``form`` its ARN type) for identities resolved here, and ``OTHER_ACCOUNT``
    for a principal of another account, as the trust policy names it: ``form`` is then "root",
    "user", "role" or a provider's ARN type, and ``account_alias`` the account's alias when
    hosted here. ``exceptions`` are the conditions of Deny statements that refuse some of the
    entry's identities.
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
    exceptions: tuple[str, ...] = ()

    @property
    def decided_elsewhere(self) -> bool:
        """Another account decides which of its identities this entry stands for."""
        return self.kind == OTHER_ACCOUNT and not self.is_provider

    @property
    def is_provider(self) -> bool:
        """The entry stands for the users of an identity provider."""
        return self.form in PROVIDER_TYPES

    @property
    def provider_type(self) -> str:
        """``SAML`` or ``OIDC`` for an identity provider's entry, else ""."""
        return PROVIDER_TYPES.get(self.form, "")

    @property
    def account_name(self) -> str:
        """``company2 (1234567890123456)``, ``1234567890123456 (not hosted here)``."""
        if self.account_id == ANY_ACCOUNT:
            return _("any other account")
        if self.account_alias:
            return f"{self.account_alias} ({self.account_id})"
        return _("%(id)s (not hosted here)") % {"id": self.account_id}

    @property
    def label(self) -> str:
        """Who the entry stands for, in words (in the language of the request)."""
        named = {"name": self.name, "type": self.provider_type, "id": self.account_id}
        if self.kind == OTHER_ACCOUNT:
            return self.other_account_label(named)
        if self.kind == "service":
            return self.name
        if self.kind == FEDERATED:
            return _("users of %(type)s identity provider %(name)s") % named
        if self.kind == "role":
            return _("sessions of role %(name)s (%(id)s)") % named
        return f"{self.name} ({self.account_id})"

    def other_account_label(self, named: dict[str, str]) -> str:
        named["where"] = (
            _("any other account")
            if self.account_id == ANY_ACCOUNT
            else _("account %(name)s") % {"name": self.account_name}
        )
        if self.form == "user":
            return _("user %(name)s of %(where)s, as named in the trust policy") % named
        if self.form == "role":
            return _("sessions of role %(name)s of %(where)s, as named in the trust policy") % named
        if self.is_provider:
            return (
                _(
                    "users of %(type)s identity provider %(name)s of %(where)s, as named in the trust policy"
                )
                % named
            )
        return _(
            "any RAM user or role session of %(where)s to whom that account grants %(action)s"
        ) % {**named, "action": ASSUME_ROLE}


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
    providers: set[tuple[str, str, str]] = field(default_factory=set)  # (account, type, name)

    def named_accounts(self) -> set[str]:
        named = self.users | self.roles
        return (
            self.accounts
            | {account for account, _ in named}
            | {account for account, _, _ in self.providers}
        )


def add_named(found: set[tuple[str, str]], account: str, name: str) -> None:
    if (account, name.lower()) not in {(owner, known.lower()) for owner, known in found}:
        found.add((account, name))


def add_provider(found: set[tuple[str, str, str]], arn: str) -> None:
    match = arns.FEDERATED_PRINCIPAL_PATTERN.fullmatch(arn)
    if match is None:  # parse_policy accepted only identity providers
        return
    account, form, name = match["account"], match["kind"], match["name"]
    named = {(owner, kind, known.lower()) for owner, kind, known in found}
    if (account, form, name.lower()) not in named:
        found.add((account, form, name))


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
        for arn in statement.principals.federated:
            add_provider(found.providers, arn)
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
        if not names_caller(statement, principal):
            continue
        indexes.append(index)
        conditions.append(condition_text(compiled.parsed.to_dict()["Statement"][index]))
    if indexes:
        return CONDITIONAL, tuple(indexes), tuple(conditions)
    return "", (), ()


def names_caller(statement: CompiledStatement, principal: TrustPrincipal) -> bool:
    """The statement names ``principal`` and covers what it asks for (``sts:AssumeRole``, or a
    federated caller's own action), whatever its conditions say."""
    if statement.principals is None or not statement.principals.matches(principal):
        return False
    actions = (ASSUME_ROLE, principal.federation_action)
    return any(
        statement.actions.matches(action.lower()) != statement.not_action
        for action in actions
        if action
    )


def identity_verdict(
    compiled: CompiledPolicy, identity: Identity, principal: TrustPrincipal
) -> tuple[str, tuple[int, ...], tuple[str, ...]]:
    return trust_verdict(compiled, principal, identity.arn, mfa_present=identity.mfa_present)


def condition_text(statement: dict) -> str:
    return json.dumps(statement.get("Condition", {}), sort_keys=True)


def condition_words(statement: Statement) -> str:
    """``saml:recipient = https://…/sso/saml/acs and oidc:sub StringLike ci-*``."""
    words = []
    for condition in statement.conditions:
        values = " or ".join(str(value) for value in condition.values)
        operator = "=" if condition.operator == "StringEquals" else condition.operator
        words.append(f"{condition.key} {operator} {values}")
    return " and ".join(words)


def provider_verdict(
    compiled: CompiledPolicy, principal: TrustPrincipal
) -> tuple[str, tuple[int, ...], tuple[str, ...], tuple[str, ...]]:
    """(status, statement indexes, conditions, exceptions) for an identity provider's users.

    Their assertions and tokens differ from user to user, so a statement's conditions are
    judged here only on what every federated caller brings alike (``FEDERATED_CONTEXT``); any
    other condition makes an Allow statement conditional and a Deny statement an exception.
    A Deny that holds for all of them leaves nobody (status "").
    """
    known = RequestContext(FEDERATED_CONTEXT)
    allowed, conditional, excepted = [], [], []
    for index, (statement, parsed) in enumerate(
        zip(compiled.statements, compiled.parsed.statements, strict=True)
    ):
        if not names_caller(statement, principal):
            continue
        decided = [
            condition for condition in statement.conditions if condition.key in FEDERATED_KEYS
        ]
        if not all(condition.holds(known) for condition in decided):
            continue  # a condition no federated caller meets
        unconditional = len(decided) == len(statement.conditions)
        if statement.effect != ALLOW:
            if unconditional:
                return "", (), (), ()
            excepted.append((index, condition_words(parsed)))
        elif unconditional:
            allowed.append(index)
        else:
            conditional.append((index, condition_words(parsed)))
    exceptions = tuple(words for _, words in excepted)
    denying = tuple(index for index, _ in excepted)
    if allowed:
        status = CONDITIONAL if excepted else ALLOWED
        return status, (*allowed, *denying), (), exceptions
    if conditional:
        indexes = tuple(index for index, _ in conditional)
        words = tuple(words for _, words in conditional)
        return CONDITIONAL, (*indexes, *denying), words, exceptions
    return "", (), (), ()


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


def provider_entry(role: Role, compiled: CompiledPolicy, provider_arn: str) -> Entry | None:
    """The users of an identity provider of the role's own account; a provider the account
    does not have is "not registered"."""
    match = arns.FEDERATED_PRINCIPAL_PATTERN.fullmatch(provider_arn)
    assert match is not None
    form, name = match["kind"], match["name"]
    model = SAMLProvider if form == arns.SAML_PROVIDER else OIDCProvider
    provider = model.objects.filter(account_id=role.account_id, name__iexact=name).first()
    if provider is None:
        return Entry(FEDERATED, role.account_id, name, provider_arn, NOT_REGISTERED, form=form)
    principal = TrustPrincipal(kind="federated", account_id=role.account_id, provider=provider.arn)
    status, statements, conditions, exceptions = provider_verdict(compiled, principal)
    if not status:
        return None
    return Entry(
        FEDERATED,
        role.account_id,
        provider.name,
        provider.arn,
        status,
        statements,
        (),
        conditions,
        form=form,
        exceptions=exceptions,
    )


def provider_entries(
    role: Role, compiled: CompiledPolicy, trusted: TrustedPrincipals
) -> list[Entry]:
    """One entry per identity provider of the role's account that the trust policy names."""
    entries = []
    for account_id, form, name in sorted(trusted.providers, key=lambda item: item[1:]):
        if account_id != role.account_id:
            continue
        entry = provider_entry(role, compiled, str(arns.RamArn(form, account_id, name)))
        if entry is not None:
            entries.append(entry)
    return entries


def foreign_provider_entry(
    compiled: CompiledPolicy, account_id: str, form: str, name: str, aliases: dict[str, str]
) -> Entry:
    """Another account's identity provider, as the trust policy names it: never looked up, since
    a provider vouches only for its own account's roles and AssumeRole refuses its users here."""
    arn = str(arns.RamArn(form, account_id, name))
    principal = TrustPrincipal(kind="federated", account_id=account_id, provider=arn)
    _, statements, _, _ = provider_verdict(compiled, principal)
    return Entry(
        OTHER_ACCOUNT,
        account_id,
        name,
        arn,
        NEVER,
        statements,
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
    named += list(trusted.providers)
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
        if form in PROVIDER_TYPES:
            entries.append(foreign_provider_entry(compiled, account_id, form, name, aliases))
            continue
        entry = other_account_entry(compiled, account_id, form, name, aliases)
        if entry is not None:
            entries.append(entry)
    return entries


def who_can_assume(role: Role) -> list[Entry]:
    """Every identity of the role's account that can assume ``role`` now (or with the right
    request keys), the users of its identity providers, the trusted services, and the principals
    of other accounts as named."""
    trusted = trusted_principals(role.trust_policy)
    compiled = compiled_trust(role)
    return [
        *own_account_entries(role, compiled, trusted),
        *provider_entries(role, compiled, trusted),
        *service_entries(compiled, trusted),
        *other_account_entries(role, compiled, trusted),
    ]
