"""Evaluating requests against a principal's policies (and a role session's session policy).

A ``CompiledPolicySet`` indexes the statements of its policies by the service prefix of their
actions (``ram``, ``ecs``...; statements with ``*``, a wildcard service or NotAction go to every
bucket), so a request only looks at statements that can match its action. Each set keeps a bounded
LRU of decisions keyed by (action, resource, context, session policy); requests whose context
values are not hashable skip it. A context that carries ``acs:CurrentTime`` changes every request
and so never hits the cache - callers that want hits round the time or leave the key out where no
policy tests it.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable, Mapping
from typing import NamedTuple

from iam.policy.cache import BoundedCache
from iam.policy.compiled import (
    CompiledPolicy,
    CompiledStatement,
    PolicyInput,
    compile_policy,
    compile_session_policy,
    compiled_policy_cache,
)
from iam.policy.conditions import RequestContext
from iam.policy.decision import ALLOW, EXPLICIT_DENY, IMPLICIT_DENY, Decision, Reason
from iam.policy.matching import split_resource
from iam.policy.parse import DENY, TRUST

DECISION_CACHE_SIZE = 4096
POLICY_SET_CACHE_SIZE = 128
# Sets built by evaluate() share the module-level set cache; smaller decision caches keep the
# worst case (every cached set full) bounded: 128 sets x 1024 decisions.
EVALUATE_DECISION_CACHE_SIZE = 1024

IMPLICIT_DENY_DECISION = Decision(IMPLICIT_DENY)
SESSION_IMPLICIT_DENY_DECISION = Decision(IMPLICIT_DENY, denied_by_session_policy=True)


class Candidates(NamedTuple):
    """The statements that may match actions of one service, in policy order."""

    denies: tuple[CompiledStatement, ...]
    allows: tuple[CompiledStatement, ...]


def _candidates(statements: Iterable[CompiledStatement]) -> Candidates:
    ordered = list(statements)
    return Candidates(
        denies=tuple(statement for statement in ordered if statement.effect == DENY),
        allows=tuple(statement for statement in ordered if statement.effect != DENY),
    )


def _matching_reasons(
    statements: Iterable[CompiledStatement],
    action: str,
    resource: str,
    request: RequestContext,
    segments: list[str],
) -> tuple[Reason, ...]:
    return tuple(
        statement.reason
        for statement in statements
        if statement.matches(action, resource, request, segments)
    )


class CompiledPolicySet:
    """The identity policies of one principal, compiled and indexed for evaluation."""

    def __init__(
        self, policies: Iterable[CompiledPolicy], *, decision_cache_size: int = DECISION_CACHE_SIZE
    ) -> None:
        self.policies = tuple(policies)
        for policy in self.policies:
            if policy.kind == TRUST:
                raise ValueError(f"{policy!r} is a trust policy; evaluate it with trust_allows()")
        self.key = tuple(policy.key for policy in self.policies)
        statements = [statement for policy in self.policies for statement in policy.statements]
        # One pass in policy order: a statement goes to the buckets of its services, or to every
        # bucket (and the bucket for other services) when it can match any service.
        services = {service for statement in statements for service in statement.services or ()}
        buckets: dict[str, list[CompiledStatement]] = {service: [] for service in services}
        everywhere: list[CompiledStatement] = []
        for statement in statements:
            if statement.services is None:
                everywhere.append(statement)
                for bucket in buckets.values():
                    bucket.append(statement)
            else:
                for service in statement.services:
                    buckets[service].append(statement)
        self._by_service = {service: _candidates(bucket) for service, bucket in buckets.items()}
        self._everywhere = _candidates(everywhere)
        self.decisions: BoundedCache[Decision] = BoundedCache(decision_cache_size)

    def candidates(self, action: str) -> Candidates:
        """The statements that can match ``action`` (lower-cased)."""
        service, _, _ = action.partition(":")
        return self._by_service.get(service, self._everywhere)

    def evaluate(
        self,
        action: str,
        resource: str,
        context: Mapping[str, object] | None = None,
        session: PolicyInput | CompiledPolicy | None = None,
    ) -> Decision:
        session_policy = compile_session_policy(session) if session is not None else None
        request = RequestContext(context)
        cache_key = self._cache_key(action, resource, request, session_policy)
        if cache_key is not None:
            cached = self.decisions.get(cache_key)
            if cached is not None:
                return cached
        decision = self.decide(action.lower(), resource, request, session_policy)
        if cache_key is not None:
            self.decisions.put(cache_key, decision)
        return decision

    def _cache_key(
        self,
        action: str,
        resource: str,
        request: RequestContext,
        session_policy: CompiledPolicy | None,
    ) -> Hashable | None:
        if not self.decisions.max_size:
            return None
        context_key = request.cache_key()
        if context_key is None:
            return None
        return (action, resource, context_key, session_policy.key if session_policy else None)

    def decide(
        self,
        action: str,
        resource: str,
        request: RequestContext,
        session_policy: CompiledPolicy | None = None,
    ) -> Decision:
        """Decide without the cache; ``action`` lower-cased.

        An explicit Deny in the identity policies or the session policy wins. Otherwise a session
        policy must allow (its implicit deny ends evaluation) and so must an identity policy: the
        session's permissions are the intersection of both.
        """
        candidates = self.candidates(action)
        segments = split_resource(resource)
        denies = _matching_reasons(candidates.denies, action, resource, request, segments)
        session_denies: tuple[Reason, ...] = ()
        session_allows: tuple[Reason, ...] = ()
        if session_policy is not None:
            session_denies = _matching_reasons(
                session_policy.denies, action, resource, request, segments
            )
        if denies or session_denies:
            return Decision(
                EXPLICIT_DENY,
                denies + session_denies,
                denied_by_session_policy=bool(session_denies),
            )
        if session_policy is not None:
            session_allows = _matching_reasons(
                session_policy.allows, action, resource, request, segments
            )
            if not session_allows:
                return SESSION_IMPLICIT_DENY_DECISION
        allows = _matching_reasons(candidates.allows, action, resource, request, segments)
        if not allows:
            return IMPLICIT_DENY_DECISION
        return Decision(ALLOW, allows + session_allows)


def compile_policies(
    policies: Iterable[PolicyInput | CompiledPolicy],
    *,
    decision_cache_size: int = DECISION_CACHE_SIZE,
    cache: bool = True,
) -> CompiledPolicySet:
    """Compile a principal's policies into a set (each policy through the module-level LRU unless
    ``cache`` is false). Raw text and dicts are permission policies named "inline"."""
    return CompiledPolicySet(
        (compile_policy(policy, cache=cache) for policy in policies),
        decision_cache_size=decision_cache_size,
    )


policy_set_cache: BoundedCache[CompiledPolicySet] = BoundedCache(POLICY_SET_CACHE_SIZE)


class _HashedTuple:
    """A tuple key that hashes its (possibly long) items once instead of on every dict access."""

    __slots__ = ("hash", "items")

    def __init__(self, items: tuple[object, ...]) -> None:
        self.items = items
        self.hash = hash(items)

    def __hash__(self) -> int:
        return self.hash

    def __eq__(self, other: object) -> bool:
        return isinstance(other, _HashedTuple) and self.items == other.items


def cached_policy_set(policies: Iterable[PolicyInput | CompiledPolicy]) -> CompiledPolicySet:
    """The compiled set of ``policies`` from the module-level LRU of sets.

    The policies themselves are the key when they are hashable (ParsedPolicy objects hash by
    name, type, version and text; raw text by itself), so a hit costs one look-up; dicts are
    compiled first and keyed by their canonical form.
    """
    items: tuple[PolicyInput | CompiledPolicy, ...] = tuple(policies)
    key: Hashable
    try:
        key = _HashedTuple(items)
    except TypeError:
        compiled = tuple(compile_policy(policy) for policy in items)
        key = _HashedTuple(tuple(policy.key for policy in compiled))
        items = compiled
    policy_set = policy_set_cache.get(key)
    if policy_set is None:
        policy_set = CompiledPolicySet(
            (compile_policy(policy) for policy in items),
            decision_cache_size=EVALUATE_DECISION_CACHE_SIZE,
        )
        policy_set_cache.put(key, policy_set)
    return policy_set


def evaluate(
    policies: Iterable[PolicyInput | CompiledPolicy],
    action: str,
    resource: str,
    context: Mapping[str, object] | None = None,
    session_policy: PolicyInput | CompiledPolicy | None = None,
) -> Decision:
    """Decide whether ``policies`` (ParsedPolicy objects, JSON text or dicts) allow ``action`` on
    ``resource``; for a role session also pass its ``session_policy``. Root identities are the
    caller's business. Raises PolicyError when a raw document is invalid."""
    return cached_policy_set(policies).evaluate(action, resource, context, session=session_policy)


def cache_info() -> dict[str, tuple[int, int]]:
    """Current size and bound of the module-level caches."""
    return {
        "compiled_policies": (len(compiled_policy_cache), compiled_policy_cache.max_size),
        "policy_sets": (len(policy_set_cache), policy_set_cache.max_size),
    }


def clear_caches() -> None:
    compiled_policy_cache.clear()
    policy_set_cache.clear()
