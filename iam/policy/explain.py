"""One sentence for people about a decision: who decided, or what was missing."""

from __future__ import annotations

from iam.policy.decision import (
    EXPLICIT_DENY,
    SESSION_POLICY_TYPE,
    TRUST_POLICY_TYPE,
    Decision,
    Reason,
)
from iam.policy.parse import TRUST

MAX_LISTED_REASONS = 3


def _policy_phrase(reason: Reason, policy_kind: str) -> str:
    if policy_kind == TRUST or reason.policy_type == TRUST_POLICY_TYPE:
        return "the trust policy"
    if reason.policy_type == SESSION_POLICY_TYPE:
        return "the session policy"
    name = reason.policy_name or "inline"
    version = f" ({reason.version})" if reason.version else ""
    return f"{reason.policy_type.lower()} policy {name}{version}"


def _reasons_phrase(decision: Decision) -> str:
    phrases = [
        f"statement {reason.statement_index} of {_policy_phrase(reason, decision.policy_kind)}"
        for reason in decision.reasons
    ]
    if len(phrases) > MAX_LISTED_REASONS:
        more = len(phrases) - MAX_LISTED_REASONS + 1
        phrases = [*phrases[: MAX_LISTED_REASONS - 1], f"{more} more statements"]
    if len(phrases) == 1:
        return phrases[0]
    return f"{', '.join(phrases[:-1])} and {phrases[-1]}"


def explain(decision: Decision, *, principal_description: str, action: str, resource: str) -> str:
    """Explain ``decision`` for ``principal_description`` (e.g. "role ecs-admin") asking for
    ``action`` on ``resource``. Statement numbers are 0-based, like the paths of PolicyError."""
    if decision.allowed:
        return f"Allowed by {_reasons_phrase(decision)}"
    if decision.effect == EXPLICIT_DENY:
        return f"Denied by {_reasons_phrase(decision)}"
    if decision.policy_kind == TRUST:
        return (
            f"Denied: the trust policy of {resource} does not let {principal_description} "
            f"perform {action}"
        )
    if decision.denied_by_session_policy:
        return (
            f"Denied: the session policy does not allow {action} on {resource} "
            f"for {principal_description}"
        )
    return f"Denied: no policy of {principal_description} allows {action} on {resource}"
