"""A deliberately simple evaluator: the baseline of the benchmark and the oracle of the tests.

It decodes every policy's JSON text again on every request and tries every statement, translating
wildcards to regexes the obvious way. It shares only the reading of single condition values
(numbers, dates, IP ranges) with the real evaluator, so the two implement the matching rules
independently. It trusts its input: give it documents that ``parse_policy`` accepted.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from typing import Any

from iam.policy.conditions import OPERATORS
from iam.policy.decision import (
    ALLOW,
    EXPLICIT_DENY,
    IMPLICIT_DENY,
    SESSION_POLICY_TYPE,
    Decision,
    Reason,
)
from iam.policy.parse import ParsedPolicy

NaivePolicy = ParsedPolicy | str | Mapping[str, Any]


def _describe(policy: NaivePolicy, *, session: bool) -> tuple[str, str, str, str]:
    """(name, policy type, version, JSON text) with the names the real evaluator gives."""
    if isinstance(policy, ParsedPolicy):
        if session:
            return (policy.name or "session", SESSION_POLICY_TYPE, policy.version, policy.text)
        return (policy.name, policy.policy_type, policy.version, policy.text)
    text = policy if isinstance(policy, str) else json.dumps(policy)
    if session:
        return ("session", SESSION_POLICY_TYPE, "v1", text)
    return ("inline", "Custom", "v1", text)


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def wildcard_matches(pattern: str, value: str) -> bool:
    regex = "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern)
    return re.fullmatch(regex, value, re.DOTALL) is not None


def _action_matches(pattern: str, action: str) -> bool:
    return wildcard_matches(pattern.lower(), action.lower())


def _resource_matches(pattern: str, resource: str) -> bool:
    if pattern == "*":
        return True
    pattern_segments = pattern.split(":", 4)
    resource_segments = resource.split(":", 4)
    if len(pattern_segments) != len(resource_segments):
        return False
    return all(
        wildcard_matches(p, r) for p, r in zip(pattern_segments, resource_segments, strict=True)
    )


def _context_values(context: Mapping[str, object], key: str) -> list[object]:
    found: list[object] = []
    for context_key, value in context.items():
        if str(context_key).lower() == key.lower():
            items = value if isinstance(value, list | tuple | set | frozenset) else [value]
            found.extend(item for item in items if item is not None)
    return found


def _compare(operator_name: str, context_value: Any, policy_value: Any) -> bool:
    if operator_name.endswith("IgnoreCase"):
        return bool(context_value.casefold() == policy_value.casefold())
    if operator_name.endswith("Like"):
        return wildcard_matches(policy_value, context_value)
    if operator_name.endswith("IpAddress"):
        return bool(context_value in policy_value)
    if operator_name.endswith("LessThanEquals"):
        return bool(context_value <= policy_value)
    if operator_name.endswith("LessThan"):
        return bool(context_value < policy_value)
    if operator_name.endswith("GreaterThanEquals"):
        return bool(context_value >= policy_value)
    if operator_name.endswith("GreaterThan"):
        return bool(context_value > policy_value)
    return bool(context_value == policy_value)


def _split_operator(name: str) -> tuple[str, str, bool]:
    """("ForAnyValue"/"ForAllValues"/"", base operator name, IfExists)."""
    qualifier, _, base = name.rpartition(":")
    if base.endswith("IfExists"):
        return qualifier, base[: -len("IfExists")], True
    return qualifier, base, False


def _key_holds(operator_name: str, written: Any, raw_values: list[object]) -> bool:
    qualifier, base_name, if_exists = _split_operator(operator_name)
    operator = OPERATORS[base_name]
    value_type = operator.value_type
    policy_values = [value_type.parse_policy_value(value) for value in _as_list(written)]
    if base_name == "Null":
        return (not raw_values) in policy_values
    if not raw_values:
        if if_exists or qualifier == "ForAllValues":
            return True
        return operator.negated and not qualifier
    # Per context value: does it match one of the policy values (read as the operator's type)?
    matches = []
    for raw in raw_values:
        converted = value_type.coerce_context_value(raw)
        matches.append(
            converted is not None
            and any(_compare(base_name, converted, policy) for policy in policy_values)
        )
    if qualifier == "ForAllValues":
        return not any(matches) if operator.negated else all(matches)
    if qualifier == "ForAnyValue" and operator.negated:
        return not all(matches)
    return any(matches) != operator.negated


def _conditions_hold(conditions: dict[str, Any], context: Mapping[str, object]) -> bool:
    for operator_name, block in conditions.items():
        for key, written in block.items():
            if not _key_holds(operator_name, written, _context_values(context, key)):
                return False
    return True


def _statement_applies(
    statement: dict[str, Any], action: str, resource: str, context: Mapping[str, object]
) -> bool:
    if "Action" in statement:
        if not any(_action_matches(p, action) for p in _as_list(statement["Action"])):
            return False
    elif any(_action_matches(p, action) for p in _as_list(statement["NotAction"])):
        return False
    if "Resource" in statement:
        if not any(_resource_matches(p, resource) for p in _as_list(statement["Resource"])):
            return False
    elif any(_resource_matches(p, resource) for p in _as_list(statement["NotResource"])):
        return False
    return _conditions_hold(statement.get("Condition", {}), context)


def _matching(
    policy: NaivePolicy,
    action: str,
    resource: str,
    context: Mapping[str, object],
    *,
    session: bool,
) -> tuple[list[Reason], list[Reason]]:
    name, policy_type, version, text = _describe(policy, session=session)
    denies: list[Reason] = []
    allows: list[Reason] = []
    for index, statement in enumerate(json.loads(text)["Statement"]):
        if _statement_applies(statement, action, resource, context):
            reason = Reason(name, policy_type, version, index, statement["Effect"])
            (denies if statement["Effect"] == "Deny" else allows).append(reason)
    return denies, allows


def naive_evaluate(
    policies: Iterable[NaivePolicy],
    action: str,
    resource: str,
    context: Mapping[str, object] | None = None,
    session_policy: NaivePolicy | None = None,
) -> Decision:
    """Same contract as ``evaluate``, computed the slow and obvious way."""
    context = context or {}
    denies: list[Reason] = []
    allows: list[Reason] = []
    for policy in policies:
        policy_denies, policy_allows = _matching(policy, action, resource, context, session=False)
        denies += policy_denies
        allows += policy_allows
    session_denies: list[Reason] = []
    session_allows: list[Reason] = []
    if session_policy is not None:
        session_denies, session_allows = _matching(
            session_policy, action, resource, context, session=True
        )
    if denies or session_denies:
        return Decision(EXPLICIT_DENY, tuple(denies + session_denies), bool(session_denies))
    if session_policy is not None and not session_allows:
        return Decision(IMPLICIT_DENY, (), denied_by_session_policy=True)
    if not allows:
        return Decision(IMPLICIT_DENY)
    return Decision(ALLOW, tuple(allows + session_allows))
