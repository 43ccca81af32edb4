"""Evaluating permission and session policies: wildcards, Not* elements, deny rules, caches."""

from __future__ import annotations

import time
from typing import Any

import pytest

from iam.policy import (
    ALLOW,
    EXPLICIT_DENY,
    IMPLICIT_DENY,
    PolicyError,
    Reason,
    cache_info,
    compile_policies,
    compile_policy,
    evaluate,
    parse_policy,
)
from iam.policy import compiled as compiled_module
from iam.policy.cache import BoundedCache
from iam.policy.parse import parse_statistics
from tests.policy.builders import ACCOUNT, allow, deny, policy, role_arn, trust

INSTANCE = f"acs:ecs:cn-hangzhou:{ACCOUNT}:instance/i-1"


def allowed(document: dict[str, Any], action: str, resource: str) -> bool:
    return evaluate([document], action, resource).allowed


# --- wildcards -------------------------------------------------------------------------------

# (action pattern, resource pattern, requested action, requested resource, allowed)
WILDCARD_CASES = [
    ("*", "*", "ram:CreateRole", role_arn("admin"), True),
    ("ecs:Describe*", "*", "ecs:DescribeInstances", INSTANCE, True),
    ("ecs:Describe*", "*", "ECS:describeinstances", INSTANCE, True),
    ("ecs:describe*", "*", "ecs:DescribeInstances", INSTANCE, True),
    ("ecs:Describe*", "*", "ecs:CreateInstance", INSTANCE, False),
    ("ecs:Describe?nstances", "*", "ecs:DescribeInstances", INSTANCE, True),
    ("ecs:Describe?nstances", "*", "ecs:DescribeXXnstances", INSTANCE, False),
    ("ecs:*", "*", "oss:GetObject", INSTANCE, False),
    ("ecs:**Instances", "*", "ecs:DescribeInstances", INSTANCE, True),
    ("ram:*", f"acs:ram:*:{ACCOUNT}:role/*", "ram:GetRole", role_arn("admin"), True),
    ("ram:*", "acs:ram:*:*:role/admin", "ram:GetRole", role_arn("admin"), True),
    ("ram:*", f"acs:ram:*:{ACCOUNT}:role/Admin", "ram:GetRole", role_arn("admin"), False),
    ("ram:*", f"acs:ram:?:{ACCOUNT}:role/admin", "ram:GetRole", role_arn("admin"), False),
    ("ram:*", f"acs:ram:*:{ACCOUNT}:role/*", "ram:GetRole", role_arn("admin", "999"), False),
    (
        "ram:*",
        f"acs:ram:*:{ACCOUNT}:role/x",
        "ram:GetRole",
        f"acs:ram:cn:999:{ACCOUNT}:role/x",
        False,
    ),
    ("ecs:*", "acs:ecs:cn-hangzho?:*:*", "ecs:StartInstance", INSTANCE, True),
    ("ecs:*", "acs:ecs:*:*:instance/*", "ecs:StartInstance", "acs:ecs:::instance/i-1", True),
    ("oss:*", "acs:oss:*:*:bucket/dir/*", "oss:GetObject", "acs:oss:*:1:bucket/dir/a/b.jpg", True),
    ("oss:*", "acs:oss:*:*:bucket/dir/*", "oss:GetObject", "acs:oss:*:1:bucket/other/a", False),
    ("log:*", "acs:log:*:*:project/p/*", "log:GetLogs", "acs:log::1:project/p/logstore:x", True),
    ("log:*", "acs:log:*:*:project/*:x", "log:GetLogs", "acs:log::1:project/p/logstore:x", True),
    ("ecs:*", "*", "ecs:StartInstance", "not an arn at all", True),
    ("ecs:*", "acs:ecs:*:*:*", "ecs:StartInstance", "not an arn at all", False),
]


@pytest.mark.parametrize(
    ("action_pattern", "resource_pattern", "action", "resource", "expected"),
    WILDCARD_CASES,
    ids=[f"{case[0]}|{case[1]}|{case[2]}|{case[3]}" for case in WILDCARD_CASES],
)
def test_wildcard_rule(
    action_pattern: str, resource_pattern: str, action: str, resource: str, expected: bool
) -> None:
    assert allowed(policy(allow(action_pattern, resource_pattern)), action, resource) is expected


def test_pathological_wildcards_match_in_linear_time() -> None:
    pattern = "acs:oss:*:*:" + "*a" * 40 + "*b"
    started = time.perf_counter()
    result = allowed(policy(allow("oss:*", pattern)), "oss:GetObject", "acs:oss::1:" + "a" * 20000)
    assert result is False
    assert time.perf_counter() - started < 1.0


# --- NotAction / NotResource -----------------------------------------------------------------


def test_not_action_allows_every_action_not_listed() -> None:
    document = policy({"Effect": "Allow", "NotAction": "ram:*", "Resource": "*"})
    assert allowed(document, "ecs:DescribeInstances", INSTANCE)
    assert not allowed(document, "ram:CreateRole", role_arn("x"))


def test_deny_with_not_action_denies_everything_else() -> None:
    document = policy(allow(), {"Effect": "Deny", "NotAction": "ecs:Describe*", "Resource": "*"})
    assert allowed(document, "ecs:DescribeInstances", INSTANCE)
    assert not allowed(document, "ecs:StopInstance", INSTANCE)


def test_not_resource_matches_every_other_resource() -> None:
    public = "acs:oss:*:*:bucket/public/*"
    document = policy(allow("oss:*"), {"Effect": "Deny", "Action": "oss:*", "NotResource": public})
    assert allowed(document, "oss:GetObject", "acs:oss::1:bucket/public/a.jpg")
    assert not allowed(document, "oss:GetObject", "acs:oss::1:bucket/private/a.jpg")


# --- deny, allow, implicit deny --------------------------------------------------------------


def test_explicit_deny_wins_over_allow() -> None:
    decision = evaluate(
        [policy(allow()), policy(deny("ram:Delete*"))], "ram:DeleteRole", role_arn("x")
    )
    assert decision.effect == EXPLICIT_DENY
    assert not decision.allowed


def test_explicit_deny_lists_only_the_denying_statements() -> None:
    document = policy(allow(), deny("ram:*"), deny("ecs:*"), deny("ram:Delete*"))
    decision = evaluate([document], "ram:DeleteRole", role_arn("x"))
    assert [reason.statement_index for reason in decision.reasons] == [1, 3]
    assert {reason.effect for reason in decision.reasons} == {"Deny"}


def test_allow_lists_every_allowing_statement_in_policy_order() -> None:
    first = parse_policy(policy(allow("ecs:*")), name="EcsFull", policy_type="System")
    second = parse_policy(policy(allow("oss:*"), allow("ecs:Describe*")), name="Mine", version="v3")
    decision = evaluate([first, second], "ecs:DescribeInstances", INSTANCE)
    assert decision.effect == ALLOW
    assert decision.reasons == (
        Reason("EcsFull", "System", "v1", 0, "Allow"),
        Reason("Mine", "Custom", "v3", 1, "Allow"),
    )


def test_nothing_matching_is_an_implicit_deny_without_reasons() -> None:
    decision = evaluate([policy(allow("oss:*"))], "ecs:DescribeInstances", INSTANCE)
    assert decision.effect == IMPLICIT_DENY
    assert decision.reasons == ()


def test_no_policies_is_an_implicit_deny() -> None:
    assert evaluate([], "ecs:DescribeInstances", INSTANCE).effect == IMPLICIT_DENY


def test_raw_policies_are_named_inline() -> None:
    text = '{"Version":"1","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}'
    decision = evaluate([text], "ecs:DescribeInstances", INSTANCE)
    assert decision.reasons[0].policy_name == "inline"


def test_invalid_raw_policy_raises_policy_error() -> None:
    with pytest.raises(PolicyError):
        evaluate(['{"Version":"2"}'], "ecs:DescribeInstances", INSTANCE)


def test_trust_policy_cannot_be_evaluated_as_identity_policy() -> None:
    trust_policy = parse_policy(trust(f"acs:ram::{ACCOUNT}:root"), kind="trust")
    with pytest.raises(ValueError, match="trust_allows"):
        evaluate([trust_policy], "sts:AssumeRole", role_arn("x"))


def test_condition_failing_makes_allow_statement_not_apply() -> None:
    document = policy(allow(Condition={"Bool": {"acs:MFAPresent": "true"}}))
    assert evaluate([document], "ecs:StopInstance", INSTANCE, {"acs:MFAPresent": True}).allowed
    assert not evaluate([document], "ecs:StopInstance", INSTANCE, {"acs:MFAPresent": False}).allowed


def test_condition_failing_makes_deny_statement_not_apply() -> None:
    document = policy(allow(), deny(Condition={"NotIpAddress": {"acs:SourceIp": "10.0.0.0/8"}}))
    assert evaluate([document], "ecs:StopInstance", INSTANCE, {"acs:SourceIp": "10.0.0.1"}).allowed
    assert not evaluate(
        [document], "ecs:StopInstance", INSTANCE, {"acs:SourceIp": "8.8.8.8"}
    ).allowed


# --- session policies ------------------------------------------------------------------------

ROLE_POLICIES = [policy(allow("ecs:*"), allow("oss:Get*"))]


def test_session_policy_and_role_policy_both_allowing_allows() -> None:
    decision = evaluate(
        ROLE_POLICIES, "ecs:StopInstance", INSTANCE, session_policy=policy(allow("ecs:Stop*"))
    )
    assert decision.effect == ALLOW
    assert [reason.policy_type for reason in decision.reasons] == ["Custom", "Session"]


def test_session_policy_not_allowing_denies_what_the_role_allows() -> None:
    decision = evaluate(
        ROLE_POLICIES, "ecs:StartInstance", INSTANCE, session_policy=policy(allow("ecs:Stop*"))
    )
    assert decision.effect == IMPLICIT_DENY
    assert decision.denied_by_session_policy


def test_session_policy_cannot_grant_what_the_role_does_not_allow() -> None:
    decision = evaluate(
        ROLE_POLICIES, "ram:CreateRole", role_arn("x"), session_policy=policy(allow())
    )
    assert decision.effect == IMPLICIT_DENY
    assert not decision.denied_by_session_policy


def test_explicit_deny_in_session_policy_denies() -> None:
    session = policy(allow(), deny("ecs:Stop*"))
    decision = evaluate(ROLE_POLICIES, "ecs:StopInstance", INSTANCE, session_policy=session)
    assert decision.effect == EXPLICIT_DENY
    assert decision.denied_by_session_policy
    assert decision.reasons == (Reason("session", "Session", "v1", 1, "Deny"),)


def test_explicit_deny_in_role_policy_wins_over_session_allow() -> None:
    role_policies = [*ROLE_POLICIES, policy(deny("ecs:Stop*"))]
    decision = evaluate(role_policies, "ecs:StopInstance", INSTANCE, session_policy=policy(allow()))
    assert decision.effect == EXPLICIT_DENY
    assert not decision.denied_by_session_policy


def test_parsed_session_policy_reports_session_type() -> None:
    session = parse_policy(policy(allow()), kind="session")
    decision = evaluate(ROLE_POLICIES, "ecs:StopInstance", INSTANCE, session_policy=session)
    assert decision.reasons[-1].policy_type == "Session"


def test_invalid_session_policy_raises_the_sts_grammar_error() -> None:
    with pytest.raises(PolicyError) as caught:
        evaluate(ROLE_POLICIES, "ecs:StopInstance", INSTANCE, session_policy='{"Version":"1"}')
    assert caught.value.code == "InvalidParameter.PolicyGrammar"


# --- compiled sets and caches ----------------------------------------------------------------


def test_compiled_set_agrees_with_evaluate() -> None:
    documents = [policy(allow("ecs:*"), deny("ecs:Delete*")), policy(allow("oss:*"))]
    compiled = compile_policies(documents)
    for action in ["ecs:DeleteInstance", "ecs:StopInstance", "oss:GetObject", "ram:GetRole"]:
        assert compiled.evaluate(action, INSTANCE) == evaluate(documents, action, INSTANCE)


def test_index_offers_only_statements_of_the_action_service_and_wildcards() -> None:
    compiled = compile_policies([policy(allow("ecs:*"), allow("oss:*"), allow("*"), deny("sts:*"))])
    candidates = compiled.candidates("ecs:describeinstances")
    assert [statement.reason.statement_index for statement in candidates.allows] == [0, 2]
    assert candidates.denies == ()


def test_index_offers_wildcard_statements_for_unknown_services() -> None:
    compiled = compile_policies(
        [policy(allow("ecs:*"), {"Effect": "Deny", "NotAction": "ecs:*", "Resource": "*"})]
    )
    candidates = compiled.candidates("rds:describedbinstances")
    assert [statement.reason.statement_index for statement in candidates.denies] == [1]
    assert candidates.allows == ()


def test_repeated_request_is_answered_from_the_decision_cache() -> None:
    compiled = compile_policies([policy(allow("ecs:*"))])
    first = compiled.evaluate("ecs:StopInstance", INSTANCE, {"acs:SourceIp": "10.0.0.1"})
    assert compiled.evaluate("ecs:StopInstance", INSTANCE, {"acs:SourceIp": "10.0.0.1"}) is first
    assert len(compiled.decisions) == 1


def test_decision_cache_separates_contexts() -> None:
    compiled = compile_policies(
        [policy(allow(Condition={"Bool": {"acs:SecureTransport": "true"}}))]
    )
    assert compiled.evaluate("ecs:StopInstance", INSTANCE, {"acs:SecureTransport": True}).allowed
    assert not compiled.evaluate(
        "ecs:StopInstance", INSTANCE, {"acs:SecureTransport": False}
    ).allowed


def test_decision_cache_separates_session_policies() -> None:
    compiled = compile_policies([policy(allow())])
    assert compiled.evaluate("ecs:StopInstance", INSTANCE, session=policy(allow("ecs:*"))).allowed
    assert not compiled.evaluate(
        "ecs:StopInstance", INSTANCE, session=policy(allow("oss:*"))
    ).allowed


def test_decision_cache_stays_within_its_bound() -> None:
    compiled = compile_policies([policy(allow("ecs:*"))], decision_cache_size=8)
    for index in range(50):
        compiled.evaluate("ecs:StopInstance", f"{INSTANCE}{index}")
    assert len(compiled.decisions) == 8


def test_unhashable_context_values_are_evaluated_without_the_cache() -> None:
    compiled = compile_policies([policy(allow(Condition={"StringEquals": {"ecs:Tag": "a"}}))])
    decision = compiled.evaluate("ecs:StopInstance", INSTANCE, {"ecs:Tag": ["a", {"b": 1}]})
    assert decision.allowed
    assert len(compiled.decisions) == 0


def test_decision_cache_of_size_zero_caches_nothing() -> None:
    compiled = compile_policies([policy(allow())], decision_cache_size=0)
    compiled.evaluate("ecs:StopInstance", INSTANCE)
    assert len(compiled.decisions) == 0


def test_compiled_policy_is_cached_by_its_text() -> None:
    text = '{"Version":"1","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}'
    assert compile_policy(text) is compile_policy(text)


def test_compiled_policy_is_cached_for_equal_parsed_policies() -> None:
    document = policy(allow())
    first = compile_policy(parse_policy(document, name="P", version="v2"))
    assert compile_policy(parse_policy(document, name="P", version="v2")) is first
    assert compile_policy(parse_policy(document, name="P", version="v3")) is not first


def test_compile_without_cache_builds_a_new_policy() -> None:
    parsed = parse_policy(policy(allow()))
    assert compile_policy(parsed, cache=False) is not compile_policy(parsed, cache=False)


def test_module_compiled_policy_cache_stays_within_its_bound(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    small_cache = BoundedCache(5)
    monkeypatch.setattr(compiled_module, "compiled_policy_cache", small_cache)
    for index in range(20):
        compile_policy(policy(allow(f"ecs:Action{index}")))
    assert len(small_cache) == 5


def test_module_caches_report_their_bounds() -> None:
    info = cache_info()
    assert info["compiled_policies"][1] == 4096
    assert info["policy_sets"][1] == 128


def test_module_policy_set_cache_stays_within_its_bound() -> None:
    for index in range(140):
        evaluate([policy(allow(f"ecs:Action{index}"))], "ecs:StopInstance", INSTANCE)
    size, bound = cache_info()["policy_sets"]
    assert size == bound


def test_bounded_cache_drops_the_least_recently_used_entry() -> None:
    cache: BoundedCache[str] = BoundedCache(2)
    cache.put("a", "A")
    cache.put("b", "B")
    cache.get("a")
    cache.put("c", "C")
    assert (cache.get("a"), cache.get("b"), cache.get("c")) == ("A", None, "C")


def test_evaluate_does_not_parse_an_equal_dict_again() -> None:
    evaluate([policy(allow("ecs:*"))], "ecs:StopInstance", INSTANCE)
    parsed_before = parse_statistics.documents

    decision = evaluate([policy(allow("ecs:*"))], "ecs:StopInstance", INSTANCE)

    assert decision.allowed
    assert parse_statistics.documents == parsed_before


def test_evaluate_does_not_parse_an_equal_session_policy_again() -> None:
    evaluate([policy(allow())], "ecs:StopInstance", INSTANCE, session_policy=policy(allow()))
    parsed_before = parse_statistics.documents

    evaluate([policy(allow())], "ecs:StopInstance", INSTANCE, session_policy=policy(allow()))

    assert parse_statistics.documents == parsed_before


def test_compiled_policy_cache_counts_hits() -> None:
    compile_policy(policy(allow()))
    compile_policy(policy(allow()))

    assert compiled_module.compiled_policy_cache.hits == 1


def test_dicts_differing_only_in_key_order_share_one_compiled_policy() -> None:
    document = policy(allow("ecs:*", Condition={"Bool": {"acs:SecureTransport": "true"}}))
    reordered = {"Statement": [dict(reversed(document["Statement"][0].items()))], "Version": "1"}

    assert compile_policy(reordered) is compile_policy(document)


def test_a_dict_that_is_not_json_raises_policy_error() -> None:
    with pytest.raises(PolicyError):
        compile_policy({"Version": "1", "Statement": [{"Effect": {1, 2}}]})
