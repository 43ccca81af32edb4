"""What an evaluation answers: the effect and the statements that decided it."""

from __future__ import annotations

from dataclasses import dataclass

ALLOW = "Allow"
EXPLICIT_DENY = "ExplicitDeny"
IMPLICIT_DENY = "ImplicitDeny"

SESSION_POLICY_TYPE = "Session"
TRUST_POLICY_TYPE = "Trust"


@dataclass(frozen=True)
class Reason:
    """One statement that decided a request. ``statement_index`` is 0-based, like the paths of
    PolicyError; ``effect`` is the statement's own effect ("Allow" or "Deny")."""

    policy_name: str
    policy_type: str  # "System", "Custom", "Session" (the session policy), "Trust"
    version: str
    statement_index: int
    effect: str


@dataclass(frozen=True)
class Decision:
    """``reasons``: the allowing statements for Allow, the denying ones for ExplicitDeny, none for
    ImplicitDeny. ``denied_by_session_policy`` is true when the session policy decided a denial
    (one of its statements denies, or it allows nothing that matches). ``policy_kind`` is "trust"
    for decisions of ``trust_allows``."""

    effect: str
    reasons: tuple[Reason, ...] = ()
    denied_by_session_policy: bool = False
    policy_kind: str = "permission"

    @property
    def allowed(self) -> bool:
        return self.effect == ALLOW
