"""ForAnyValue:/ForAllValues:, ...IfExists and Null, by AWS's documented semantics; the compiled
evaluator and the reference evaluator must give the same answer for every case."""

from __future__ import annotations

from typing import Any

import pytest

from iam.policy import evaluate
from iam.policy.naive import naive_evaluate
from tests.policy.builders import allow, policy

ABSENT = object()
ACTION = "ecs:TagResources"
RESOURCE = "acs:ecs:cn-hangzhou:1:instance/i-1"

# (operator, key, policy value(s), context value or ABSENT, allowed)
CASES = [
    # ForAnyValue: some request value matches; an absent key fails.
    ("ForAnyValue:StringEquals", "acs:TagKeys", ["team", "env"], ["owner", "team"], True),
    ("ForAnyValue:StringEquals", "acs:TagKeys", ["team", "env"], ["owner"], False),
    ("ForAnyValue:StringEquals", "acs:TagKeys", "team", ABSENT, False),
    ("ForAnyValue:StringEquals", "acs:TagKeys", "team", [], False),
    # ForAnyValue with a negated operator: some request value matches none of the policy's.
    ("ForAnyValue:StringNotEquals", "acs:TagKeys", ["team", "env"], ["team", "owner"], True),
    ("ForAnyValue:StringNotEquals", "acs:TagKeys", ["team", "env"], ["team", "env"], False),
    ("ForAnyValue:StringNotEquals", "acs:TagKeys", "team", ABSENT, False),
    # ForAllValues: every request value matches one of the policy's; an absent key holds.
    ("ForAllValues:StringEquals", "acs:TagKeys", ["team", "env"], ["env", "team"], True),
    ("ForAllValues:StringEquals", "acs:TagKeys", ["team", "env"], ["team", "owner"], False),
    ("ForAllValues:StringEquals", "acs:TagKeys", "team", ABSENT, True),
    ("ForAllValues:StringLike", "acs:TagKeys", "team*", ["team", "team-lead"], True),
    ("ForAllValues:NumericLessThan", "acs:RequestTag/size", 10, ["3", "x"], False),
    # ForAllValues with a negated operator: no request value matches any of the policy's.
    ("ForAllValues:StringNotEquals", "acs:TagKeys", ["secret"], ["team", "env"], True),
    ("ForAllValues:StringNotEquals", "acs:TagKeys", ["secret"], ["team", "secret"], False),
    ("ForAllValues:StringNotEquals", "acs:TagKeys", "secret", ABSENT, True),
    # IfExists: an absent key holds, a present one is tested as usual.
    ("StringEqualsIfExists", "acs:RequestTag/env", "prod", ABSENT, True),
    ("StringEqualsIfExists", "acs:RequestTag/env", "prod", "prod", True),
    ("StringEqualsIfExists", "acs:RequestTag/env", "prod", "dev", False),
    ("StringNotEqualsIfExists", "acs:RequestTag/env", "prod", "prod", False),
    ("NumericLessThanIfExists", "acs:RequestTag/count", 10, "not a number", False),
    ("IpAddressIfExists", "ecs:ClientIp", "10.0.0.0/8", ABSENT, True),
    ("ForAnyValue:StringEqualsIfExists", "acs:TagKeys", "team", ABSENT, True),
    ("ForAnyValue:StringEqualsIfExists", "acs:TagKeys", "team", ["env"], False),
    # Null: "true" asks for an absent key, "false" for a present one.
    ("Null", "acs:RequestTag/env", "true", ABSENT, True),
    ("Null", "acs:RequestTag/env", "true", "prod", False),
    ("Null", "acs:RequestTag/env", "false", "prod", True),
    ("Null", "acs:RequestTag/env", "false", [], False),
    ("Null", "acs:RequestTag/env", "false", "", True),
    # Number operators read tag values (strings) tolerantly.
    ("NumericLessThan", "acs:RequestTag/count", 10, "3", True),
    ("NumericLessThan", "acs:RequestTag/count", 10, " 30 ", False),
    ("NumericLessThan", "acs:RequestTag/count", 10, "three", False),
    # An operator of another type than the key's reads the context value as its own type.
    ("StringEquals", "acs:SecureTransport", "true", True, True),
    ("StringEquals", "acs:SecureTransport", "true", False, False),
    ("StringEquals", "acs:SourceIp", "10.0.0.1", "10.0.0.1", True),
]


def decisions(condition: dict[str, Any], context: dict[str, Any]) -> tuple[bool, bool]:
    documents = [policy(allow("ecs:*", Condition=condition))]
    compiled = evaluate(documents, ACTION, RESOURCE, context)
    naive = naive_evaluate(documents, ACTION, RESOURCE, context)
    return compiled.allowed, naive.allowed


@pytest.mark.parametrize(
    ("operator", "key", "policy_values", "context_value", "expected"),
    CASES,
    ids=[f"{case[0]}-{index}" for index, case in enumerate(CASES)],
)
def test_operator(
    operator: str, key: str, policy_values: Any, context_value: Any, expected: bool
) -> None:
    context = {} if context_value is ABSENT else {key: context_value}

    assert decisions({operator: {key: policy_values}}, context) == (expected, expected)


def test_a_deny_with_a_negated_operator_applies_when_the_key_is_absent() -> None:
    documents = [
        policy(
            allow("ecs:*"),
            {
                "Effect": "Deny",
                "Action": "ecs:*",
                "Resource": "*",
                "Condition": {"StringNotEquals": {"acs:RequestTag/env": "prod"}},
            },
        )
    ]

    assert not evaluate(documents, ACTION, RESOURCE, {}).allowed


def test_a_deny_with_if_exists_applies_when_the_key_is_absent() -> None:
    condition = {"StringEqualsIfExists": {"acs:RequestTag/env": "prod"}}
    documents = [policy(allow("ecs:*"), allow("ecs:*", Condition=condition) | {"Effect": "Deny"})]

    assert evaluate(documents, ACTION, RESOURCE, {}).effect == "ExplicitDeny"
    assert evaluate(documents, ACTION, RESOURCE, {"acs:RequestTag/env": "dev"}).allowed
