"""policy_warnings: valid documents whose combinations are suspicious."""

from __future__ import annotations

import json
from typing import Any

from iam.policy import PolicyWarning, parse_policy, policy_warnings
from iam.policy.lint import (
    BROAD_NEGATION,
    DUPLICATE_VALUE,
    FOR_ALL_VALUES_WITHOUT_KEY,
    FULL_ACCESS,
    IF_EXISTS_ON_PRESENT_KEY,
    NEVER_APPLIES,
    OPERATOR_TYPE,
    SET_OPERATOR_ON_SINGLE_VALUE,
    UNKNOWN_KEY,
)
from tests.policy.builders import allow, deny, policy, trust


def codes_at(document: Any, **kind: str) -> set[tuple[str, str]]:
    return {(warning.code, warning.path) for warning in policy_warnings(document, **kind)}


def with_condition(condition: dict[str, Any]) -> dict[str, Any]:
    return policy(allow("ecs:*", "acs:ecs:*:*:instance/*", Condition=condition))


def test_it_suggests_bool_for_string_equals_on_secure_transport() -> None:
    warnings = policy_warnings(with_condition({"StringEquals": {"acs:SecureTransport": "true"}}))

    assert warnings == [
        PolicyWarning(
            OPERATOR_TYPE,
            "Statement[0].Condition.StringEquals.acs:SecureTransport",
            "acs:SecureTransport is a boolean key but StringEquals reads it as a string; use Bool.",
        )
    ]


def test_it_does_not_warn_about_numbers_in_tag_values() -> None:
    document = with_condition({"NumericLessThan": {"acs:RequestTag/count": "10"}})

    assert policy_warnings(document) == []


def test_it_warns_about_a_set_operator_on_a_single_valued_key() -> None:
    document = with_condition({"ForAllValues:StringEquals": {"acs:PrincipalARN": "x"}})
    path = "Statement[0].Condition.ForAllValues:StringEquals.acs:PrincipalARN"

    assert codes_at(document) == {(SET_OPERATOR_ON_SINGLE_VALUE, path)}


def test_it_accepts_for_all_values_on_tag_keys_required_by_null() -> None:
    document = with_condition(
        {"ForAllValues:StringLike": {"acs:TagKeys": "team*"}, "Null": {"acs:TagKeys": "False"}}
    )

    assert policy_warnings(document) == []


def test_it_warns_that_for_all_values_in_an_allow_also_allows_an_absent_key() -> None:
    document = with_condition({"ForAllValues:StringLike": {"acs:TagKeys": "team*"}})
    path = "Statement[0].Condition.ForAllValues:StringLike.acs:TagKeys"

    assert codes_at(document) == {(FOR_ALL_VALUES_WITHOUT_KEY, path)}


def test_it_warns_about_if_exists_on_a_key_every_request_has() -> None:
    document = with_condition({"IpAddressIfExists": {"acs:SourceIp": "10.0.0.0/8"}})
    path = "Statement[0].Condition.IpAddressIfExists.acs:SourceIp"

    assert codes_at(document) == {(IF_EXISTS_ON_PRESENT_KEY, path)}


def test_it_warns_about_a_key_no_request_carries() -> None:
    document = with_condition({"StringEquals": {"acs:SourceIP6": "x", "ecs:Team": "y"}})

    assert codes_at(document) == {
        (UNKNOWN_KEY, "Statement[0].Condition.StringEquals.acs:SourceIP6"),
        (UNKNOWN_KEY, "Statement[0].Condition.StringEquals.ecs:Team"),
    }


def test_it_warns_about_full_access_without_conditions() -> None:
    assert codes_at(policy(allow("*", "*"))) == {(FULL_ACCESS, "Statement[0]")}


def test_it_warns_about_a_statement_that_never_applies() -> None:
    document = policy(deny(NotAction="*", Resource="*"))
    del document["Statement"][0]["Action"]

    assert codes_at(document) == {(NEVER_APPLIES, "Statement[0].NotAction")}


def test_it_warns_about_allow_with_not_action() -> None:
    document = policy({"Effect": "Allow", "NotAction": "ram:*", "Resource": "*"})

    assert codes_at(document) == {(BROAD_NEGATION, "Statement[0].NotAction")}


def test_it_warns_about_deny_with_not_resource() -> None:
    document = policy({"Effect": "Deny", "Action": "ecs:*", "NotResource": "acs:ecs:*:*:*"})

    assert codes_at(document) == {(BROAD_NEGATION, "Statement[0].NotResource")}


def test_it_warns_about_duplicated_actions_ignoring_case() -> None:
    document = policy(allow(["ecs:Describe*", "ram:GetRole", "ECS:describe*"], "acs:ecs:*:*:*"))

    assert codes_at(document) == {(DUPLICATE_VALUE, "Statement[0].Action[2]")}


def test_it_reads_text_and_parsed_policies_alike() -> None:
    document = with_condition({"StringEquals": {"acs:SecureTransport": "true"}})
    parsed = parse_policy(document)

    assert policy_warnings(json.dumps(document)) == policy_warnings(parsed)


def test_it_checks_trust_policies() -> None:
    document = trust(
        "acs:ram::1234567890123456:root",
        Condition={"StringEquals": {"acs:SourceIp": "10.0.0.1"}},
    )

    assert codes_at(document, kind="trust") == {
        (OPERATOR_TYPE, "Statement[0].Condition.StringEquals.acs:SourceIp")
    }


def test_it_gives_no_warnings_for_an_invalid_document() -> None:
    assert policy_warnings('{"Version": "1"}') == []
