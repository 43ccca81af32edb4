"""Parsing and validating permission, trust and session policies."""

from __future__ import annotations

import json
import pickle
from typing import Any

import pytest

from iam.policy import ParsedPolicy, PolicyError, parse_policy
from tests.policy.builders import ACCOUNT, allow, deny, policy, statement, trust

MALFORMED = "MalformedPolicyDocument"
SESSION_GRAMMAR = "InvalidParameter.PolicyGrammar"


def trust_statement(**elements: Any) -> dict[str, Any]:
    built: dict[str, Any] = {
        "Effect": "Allow",
        "Action": "sts:AssumeRole",
        "Principal": {"RAM": f"acs:ram::{ACCOUNT}:root"},
    }
    built.update(elements)
    return built


def with_condition(condition: Any) -> dict[str, Any]:
    return policy(allow("ecs:*", Condition=condition))


# (document, kind, path, words of the reason)
INVALID_DOCUMENTS = {
    "not an object": ([], "permission", "", "must be a JSON object"),
    "version missing": ({"Statement": [allow()]}, "permission", "Version", "is required"),
    "version 2": ({"Version": "2", "Statement": [allow()]}, "permission", "Version", 'not "2"'),
    "version as number": ({"Version": 1, "Statement": [allow()]}, "permission", "Version", "not 1"),
    "unknown top element": ({**policy(allow()), "Id": "x"}, "permission", "Id", "not a policy"),
    "statement missing": ({"Version": "1"}, "permission", "Statement", "is required"),
    "single statement object": (
        {"Version": "1", "Statement": allow()},
        "permission",
        "Statement",
        "must be a list",
    ),
    "no statements": ({"Version": "1", "Statement": []}, "permission", "Statement", "at least one"),
    "statement not object": (policy("x"), "permission", "Statement[0]", "JSON object"),  # type: ignore[arg-type]
    "unknown statement element": (
        policy(allow(), allow(Foo=1)),
        "permission",
        "Statement[1].Foo",
        "not a statement element",
    ),
    "sid not string": (policy(allow(Sid=5)), "permission", "Statement[0].Sid", "must be a string"),
    "effect lower case": (
        policy(statement("allow")),
        "permission",
        "Statement[0].Effect",
        'must be "Allow" or "Deny"',
    ),
    "effect missing": (
        policy({"Action": "*", "Resource": "*"}),
        "permission",
        "Statement[0].Effect",
        "missing",
    ),
    "action and not action": (
        policy(allow(NotAction="ecs:*")),
        "permission",
        "Statement[0]",
        "both Action and NotAction",
    ),
    "no action": (
        policy({"Effect": "Allow", "Resource": "*"}),
        "permission",
        "Statement[0]",
        "needs Action",
    ),
    "action without service": (
        policy(allow("DescribeInstances")),
        "permission",
        "Statement[0].Action",
        "is not an action",
    ),
    "bad action in list": (
        policy(allow(["ecs:Describe*", "ecs Describe"])),
        "permission",
        "Statement[0].Action[1]",
        "is not an action",
    ),
    "empty action list": (policy(allow([])), "permission", "Statement[0].Action", "empty list"),
    "action not a string": (
        policy(allow([5])),
        "permission",
        "Statement[0].Action[0]",
        "must be a string",
    ),
    "action object": (
        policy(allow({"ecs": "x"})),
        "permission",
        "Statement[0].Action",
        "a string or a list of strings",
    ),
    "aws resource": (
        policy(allow("s3:*", "arn:aws:s3:::bucket")),
        "permission",
        "Statement[0].Resource",
        "is not a resource",
    ),
    "resource account with letters": (
        policy(allow("ram:*", "acs:ram:*:12ab:role/x")),
        "permission",
        "Statement[0].Resource",
        "is not a resource",
    ),
    "no resource": (
        policy({"Effect": "Allow", "Action": "*"}),
        "permission",
        "Statement[0]",
        "needs Resource",
    ),
    "resource and not resource": (
        policy(allow(NotResource="*")),
        "permission",
        "Statement[0]",
        "both Resource and NotResource",
    ),
    "principal in permission policy": (
        policy(allow(Principal={"RAM": "*"})),
        "permission",
        "Statement[0].Principal",
        "only trust policies",
    ),
    "unknown operator": (
        with_condition({"StringEqual": {"acs:PrincipalARN": "x"}}),
        "permission",
        "Statement[0].Condition.StringEqual",
        "is not a condition operator",
    ),
    "operator in wrong case": (
        with_condition({"stringequals": {"acs:PrincipalARN": "x"}}),
        "permission",
        "Statement[0].Condition.stringequals",
        'did you mean "StringEquals"',
    ),
    "unknown set operator": (
        with_condition({"ForEachValue:StringEquals": {"acs:TagKeys": "x"}}),
        "permission",
        "Statement[0].Condition.ForEachValue:StringEquals",
        '"ForEachValue:" is not a set operator',
    ),
    "set operator in wrong case": (
        with_condition({"ForAnyValue:stringequalsIfExists": {"acs:TagKeys": "x"}}),
        "permission",
        "Statement[0].Condition.ForAnyValue:stringequalsIfExists",
        'did you mean "ForAnyValue:StringEqualsIfExists"',
    ),
    "null if exists": (
        with_condition({"NullIfExists": {"acs:TagKeys": "true"}}),
        "permission",
        "Statement[0].Condition.NullIfExists",
        "Null tests whether a key is present",
    ),
    "null value not a boolean": (
        with_condition({"Null": {"acs:TagKeys": "yes"}}),
        "permission",
        "Statement[0].Condition.Null.acs:TagKeys",
        'is not "true" or "false"',
    ),
    "condition not an object": (
        with_condition(["x"]),
        "permission",
        "Statement[0].Condition",
        "must be an object",
    ),
    "empty condition": (with_condition({}), "permission", "Statement[0].Condition", "at least one"),
    "operator without keys": (
        with_condition({"StringEquals": {}}),
        "permission",
        "Statement[0].Condition.StringEquals",
        "non-empty object",
    ),
    "key without namespace": (
        with_condition({"StringEquals": {"SourceIp": "x"}}),
        "permission",
        "Statement[0].Condition.StringEquals.SourceIp",
        "is not a condition key",
    ),
    "ip operator with a value that is no address": (
        with_condition({"IpAddress": {"sts:ExternalId": "abc"}}),
        "permission",
        "Statement[0].Condition.IpAddress.sts:ExternalId",
        "is not an IP address or CIDR",
    ),
    "bad ip": (
        with_condition({"IpAddress": {"acs:SourceIp": "10.0.0.300"}}),
        "permission",
        "Statement[0].Condition.IpAddress.acs:SourceIp",
        '"10.0.0.300" is not an IP address or CIDR',
    ),
    "bad ip in a list": (
        with_condition({"NotIpAddress": {"acs:SourceIp": ["10.0.0.0/8", "nope"]}}),
        "permission",
        "Statement[0].Condition.NotIpAddress.acs:SourceIp[1]",
        "is not an IP address",
    ),
    "bad number": (
        with_condition({"NumericLessThan": {"ecs:Count": "ten"}}),
        "permission",
        "Statement[0].Condition.NumericLessThan.ecs:Count",
        '"ten" is not a number',
    ),
    "bad date": (
        with_condition({"DateLessThan": {"acs:CurrentTime": "yesterday"}}),
        "permission",
        "Statement[0].Condition.DateLessThan.acs:CurrentTime",
        "is not an ISO 8601 date",
    ),
    "bad bool": (
        with_condition({"Bool": {"acs:SecureTransport": "yes"}}),
        "permission",
        "Statement[0].Condition.Bool.acs:SecureTransport",
        'is not "true" or "false"',
    ),
    "null condition value": (
        with_condition({"StringEquals": {"acs:PrincipalARN": None}}),
        "permission",
        "Statement[0].Condition.StringEquals.acs:PrincipalARN",
        "must be a string, number or boolean",
    ),
    "empty condition value list": (
        with_condition({"StringEquals": {"acs:PrincipalARN": []}}),
        "permission",
        "Statement[0].Condition.StringEquals.acs:PrincipalARN",
        "empty list",
    ),
    "resource in trust policy": (
        policy(trust_statement(Resource="*")),
        "trust",
        "Statement[0].Resource",
        "names a Principal, not a Resource",
    ),
    "trust without principal": (
        policy({"Effect": "Allow", "Action": "sts:AssumeRole"}),
        "trust",
        "Statement[0]",
        "needs a Principal",
    ),
    "trust granting another action": (
        policy(trust_statement(Action="ecs:*")),
        "trust",
        "Statement[0].Action",
        "is not sts:AssumeRole",
    ),
    "trust with not action": (
        policy(trust_statement(NotAction="ecs:*")),
        "trust",
        "Statement[0]",
        "both Action and NotAction",
    ),
    "trust using only not action": (
        policy(
            {
                "Effect": "Allow",
                "NotAction": "ecs:*",
                "Principal": {"RAM": f"acs:ram::{ACCOUNT}:root"},
            }
        ),
        "trust",
        "Statement[0].NotAction",
        "must use Action",
    ),
    "unknown principal type": (
        policy(trust_statement(Principal={"AWS": "*"})),
        "trust",
        "Statement[0].Principal.AWS",
        "is not a principal type",
    ),
    "principal star": (
        policy(trust_statement(Principal="*")),
        "trust",
        "Statement[0].Principal",
        "must be an object",
    ),
    "masked account id": (
        policy(trust_statement(Principal={"RAM": "acs:ram::123456789012****:root"})),
        "trust",
        "Statement[0].Principal.RAM",
        "is not a RAM principal",
    ),
    "group principal": (
        policy(
            trust_statement(
                Principal={"RAM": [f"acs:ram::{ACCOUNT}:root", f"acs:ram::{ACCOUNT}:group/x"]}
            )
        ),
        "trust",
        "Statement[0].Principal.RAM[1]",
        "is not a RAM principal",
    ),
    "wildcard user name": (
        policy(trust_statement(Principal={"RAM": f"acs:ram::{ACCOUNT}:user/*"})),
        "trust",
        "Statement[0].Principal.RAM",
        "is not a RAM principal",
    ),
    "bad service name": (
        policy(trust_statement(Principal={"Service": "ecs service"})),
        "trust",
        "Statement[0].Principal.Service",
        "is not a service name",
    ),
    "bad federated principal": (
        policy(trust_statement(Principal={"Federated": f"acs:ram::{ACCOUNT}:user/x"})),
        "trust",
        "Statement[0].Principal.Federated",
        "is not an identity provider",
    ),
}


@pytest.mark.parametrize(
    ("document", "kind", "path", "reason"),
    list(INVALID_DOCUMENTS.values()),
    ids=list(INVALID_DOCUMENTS),
)
def test_invalid_documents_name_the_place_and_reason(
    document: Any, kind: str, path: str, reason: str
) -> None:
    with pytest.raises(PolicyError) as caught:
        parse_policy(json.dumps(document), kind=kind)
    assert caught.value.code == MALFORMED
    assert caught.value.path == path
    assert reason in caught.value.reason
    assert caught.value.message == (
        f"{path}: {caught.value.reason}" if path else caught.value.reason
    )


def test_session_policy_grammar_errors_use_the_sts_code() -> None:
    with pytest.raises(PolicyError) as caught:
        parse_policy(policy(allow("ecs")), kind="session")
    assert caught.value.code == SESSION_GRAMMAR
    assert caught.value.path == "Statement[0].Action"


def test_invalid_json_names_line_and_column() -> None:
    with pytest.raises(PolicyError) as caught:
        parse_policy('{"Version": "1",\n  "Statement": [}')
    assert caught.value.code == MALFORMED
    assert (caught.value.line, caught.value.column) == (2, 17)
    assert "line 2, column 17" in caught.value.message


def test_empty_text_is_invalid_json() -> None:
    with pytest.raises(PolicyError, match="line 1, column 1"):
        parse_policy("")


def test_duplicate_keys_are_rejected() -> None:
    with pytest.raises(PolicyError, match='"Effect" appears twice'):
        parse_policy('{"Version":"1","Statement":[{"Effect":"Allow","Effect":"Deny"}]}')


@pytest.mark.parametrize("constant", ["NaN", "Infinity", "-Infinity", "1e999"])
def test_non_finite_numbers_are_rejected(constant: str) -> None:
    text = json.dumps(with_condition({"NumericEquals": {"ecs:Count": 0}})).replace(
        "0}", constant + "}"
    )
    with pytest.raises(PolicyError) as caught:
        parse_policy(text)
    assert caught.value.code == MALFORMED


def test_dict_with_non_json_values_is_rejected() -> None:
    with pytest.raises(PolicyError, match="not a JSON document"):
        parse_policy(policy(allow(resource={"a", "b"})))  # type: ignore[arg-type]


def test_a_document_that_is_neither_text_nor_object_is_rejected() -> None:
    with pytest.raises(PolicyError, match="JSON text or a JSON object"):
        parse_policy(b"{}")  # type: ignore[arg-type]


def test_unknown_kind_is_a_programming_error() -> None:
    with pytest.raises(ValueError, match="kind"):
        parse_policy(policy(allow()), kind="identity")


# --- sizes -----------------------------------------------------------------------------------


def padded(document: dict[str, Any], length: int) -> str:
    text = json.dumps(document)
    return text[:-1] + " " * (length - len(text)) + "}"


def test_permission_policy_of_6144_characters_is_accepted() -> None:
    assert parse_policy(padded(policy(allow()), 6144)).statements


def test_permission_policy_over_6144_characters_is_rejected() -> None:
    with pytest.raises(PolicyError) as caught:
        parse_policy(padded(policy(allow()), 6145))
    assert caught.value.code == "InvalidParameter.PolicyDocument.Length"
    assert caught.value.message == 'The parameter - "PolicyDocument" beyond the length limit.'


def test_trust_policy_over_6144_characters_names_the_trust_parameter() -> None:
    with pytest.raises(PolicyError) as caught:
        parse_policy(padded(policy(trust_statement()), 6145), kind="trust")
    assert caught.value.code == "InvalidParameter.AssumeRolePolicyDocument.Length"


def test_session_policy_over_2048_bytes_is_rejected() -> None:
    with pytest.raises(PolicyError) as caught:
        parse_policy(padded(policy(allow()), 2049), kind="session")
    assert caught.value.code == "InvalidParameter.PolicySize"
    assert caught.value.message == "The size of Policy must be smaller than 2048 bytes."


def test_session_policy_size_counts_utf8_bytes() -> None:
    document = policy(allow(Sid="é" * 1000))  # 1000 characters, 2000 bytes
    with pytest.raises(PolicyError, match="2048 bytes"):
        parse_policy(json.dumps(document, ensure_ascii=False), kind="session")


def test_session_policy_of_2048_bytes_is_accepted() -> None:
    assert parse_policy(padded(policy(allow()), 2048), kind="session").kind == "session"


# --- accepted forms --------------------------------------------------------------------------


def test_single_values_and_lists_mean_the_same() -> None:
    single = parse_policy(policy(allow("ecs:*", "*")))
    listed = parse_policy(policy(allow(["ecs:*"], ["*"])))
    assert single.statements[0].actions == listed.statements[0].actions == ("ecs:*",)
    assert single.statements[0].resources == listed.statements[0].resources


def test_sid_is_kept() -> None:
    parsed = parse_policy(policy(allow(Sid="ReadEcs")))
    assert parsed.statements[0].sid == "ReadEcs"
    assert '"Sid":"ReadEcs"' in parsed.to_json()


def test_not_action_and_not_resource_are_recorded() -> None:
    parsed = parse_policy(policy({"Effect": "Deny", "NotAction": "ram:*", "NotResource": "*"}))
    assert parsed.statements[0].not_action
    assert parsed.statements[0].not_resource


@pytest.mark.parametrize(
    "condition",
    [
        {"Bool": {"acs:SecureTransport": True}},
        {"Bool": {"acs:MFAPresent": "false"}},
        {"NumericLessThan": {"ecs:Count": 5}},
        {"NumericGreaterThanEquals": {"ecs:Count": ["2.5", -1]}},
        {"DateLessThan": {"acs:CurrentTime": "2019-08-12T17:00:00+08:00"}},
        {"DateGreaterThan": {"acs:CurrentTime": "2019-08-12T09:00:00Z"}},
        {"IpAddress": {"acs:SourceIp": ["10.0.0.0/8", "2001:db8::/32", "192.168.1.7"]}},
        {"StringLike": {"oss:Prefix": "home/*"}},
        {"StringEquals": {"acs:RequestTag/env": ["prod", "staging"]}},
        {"NumericEquals": {"acs:SomeNewKey": 1}},
        {
            "StringEqualsIgnoreCase": {"sts:ExternalId": "abc"},
            "StringNotLike": {"saml:recipient": "x*"},
        },
    ],
)
def test_valid_conditions_are_accepted(condition: dict[str, Any]) -> None:
    assert parse_policy(with_condition(condition)).statements[0].conditions


@pytest.mark.parametrize(
    "principal",
    [
        {"RAM": f"acs:ram::{ACCOUNT}:root"},
        {"RAM": [f"acs:ram::{ACCOUNT}:user/alice", f"acs:ram::{ACCOUNT}:role/ecs-admin"]},
        {"RAM": "acs:ram::*:root"},
        {"Service": ["ecs.aliyuncs.com", "oss.example.internal"]},
        {"Federated": f"acs:ram::{ACCOUNT}:saml-provider/okta"},
    ],
)
def test_trust_principal_forms_are_accepted(principal: dict[str, Any]) -> None:
    parsed = parse_policy(policy(trust_statement(Principal=principal)), kind="trust")
    assert parsed.statements[0].principals is not None


@pytest.mark.parametrize("action", ["sts:AssumeRole", "sts:*", "*", ["sts:AssumeRoleWithSAML"]])
def test_trust_actions_covering_assume_role_are_accepted(action: Any) -> None:
    assert parse_policy(policy(trust_statement(Action=action)), kind="trust").statements


def test_trust_builder_document_is_a_valid_trust_policy() -> None:
    parsed = parse_policy(trust(f"acs:ram::{ACCOUNT}:root"), kind="trust")
    assert parsed.statements[0].principals.ram == (f"acs:ram::{ACCOUNT}:root",)  # type: ignore[union-attr]


# --- the parsed value ------------------------------------------------------------------------


def test_text_and_dict_parse_to_the_same_policy() -> None:
    document = policy(allow("ecs:*"), deny("ecs:Delete*"))
    assert parse_policy(document) == parse_policy(json.dumps(document, indent=4))


def test_canonical_text_does_not_depend_on_element_order() -> None:
    first = '{"Version":"1","Statement":[{"Effect":"Allow","Resource":"*","Action":"*"}]}'
    second = '{"Statement":[{"Action":"*","Resource":"*","Effect":"Allow"}],"Version":"1"}'
    assert parse_policy(first).to_json() == parse_policy(second).to_json()


def test_canonical_text_sorts_condition_operators_and_keys() -> None:
    condition = {"StringEquals": {"b:b": "1", "a:a": "2"}, "Bool": {"acs:MFAPresent": True}}
    text = parse_policy(with_condition(condition)).to_json()
    assert text.index('"Bool"') < text.index('"StringEquals"')
    assert text.index('"a:a"') < text.index('"b:b"')


def test_parsing_the_serialization_gives_the_same_policy() -> None:
    parsed = parse_policy(with_condition({"IpAddress": {"acs:SourceIp": "10.0.0.0/8"}}), name="P")
    again = parse_policy(parsed.to_json(), name="P")
    assert again == parsed
    assert again.to_json() == parsed.to_json()


def test_parsed_policy_is_hashable_by_name_type_version_and_text() -> None:
    document = policy(allow())
    same = {parse_policy(document, name="A"), parse_policy(document, name="A")}
    different_version = parse_policy(document, name="A", version="v2")
    assert len(same) == 1
    assert different_version not in same


def test_to_dict_returns_a_copy() -> None:
    parsed = parse_policy(policy(allow()))
    parsed.to_dict()["Statement"].clear()
    assert parsed.to_dict()["Statement"]


def test_parsed_policy_is_immutable() -> None:
    parsed = parse_policy(policy(allow()))
    with pytest.raises(AttributeError):
        parsed.name = "other"  # type: ignore[misc]


def test_parsed_policy_keeps_name_type_version_and_kind() -> None:
    parsed = parse_policy(policy(allow()), name="Admin", policy_type="System", version="v3")
    assert (parsed.name, parsed.policy_type, parsed.version, parsed.kind) == (
        "Admin",
        "System",
        "v3",
        "permission",
    )


def test_policy_error_str_carries_code_and_message() -> None:
    error = PolicyError("MalformedPolicyDocument", "is required", path="Version")
    assert str(error) == "MalformedPolicyDocument: Version: is required"


def test_parsed_policy_instances_compare_unequal_to_other_types() -> None:
    assert parse_policy(policy(allow())) != "policy"
    assert isinstance(parse_policy(policy(allow())), ParsedPolicy)


def test_parsed_policy_survives_pickling() -> None:
    parsed = parse_policy(with_condition({"IpAddress": {"acs:SourceIp": "10.0.0.0/8"}}), name="P")
    copy = pickle.loads(pickle.dumps(parsed))
    assert copy == parsed
    assert hash(copy) == hash(parsed)


# Alibaba Cloud accepts an operator of another type than a known key's (policy_warnings says so).
ACCEPTED_TYPE_MISMATCHES = {
    "ip operator on a string key": {"IpAddress": {"sts:ExternalId": "10.0.0.1"}},
    "string operator on the ip key": {"StringEquals": {"acs:SourceIp": "10.0.0.1"}},
    "numeric operator on the time key": {"NumericLessThan": {"acs:CurrentTime": 5}},
    "string operator on a bool key": {"StringEquals": {"acs:SecureTransport": "true"}},
    "numeric operator on a tag key": {"NumericLessThan": {"acs:RequestTag/count": "10"}},
}


@pytest.mark.parametrize(
    "condition", list(ACCEPTED_TYPE_MISMATCHES.values()), ids=list(ACCEPTED_TYPE_MISMATCHES)
)
def test_operators_of_another_type_than_the_key_are_accepted(condition: dict[str, Any]) -> None:
    parsed = parse_policy(with_condition(condition))

    assert parsed.statements[0].conditions[0].operator == next(iter(condition))


@pytest.mark.parametrize(
    "operator",
    ["ForAnyValue:StringEquals", "ForAllValues:StringNotLike", "StringEqualsIfExists",
     "ForAllValues:NumericLessThanIfExists", "NotIpAddressIfExists"],
)  # fmt: skip
def test_set_operators_and_if_exists_are_accepted(operator: str) -> None:
    value = "10.0.0.0/8" if "IpAddress" in operator else "5"
    parsed = parse_policy(with_condition({operator: {"acs:TagKeys": value}}))

    assert parsed.statements[0].conditions[0].operator == operator


def test_null_reads_its_value_as_a_boolean() -> None:
    parsed = parse_policy(with_condition({"Null": {"acs:RequestTag/team": "False"}}))

    assert parsed.statements[0].conditions[0].parsed_values == (False,)
