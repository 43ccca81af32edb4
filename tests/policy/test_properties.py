"""Properties of the policy language, checked on generated policies and requests."""

from __future__ import annotations

import json
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from iam.policy import PolicyError, compile_policies, evaluate, parse_policy, policy_warnings
from iam.policy.naive import naive_evaluate

PROPERTY_SETTINGS = settings(
    max_examples=200,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

SERVICES = ["ecs", "oss", "ram"]
API_NAMES = [
    "DescribeInstances",
    "DeleteInstance",
    "GetObject",
    "GetRole",
    "CreateRole",
    "ListRoles",
]
REQUEST_RESOURCES = [
    "acs:ram::1234:role/admin",
    "acs:ram::1234:role/Reader",
    "acs:ecs:cn-hangzhou:1234:instance/i-1",
    "acs:oss:cn-hangzhou:1234:bucket/dir/photo.jpg",
    "acs:oss::5678:bucket/a:b",
]
RESOURCE_RELATIVE_IDS = ["role/admin", "role/*", "instance/i-?", "bucket/dir/*", "*", "bucket/a:b"]
CONDITIONS: list[dict[str, dict[str, Any]]] = [
    {"StringEquals": {"acs:PrincipalARN": ["acs:ram::1234:user/alice", "x"]}},
    {"StringNotEquals": {"acs:PrincipalARN": "acs:ram::1234:user/alice"}},
    {"StringLike": {"oss:Prefix": "home/*"}},
    {"StringNotLike": {"oss:Prefix": "home/?"}},
    {"StringEqualsIgnoreCase": {"sts:ExternalId": "AbC"}},
    {"IpAddress": {"acs:SourceIp": ["10.0.0.0/8", "192.168.1.7"]}},
    {"NotIpAddress": {"acs:SourceIp": "10.0.0.0/8"}},
    {"Bool": {"acs:SecureTransport": "true"}},
    {"Bool": {"acs:MFAPresent": False}},
    {"NumericLessThan": {"ecs:Count": 5}},
    {"NumericGreaterThanEquals": {"ecs:Count": "3"}},
    {"DateGreaterThan": {"acs:CurrentTime": "2020-01-01T00:00:00Z"}},
    {"DateNotEquals": {"acs:CurrentTime": "2020-01-01T08:00:00+08:00"}},
    # Set operators, IfExists and Null on multi-valued and often absent keys.
    {"ForAnyValue:StringEquals": {"acs:TagKeys": ["team", "env"]}},
    {"ForAnyValue:StringNotLike": {"acs:TagKeys": "t*"}},
    {"ForAllValues:StringLike": {"acs:TagKeys": ["team", "e?v"]}},
    {"ForAllValues:StringNotEquals": {"acs:TagKeys": "secret"}},
    {"ForAllValues:NumericLessThanIfExists": {"acs:RequestTag/count": 5}},
    {"StringEqualsIfExists": {"acs:RequestTag/env": "prod"}},
    {"StringNotEqualsIfExists": {"acs:RequestTag/env": ["prod", "dev"]}},
    {"ForAnyValue:IpAddressIfExists": {"acs:SourceIp": "10.0.0.0/8"}},
    {"Null": {"acs:RequestTag/env": "true"}},
    {"Null": {"acs:TagKeys": ["false"]}},
    # Operators of another type than the key's.
    {"StringEquals": {"acs:SecureTransport": "true"}},
    {"NumericGreaterThan": {"acs:RequestTag/count": "2.5"}},
]
CONTEXT_VALUES: dict[str, list[Any]] = {
    "acs:PrincipalARN": ["acs:ram::1234:user/alice", "acs:ram::1234:user/bob", ["x", "y"]],
    "oss:Prefix": ["home/alice", "home/a", "tmp/x"],
    "sts:ExternalId": ["abc", "ABC", "other"],
    "acs:SourceIp": ["10.1.2.3", "192.168.1.7", "8.8.8.8", ["8.8.8.8", "10.0.0.1"], "bad"],
    "acs:SecureTransport": [True, False, "true"],
    "ACS:MFAPresent": [False, "false", True],
    "ecs:Count": [1, "4", 5, "x"],
    "acs:CurrentTime": ["2019-06-01T00:00:00Z", "2020-01-01T00:00:00Z", "2021-01-01T00:00:00Z"],
    "acs:TagKeys": [["team"], ["team", "env"], ["secret", "owner"], [], "env"],
    "acs:RequestTag/env": ["prod", "dev", ["dev", "prod"], None],
    "acs:RequestTag/count": ["1", "7", ["1", "x"], "many"],
}


WILDCARD_COUNT = st.integers(0, 2)
WILDCARD = st.sampled_from("*?")
SERVICE = st.sampled_from(SERVICES)
API_NAME = st.sampled_from([*API_NAMES, *(name.lower() for name in API_NAMES)])
ACTION_SHAPE = st.sampled_from(["star", "service star", "named"])
RESOURCE_SERVICE = st.sampled_from([*SERVICES, "*"])
REGION = st.sampled_from(["", "*", "cn-hangzhou", "cn-*"])
ACCOUNT = st.sampled_from(["", "*", "1234", "12?4"])
RELATIVE_ID = st.sampled_from(RESOURCE_RELATIVE_IDS)
LIST_SIZE = st.integers(1, 3)
ACTION_ELEMENT = st.sampled_from(["Action", "Action", "NotAction"])
RESOURCE_ELEMENT = st.sampled_from(["Resource", "Resource", "NotResource"])
EFFECT = st.sampled_from(["Allow", "Deny"])
CONDITION = st.sampled_from(CONDITIONS)
SID = st.text(max_size=8)


def add_wildcards(draw: st.DrawFn, text: str) -> str:
    """``text`` with a few characters replaced by ``*`` or ``?`` (never emptied)."""
    characters = list(text)
    for _ in range(draw(WILDCARD_COUNT)):
        characters[draw(st.integers(0, len(characters) - 1))] = draw(WILDCARD)
    return "".join(characters)


def draw_action_pattern(draw: st.DrawFn) -> str:
    shape = draw(ACTION_SHAPE)
    if shape == "star":
        return "*"
    if shape == "service star":
        return f"{draw(SERVICE)}:*"
    return f"{add_wildcards(draw, draw(SERVICE))}:{add_wildcards(draw, draw(API_NAME))}"


def draw_resource_pattern(draw: st.DrawFn) -> str:
    if draw(st.integers(0, 5)) == 0:
        return "*"
    relative_id = add_wildcards(draw, draw(RELATIVE_ID))
    return f"acs:{draw(RESOURCE_SERVICE)}:{draw(REGION)}:{draw(ACCOUNT)}:{relative_id}"


def draw_one_or_many(draw: st.DrawFn, draw_one: Any) -> Any:
    if draw(st.booleans()):
        return draw_one(draw)
    return [draw_one(draw) for _ in range(draw(LIST_SIZE))]


def draw_conditions(draw: st.DrawFn) -> dict[str, dict[str, Any]]:
    merged: dict[str, dict[str, Any]] = {}
    for _ in range(draw(st.integers(1, 2))):
        for operator, block in draw(CONDITION).items():
            merged.setdefault(operator, {}).update(block)
    return merged


def draw_statement(draw: st.DrawFn, effect: str | None) -> dict[str, Any]:
    built: dict[str, Any] = {"Effect": effect or draw(EFFECT)}
    built[draw(ACTION_ELEMENT)] = draw_one_or_many(draw, draw_action_pattern)
    built[draw(RESOURCE_ELEMENT)] = draw_one_or_many(draw, draw_resource_pattern)
    if draw(st.booleans()):
        built["Condition"] = draw_conditions(draw)
    if draw(st.integers(0, 4)) == 0:
        built["Sid"] = draw(SID)
    return built


@st.composite
def documents(draw: st.DrawFn, effect: str | None = None) -> dict[str, Any]:
    count = draw(st.integers(1, 4))
    return {"Version": "1", "Statement": [draw_statement(draw, effect) for _ in range(count)]}


@st.composite
def policy_lists(draw: st.DrawFn) -> list[Any]:
    return [
        parse_policy(draw(documents()), name=draw(st.sampled_from(["A", "B", "C"])))
        for _ in range(draw(st.integers(0, 4)))
    ]


@st.composite
def requests(draw: st.DrawFn) -> tuple[str, str, dict[str, Any]]:
    action = f"{draw(SERVICE)}:{draw(st.sampled_from(API_NAMES))}"
    if draw(st.booleans()):
        action = action.upper()
    context = {
        key: draw(st.sampled_from(values))
        for key, values in CONTEXT_VALUES.items()
        if draw(st.booleans())
    }
    return action, draw(st.sampled_from(REQUEST_RESOURCES)), context


JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=12),
    lambda children: (
        st.lists(children, max_size=4)
        | st.dictionaries(
            st.sampled_from(
                ["Version", "Statement", "Effect", "Action", "Resource", "Condition", "x"]
            )
            | st.text(max_size=6),
            children,
            max_size=4,
        )
    ),
    max_leaves=20,
)


# --- agreement with the reference evaluator ---------------------------------------------------


@PROPERTY_SETTINGS
@given(policy_lists(), requests())
def test_compiled_evaluator_agrees_with_naive_evaluator(
    policies: list[Any], request: tuple[str, str, dict[str, Any]]
) -> None:
    action, resource, context = request
    compiled = compile_policies(policies)
    assert compiled.evaluate(action, resource, context) == naive_evaluate(
        policies, action, resource, context
    )


@PROPERTY_SETTINGS
@given(policy_lists(), documents(), requests())
def test_compiled_evaluator_agrees_with_naive_evaluator_for_sessions(
    policies: list[Any], session: dict[str, Any], request: tuple[str, str, dict[str, Any]]
) -> None:
    action, resource, context = request
    expected = naive_evaluate(policies, action, resource, context, session_policy=session)
    assert evaluate(policies, action, resource, context, session_policy=session) == expected


# --- monotonicity ----------------------------------------------------------------------------


@PROPERTY_SETTINGS
@given(policy_lists(), documents(effect="Deny"), requests())
def test_adding_a_deny_never_turns_a_deny_into_an_allow(
    policies: list[Any], denying: dict[str, Any], request: tuple[str, str, dict[str, Any]]
) -> None:
    action, resource, context = request
    if not evaluate(policies, action, resource, context).allowed:
        assert not evaluate([*policies, denying], action, resource, context).allowed


@PROPERTY_SETTINGS
@given(policy_lists(), documents(effect="Allow"), requests())
def test_adding_an_allow_never_turns_an_allow_into_a_deny(
    policies: list[Any], allowing: dict[str, Any], request: tuple[str, str, dict[str, Any]]
) -> None:
    action, resource, context = request
    if evaluate(policies, action, resource, context).allowed:
        assert evaluate([*policies, allowing], action, resource, context).allowed


@PROPERTY_SETTINGS
@given(policy_lists(), documents(), requests())
def test_session_policy_never_grants_what_role_policies_do_not(
    policies: list[Any], session: dict[str, Any], request: tuple[str, str, dict[str, Any]]
) -> None:
    action, resource, context = request
    if evaluate(policies, action, resource, context, session_policy=session).allowed:
        assert evaluate(policies, action, resource, context).allowed


# --- parsing ---------------------------------------------------------------------------------


@PROPERTY_SETTINGS
@given(documents())
def test_parse_serialize_parse_is_stable(document: dict[str, Any]) -> None:
    parsed = parse_policy(document, name="P")
    again = parse_policy(parsed.to_json(), name="P")
    assert again == parsed
    assert again.statements == parsed.statements


def parses_or_raises_policy_error(document: Any, kind: str) -> None:
    try:
        parse_policy(document, kind=kind)
    except PolicyError as error:
        assert error.code
        assert error.message


@PROPERTY_SETTINGS
@given(JSON_VALUES, st.sampled_from(["permission", "trust", "session"]))
def test_arbitrary_json_never_crashes_the_parser(value: Any, kind: str) -> None:
    parses_or_raises_policy_error(json.dumps(value), kind)
    if isinstance(value, dict):
        parses_or_raises_policy_error(value, kind)


@PROPERTY_SETTINGS
@given(st.text(max_size=200), st.sampled_from(["permission", "trust", "session"]))
def test_arbitrary_text_never_crashes_the_parser(text: str, kind: str) -> None:
    parses_or_raises_policy_error(text, kind)


@PROPERTY_SETTINGS
@given(documents(), st.data())
def test_policies_with_a_random_part_never_crash_the_parser(
    document: dict[str, Any], data: st.DataObject
) -> None:
    statement = data.draw(st.sampled_from(document["Statement"]))
    element = data.draw(
        st.sampled_from(
            ["Effect", "Action", "Resource", "Condition", "Principal", "Sid", "Version"]
        )
    )
    replacement = data.draw(JSON_VALUES)
    if element == "Condition":
        key = data.draw(st.sampled_from(["IpAddress", "StringLike", "DateLessThan", "Bool"]))
        replacement = {key: {data.draw(st.sampled_from(["acs:SourceIp", "ecs:X"])): replacement}}
    statement[element] = replacement
    for kind in ("permission", "trust", "session"):
        parses_or_raises_policy_error(document, kind)


@PROPERTY_SETTINGS
@given(documents())
def test_warnings_point_into_the_statements_of_any_valid_document(document: dict[str, Any]) -> None:
    paths = [warning.path for warning in policy_warnings(document)]
    assert all(path.startswith("Statement[") for path in paths)
