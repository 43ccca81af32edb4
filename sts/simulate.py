"""The policy simulator: what would the authorizer decide, and which statements decide it.

Nothing here decides anything itself. A permission simulation asks ``iam.authz.authorize`` (users
and role sessions) or ``iam.policy.evaluate`` (a group's policies alone), exactly as a real request
would be decided; an AssumeRole simulation runs AssumeRole's own sequence of checks
(``sts.assume.CHECKS``) one by one and stops at the first that refuses, as AssumeRole does.
What this module adds is presentation: the policy documents pretty-printed statement by statement, with the deciding statements marked.

Only the simulating account's principals are simulated. A user of another account is taken as
named and never read, so the answer does not depend on whether it exists: its trust check runs
(the trust policy is this account's), its identity check is "decided by account X". Likewise a
role of another account is that account's to judge.

A user an identity provider vouches for (``ProviderUser``) is simulated with a provider of the
simulating account only: a provider is found in that account or not at all, so another account's
provider is answered exactly like one that exists nowhere. The claims of the assertion or ID token
become the ``saml:*`` / ``oidc:*`` condition keys, as ``sts.federation`` passes them to AssumeRole.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field, replace
from typing import Any

from django.db.models import Q
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from iam import arns
from iam.auth import DEFAULT_DOMAIN_SUFFIX, resolve_account
from iam.authz import attached_policies, authorize, explain_decision
from iam.errors import ServiceError
from iam.identity import Identity, IdentityKind, RoleSessionInfo, identity_for_user
from iam.models import Account, Group, OIDCProvider, Role, SAMLProvider, User
from iam.policy import (
    Decision,
    ParsedPolicy,
    PolicyError,
    Reason,
    evaluate,
    explain,
    parse_policy,
)
from sts import assume, saml
from sts.federation import federated_caller

# The verdicts as the audit trail records them (in English) and as people read them.
VERDICTS = {"Allow": "Allow", "ExplicitDeny": "Explicit deny", "ImplicitDeny": "Implicit deny"}
VERDICT_LABELS = {
    "Allow": gettext_lazy("Allow"),
    "ExplicitDeny": gettext_lazy("Explicit deny"),
    "ImplicitDeny": gettext_lazy("Implicit deny"),
}
SESSION_POLICY_NAME = "session policy"
SESSION_POLICY_TYPE = "Session"


class SimulationError(ValueError):
    """The simulation's input is unusable (unknown principal, invalid session policy);
    ``field`` names the input at fault when it is not the principal or caller itself."""

    def __init__(self, message: str, *, field: str = "") -> None:
        super().__init__(message)
        self.field = field


@dataclass(frozen=True)
class Principal:
    """What the simulator evaluates: a user, a group's policies, or a role (session)."""

    kind: str  # "user", "group", "role"
    name: str
    identity: Identity | None
    policies: list[ParsedPolicy]
    session_policy: ParsedPolicy | None = None
    arn: str = ""

    @property
    def description(self) -> str:
        if self.identity is not None:
            return self.identity.principal_description
        return _("group %(name)s") % {"name": self.name}


@dataclass(frozen=True)
class StatementBlock:
    index: int
    text: str
    effect: str
    decided: bool


@dataclass(frozen=True)
class Document:
    name: str
    policy_type: str
    version: str
    head: str
    statements: list[StatementBlock]
    tail: str

    @property
    def decided(self) -> bool:
        return any(statement.decided for statement in self.statements)


@dataclass(frozen=True)
class ActionResult:
    action: str
    resource: str
    decision: Decision
    verdict: str
    explanation: str
    documents: list[Document] = field(default_factory=list)

    @property
    def verdict_label(self) -> str:
        return str(VERDICT_LABELS[self.decision.effect])


def split_actions(text: str) -> list[str]:
    """Actions typed one per line or separated by commas; blanks dropped, order kept."""
    seen: list[str] = []
    for part in text.replace(",", "\n").splitlines():
        action = part.strip()
        if action and action not in seen:
            seen.append(action)
    return seen


def load_principal(account: Account, value: str, session_policy_text: str = "") -> Principal:
    """``user:<name>``, ``group:<name>``, ``role:<name>`` (a session of the role, narrowed by
    ``session_policy_text`` when given) — always within ``account``."""
    kind, _, name = value.partition(":")
    if kind == "user":
        user = User.objects.filter(account=account, kind=User.Kind.RAM, name__iexact=name).first()
        if user is None:
            raise SimulationError(_("No user %(name)s in this account.") % {"name": name})
        policies = attached_policies(Q(user=user) | Q(group__members=user))
        return Principal("user", user.name, identity_for_user(user), policies, arn=user.arn)
    if kind == "group":
        group = Group.objects.filter(account=account, name__iexact=name).first()
        if group is None:
            raise SimulationError(_("No group %(name)s in this account.") % {"name": name})
        policies = attached_policies(Q(group=group))
        return Principal("group", group.name, None, policies, arn=group.arn)
    if kind == "role":
        role = Role.objects.filter(account=account, name__iexact=name).first()
        if role is None:
            raise SimulationError(_("No role %(name)s in this account.") % {"name": name})
        session_policy = parse_session_policy(session_policy_text)
        session = RoleSessionInfo(
            session_id="simulator",
            session_name="simulator",
            expires_at=0,
            session_policy=session_policy.text if session_policy else None,
        )
        identity = Identity(
            kind=IdentityKind.ROLE_SESSION, account_id=role.account_id, role=role, session=session
        )
        policies = attached_policies(Q(role=role))
        return Principal("role", role.name, identity, policies, session_policy, arn=role.arn)
    raise SimulationError(_("Choose a user, a group or a role."))


def parse_session_policy(text: str) -> ParsedPolicy | None:
    if not text.strip():
        return None
    try:
        parsed = parse_policy(
            text, kind="session", name=SESSION_POLICY_NAME, policy_type=SESSION_POLICY_TYPE
        )
    except PolicyError as error:
        raise SimulationError(_("Session policy: %(error)s") % {"error": error}) from error
    return parsed


def with_identity_context(identity: Identity, context: dict[str, Any]) -> Identity:
    """The identity as the request would carry it (MFA is a property of the logon)."""
    mfa = context.get("acs:MFAPresent")
    if mfa is None or identity.mfa_present == bool(mfa):
        return identity
    return replace(identity, mfa_present=bool(mfa))


def decide(principal: Principal, action: str, resource: str, context: dict[str, Any]) -> Decision:
    if principal.identity is not None:
        return authorize(
            with_identity_context(principal.identity, context), action, resource, context
        )
    return evaluate(principal.policies, action, resource, context)


def explanation(principal: Principal, decision: Decision, action: str, resource: str) -> str:
    if principal.identity is not None:
        return explain_decision(principal.identity, decision, action, resource)
    return explain(
        decision, principal_description=principal.description, action=action, resource=resource
    )


def documents(principal: Principal, reasons: tuple[Reason, ...]) -> list[Document]:
    """Every policy of the principal, pretty-printed per statement, deciding ones marked."""
    decided = {
        # The session policy travels as text and is named by the evaluator: match it by type.
        ("", reason.policy_type, "", reason.statement_index)
        if reason.policy_type == SESSION_POLICY_TYPE
        else (reason.policy_name, reason.policy_type, reason.version, reason.statement_index)
        for reason in reasons
    }
    policies = list(principal.policies)
    if principal.session_policy is not None:
        policies.append(principal.session_policy)
    result = [document(policy, decided) for policy in policies]
    return sorted(result, key=lambda item: not item.decided)


def document(policy: ParsedPolicy, decided: set[tuple[str, str, str, int]]) -> Document:
    data = policy.to_dict()
    statements = data.pop("Statement")
    head = json.dumps(data, indent=2)[:-2] + ',\n  "Statement": [\n'
    blocks = []
    for index, statement in enumerate(statements):
        text = "\n".join("    " + line for line in json.dumps(statement, indent=2).splitlines())
        if index < len(statements) - 1:
            text += ","
        key = (
            ("", SESSION_POLICY_TYPE, "", index)
            if policy.policy_type == SESSION_POLICY_TYPE
            else (policy.name, policy.policy_type, policy.version, index)
        )
        blocks.append(
            StatementBlock(index, text + "\n", statement.get("Effect", ""), key in decided)
        )
    return Document(policy.name, policy.policy_type, policy.version, head, blocks, "  ]\n}")


def simulate(
    principal: Principal, actions: list[str], resource: str, context: dict[str, Any]
) -> list[ActionResult]:
    results = []
    for action in actions:
        decision = decide(principal, action, resource, context)
        results.append(
            ActionResult(
                action,
                resource,
                decision,
                VERDICTS[decision.effect],
                explanation(principal, decision, action, resource),
                documents(principal, decision.reasons),
            )
        )
    return results


# --- AssumeRole -----------------------------------------------------------------------------------

PASSED = "passed"
FAILED = "failed"
NOT_REACHED = "not reached"
DECIDED_ELSEWHERE = "decided elsewhere"

# AssumeRole's checks (``sts.assume.CHECKS``) by title, as the simulator shows them.
CHECK_LABELS = {
    "Request parameters": gettext_lazy("Request parameters"),
    "Caller kind": gettext_lazy("Caller kind"),
    "Identity policy allows sts:AssumeRole": gettext_lazy("Identity policy allows sts:AssumeRole"),
    "Role exists": gettext_lazy("Role exists"),
    "Trust policy trusts the caller": gettext_lazy("Trust policy trusts the caller"),
    "Duration": gettext_lazy("Duration"),
}

CALLER_RE = re.compile(r"^[A-Za-z0-9._-]{1,64}\Z")


@dataclass
class Step:
    """One of AssumeRole's checks as the simulation went through it."""

    name: str
    status: str = NOT_REACHED
    detail: str = ""

    @property
    def label(self) -> str:
        """The check's name for people (``name`` is AssumeRole's own, as the trail records it)."""
        return str(CHECK_LABELS.get(self.name, self.name))


@dataclass
class AssumeRoleSimulation:
    checks: list[Step]
    deciding_accounts: list[str] = field(default_factory=list)

    @property
    def succeeds(self) -> bool:
        return all(check.status == PASSED for check in self.checks)

    @property
    def failed_check(self) -> Step | None:
        return next((check for check in self.checks if check.status == FAILED), None)

    @property
    def succeeds_if_allowed_elsewhere(self) -> bool:
        """No check failed, and the ones left to another account are all it takes."""
        return all(check.status in (PASSED, DECIDED_ELSEWHERE) for check in self.checks)

    @property
    def verdict(self) -> str:
        """``Allow``, ``Denied`` or ``Allow if account company2 (…) allows``."""
        if self.failed_check is not None:
            return "Denied"
        if self.succeeds:
            return "Allow"
        if self.succeeds_if_allowed_elsewhere:
            return f"Allow if account {', '.join(self.deciding_accounts)} allows"
        return "Not decided"

    @property
    def verdict_label(self) -> str:
        """``verdict`` for people, in their language (``verdict`` is the trail's)."""
        if self.failed_check is not None:
            return _("Denied")
        if self.succeeds:
            return _("Allow")
        if self.succeeds_if_allowed_elsewhere:
            return _("Allow if account %(accounts)s allows") % {
                "accounts": ", ".join(self.deciding_accounts)
            }
        return _("Not decided")

    def leave_to(self, check: Step, account_name: str, detail: str) -> None:
        check.status, check.detail = (
            DECIDED_ELSEWHERE,
            _("Decided by account %(account)s: %(detail)s")
            % {"account": account_name, "detail": detail},
        )
        if account_name not in self.deciding_accounts:
            self.deciding_accounts.append(account_name)


@dataclass(frozen=True)
class OtherAccountUser:
    """A RAM user of another account, as the simulator's user names it.

    Another account is another tenant: nothing of it is read but its alias, so the simulation
    cannot tell (nor tell anyone) whether such a user exists there, or what it may do.
    """

    account_id: str
    account_alias: str
    name: str

    @property
    def account_name(self) -> str:
        return f"{self.account_alias} ({self.account_id})"

    @property
    def arn(self) -> str:
        return arns.user_arn(self.account_id, self.name)

    def identity(self) -> Identity:
        """The caller as AssumeRole's trust check sees it, built from the name alone (the user
        object is never saved nor read)."""
        user = User(account_id=self.account_id, kind=User.Kind.RAM, name=self.name)
        return Identity(kind=IdentityKind.USER, account_id=self.account_id, user=user)


@dataclass(frozen=True)
class ProviderUser:
    """A user an identity provider of the simulating account vouches for, with the claims its
    assertion (SAML) or ID token (OIDC) would carry: they become the condition keys the role's
    trust policy tests, as ``sts.federation`` hands them to AssumeRole."""

    provider: SAMLProvider | OIDCProvider
    subject: str
    claims: dict[str, str]

    @property
    def kind(self) -> str:
        """``saml`` or ``oidc``."""
        return "saml" if isinstance(self.provider, SAMLProvider) else "oidc"

    def identity(self) -> Identity:
        return federated_caller(self.provider, self.kind, self.subject)

    @property
    def claim_words(self) -> str:
        return ", ".join(f"{key} = {value}" for key, value in self.claims.items())


def no_such_provider(value: str) -> SimulationError:
    return SimulationError(
        _("No identity provider %(provider)s in this account.") % {"provider": value},
        field="provider",
    )


def find_provider(account: Account, arn: str) -> SAMLProvider | OIDCProvider:
    """A SAML or OIDC provider of ``account`` by its ARN (the name in any letter case). Only
    ``account`` is searched: a provider of another account is answered like a missing one."""
    match = arns.FEDERATED_PRINCIPAL_PATTERN.fullmatch(arn.strip())
    if match is None or match["account"] != account.pk:
        raise no_such_provider(arn.strip())
    model = SAMLProvider if match["kind"] == arns.SAML_PROVIDER else OIDCProvider
    provider = model.objects.filter(account=account, name__iexact=match["name"]).first()
    if provider is None:
        raise no_such_provider(arn.strip())
    return provider


def provider_user(
    account: Account, provider_arn: str, subject: str, *, audience: str = "", recipient: str = ""
) -> ProviderUser:
    """The federated caller to simulate: ``subject`` of the provider ``provider_arn`` of
    ``account``. The claims are what a verified assertion or token carries: for SAML the issuer
    is the provider's entity id, the audience our SP entity id and the recipient ``recipient``
    (our ACS URL unless given); for OIDC the issuer is the provider's issuer URL and the audience
    ``audience``, one of the provider's client ids (the first unless given), as a token naming
    any other is refused."""
    provider = find_provider(account, provider_arn)
    subject = subject.strip()
    if not subject:
        raise SimulationError(
            _("Name the subject the identity provider vouches for."), field="subject"
        )
    if isinstance(provider, SAMLProvider):
        claims = {
            "saml:recipient": recipient.strip() or saml.acs_url(),
            "saml:sub": subject,
            "saml:iss": provider.entity_id,
            "saml:aud": saml.sp_entity_id(),
        }
        return ProviderUser(provider, subject, claims)
    audience = audience.strip() or (provider.client_ids[0] if provider.client_ids else "")
    if audience not in provider.client_ids:
        raise SimulationError(
            _(
                "A token for audience %(audience)s is refused: choose one of the provider's "
                "client ids (%(client_ids)s)."
            )
            % {"audience": audience, "client_ids": ", ".join(provider.client_ids)},
            field="audience",
        )
    claims = {"oidc:iss": provider.issuer_url, "oidc:aud": audience, "oidc:sub": subject}
    return ProviderUser(provider, subject, claims)


def find_caller(account: Account, value: str) -> User | OtherAccountUser:
    """A user of ``account`` by name (``alice``), or its root by email; a user of another
    account as ``alice@company2`` or ``<account id>/alice`` is taken as named, unread."""
    value = value.strip()
    if "/" in value:
        account_text, _, name = value.partition("/")
    elif "@" in value:
        root = User.objects.filter(account=account, kind=User.Kind.ROOT).first()
        if root is not None and root.email.lower() == value.lower():
            return root
        name, _, account_text = value.rpartition("@")
        account_text = account_text.lower().removesuffix(DEFAULT_DOMAIN_SUFFIX)
    else:
        account_text, name = account.pk, value
    owner = account if account_text == account.pk else resolve_account(account_text)
    if owner is None:
        raise SimulationError(
            _(
                "No account %(account)s here: name a user as alice, alice@<alias> or "
                "<account id>/alice."
            )
            % {"account": account_text}
        )
    if not CALLER_RE.match(name):
        raise SimulationError(_("%(name)s is not a RAM user name.") % {"name": name})
    if owner.pk != account.pk:
        return OtherAccountUser(owner.pk, owner.alias, name)
    user = User.objects.filter(account=account, kind=User.Kind.RAM, name__iexact=name).first()
    if user is None:
        raise SimulationError(_("No user %(name)s in this account.") % {"name": name})
    return user


def hosted_alias(account_id: str) -> str:
    """The alias of a hosted account, "" for an account id not hosted here."""
    return Account.objects.filter(pk=account_id).values_list("alias", flat=True).first() or ""


def simulate_assume_role(
    account: Account,
    caller: User | OtherAccountUser | ProviderUser,
    role_arn: str,
    *,
    external_id: str = "",
    source_ip: str = "",
    duration: str = "",
    session_policy: str = "",
) -> AssumeRoleSimulation:
    """Run AssumeRole's own checks (``sts.assume.CHECKS``) in their order; stop at the first
    refusal.

    ``account`` is the simulating account. A check that would read another account's data is
    left to that account and marked so: the identity check of its users, and the role, trust and
    duration checks of its roles; none of its data is read. A user of an identity provider
    (``ProviderUser``, whose claims join the request's context) may assume only roles of the
    provider's own account: another account's role fails without being looked up.
    """
    simulation = AssumeRoleSimulation([Step(check.title) for check in assume.CHECKS])
    other = caller if isinstance(caller, OtherAccountUser) else None
    federated = caller if isinstance(caller, ProviderUser) else None
    identity = caller_identity(caller)
    context: dict[str, Any] = {"acs:SourceIp": source_ip} if source_ip else {}
    if federated is not None:
        context.update(federated.claims)
    attempt = assume.Attempt(
        identity,
        assume.AssumeRoleInput(
            role_arn=role_arn.strip(),
            session_name="simulator",
            duration_seconds=duration or None,
            policy=session_policy or None,
            external_id=(external_id or None) if federated is None else None,
        ),
        context,
    )
    for check, step in zip(assume.CHECKS, simulation.checks, strict=True):
        if check.decided_by == "role" and federated and attempt.account_id != account.pk:
            step.status, step.detail = FAILED, foreign_role_words(federated, attempt.account_id)
            break
        if check.decided_by == "caller" and other is not None:
            simulation.leave_to(
                step,
                other.account_name,
                _("its own policies must allow sts:AssumeRole on %(role)s; they are not read here.")
                % {"role": attempt.target_arn},
            )
            continue
        if check.decided_by == "role" and attempt.account_id != account.pk:
            leave_role_checks(simulation, step, attempt.account_id)
            if step.status == FAILED:
                break
            continue
        try:
            step.detail = check.run(attempt)()
        except assume.AssumeRoleDenied as denied:
            step.status, step.detail = FAILED, denied.explanation
            break
        except ServiceError as error:
            step.status, step.detail = FAILED, f"{error.code}: {error.message}"
            break
        step.status = PASSED
        if check.run is assume.check_caller_kind:
            step.detail = caller_words(identity, other, federated)
    return simulation


def caller_identity(caller: User | OtherAccountUser | ProviderUser) -> Identity:
    if isinstance(caller, OtherAccountUser | ProviderUser):
        return caller.identity()
    return identity_for_user(caller)


def foreign_role_words(caller: ProviderUser, account_id: str) -> str:
    return _(
        "Denied: identity provider %(provider)s vouches only for roles of its own account "
        "%(own)s; no role of account %(account)s can be assumed with it (that account's roles "
        "are not read here)."
    ) % {"provider": caller.provider.name, "own": caller.provider.account_id, "account": account_id}


def caller_words(
    identity: Identity, other: OtherAccountUser | None, federated: ProviderUser | None = None
) -> str:
    if federated is not None:
        words = _("%(principal)s: a user the provider vouches for (%(arn)s), with %(claims)s.") % {
            "principal": identity.principal_description,
            "arn": identity.arn,
            "claims": federated.claim_words,
        }
        recipient = federated.claims.get("saml:recipient")
        if recipient is not None and recipient != saml.acs_url():
            words += " " + _(
                "A real assertion must name %(url)s as its recipient: any other is refused "
                "before AssumeRole."
            ) % {"url": saml.acs_url()}
        return words
    if other is None:
        return _("%(principal)s is a RAM user.") % {"principal": identity.principal_description}
    return _(
        "%(arn)s, as named: a RAM user of account %(account)s if that account has one by this name."
    ) % {"arn": other.arn, "account": other.account_name}


def leave_role_checks(simulation: AssumeRoleSimulation, step: Step, account_id: str) -> None:
    """A role of another account: whether it exists, trusts the caller and allows the duration
    is that account's to say; its roles are not read here. An account not hosted here has no
    role anyone here can assume."""
    alias = hosted_alias(account_id)
    if not alias:
        step.status = FAILED
        step.detail = _(
            "Account %(account)s is not hosted here: none of its roles can be assumed."
        ) % {"account": account_id}
        return
    read = {
        "Role exists": _("its roles are not read here."),
        "Trust policy trusts the caller": _("its role's trust policy is not read here."),
        "Duration": _("its role's maximum session duration is not read here."),
    }
    simulation.leave_to(step, f"{alias} ({account_id})", read[step.name])
