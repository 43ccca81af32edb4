"""Trust policies: which callers may assume a role."""

from __future__ import annotations

from typing import Any

import pytest

from iam.policy import (
    ALLOW,
    EXPLICIT_DENY,
    IMPLICIT_DENY,
    TrustPrincipal,
    parse_policy,
    trust_allows,
)
from tests.policy.builders import ACCOUNT, OTHER_ACCOUNT, allow, policy, trust

ROOT = f"acs:ram::{ACCOUNT}:root"
ALICE = TrustPrincipal("user", ACCOUNT, name="alice")
BOB = TrustPrincipal("user", ACCOUNT, name="bob")
ALICE_OF_OTHER_ACCOUNT = TrustPrincipal("user", OTHER_ACCOUNT, name="alice")
ADMIN_SESSION = TrustPrincipal("role_session", ACCOUNT, role_name="admin")
ADMIN_SESSION_OF_OTHER_ACCOUNT = TrustPrincipal("role_session", OTHER_ACCOUNT, role_name="admin")
ACCOUNT_ROOT = TrustPrincipal("account", ACCOUNT)
ECS_SERVICE = TrustPrincipal("service", ACCOUNT, service="ecs.aliyuncs.com")
OSS_SERVICE = TrustPrincipal("service", ACCOUNT, service="oss.aliyuncs.com")

# (principal element, caller, trusted)
PRINCIPAL_CASES = [
    ({"RAM": ROOT}, ALICE, True),
    ({"RAM": ROOT}, ADMIN_SESSION, True),
    ({"RAM": ROOT}, ACCOUNT_ROOT, True),
    ({"RAM": ROOT}, ALICE_OF_OTHER_ACCOUNT, False),
    ({"RAM": ROOT}, ADMIN_SESSION_OF_OTHER_ACCOUNT, False),
    ({"RAM": ROOT}, ECS_SERVICE, False),
    ({"RAM": [f"acs:ram::{OTHER_ACCOUNT}:root", ROOT]}, ALICE, True),
    ({"RAM": "acs:ram::*:root"}, ALICE_OF_OTHER_ACCOUNT, True),
    ({"RAM": f"acs:ram::{ACCOUNT}:user/alice"}, ALICE, True),
    ({"RAM": f"acs:ram::{ACCOUNT}:user/ALICE"}, ALICE, True),
    ({"RAM": f"acs:ram::{ACCOUNT}:user/alice"}, BOB, False),
    ({"RAM": f"acs:ram::{ACCOUNT}:user/alice"}, ALICE_OF_OTHER_ACCOUNT, False),
    ({"RAM": f"acs:ram::{ACCOUNT}:user/admin"}, ADMIN_SESSION, False),
    ({"RAM": f"acs:ram::{ACCOUNT}:role/Admin"}, ADMIN_SESSION, True),
    ({"RAM": f"acs:ram::{ACCOUNT}:role/admin"}, ADMIN_SESSION_OF_OTHER_ACCOUNT, False),
    ({"RAM": f"acs:ram::{ACCOUNT}:role/alice"}, ALICE, False),
    ({"Service": "ecs.aliyuncs.com"}, ECS_SERVICE, True),
    ({"Service": "ECS.aliyuncs.com"}, ECS_SERVICE, True),
    ({"Service": "ecs.aliyuncs.com"}, OSS_SERVICE, False),
    ({"Service": "alice"}, ALICE, False),
    ({"Federated": f"acs:ram::{ACCOUNT}:saml-provider/okta"}, ALICE, False),
]


def trust_statement(principal: dict[str, Any], **elements: Any) -> dict[str, Any]:
    return {"Effect": "Allow", "Action": "sts:AssumeRole", "Principal": principal, **elements}


@pytest.mark.parametrize(
    ("principal", "caller", "trusted"),
    PRINCIPAL_CASES,
    ids=[f"{case[0]}-{case[1].kind}-{index}" for index, case in enumerate(PRINCIPAL_CASES)],
)
def test_trust_principal(principal: dict[str, Any], caller: TrustPrincipal, trusted: bool) -> None:
    assert trust_allows(policy(trust_statement(principal)), caller).allowed is trusted


EXTERNAL_ID = {"StringEquals": {"sts:ExternalId": "abcd1234"}}


@pytest.mark.parametrize(
    ("context", "trusted"),
    [
        ({"sts:ExternalId": "abcd1234"}, True),
        ({}, False),
        ({"sts:ExternalId": "wrong"}, False),
        ({"sts:ExternalId": ""}, False),
    ],
    ids=["present", "missing", "wrong", "empty"],
)
def test_external_id_condition(context: dict[str, str], trusted: bool) -> None:
    document = policy(trust_statement({"RAM": ROOT}, Condition=EXTERNAL_ID))
    assert trust_allows(document, ALICE, context).allowed is trusted


def test_source_ip_condition_applies_to_trust() -> None:
    condition = {"IpAddress": {"acs:SourceIp": "10.0.0.0/8"}}
    document = policy(trust_statement({"RAM": ROOT}, Condition=condition))
    assert trust_allows(document, ALICE, {"acs:SourceIp": "10.0.0.7"}).allowed
    assert not trust_allows(document, ALICE, {"acs:SourceIp": "8.8.8.8"}).allowed


def test_explicit_deny_in_trust_policy_wins() -> None:
    document = policy(
        trust_statement({"RAM": ROOT}),
        trust_statement({"RAM": f"acs:ram::{ACCOUNT}:user/bob"}, Effect="Deny"),
    )
    denied = trust_allows(document, BOB)
    assert denied.effect == EXPLICIT_DENY
    assert denied.reasons[0].statement_index == 1
    assert trust_allows(document, ALICE).effect == ALLOW


def test_untrusted_caller_gets_implicit_deny_from_the_trust_policy() -> None:
    decision = trust_allows(trust(f"acs:ram::{OTHER_ACCOUNT}:root"), ALICE)
    assert decision.effect == IMPLICIT_DENY
    assert decision.policy_kind == "trust"


def test_statement_for_another_assume_action_does_not_trust_for_assume_role() -> None:
    document = policy(trust_statement({"RAM": ROOT}, Action="sts:AssumeRoleWithSAML"))
    assert not trust_allows(document, ALICE).allowed
    assert trust_allows(document, ALICE, action="sts:AssumeRoleWithSAML").allowed


def test_wildcard_action_trusts_for_assume_role() -> None:
    assert trust_allows(policy(trust_statement({"RAM": ROOT}, Action="sts:*")), ALICE).allowed


def test_trust_policy_text_and_parsed_policy_agree() -> None:
    document = trust(ROOT)
    parsed = parse_policy(document, kind="trust")
    assert trust_allows(parsed, ALICE) == trust_allows(document, ALICE)


def test_permission_policy_is_not_a_trust_policy() -> None:
    with pytest.raises(ValueError, match="not a trust policy"):
        trust_allows(parse_policy(policy(allow())), ALICE)


def test_unknown_principal_kind_is_a_programming_error() -> None:
    with pytest.raises(ValueError, match="kind"):
        TrustPrincipal("group", ACCOUNT)
