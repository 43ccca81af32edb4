"""Condition operators: every operator positive, negative and with the key absent."""

from __future__ import annotations

import ipaddress
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

import pytest

from iam.policy import evaluate
from tests.policy.builders import allow, policy

ABSENT = object()
NOON_IN_HANGZHOU = "2019-08-12T12:00:00+08:00"  # 04:00 UTC


def allowed_with(condition: dict[str, Any], context: dict[str, Any] | None) -> bool:
    document = policy(allow("ecs:*", Condition=condition))
    return evaluate(
        [document], "ecs:DescribeInstances", "acs:ecs:cn-hangzhou:1:instance/i-1", context
    ).allowed


# (operator, key, policy value(s), context value or ABSENT, allowed)
CASES = [
    ("StringEquals", "acs:PrincipalARN", "a", "a", True),
    ("StringEquals", "acs:PrincipalARN", "a", "A", False),
    ("StringEquals", "acs:PrincipalARN", ["a", "b"], "b", True),
    ("StringEquals", "acs:PrincipalARN", "a", ABSENT, False),
    ("StringEquals", "ecs:Flag", "true", True, True),
    ("StringEquals", "ecs:Count", 5, "5", True),
    ("StringNotEquals", "acs:PrincipalARN", "a", "a", False),
    ("StringNotEquals", "acs:PrincipalARN", "a", "b", True),
    ("StringNotEquals", "acs:PrincipalARN", "a", ABSENT, True),
    ("StringEqualsIgnoreCase", "sts:ExternalId", "AbC", "aBc", True),
    ("StringEqualsIgnoreCase", "sts:ExternalId", "abc", "abd", False),
    ("StringEqualsIgnoreCase", "sts:ExternalId", "abc", ABSENT, False),
    ("StringNotEqualsIgnoreCase", "sts:ExternalId", "AbC", "aBc", False),
    ("StringNotEqualsIgnoreCase", "sts:ExternalId", "abc", "abd", True),
    ("StringNotEqualsIgnoreCase", "sts:ExternalId", "abc", ABSENT, True),
    ("StringLike", "oss:Prefix", "home/*", "home/alice/photo.jpg", True),
    ("StringLike", "oss:Prefix", "home/?", "home/a", True),
    ("StringLike", "oss:Prefix", "home/?", "home/ab", False),
    ("StringLike", "oss:Prefix", "home/*", "Home/alice", False),
    ("StringLike", "oss:Prefix", "home/*", ABSENT, False),
    ("StringNotLike", "oss:Prefix", "home/*", "home/alice", False),
    ("StringNotLike", "oss:Prefix", "home/*", "tmp/x", True),
    ("StringNotLike", "oss:Prefix", "home/*", ABSENT, True),
    ("NumericEquals", "ecs:Count", 5, "5", True),
    ("NumericEquals", "ecs:Count", "5", 5.0, True),
    ("NumericEquals", "ecs:Count", 5, Decimal("5.00"), True),
    ("NumericEquals", "ecs:Count", 5, 6, False),
    ("NumericEquals", "ecs:Count", 5, "five", False),
    ("NumericEquals", "ecs:Count", 5, ABSENT, False),
    ("NumericNotEquals", "ecs:Count", 5, 6, True),
    ("NumericNotEquals", "ecs:Count", 5, 5, False),
    ("NumericNotEquals", "ecs:Count", 5, ABSENT, True),
    ("NumericLessThan", "ecs:Count", 10, 9, True),
    ("NumericLessThan", "ecs:Count", 10, 10, False),
    ("NumericLessThan", "ecs:Count", 10, ABSENT, False),
    ("NumericLessThanEquals", "ecs:Count", 10, 10, True),
    ("NumericLessThanEquals", "ecs:Count", "10.5", 11, False),
    ("NumericGreaterThan", "ecs:Count", 10, 11, True),
    ("NumericGreaterThan", "ecs:Count", 10, 10, False),
    ("NumericGreaterThanEquals", "ecs:Count", -1, -1, True),
    ("NumericGreaterThanEquals", "ecs:Count", 10, 9, False),
    ("DateEquals", "acs:CurrentTime", NOON_IN_HANGZHOU, datetime(2019, 8, 12, 4, tzinfo=UTC), True),
    ("DateEquals", "acs:CurrentTime", NOON_IN_HANGZHOU, "2019-08-12T04:00:00Z", True),
    ("DateEquals", "acs:CurrentTime", NOON_IN_HANGZHOU, datetime(2019, 8, 12, 4), True),
    ("DateEquals", "acs:CurrentTime", NOON_IN_HANGZHOU, "2019-08-12T12:00:00Z", False),
    ("DateEquals", "acs:CurrentTime", NOON_IN_HANGZHOU, ABSENT, False),
    ("DateNotEquals", "acs:CurrentTime", NOON_IN_HANGZHOU, "2019-08-12T12:00:00Z", True),
    ("DateNotEquals", "acs:CurrentTime", NOON_IN_HANGZHOU, "2019-08-12T04:00:00Z", False),
    ("DateNotEquals", "acs:CurrentTime", NOON_IN_HANGZHOU, ABSENT, True),
    ("DateLessThan", "acs:CurrentTime", NOON_IN_HANGZHOU, "2019-08-12T03:59:59Z", True),
    ("DateLessThan", "acs:CurrentTime", NOON_IN_HANGZHOU, "2019-08-12T04:00:00Z", False),
    ("DateLessThanEquals", "acs:CurrentTime", NOON_IN_HANGZHOU, "2019-08-12T04:00:00Z", True),
    ("DateLessThanEquals", "acs:CurrentTime", "2019-08-12", "2019-08-12T00:00:01Z", False),
    ("DateGreaterThan", "acs:CurrentTime", "2019-08-12T00:00:00Z", 1565568001, True),
    ("DateGreaterThan", "acs:CurrentTime", "2019-08-12T00:00:00Z", "2019-08-11T23:00:00Z", False),
    (
        "DateGreaterThanEquals",
        "acs:CurrentTime",
        NOON_IN_HANGZHOU,
        datetime(2019, 8, 12, 5, tzinfo=timezone(timedelta(hours=1))),
        True,
    ),
    ("DateGreaterThanEquals", "acs:CurrentTime", NOON_IN_HANGZHOU, "not a date", False),
    ("Bool", "acs:SecureTransport", "true", True, True),
    ("Bool", "acs:SecureTransport", True, "true", True),
    ("Bool", "acs:SecureTransport", "TRUE", "True", True),
    ("Bool", "acs:SecureTransport", "true", False, False),
    ("Bool", "acs:MFAPresent", "false", False, True),
    ("Bool", "acs:MFAPresent", "false", "maybe", False),
    ("Bool", "acs:MFAPresent", "true", ABSENT, False),
    ("IpAddress", "acs:SourceIp", "10.0.0.0/8", "10.1.2.3", True),
    ("IpAddress", "acs:SourceIp", "10.0.0.0/8", ipaddress.ip_address("10.1.2.3"), True),
    ("IpAddress", "acs:SourceIp", "10.0.0.0/8", "11.0.0.1", False),
    ("IpAddress", "acs:SourceIp", "192.168.1.7", "192.168.1.7", True),
    ("IpAddress", "acs:SourceIp", ["192.168.1.7", "2001:db8::/32"], "2001:db8::1", True),
    ("IpAddress", "acs:SourceIp", "::/0", "10.0.0.1", False),
    ("IpAddress", "acs:SourceIp", "10.0.0.0/8", "::ffff:10.0.0.1", True),
    ("IpAddress", "acs:SourceIp", "10.0.0.0/8", "garbage", False),
    ("IpAddress", "acs:SourceIp", "10.0.0.0/8", ABSENT, False),
    ("NotIpAddress", "acs:SourceIp", "10.0.0.0/8", "11.0.0.1", True),
    ("NotIpAddress", "acs:SourceIp", "10.0.0.0/8", "10.0.0.1", False),
    ("NotIpAddress", "acs:SourceIp", "10.0.0.0/8", ABSENT, True),
]


@pytest.mark.parametrize(
    ("operator", "key", "policy_values", "context_value", "expected"),
    CASES,
    ids=[f"{case[0]}-{index}" for index, case in enumerate(CASES)],
)
def test_condition_operator(
    operator: str, key: str, policy_values: Any, context_value: Any, expected: bool
) -> None:
    context = {} if context_value is ABSENT else {key: context_value}
    assert allowed_with({operator: {key: policy_values}}, context) is expected


def test_condition_key_names_are_case_insensitive() -> None:
    condition = {"IpAddress": {"acs:SourceIp": "10.0.0.0/8"}}
    assert allowed_with(condition, {"ACS:SOURCEIP": "10.0.0.1"})


def test_none_and_empty_list_mean_absent() -> None:
    condition = {"StringNotEquals": {"acs:PrincipalARN": "a"}}
    assert allowed_with(condition, {"acs:PrincipalARN": None})
    assert allowed_with(condition, {"acs:PrincipalARN": []})
    assert not allowed_with({"StringEquals": {"acs:PrincipalARN": "a"}}, {"acs:PrincipalARN": []})


def test_all_keys_of_an_operator_must_hold() -> None:
    condition = {"StringEquals": {"ecs:A": "1", "ecs:B": "2"}}
    assert allowed_with(condition, {"ecs:A": "1", "ecs:B": "2"})
    assert not allowed_with(condition, {"ecs:A": "1", "ecs:B": "3"})


def test_all_operators_must_hold() -> None:
    condition = {
        "IpAddress": {"acs:SourceIp": "10.0.0.0/8"},
        "Bool": {"acs:SecureTransport": "true"},
    }
    assert allowed_with(condition, {"acs:SourceIp": "10.0.0.1", "acs:SecureTransport": True})
    assert not allowed_with(condition, {"acs:SourceIp": "10.0.0.1", "acs:SecureTransport": False})


def test_multi_valued_context_matches_when_any_value_matches() -> None:
    condition = {"StringEquals": {"acs:RequestTag/env": "prod"}}
    assert allowed_with(condition, {"acs:RequestTag/env": ["dev", "prod"]})
    assert not allowed_with(condition, {"acs:RequestTag/env": ["dev", "test"]})


def test_negated_operator_on_multi_valued_context_fails_when_any_value_matches() -> None:
    condition = {"StringNotEquals": {"acs:RequestTag/env": "prod"}}
    assert not allowed_with(condition, {"acs:RequestTag/env": ["dev", "prod"]})
    assert allowed_with(condition, {"acs:RequestTag/env": ("dev", "test")})


def test_context_keys_differing_only_in_case_are_merged() -> None:
    condition = {"StringEquals": {"acs:RequestTag/env": "prod"}}
    assert allowed_with(condition, {"acs:requesttag/env": "dev", "ACS:RequestTag/Env": "prod"})
