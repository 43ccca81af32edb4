"""The policy simulator: what would the authorizer decide, and which statements decide it.

Nothing here decides anything itself. A permission simulation asks ``iam.authz.authorize`` (users
and role sessions) or ``iam.policy.evaluate`` (a group's policies alone), exactly as a real request
would be decided; an AssumeRole simulation runs the very checks of ``sts.assume`` one by one
(``validate_input``, ``check_caller``, ``find_role``, ``check_trust`` and the duration rule) and
stops at the first that refuses, as AssumeRole does. What this module adds is presentation: the
policy documents pretty-printed statement by statement, with the deciding statements marked.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Q

from iam.auth import find_identity, resolve_account
from iam.authz import attached_policies, authorize, explain_decision
from iam.errors import ServiceError
from iam.identity import Identity, IdentityKind, RoleSessionInfo, identity_for_user
from iam.models import Account, Group, Role, User
from iam.models import role_arn as arn_of_role
from iam.policy import (
    Decision,
    ParsedPolicy,
    PolicyError,
    Reason,
    evaluate,
    explain,
    parse_policy,
    trust_allows,
)

VERDICTS = {"Allow": "Allow", "ExplicitDeny": "Explicit deny", "ImplicitDeny": "Implicit deny"}
SESSION_POLICY_NAME = "session policy"
SESSION_POLICY_TYPE = "Session"


class SimulationError(ValueError):
    """The simulation's input is unusable (unknown principal, invalid session policy)."""


@dataclass(frozen=True)
class Principal:
    """What the simulator evaluates: a user, a group's policies, or a role (session)."""

    kind: str  # "user", "group", "role"
    name: str
    identity: Identity | None
    policies: list[ParsedPolicy]
    session_policy: ParsedPolicy | None = None

    @property
    def description(self) -> str:
        if self.identity is not None:
            return self.identity.principal_description
        return f"{self.kind} {self.name}"


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
            raise SimulationError(f"No user {name} in this account.")
        policies = attached_policies(Q(user=user) | Q(group__members=user))
        return Principal("user", user.name, identity_for_user(user), policies)
    if kind == "group":
        group = Group.objects.filter(account=account, name__iexact=name).first()
        if group is None:
            raise SimulationError(f"No group {name} in this account.")
        return Principal("group", group.name, None, attached_policies(Q(group=group)))
    if kind == "role":
        role = Role.objects.filter(account=account, name__iexact=name).first()
        if role is None:
            raise SimulationError(f"No role {name} in this account.")
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
        return Principal("role", role.name, identity, policies, session_policy)
    raise SimulationError("Choose a user, a group or a role.")


def parse_session_policy(text: str) -> ParsedPolicy | None:
    if not text.strip():
        return None
    try:
        parsed = parse_policy(
            text, kind="session", name=SESSION_POLICY_NAME, policy_type=SESSION_POLICY_TYPE
        )
    except PolicyError as error:
        raise SimulationError(f"Session policy: {error}") from error
    return parsed


def with_identity_context(identity: Identity, context: dict[str, Any]) -> Identity:
    """The identity as the request would carry it (MFA is a property of the logon)."""
    mfa = context.get("acs:MFAPresent")
    if mfa is None or identity.mfa_present == bool(mfa):
        return identity
    return Identity(
        kind=identity.kind,
        account_id=identity.account_id,
        user=identity.user,
        role=identity.role,
        service=identity.service,
        session=identity.session,
        mfa_present=bool(mfa),
    )


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


@dataclass
class Check:
    name: str
    status: str = NOT_REACHED
    detail: str = ""


@dataclass
class AssumeRoleSimulation:
    checks: list[Check]

    @property
    def succeeds(self) -> bool:
        return all(check.status == PASSED for check in self.checks)

    @property
    def failed_check(self) -> Check | None:
        return next((check for check in self.checks if check.status == FAILED), None)


def find_caller(account: Account, value: str) -> User:
    """A user of the current account by name, or any user by ``name@alias`` / ``<account>/<name>``."""
    value = value.strip()
    user: User | None
    if "@" in value:
        user = find_identity(value)
    elif "/" in value:
        account_text, _, name = value.partition("/")
        owner = resolve_account(account_text)
        user = (
            User.objects.filter(account=owner, kind=User.Kind.RAM, name__iexact=name).first()
            if owner is not None
            else None
        )
    else:
        user = User.objects.filter(account=account, kind=User.Kind.RAM, name__iexact=value).first()
    if user is None:
        raise SimulationError(f"No identity {value}.")
    return user


def simulate_assume_role(
    caller: User,
    role_arn: str,
    *,
    external_id: str = "",
    source_ip: str = "",
    duration: str = "",
    session_policy: str = "",
) -> AssumeRoleSimulation:
    """Run the checks of ARCHITECTURE §4 in AssumeRole's order; stop at the first refusal."""
    from sts import assume  # sts builds on iam; import late to keep iam importable on its own

    checks = [
        Check("Request parameters"),
        Check("Caller kind"),
        Check("Identity policy allows sts:AssumeRole"),
        Check("Role exists"),
        Check("Trust policy trusts the caller"),
        Check("Duration"),
    ]
    identity = identity_for_user(caller)
    context: dict[str, Any] = {"acs:SourceIp": source_ip} if source_ip else {}
    request = assume.AssumeRoleInput(
        role_arn=role_arn.strip(),
        session_name="simulator",
        duration_seconds=duration or None,
        policy=session_policy or None,
        external_id=external_id or None,
    )
    steps = iter(checks)
    step = next(steps)
    try:
        account_id, role_name, seconds, _ = assume.validate_input(request)
        step.status, step.detail = PASSED, "RoleArn, duration and session policy are well formed."
        target = arn_of_role(account_id, role_name)
        step = next(steps)
        if identity.kind is IdentityKind.ROOT:
            assume.check_caller(identity, target, context)
        step.status, step.detail = PASSED, f"{identity.principal_description} is a RAM user."
        step = next(steps)
        assume.check_caller(identity, target, context)
        decision = authorize(identity, "sts:AssumeRole", target, context)
        step.status = PASSED
        step.detail = explain_decision(identity, decision, "sts:AssumeRole", target)
        step = next(steps)
        role = assume.find_role(account_id, role_name)
        step.status, step.detail = PASSED, f"Role {role.name} of account {role.account_id}."
        step = next(steps)
        trust_context = assume.trust_context(identity, context, request.external_id)
        assume.check_trust(identity, role, trust_context)
        trust = trust_allows(role.trust_policy, assume.trust_principal(identity), trust_context)
        step.status = PASSED
        step.detail = explain(
            trust,
            principal_description=identity.principal_description,
            action="sts:AssumeRole",
            resource=role.arn,
        )
        step = next(steps)
        ceiling = min(role.max_session_duration, 43200)
        chosen = seconds if seconds is not None else min(assume.DEFAULT_DURATION, ceiling)
        if not assume.MIN_DURATION <= chosen <= ceiling:
            raise assume.duration_error()
        step.status = PASSED
        step.detail = f"{chosen} seconds, within [{assume.MIN_DURATION}, {ceiling}]."
    except assume.AssumeRoleDenied as denied:
        step.status, step.detail = FAILED, denied.explanation
    except ServiceError as error:
        step.status, step.detail = FAILED, f"{error.code}: {error.message}"
    return AssumeRoleSimulation(checks)
