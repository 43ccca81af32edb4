"""Trust policies: may this caller assume the role?"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace

from iam.policy.compiled import CompiledPolicy, PolicyInput, compile_policy
from iam.policy.conditions import RequestContext
from iam.policy.decision import ALLOW, EXPLICIT_DENY, IMPLICIT_DENY, TRUST_POLICY_TYPE, Decision
from iam.policy.parse import DENY, TRUST, ParsedPolicy
from iam.policy.principals import TrustPrincipal

ASSUME_ROLE = "sts:AssumeRole"
TRUST_NAME = "trust policy"


def trust_allows(
    trust_policy: PolicyInput | CompiledPolicy,
    principal: TrustPrincipal,
    context: Mapping[str, object] | None = None,
    *,
    action: str = ASSUME_ROLE,
) -> Decision:
    """Decide whether the role's trust policy lets ``principal`` perform ``action``.

    A statement applies when it names the principal (see PrincipalMatcher), its Action covers
    ``action`` (for a federated caller, or its federation action) and its conditions hold in
    ``context`` (``sts:ExternalId``, ``acs:SourceIp``, ``saml:recipient``, ``oidc:aud``...).
    Explicit Deny wins, then any Allow, else implicit deny. The identity side (the caller's own
    ``sts:AssumeRole`` permission) and the refusal of account roots are the caller's checks.
    Reasons report policy type "Trust".
    """
    if isinstance(trust_policy, CompiledPolicy):
        trust_policy = trust_policy.parsed
    if isinstance(trust_policy, ParsedPolicy):
        if trust_policy.kind != TRUST:
            raise ValueError(
                f"the {trust_policy.kind} policy {trust_policy.name!r} is not a trust policy"
            )
        if trust_policy.policy_type != TRUST_POLICY_TYPE or not trust_policy.name:
            trust_policy = replace(
                trust_policy, policy_type=TRUST_POLICY_TYPE, name=trust_policy.name or TRUST_NAME
            )
    compiled = compile_policy(
        trust_policy, kind=TRUST, name=TRUST_NAME, policy_type=TRUST_POLICY_TYPE
    )
    request = RequestContext(context)
    # A federated caller's statements say sts:AssumeRole (as Alibaba's own examples do) or the
    # federation action itself (sts:AssumeRoleWithSAML / sts:AssumeRoleWithOIDC).
    actions = tuple(name.lower() for name in (action, principal.federation_action) if name)
    applying = [
        statement
        for statement in compiled.statements
        if statement.matches_caller(actions, principal, request)
    ]
    denies = tuple(statement.reason for statement in applying if statement.effect == DENY)
    if denies:
        return Decision(EXPLICIT_DENY, denies, policy_kind=TRUST)
    allows = tuple(statement.reason for statement in applying)
    if allows:
        return Decision(ALLOW, allows, policy_kind=TRUST)
    return Decision(IMPLICIT_DENY, policy_kind=TRUST)
