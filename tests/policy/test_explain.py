"""One sentence for people for every kind of decision."""

from __future__ import annotations

from iam.policy import (
    Decision,
    Reason,
    TrustPrincipal,
    evaluate,
    explain,
    parse_policy,
    trust_allows,
)
from tests.policy.builders import ACCOUNT, OTHER_ACCOUNT, allow, deny, policy, role_arn, trust

ROLES = f"acs:ram::{ACCOUNT}:role/*"


def explained(decision: Decision, action: str = "ram:CreateRole", resource: str = ROLES) -> str:
    return explain(
        decision, principal_description="role ecs-admin", action=action, resource=resource
    )


def test_explains_allow_by_a_system_policy() -> None:
    administrator = parse_policy(policy(allow()), name="AdministratorAccess", policy_type="System")
    decision = evaluate([administrator], "ram:CreateRole", ROLES)
    assert explained(decision) == "Allowed by statement 0 of system policy AdministratorAccess (v1)"


def test_explains_explicit_deny_by_a_custom_policy() -> None:
    deny_prod = parse_policy(policy(allow(), allow(), deny("ram:*")), name="DenyProd", version="v3")
    decision = evaluate([deny_prod], "ram:CreateRole", ROLES)
    assert explained(decision) == "Denied by statement 2 of custom policy DenyProd (v3)"


def test_explains_implicit_deny_naming_action_and_resource() -> None:
    decision = evaluate([policy(allow("ecs:*"))], "ram:CreateRole", ROLES)
    assert explained(decision) == (
        f"Denied: no policy of role ecs-admin allows ram:CreateRole on {ROLES}"
    )


def test_explains_explicit_deny_by_the_session_policy() -> None:
    decision = evaluate([policy(allow())], "ram:CreateRole", ROLES, session_policy=policy(deny()))
    assert explained(decision) == "Denied by statement 0 of the session policy"


def test_explains_implicit_deny_by_the_session_policy() -> None:
    session = policy(allow("ecs:*"))
    decision = evaluate([policy(allow())], "ram:CreateRole", ROLES, session_policy=session)
    assert explained(decision).startswith(
        f"Denied: the session policy does not allow ram:CreateRole on {ROLES}"
    )


def test_explains_allow_through_role_and_session_policy() -> None:
    decision = evaluate([policy(allow())], "ram:CreateRole", ROLES, session_policy=policy(allow()))
    assert explained(decision) == (
        "Allowed by statement 0 of custom policy inline (v1) and statement 0 of the session policy"
    )


def test_explains_many_reasons_briefly() -> None:
    reasons = tuple(Reason("P", "Custom", "v1", index, "Deny") for index in range(5))
    assert explained(Decision("ExplicitDeny", reasons)) == (
        "Denied by statement 0 of custom policy P (v1), statement 1 of custom policy P (v1) "
        "and 3 more statements"
    )


def test_explains_trust_decisions() -> None:
    alice = TrustPrincipal("user", ACCOUNT, name="alice")
    role = role_arn("admin")
    trusted = trust_allows(trust(f"acs:ram::{ACCOUNT}:root"), alice)
    untrusted = trust_allows(trust(f"acs:ram::{OTHER_ACCOUNT}:root"), alice)
    refused = trust_allows(trust(f"acs:ram::{ACCOUNT}:root", effect="Deny"), alice)
    arguments = {
        "principal_description": "RAM user alice",
        "action": "sts:AssumeRole",
        "resource": role,
    }
    assert explain(trusted, **arguments) == "Allowed by statement 0 of the trust policy"
    assert explain(refused, **arguments) == "Denied by statement 0 of the trust policy"
    assert explain(untrusted, **arguments) == (
        f"Denied: the trust policy of {role} does not let RAM user alice perform sts:AssumeRole"
    )
