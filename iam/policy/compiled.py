"""Compiled policies: statements with their patterns and conditions turned into matchers once.

``compile_policy`` keeps a module-level bounded LRU keyed by (kind, name, type, version, text), so
"the compiled form of policy X version vN" costs a dictionary look-up after the first request.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import replace
from typing import Any

from iam.policy.cache import BoundedCache
from iam.policy.conditions import (
    CompiledCondition,
    ConditionOperator,
    RequestContext,
    compile_condition,
    resolve_operator,
)
from iam.policy.decision import SESSION_POLICY_TYPE, Reason
from iam.policy.matching import PatternSet, has_wildcard
from iam.policy.parse import DENY, PERMISSION, SESSION, ParsedPolicy, Statement, parse_policy
from iam.policy.principals import PrincipalMatcher, TrustPrincipal

COMPILED_POLICY_CACHE_SIZE = 4096

PolicyInput = ParsedPolicy | str | Mapping[str, Any]
PolicyKey = tuple[str, str, str, str, str]


def _action_services(statement: Statement) -> frozenset[str] | None:
    """The service prefixes (lower-case) whose actions the statement can match, None for "any"."""
    if statement.not_action:
        return None
    services: set[str] = set()
    for action in statement.actions:
        service, _, _ = action.lower().partition(":")
        if action == "*" or has_wildcard(service):
            return None
        services.add(service)
    return frozenset(services)


def _operator(name: str) -> ConditionOperator:
    operator = resolve_operator(name)
    if operator is None:  # pragma: no cover - parse_policy accepted only operators
        raise ValueError(f"{name!r} is not a condition operator")
    return operator


class CompiledStatement:
    __slots__ = (
        "actions", "conditions", "effect", "not_action", "not_resource", "principals", "reason",
        "resources", "services",
    )  # fmt: skip

    def __init__(self, statement: Statement, reason: Reason) -> None:
        self.effect = statement.effect
        self.reason = reason
        self.actions = PatternSet(action.lower() for action in statement.actions)
        self.not_action = statement.not_action
        self.resources = PatternSet(statement.resources, resource_segments=True)
        self.not_resource = statement.not_resource
        self.conditions: tuple[CompiledCondition, ...] = tuple(
            compile_condition(_operator(condition.operator), condition.key, condition.parsed_values)
            for condition in statement.conditions
        )
        self.principals = PrincipalMatcher(statement.principals) if statement.principals else None
        self.services = _action_services(statement)

    def conditions_hold(self, request: RequestContext) -> bool:
        return all(condition.holds(request) for condition in self.conditions)

    def matches(
        self, action: str, resource: str, request: RequestContext, segments: list[str]
    ) -> bool:
        """Whether the statement applies; ``action`` must already be lower-cased and
        ``segments`` be ``split_resource(resource)``."""
        if self.actions.matches(action) == self.not_action:
            return False
        if self.resources.matches(resource, segments) == self.not_resource:
            return False
        return self.conditions_hold(request)

    def matches_caller(
        self, actions: tuple[str, ...], principal: TrustPrincipal, request: RequestContext
    ) -> bool:
        """Whether a trust statement applies to ``principal`` asking for any of ``actions``
        (lower-case)."""
        if self.principals is None or not self.principals.matches(principal):
            return False
        if not any(self.actions.matches(action) != self.not_action for action in actions):
            return False
        return self.conditions_hold(request)


class CompiledPolicy:
    __slots__ = ("allows", "denies", "key", "parsed", "statements")

    def __init__(self, parsed: ParsedPolicy) -> None:
        self.parsed = parsed
        self.key: PolicyKey = policy_key(parsed)
        self.statements = tuple(
            CompiledStatement(
                statement,
                Reason(parsed.name, parsed.policy_type, parsed.version, index, statement.effect),
            )
            for index, statement in enumerate(parsed.statements)
        )
        self.denies = tuple(statement for statement in self.statements if statement.effect == DENY)
        self.allows = tuple(statement for statement in self.statements if statement.effect != DENY)

    @property
    def kind(self) -> str:
        return self.parsed.kind

    def __repr__(self) -> str:
        parsed = self.parsed
        return f"<CompiledPolicy {parsed.policy_type} {parsed.name!r} {parsed.version}>"


def policy_key(parsed: ParsedPolicy) -> PolicyKey:
    return (parsed.kind, parsed.name, parsed.policy_type, parsed.version, parsed.text)


compiled_policy_cache: BoundedCache[CompiledPolicy] = BoundedCache(COMPILED_POLICY_CACHE_SIZE)


def compile_policy(
    policy: PolicyInput | CompiledPolicy,
    *,
    kind: str = PERMISSION,
    name: str = "inline",
    policy_type: str = "Custom",
    version: str = "v1",
    cache: bool = True,
) -> CompiledPolicy:
    """Compile a policy, through the module-level LRU unless ``cache`` is false.

    A ParsedPolicy brings its own kind and names; for JSON text or a dict they come from the
    keywords. Text is looked up before it is parsed, so a cached policy is not parsed again.
    Raises PolicyError for an invalid document.
    """
    if isinstance(policy, CompiledPolicy):
        return policy
    if isinstance(policy, Mapping):
        # Equal objects serialize alike, so they share one cache entry and parse once; an
        # object that is not JSON goes to parse_policy, which says why.
        policy = _canonical_object_text(policy) or policy
    if isinstance(policy, str):
        text_key = ("text", kind, name, policy_type, version, policy)
        found = compiled_policy_cache.get(text_key) if cache else None
        if found is None:
            parsed = parse_policy(
                policy, kind=kind, name=name, policy_type=policy_type, version=version
            )
            found = compile_policy(parsed, cache=cache)
            if cache:
                compiled_policy_cache.put(text_key, found)
        return found
    if not isinstance(policy, ParsedPolicy):
        policy = parse_policy(
            policy, kind=kind, name=name, policy_type=policy_type, version=version
        )
    if not cache:
        return CompiledPolicy(policy)
    key = (policy.kind, policy)  # ParsedPolicy hashes by name, type, version and text
    found = compiled_policy_cache.get(key)
    if found is None:
        found = CompiledPolicy(policy)
        compiled_policy_cache.put(key, found)
    return found


CANONICAL_ENCODER = json.JSONEncoder(
    sort_keys=True, ensure_ascii=False, separators=(",", ":"), allow_nan=False
)


def _canonical_object_text(document: Mapping[str, Any]) -> str | None:
    """A decoded document as JSON text with sorted keys: equal objects give equal text, and the
    text parses to the same policy (lists keep their order; a dict has no duplicate keys)."""
    try:
        return CANONICAL_ENCODER.encode(document)
    except (TypeError, ValueError, RecursionError):
        return None


def compile_session_policy(policy: PolicyInput | CompiledPolicy) -> CompiledPolicy:
    """Compile a session policy; its statements report policy type "Session" in reasons."""
    if isinstance(policy, CompiledPolicy):
        policy = policy.parsed
    if isinstance(policy, ParsedPolicy):
        if policy.policy_type != SESSION_POLICY_TYPE or not policy.name:
            policy = replace(policy, policy_type=SESSION_POLICY_TYPE, name=policy.name or "session")
        return compile_policy(policy)
    return compile_policy(policy, kind=SESSION, name="session", policy_type=SESSION_POLICY_TYPE)
