"""Documents of the shapes Alibaba Cloud's RAM documentation shows (conditional operators,
tag-based access control) and that its console accepts: they parse, decide as documented, and
the questionable ones come with warnings instead of errors.

Sources: https://www.alibabacloud.com/help/en/ram/conditional-operator (String, Number, Date and
time, Boolean and IP address operators) and
https://www.alibabacloud.com/help/en/resource-management/tag/user-guide/use-tags-to-control-access-to-resources-1
(``acs:RequestTag/<key>`` and ``acs:ResourceTag/<key>``).
"""

from __future__ import annotations

from typing import Any

from iam.policy import evaluate, parse_policy, policy_warnings
from iam.policy.lint import OPERATOR_TYPE
from tests.policy.builders import allow, deny, policy

INSTANCE = "acs:ecs:cn-hangzhou:1234567890123456:instance/i-1"


def allowed(document: dict[str, Any], action: str, context: dict[str, Any]) -> bool:
    return evaluate([document], action, INSTANCE, context).allowed


def test_resource_tag_condition_limits_ecs_to_tagged_instances() -> None:
    document = policy(allow("ecs:*", Condition={"StringEquals": {"acs:ResourceTag/team": ["dev"]}}))

    assert allowed(document, "ecs:StopInstance", {"acs:ResourceTag/team": "dev"})
    assert not allowed(document, "ecs:StopInstance", {"acs:ResourceTag/team": "ops"})


def test_request_tag_and_tag_keys_limit_which_tags_may_be_set() -> None:
    document = policy(
        allow(
            "ecs:TagResources",
            Condition={
                "StringEquals": {"acs:RequestTag/costcenter": ["a-123", "b-456"]},
                "ForAllValues:StringEquals": {"acs:TagKeys": "costcenter"},
            },
        )
    )
    only_cost_center = {"acs:RequestTag/costcenter": "a-123", "acs:TagKeys": ["costcenter"]}
    with_another_key = {**only_cost_center, "acs:TagKeys": ["costcenter", "owner"]}

    assert allowed(document, "ecs:TagResources", only_cost_center)
    assert not allowed(document, "ecs:TagResources", with_another_key)


def test_for_any_value_on_request_tags_denies_a_forbidden_value() -> None:
    document = policy(
        allow("ecs:*"),
        deny("ecs:*", Condition={"ForAnyValue:StringEquals": {"acs:RequestTag/env": "prod"}}),
    )

    assert not allowed(document, "ecs:RunInstances", {"acs:RequestTag/env": ["dev", "prod"]})
    assert allowed(document, "ecs:RunInstances", {"acs:RequestTag/env": ["dev"]})


def test_numeric_operator_on_a_request_tag_reads_the_tag_as_a_number() -> None:
    document = policy(
        allow("ecs:RunInstances", Condition={"NumericLessThan": {"acs:RequestTag/count": 10}})
    )

    assert allowed(document, "ecs:RunInstances", {"acs:RequestTag/count": "9"})
    assert not allowed(document, "ecs:RunInstances", {"acs:RequestTag/count": "10"})
    assert policy_warnings(document) == []


def test_string_equals_on_secure_transport_is_accepted_decided_and_warned_about() -> None:
    document = policy(allow("ecs:*", Condition={"StringEquals": {"acs:SecureTransport": "true"}}))

    assert allowed(document, "ecs:StopInstance", {"acs:SecureTransport": True})
    assert not allowed(document, "ecs:StopInstance", {"acs:SecureTransport": False})
    assert [warning.code for warning in policy_warnings(document)] == [OPERATOR_TYPE]


def test_if_exists_lets_requests_without_the_tag_through() -> None:
    condition = {"StringEqualsIfExists": {"acs:RequestTag/env": ["dev", "test"]}}
    document = policy(allow("ecs:RunInstances", Condition=condition))

    assert allowed(document, "ecs:RunInstances", {})
    assert allowed(document, "ecs:RunInstances", {"acs:RequestTag/env": "dev"})
    assert not allowed(document, "ecs:RunInstances", {"acs:RequestTag/env": "prod"})


def test_documented_operators_of_every_type_parse() -> None:
    document = policy(
        allow(
            "oss:ListObjects",
            "acs:oss:*:*:myphotos",
            Condition={
                "StringLike": {"oss:Prefix": "hangzhou/2015/*"},
                "NumericLessThanEquals": {"oss:max-keys": "100"},
                "DateLessThan": {"acs:CurrentTime": "2030-01-01T00:00:00+08:00"},
                "Bool": {"acs:SecureTransport": "true"},
                "IpAddress": {"acs:SourceIp": ["192.0.2.0/24"]},
            },
        )
    )

    assert len(parse_policy(document).statements[0].conditions) == 5
